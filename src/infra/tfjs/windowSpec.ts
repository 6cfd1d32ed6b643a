import type { SignalName } from '../../core/model/signal';

/**
 * The model's fixed input: these signals, in this order, over WINDOW_SIZE aligned steps (time-major).
 * restarts, log and probe signals are left to the rules: they are discrete events, not shapes.
 */
export const MODEL_SIGNALS: ReadonlyArray<SignalName> = [
  'request_rate',
  'error_ratio',
  'latency_p50',
  'latency_p95',
  'latency_p99',
  'cpu',
  'memory',
  'available_replicas',
];

export const WINDOW_SIZE = 12;

/** Scaled values are clipped so one wild sample cannot blow up training; ±20 robust sigmas is anomalous enough. */
export const CLIP = 20;

/**
 * Smallest scale per signal, in its own unit: a flat series (0 errors, 3 replicas) must not turn
 * a tiny wobble into a huge deviation.
 */
const MIN_SCALE: Readonly<Record<string, number>> = {
  request_rate: 0.05,
  error_ratio: 0.002,
  latency_p50: 0.002,
  latency_p95: 0.004,
  latency_p99: 0.005,
  cpu: 0.005,
  memory: 1024 * 1024,
  available_replicas: 0.25,
};

/** A window as the port passes it: windows[i][t][s], s in MODEL_SIGNALS order; NaN or null = missing. */
export type RawWindow = ReadonlyArray<ReadonlyArray<number>>;

/** Per-service robust scaling: (x - median) / scale, scale from the IQR with a floor per signal. */
export interface RobustScaler {
  readonly median: number[];
  readonly scale: number[];
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Fits the scaler on every present value of the windows (overlapping windows weigh a step several times; the quantiles do not mind). */
export function fitScaler(windows: ReadonlyArray<RawWindow>): RobustScaler {
  const columns: number[][] = MODEL_SIGNALS.map(() => []);
  for (const w of windows) {
    for (const row of w) {
      for (let s = 0; s < columns.length; s++) if (isPresent(row[s])) columns[s].push(row[s]);
    }
  }
  return scalerFromColumns(columns);
}

/** The scaler of raw values per signal (columns[s] in MODEL_SIGNALS order). */
export function scalerFromColumns(columns: ReadonlyArray<ReadonlyArray<number>>): RobustScaler {
  const median: number[] = [];
  const scale: number[] = [];
  MODEL_SIGNALS.forEach((name, s) => {
    const values = (columns[s] ?? []).filter(isPresent).sort((a, b) => a - b);
    const m = values.length ? quantile(values, 0.5) : 0;
    const iqr = values.length ? quantile(values, 0.75) - quantile(values, 0.25) : 0;
    median.push(m);
    scale.push(Math.max(iqr / 1.349, Math.abs(m) * 0.02, MIN_SCALE[name] ?? 1e-6));
  });
  return { median, scale };
}

export function isPresent(v: number | null | undefined): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/**
 * Turns windows into the flat scaled matrix the network reads, plus a mask (1 present, 0 missing).
 * Missing values become 0, the service's median, so they look normal and are left out of the error.
 */
export function scaleWindows(windows: ReadonlyArray<RawWindow>, scaler: RobustScaler): { values: Float32Array; mask: Float32Array } {
  const width = WINDOW_SIZE * MODEL_SIGNALS.length;
  const values = new Float32Array(windows.length * width);
  const mask = new Float32Array(windows.length * width);
  windows.forEach((w, i) => {
    for (let t = 0; t < WINDOW_SIZE; t++) {
      const row = w[t];
      for (let s = 0; s < MODEL_SIGNALS.length; s++) {
        const v = row[s];
        const k = i * width + t * MODEL_SIGNALS.length + s;
        if (isPresent(v)) {
          values[k] = Math.max(-CLIP, Math.min(CLIP, (v - scaler.median[s]) / scaler.scale[s]));
          mask[k] = 1;
        }
      }
    }
  });
  return { values, mask };
}

/** Checks the shape the port promises, naming the first bad window, so a caller bug reads as one clear line. */
export function checkWindows(windows: ReadonlyArray<RawWindow>): void {
  windows.forEach((w, i) => {
    if (!Array.isArray(w) || w.length !== WINDOW_SIZE) {
      throw new Error(`model window ${i} has ${Array.isArray(w) ? w.length : 'no'} steps; the model needs ${WINDOW_SIZE} time-major steps of [${MODEL_SIGNALS.join(', ')}]`);
    }
    w.forEach((row, t) => {
      if (!Array.isArray(row) || row.length !== MODEL_SIGNALS.length) {
        throw new Error(`model window ${i}, step ${t} has ${Array.isArray(row) ? row.length : 'no'} values; expected ${MODEL_SIGNALS.length}: [${MODEL_SIGNALS.join(', ')}] (NaN for a missing signal)`);
      }
    });
  });
}
