import { Correlator } from '../diagnose/correlation';
import { DEFAULT_RULES } from '../detect/defaultRules';
import type { DetectorState } from '../detect/detectorState';
import type { CorrelationUpdate } from '../diagnose/incidentGrouping';
import { RuleEngine, type Rule, type RuleState } from '../detect/rules';
import { StreamingDetector, stepFrame, toAnomaly, type DetectionStep } from '../detect/streamingDetector';
import type { Anomaly } from '../model/anomaly';
import type { ClusterFact } from '../model/fact';
import { isOpen } from '../model/incident';
import type { Band, BadDirection, SampleFrame, SignalName } from '../model/signal';
import { targetKey, targetLabel, type TargetRef } from '../model/target';
import { SIGNAL_DEFINITIONS } from '../observe/signalCatalogue';
import { holdBackByLearnedThresholds, type LearningState } from '../learn/thresholdTuning';
import type { ClockPort, ClusterPort, Disposable, EventsPort, LoggerPort, MetricsPort, ModelPort, ModelScore, SourceStatus, StorePort, WorkloadInventory } from '../ports';
import type { VerificationEvidence } from '../verify/verifier';
import type { Remediator } from './remediator';
import { ModelEvidence, explainModelAnomaly, type ModelEvidenceOptions } from './modelEvidence';

export interface DetectionPipelineDeps {
  readonly clock: ClockPort;
  readonly logger: LoggerPort;
  readonly store: StorePort;
  readonly metrics: MetricsPort;
  readonly events: EventsPort;
  readonly cluster: ClusterPort;
  readonly engine: Remediator;
  readonly rules?: ReadonlyArray<Rule>;
  readonly correlator?: Correlator;
  /** Save detector state every this many frames per target (and on dispose). */
  readonly persistEvery?: number;
  /** The multi-signal model: scored asynchronously per service and fused into the next frame (see ModelEvidence). */
  readonly model?: ModelPort;
  readonly modelOptions?: ModelEvidenceOptions;
  /** Learned thresholds: an anomaly they say does not stand is scored but not raised. */
  readonly thresholds?: () => LearningState | undefined;
  /** The metrics source's rate window: how far back one sample of a rate signal reaches (verification uses it). */
  readonly rateWindowMs?: number;
}

/** What the loop saw most recently, for the UI and for verification. */
export interface LoopSnapshot {
  readonly t: number;
  readonly targets: ReadonlyArray<{
    readonly target: TargetRef;
    readonly values: Readonly<Partial<Record<SignalName, number>>>;
    readonly bands: Readonly<Partial<Record<SignalName, Band>>>;
    readonly score: number;
    readonly isAnomaly: boolean;
    readonly reason: string;
  }>;
  readonly sources: ReadonlyArray<SourceStatus>;
}

interface TargetState {
  readonly target: TargetRef;
  readonly detector: StreamingDetector;
  readonly rules: RuleEngine;
  latest: SampleFrame | undefined;
  lastAnomaly: Anomaly | undefined;
  /** Bands as they were on the last frame without an anomaly: what "normal" means while something is wrong. */
  healthyBands: Record<string, Band> | undefined;
  frames: number;
}

const DIRECTIONS: Readonly<Record<string, BadDirection>> = Object.fromEntries(SIGNAL_DEFINITIONS.map((d) => [d.name, d.bad]));
const STATE_NAME = 'detectors';
/** How long a service counts as displaced by a node failure after it was last seen on the node. */
const PLACEMENT_MEMORY_MS = 10 * 60_000;
/** Signals computed as rates or increases over the source's window (the others are gauges or per-interval counts). */
const WINDOWED: ReadonlySet<SignalName> = new Set(['request_rate', 'error_ratio', 'latency_p50', 'latency_p95', 'latency_p99', 'cpu', 'restarts']);
const OWN_ROLLOUT_MS = 5 * 60_000;
/** Without a known rate window, how long a fixed problem's symptoms are assumed to linger in the signals. */
const DEFAULT_RATE_WINDOW_MS = 5 * 60_000;

/**
 * observe → detect → correlate → engine. Feeds every frame to a per-target detector (baseline, rules,
 * fusion), anomalies and cluster facts to the correlator, and diagnoses to the engine. It also answers
 * the verifier: latest values, expected bands, restarts and rollout status.
 */
export class DetectionPipeline implements VerificationEvidence, Disposable {
  private readonly targets = new Map<string, TargetState>();
  private readonly correlator: Correlator;
  private readonly subscriptions: Disposable[] = [];
  private readonly sources = new Map<string, SourceStatus>();
  private readonly snapshotListeners = new Set<(s: LoopSnapshot) => void>();
  /** node → services that had pods on it, and when last seen there: what a node failure displaced. */
  private readonly placements = new Map<string, Map<string, { target: TargetRef; t: number }>>();
  private savedStates: Record<string, { detector: DetectorState; rules: RuleState }> = {};
  private lastFrameT = 0;
  /**
   * Targets of a fixed incident, and when their detectors end the quiet period that follows a detection. Without
   * it a new fault on the same service minutes after the fix would be heard by the rules alone.
   */
  private readonly rearmAt = new Map<string, number>();
  private persisting: Promise<void> = Promise.resolve();
  readonly modelEvidence: ModelEvidence | undefined;

  constructor(private readonly deps: DetectionPipelineDeps) {
    this.correlator = deps.correlator ?? new Correlator();
    this.modelEvidence = deps.model && new ModelEvidence(deps.model, deps.logger.child('model'), deps.store, deps.modelOptions, () => deps.clock.now());
  }

  /** Reloads detector state (no new warm-up after a restart) and subscribes to the sources. */
  async start(): Promise<void> {
    try {
      this.savedStates = (await this.deps.store.readState<Record<string, { detector: DetectorState; rules: RuleState }>>(STATE_NAME)) ?? {};
    } catch (err) {
      this.deps.logger.log('error', `${(err as Error).message}; detectors start fresh`);
      this.savedStates = {};
    }
    this.subscriptions.push(
      // a closed incident closes its symptom group, so the correlator starts afresh for that target
      this.deps.engine.onChange((i) => {
        if (isOpen(i) || !i.correlationKey) return;
        const fixed = i.outcome?.kind === 'recovered' || i.outcome?.kind === 'self-resolved';
        // once the bad minutes have left the rate windows, the statistical detectors of its members listen in full again
        if (fixed) for (const key of this.correlator.incidentMembers(i.correlationKey)) this.rearmAt.set(key, (i.outcome?.t ?? this.lastFrameT) + (this.deps.rateWindowMs ?? DEFAULT_RATE_WINDOW_MS));
        this.correlator.closeIncident(i.correlationKey, fixed);
      }),
      this.deps.metrics.onStatus((s) => this.status(s)),
      this.deps.events.onStatus((s) => this.status(s)),
      this.deps.events.subscribe((f) => this.onFact(f)),
      this.deps.metrics.subscribe((frames) => this.onFrames(frames)),
    );
  }

  onSnapshot(listener: (s: LoopSnapshot) => void): Disposable {
    this.snapshotListeners.add(listener);
    return { dispose: () => this.snapshotListeners.delete(listener) };
  }

  private status(s: SourceStatus): void {
    const prev = this.sources.get(s.source);
    this.sources.set(s.source, s);
    if (prev?.state !== s.state) this.deps.logger.log(s.state === 'ok' ? 'info' : 'warn', `${s.source}: ${s.state}: ${s.message}`);
  }

  /** One interval of frames, every target. */
  onFrames(frames: ReadonlyArray<SampleFrame>): void {
    const inventory = this.deps.events.inventory();
    this.correlator.setInventory(inventory);
    this.notePlacements(inventory);
    // frames first, so the numbers in a diagnosis' summary include this interval
    const updates: CorrelationUpdate[] = [...this.correlator.observeFrames(frames.filter((f) => f.target.kind !== 'pod'))];
    for (const frame of frames) {
      this.lastFrameT = Math.max(this.lastFrameT, frame.t);
      this.deps.engine.record(frame);
      if (frame.target.kind === 'pod') continue; // pods roll up into their service; per-pod noise would drown the signal
      const st = this.stateOf(frame.target);
      if (this.rearmAt.size > 0) {
        const key = targetKey(frame.target);
        const rearm = this.rearmAt.get(key);
        if (rearm !== undefined && frame.t > rearm) {
          st.detector.forgiveLastDetection();
          this.rearmAt.delete(key);
        }
      }
      st.latest = frame;
      st.frames++;
      const ruleAnomalies = st.rules.step(frame);
      const bandsBefore = st.detector.bands();
      const scored = scoreFrame(st.detector, frame, this.modelEvidence?.evidence(frame, bandsBefore), ruleAnomalies);
      this.modelEvidence?.settle(frame, scored.step.isAnomaly || ruleAnomalies.some((a) => a.isAnomaly));
      const learned = this.deps.thresholds?.();
      const fused = explainModelAnomaly(scored.anomaly);
      const anomaly = learned ? holdBackByLearnedThresholds(learned, fused, this.deps.rules ?? DEFAULT_RULES) : fused;
      st.lastAnomaly = anomaly;
      if (!fused.isAnomaly) st.healthyBands = bandsBefore;
      if (anomaly.isAnomaly) {
        this.deps.logger.log('debug', `anomaly on ${targetKey(frame.target)} score ${anomaly.score.toFixed(2)}: ${anomaly.reason}`);
        updates.push(...this.correlator.observeAnomaly(anomaly));
      }
    }
    this.correlator.closeIdle(this.lastFrameT);
    this.dispatch(updates);
    this.maybePersist();
    this.emitSnapshot();
  }

  onFact(fact: ClusterFact): void {
    this.deps.engine.recordFact(fact);
    // a revision Vigil made itself (restart, rollback) is a remedy, not a release to blame symptoms on
    if ((fact.kind === 'revision-changed' || fact.kind === 'rollout-started') && this.deps.engine.actedOn(targetKey(fact.target), OWN_ROLLOUT_MS)) return;
    this.dispatch(this.correlator.observeFact(fact));
  }

  private dispatch(updates: ReadonlyArray<CorrelationUpdate>): void {
    for (const u of updates) {
      for (const key of u.absorbed ?? []) this.correlator.closeIncident(key);
      const anomalies = u.members.map((m) => this.targets.get(targetKey(m))?.lastAnomaly).filter((a): a is Anomaly => Boolean(a?.isAnomaly));
      void this.deps.engine.onDiagnosis({ incidentKey: u.incidentKey, diagnosis: u.diagnosis, anomalies }).catch((err: Error) => this.deps.logger.log('error', `engine refused a diagnosis: ${err.message}`));
    }
  }

  private stateOf(target: TargetRef): TargetState {
    const key = targetKey(target);
    let st = this.targets.get(key);
    if (!st) {
      const saved = this.savedStates[key];
      st = {
        target,
        detector: new StreamingDetector(DIRECTIONS, saved?.detector),
        rules: new RuleEngine(this.deps.rules ?? DEFAULT_RULES, saved?.rules ?? {}),
        latest: undefined,
        lastAnomaly: undefined,
        healthyBands: undefined,
        frames: 0,
      };
      this.targets.set(key, st);
    }
    return st;
  }

  private maybePersist(): void {
    const every = this.deps.persistEvery ?? 12;
    const due = [...this.targets.values()].some((s) => s.frames > 0 && s.frames % every === 0);
    if (due) void this.persist();
  }

  /** Saves every target's detector and rule state, so a restart scores on without a new warm-up. */
  persist(): Promise<void> {
    const doc: Record<string, { detector: DetectorState; rules: RuleState }> = { ...this.savedStates };
    for (const [key, st] of this.targets) doc[key] = { detector: st.detector.snapshot(), rules: { ...st.rules.state } };
    this.persisting = this.persisting.then(() => this.deps.store.writeState(STATE_NAME, doc)).catch((err: Error) => this.deps.logger.log('warn', `could not save detector state: ${err.message}`));
    return this.persisting;
  }

  snapshot(): LoopSnapshot {
    return {
      t: this.lastFrameT,
      targets: [...this.targets.values()].map((s) => ({
        target: s.target,
        values: s.latest?.values ?? {},
        bands: s.detector.bands() as Partial<Record<SignalName, Band>>,
        score: s.lastAnomaly?.score ?? 0,
        isAnomaly: s.lastAnomaly?.isAnomaly ?? false,
        reason: s.lastAnomaly?.reason ?? '',
      })),
      sources: [...this.sources.values()],
    };
  }

  private emitSnapshot(): void {
    if (this.snapshotListeners.size === 0) return;
    const s = this.snapshot();
    for (const l of this.snapshotListeners) l(s);
  }

  // ---- VerificationEvidence ----------------------------------------------------------------

  latest(target: TargetRef, signal: SignalName): { t: number; v: number } | undefined {
    const f = this.targets.get(targetKey(target))?.latest;
    const v = f?.values[signal];
    return f && v !== undefined && Number.isFinite(v) ? { t: f.t, v } : undefined;
  }

  /** The expected band from before the trouble began, so verification never compares against a baseline that learnt the fault. */
  band(target: TargetRef, signal: SignalName): Band | undefined {
    const st = this.targets.get(targetKey(target));
    return st?.healthyBands?.[signal] ?? st?.detector.bands()[signal];
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

  probe(): { passing: boolean; detail: string } | undefined {
    return undefined; // probes feed probe_success/probe_latency signals; conditions on them use signal checks
  }

  /** For a node: the services that ran on it lately are fully available and none has a pod left on it. */
  rescheduled(node: TargetRef): { complete: boolean; message: string } | undefined {
    if (node.kind !== 'node') return undefined;
    const inv = this.deps.events.inventory();
    if (inv.nodes.length === 0 && inv.services.length === 0) return undefined; // the inventory has not synced
    const now = this.deps.clock.now();
    const left = inv.services.flatMap((s) => s.pods.filter((p) => p.node === node.name).map((p) => `${s.target.namespace}/${p.name}`));
    const ran = [...(this.placements.get(node.name)?.values() ?? [])].filter((x) => now - x.t <= PLACEMENT_MEMORY_MS);
    const short = ran.flatMap(({ target }) => {
      const svc = inv.services.find((s) => s.target.namespace === target.namespace && s.target.name === target.name);
      return svc && svc.availableReplicas < svc.replicas ? [`${targetLabel(target)} ${svc.availableReplicas}/${svc.replicas} available`] : [];
    });
    if (left.length > 0) return { complete: false, message: `${left.length} pod(s) still on ${node.name}: ${left.slice(0, 3).join(', ')}${left.length > 3 ? ', …' : ''}` };
    if (short.length > 0) return { complete: false, message: `moved off ${node.name}, not yet available again: ${short.join(', ')}` };
    return { complete: true, message: ran.length ? `every workload that ran on ${node.name} is available elsewhere: ${ran.map((x) => targetLabel(x.target)).join(', ')}` : `no workload ran on ${node.name}` };
  }

  private notePlacements(inv: WorkloadInventory): void {
    const now = this.deps.clock.now();
    for (const svc of inv.services) {
      for (const pod of svc.pods) {
        if (!pod.node) continue;
        let onNode = this.placements.get(pod.node);
        if (!onNode) this.placements.set(pod.node, (onNode = new Map()));
        onNode.set(targetKey(svc.target), { target: svc.target, t: now });
      }
    }
  }

  windowMs(signal: SignalName): number | undefined {
    return WINDOWED.has(signal) ? this.deps.rateWindowMs : undefined;
  }

  restarts(target: TargetRef): number | undefined {
    const svc = this.deps.events.inventory().services.find((s) => s.target.namespace === target.namespace && s.target.name === target.name);
    return svc ? svc.pods.reduce((n, p) => n + p.restarts, 0) : undefined;
  }

  dispose(): void {
    for (const s of this.subscriptions.splice(0)) s.dispose();
    void this.persist();
  }
}

/**
 * One frame through a target's detectors as the live loop scores it: rule and model evidence fused with the
 * statistical stack, and a move only the harmless way kept as a score but not raised (see badDirectionOnly). Such a
 * move is no detection, so it does not start the quiet period that follows one: errors falling back after a fix
 * must not mute the next problem of the same service.
 */
export function scoreFrame(detector: StreamingDetector, frame: SampleFrame, model?: ModelScore, rules: ReadonlyArray<Anomaly> = []): { step: DetectionStep; anomaly: Anomaly } {
  const quietBefore = detector.quietLeft > 0;
  const step = stepFrame(detector, frame, model, rules);
  const anomaly = badDirectionOnly(toAnomaly(frame.target, step));
  if (step.isAnomaly && !anomaly.isAnomaly && !quietBefore) detector.forgiveLastDetection();
  return { step, anomaly };
}

/**
 * An anomaly made only of signals moving the harmless way (errors falling back to zero, latency
 * dropping) is a recovery, not a symptom: it is kept as a score but not raised.
 */
export function badDirectionOnly(a: Anomaly): Anomaly {
  if (!a.isAnomaly || a.detector === 'rule') return a;
  const harmful = a.contributions.filter((c) => {
    if (c.share < 0.1) return false;
    const dir = DIRECTIONS[c.signal] ?? 'both';
    if (dir === 'both' || c.observed === undefined || !c.band) return true;
    return dir === 'up' ? c.observed > c.band.expected : c.observed < c.band.expected;
  });
  if (harmful.length > 0 || a.contributions.length === 0) return a;
  return { ...a, isAnomaly: false, reason: `${a.reason} (a move the harmless way; not raised)` };
}

/**
 * The engine and the loop need each other (the loop feeds the engine, the engine verifies through the loop):
 * evidence that reads through `ref.loop` once the loop exists.
 */
export function evidenceThrough(ref: { loop?: DetectionPipeline }): VerificationEvidence {
  return {
    latest: (t, s) => ref.loop?.latest(t, s),
    band: (t, s) => ref.loop?.band(t, s),
    rolloutStatus: async (t) => ref.loop?.rolloutStatus(t),
    probe: () => undefined,
    restarts: (t) => ref.loop?.restarts(t),
    windowMs: (s) => ref.loop?.windowMs(s),
    rescheduled: (n) => ref.loop?.rescheduled(n),
  };
}
