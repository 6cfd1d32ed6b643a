/**
 * Seasonal period from the data's own autocorrelation, in samples. No wall-clock assumption: a sandbox "day" of
 * 120 s at a 15 s step is a period of 8, a real day at 5 min is 288.
 */
export interface PeriodOptions {
  readonly minLag?: number;
  readonly maxLag?: number;
  /** Lowest autocorrelation a peak needs to count as seasonality. */
  readonly minCorrelation?: number;
}

/** Returns the detected period in samples, or 0 when the series shows no clear seasonality. */
export function detectPeriod(values: ArrayLike<number>, options: PeriodOptions = {}): number {
  const n = values.length;
  const minLag = Math.max(2, options.minLag ?? 4);
  const maxLag = Math.min(options.maxLag ?? Math.floor(n / 2), Math.floor(n / 2));
  const minCorr = options.minCorrelation ?? 0.3;
  if (maxLag <= minLag + 1) return 0;
  const x = detrend(values);
  let energy = 0;
  for (let i = 0; i < n; i++) energy += x[i] * x[i];
  if (energy <= 1e-12) return 0;
  const acf = new Float64Array(maxLag + 2);
  for (let lag = minLag - 1; lag <= maxLag + 1 && lag < n; lag++) {
    let s = 0;
    for (let i = lag; i < n; i++) s += x[i] * x[i - lag];
    // Unbiased normalisation so longer lags are not penalised for having fewer pairs.
    acf[lag] = (s / (n - lag)) / (energy / n);
  }
  let bestLag = 0;
  let bestCorr = minCorr;
  for (let lag = minLag; lag <= maxLag; lag++) {
    const c = acf[lag];
    if (c > acf[lag - 1] && c >= acf[lag + 1] && c > bestCorr) {
      bestCorr = c;
      bestLag = lag;
    }
  }
  if (bestLag === 0) return 0;
  // Multiples of the true period peak too; prefer the shortest peak that is nearly as strong.
  for (let lag = minLag; lag < bestLag; lag++) {
    const c = acf[lag];
    if (c > acf[lag - 1] && c >= acf[lag + 1] && c >= 0.9 * bestCorr && isNearDivisor(bestLag, lag)) return lag;
  }
  return bestLag;
}

function isNearDivisor(big: number, small: number): boolean {
  const k = Math.round(big / small);
  return k >= 2 && Math.abs(big - k * small) <= Math.max(1, 0.02 * big);
}

/** Removes the least-squares line so a trend does not read as correlation at every lag. */
function detrend(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sx += i;
    sy += values[i];
    sxx += i * i;
    sxy += i * values[i];
  }
  const den = n * sxx - sx * sx;
  const slope = den === 0 ? 0 : (n * sxy - sx * sy) / den;
  const intercept = (sy - slope * sx) / n;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = values[i] - (intercept + slope * i);
  return out;
}
