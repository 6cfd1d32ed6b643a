import type { BadDirection, Band } from '../model/signal';
import { newNovelty, noveltyStep, type NoveltyState } from './novelty';
import { alphaForHalfLife, ewUpdate, ewZ, newEw, newSurpriseCal, scaleFloor, surpriseCalStep, type EwState, type SurpriseCalState } from './robustStats';
import { DEFAULT_BASELINE_CONFIG, SeasonalBaseline, type BaselineConfig, type BaselineState } from './seasonalBaseline';

/** Everything one signal's detectors remember; plain JSON. */
export interface SignalDetectorState {
  baseline: BaselineState;
  /** Long-run level of the value, and a short mean compared with it for level shifts. */
  slow: EwState;
  recent: EwState;
  novelty: NoveltyState;
  /** Calibration of each detector's surprise against its own history: seasonal, shift, novelty. */
  cal: SurpriseCalState[];
  /** Extremes seen so far (only kept by the profiles that score them). */
  range?: { lo: number; hi: number; n: number };
}

export type SignalCause = 'seasonal' | 'shift' | 'novel';

export interface SignalStep {
  /** Evidence of this sample in sigmas of a standard normal (0 = ordinary, 4 ≈ one in 30,000). */
  readonly evidence: number;
  /** Distance from the seasonal expectation in robust sigmas, for the reason line. */
  readonly deviation: number;
  /** Seasonal band the sample was scored against. */
  readonly band: Band;
  /** Which detector is most surprised. */
  readonly cause: SignalCause;
  readonly observed: number;
}

const SLOW = alphaForHalfLife(384);
const RECENT = alphaForHalfLife(4);
const SHIFT_GAIN = 1.5;
/** Half-lives (samples) of the short average of each detector's surprise and of its long-run norm. */
const CAL_LONG = 1000;
/** A single detector alone needs this much more evidence than the detectors agreeing (Stouffer). */
const SINGLE_PENALTY = 1.3;
/** Cap of one detector's z in the agreement sum. */
const SUM_CLAMP = 12;
/**
 * Novelty never alarms alone: unless the seasonal or shift detector is at least mildly surprised (z >= 1), it adds
 * at most NOVELTY_ALONE_CAP sigmas to the sum, because on noisy seasonal signals new contexts keep turning up now
 * and then. Measured: ungated, NAB standard was 65.0 but synthetic normal traffic (bench:detect) raised about one
 * false alarm per service in 1,100 steps; gated, 64.0 and one per ~15 services.
 */
const NOVELTY = 2;

/** Tuning of one signal's detectors. The live agent runs the defaults; `vigil detect` runs the univariate CSV profile. */
export interface SignalDetectorConfig {
  /** Below this z of the seasonal/shift detectors, novelty adds at most `noveltyAloneCap` sigmas (Infinity: ungated). */
  readonly noveltyGate: number;
  readonly noveltyAloneCap: number;
  /** Extra sigmas for a value outside everything seen so far, per range width past the edge (0: off). */
  readonly rangeGain: number;
  /** Sigmas added for any new extreme, however small the step past it; samples before extremes count. */
  readonly rangeBase: number;
  readonly rangeWarmup: number;
  readonly singlePenalty: number;
  readonly calShortHalfLife: number;
  /** The seasonal baseline's history and period re-estimation. */
  readonly baseline: BaselineConfig;
}

export const DEFAULT_SIGNAL_CONFIG: SignalDetectorConfig = {
  noveltyGate: 1,
  noveltyAloneCap: 4,
  rangeGain: 0,
  rangeBase: 0,
  rangeWarmup: 200,
  singlePenalty: SINGLE_PENALTY,
  calShortHalfLife: 16,
  baseline: DEFAULT_BASELINE_CONFIG,
};
const CAUSES: ReadonlyArray<SignalCause> = ['seasonal', 'shift', 'novel'];

export function newSignalDetectorState(): SignalDetectorState {
  return {
    baseline: SeasonalBaseline.initialState(),
    slow: newEw(),
    recent: newEw(),
    novelty: newNovelty(),
    cal: CAUSES.map(() => newSurpriseCal()),
  };
}

/**
 * The cheap streaming detectors of one signal: seasonal residual, level shift of the recent mean against the
 * long-run level, and contextual novelty. Each detector's surprise is calibrated against its own history like an
 * anomaly likelihood (a short average of log-surprise against its robust long-run norm), so a detector that is
 * always noisy on this signal stops shouting; the calibrated z's are combined by Stouffer's sum (agreement
 * counts) or, for the seasonal or shift detector alone, its z over SINGLE_PENALTY. Measured on NAB, one configuration for all:
 * a first-difference spike detector and a two-horizon level z cost points and were dropped.
 */
export class SignalDetector {
  private readonly baseline: SeasonalBaseline;
  private readonly calShort: number;

  constructor(
    readonly state: SignalDetectorState = newSignalDetectorState(),
    private readonly bad: BadDirection = 'both',
    private readonly config: SignalDetectorConfig = DEFAULT_SIGNAL_CONFIG,
  ) {
    this.baseline = new SeasonalBaseline(state.baseline, config.baseline);
    this.calShort = alphaForHalfLife(config.calShortHalfLife);
  }

  get band(): Band {
    return this.baseline.nextBand();
  }

  /** Whether its baseline has found the signal's season: before, its expectation is only a recent level. */
  get seasonal(): boolean {
    return this.baseline.period > 0;
  }

  step(x: number): SignalStep {
    const s = this.state;
    const c = this.config;
    const seasonal = this.baseline.step(x);
    ewUpdate(s.recent, x, RECENT, 1e9);
    const shiftZ = s.slow.n > 32 ? ewZ(s.slow, s.recent.m) : 0;
    // Calibrate magnitudes in both directions, so a one-directional signal's calibration still sees its spread;
    // the direction is applied after (a drop in error ratio is not an anomaly).
    const raw = [Math.abs(seasonal.z), SHIFT_GAIN * Math.abs(shiftZ), noveltyStep(s.novelty, x)];
    const harmless = [this.harmless(seasonal.z), this.harmless(shiftZ), false];
    ewUpdate(s.slow, x, SLOW);
    let sum = 0;
    let single = 0;
    let top = 0;
    let topZ = -Infinity;
    const shiftLive = s.slow.n > 32;
    for (let k = 0; k < raw.length; k++) {
      // The shift detector is silent until its long level exists; calibrating on those zeros would leave it no spread.
      const calibrated = k === 1 && !shiftLive ? 0 : surpriseCalStep(s.cal[k], Math.log1p(raw[k]), this.calShort, CAL_LONG);
      const z = harmless[k] ? Math.min(0, calibrated) : calibrated;
      // Runs after seasonal and shift, so `single` already holds their strongest z.
      const cap = k === NOVELTY && single < c.noveltyGate ? c.noveltyAloneCap : SUM_CLAMP;
      sum += Math.max(-3, Math.min(cap, z));
      if (z > topZ) {
        topZ = z;
        top = k;
      }
      if (k !== NOVELTY && z > single) single = z;
    }
    let evidence = Math.max(0, sum / Math.sqrt(raw.length), single / c.singlePenalty);
    if (c.rangeGain > 0 || c.rangeBase > 0) evidence += this.outsideRange(x);
    return { evidence, deviation: Math.abs(seasonal.z), band: seasonal.band, cause: CAUSES[top], observed: x };
  }

  /** Sigmas added for a value past the extremes of everything seen so far (spatial novelty, as in ARTime/HTM). */
  private outsideRange(x: number): number {
    const s = this.state;
    const r = s.range ?? (s.range = { lo: x, hi: x, n: 0 });
    r.n++;
    const width = r.hi - r.lo;
    let past = 0;
    if (x > r.hi) past = (x - r.hi) / Math.max(width, scaleFloor(x));
    else if (x < r.lo) past = (r.lo - x) / Math.max(width, scaleFloor(x));
    if (x > r.hi) r.hi = x;
    if (x < r.lo) r.lo = x;
    if (r.n < this.config.rangeWarmup || past === 0 || (this.bad === 'up' && x < r.hi) || (this.bad === 'down' && x > r.lo)) return 0;
    return this.config.rangeGain * Math.min(1, past) + this.config.rangeBase;
  }

  /** True when a deviation with this sign is in the direction that is not a symptom for this signal. */
  private harmless(z: number): boolean {
    return (this.bad === 'up' && z < 0) || (this.bad === 'down' && z > 0);
  }
}
