import { median, medianAbsoluteDeviation } from 'simple-statistics';

/** 1.4826 turns a MAD into a standard deviation for normal data; 1.2533 does the same for a mean absolute deviation. */
export const MAD_TO_SIGMA = 1.4826;
export const MEAN_ABS_TO_SIGMA = 1.2533;

/** Weight of the newest sample for an exponential average whose weights halve every `halfLife` samples. */
export function alphaForHalfLife(halfLife: number): number {
  return 1 - Math.pow(2, -1 / halfLife);
}

/** State of an exponentially weighted robust location/scale estimate. Plain numbers so it serialises to JSON. */
export interface EwState {
  /** Location. */
  m: number;
  /** Mean absolute deviation from the location. */
  d: number;
  /** Samples seen (capped, only used to know when the estimate is warm). */
  n: number;
}

export function newEw(): EwState {
  return { m: 0, d: 0, n: 0 };
}

/**
 * Robust z of `x` against the estimate, before updating it. The scale floor keeps a flat signal from turning
 * rounding noise into infinite scores, while still letting a real change on a flat signal stand out.
 */
export function ewZ(s: EwState, x: number): number {
  if (s.n === 0) return 0;
  const scale = MEAN_ABS_TO_SIGMA * s.d + scaleFloor(s.m);
  return (x - s.m) / scale;
}

export function scaleFloor(level: number): number {
  return 1e-3 * Math.abs(level) + 1e-9;
}

/**
 * Updates location and scale with residuals clipped at `clip` scales, so a spike moves the baseline by a bounded
 * step while a lasting level shift is still absorbed after a while.
 */
export function ewUpdate(s: EwState, x: number, alpha: number, clip = 4): void {
  if (s.n === 0) {
    s.m = x;
    s.d = 0;
    s.n = 1;
    return;
  }
  const a = s.n < 1 / alpha ? 1 / (s.n + 1) : alpha;
  const scale = MEAN_ABS_TO_SIGMA * s.d + scaleFloor(s.m);
  const r = x - s.m;
  const limit = clip * scale;
  const rc = r > limit ? limit : r < -limit ? -limit : r;
  s.m += a * rc;
  const ad = Math.abs(r);
  // Scale may grow faster than the location moves: a noisier regime should widen the band quickly.
  s.d += a * ((ad > 2 * limit ? 2 * limit : ad) - s.d);
  if (s.n < 1e9) s.n++;
}

/** Median and MAD-based sigma of a batch (used to seed seasonal profiles from history). */
export function robustSummary(values: ReadonlyArray<number>): { median: number; sigma: number } {
  if (values.length === 0) return { median: 0, sigma: 0 };
  const arr = values as number[];
  return { median: median(arr), sigma: MAD_TO_SIGMA * medianAbsoluteDeviation(arr) };
}

/** Upper-tail probability of a standard normal, accurate to ~1e-7 (Abramowitz-Stegun 26.2.17). */
export function normalTail(z: number): number {
  if (z < 0) return 1 - normalTail(-z);
  const t = 1 / (1 + 0.2316419 * z);
  const pdf = Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
  const poly = t * (0.31938153 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
  return pdf * poly;
}

/** Likelihood-style calibration of a surprise stream: short average against its robust long-run level and spread. */
export interface SurpriseCalState {
  short: number;
  mu: number;
  dev: number;
  n: number;
}

export function newSurpriseCal(): SurpriseCalState {
  return { short: 0, mu: 0, dev: 0, n: 0 };
}

/** Feeds `x` (e.g. log(1 + surprise)); returns the z of its short average against the past, then learns. */
export function surpriseCalStep(s: SurpriseCalState, x: number, shortAlpha: number, longHalfLife: number): number {
  s.short = s.n === 0 ? x : s.short + shortAlpha * (x - s.short);
  const scale = MEAN_ABS_TO_SIGMA * s.dev + 1e-9;
  const z = s.n === 0 ? 0 : (s.short - s.mu) / scale;
  // Robust update: a burst of surprise moves the long-run level by a bounded step.
  const a = s.n < longHalfLife ? 1 / (s.n + 1) : 1 - Math.pow(2, -1 / longHalfLife);
  const r = s.short - s.mu;
  const limit = 4 * scale;
  s.mu += a * (s.n < 10 ? r : Math.max(-limit, Math.min(limit, r)));
  s.dev += a * (Math.min(Math.abs(r), 2 * limit) - s.dev);
  if (s.n < 1e9) s.n++;
  return z;
}

/** First index of an ascending array whose value is >= x (the tail rank of an empirical calibration). */
export function lowerBound(sorted: ReadonlyArray<number>, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
