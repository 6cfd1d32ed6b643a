/**
 * Turns a reconstruction error into a calibrated score in [0, 1] against the service's own recent
 * errors on normal data: an empirical tail probability p (exponential tail fitted above the 90th
 * percentile, so errors beyond anything seen still rank), then score = logistic(2·(−log10 p − 3)).
 * A typical normal window scores ≈ 0; p = 1e-3 scores 0.5; a normal window reaches 0.9 about once in 10,000.
 */
import { lowerBound } from '../../core/detect/robustStats';
export const CALIBRATION_CAPACITY = 2000;
const TAIL_QUANTILE = 0.9;
const MIN_ERRORS = 20;

export interface CalibrationState {
  /** Recent errors on normal windows, oldest first. */
  readonly errors: number[];
}

export class ErrorCalibration {
  private errors: number[];
  private sorted: number[] | undefined;

  constructor(state?: CalibrationState) {
    this.errors = state ? state.errors.filter((e) => Number.isFinite(e)).slice(-CALIBRATION_CAPACITY) : [];
  }

  get size(): number {
    return this.errors.length;
  }

  /** Adds errors of windows known to be normal; the oldest fall out past the capacity. */
  add(errors: Iterable<number>): void {
    for (const e of errors) if (Number.isFinite(e)) this.errors.push(e);
    if (this.errors.length > CALIBRATION_CAPACITY) this.errors.splice(0, this.errors.length - CALIBRATION_CAPACITY);
    this.sorted = undefined;
  }

  /** Replaces the reservoir, e.g. after a fine-tune changed the model. */
  reset(errors: Iterable<number>): void {
    this.errors = [];
    this.add(errors);
  }

  /** Probability that a normal window's error is at least `error`. */
  tailProbability(error: number): number {
    const sorted = this.sortedErrors();
    const n = sorted.length;
    if (n < MIN_ERRORS) return error > 0 ? Math.exp(-error) : 1; // no history yet: a unit exponential, deliberately lenient
    const iu = Math.floor((n - 1) * TAIL_QUANTILE);
    const u = sorted[iu];
    if (error <= u) return (n - lowerBound(sorted, error) + 1) / (n + 1);
    let excess = 0;
    for (let i = iu + 1; i < n; i++) excess += sorted[i] - u;
    const tailCount = n - iu - 1;
    const beta = Math.max(tailCount > 0 ? excess / tailCount : 0, u * 0.05, 1e-9);
    return ((tailCount + 1) / (n + 1)) * Math.exp(-(error - u) / beta);
  }

  score(error: number): number {
    if (!Number.isFinite(error)) return 1;
    const surprise = -Math.log10(Math.max(this.tailProbability(error), 1e-300));
    return 1 / (1 + Math.exp(-2 * (surprise - 3)));
  }

  quantile(q: number): number {
    const sorted = this.sortedErrors();
    if (sorted.length === 0) return NaN;
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round((sorted.length - 1) * q)))];
  }

  toJSON(): CalibrationState {
    return { errors: [...this.errors] };
  }

  private sortedErrors(): number[] {
    if (!this.sorted) this.sorted = [...this.errors].sort((a, b) => a - b);
    return this.sorted;
  }
}

