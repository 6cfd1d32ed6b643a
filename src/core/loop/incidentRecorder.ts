import type { DetectorState } from '../detect/detectorState';
import type { RuleState } from '../detect/rules';
import type { Correlator } from '../diagnose/correlation';
import type { LearningState } from '../learn/thresholdTuning';
import type { ClusterFact } from '../model/fact';
import type { ActionSpec } from '../model/action';
import type { Incident, IncidentRecording, RecordedWrite, RecordingStart } from '../model/incident';
import type { Playbook } from '../model/playbook';
import type { SampleFrame } from '../model/signal';
import { targetKey, type TargetRef } from '../model/target';
import type { ClockPort, ClusterPort, EventsPort, WorkloadInventory } from '../ports';
import type { VigilSettings } from '../settings';
import type { RecoveryWindow, RecoveryWindowState } from './recoveryWindow';

/**
 * The recorder's bounds. Per target: a checkpoint of its detector state every CHECKPOINT_EVERY frames, the last
 * CHECKPOINTS_KEPT of them, and the frames since the oldest (≤ 120 frames: 10 min at 5 s, 30 min at 15 s). Per
 * incident: at most MAX_TARGETS targets × MAX_FRAMES_PER_TARGET frames (lead-in included), MAX_FACTS facts,
 * MAX_INVENTORY inventory changes, MAX_CALLS cluster calls, MAX_ROLLOUTS rollout answers, MAX_PAST past incidents.
 */
export const RECORDING_BOUNDS = {
  CHECKPOINT_EVERY: 40,
  CHECKPOINTS_KEPT: 3,
  MAX_TARGETS: 12,
  MAX_FRAMES_PER_TARGET: 960,
  MAX_FACTS: 2000,
  MAX_INVENTORY: 240,
  /** Reads of the inventory (decisions, verification polls) remembered by time, each naming its snapshot. */
  MAX_INVENTORY_READS: 5000,
  MAX_CALLS: 200,
  MAX_ROLLOUTS: 400,
  MAX_PAST: 100,
  /** Facts kept across all targets, for the lead-in of a new incident and escalations. */
  FACT_RING: 2000,
  /** Facts this long before the replay start are replayed too (correlation looks back at releases and restarts). */
  FACT_LEAD_MS: 15 * 60_000,
  INVENTORY_RING: 24,
} as const;

type DetectorSnapshot = { detector: DetectorState; rules: RuleState };
type Arrival = readonly [number, number];

interface Checkpoint {
  readonly t: number;
  readonly at: number;
  readonly state: DetectorSnapshot;
  readonly recovery: RecoveryWindowState;
}

interface Tape {
  readonly checkpoints: Checkpoint[];
  readonly frames: Array<{ frame: SampleFrame; arrival: Arrival }>;
  count: number;
}

interface KeptFact {
  readonly fact: ClusterFact;
  readonly arrival: Arrival;
  readonly keys: ReadonlyArray<string>;
}

interface LiveRecording {
  readonly id: string;
  readonly correlationKey?: string;
  readonly target: TargetRef;
  /** True while the opening adopts its targets: they start at their oldest checkpoint, for the longest lead-in. */
  opening: boolean;
  readonly scope: Set<string>;
  readonly frames: SampleFrame[];
  readonly frameArrivals: Arrival[];
  readonly framesPerTarget: Map<string, number>;
  readonly facts: ClusterFact[];
  readonly factArrivals: Arrival[];
  readonly factsIn: Set<ClusterFact>;
  readonly inventory: Array<{ at: number; inventory: WorkloadInventory }>;
  readonly inventoryReads: Array<readonly [number, number, 0 | 1]>;
  lastInventory: string;
  readonly writes: RecordedWrite[];
  readonly rollouts: NonNullable<IncidentRecording['rollouts']>[number][];
  readonly lastRollout: Map<string, string>;
  start: RecordingStart;
  truncated?: string;
}

export interface IncidentRecorderDeps {
  readonly clock: ClockPort;
  /** Who belongs to an incident (members, callers, callees, nodes) and which service a pod fact is about. */
  readonly correlator: Correlator;
  readonly recovery: RecoveryWindow;
  readonly learning: () => LearningState | undefined;
  readonly settings: () => VigilSettings;
  readonly playbooks: () => ReadonlyArray<Playbook>;
  readonly identity: string;
  /** What the live core used that a recording does not hold (the model's scores), said in the recording. */
  readonly notCaptured?: () => ReadonlyArray<string>;
}

/** What the remediator knows at the opening and the recorder does not. */
export interface OpeningContext {
  readonly id: string;
  readonly correlationKey?: string;
  readonly target: TargetRef;
  readonly openedAt: number;
  readonly engine: RecordingStart['engine'];
  readonly past: ReadonlyArray<Incident>;
  /** The other incidents open now. */
  readonly open?: ReadonlyArray<Incident>;
}

/**
 * Records, per incident, what replay needs to run the live core again and reach the same decisions: the detector
 * state of its members from before the first symptom (checkpoints taken as frames arrive), every frame and fact of
 * its members and neighbours until it closes, the inventory, each cluster call's answer, and the state of the
 * learner, the recovery window and the remediator at the opening. Bounded: see RECORDING_BOUNDS.
 */
export class IncidentRecorder {
  private readonly tapes = new Map<string, Tape>();
  private readonly facts: KeptFact[] = [];
  private readonly inventories: Array<{ at: number; inventory: WorkloadInventory; json: string }> = [];
  private readonly live = new Map<string, LiveRecording>();
  private seq = 0;

  constructor(private readonly deps: IncidentRecorderDeps) {}

  /** The inventory as the pipeline reads it at the start of an interval; a new interval's frames follow. */
  inventory(inventory: WorkloadInventory): void {
    this.seq++;
    this.read(inventory, 1);
  }

  /**
   * The EventsPort the core decides and verifies through: each inventory read is recorded with its time, so replay
   * answers a read with what the live core read next (its reads came a few milliseconds after their input).
   */
  recordingEvents(events: EventsPort): EventsPort {
    return {
      inventory: () => {
        const inv = events.inventory();
        this.read(inv);
        return inv;
      },
      subscribe: (cb) => events.subscribe(cb),
      onStatus: (l) => events.onStatus(l),
      recentLogs: (t, n) => events.recentLogs(t, n),
    };
  }

  /** `interval`: 1 for the pipeline's read at the start of an interval, 0 for a decision's or a verification's. */
  private read(inventory: WorkloadInventory, interval: 0 | 1 = 0): void {
    const at = this.deps.clock.now();
    // the events port hands out the same inventory object until the cluster changes: at 5,000 pods serialising it
    // again at every read (several an interval) was a few MB each, to learn that nothing had changed
    const last = this.inventories.at(-1);
    if (last?.inventory !== inventory) {
      const json = JSON.stringify(inventory);
      if (last?.json !== json) {
        this.inventories.push({ at, inventory, json });
        if (this.inventories.length > RECORDING_BOUNDS.INVENTORY_RING) this.inventories.shift();
      } else {
        // rebuilt with equal content (a change it does not show): remember this object, so its next reads compare by identity
        this.inventories[this.inventories.length - 1] = { ...last, inventory };
      }
    }
    for (const r of this.live.values()) {
      this.refreshScope(r);
      this.noteInventory(r, at, inventory, interval);
    }
  }

  /** A frame of a target (not a pod), before its detectors score it; `state` reads their state as it is now. */
  frame(frame: SampleFrame, state: () => DetectorSnapshot): void {
    const key = targetKey(frame.target);
    const arrival: Arrival = [this.deps.clock.now(), this.seq];
    let tape = this.tapes.get(key);
    if (!tape) this.tapes.set(key, (tape = { checkpoints: [], frames: [], count: 0 }));
    if (tape.count % RECORDING_BOUNDS.CHECKPOINT_EVERY === 0) {
      tape.checkpoints.push({ t: frame.t, at: arrival[0], state: state(), recovery: this.deps.recovery.snapshot() });
      if (tape.checkpoints.length > RECORDING_BOUNDS.CHECKPOINTS_KEPT) tape.checkpoints.shift();
      const from = tape.checkpoints[0].t;
      while (tape.frames.length && tape.frames[0].frame.t < from) tape.frames.shift();
    }
    tape.count++;
    tape.frames.push({ frame, arrival });
    for (const r of this.live.values()) if (r.scope.has(key)) this.addFrame(r, key, frame, arrival);
  }

  fact(fact: ClusterFact): void {
    this.seq++;
    const kept: KeptFact = { fact, arrival: [this.deps.clock.now(), this.seq], keys: this.keysOf(fact) };
    this.facts.push(kept);
    if (this.facts.length > RECORDING_BOUNDS.FACT_RING) this.facts.shift();
    for (const r of this.live.values()) if (kept.keys.some((k) => r.scope.has(k))) this.addFact(r, kept);
  }

  /** The latest facts about a target, for an escalation. */
  recentFacts(key: string, limit: number): ClusterFact[] {
    const out: ClusterFact[] = [];
    for (let i = this.facts.length - 1; i >= 0 && out.length < limit; i--) if (this.facts[i].keys.includes(key)) out.push(this.facts[i].fact);
    return out.reverse();
  }

  /** The ClusterPort the core acts through: every call answers as `cluster` does and is recorded on its incident. */
  recordingCluster(cluster: ClusterPort): ClusterPort {
    return {
      execute: async (action, options) => {
        const at = this.deps.clock.now();
        const r = options.actionId ? this.live.get(options.actionId.slice(0, options.actionId.indexOf('/'))) : undefined;
        try {
          const result = await cluster.execute(action, options);
          if (r) this.addWrite(r, { at, doneAt: this.deps.clock.now(), action, dryRun: options.dryRun, actionId: options.actionId, result });
          return result;
        } catch (err) {
          const e = err as Error & { status?: number; reason?: string };
          if (r) this.addWrite(r, { at, doneAt: this.deps.clock.now(), action, dryRun: options.dryRun, actionId: options.actionId, error: { message: e.message, status: typeof e.status === 'number' ? e.status : 0, ...(e.reason ? { reason: e.reason } : {}) } });
          throw err;
        }
      },
      rolloutStatus: async (namespace, deployment) => {
        const key = targetKey({ kind: 'service', namespace, name: deployment });
        try {
          const status = await cluster.rolloutStatus(namespace, deployment);
          this.noteRollout(key, { status });
          return status;
        } catch (err) {
          this.noteRollout(key, { error: (err as Error).message });
          throw err;
        }
      },
      acquireLease: (...args) => cluster.acquireLease(...args),
      releaseLease: (...args) => cluster.releaseLease(...args),
      ...(cluster.landed ? { landed: (action: ActionSpec, actionId: string) => cluster.landed!(action, actionId) } : {}),
    };
  }

  /** An incident opened: starts its recording from the oldest checkpoint of each of its targets. */
  opened(o: OpeningContext): IncidentRecording {
    const r: LiveRecording = {
      id: o.id,
      correlationKey: o.correlationKey,
      target: o.target,
      opening: true,
      scope: new Set(),
      frames: [],
      frameArrivals: [],
      framesPerTarget: new Map(),
      facts: [],
      factArrivals: [],
      factsIn: new Set(),
      inventory: [],
      inventoryReads: [],
      lastInventory: '',
      writes: [],
      rollouts: [],
      lastRollout: new Map(),
      start: {
        t: o.openedAt,
        detectors: {},
        recovery: this.deps.recovery.snapshot(),
        learning: this.deps.learning(),
        engine: { history: o.engine.history.slice(-50), consecutiveFailures: o.engine.consecutiveFailures, paused: o.engine.paused },
        pastIncidents: o.past.slice(0, RECORDING_BOUNDS.MAX_PAST).map(stripped),
        ...(o.open?.length ? { openIncidents: o.open.slice(0, RECORDING_BOUNDS.MAX_PAST).map(openStripped) } : {}),
        settings: this.deps.settings(),
        playbooks: [...this.deps.playbooks()],
        identity: this.deps.identity,
        ...(this.deps.notCaptured?.().length ? { notCaptured: [...(this.deps.notCaptured?.() ?? [])] } : {}),
      },
    };
    this.live.set(o.id, r);
    this.refreshScope(r);
    r.opening = false;
    // the inventory from the replay start on: the one in force then, and each change since
    const startAt = Math.min(...[...r.scope].map((k) => this.tapes.get(k)?.checkpoints[0]?.at ?? Infinity), this.deps.clock.now());
    const before = this.inventories.filter((x) => x.at <= startAt).at(-1);
    for (const x of this.inventories) if (x === before || x.at > startAt) this.noteInventory(r, x.at, x.inventory);
    if (this.inventories.at(-1)) this.noteInventory(r, this.deps.clock.now(), this.inventories.at(-1)!.inventory);
    return this.recordingOf(o.id)!;
  }

  /** The recording so far of an open incident, or undefined once it closed (its last state is in the incident). */
  recordingOf(id: string): IncidentRecording | undefined {
    const r = this.live.get(id);
    if (!r) return undefined;
    return {
      frames: [...r.frames],
      facts: [...r.facts],
      logs: [],
      frameArrivals: [...r.frameArrivals],
      factArrivals: [...r.factArrivals],
      start: { ...r.start, detectors: { ...r.start.detectors } },
      inventory: [...r.inventory],
      inventoryReads: [...r.inventoryReads],
      writes: [...r.writes],
      rollouts: [...r.rollouts],
      ...(r.truncated ? { truncated: r.truncated } : {}),
    };
  }

  closed(id: string): void {
    this.live.delete(id);
  }

  /** Members of the incident first, then their callers, callees and nodes (and a node's services). */
  private refreshScope(r: LiveRecording): void {
    const graph = this.deps.correlator.graph;
    const members = [targetKey(r.target), ...(r.correlationKey ? this.deps.correlator.incidentMembers(r.correlationKey) : [])];
    const wanted: string[] = [...members];
    for (const m of members) {
      if (m.startsWith('node:')) wanted.push(...graph.servicesOnNode(m));
      else wanted.push(...graph.callers(m), ...graph.callees(m), ...graph.nodesOfService(m));
    }
    for (const key of wanted) {
      if (r.scope.has(key) || key.startsWith('pod:')) continue;
      if ([...r.scope].filter((k) => !k.startsWith('ns:')).length >= RECORDING_BOUNDS.MAX_TARGETS) {
        r.truncated ??= `more than ${RECORDING_BOUNDS.MAX_TARGETS} targets related to the incident; ${key} and later ones are not recorded`;
        break;
      }
      this.adopt(r, key);
    }
  }

  /** A target joins the recording: its detector state at the last checkpoint before the start, and its frames since. */
  private adopt(r: LiveRecording, key: string): void {
    r.scope.add(key);
    const ns = /^service:([^/]+)\//.exec(key)?.[1];
    if (ns) r.scope.add(`ns:${ns}`);
    const tape = this.tapes.get(key);
    const cp = tape && ((!r.opening && [...tape.checkpoints].reverse().find((c) => c.t <= r.start.t)) || tape.checkpoints[0]);
    if (tape && cp) {
      r.start = { ...r.start, detectors: { ...r.start.detectors, [key]: cp.state } };
      if (cp.t <= r.start.t) r.start = { ...r.start, t: cp.t, recovery: cp.recovery };
      for (const f of tape.frames) if (f.frame.t >= cp.t) this.addFrame(r, key, f.frame, f.arrival);
    }
    const from = Math.min(r.start.t, cp?.t ?? r.start.t) - RECORDING_BOUNDS.FACT_LEAD_MS;
    for (const f of this.facts) if (f.fact.t >= from && f.keys.some((k) => r.scope.has(k))) this.addFact(r, f);
  }

  private addFrame(r: LiveRecording, key: string, frame: SampleFrame, arrival: Arrival): void {
    const n = r.framesPerTarget.get(key) ?? 0;
    if (n >= RECORDING_BOUNDS.MAX_FRAMES_PER_TARGET) {
      r.truncated ??= `frames of ${key} after ${new Date(frame.t).toISOString()} not recorded (more than ${RECORDING_BOUNDS.MAX_FRAMES_PER_TARGET})`;
      return;
    }
    r.framesPerTarget.set(key, n + 1);
    r.frames.push(frame);
    r.frameArrivals.push(arrival);
  }

  private addFact(r: LiveRecording, f: KeptFact): void {
    if (r.factsIn.has(f.fact)) return;
    if (r.facts.length >= RECORDING_BOUNDS.MAX_FACTS) {
      r.truncated ??= `facts after ${new Date(f.fact.t).toISOString()} not recorded (more than ${RECORDING_BOUNDS.MAX_FACTS})`;
      return;
    }
    r.factsIn.add(f.fact);
    // facts of an adopted target's lead-in can come after later ones: kept in arrival order
    let i = r.factArrivals.length;
    while (i > 0 && compareArrival(r.factArrivals[i - 1], f.arrival) > 0) i--;
    r.facts.splice(i, 0, f.fact);
    r.factArrivals.splice(i, 0, f.arrival);
  }

  private addWrite(r: LiveRecording, w: RecordedWrite): void {
    if (r.writes.length >= RECORDING_BOUNDS.MAX_CALLS) {
      r.truncated ??= `cluster calls after ${new Date(w.at).toISOString()} not recorded (more than ${RECORDING_BOUNDS.MAX_CALLS})`;
      return;
    }
    r.writes.push(w);
  }

  private noteRollout(key: string, answer: { status?: { complete: boolean; message: string; revision: number }; error?: string }): void {
    const at = this.deps.clock.now();
    const json = JSON.stringify(answer);
    for (const r of this.live.values()) {
      if (!r.scope.has(key) || r.lastRollout.get(key) === json) continue;
      if (r.rollouts.length >= RECORDING_BOUNDS.MAX_ROLLOUTS) {
        r.truncated ??= `rollout status after ${new Date(at).toISOString()} not recorded (more than ${RECORDING_BOUNDS.MAX_ROLLOUTS} answers)`;
        continue;
      }
      r.lastRollout.set(key, json);
      r.rollouts.push({ at, key, ...answer });
    }
  }

  private noteInventory(r: LiveRecording, at: number, inventory: WorkloadInventory, interval: 0 | 1 = 1): void {
    const mine: WorkloadInventory = { services: inventory.services.filter((s) => r.scope.has(targetKey(s.target))), nodes: inventory.nodes };
    const json = JSON.stringify(mine);
    if (json !== r.lastInventory) {
      if (r.inventory.length >= RECORDING_BOUNDS.MAX_INVENTORY) {
        r.truncated ??= `inventory changes after ${new Date(at).toISOString()} not recorded (more than ${RECORDING_BOUNDS.MAX_INVENTORY})`;
        return;
      }
      r.lastInventory = json;
      r.inventory.push({ at, inventory: mine });
    }
    if (r.inventoryReads.length >= RECORDING_BOUNDS.MAX_INVENTORY_READS) {
      r.truncated ??= `inventory reads after ${new Date(at).toISOString()} not recorded (more than ${RECORDING_BOUNDS.MAX_INVENTORY_READS})`;
      return;
    }
    const last = r.inventoryReads.at(-1);
    if (last?.[0] !== at || last[1] !== r.inventory.length - 1 || last[2] !== interval) r.inventoryReads.push([at, r.inventory.length - 1, interval]);
  }

  /** The targets a fact is about: its own, the service and node of a pod, the namespace of a configmap. */
  private keysOf(f: ClusterFact): string[] {
    const keys = [targetKey(f.target)];
    if (f.target.kind === 'pod') {
      const service = this.deps.correlator.graph.serviceOfPod(f.target);
      if (service) keys.push(service);
      const node = typeof f.attributes?.node === 'string' ? `node:${f.attributes.node}` : this.deps.correlator.graph.nodeOfPod(f.target);
      if (node) keys.push(node);
    }
    if (f.kind === 'configmap-changed' && f.target.namespace) keys.push(`ns:${f.target.namespace}`);
    return keys;
  }
}

export function compareArrival(a: Arrival, b: Arrival): number {
  return a[0] - b[0] || a[1] - b[1];
}

/** What the remediator reads of an incident open at the opening: its key, state, diagnosis, playbook, steps and the decisions on them. */
function openStripped(i: Incident): Incident {
  const kept: ReadonlySet<string> = new Set(['acted', 'action-failed', 'verified', 'proposed', 'approved', 'rejected', 'snoozed']);
  return { ...stripped(i), correlationKey: i.correlationKey, timeline: i.timeline.filter((e) => kept.has(e.kind)) };
}

/** What the step ranking reads of a past incident: its playbook, diagnosis, steps and outcome. */
function stripped(i: Incident): Incident {
  return {
    id: i.id,
    target: i.target,
    openedAt: i.openedAt,
    updatedAt: i.updatedAt,
    state: i.state,
    diagnosis: i.diagnosis && { ...i.diagnosis, evidence: [] },
    playbook: i.playbook,
    stepIndex: i.stepIndex,
    timeline: i.timeline.filter((e) => e.kind === 'acted' || e.kind === 'action-failed' || e.kind === 'verified'),
    recording: { frames: [], facts: [], logs: [] },
    outcome: i.outcome,
  };
}
