import type { Band } from '../model/signal';
import { detectPeriod } from './periodDetection';
import { MEAN_ABS_TO_SIGMA, alphaForHalfLife, ewUpdate, newEw, robustSummary, scaleFloor, type EwState } from './robustStats';

/** Tuning of one signal's seasonal baseline. One configuration serves every signal and every corpus. */
export interface BaselineConfig {
  /** Samples kept for period detection. */
  readonly historyLength: number;
  /** How often (in samples) the period is re-estimated once enough history exists. */
  readonly periodEvery: number;
  readonly maxBuckets: number;
  /** Half-life (samples) of the level and of the per-phase profile (in periods). */
  readonly levelHalfLife: number;
  readonly profileHalfLifePeriods: number;
  /** Band half-width in sigmas. */
  readonly bandSigmas: number;
}

export const DEFAULT_BASELINE_CONFIG: BaselineConfig = {
  historyLength: 1024,
  periodEvery: 512,
  maxBuckets: 48,
  levelHalfLife: 96,
  profileHalfLifePeriods: 8,
  bandSigmas: 4,
};

export interface BaselineState {
  /** Ring buffer of recent values. */
  buf: number[];
  /** Samples seen. */
  count: number;
  /** Detected period in samples (0: none). */
  period: number;
  /** Seasonal offset from the level per phase bucket, and its mean absolute deviation. */
  prof: number[];
  profD: number[];
  level: EwState;
}

export interface BaselineStep {
  /** Robust z of the value against the seasonal expectation (signed). */
  readonly z: number;
  readonly band: Band;
}

/**
 * Robust seasonal profile per phase bucket (seeded with median/MAD from history when a period is found,
 * then tracked with clipped exponential updates) on top of a tracked level.
 */
export class SeasonalBaseline {
  private readonly levelAlpha: number;

  constructor(
    readonly state: BaselineState = SeasonalBaseline.initialState(),
    private readonly config: BaselineConfig = DEFAULT_BASELINE_CONFIG,
  ) {
    this.levelAlpha = alphaForHalfLife(config.levelHalfLife);
  }

  static initialState(): BaselineState {
    return { buf: [], count: 0, period: 0, prof: [0], profD: [0], level: newEw() };
  }

  get period(): number {
    return this.state.period;
  }

  /** Scores `x` against the expectation for its phase, then learns from it. */
  step(x: number): BaselineStep {
    const s = this.state;
    const b = this.bucket(s.count);
    const expected = s.level.m + s.prof[b];
    const sigma = this.sigma(b);
    const z = s.level.n === 0 ? 0 : (x - expected) / sigma;
    const band: Band = { lower: expected - this.config.bandSigmas * sigma, expected, upper: expected + this.config.bandSigmas * sigma };
    this.learn(x, b);
    return { z, band };
  }

  /** Expected band for the next sample, without learning (for the UI and for verification). */
  nextBand(): Band {
    const b = this.bucket(this.state.count);
    const expected = this.state.level.m + this.state.prof[b];
    const sigma = this.sigma(b);
    return { lower: expected - this.config.bandSigmas * sigma, expected, upper: expected + this.config.bandSigmas * sigma };
  }

  private sigma(b: number): number {
    const s = this.state;
    // The bucket scale is noisy with few samples per bucket; the level scale is a floor.
    const d = Math.max(s.profD[b], 0.5 * s.level.d);
    return MEAN_ABS_TO_SIGMA * d + scaleFloor(s.level.m);
  }

  private bucket(count: number): number {
    const p = this.state.period;
    if (p === 0) return 0;
    const buckets = this.state.prof.length;
    return Math.floor(((count % p) * buckets) / p);
  }

  private learn(x: number, b: number): void {
    const s = this.state;
    const L = this.config.historyLength;
    if (s.buf.length < L) s.buf.push(x);
    else s.buf[s.count % L] = x;
    ewUpdate(s.level, x - s.prof[b], this.levelAlpha);
    if (s.period > 0) {
      const buckets = s.prof.length;
      const perBucket = s.period / buckets;
      const alpha = alphaForHalfLife(this.config.profileHalfLifePeriods * perBucket);
      const r = x - s.level.m - s.prof[b];
      const scale = MEAN_ABS_TO_SIGMA * Math.max(s.profD[b], 0.5 * s.level.d) + scaleFloor(s.level.m);
      const rc = Math.max(-3 * scale, Math.min(3 * scale, r));
      s.prof[b] += alpha * rc;
      s.profD[b] += alpha * (Math.min(Math.abs(r), 6 * scale) - s.profD[b]);
    } else {
      s.profD[0] = s.level.d;
    }
    s.count++;
    if (s.count >= 64 && s.count % this.config.periodEvery === 0) this.redetect();
  }

  private redetect(): void {
    const s = this.state;
    const L = this.config.historyLength;
    const n = s.buf.length;
    const ordered = new Float64Array(n);
    const start = n < L ? 0 : s.count % L;
    for (let i = 0; i < n; i++) ordered[i] = s.buf[(start + i) % n];
    const period = detectPeriod(ordered, { minLag: 4, maxLag: Math.floor(n / 2.5), minCorrelation: 0.4 });
    // A re-estimate a sample or two off is noise in the autocorrelation; reseeding the profile would cause a jump.
    if (period !== 0 && s.period !== 0 && Math.abs(period - s.period) <= Math.max(1, 0.03 * s.period)) return;
    if (period === s.period) return;
    s.period = period;
    if (period === 0) {
      s.prof = [0];
      s.profD = [s.level.d];
      return;
    }
    // Seed the profile from history: median and MAD per phase bucket, relative to the overall median.
    const buckets = Math.min(this.config.maxBuckets, period);
    const groups: number[][] = Array.from({ length: buckets }, () => []);
    const firstCount = s.count - n;
    for (let i = 0; i < n; i++) {
      const c = firstCount + i;
      groups[Math.floor(((c % period) * buckets) / period)].push(ordered[i]);
    }
    const overall = robustSummary(Array.from(ordered));
    s.prof = groups.map((g) => (g.length ? robustSummary(g).median - overall.median : 0));
    s.profD = groups.map((g) => (g.length ? robustSummary(g).sigma / MEAN_ABS_TO_SIGMA : s.level.d));
    s.level = { m: overall.median, d: s.level.d, n: s.level.n };
  }
}
