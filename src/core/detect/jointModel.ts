import { MAD_TO_SIGMA, alphaForHalfLife, lowerBound } from './robustStats';

/**
 * The multi-signal model of `vigil detect`: the joint normal behaviour of all signal columns, learned on a
 * known-normal prefix. Each signal is robustly standardised on the training rows (after a causal median of its last
 * `smoothRows` values, so a one-row spike is the statistical stack's business); principal components keep
 * `varianceKept` of the variance; a row is scored by Hotelling's T² inside the components and the residual Q
 * outside them (a broken relationship: each signal may be in its range while their combination is not), each over
 * its reference level, smoothed over the last rows. The threshold is calibrated on the training rows' own
 * out-of-sample scores (two interleaved folds: each half is scored by the model fitted on the other), so it is set by
 * a target false-alarm rate, not a constant. Pure, streaming, no look-ahead. PCA rather than an autoencoder by
 * measurement (scripts/bench/multisignalAutoencoder.ts: the autoencoder, otherwise identical, scored F1 0.869 with
 * 10.5 % false alarms on the bench:multisignal corpus against 0.955 and 4.0 %).
 */
export interface JointModelConfig {
  /** Share of the standardised variance the principal components keep. */
  readonly varianceKept: number;
  /** Causal median over this many rows per signal (1: off). */
  readonly smoothRows: number;
  /** Half-life, in rows, of the average of the row statistic. */
  readonly scoreHalfLife: number;
  /** Share of (out-of-sample) training rows whose smoothed statistic may reach the threshold. */
  readonly falseAlarmRate: number;
  /** Standardised values are clipped to ±clip, so one wild value cannot dominate. */
  readonly clip: number;
  /** The model needs at least max(minRows, rowsPerSignal × signals) training rows. */
  readonly minRows: number;
  readonly rowsPerSignal: number;
  /**
   * The first components left out of T² (0: none). The live loop leaves out the leading one, the load that moves
   * every signal together over the day and the week: levels are the per-signal baselines' business, the live model
   * watches relationships.
   */
  readonly levelComponents?: number;
  /**
   * Smallest scale of a signal, as a share of its training median (0: none). The live loop learns from a short
   * stretch (20 minutes) in which traffic may barely move: without a floor, the next hour's ordinary 1 % drift would
   * be many of those minutes' sigmas.
   */
  readonly minScaleShare?: number;
  /**
   * Measure every signal with a level in units of minScaleShare of that level, not of its spread (the live loop). Over
   * a day the load moves every signal by tens of percent, so in units of its spread a pod burning a third more CPU per
   * request is a fraction of a unit off the usual line; in units of the level it is several, while the day's common
   * swing stays in the leading component that T² leaves out. Signals with no level (median 0) keep their spread.
   */
  readonly scaleByLevel?: boolean;
  /**
   * Smallest departure that may reach the threshold, in squared standardised units (0: none): the variance of every
   * component is at least a ninth of it and the T² and Q references at least it. With minScaleShare 0.05 and 9, a row
   * must move three times 5 % of the signals' levels off their usual relationship however steady the training was.
   */
  readonly minDeparture?: number;
  /**
   * Half-life, in rows, of an average of the standardised row itself, taken before it is projected and squared (0 or
   * none: each row alone). A broken relationship persists and adds up row after row in the same direction, while the
   * noise of each row (a counter's rounding, a few requests more or fewer in the last interval) points anywhere and
   * cancels out; squared first, as T² and Q are, the noise of each row counts as much as the break (MEWMA, Lowry 1992).
   */
  readonly vectorHalfLife?: number;
  /**
   * Departures carried by these signals alone (`share` or more of a row's departure) are set aside (none: every
   * departure counts): such a training row sets no Q reference, and its departure counts at most 0 (it may show a
   * row at or below its reference, never one above it). The live loop sets aside the latency quantiles (see
   * LATENCY_ALONE in loop/jointEvidence.ts): one p99 jump among a few hundred training rows (their 0.1 % tail is their
   * largest) had set the Q reference of every signal.
   */
  readonly setAside?: SetAside;
}

/** Signals whose departure alone does not count (see JointModelConfig.setAside). */
export interface SetAside {
  readonly signals: ReadonlyArray<string>;
  /** Share of the departure they must carry together to be set aside. */
  readonly share: number;
}

/**
 * True when `aside`'s signals carry `aside.share` or more of a departure, given each signal's share of it (as a list,
 * or by signal name as a ModelScore's contributions).
 */
export function carriedAlone(contributions: ReadonlyArray<{ readonly signal: string; readonly share: number }> | Readonly<Partial<Record<string, number>>>, aside: SetAside | undefined): boolean {
  if (!aside) return false;
  const entries: ReadonlyArray<readonly [string, number | undefined]> = Array.isArray(contributions) ? contributions.map((c) => [c.signal, c.share] as const) : Object.entries(contributions);
  let share = 0;
  for (const [signal, s] of entries) if (aside.signals.includes(signal)) share += s ?? 0;
  return share >= aside.share;
}

/** A departure as it counts: at most 0 when carried by set-aside signals alone. */
export function countedDeparture(departure: number, contributions: ReadonlyArray<{ readonly signal: string; readonly share: number }>, aside: SetAside | undefined): number {
  return carriedAlone(contributions, aside) ? Math.min(departure, 0) : departure;
}

/**
 * One configuration for every file, chosen on bench:multisignal (seeds fixed before tuning). Measured there: keeping
 * 95 % of the variance misses the cpu-hog fault entirely (CPU per request is a low-variance direction that Q, swamped by
 * the noisy latency quantiles, cannot see; F1 0.89 → 0.95 at 99 %); clipping z at 10 caps a tenfold latency spike below
 * the threshold of a heavy-tailed reference (clip 100); a half-life of 2 rows or a 0.5 % target adds trailing rows after
 * recovery (false alarms 6.4 % and 6.2 % against 3.9 %).
 */
export const DEFAULT_JOINT_CONFIG: JointModelConfig = {
  varianceKept: 0.99,
  smoothRows: 3,
  scoreHalfLife: 1,
  falseAlarmRate: 0.001,
  clip: 100,
  minRows: 60,
  rowsPerSignal: 10,
};

/** Score of a row whose smoothed statistic sits exactly at the calibrated threshold. */
export const JOINT_THRESHOLD_SCORE = 0.9;

export interface JointStep {
  /** In [0, 1]; JOINT_THRESHOLD_SCORE at the calibrated threshold. */
  readonly score: number;
  /** Share of the departure per signal (sums to 1 when the row departs at all). */
  readonly contributions: ReadonlyArray<{ readonly signal: string; readonly share: number }>;
  /**
   * This row's own departure, unsmoothed: log of the largest of T², Q (and constant columns) over its reference (0: at
   * it); at most 0 when set-aside signals carry it alone (JointModelConfig.setAside).
   */
  readonly departure: number;
}

export type JointFit = { readonly model: JointModel; readonly notes: ReadonlyArray<string> } | { readonly model: undefined; readonly reason: string; readonly notes: ReadonlyArray<string> };

/** Rows the model needs to learn `signals` columns. */
export function jointRowsNeeded(signals: number, config: JointModelConfig = DEFAULT_JOINT_CONFIG): number {
  return Math.max(config.minRows, config.rowsPerSignal * signals);
}

interface Standardiser {
  readonly median: number[];
  readonly scale: number[];
}

interface Pca {
  readonly mean: number[];
  /** k components, each of length d. */
  readonly components: number[][];
  readonly eigenvalues: number[];
}

export class JointModel {
  private readonly history: number[][];
  private smoothed: number | undefined;
  private readonly alpha: number;
  /** The average of the standardised rows (vectorHalfLife), over the varying columns. */
  private zAverage: number[] | undefined;

  private constructor(
    /** Names of the signals the model uses, in its column order. */
    readonly signals: ReadonlyArray<string>,
    private readonly std: Standardiser,
    /** Columns in the principal components, and columns constant in training (judged on their own). */
    private readonly varying: ReadonlyArray<number>,
    private readonly constant: ReadonlyArray<number>,
    private readonly pca: Pca,
    /** Reference levels of T² and Q (their (1 - falseAlarmRate) quantiles out of sample). */
    private readonly t2Ref: number,
    private readonly qRef: number,
    /** Smoothed out-of-sample statistics of the training rows, sorted. */
    private readonly calibration: number[],
    private readonly config: JointModelConfig,
    /** The training rows' out-of-sample departures (JointStep.departure), in row order: a sequential test calibrates on them. */
    readonly calibrationDepartures: ReadonlyArray<number>,
  ) {
    this.history = signals.map(() => []);
    this.alpha = alphaForHalfLife(config.scoreHalfLife);
  }

  /**
   * Learns the joint behaviour of `rows` (values in `names` order; undefined or non-finite = missing). A column empty
   * throughout is left out; a constant column is kept with a scale of 1 % of its level, so any later change of it
   * counts as a departure. Refuses (with the reason) when too few rows or usable signals are left.
   */
  static fit(names: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<number | undefined>>, config: JointModelConfig = DEFAULT_JOINT_CONFIG): JointFit {
    const notes: string[] = [];
    const keep: number[] = [];
    names.forEach((name, j) => {
      const present = rows.filter((r) => isNum(r[j])).length;
      if (present === 0) notes.push(`column "${name}" is empty in all ${rows.length} training rows; the multi-signal model leaves it out`);
      else keep.push(j);
    });
    const signals = keep.map((j) => names[j]);
    if (signals.length < 2) return { model: undefined, reason: `${signals.length} signal column(s) with values in the training rows; the multi-signal model needs 2 or more`, notes };
    const need = jointRowsNeeded(signals.length, config);
    if (rows.length < need) {
      return { model: undefined, reason: `${rows.length} training rows; the multi-signal model needs at least ${need} for ${signals.length} signals (${config.rowsPerSignal} per signal, ${config.minRows} at least)`, notes };
    }
    const raw = rows.map((r) => keep.map((j) => (isNum(r[j]) ? (r[j] as number) : NaN)));
    const smooth = smoothColumns(raw, config.smoothRows);
    const std = standardiser(smooth, config.minScaleShare ?? 0, config.scaleByLevel ?? false);
    const constant: number[] = [];
    std.scale.forEach((s, c) => {
      if (s >= 0) return;
      std.scale[c] = constantScale(std.median[c]);
      constant.push(c);
      notes.push(`column "${signals[c]}" is constant (${std.median[c]}) over the training rows: it is judged on its own, a change of more than ${Math.round(100 * CONSTANT_SIGMAS * CONSTANT_SHARE)} % of its level (any change from 0) counts as a departure`);
    });
    const varying = signals.map((_, c) => c).filter((c) => !constant.includes(c));
    if (varying.length === 0) return { model: undefined, reason: 'every signal column is constant over the training rows; there is no joint behaviour to learn', notes };
    // a missing value is taken as normal (z 0), as when scoring
    const z = averageRows(
      smooth.map((r) => varying.map((c) => (Number.isFinite(r[c]) ? clipZ((r[c] - std.median[c]) / std.scale[c], config.clip) : 0))),
      config.vectorHalfLife ?? 0,
    );
    // two interleaved folds of ten blocks: each half is scored by the model fitted on the other
    const block = Math.max(1, Math.floor(z.length / 10));
    const fold = z.map((_, i) => Math.floor(i / block) % 2);
    const out: Array<ReturnType<typeof statistics>> = new Array(z.length);
    for (const f of [0, 1]) {
      const pca = fitPca(z.filter((_, i) => fold[i] !== f), config.varianceKept, (config.minDeparture ?? 0) / 9);
      z.forEach((row, i) => {
        if (fold[i] !== f) return;
        out[i] = statistics(pca, row, config.levelComponents ?? 0);
      });
    }
    const q = 1 - config.falseAlarmRate;
    const refsOf = (rows: ReadonlyArray<ReturnType<typeof statistics>>) => ({
      t2Ref: Math.max(quantile(rows.map((s) => s.t2).sort(byNumber), q), config.minDeparture ?? 0, 1e-9),
      qRef: Math.max(quantile(rows.map((s) => s.q).sort(byNumber), q), config.minDeparture ?? 0, 1e-9),
    });
    const all = refsOf(out);
    const t2Ref = all.t2Ref;
    let qRef = all.qRef;
    // Rows whose departure (judged against the references of all rows) set-aside signals carry alone set no Q
    // reference. Q pools what every signal leaves outside the components, so one signal's heavy tail sets it for all;
    // T² is already scaled per component by that component's own variance.
    const columns = varying.map((c) => signals[c]);
    const aside = out.map((s) => carriedAlone(shares(s, t2Ref, qRef).map((share, i) => ({ signal: columns[i], share })), config.setAside));
    if (aside.some(Boolean) && !aside.every(Boolean)) qRef = refsOf(out.filter((_, i) => !aside[i])).qRef;
    const alpha = alphaForHalfLife(config.scoreHalfLife);
    let e: number | undefined;
    const departures = out.map((s, i) => (aside[i] ? Math.min(0, rowStatistic(s.t2, s.q, t2Ref, qRef)) : rowStatistic(s.t2, s.q, t2Ref, qRef)));
    const calibration = departures.map((r) => {
      e = e === undefined ? r : e + alpha * (r - e);
      return e;
    });
    calibration.sort(byNumber);
    const model = new JointModel(signals, std, varying, constant, fitPca(z, config.varianceKept, (config.minDeparture ?? 0) / 9), t2Ref, qRef, calibration, config, departures);
    // the live history of the medians starts with the training rows' last values
    for (let c = 0; c < signals.length; c++) model.history[c] = raw.slice(-config.smoothRows).map((r) => r[c]);
    model.smoothed = calibration.length ? quantile(calibration, 0.5) : undefined;
    if (config.vectorHalfLife) model.zAverage = [...z[z.length - 1]];
    return { model, notes };
  }

  /** The smoothed statistic at the threshold: the (1 - falseAlarmRate) quantile of the calibration rows. */
  get threshold(): number {
    return quantile(this.calibration, 1 - this.config.falseAlarmRate);
  }

  /** Components kept. */
  get components(): number {
    return this.pca.components.length;
  }

  /** Scores the next row (values by signal name; missing ones are taken as normal). */
  step(values: Readonly<Record<string, number | undefined>>): JointStep {
    const x = this.signals.map((name, c) => {
      const h = this.history[c];
      const v = values[name];
      h.push(isNum(v) ? v : NaN);
      if (h.length > this.config.smoothRows) h.shift();
      return causalMedian(h);
    });
    const zOf = (c: number) => (Number.isFinite(x[c]) ? clipZ((x[c] - this.std.median[c]) / this.std.scale[c], this.config.clip) : 0);
    let zRow = this.varying.map(zOf);
    if (this.zAverage) {
      const a = alphaForHalfLife(this.config.vectorHalfLife ?? 0);
      zRow = this.zAverage = this.zAverage.map((v, i) => v + a * (zRow[i] - v));
    }
    const s = statistics(this.pca, zRow, this.config.levelComponents ?? 0);
    let fixed = 0;
    for (const c of this.constant) fixed += zOf(c) ** 2;
    const r = rowStatistic(s.t2, s.q, this.t2Ref, this.qRef, fixed);
    this.smoothed = this.smoothed === undefined ? r : this.smoothed + this.alpha * (r - this.smoothed);
    const score = this.scoreOf(this.smoothed);
    const parts = new Array<number>(this.signals.length).fill(0);
    const varyingParts = shares(s, this.t2Ref, this.qRef, false);
    this.varying.forEach((c, i) => (parts[c] = varyingParts[i]));
    for (const c of this.constant) parts[c] = zOf(c) ** 2 / CONSTANT_SIGMAS ** 2;
    const total = parts.reduce((a, b) => a + b, 0);
    const contributions = this.signals.map((signal, c) => ({ signal, share: total > 0 ? parts[c] / total : 0 }));
    return { score, contributions, departure: countedDeparture(r, contributions, this.config.setAside) };
  }

  /**
   * Score of a smoothed statistic from its tail probability p among the calibration rows (an exponential tail past
   * their 90th percentile, so values beyond anything seen still rank): 0.9 × log p / log falseAlarmRate, capped at 1.
   */
  private scoreOf(e: number): number {
    const score = calibratedScore(this.calibration, e, this.config.falseAlarmRate);
    // below the smallest departure (statistic under its floored reference), never at the threshold
    return this.config.minDeparture && e < 0 ? Math.min(score, JOINT_THRESHOLD_SCORE * Math.exp(e)) : score;
  }

}

/**
 * Score of a statistic from its tail probability p among calibration values (sorted; an exponential tail past their
 * 90th percentile, so values beyond anything seen still rank): 0.9 × log p / log falseAlarmRate, capped at 1.
 */
export function calibratedScore(sorted: ReadonlyArray<number>, e: number, falseAlarmRate: number): number {
  const n = sorted.length;
  const iu = Math.floor((n - 1) * 0.9);
  const u = sorted[iu];
  let p: number;
  if (e <= u) p = (n - lowerBound(sorted, e) + 1) / (n + 1);
  else {
    let excess = 0;
    for (let i = iu + 1; i < n; i++) excess += sorted[i] - u;
    const beta = Math.max(n - iu - 1 > 0 ? excess / (n - iu - 1) : 0, Math.abs(u) * 0.05, 1e-9);
    p = ((n - iu) / (n + 1)) * Math.exp(-(e - u) / beta);
  }
  const score = (JOINT_THRESHOLD_SCORE * Math.log(Math.max(p, 1e-300))) / Math.log(falseAlarmRate);
  return Math.max(0, Math.min(1, score));
}

/** Each varying signal's part of a row's departure (residual over the Q reference, T² part over its own), as shares when `normalise`. */
function shares(s: { readonly residual: ReadonlyArray<number>; readonly t2Part: ReadonlyArray<number> }, t2Ref: number, qRef: number, normalise = true): number[] {
  const parts = s.residual.map((r, i) => (r * r) / qRef + Math.max(0, s.t2Part[i]) / t2Ref);
  if (!normalise) return parts;
  const total = parts.reduce((a, b) => a + b, 0);
  return parts.map((p) => (total > 0 ? p / total : 0));
}

/** The row's departure: the largest of T², Q and the constant columns' squared z over their reference levels, in log units. */
function rowStatistic(t2: number, q: number, t2Ref: number, qRef: number, fixed = 0): number {
  return Math.log(Math.max(t2 / t2Ref, q / qRef, fixed / CONSTANT_SIGMAS ** 2, 1e-6));
}

/** Each row replaced by the exponentially weighted average of the rows up to it (halfLife 0: unchanged). */
function averageRows(rows: number[][], halfLife: number): number[][] {
  if (!(halfLife > 0)) return rows;
  const a = alphaForHalfLife(halfLife);
  let avg: number[] | undefined;
  return rows.map((r) => (avg = avg ? avg.map((v, i) => v + a * (r[i] - v)) : [...r]));
}

function clipZ(z: number, clip: number): number {
  return z > clip ? clip : z < -clip ? -clip : z;
}

function isNum(v: number | undefined): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function byNumber(a: number, b: number): number {
  return a - b;
}

function quantile(sorted: ReadonlyArray<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}


/** Median of the finite values (NaN when none). */
function causalMedian(h: ReadonlyArray<number>): number {
  const xs = h.filter(Number.isFinite).sort(byNumber);
  if (xs.length === 0) return NaN;
  const m = xs.length >> 1;
  return xs.length % 2 ? xs[m] : (xs[m - 1] + xs[m]) / 2;
}

function smoothColumns(raw: ReadonlyArray<ReadonlyArray<number>>, w: number): number[][] {
  return raw.map((row, i) => row.map((v, c) => (Number.isFinite(v) ? causalMedian(raw.slice(Math.max(0, i - w + 1), i + 1).map((r) => r[c])) : NaN)));
}

/** Median and robust scale per column; scale -1 marks a constant column. */
function standardiser(rows: ReadonlyArray<ReadonlyArray<number>>, minScaleShare: number, byLevel: boolean): Standardiser {
  const d = rows[0]?.length ?? 0;
  const median: number[] = [];
  const scale: number[] = [];
  for (let c = 0; c < d; c++) {
    const xs = rows.map((r) => r[c]).filter(Number.isFinite).sort(byNumber);
    const m = quantile(xs, 0.5);
    const iqr = (quantile(xs, 0.75) - quantile(xs, 0.25)) / 1.349;
    const mad = MAD_TO_SIGMA * quantile(xs.map((x) => Math.abs(x - m)).sort(byNumber), 0.5);
    let sd = 0;
    for (const x of xs) sd += (x - m) * (x - m);
    sd = Math.sqrt(sd / Math.max(1, xs.length - 1));
    // a mostly flat column with rare moves has no IQR: fall back on its standard deviation
    const s = Math.max(iqr, mad) || sd;
    median.push(m);
    const level = minScaleShare * Math.abs(m);
    scale.push(s > Math.max(Math.abs(m) * 1e-4, 1e-9) ? (byLevel && level > 0 ? level : Math.max(s, level)) : -1);
  }
  return { median, scale };
}

/**
 * A column constant in training has no spread to learn: its scale is CONSTANT_SHARE of its level, and its squared z
 * over CONSTANT_SIGMAS² is a departure of its own (3 × 10 %: a replica count going from 3 to 2 departs, a memory
 * total moving by a few percent when pods are replaced does not).
 */
const CONSTANT_SHARE = 0.1;
const CONSTANT_SIGMAS = 3;

function constantScale(level: number): number {
  return Math.max(Math.abs(level) * CONSTANT_SHARE, 1e-6);
}

function fitPca(z: ReadonlyArray<ReadonlyArray<number>>, varianceKept: number, minEigenvalue = 0): Pca {
  const n = z.length;
  const d = z[0].length;
  const mean = new Array<number>(d).fill(0);
  for (const r of z) for (let c = 0; c < d; c++) mean[c] += r[c] / n;
  const cov = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  for (const r of z) {
    for (let a = 0; a < d; a++) {
      const da = r[a] - mean[a];
      for (let b = a; b < d; b++) cov[a][b] += (da * (r[b] - mean[b])) / Math.max(1, n - 1);
    }
  }
  for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) cov[a][b] = cov[b][a];
  const { values, vectors } = symmetricEigen(cov);
  const total = values.reduce((s, v) => s + Math.max(0, v), 0);
  // a floor on the eigenvalues: a direction with no variance in training must not divide by ~0
  const floor = Math.max(total * 1e-3, 1e-6, minEigenvalue);
  let acc = 0;
  let k = 0;
  while (k < d - 1 && acc < varianceKept * total) acc += Math.max(0, values[k++]);
  return { mean, components: vectors.slice(0, Math.max(1, k)), eigenvalues: values.slice(0, Math.max(1, k)).map((v) => Math.max(v, floor)) };
}

/** T² (without the first `skip` components), Q, the residual per signal and each signal's part of T². */
function statistics(pca: Pca, z: ReadonlyArray<number>, skip = 0): { t2: number; q: number; residual: number[]; t2Part: number[] } {
  const d = z.length;
  const x = z.map((v, c) => v - pca.mean[c]);
  const residual = [...x];
  const t2Part = new Array<number>(d).fill(0);
  let t2 = 0;
  pca.components.forEach((p, i) => {
    let s = 0;
    for (let c = 0; c < d; c++) s += p[c] * x[c];
    for (let c = 0; c < d; c++) residual[c] -= s * p[c];
    if (i < skip) return;
    t2 += (s * s) / pca.eigenvalues[i];
    for (let c = 0; c < d; c++) t2Part[c] += (x[c] * p[c] * s) / pca.eigenvalues[i];
  });
  let q = 0;
  for (const r of residual) q += r * r;
  return { t2, q, residual, t2Part };
}

/** Eigen-decomposition of a symmetric matrix (cyclic Jacobi), eigenvalues descending, eigenvectors as rows. */
export function symmetricEigen(matrix: ReadonlyArray<ReadonlyArray<number>>): { values: number[]; vectors: number[][] } {
  const d = matrix.length;
  const a = matrix.map((r) => [...r]);
  const v: number[][] = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += a[p][q] * a[p][q];
    if (off < 1e-22) break;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        if (Math.abs(a[p][q]) < 1e-300) continue;
        const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          const akp = a[k][p];
          const akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = a[p][k];
          const aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k][p];
          const vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = a.map((_, i) => i).sort((i, j) => a[j][j] - a[i][i]);
  return { values: order.map((i) => a[i][i]), vectors: order.map((i) => v.map((row) => row[i])) };
}
