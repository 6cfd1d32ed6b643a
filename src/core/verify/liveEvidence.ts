import type { Band, SampleFrame, SignalName } from '../model/signal';
import { targetKey, targetLabel, type TargetRef } from '../model/target';
import { renewalOverdue, renewedOnTime } from '../observe/nodeHeartbeats';
import { bucketBound, histogramQuantile } from '../observe/histogram';
import { signalDefinition } from '../observe/signalCatalogue';
import { aggregationOf } from '../observe/workloadAggregation';
import type { ClockPort, ClusterPort, EventsPort, LoggerPort, NodeHeartbeat, ProbeResultsPort, WorkloadInventory } from '../ports';
import type { VerificationEvidence } from './verifier';

/** Fewest requests a rollout's new pods must have served in an interval for it to be judged on them alone. */
const MIN_OWN_REQUESTS = 10;

/** How long a service counts as displaced by a node failure after it was last seen on the node. */
const PLACEMENT_MEMORY_MS = 10 * 60_000;

export interface LiveEvidenceDeps {
  readonly clock: ClockPort;
  readonly logger: LoggerPort;
  readonly cluster: ClusterPort;
  readonly events: EventsPort;
  /** The metrics source's rate window: how far back one sample of a windowed signal reaches. */
  readonly rateWindowMs: number;
  /** Which target each probe reports on and why its last run failed, for `probe-passing` checks. Absent in replay. */
  readonly probes?: ProbeResultsPort;
  /** The kubelets' Lease renewals, read live (replay records none): a node whose renewal is overdue is gone. */
  readonly heartbeats?: () => ReadonlyArray<NodeHeartbeat>;
}

/**
 * What verification reads: the latest sample of each signal, the band that was normal before the trouble,
 * rollout status, restarts and where pods ran. The detection pipeline writes it, the remediator reads it,
 * so neither needs the other to exist first.
 */
export class LiveEvidence implements VerificationEvidence {
  private readonly frames = new Map<string, SampleFrame>();
  /** Time of each target's frame before the newest: where the newest frame's fresh interval begins. */
  private readonly previousT = new Map<string, number>();
  private readonly bandsNow = new Map<string, () => Partial<Record<SignalName, Band>>>();
  private readonly healthyBands = new Map<string, Partial<Record<SignalName, Band>>>();
  /** node → services that had pods on it, and when last seen there: what a node failure displaced. */
  private readonly placements = new Map<string, Map<string, { target: TargetRef; t: number }>>();

  constructor(private readonly deps: LiveEvidenceDeps) {}

  /** A target's newest frame, and where its current bands come from. */
  observe(frame: SampleFrame, bands: () => Partial<Record<SignalName, Band>>): void {
    const key = targetKey(frame.target);
    const before = this.frames.get(key);
    if (before && before.t < frame.t) this.previousT.set(key, before.t);
    this.frames.set(key, frame);
    this.bandsNow.set(key, bands);
  }

  /** Bands as they were on the last frame without an anomaly: what "normal" means while something is wrong. */
  healthy(target: TargetRef, bands: Partial<Record<SignalName, Band>>): void {
    this.healthyBands.set(targetKey(target), bands);
  }

  notePlacements(inv: WorkloadInventory): void {
    const now = this.deps.clock.now();
    for (const svc of movable(inv)) {
      for (const pod of svc.pods) {
        if (!pod.node) continue;
        let onNode = this.placements.get(pod.node);
        if (!onNode) this.placements.set(pod.node, (onNode = new Map()));
        onNode.set(targetKey(svc.target), { target: svc.target, t: now });
      }
    }
  }

  /** The newest frame's value, and when the pods it scraped started (where known: the same pods as its fresh interval). */
  latest(target: TargetRef, signal: SignalName): { t: number; v: number; podsSince?: number } | undefined {
    const f = this.frames.get(targetKey(target));
    const v = f?.values[signal];
    if (!f || v === undefined || !Number.isFinite(v)) return undefined;
    return f.freshPodsSince !== undefined ? { t: f.t, v, podsSince: f.freshPodsSince } : { t: f.t, v };
  }

  /** The newest frame's value over its own interval alone (since the frame before it), and when its pods started. */
  fresh(target: TargetRef, signal: SignalName): { t: number; from: number; v: number; podsSince?: number } | undefined {
    const key = targetKey(target);
    const f = this.frames.get(key);
    const v = f?.fresh?.[signal];
    const from = this.previousT.get(key);
    if (!f || from === undefined || v === undefined || !Number.isFinite(v)) return undefined;
    return f.freshPodsSince !== undefined ? { t: f.t, from, v, podsSince: f.freshPodsSince } : { t: f.t, from, v };
  }

  /**
   * The newest frame's interval as the pods started at or after `since` served it, alone (SampleFrame.freshPods): their
   * error ratio or latency quantile, and how many requests they served. Undefined for other signals, and where they
   * served fewer than MIN_OWN_REQUESTS (a handful of requests says little).
   */
  freshOfPods(target: TargetRef, signal: SignalName, since: number): { t: number; from: number; v: number; requests: number; pods: number } | undefined {
    const key = targetKey(target);
    const f = this.frames.get(key);
    const from = this.previousT.get(key);
    if (!f?.freshPods || from === undefined) return undefined;
    const pods = f.freshPods.filter((p) => p.since !== undefined && p.since >= since);
    const requests = pods.reduce((n, p) => n + p.requests, 0);
    if (!pods.length || !(requests >= MIN_OWN_REQUESTS)) return undefined;
    const how = aggregationOf(signal);
    let v: number | undefined;
    if (signal === 'error_ratio') v = pods.reduce((n, p) => n + p.errors, 0) / requests;
    else if (how.mode === 'quantile' && pods.every((p) => p.buckets)) {
      const summed = new Map<number, number>();
      for (const p of pods) {
        for (const [le, n] of Object.entries(p.buckets!)) {
          const bound = bucketBound(le);
          summed.set(bound, (summed.get(bound) ?? 0) + n);
        }
      }
      v = summed.size ? histogramQuantile(how.q, [...summed].map(([le, count]) => ({ le, count }))) : undefined;
    }
    return v !== undefined && Number.isFinite(v) ? { t: f.t, from, v, requests: Math.round(requests), pods: pods.length } : undefined;
  }

  /** The expected band from before the trouble began, so verification never compares against a baseline that learnt the fault. */
  band(target: TargetRef, signal: SignalName): Band | undefined {
    const key = targetKey(target);
    return this.healthyBands.get(key)?.[signal] ?? this.bandsNow.get(key)?.()[signal];
  }

  async rolloutStatus(target: TargetRef): Promise<{ complete: boolean; message: string } | undefined> {
    if (target.kind !== 'service' || !target.namespace) return undefined;
    try {
      return await this.deps.cluster.rolloutStatus(target.namespace, target.name);
    } catch (err) {
      this.deps.logger.log('warn', `rollout status of ${targetKey(target)} unavailable: ${(err as Error).message}`);
      return undefined;
    }
  }

  /**
   * From the probe_success frames the loop saw, so replay answers as the live loop did. Which target the probe
   * reports on comes from the probes; without them (replay) it is the verified target. The last run says why.
   */
  probe(name: string, target: TargetRef): { t: number; passing: boolean; detail: string } | undefined {
    const probes = this.deps.probes;
    const where = probes ? probes.targetOf(name) : target;
    if (!where) return undefined;
    const s = this.latest(where, 'probe_success');
    if (!s) return undefined;
    const passing = s.v >= 1;
    const run = probes?.latest(name);
    const detail = passing ? `passing (probe_success of ${targetLabel(where)})` : run && !run.success && run.reason ? run.reason : `failing (probe_success of ${targetLabel(where)} is 0)`;
    return { t: s.t, passing, detail };
  }

  /**
   * For a node: the services that ran on it lately are fully available and none has a pod left on it (a DaemonSet's
   * pods stay: they are the node's own). `stalled`: pods are left on a node whose kubelet is gone (NotReady, or its
   * Lease overdue) and nothing is evicting them (the inventory leaves out terminating pods): they move only when evicted.
   */
  rescheduled(node: TargetRef): { complete: boolean; message: string; stalled?: string; renewing?: string } | undefined {
    if (node.kind !== 'node') return undefined;
    const inv = this.deps.events.inventory();
    if (inv.nodes.length === 0 && inv.services.length === 0) return undefined; // the inventory has not synced
    const now = this.deps.clock.now();
    const moved = movable(inv);
    const left = moved.flatMap((s) => s.pods.filter((p) => p.node === node.name).map((p) => `${s.target.namespace}/${p.name}`));
    const ran = [...(this.placements.get(node.name)?.values() ?? [])].filter((x) => now - x.t <= PLACEMENT_MEMORY_MS);
    const short = ran.flatMap(({ target }) => {
      const svc = moved.find((s) => s.target.namespace === target.namespace && s.target.name === target.name);
      return svc && svc.availableReplicas < svc.replicas ? [`${targetLabel(target)} ${svc.availableReplicas}/${svc.replicas} available`] : [];
    });
    if (left.length > 0) {
      const message = `${left.length} pod(s) still on ${node.name}: ${left.slice(0, 3).join(', ')}${left.length > 3 ? ', …' : ''}`;
      const heartbeats = this.deps.heartbeats?.() ?? [];
      const silentFor = renewalOverdue(node.name, heartbeats, now);
      const ready = inv.nodes.find((n) => n.name === node.name)?.ready;
      const gone = ready === false ? 'is NotReady' : silentFor !== undefined ? `has not renewed its Lease for ${Math.round(silentFor / 1000)} s` : undefined;
      if (gone) return { complete: false, message, stalled: `${node.name} ${gone} and none of its pods is being evicted` };
      const lease = ready === true ? heartbeats.find((h) => h.node === node.name && renewedOnTime(h, now)) : undefined;
      return lease ? { complete: false, message, renewing: `${node.name} is Ready and renewed its Lease ${Math.round((now - lease.renewedAt) / 1000)} s ago` } : { complete: false, message };
    }
    if (short.length > 0) return { complete: false, message: `moved off ${node.name}, not yet available again: ${short.join(', ')}` };
    return { complete: true, message: ran.length ? `every workload that ran on ${node.name} is available elsewhere: ${ran.map((x) => targetLabel(x.target)).join(', ')}` : `no workload ran on ${node.name}` };
  }

  windowMs(signal: SignalName): number | undefined {
    return signalDefinition(signal).windowed ? this.deps.rateWindowMs : undefined;
  }

  restarts(target: TargetRef): number | undefined {
    const svc = this.deps.events.inventory().services.find((s) => s.target.namespace === target.namespace && s.target.name === target.name);
    return svc ? svc.pods.reduce((n, p) => n + p.restarts, 0) : undefined;
  }
}

/** The services whose pods a drain moves: a DaemonSet's pod belongs to its node, and it runs nowhere else. */
function movable(inv: WorkloadInventory): WorkloadInventory['services'] {
  return inv.services.filter((s) => s.workloadKind !== 'DaemonSet');
}
