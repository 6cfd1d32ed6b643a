import type { ClusterFact } from '../../core/model/fact';
import { unreachableNodes } from '../../core/observe/nodeHeartbeats';
import type { NodeHeartbeat, ScrapeFailures, WorkloadInventory } from '../../core/ports';

/**
 * Nodes Prometheus cannot reach (core/observe/nodeHeartbeats: `unreachableNodes`), as facts: `node-not-ready` with reason
 * NodeUnreachable when a node's kubelet and pods stop answering their scrapes, `node-ready` NodeReachable when its kubelet
 * answers again. It names a dead node within a scrape of its death, where the Lease (nodeLeases.ts) shows a missed
 * renewal up to a renew interval later and NotReady comes after the node monitor's grace period.
 */
export class NodeReachability {
  private readonly unreachable = new Set<string>();

  observe(read: ScrapeFailures, inventory: WorkloadInventory, heartbeats: ReadonlyArray<NodeHeartbeat>, now: number): ClusterFact[] {
    const facts: ClusterFact[] = [];
    const found = unreachableNodes(read, inventory);
    const names = new Set(found.map((u) => u.node));
    for (const u of found) {
      if (this.unreachable.has(u.node)) continue;
      this.unreachable.add(u.node);
      const lease = heartbeats.find((h) => h.node === u.node);
      const renewed = lease ? `; its Lease was last renewed ${Math.round((now - lease.renewedAt) / 1000)} s ago (every ${Math.round(lease.everyMs / 1000)} s)` : '';
      const shown = u.pods.slice(0, 3).join(', ') + (u.pods.length > 3 ? ', …' : '');
      facts.push({
        kind: 'node-not-ready',
        t: read.t,
        target: { kind: 'node', name: u.node },
        reason: 'NodeUnreachable',
        message: `Node ${u.node} stopped answering: its kubelet and ${u.pods.length} pod(s) on it (${shown}) fail their scrapes (Prometheus up == 0) while the other nodes answer${renewed}. The node is down or cut off; NotReady follows after the node monitor's grace period`,
        attributes: { since: new Date(read.t).toISOString(), pods: u.pods.length },
      });
    }
    for (const node of [...this.unreachable]) {
      if (names.has(node) || read.down.some((l) => l.node === node && !l.pod)) continue;
      this.unreachable.delete(node);
      facts.push({ kind: 'node-ready', t: read.t, target: { kind: 'node', name: node }, reason: 'NodeReachable', message: `Node ${node}'s kubelet answers its scrapes again` });
    }
    return facts;
  }
}
