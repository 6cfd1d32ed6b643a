import type { Anomaly, Contribution } from '../model/anomaly';
import type { BadDirection, Band, SampleFrame, SignalName } from '../model/signal';
import type { TargetRef } from '../model/target';
import type { ModelScore } from '../ports';
import { DETECTOR_STATE_VERSION, type DetectorState } from './detectorState';
import { DEFAULT_FUSION_CONFIG, ScoreFusion, newFusionState, type ExternalEvidence, type FusedScore, type FusionConfig, type SignalEvidence } from './fusion';
import { DEFAULT_SIGNAL_CONFIG, SignalDetector, newSignalDetectorState, type SignalDetectorConfig } from './signalDetector';

export interface DetectionStep extends FusedScore {
  readonly t: number;
}

/**
 * The statistical detector of one target: one SignalDetector per signal, fused into one score per time.
 * Streaming: each call sees only the current sample and what the state remembers. Signals are plain names
 * so a CSV of any columns can be scored; `toAnomaly` maps a step onto the domain model.
 */
export class StreamingDetector {
  private readonly detectors = new Map<string, SignalDetector>();
  private readonly fusion: ScoreFusion;
  private readonly state: DetectorState;

  constructor(
    private readonly directions: Readonly<Record<string, BadDirection>> = {},
    state?: DetectorState,
    config: FusionConfig = DEFAULT_FUSION_CONFIG,
    private readonly signalConfig: SignalDetectorConfig = DEFAULT_SIGNAL_CONFIG,
  ) {
    this.state = state ?? { version: DETECTOR_STATE_VERSION, signals: {}, fusion: newFusionState(), lastT: null };
    for (const [name, s] of Object.entries(this.state.signals)) this.detectors.set(name, new SignalDetector(s, directions[name] ?? 'both', signalConfig));
    this.fusion = new ScoreFusion(this.state.fusion, config);
  }

  get threshold(): number {
    return this.fusion.threshold;
  }

  /** Time of the last sample scored, or null before the first. */
  get lastT(): number | null {
    return this.state.lastT;
  }

  /** Expected band of each known signal for the next sample. */
  bands(): Record<string, Band> {
    const out: Record<string, Band> = {};
    for (const [name, d] of this.detectors) out[name] = d.band;
    return out;
  }

  /**
   * What each signal whose season is known is expected to be at the next sample (its band's middle). A signal without
   * a season yet has none: its band's middle is a recent level that follows a surge within a minute.
   */
  seasonalExpectations(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, d] of this.detectors) {
      if (!d.seasonal) continue;
      const e = d.band.expected;
      if (Number.isFinite(e)) out[name] = e;
    }
    return out;
  }

  /**
   * Scores one time step. Missing or non-finite values are skipped for that signal (a gap, not a zero).
   * `external` carries rule and model evidence for the same time.
   */
  step(t: number, values: Readonly<Record<string, number | undefined>>, external: ReadonlyArray<ExternalEvidence> = []): DetectionStep {
    const evidence: SignalEvidence[] = [];
    for (const [name, v] of Object.entries(values)) {
      if (v === undefined || !Number.isFinite(v)) continue;
      const d = this.detector(name);
      const r = d.step(v);
      evidence.push({ signal: name, evidence: r.evidence, deviation: r.deviation, observed: v, band: r.band, cause: r.cause });
    }
    this.state.lastT = t;
    return { t, ...this.fusion.fuse(evidence, external) };
  }

  /** Samples left in the quiet period after the last detection (0: the next detection counts in full). */
  get quietLeft(): number {
    return this.state.fusion.quiet;
  }

  /**
   * The last detection was a real problem, now fixed: its quiet period ends and it no longer counts as chatter
   * (alert fatigue), so the next problem is heard in full (see FusionConfig.quietSamples and fatigueGain).
   */
  forgiveLastDetection(): void {
    this.state.fusion.quiet = 0;
    this.state.fusion.fatigue = Math.max(0, this.state.fusion.fatigue - 1);
  }

  /** Plain-JSON state: `new StreamingDetector(directions, JSON.parse(JSON.stringify(d.snapshot())))` continues exactly. */
  snapshot(): DetectorState {
    return JSON.parse(JSON.stringify(this.state)) as DetectorState;
  }

  private detector(name: string): SignalDetector {
    let d = this.detectors.get(name);
    if (!d) {
      const s = newSignalDetectorState();
      this.state.signals[name] = s;
      d = new SignalDetector(s, this.directions[name] ?? 'both', this.signalConfig);
      this.detectors.set(name, d);
    }
    return d;
  }
}

/** Scores a frame of catalogue signals, with optional model evidence from a ModelPort. */
export function stepFrame(detector: StreamingDetector, frame: SampleFrame, model?: ModelScore, rules: ReadonlyArray<Anomaly> = []): DetectionStep {
  const external: ExternalEvidence[] = [];
  if (model) external.push({ source: 'model', score: model.score, reason: 'multi-signal model', contributions: model.contributions as Record<string, number> });
  for (const a of rules) {
    if (!a.isAnomaly) continue;
    const contributions: Record<string, number> = {};
    for (const c of a.contributions) contributions[c.signal] = c.share;
    external.push({ source: 'rule', score: a.score, reason: a.reason, severity: a.severity, contributions });
  }
  return detector.step(frame.t, frame.values, external);
}

export function toAnomaly(target: TargetRef, step: DetectionStep): Anomaly {
  const contributions: Contribution[] = step.contributions.map((c) => ({ signal: c.signal as SignalName, share: c.share, observed: c.observed, band: c.band }));
  return { target, t: step.t, detector: 'fusion', score: step.score, isAnomaly: step.isAnomaly, severity: step.severity, contributions, reason: step.reason };
}
