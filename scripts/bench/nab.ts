/**
 * NAB benchmark: runs `vigil detect`'s code path (CsvDetection) on every NAB file, one configuration for the
 * whole corpus, no look-ahead, and scores it with the published NAB rules (scripts/bench/nabScorer.ts).
 *
 *   npm run bench:nab -- --data ../shared/benchmarks/nab [--out scores.json] [--per-file]
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CsvDetection } from '../../src/core/detect/csvDetection';
import { parseTimestamp } from '../../src/core/detect/csvSignals';
import { NAB_PROFILES, breakdown, optimiseThreshold, windowsToRows, type NabFile } from './nabScorer';

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

/** Runs the detector over one file exactly as `vigil detect` does and returns the anomaly_score column. */
export function scoreFile(file: string): { timestamps: number[]; scores: number[] } {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  const detection = new CsvDetection(file, { disorder: 'keep' });
  const timestamps: number[] = [];
  const scores: number[] = [];
  lines.forEach((line) => {
    const out = detection.push(line);
    if (out === undefined || out.startsWith('timestamp,')) return;
    const [ts, score] = out.split(',');
    timestamps.push(parseTimestamp(ts) ?? NaN);
    scores.push(Number(score));
  });
  detection.finish();
  return { timestamps, scores };
}

export function loadCorpus(dataDir: string): NabFile[] {
  const windows = JSON.parse(readFileSync(path.join(dataDir, 'labels', 'combined_windows.json'), 'utf8')) as Record<string, Array<[string, string]>>;
  const files: NabFile[] = [];
  for (const name of Object.keys(windows).sort()) {
    const { timestamps, scores } = scoreFile(path.join(dataDir, 'data', name));
    const limits = windows[name].map(([a, b]) => [parseTimestamp(a) ?? NaN, parseTimestamp(b) ?? NaN] as const);
    files.push({ name, scores, windows: windowsToRows(timestamps, limits) });
  }
  return files;
}

function main(): void {
  const { values } = parseArgs({ options: { data: { type: 'string' }, out: { type: 'string' }, 'per-file': { type: 'boolean' } } });
  const dataDir = path.resolve(values.data ?? '../shared/benchmarks/nab');
  try {
    readdirSync(path.join(dataDir, 'data'));
  } catch {
    console.error(`bench:nab: no NAB data under ${dataDir}/data; pass --data DIR (the folder with data/, labels/, profiles.json)`);
    process.exitCode = 2;
    return;
  }
  const started = Date.now();
  const files = loadCorpus(dataDir);
  const rows = files.reduce((n, f) => n + f.scores.length, 0);
  const seconds = (Date.now() - started) / 1000;
  const results = Object.entries(NAB_PROFILES).map(([name, profile]) => optimiseThreshold(files, profile, name));
  console.log(`NAB: ${files.length} files, ${rows} rows, detector ran in ${seconds.toFixed(1)} s (${Math.round(rows / seconds)} rows/s, under the load of other work on this machine)`);
  console.log('');
  console.log('| profile | normalised score | threshold | TP | FP | FN | raw | null raw | perfect raw |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(`| ${r.profile} | **${r.normalised.toFixed(1)}** | ${r.threshold.toFixed(4)} | ${r.tp} | ${r.fp} | ${r.fn} | ${r.raw.toFixed(2)} | ${r.nullRaw.toFixed(1)} | ${r.perfectRaw.toFixed(1)} |`);
  }
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
  if (values['per-file']) printBreakdown(files, results[0].threshold);
  if (values.out) writeFileSync(values.out, JSON.stringify({ results, files: files.map((f) => ({ name: f.name, windows: f.windows, scores: f.scores })) }));
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
