import type { NodeHeartbeat, ScrapeFailures, WorkloadInventory } from '../ports';
import type { TargetRef } from '../model/target';

/** A node whose kubelet missed a Lease renewal, where a workload has pods. */
export interface SilentNode {
  readonly node: string;
  readonly ageMs: number;
  readonly everyMs: number;
  /** The workload's pods on it, of `total`. */
  readonly pods: ReadonlyArray<string>;
  readonly total: number;
}

/** Slack on a renewal's due time (the API server's and the watch's delays). */
const RENEWAL_SLACK_MS = 1_000;
/**
 * How long, in renew intervals, a missed renewal holds a step on the workloads with pods there. By 1.5 intervals the
 * node is named (kubernetesSource: NodeLeaseExpired) and its own playbook moves the pods; the bound keeps a step from
 * waiting on a node that stays silent while nothing else happens.
 */
const HOLD_INTERVALS = 3;

/**
 * The first node among the workload's pods' whose Lease was due and not renewed (older than one renew interval and a
 * second) while another node's is current, and not older than HOLD_INTERVALS. A kubelet renews every 10 s; between
 * renewals every node's Lease is 0–10 s old, so a node past that missed one: its kubelet has stopped or is cut off, and
 * NotReady comes only after the node monitor's grace period (40 s by default). The inventory is read only where there are
 * Leases to judge (not on the embedded sandbox, nor in replay, which has none). Pure.
 */
export function silentNodeOf(target: TargetRef, inventory: () => WorkloadInventory, heartbeats: ReadonlyArray<NodeHeartbeat>, now: number): SilentNode | undefined {
  if (heartbeats.length < 2) return undefined;
  const svc = inventory().services.find((s) => s.target.namespace === target.namespace && s.target.name === target.name);
  if (!svc) return undefined;
  for (const h of heartbeats) {
    if (now - h.renewedAt > HOLD_INTERVALS * h.everyMs + RENEWAL_SLACK_MS || !renewalOverdue(h.node, heartbeats, now)) continue;
    const pods = svc.pods.filter((p) => p.node === h.node).map((p) => p.name);
    if (pods.length === 0) continue;
    return { node: h.node, ageMs: now - h.renewedAt, everyMs: h.everyMs, pods, total: svc.pods.length };
  }
  return undefined;
}

/**
 * The node's Lease was due and not renewed (older than one renew interval and a second) while another node's is current:
 * its age in ms, or undefined. When every Lease is late at once, the watch or the API server stalled, not the nodes. Pure.
 */
export function renewalOverdue(node: string, heartbeats: ReadonlyArray<NodeHeartbeat>, now: number): number | undefined {
  const h = heartbeats.find((x) => x.node === node);
  if (!h || renewedOnTime(h, now) || !heartbeats.some((o) => o.node !== node && renewedOnTime(o, now))) return undefined;
  return now - h.renewedAt;
}

/** The Lease was renewed within its renew interval (and a second of slack): its kubelet is alive. */
export function renewedOnTime(h: NodeHeartbeat, now: number): boolean {
  return now - h.renewedAt <= h.everyMs + RENEWAL_SLACK_MS;
}

/** A node Prometheus cannot reach: its kubelet's scrape fails, and so do its pods'. */
export interface UnreachableNode {
  readonly node: string;
  /** The failing pods on it, namespace/name. */
  readonly pods: ReadonlyArray<string>;
}

/**
 * The nodes whose kubelet and at least one pod fail their scrapes while some other node's kubelet answers: a node that
 * died, or was cut off, shows so within a scrape, while its Lease shows a missed renewal only up to a renew interval
 * later. A kubelet target is one labelled `node` and no `pod`; a pod's node is its `node` label or where the inventory
 * places it. A crash-looping pod fails its scrape too, but its node's kubelet answers; a Prometheus that reaches nothing
 * fails every kubelet at once, and names no node. Pure.
 */
export function unreachableNodes(read: ScrapeFailures, inventory: WorkloadInventory): UnreachableNode[] {
  const kubeletDown = new Set(read.down.filter((l) => l.node && !(l.pod && l.namespace)).map((l) => l.node));
  // read every second, and nearly always with no kubelet down: the pods are placed only when one is
  if (kubeletDown.size === 0) return [];
  const placed = new Map<string, string>();
  for (const svc of inventory.services) for (const p of svc.pods) if (p.node) placed.set(`${svc.target.namespace}/${p.name}`, p.node);
  const podsDown = new Map<string, string[]>();
  for (const labels of read.down) {
    if (!labels.pod || !labels.namespace) continue;
    const name = `${labels.namespace}/${labels.pod}`;
    const node = labels.node || placed.get(name);
    if (node) podsDown.set(node, [...(podsDown.get(node) ?? []), name]);
  }
  const nodes = inventory.nodes.map((n) => n.name);
  if (nodes.length < 2 || nodes.every((n) => kubeletDown.has(n))) return [];
  return [...kubeletDown]
    .filter((n) => nodes.includes(n) && (podsDown.get(n)?.length ?? 0) > 0)
    .sort()
    .map((node) => ({ node, pods: [...new Set(podsDown.get(node))].sort() }));
}
