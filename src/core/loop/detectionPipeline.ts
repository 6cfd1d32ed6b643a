import { Correlator } from '../diagnose/correlation';
import { DEFAULT_RULES } from '../detect/defaultRules';
import type { DetectorState } from '../detect/detectorState';
import type { CorrelationUpdate } from '../diagnose/incidentGrouping';
import { RuleEngine, type Rule, type RuleState } from '../detect/rules';
import type { SymptomSpells } from '../detect/flapping';
import { FreshReferences, MemoryHeadroom, freshAnomalies } from '../detect/freshEvidence';
import { StreamingDetector, stepFrame, toAnomaly, type DetectionStep } from '../detect/streamingDetector';
import type { Anomaly } from '../model/anomaly';
import type { ClusterFact } from '../model/fact';
import { isOpen } from '../model/incident';
import type { Band, BadDirection, SampleFrame, SignalName } from '../model/signal';
import { targetKey, type TargetRef } from '../model/target';
import { SIGNAL_DEFINITIONS } from '../observe/signalCatalogue';
import { holdBackByLearnedThresholds, type LearningState } from '../learn/thresholdTuning';
import type { ClockPort, ClusterPort, Disposable, EventsPort, LoggerPort, MetricsPort, ModelPort, ModelScore, SourceStatus, StorePort, WorkloadInventory } from '../ports';
import type { LiveEvidence } from '../verify/liveEvidence';
import type { IncidentRecorder } from './incidentRecorder';
import type { RecoveryWindow } from './recoveryWindow';
import type { Remediator } from './remediator';
import type { ExternalEvidence } from './externalEvidence';
import { JointEvidence, type JointEvidenceOptions } from './jointEvidence';
import { ModelEvidence, explainModelAnomaly, type ModelEvidenceOptions } from './modelEvidence';

export interface DetectionPipelineDeps {
  readonly clock: ClockPort;
  readonly logger: LoggerPort;
  readonly store: StorePort;
  readonly metrics: MetricsPort;
  readonly events: EventsPort;
  readonly cluster: ClusterPort;
  /** Where diagnoses go. */
  readonly remediator: Pick<Remediator, 'onDiagnosis' | 'actedOn' | 'onChange' | 'mergeInto'>;
  /** Frames, facts, inventory and detector state for the incidents' recordings (replay). */
  readonly recorder?: IncidentRecorder;
  /** What verification reads; the pipeline keeps it current. */
  readonly evidence: LiveEvidence;
  /** After a fix: when the members' detectors end their quiet period. */
  readonly recovery: RecoveryWindow;
  readonly rules?: ReadonlyArray<Rule>;
  readonly correlator?: Correlator;
  /** Save detector state every this many frames per target (and on dispose). */
  readonly persistEvery?: number;
  /** The multi-signal model: scored asynchronously per service and fused into the next frame (see ModelEvidence). */
  readonly model?: ModelPort;
  readonly modelOptions?: ModelEvidenceOptions;
  /** The joint (relationship) model of each service, pure and in-process (see JointEvidence); false: off. */
  readonly relationships?: JointEvidenceOptions | false;
  /** Learned thresholds: an anomaly they say does not stand is scored but not raised. */
  readonly thresholds?: () => LearningState | undefined;
  /** Firing alerts and burning SLOs, attached to the incidents of their workloads. */
  readonly external?: ExternalEvidence;
  /** Each service's bad and healthy spells, which the remediator reads for flapping. */
  readonly flaps?: SymptomSpells;
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
  frames: number;
}

const DIRECTIONS: Readonly<Record<string, BadDirection>> = Object.fromEntries(SIGNAL_DEFINITIONS.map((d) => [d.name, d.bad]));
const STATE_NAME = 'detectors';
const OWN_ROLLOUT_MS = 5 * 60_000;

/**
 * observe → detect → correlate → engine. Feeds every frame to a per-target detector (baseline, rules,
 * fusion), anomalies and cluster facts to the correlator, and diagnoses to the engine. It also answers
 * the verifier: latest values, expected bands, restarts and rollout status.
 */
export class DetectionPipeline implements Disposable {
  private readonly targets = new Map<string, TargetState>();
  private readonly correlator: Correlator;
  private readonly subscriptions: Disposable[] = [];
  private readonly sources = new Map<string, SourceStatus>();
  private readonly snapshotListeners = new Set<(s: LoopSnapshot) => void>();
  private readonly intervalListeners = new Set<(t: number) => void>();
  private savedStates: Record<string, { detector: DetectorState; rules: RuleState }> = {};
  private lastFrameT = 0;
  private persisting: Promise<void> = Promise.resolve();
  private readonly memoryHeadroom = new MemoryHeadroom();
  private readonly freshReferences = new FreshReferences();
  readonly modelEvidence: ModelEvidence | undefined;
  readonly jointEvidence: JointEvidence | undefined;

  constructor(private readonly deps: DetectionPipelineDeps) {
    this.correlator = deps.correlator ?? new Correlator();
    this.modelEvidence = deps.model && new ModelEvidence(deps.model, deps.logger.child('model'), deps.store, deps.modelOptions, () => deps.clock.now());
    this.jointEvidence = deps.relationships ? new JointEvidence(deps.logger.child('model'), deps.relationships) : undefined;
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
      this.deps.remediator.onChange((i) => {
        if (isOpen(i) || !i.correlationKey) return;
        const fixed = i.outcome?.kind === 'recovered' || i.outcome?.kind === 'resolved-without-action';
        // once the bad minutes have left the rate windows, the statistical detectors of its members listen in full again
        // (without it a new fault on the same service minutes after the fix would be heard by the rules alone)
        if (fixed) this.deps.recovery.rearmAfter(this.correlator.incidentMembers(i.correlationKey), i.outcome?.t ?? this.lastFrameT);
        this.correlator.closeIncident(i.correlationKey, fixed);
      }),
      this.deps.metrics.onStatus((s) => this.status(s)),
      ...(this.deps.external ? [this.deps.external.onStatus((s) => this.status(s)), this.deps.external.onChange(() => this.dispatch(this.correlator.observeExternalEvidence(this.lastFrameT, this.deps.external!.evidence())))] : []),
      this.deps.events.onStatus((s) => this.status(s)),
      this.deps.events.subscribe((f) => this.onFact(f)),
      this.deps.metrics.subscribe((frames) => this.onFrames(frames)),
    );
  }

  onSnapshot(listener: (s: LoopSnapshot) => void): Disposable {
    this.snapshotListeners.add(listener);
    return { dispose: () => this.snapshotListeners.delete(listener) };
  }

  /** After each interval's frames are scored, with the newest frame time; cheaper than a snapshot when only time matters. */
  onInterval(listener: (t: number) => void): Disposable {
    this.intervalListeners.add(listener);
    return { dispose: () => this.intervalListeners.delete(listener) };
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
    this.deps.evidence.notePlacements(inventory);
    this.deps.recorder?.inventory(inventory);
    // frames first, so the numbers in a diagnosis' summary include this interval
    const updates: CorrelationUpdate[] = [...this.correlator.observeFrames(frames.filter((f) => f.target.kind !== 'pod'))];
    // the interval's anomalies are judged together once all are in (Correlator.observeAnomalies), then the relationship
    // model settles on what the correlator made of them
    const anomalies: Anomaly[] = [];
    const settles: Array<{ frame: SampleFrame; key: string; ruleFired: boolean }> = [];
    for (const frame of frames) {
      this.lastFrameT = Math.max(this.lastFrameT, frame.t);
      if (frame.target.kind === 'pod') continue; // pods roll up into their service; per-pod noise would drown the signal
      const st = this.stateOf(frame.target);
      // before anything of this frame touches the detectors: a replay from here scores it the same way
      this.deps.recorder?.frame(frame, () => ({ detector: st.detector.snapshot(), rules: structuredClone(st.rules.state) }));
      if (this.deps.recovery.rearming && this.deps.recovery.rearmDue(targetKey(frame.target), frame.t)) st.detector.forgiveLastDetection();
      st.latest = frame;
      this.deps.evidence.observe(frame, () => st.detector.bands() as Partial<Record<SignalName, Band>>);
      st.frames++;
      const bandsBefore = st.detector.bands();
      this.deps.flaps?.observe(frame, bandsBefore as Partial<Record<SignalName, Band>>);
      const expected = st.detector.seasonalExpectations() as Partial<Record<SignalName, number>>;
      this.correlator.observeExpected(frame.target, frame.t, expected);
      // the rules, and the early evidence that needs no rate window nor warm-up (the last interval, memory headroom)
      const headroom = this.memoryHeadroom.step(targetKey(frame.target), frame, ...memoryLimit(inventory, frame.target));
      const key = targetKey(frame.target);
      const seasonalRequestRate = expected.request_rate;
      const fresh = freshAnomalies(frame, bandsBefore as Partial<Record<SignalName, Band>>, { ...this.freshReferences.get(key), ...(seasonalRequestRate !== undefined ? { seasonalRequestRate } : {}) });
      this.freshReferences.update(key, frame, fresh.length > 0);
      const ruleAnomalies = [...st.rules.step(frame), ...fresh, ...(headroom ? [headroom] : [])];
      const learnedModel = this.modelEvidence?.evidence(frame, bandsBefore);
      const joint = this.jointEvidence?.evidence(frame);
      const scored = scoreFrame(st.detector, frame, joint && (!learnedModel || joint.score > learnedModel.score) ? joint : learnedModel, ruleAnomalies);
      const anomalous = scored.step.isAnomaly || ruleAnomalies.some((a) => a.isAnomaly);
      this.modelEvidence?.settle(frame, anomalous);
      const learned = this.deps.thresholds?.();
      const fused = explainModelAnomaly(scored.anomaly);
      const anomaly = learned ? holdBackByLearnedThresholds(learned, fused, this.deps.rules ?? DEFAULT_RULES) : fused;
      st.lastAnomaly = anomaly;
      if (!fused.isAnomaly) this.deps.evidence.healthy(frame.target, bandsBefore as Partial<Record<SignalName, Band>>);
      if (anomaly.isAnomaly) {
        this.deps.logger.log('debug', `anomaly on ${targetKey(frame.target)} score ${anomaly.score.toFixed(2)}: ${anomaly.reason}`);
        anomalies.push(anomaly);
      }
      settles.push({ frame, key, ruleFired: ruleAnomalies.some((a) => a.isAnomaly) });
    }
    updates.push(...this.correlator.observeAnomalies(anomalies));
    // the relationship model learns from every frame but those of an incident or a firing rule: with each baseline's
    // blip (and the frames around it) left out, its reference lacked exactly the swings the baselines raise, so its
    // evidence tended to echo theirs rather than add to it
    for (const s of settles) this.jointEvidence?.settle(s.frame, s.ruleFired || this.correlator.inIncident(s.key));
    this.memoryHeadroom.prune(this.lastFrameT - 10 * 60_000);
    this.freshReferences.prune(this.lastFrameT - 10 * 60_000);
    this.correlator.closeIdle(this.lastFrameT);
    this.dispatch(updates);
    this.maybePersist();
    this.emitSnapshot();
    for (const l of this.intervalListeners) l(this.lastFrameT);
  }

  onFact(fact: ClusterFact): void {
    this.deps.recorder?.fact(fact);
    // a revision Vigil made itself (restart, rollback) is a remedy, not a release to blame symptoms on
    if ((fact.kind === 'revision-changed' || fact.kind === 'rollout-started') && this.deps.remediator.actedOn(targetKey(fact.target), OWN_ROLLOUT_MS)) return;
    this.dispatch(this.correlator.observeFact(fact));
  }

  private dispatch(updates: ReadonlyArray<CorrelationUpdate>): void {
    for (const u of updates) {
      for (const key of u.absorbed ?? []) {
        this.correlator.closeIncident(key);
        void this.deps.remediator.mergeInto(key, u).catch((err: Error) => this.deps.logger.log('error', `could not close incident ${key} merged into ${u.incidentKey}: ${err.message}`));
      }
      const anomalies = u.members.map((m) => this.targets.get(targetKey(m))?.lastAnomaly).filter((a): a is Anomaly => Boolean(a?.isAnomaly));
      void this.deps.remediator.onDiagnosis({ incidentKey: u.incidentKey, diagnosis: u.diagnosis, anomalies }).catch((err: Error) => this.deps.logger.log('error', `engine refused a diagnosis: ${err.message}`));
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

/** A service's summed container memory limit and pod count from the inventory; the limit is unknown unless every pod has one. */
function memoryLimit(inv: WorkloadInventory, target: TargetRef): [number | undefined, number] {
  const svc = target.kind === 'service' ? inv.services.find((s) => s.target.namespace === target.namespace && s.target.name === target.name) : undefined;
  if (!svc || svc.pods.length === 0 || svc.pods.some((p) => p.memoryLimitBytes === undefined)) return [undefined, svc?.pods.length ?? 0];
  return [svc.pods.reduce((n, p) => n + (p.memoryLimitBytes ?? 0), 0), svc.pods.length];
}
