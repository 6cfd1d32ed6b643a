import { AnomalyState, type AnomalyStateConfig, type AnomalyStateStep } from './anomalyState';
import { CsvInputError, CsvSignalParser } from './csvSignals';
import { DEFAULT_FUSION_CONFIG, type FusionConfig } from './fusion';
import { DEFAULT_JOINT_CONFIG, JOINT_THRESHOLD_SCORE, JointModel, jointRowsNeeded, type JointModelConfig } from './jointModel';
import { DEFAULT_BASELINE_CONFIG, type BaselineConfig } from './seasonalBaseline';
import { DEFAULT_SIGNAL_CONFIG, type SignalDetectorConfig } from './signalDetector';
import { StreamingDetector, type DetectionStep } from './streamingDetector';

/**
 * The univariate CSV profile of the detector, used by `vigil detect` and so by bench:nab: one configuration for
 * every file. It differs from the live defaults only where a single signal with no other evidence needs it:
 * contextual novelty may alarm on its own (the live agent gates it, since one noisy signal among eight would page),
 * and a value past everything seen so far earns extra evidence (spatial novelty, as in ARTime/HTM). Measured on NAB
 * (bench:nab, standard): 64.0 with the live defaults, 66.2 ungating novelty, 72.4 adding the range evidence
 * (a value past the extremes earns rangeBase sigmas plus rangeGain per range width beyond, capped at one width),
 * 73.3 with the gain 24 and fatigue below. Neighbouring settings (gain 20-32, base 1.5-2) give 71.5-73.3.
 * The seasonal baseline keeps a longer history (4,096 samples, live: 1,024) and re-estimates the period every
 * 1,024 samples (live: 512), so a daily period of 288 five-minute samples is estimated on up to 14 cycles and the
 * profile is reseeded less often: 73.3 -> 75.2. Measured on the grid of bench:nab --cv: re-estimating every 1,024
 * is most of it (history 1,024: 75.3, 4,096: 75.2); the longer history makes the score less sensitive to that
 * interval (every 512 / 2,048: 74.6 / 74.4 with 4,096, 73.3 / 74.3 with 1,024). The live agent keeps its defaults.
 */
export const CSV_BASELINE_CONFIG: BaselineConfig = { ...DEFAULT_BASELINE_CONFIG, historyLength: 4096, periodEvery: 1024 };
export const CSV_SIGNAL_CONFIG: SignalDetectorConfig = {
  ...DEFAULT_SIGNAL_CONFIG,
  noveltyGate: Number.NEGATIVE_INFINITY,
  rangeGain: 24,
  rangeBase: 1.5,
  baseline: CSV_BASELINE_CONFIG,
};
/** Alert fatigue forgets more slowly (half-life 3000 samples, live: 2000): NAB low-FP 61.5 -> 62.7, standard 72.4 -> 72.3. */
export const CSV_FUSION_CONFIG: FusionConfig = { ...DEFAULT_FUSION_CONFIG, fatigueHalfLife: 3000 };

/** Settings of the CSV profile that a benchmark may vary (its cross-validation grid); empty: the frozen profile. */
export interface CsvProfileOverrides {
  readonly signal?: Partial<Omit<SignalDetectorConfig, 'baseline'>>;
  readonly baseline?: Partial<BaselineConfig>;
  readonly fusion?: Partial<FusionConfig>;
}

/** A fresh detector with the univariate CSV profile (optionally with some of its settings changed). */
export function newCsvDetector(overrides: CsvProfileOverrides = {}): StreamingDetector {
  const signal: SignalDetectorConfig = { ...CSV_SIGNAL_CONFIG, ...overrides.signal, baseline: { ...CSV_BASELINE_CONFIG, ...overrides.baseline } };
  return new StreamingDetector({}, undefined, { ...CSV_FUSION_CONFIG, ...overrides.fusion }, signal);
}

/**
 * `is_anomaly` of the statistical stack: the state starts on the fused score's alert and lasts while the score stays
 * at or above 0.4 (after an alert the score is damped by half for a quiet period, so 0.45 is the threshold's damped
 * equivalent), ending after 3 rows below.
 */
export const CSV_STATE_CONFIG: AnomalyStateConfig = { enter: DEFAULT_FUSION_CONFIG.threshold, stay: 0.4, holdRows: 3 };
/**
 * `is_anomaly` of the multi-signal model: starts at its calibrated threshold, lasts while the score stays at or above
 * 0.8, ends after 2 rows below (bench:multisignal: stay 0.6 kept a memory total that stayed 20 % up after a leak in
 * state for the rest of the file; 3 rows of hold added a row of false alarm after every recovery).
 */
export const JOINT_STATE_CONFIG: AnomalyStateConfig = { enter: JOINT_THRESHOLD_SCORE, stay: 0.8, holdRows: 2 };

export interface CsvDetectionOptions {
  /**
   * Leading rows treated as known-normal history: learned from, reported with score 0. On a file with two or more
   * signal columns they train the multi-signal model, when there are enough of them.
   */
  readonly trainRows?: number;
  readonly detector?: StreamingDetector;
  /** What to do with a duplicate or earlier timestamp: refuse the file (default) or score the row in file order. */
  readonly disorder?: 'error' | 'keep';
  /** `statistical` scores every file with the statistical stack alone (the univariate profile); for comparisons. */
  readonly detectorKind?: 'auto' | 'statistical';
  readonly joint?: JointModelConfig;
  readonly jointState?: AnomalyStateConfig;
  readonly statisticalState?: AnomalyStateConfig;
}

export interface CsvDetectionSummary {
  readonly rows: number;
  readonly threshold: number;
  readonly unordered: number;
  /** Which detector scored the rows after training. */
  readonly detector: 'multi-signal model' | 'statistical stack';
  /** Documented skips and fallbacks, one sentence each (columns left out, too few training rows). */
  readonly notes: ReadonlyArray<string>;
}

/**
 * `vigil detect` on a stream of CSV lines, one line in, one output line out, no look-ahead. The benchmark runs
 * this same class, so the figures it prints are the figures of the command.
 */
export class CsvDetection {
  private readonly parser: CsvSignalParser;
  private readonly detector: StreamingDetector;
  private lineNo = 0;
  private rows = 0;
  /** Training rows kept for the multi-signal model until it is fitted (signals order). */
  private training: Array<Array<number | undefined>> | undefined = [];
  private joint: JointModel | undefined;
  private readonly notes: string[] = [];
  private readonly statisticalState: AnomalyState;
  private readonly jointState: AnomalyState;

  constructor(private readonly source: string, private readonly options: CsvDetectionOptions = {}) {
    this.parser = new CsvSignalParser(source, options.disorder ?? 'error');
    this.detector = options.detector ?? newCsvDetector();
    this.statisticalState = new AnomalyState(options.statisticalState ?? CSV_STATE_CONFIG);
    this.jointState = new AnomalyState(options.jointState ?? JOINT_STATE_CONFIG);
  }

  private get trainRows(): number {
    return this.options.trainRows ?? 0;
  }

  /** Feeds the next input line; returns the output line to write (the header for line 1), if any. */
  push(line: string): string | undefined {
    this.lineNo++;
    if (this.lineNo === 1) {
      this.parser.header(line);
      const signals = this.parser.signals;
      const extra = signals.length > 1 ? signals.map((s) => `,contribution_${s}`).join('') : '';
      if (signals.length < 2 || this.options.detectorKind === 'statistical') this.training = undefined;
      else if (this.trainRows === 0) {
        this.training = undefined;
        this.notes.push(`no --train-rows: the ${signals.length} signals are scored one by one by the statistical stack; pass --train-rows N (N known-normal leading rows, at least ${jointRowsNeeded(signals.length, this.options.joint)}) to use the multi-signal model`);
      }
      return `timestamp,anomaly_score,is_anomaly,alert${extra}`;
    }
    const row = this.parser.row(line, this.lineNo);
    if (!row) return undefined;
    const signals = this.parser.signals;
    const step: DetectionStep = this.detector.step(row.t, row.values);
    const training = this.rows < this.trainRows;
    if (training) this.training?.push(signals.map((s) => row.values[s]));
    else if (this.training) this.fitJoint();
    this.rows++;
    if (training) return `${row.timestamp},0,0,0${signals.length > 1 ? ',0'.repeat(signals.length) : ''}`;
    let score: number;
    let shares: ReadonlyArray<{ readonly signal: string; readonly share: number }>;
    let state: AnomalyStateStep;
    if (this.joint) {
      const j = this.joint.step(row.values);
      score = j.score;
      shares = j.contributions;
      state = this.jointState.step(score);
    } else {
      score = step.score;
      shares = step.contributions;
      state = this.statisticalState.step(score, step.isAnomaly);
    }
    let out = `${row.timestamp},${round(score)},${state.inState ? 1 : 0},${state.onset ? 1 : 0}`;
    if (signals.length > 1) {
      const share = new Map(shares.map((c) => [c.signal, c.share]));
      for (const s of signals) out += `,${round(score > 0 ? (share.get(s) ?? 0) : 0)}`;
    }
    return out;
  }

  private fitJoint(): void {
    const rows = this.training ?? [];
    this.training = undefined;
    const fit = JointModel.fit(this.parser.signals, rows, this.options.joint ?? DEFAULT_JOINT_CONFIG);
    this.notes.push(...fit.notes);
    if (fit.model) this.joint = fit.model;
    else this.notes.push(`${fit.reason}; scoring with the statistical stack alone (raise --train-rows to use the model)`);
  }

  /** Throws when the input had no header or no data row at all, or nothing was left after the training rows. */
  finish(): CsvDetectionSummary {
    if (this.lineNo === 0) this.parser.header('');
    if (this.rows === 0) throw new CsvInputError(`${this.source}: no data rows after the header; nothing to score`);
    if (this.rows <= this.trainRows) {
      throw new CsvInputError(`${this.source}: ${this.rows} data rows, but --train-rows is ${this.trainRows}: no row is left to score; pass --train-rows below ${this.rows}`);
    }
    return {
      rows: this.rows,
      threshold: this.joint ? JOINT_THRESHOLD_SCORE : this.detector.threshold,
      unordered: this.parser.unordered,
      detector: this.joint ? 'multi-signal model' : 'statistical stack',
      notes: [...this.notes],
    };
  }
}

function round(v: number): string {
  return String(Math.round(v * 1e6) / 1e6);
}
