/**
 * NAB benchmark: runs `vigil detect`'s code path (CsvDetection) on every NAB file, one configuration for the
 * whole corpus, no look-ahead, and scores it with the published NAB rules (scripts/bench/nabScorer.ts).
 *
 *   npm run bench:nab -- --data ../shared/benchmarks/nab [--cv] [--out scores.json] [--per-file]
 *
 * It also prints the live defaults' score (the agent's detector) and, with --cv, a 2-fold cross-validation over
 * CV_GRID, so the frozen figure can be told apart from a fit to the 58 files.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CsvDetection, newCsvDetector, type CsvProfileOverrides } from '../../src/core/detect/csvDetection';
import { parseTimestamp } from '../../src/core/detect/csvSignals';
import { StreamingDetector } from '../../src/core/detect/streamingDetector';
import {
  NAB_PROFILES,
  breakdown,
  optimiseThreshold,
  scoreAtThreshold,
  windowsToRows,
  type CostProfile,
  type NabFile,
  type ProfileResult,
  type ThresholdResult,
} from './nabScorer';

const PUBLISHED: ReadonlyArray<readonly [string, number, number, number]> = [
  ['ARTime', 74.9, 65.1, 80.4],
  ['Numenta HTM', 70.5, 62.6, 75.2],
  ['CAD OSE', 69.9, 67.0, 73.2],
  ['earthgecko Skyline', 58.2, 46.2, 63.9],
  ['KNN CAD', 58.0, 43.4, 64.8],
  ['Relative Entropy', 54.6, 47.6, 58.8],
  ['Random Cut Forest', 51.7, 38.4, 59.7],
  ['Twitter ADVec', 47.1, 33.6, 53.5],
  ['Windowed Gaussian', 39.6, 20.9, 47.4],
  ['Random', 11.0, 1.2, 19.5],
];

/** One NAB file read from disk: its lines and its labelled windows (epoch ms, inclusive). */
interface CorpusFile {
  readonly name: string;
  readonly path: string;
  readonly lines: ReadonlyArray<string>;
  readonly limits: ReadonlyArray<readonly [number, number]>;
}

export interface ScoredFile extends NabFile {
  /** Rows whose timestamp repeats or goes back, scored in file order (`vigil detect --keep-unordered`). */
  readonly unordered: number;
}

/** Runs the detector over one file exactly as `vigil detect --keep-unordered` does and returns the anomaly_score column. */
export function scoreLines(source: string, lines: ReadonlyArray<string>, detector: StreamingDetector = newCsvDetector()): { timestamps: number[]; scores: number[]; unordered: number } {
  const detection = new CsvDetection(source, { disorder: 'keep', detector });
  const timestamps: number[] = [];
  const scores: number[] = [];
  for (const line of lines) {
    const out = detection.push(line);
    if (out === undefined || out.startsWith('timestamp,')) continue;
    const [ts, score] = out.split(',');
    timestamps.push(parseTimestamp(ts) ?? NaN);
    scores.push(Number(score));
  }
  const { unordered } = detection.finish();
  return { timestamps, scores, unordered };
}

export function scoreFile(file: string, detector?: StreamingDetector): { timestamps: number[]; scores: number[]; unordered: number } {
  return scoreLines(file, readFileSync(file, 'utf8').split(/\r?\n/), detector);
}

/** Every file named in the labels, sorted by name (the order that numbers them 1, 2, … for the folds). */
function readCorpus(dataDir: string): CorpusFile[] {
  const windows = JSON.parse(readFileSync(path.join(dataDir, 'labels', 'combined_windows.json'), 'utf8')) as Record<string, Array<[string, string]>>;
  return Object.keys(windows).sort().map((name) => {
    const file = path.join(dataDir, 'data', name);
    const limits = windows[name].map(([a, b]) => [parseTimestamp(a) ?? NaN, parseTimestamp(b) ?? NaN] as const);
    return { name, path: file, lines: readFileSync(file, 'utf8').split(/\r?\n/), limits };
  });
}

function scoreCorpus(corpus: ReadonlyArray<CorpusFile>, newDetector: () => StreamingDetector): ScoredFile[] {
  return corpus.map((f) => {
    const { timestamps, scores, unordered } = scoreLines(f.path, f.lines, newDetector());
    return { name: f.name, scores, windows: windowsToRows(timestamps, f.limits), unordered };
  });
}

export function loadCorpus(dataDir: string, newDetector: () => StreamingDetector = () => newCsvDetector()): ScoredFile[] {
  return scoreCorpus(readCorpus(dataDir), newDetector);
}

/**
 * The cross-validation grid: settings of the CSV profile chosen on one half of the corpus and scored on the other.
 * It spans the settings the frozen profile was tuned on (the seasonal baseline's history and period re-estimation,
 * the range gain); the frozen profile (history 4,096, every 1,024, gain 24) is one of its points.
 */
export const CV_GRID: ReadonlyArray<{ readonly label: string; readonly overrides: CsvProfileOverrides }> = [1024, 4096].flatMap((historyLength) =>
  [512, 1024, 2048].flatMap((periodEvery) =>
    [16, 24, 32].map((rangeGain) => ({
      label: `history ${historyLength}, period every ${periodEvery}, rangeGain ${rangeGain}`,
      overrides: { baseline: { historyLength, periodEvery }, signal: { rangeGain } },
    })),
  ),
);

interface FoldResult {
  readonly train: string;
  readonly chosen: string;
  readonly threshold: number;
  readonly trainNormalised: number;
  readonly test: ThresholdResult;
  readonly testNull: number;
  readonly testPerfect: number;
}

/**
 * 2-fold cross-validation of one cost profile: on the odd-numbered files (1, 3, … in name order) pick the grid
 * setting and the threshold with the best raw score, score the even-numbered files with both fixed, then the
 * reverse. The two held-out raw scores are added and normalised with the corpus' null and perfect scores.
 */
export function crossValidate(scored: ReadonlyArray<ReadonlyArray<NabFile>>, labels: ReadonlyArray<string>, profile: CostProfile): { folds: FoldResult[]; normalised: number } {
  const half = (files: ReadonlyArray<NabFile>, odd: boolean) => files.filter((_, i) => (i % 2 === 0) === odd);
  const folds = [true, false].map((trainOdd): FoldResult => {
    let bestK = 0;
    let best = optimiseThreshold(half(scored[0], trainOdd), profile);
    for (let k = 1; k < scored.length; k++) {
      const r = optimiseThreshold(half(scored[k], trainOdd), profile);
      if (r.raw > best.raw) {
        best = r;
        bestK = k;
      }
    }
    const testFiles = half(scored[bestK], !trainOdd);
    const bounds = optimiseThreshold(testFiles, profile);
    return {
      train: trainOdd ? 'odd' : 'even',
      chosen: labels[bestK],
      threshold: best.threshold,
      trainNormalised: best.normalised,
      test: scoreAtThreshold(testFiles, profile, best.threshold),
      testNull: bounds.nullRaw,
      testPerfect: bounds.perfectRaw,
    };
  });
  const raw = folds.reduce((a, f) => a + f.test.raw, 0);
  const nul = folds.reduce((a, f) => a + f.testNull, 0);
  const perfect = folds.reduce((a, f) => a + f.testPerfect, 0);
  return { folds, normalised: (100 * (raw - nul)) / (perfect - nul) };
}

function normalisedOf(r: ThresholdResult, nul: number, perfect: number): number {
  return (100 * (r.raw - nul)) / (perfect - nul);
}

function loadNote(): string {
  const [one, five] = loadavg();
  return `load average ${one.toFixed(2)} (1 min), ${five.toFixed(2)} (5 min) on ${availableParallelism()} cores`;
}

function main(): void {
  const { values } = parseArgs({ options: { data: { type: 'string' }, out: { type: 'string' }, 'per-file': { type: 'boolean' }, cv: { type: 'boolean' } } });
  const dataDir = path.resolve(values.data ?? '../shared/benchmarks/nab');
  try {
    readdirSync(path.join(dataDir, 'data'));
  } catch {
    console.error(`bench:nab: no NAB data under ${dataDir}/data; pass --data DIR (the folder with data/, labels/, profiles.json)`);
    process.exitCode = 2;
    return;
  }
  const corpus = readCorpus(dataDir);
  const loadBefore = loadNote();
  const started = process.hrtime.bigint();
  const files = scoreCorpus(corpus, () => newCsvDetector());
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const rows = files.reduce((n, f) => n + f.scores.length, 0);
  const results = Object.entries(NAB_PROFILES).map(([name, profile]) => optimiseThreshold(files, profile, name));
  const unordered = files.filter((f) => f.unordered > 0);
  console.log(`NAB: ${files.length} files, ${rows} rows, every file scored; detector ran in ${seconds.toFixed(1)} s (${Math.round(rows / seconds)} rows/s; ${loadBefore} before the run)`);
  console.log(
    unordered.length === 0
      ? 'no row with a repeated or earlier timestamp'
      : `rows with a repeated or earlier timestamp, scored in file order as \`vigil detect --keep-unordered\` does: ${unordered.map((f) => `${f.name} ${f.unordered}`).join(', ')}`,
  );
  console.log('');
  console.log('| profile | normalised score | threshold | TP | FP | FN | raw | null raw | perfect raw |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(`| ${r.profile} | **${r.normalised.toFixed(1)}** | ${r.threshold.toFixed(4)} | ${r.tp} | ${r.fp} | ${r.fn} | ${r.raw.toFixed(2)} | ${r.nullRaw.toFixed(1)} | ${r.perfectRaw.toFixed(1)} |`);
  }
  const live = scoreCorpus(corpus, () => new StreamingDetector());
  const liveResults = Object.entries(NAB_PROFILES).map(([name, profile]) => optimiseThreshold(live, profile, name));
  console.log('');
  console.log(`the live defaults (the agent's detector, not the CSV profile): ${liveResults.map((r) => `${r.profile} ${r.normalised.toFixed(1)}`).join(', ')}`);
  console.log('');
  console.log('| detector | standard | low FP | low FN |');
  console.log('|---|---|---|---|');
  const ours = ['Vigil (this run)', ...results.map((r) => r.normalised)] as const;
  const table = [...PUBLISHED.map((p) => [...p] as [string, number, number, number])];
  table.push([ours[0], ours[1] as number, ours[2] as number, ours[3] as number]);
  table.sort((a, b) => b[1] - a[1]);
  for (const [name, s, fp, fn] of table) {
    const b = name === ours[0] ? '**' : '';
    console.log(`| ${b}${name}${b} | ${s.toFixed(1)} | ${fp.toFixed(1)} | ${fn.toFixed(1)} |`);
  }
  if (values.cv) printCrossValidation(corpus, results);
  if (values['per-file']) printBreakdown(files, results[0].threshold);
  if (values.out) writeFileSync(values.out, JSON.stringify({ results, files: files.map((f) => ({ name: f.name, windows: f.windows, scores: f.scores })) }));
}

/** Scores the corpus at every grid setting, then runs the 2-fold cross-validation of each cost profile. */
function printCrossValidation(corpus: ReadonlyArray<CorpusFile>, frozen: ReadonlyArray<ProfileResult>): void {
  const started = process.hrtime.bigint();
  const scored = CV_GRID.map((g) => scoreCorpus(corpus, () => newCsvDetector(g.overrides)));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const labels = CV_GRID.map((g) => g.label);
  console.log('');
  console.log(`2-fold cross-validation: files numbered 1-${corpus.length} in name order; the setting (grid below) and threshold are chosen on one half, then scored on the other (${CV_GRID.length} corpus runs, ${seconds.toFixed(1)} s)`);
  console.log('');
  console.log('| grid setting (CSV profile; the rest frozen) | standard, whole corpus | odd files | even files |');
  console.log('|---|---|---|---|');
  CV_GRID.forEach((g, k) => {
    const std = NAB_PROFILES.standard;
    const whole = optimiseThreshold(scored[k], std).normalised;
    const odd = optimiseThreshold(scored[k].filter((_, i) => i % 2 === 0), std).normalised;
    const even = optimiseThreshold(scored[k].filter((_, i) => i % 2 === 1), std).normalised;
    console.log(`| ${g.label} | ${whole.toFixed(1)} | ${odd.toFixed(1)} | ${even.toFixed(1)} |`);
  });
  console.log('');
  console.log('| profile | chosen on | setting chosen | threshold | normalised on its training half | held-out half: TP / FP / FN, raw, normalised |');
  console.log('|---|---|---|---|---|---|');
  const summary: string[] = [];
  Object.entries(NAB_PROFILES).forEach(([name, profile], p) => {
    const cv = crossValidate(scored, labels, profile);
    for (const f of cv.folds) {
      console.log(`| ${name} | ${f.train} files | ${f.chosen} | ${f.threshold.toFixed(4)} | ${f.trainNormalised.toFixed(1)} | ${f.test.tp} / ${f.test.fp} / ${f.test.fn}, ${f.test.raw.toFixed(2)}, ${normalisedOf(f.test, f.testNull, f.testPerfect).toFixed(1)} |`);
    }
    summary.push(`${name} ${cv.normalised.toFixed(1)} (frozen ${frozen[p].normalised.toFixed(1)}, ${(cv.normalised - frozen[p].normalised >= 0 ? '+' : '')}${(cv.normalised - frozen[p].normalised).toFixed(1)})`);
  });
  console.log('');
  console.log(`2-fold cross-validated score (held-out raw of both halves, normalised over the corpus): ${summary.join('; ')}`);
}

/** Per file and per category at the standard profile's threshold: where the raw score is won and lost. */
function printBreakdown(files: ReadonlyArray<NabFile>, threshold: number): void {
  const rows = breakdown(files, NAB_PROFILES.standard, threshold);
  const line = (name: string, r: { windows: number; tp: number; tpReward: number; fn: number; fp: number; fpCost: number; fpBeforeFirst: number; raw: number }) =>
    `| ${name} | ${r.windows} | ${r.tp} | ${r.tpReward.toFixed(2)} | ${r.fn} | ${r.fp} | ${r.fpCost.toFixed(2)} | ${r.fpBeforeFirst.toFixed(2)} | ${r.raw.toFixed(2)} |`;
  const header = ['', `standard profile at threshold ${threshold.toFixed(4)}: raw contributions (TP reward: 1 per window detected at its start)`, '',
    '| file | windows | TP | TP reward | FN | FP | FP cost | of it before 1st window | raw |', '|---|---|---|---|---|---|---|---|---|'];
  console.log(header.join('\n'));
  const byCategory = new Map<string, Array<(typeof rows)[number]>>();
  for (const r of rows) {
    console.log(line(r.name, r));
    const c = r.name.split('/')[0];
    byCategory.set(c, [...(byCategory.get(c) ?? []), r]);
  }
  console.log(['', '| category | windows | TP | TP reward | FN | FP | FP cost | of it before 1st window | raw |', '|---|---|---|---|---|---|---|---|---|'].join('\n'));
  for (const [c, rs] of byCategory) {
    const sum = (k: 'windows' | 'tp' | 'tpReward' | 'fn' | 'fp' | 'fpCost' | 'fpBeforeFirst' | 'raw') => rs.reduce((a, r) => a + r[k], 0);
    console.log(line(c, { windows: sum('windows'), tp: sum('tp'), tpReward: sum('tpReward'), fn: sum('fn'), fp: sum('fp'), fpCost: sum('fpCost'), fpBeforeFirst: sum('fpBeforeFirst'), raw: sum('raw') }));
  }
}

if (require.main === module) main();
