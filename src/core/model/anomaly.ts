import type { Band, SignalName } from './signal';
import type { TargetRef } from './target';

export type DetectorKind = 'rule' | 'baseline' | 'model' | 'fusion';
export type Severity = 'info' | 'warning' | 'critical';

/** How much one signal contributed to a score, so a human sees which signals moved together. */
export interface Contribution {
  readonly signal: SignalName;
  /** Share of the score in [0, 1]; contributions of one anomaly sum to about 1. */
  readonly share: number;
  readonly observed?: number;
  readonly band?: Band;
}

/** One detector's verdict on one target at one time. */
export interface Anomaly {
  readonly target: TargetRef;
  readonly t: number;
  readonly detector: DetectorKind;
  /** Calibrated score in [0, 1]. */
  readonly score: number;
  /** The detector's own decision at its own calibrated threshold. */
  readonly isAnomaly: boolean;
  readonly severity: Severity;
  readonly contributions: ReadonlyArray<Contribution>;
  /** One line a human reads: "error_ratio 0.12 > 0.05 for 1m", "memory 3.1σ above seasonal band". */
  readonly reason: string;
  /** Rule name, for rule anomalies. */
  readonly rule?: string;
}
