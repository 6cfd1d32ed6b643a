import type * as k8s from '@kubernetes/client-node';
import type { ClusterFact } from '../../core/model/fact';
import type { NodeHeartbeat } from '../../core/ports';

/**
 * The kubelets' heartbeats: each node's Lease in kube-node-lease, renewed every quarter of its duration (10 s of 40 s by
 * default). A kubelet that dies, or is cut off from the API server, stops renewing at once, while its Node goes NotReady
 * only after the node monitor's grace period (40 s by default, 50 s from 1.32; 20 s on the test control plane) and
 * the pods on it are evicted later still. Meanwhile the services with pods there lose them, and their symptoms look
 * like any latency or capacity problem: restarting those services (a new pod may land on the dead node, which is
 * still schedulable) is what the node's silence must keep Vigil from doing.
 *
 * Ages are measured on this process's clock from when a renewal was seen (the watch event), not from the kubelet's
 * `renewTime`, so a node clock a few seconds off counts for nothing. A node is called silent only while another node's
 * Lease is seen renewed: when every Lease stops at once it is this watch, or the API server, that stalled.
 */
export class NodeLeases {
  private readonly seen = new Map<string, { renewTime: string; at: number; everyMs: number }>();
  private readonly silent = new Set<string>();

  constructor(
    /** A Lease not seen renewed for this many of its renew intervals is silent. */
    private readonly missedIntervals = 1.5,
  ) {}

  /** A Lease of kube-node-lease as listed or watched (cur undefined: deleted), seen at `now`. */
  observe(prev: k8s.V1Lease | undefined, cur: k8s.V1Lease | undefined, now: number): void {
    const node = (cur ?? prev)?.metadata?.name;
    if (!node) return;
    if (!cur) {
      this.seen.delete(node);
      this.silent.delete(node);
      return;
    }
    const raw = cur.spec?.renewTime as unknown;
    const renewTime = raw instanceof Date ? raw.toISOString() : typeof raw === 'string' ? raw : '';
    const durationS = cur.spec?.leaseDurationSeconds ?? 40;
    const everyMs = Math.max(1_000, (durationS * 1000) / 4);
    const known = this.seen.get(node);
    if (known && known.renewTime === renewTime) return;
    // a Lease listed at start counts as renewed then (its renewTime is the node's clock): a node already silent is named
    // one and a half intervals after the agent starts, as if it had just stopped
    this.seen.set(node, { renewTime, at: now, everyMs });
  }

  /** Each node's last renewal seen and its renew interval. */
  heartbeats(): NodeHeartbeat[] {
    return [...this.seen].map(([node, s]) => ({ node, renewedAt: s.at, everyMs: s.everyMs }));
  }

  /**
   * Facts of the nodes that fell silent (`node-not-ready`, reason NodeLeaseExpired) or spoke again (`node-ready`, reason
   * NodeLeaseRenewed) since the last check.
   */
  check(now: number): ClusterFact[] {
    const facts: ClusterFact[] = [];
    const late = (s: { at: number; everyMs: number }) => now - s.at > this.missedIntervals * s.everyMs;
    const others = [...this.seen].filter(([, s]) => !late(s));
    for (const [node, s] of this.seen) {
      const target = { kind: 'node' as const, name: node };
      const ageS = Math.round((now - s.at) / 1000);
      if (late(s) && !this.silent.has(node) && others.some(([n]) => n !== node)) {
        this.silent.add(node);
        const every = Math.round(s.everyMs / 1000);
        facts.push({
          kind: 'node-not-ready',
          t: s.at + this.missedIntervals * s.everyMs,
          target,
          reason: 'NodeLeaseExpired',
          message: `Node ${node} stopped renewing its Lease: last renewed ${ageS} s ago (every ${every} s; ${others.length} other node${others.length === 1 ? '' : 's'} renew theirs). Its kubelet is down or cut off; NotReady follows after the node monitor's grace period`,
          attributes: { lastRenewed: new Date(s.at).toISOString(), renewEverySeconds: every },
        });
      } else if (!late(s) && this.silent.delete(node)) {
        facts.push({ kind: 'node-ready', t: s.at, target, reason: 'NodeLeaseRenewed', message: `Node ${node} renews its Lease again` });
      }
    }
    return facts;
  }
}
