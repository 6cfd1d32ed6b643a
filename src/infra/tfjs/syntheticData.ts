import { SeededRandom } from './random';
import { MODEL_SIGNALS, WINDOW_SIZE, type RawWindow } from './windowSpec';

/**
 * Seeded synthetic "normal" history of a service, one row per minute in MODEL_SIGNALS order:
 * daily seasonal traffic (a fundamental plus a harmonic, AR(1) drift, 4% noise); p50 latency
 * rises with the square of load, p95/p99 follow p50 with their own noise; cpu is a floor per
 * replica plus a cost per request; memory is flat with 1% noise; the error ratio is a small
 * noisy level; available replicas are constant. Some services miss one signal entirely.
 */
export const STEPS_PER_DAY = 1440;

export interface SyntheticService {
  readonly name: string;
  /** rows[t][s], NaN where the signal is missing. */
  readonly rows: number[][];
}

export function syntheticService(seed: number, days: number, name = `svc-${seed}`): SyntheticService {
  const rng = new SeededRandom(seed);
  const between = (lo: number, hi: number) => lo + (hi - lo) * rng.next();
  const baseRate = Math.exp(between(Math.log(2), Math.log(800)));
  const amplitude = between(0.3, 0.7);
  const phase = between(0, 2 * Math.PI);
  const phase2 = between(0, 2 * Math.PI);
  const latency0 = between(0.008, 0.25);
  const k95 = between(1.8, 2.6);
  const k99 = between(1.3, 1.8);
  const errors0 = between(0.0003, 0.006);
  const replicas = Math.floor(between(1, 7));
  const cpuFloor = between(0.02, 0.1);
  const cpuPerRequest = between(0.0005, 0.004);
  const memory0 = between(64, 1024) * 1024 * 1024;
  const missing = rng.next() < 0.2 ? MODEL_SIGNALS.indexOf((['error_ratio', 'latency_p95', 'latency_p99', 'memory'] as const)[Math.floor(rng.next() * 4)]) : -1;

  const rows: number[][] = [];
  let drift = 0;
  for (let t = 0; t < days * STEPS_PER_DAY; t++) {
    const angle = (2 * Math.PI * t) / STEPS_PER_DAY;
    drift = 0.98 * drift + 0.006 * rng.gaussian();
    const shape = 1 + amplitude * Math.sin(angle + phase) + 0.15 * amplitude * Math.sin(2 * angle + phase2);
    const rate = Math.max(0, baseRate * shape * (1 + drift + 0.04 * rng.gaussian()));
    const load = rate / baseRate;
    const p50 = latency0 * (1 + 0.3 * load * load) * (1 + 0.05 * rng.gaussian());
    const p95 = p50 * k95 * (1 + 0.08 * Math.abs(rng.gaussian()));
    const p99 = p95 * k99 * (1 + 0.12 * Math.abs(rng.gaussian()));
    const errorRatio = Math.max(0, errors0 * (1 + 0.5 * rng.gaussian()));
    const cpu = Math.max(0, (replicas * cpuFloor + rate * cpuPerRequest) * (1 + 0.05 * rng.gaussian()));
    const memory = memory0 * (1 + 0.01 * rng.gaussian());
    const row = [rate, errorRatio, p50, p95, p99, cpu, memory, replicas];
    if (missing >= 0) row[missing] = NaN;
    rows.push(row);
  }
  return { name, rows };
}

/** Sliding windows over rows[from, to) every `stride` steps. */
export function windowsOf(rows: ReadonlyArray<ReadonlyArray<number>>, stride = 1, from = 0, to = rows.length): RawWindow[] {
  const out: RawWindow[] = [];
  for (let start = from; start + WINDOW_SIZE <= to; start += stride) out.push(rows.slice(start, start + WINDOW_SIZE));
  return out;
}

/**
 * A copy of a normal window where, over its last `steps` steps, the named signals ramp up to
 * `factor` times their value (latency and memory for a leak, error ratio for a bad release...).
 */
export function injectRamp(window: RawWindow, signals: ReadonlyArray<(typeof MODEL_SIGNALS)[number]>, factor: number, steps = WINDOW_SIZE / 2): number[][] {
  const cols = signals.map((s) => MODEL_SIGNALS.indexOf(s));
  return window.map((row, t) => {
    const copy = [...row];
    const k = t - (WINDOW_SIZE - steps) + 1;
    if (k > 0) for (const c of cols) copy[c] = row[c] * (1 + ((factor - 1) * k) / steps);
    return copy;
  });
}
