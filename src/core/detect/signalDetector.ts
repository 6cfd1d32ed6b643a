import type { BadDirection, Band } from '../model/signal';
import { newNovelty, noveltyStep, type NoveltyState } from './novelty';
import { alphaForHalfLife, ewUpdate, ewZ, newEw, type EwState } from './robustStats';
import { SeasonalBaseline, type BaselineState } from './seasonalBaseline';

/** Everything one signal's detectors remember; plain JSON. */
export interface SignalDetectorState {
  baseline: BaselineState;
  /** Value against a short and a long exponential baseline. */
  fast: EwState;
  slow: EwState;
  /** First differences against their own typical size. */
  diff: EwState;
  /** Short mean of the value, compared with `slow` for level shifts. */
  recent: EwState;
  novelty: NoveltyState;
  last: number | null;
}

export interface SignalStep {
  /** Surprise of this sample, in robust sigmas (0 = ordinary). */
  readonly surprise: number;
  /** Seasonal band the sample was scored against. */
  readonly band: Band;
  /** Which detector found it most surprising, for the reason line. */
  readonly cause: 'seasonal' | 'level' | 'spike' | 'shift' | 'novel';
  readonly observed: number;
}

export const TUNING = { fast: 24, slow: 384, diff: 192, recent: 4, season: 1, level: 1, spike: 1, shift: 1.5, novelty: 0.8 };
let FAST = alphaForHalfLife(TUNING.fast);
let SLOW = alphaForHalfLife(TUNING.slow);
let DIFF = alphaForHalfLife(TUNING.diff);
let RECENT = alphaForHalfLife(TUNING.recent);
export function retune(): void {
  FAST = alphaForHalfLife(TUNING.fast);
  SLOW = alphaForHalfLife(TUNING.slow);
  DIFF = alphaForHalfLife(TUNING.diff);
  RECENT = alphaForHalfLife(TUNING.recent);
}

export function newSignalDetectorState(): SignalDetectorState {
  return { baseline: SeasonalBaseline.initialState(), fast: newEw(), slow: newEw(), diff: newEw(), recent: newEw(), novelty: newNovelty(), last: null };
}

/**
 * The cheap streaming detectors of one signal, combined by taking the most surprised: seasonal residual,
 * robust z over two horizons, spikes in the first difference, level shift of the recent mean, and novelty.
 */
export class SignalDetector {
  private readonly baseline: SeasonalBaseline;

  constructor(
    readonly state: SignalDetectorState = newSignalDetectorState(),
    private readonly bad: BadDirection = 'both',
  ) {
    this.baseline = new SeasonalBaseline(state.baseline);
  }

  get band(): Band {
    return this.baseline.nextBand();
  }

  step(x: number): SignalStep {
    const s = this.state;
    const seasonal = this.baseline.step(x);
    const dx = s.last === null ? 0 : x - s.last;
    const zSeason = TUNING.season * this.directed(seasonal.z);
    const zLevel = TUNING.level * Math.min(this.directed(ewZ(s.fast, x)), this.directed(ewZ(s.slow, x)));
    const zSpike = s.last === null ? 0 : TUNING.spike * this.directed(ewZ(s.diff, dx) - ewZ(s.diff, 0));
    ewUpdate(s.recent, x, RECENT, 1e9);
    const zShift = s.slow.n > 32 ? TUNING.shift * this.directed(ewZ(s.slow, s.recent.m)) : 0;
    const novel = TUNING.novelty * noveltyStep(s.novelty, x);
    ewUpdate(s.fast, x, FAST);
    ewUpdate(s.slow, x, SLOW);
    if (s.last !== null) ewUpdate(s.diff, dx, DIFF);
    s.last = x;
    let surprise = zSeason;
    let cause: SignalStep['cause'] = 'seasonal';
    if (zLevel > surprise) {
      surprise = zLevel;
      cause = 'level';
    }
    if (zSpike > surprise) {
      surprise = zSpike;
      cause = 'spike';
    }
    if (zShift > surprise) {
      surprise = zShift;
      cause = 'shift';
    }
    if (novel > surprise) {
      surprise = novel;
      cause = 'novel';
    }
    return { surprise: Math.max(0, Math.min(50, surprise)), band: seasonal.band, cause, observed: x };
  }

  private directed(z: number): number {
    if (this.bad === 'up') return z;
    if (this.bad === 'down') return -z;
    return Math.abs(z);
  }
}
