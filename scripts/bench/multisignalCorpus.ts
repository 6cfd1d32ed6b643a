/**
 * The labelled multi-signal corpus of bench:multisignal, exported from the sandbox SIMULATION in virtual time with no
 * agent acting: every signal of one service at the scrape interval, observed through the real Prometheus text parser
 * and ScrapeSignalComputer (VirtualCluster). One file per fault kind, seeds fixed before any tuning. Each file is a
 * known-normal prefix (TRAIN_ROWS rows, two simulated days, the `--train-rows` of the bench), more normal rows, the
 * fault (`durationSeconds` 600), and normal rows after recovery. Label 1 = inside the ground truth's
 * [symptomsAt, recoveredAt]. Deterministic: the same files come out on every run.
 *
 *   npx tsx scripts/bench/multisignalCorpus.ts [--out .cache/multisignal]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { SampleFrame } from '../../src/core/model/signal';
import type { FaultKind } from '../../src/sandbox/sim/faults';
import { VirtualCluster } from './virtualCluster';

export const SCRAPE_MS = 5_000;
export const DAY_SECONDS = 600;
/** Two simulated days of known-normal rows. */
export const TRAIN_ROWS = (2 * DAY_SECONDS * 1000) / SCRAPE_MS;
/** Normal rows scored before the fault, so the false-alarm rate is measured on unseen normal data too. */
const NORMAL_AFTER_TRAIN_ROWS = 60;
const FAULT_SECONDS = 600;
/** One simulated day of normal rows after recovery: false alarms are measured over a whole daily cycle. */
const TAIL_MS = 600_000;
/** Rate windows fill before the first row. */
const LEAD_MS = 60_000;
const TICK_MS = 500;
export const COLUMNS = ['request_rate', 'error_ratio', 'latency_p50', 'latency_p95', 'latency_p99', 'cpu', 'memory', 'restarts', 'available_replicas'] as const;

/**
 * The first compressed weekday: the whole file (prefix, fault, tail: under five simulated days) stays on weekdays,
 * so the prefix has seen the traffic shape the rest of the file has (the sandbox's weekend is 25% quieter).
 */
function firstWeekday(after: number): number {
  const dayMs = DAY_SECONDS * 1000;
  let d = Math.ceil(after / dayMs);
  while (((d % 7) + 7) % 7 !== 0) d++;
  return d * dayMs;
}

export interface CorpusCase {
  readonly kind: FaultKind;
  readonly target: string;
  /** The service whose signals are exported (a node-failure's busiest service on the node). */
  readonly service: string;
  readonly seed: number;
  readonly extra?: Record<string, unknown>;
}

/** Fixed before any tuning; one file per fault kind. */
export const CASES: ReadonlyArray<CorpusCase> = [
  { kind: 'crash-loop', target: 'shop/checkout', service: 'shop/checkout', seed: 101 },
  { kind: 'memory-leak', target: 'shop/cart', service: 'shop/cart', seed: 102 },
  { kind: 'bad-release', target: 'shop/checkout', service: 'shop/checkout', seed: 103 },
  { kind: 'latency-spike', target: 'payments/payments-api', service: 'payments/payments-api', seed: 104 },
  { kind: 'node-failure', target: 'node-2', service: '', seed: 105 },
  // ×6, not the default ×4: at ×4 the daily trough briefly unsaturates the pods, the ground truth marks that moment
  // as recovered, and the saturated rest of the surge would be labelled normal
  { kind: 'traffic-surge', target: 'shop/cart', service: 'shop/cart', seed: 106, extra: { factor: 6 } },
  { kind: 'bad-feature-flag', target: 'shop/checkout', service: 'shop/checkout', seed: 107 },
  { kind: 'dependency-outage', target: 'payments/payments-api', service: 'payments/payments-api', seed: 108 },
  { kind: 'cpu-hog', target: 'shop/checkout', service: 'shop/checkout', seed: 109 },
];

export interface CorpusFile {
  readonly name: string;
  readonly kind: FaultKind;
  readonly service: string;
  readonly csv: string;
  /** Per data row: 1 inside [symptomsAt, recoveredAt]. */
  readonly labels: number[];
  readonly times: number[];
  readonly symptomsMs: number;
  readonly recoveredMs: number | undefined;
}

export function generateCase(c: CorpusCase): CorpusFile {
  const t0 = firstWeekday(Date.parse('2026-03-02T00:00:00Z'));
  const vc = new VirtualCluster({ seed: c.seed, daySeconds: DAY_SECONDS, t0: t0 - LEAD_MS });
  const rows: Array<{ t: number; frames: SampleFrame[] }> = [];
  const scrapeUntil = (end: number) => {
    while (vc.t < end) {
      vc.advance(SCRAPE_MS, TICK_MS);
      const frames = vc.scrape();
      if (vc.t < t0) continue;
      rows.push({ t: vc.t, frames: frames.filter((f) => f.target.kind === 'service') });
    }
  };
  scrapeUntil(t0 + (TRAIN_ROWS + NORMAL_AFTER_TRAIN_ROWS - 1) * SCRAPE_MS);
  const service = c.kind === 'node-failure' ? busiestServiceOn(vc, c.target) : c.service;
  const record = vc.inject({ fault: c.kind, target: c.target, durationSeconds: FAULT_SECONDS, ...c.extra });
  const endMs = Date.parse(record.endsAt as string);
  scrapeUntil(endMs);
  let rec = vc.faultRecords().find((r) => r.id === record.id);
  // no agent acts: wait for the sandbox's own recovery (pods back after the fault ended), then the tail
  while (!rec?.recoveredAt && vc.t < endMs + 600_000) {
    scrapeUntil(vc.t + SCRAPE_MS);
    rec = vc.faultRecords().find((r) => r.id === record.id);
  }
  scrapeUntil(vc.t + TAIL_MS);
  const symptomsMs = Date.parse(rec?.symptomsAt ?? record.startedAt);
  const recoveredMs = rec?.recoveredAt ? Date.parse(rec.recoveredAt) : undefined;
  const lines = [`timestamp,${COLUMNS.join(',')}`];
  const labels: number[] = [];
  for (const r of rows) {
    const v = r.frames.find((f) => `${f.target.namespace}/${f.target.name}` === service)?.values ?? {};
    lines.push(`${new Date(r.t).toISOString()},${COLUMNS.map((s) => cell(v[s])).join(',')}`);
    labels.push(r.t >= symptomsMs && (recoveredMs === undefined || r.t <= recoveredMs) ? 1 : 0);
  }
  return { name: `${c.kind}.csv`, kind: c.kind, service, csv: `${lines.join('\n')}\n`, labels, times: rows.map((r) => r.t), symptomsMs, recoveredMs };
}

function cell(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? '' : String(Number(v.toPrecision(6)));
}

function busiestServiceOn(vc: VirtualCluster, node: string): string {
  const count = new Map<string, number>();
  for (const p of vc.store.list('pods').items as Array<{ metadata: { namespace?: string; labels?: Record<string, string> }; spec?: { nodeName?: string } }>) {
    if (p.spec?.nodeName !== node || !p.metadata.labels?.app) continue;
    const key = `${p.metadata.namespace}/${p.metadata.labels.app}`;
    count.set(key, (count.get(key) ?? 0) + 1);
  }
  const best = [...count].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
  if (!best) throw new Error(`no service has pods on ${node}`);
  return best[0];
}

export function generateCorpus(): CorpusFile[] {
  return CASES.map(generateCase);
}

/** Writes the CSVs and `labels.json` (per file: service, ground truth, per-row labels). */
export function writeCorpus(dir: string, files: ReadonlyArray<CorpusFile>): void {
  mkdirSync(dir, { recursive: true });
  const labels: Record<string, unknown> = {};
  for (const f of files) {
    writeFileSync(path.join(dir, f.name), f.csv);
    labels[f.name] = { kind: f.kind, service: f.service, trainRows: TRAIN_ROWS, symptomsAt: new Date(f.symptomsMs).toISOString(), recoveredAt: f.recoveredMs === undefined ? null : new Date(f.recoveredMs).toISOString(), labels: f.labels.join('') };
  }
  writeFileSync(path.join(dir, 'labels.json'), `${JSON.stringify(labels, null, 1)}\n`);
}

if (require.main === module) {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const dir = path.resolve(values.out ?? '.cache/multisignal');
  const files = generateCorpus();
  writeCorpus(dir, files);
  for (const f of files) console.log(`${f.name.padEnd(24)} ${f.service.padEnd(24)} rows ${f.labels.length}, anomalous ${f.labels.filter(Boolean).length}`);
  console.log(`-> ${dir}`);
}
