/**
 * npm run bench:diagnose — are sandbox faults diagnosed right, and fast, with few false incidents?
 *
 * The sandbox SIMULATION runs in virtual time (scripts/bench/virtualCluster.ts): every 5 s its metrics go
 * through the real Prometheus text parser and ScrapeSignalComputer; its object changes and Events become
 * facts through the same pure functions the agent's informers use (src/infra/kubernetes/facts.ts). What
 * is measured is the agent's own DetectionPipeline (detectors, rules, correlator) feeding a real Remediator in mode
 * 'off' (it records incidents, acts on nothing), on an in-memory store and a virtual clock.
 *
 * 1. Faults: each sandbox fault kind, 3 seeds (each seed on a different target where the fault allows),
 *    one fault per run after a warm-up. Symptoms appear at the FaultBook's own `symptomsAt`. Detection is the
 *    first correlator update after injection that names the faulted target (as the cause or a member); for
 *    dependency-outage that is the failing dependency, not only its callers. Time to detect is that update's
 *    time minus symptomsAt, in scrape intervals (ceil; ≤ 0 means before the symptom threshold). The diagnosis
 *    is right when the incident's top diagnosis is the expected kind: first as reported, and 60 s later.
 * 2. Fault-free: one simulated week (604,800 s of virtual time) per seed with the simulation's normal noise
 *    and seasonality and no fault; every new incident is a false one. Rates are per service (and node) per
 *    real 86,400 s day, and per sandbox day (daySeconds, the seasonal period the simulation uses).
 *
 * Env: VIGIL_BENCH_QUIET_SEEDS fault-free seeds (a count, default 1, or a list like 11,23,37), VIGIL_BENCH_QUIET_DAYS (default 7),
 * VIGIL_BENCH_ONLY=kind[,kind] to run some faults only, VIGIL_BENCH_DEBUG=1 for every update,
 * VIGIL_BENCH_RECORD=dir to save each fault run's frames of the faulted service (with whether the relationship model
 * learned from each) for unit tests,
 * VIGIL_BENCH_SEEDS=11,23,37,… other fault seeds (targets go round each fault's list), VIGIL_BENCH_INJECT_AFTER=0,60,…
 * extra seconds of warm-up before the injection (every run at each, so a fault meets other times of the sandbox day).
 * Figures depend only on the seeds (virtual time); wall time was taken on a shared, loaded 2-core machine.
 */
import os from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { BUILTIN_PLAYBOOKS_SOURCE, BUILTIN_PLAYBOOKS_YAML } from '../../src/core/decide/builtinPlaybooks';
import { parsePlaybooks } from '../../src/core/decide/playbookLoader';
import { Correlator } from '../../src/core/diagnose/correlation';
import type { CorrelationUpdate } from '../../src/core/diagnose/incidentGrouping';
import type { Remediator } from '../../src/core/loop/remediator';
import type { DetectionPipeline } from '../../src/core/loop/detectionPipeline';
import { createHealingCore, type HealingCore } from '../../src/core/loop/healingCore';
import { VirtualClock } from '../../src/core/loop/virtualClock';
import type { Anomaly } from '../../src/core/model/anomaly';
import type { ClusterFact } from '../../src/core/model/fact';
import type { SampleFrame } from '../../src/core/model/signal';
import { targetKey } from '../../src/core/model/target';
import type { Disposable, EventsPort, LoggerPort, MetricsPort } from '../../src/core/ports';
import { DEFAULT_SETTINGS, withSettings } from '../../src/core/settings';
import type { FaultKind } from '../../src/sandbox/sim/faults';
import { MemoryStore } from '../../src/core/loop/memoryStore';
import { READ_ONLY_CLUSTER, VirtualCluster } from './virtualCluster';

const SCRAPE_MS = 5_000;
/** Ticks during a fault, so restarts and evictions happen when they would; once per scrape when quiet. */
const FAULT_TICK_MS = 500;
const QUIET_TICK_MS = 5_000;
/** The sandbox's own compressed day (its default): the seasonal period is visible within the warm-up. */
const DAY_SECONDS = 600;
/** The fused score needs ~250 samples; an hour (six sandbox days) also gives the seasonal profile. */
const WARMUP_MS = 3_600_000;
/** How long a run watches after injection when nothing names the target. */
const OBSERVE_MS = 300_000;
const LATER_MS = 60_000;
const WITHIN_INTERVALS = 2;
const T0 = Date.parse('2026-03-02T00:00:00Z');
const SEEDS: ReadonlyArray<number> = numberList('VIGIL_BENCH_SEEDS', process.env.VIGIL_BENCH_SEEDS ?? '11,23,37');
/** Extra warm-up before each injection (ms): the default 0 injects at the hour. */
const INJECT_AFTER: ReadonlyArray<number> = numberList('VIGIL_BENCH_INJECT_AFTER', process.env.VIGIL_BENCH_INJECT_AFTER ?? '0').map((s) => s * 1000);
/** Seeds of the fault-free runs: a count of SEEDS (default 1, the ~10 min budget), or a comma list of seeds. */
const QUIET_SEEDS: ReadonlyArray<number> = quietSeeds(process.env.VIGIL_BENCH_QUIET_SEEDS ?? '1');
const QUIET_DAYS = Number(process.env.VIGIL_BENCH_QUIET_DAYS ?? 7);
const ONLY = (process.env.VIGIL_BENCH_ONLY ?? '').split(',').filter(Boolean);
const DEBUG = Boolean(process.env.VIGIL_BENCH_DEBUG);
/** A folder: each fault run writes its faulted service's frames there (gzipped JSON, each with `normal`), for unit tests. */
const RECORD = process.env.VIGIL_BENCH_RECORD;

/** The fault of each run: one target per seed, so no diagnosis can lean on one service's quirks. */
const FAULTS: ReadonlyArray<{ kind: FaultKind; targets: ReadonlyArray<string>; extra?: Record<string, unknown> }> = [
  { kind: 'crash-loop', targets: ['shop/cart', 'shop/checkout', 'payments/payments-api'] },
  { kind: 'bad-release', targets: ['shop/checkout', 'shop/cart', 'payments/payments-api'] },
  { kind: 'memory-leak', targets: ['shop/cart', 'shop/checkout', 'shop/frontend'] },
  // only checkout and frontend read feature flags
  { kind: 'bad-feature-flag', targets: ['shop/checkout', 'shop/frontend', 'shop/checkout'] },
  { kind: 'traffic-surge', targets: ['shop/frontend', 'shop/cart', 'shop/checkout'] },
  // a dependency has callers: payments-api (checkout), cart and checkout (frontend)
  { kind: 'dependency-outage', targets: ['payments/payments-api', 'shop/cart', 'shop/checkout'] },
  { kind: 'node-failure', targets: ['node-1', 'node-2', 'node-3'] },
  { kind: 'latency-spike', targets: ['shop/cart', 'shop/checkout', 'payments/payments-api'] },
  // one pod at twice the CPU per request: the relationship model's fault
  { kind: 'cpu-hog', targets: ['shop/checkout', 'shop/cart', 'payments/payments-api'] },
];

// ---- the agent under test: DetectionPipeline + Remediator (mode off) on in-memory ports --------------------

class RecordingCorrelator extends Correlator {
  readonly updates: Array<CorrelationUpdate & { readonly at: number }> = [];
  /** Debug output starts here (the fault's injection), so a warm-up does not drown it. */
  debugFrom = Infinity;
  private record(us: CorrelationUpdate[]): CorrelationUpdate[] {
    for (const u of us) {
      this.updates.push({ ...u, at: u.diagnosis.t });
      if (DEBUG && u.diagnosis.t >= this.debugFrom) console.log(`    [${clockOf(u.diagnosis.t)}] ${u.isNew ? 'NEW' : 'upd'} ${u.incidentKey} ${u.diagnosis.kind} ${u.diagnosis.confidence} on ${targetKey(u.target)} members ${u.members.map(targetKey).join(',')}: ${u.diagnosis.summary.slice(0, 160)}`);
    }
    return us;
  }
  override observeAnomalies(list: ReadonlyArray<Anomaly>): CorrelationUpdate[] {
    for (const a of list) if (DEBUG && a.t >= this.debugFrom) console.log(`    [${clockOf(a.t)}] anomaly ${targetKey(a.target)} ${a.detector} ${a.score.toFixed(2)}: ${a.reason.slice(0, 200)}`);
    return this.record(super.observeAnomalies(list));
  }
  override observeFact(f: ClusterFact): CorrelationUpdate[] {
    return this.record(super.observeFact(f));
  }
  override observeFrames(frames: ReadonlyArray<SampleFrame>): CorrelationUpdate[] {
    return this.record(super.observeFrames(frames));
  }
}

const silent: LoggerPort = { log: () => undefined, child: () => silent };
const noop: Disposable = { dispose: () => undefined };
const PLAYBOOKS = parsePlaybooks(BUILTIN_PLAYBOOKS_YAML, BUILTIN_PLAYBOOKS_SOURCE).playbooks;

class Agent {
  readonly clock: VirtualClock;
  readonly correlator = new RecordingCorrelator();
  readonly core: HealingCore;
  readonly engine: Remediator;
  readonly loop: DetectionPipeline;
  readonly debugTargets = new Set<string>();
  /** Frames of the recorded targets, each with whether the relationship model was let learn from it (VIGIL_BENCH_RECORD). */
  readonly recorded: Array<SampleFrame & { normal: boolean }> = [];
  readonly recordTargets = new Set<string>();
  private onFrames: (frames: ReadonlyArray<SampleFrame>) => void = () => undefined;
  private onFact: (fact: ClusterFact) => void = () => undefined;

  constructor(readonly vc: VirtualCluster) {
    this.clock = new VirtualClock(vc.t);
    const store = new MemoryStore();
    const cluster = READ_ONLY_CLUSTER;
    const metrics: MetricsPort = {
      discoverTargets: async () => [],
      range: async () => [],
      subscribe: (cb) => ((this.onFrames = cb), noop),
      onStatus: () => noop,
    };
    const events: EventsPort = {
      inventory: () => vc.inventory(),
      subscribe: (cb) => ((this.onFact = cb), noop),
      onStatus: () => noop,
      recentLogs: async () => [],
    };
    // the live composition in mode off: it diagnoses and never writes; no Lease (one instance); the virtual
    // cluster's rates span 30 s, as the sandbox drills sample them
    this.core = createHealingCore(
      { clock: this.clock, logger: silent, store, cluster, metrics, events },
      withSettings(DEFAULT_SETTINGS, { automation: { mode: 'off' }, prometheus: { scrapeIntervalSeconds: SCRAPE_MS / 1000, rateWindowSeconds: 30 } }),
      // detector state is kept in memory only; saving it every minute would time the store, not detection
      // the joint (relationship) model is on, as in an agent with the model: pure and in-process, no tfjs needed
      { identity: 'bench', playbooks: () => PLAYBOOKS, lease: false, correlator: this.correlator, persistEvery: Number.MAX_SAFE_INTEGER, relationships: {} },
    );
    this.engine = this.core.remediator;
    this.loop = this.core.pipeline;
    const joint = this.loop.jointEvidence;
    if (RECORD && joint) {
      const settle = joint.settle.bind(joint);
      joint.settle = (frame, detected) => {
        if (this.recordTargets.has(targetKey(frame.target))) this.recorded.push({ ...frame, normal: !detected });
        settle(frame, detected);
      };
    }
  }

  async start(): Promise<void> {
    await this.core.start();
  }

  /** Runs the cluster for `ms`: facts as they happen, frames every scrape, the engine settled each scrape. */
  async run(ms: number, tickMs: number, afterScrape?: () => boolean | void): Promise<void> {
    const end = this.vc.t + ms;
    while (this.vc.t < end) {
      this.vc.advance(SCRAPE_MS, tickMs, () => {
        for (const f of this.vc.drainFacts()) this.onFact(f);
      });
      await this.clock.advanceTo(this.vc.t);
      const frames = this.vc.scrape();
      if (DEBUG && this.vc.t >= this.correlator.debugFrom) {
        for (const f of frames) {
          if (this.debugTargets.has(targetKey(f.target))) console.log(`    [${clockOf(f.t)}] frame ${targetKey(f.target)} ${Object.entries(f.values).map(([k, v]) => `${k}=${Number(v).toPrecision(3)}`).join(' ')}`);
        }
      }
      this.onFrames(frames);
      if (afterScrape?.()) return;
    }
  }

  dispose(): void {
    this.loop.dispose();
    this.engine.dispose();
  }
}

// ---- 1. faults ------------------------------------------------------------------------------------

interface FaultRun {
  readonly kind: FaultKind;
  readonly seed: number;
  /** Extra warm-up before the injection (ms). */
  readonly after: number;
  readonly target: string;
  readonly symptomsMs?: number;
  readonly detectMs?: number;
  readonly first?: string;
  readonly later?: string;
  readonly firstSummary?: string;
  /** Incidents opened after injection that do not name the faulted target. */
  readonly others: ReadonlyArray<string>;
  /** Incidents opened during the warm-up (false ones, before any fault). */
  readonly warmupIncidents: number;
}

const expectedKey = (kind: FaultKind, target: string) => (kind === 'node-failure' ? `node:${target}` : `service:${target}`);

function names(u: { readonly target: CorrelationUpdate['target']; readonly members: CorrelationUpdate['members'] }, key: string): boolean {
  return targetKey(u.target) === key || u.members.some((m) => targetKey(m) === key);
}

async function faultRun(kind: FaultKind, seed: number, target: string, extra: Record<string, unknown> | undefined, after: number): Promise<FaultRun> {
  const vc = new VirtualCluster({ seed, daySeconds: DAY_SECONDS, t0: T0, facts: true });
  const agent = new Agent(vc);
  agent.recordTargets.add(expectedKey(kind, target));
  await agent.start();
  await agent.run(WARMUP_MS + after, QUIET_TICK_MS);
  const warmupIncidents = agent.correlator.updates.filter((u) => u.isNew).length;
  const injectedAt = vc.t;
  agent.correlator.debugFrom = injectedAt - 10_000;
  if (DEBUG) console.log(`  ${kind} ${target} seed ${seed} injected at ${clockOf(injectedAt)}`);
  const record = vc.inject({ fault: kind, target, durationSeconds: 900, ...extra });
  const key = expectedKey(kind, target);
  agent.debugTargets.add(key);
  let firstUpdate: (CorrelationUpdate & { at: number }) | undefined;
  let later: CorrelationUpdate | undefined;
  let laterDone = false;
  await agent.run(OBSERVE_MS + LATER_MS + SCRAPE_MS, FAULT_TICK_MS, () => {
    if (DEBUG && !laterDone) console.log(`    [${clockOf(vc.t)}] scrape; symptoms ${vc.faultRecords().at(-1)?.symptomsAt ?? '-'}`);
    firstUpdate ??= agent.correlator.updates.find((u) => u.at >= injectedAt && names(u, key));
    if (firstUpdate && !laterDone && vc.t >= firstUpdate.at + LATER_MS) {
      laterDone = true;
      later = agent.correlator.openIncidents().find((u) => u.incidentKey === firstUpdate!.incidentKey) ?? agent.correlator.openIncidents().find((u) => names(u, key));
    }
    return laterDone || (!firstUpdate && vc.t >= injectedAt + OBSERVE_MS);
  });
  const rec = vc.faultRecords().find((r) => r.id === record.id);
  const symptomsMs = rec?.symptomsAt ? Date.parse(rec.symptomsAt) : undefined;
  if (RECORD) {
    const file = path.join(RECORD, `${kind}-${target.replace('/', '-')}-seed${seed}-after${after / 1000}.json.gz`);
    mkdirSync(RECORD, { recursive: true });
    writeFileSync(file, gzipSync(JSON.stringify(agent.recorded)));
    process.stderr.write(`  recorded ${agent.recorded.length} frames of ${key} in ${file}\n`);
  }
  const others = [...new Set(agent.correlator.updates.filter((u) => u.isNew && u.at >= injectedAt && !names(u, key)).map((u) => `${u.diagnosis.kind}@${targetKey(u.target)}`))];
  agent.dispose();
  return {
    kind,
    seed,
    after,
    target,
    symptomsMs,
    detectMs: firstUpdate && symptomsMs !== undefined ? firstUpdate.at - symptomsMs : undefined,
    first: firstUpdate?.diagnosis.kind,
    later: laterDone ? (later?.diagnosis.kind ?? '(closed)') : undefined,
    firstSummary: firstUpdate?.diagnosis.summary,
    others,
    warmupIncidents,
  };
}

// ---- 2. fault-free week ----------------------------------------------------------------------------

interface QuietRun {
  readonly seed: number;
  readonly days: number;
  readonly perTarget: Map<string, number>;
  readonly byKind: Map<string, number>;
  readonly examples: string[];
  readonly wallMs: number;
}

async function quietRun(seed: number, days: number): Promise<QuietRun> {
  const wall = Date.now();
  const vc = new VirtualCluster({ seed, daySeconds: DAY_SECONDS, t0: T0, facts: true });
  const agent = new Agent(vc);
  await agent.start();
  // the same warm-up as a fault run; what follows is the measured week
  await agent.run(WARMUP_MS, QUIET_TICK_MS);
  const from = vc.t;
  const total = days * 86_400_000;
  let nextReport = from + 86_400_000;
  await agent.run(total, QUIET_TICK_MS, () => {
    if (vc.t >= nextReport) {
      nextReport += 86_400_000;
      process.stderr.write(`  fault-free seed ${seed}: day ${Math.round((vc.t - from) / 86_400_000)} of ${days} (${((Date.now() - wall) / 1000).toFixed(0)} s wall)\n`);
    }
    // bounded memory: only the new incidents matter here
    const u = agent.correlator.updates;
    if (u.length > 1000) u.splice(0, u.length - 100);
  });
  const perTarget = new Map<string, number>();
  const byKind = new Map<string, number>();
  const examples: string[] = [];
  for (const u of agent.correlator.updates.filter((x) => x.isNew && x.at >= from)) {
    const k = targetKey(u.target);
    perTarget.set(k, (perTarget.get(k) ?? 0) + 1);
    byKind.set(u.diagnosis.kind, (byKind.get(u.diagnosis.kind) ?? 0) + 1);
    if (examples.length < 12) examples.push(`${clockOf(u.at)} ${u.diagnosis.kind} on ${k} (${u.diagnosis.confidence}): ${u.diagnosis.summary.slice(0, 140)}`);
  }
  agent.dispose();
  return { seed, days, perTarget, byKind, examples, wallMs: Date.now() - wall };
}

// ---- printing -------------------------------------------------------------------------------------

function clockOf(t: number): string {
  const s = Math.round((t - T0) / 1000);
  return `+${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m${String(s % 60).padStart(2, '0')}s`;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r, k) => `  ${r.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('   ')}${k === 0 ? `\n  ${widths.map((w) => '-'.repeat(w)).join('   ')}` : ''}`).join('\n');
}

const intervals = (ms: number) => Math.ceil(ms / SCRAPE_MS);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};
const met = (ok: boolean) => (ok ? 'MET' : 'NOT MET');

async function main(): Promise<void> {
  const started = Date.now();
  const runs: FaultRun[] = [];
  const faults = FAULTS.filter((f) => !ONLY.length || ONLY.includes(f.kind));
  for (const f of faults) {
    for (const after of INJECT_AFTER) {
      for (let i = 0; i < SEEDS.length; i++) {
        const target = f.targets[i % f.targets.length];
        const r = await faultRun(f.kind, SEEDS[i], target, f.extra, after);
        runs.push(r);
        process.stderr.write(`  ${f.kind} seed ${SEEDS[i]} ${target}${after ? ` +${after / 1000} s` : ''}: ${r.first ?? 'not detected'}${r.detectMs !== undefined ? ` after ${(r.detectMs / 1000).toFixed(1)} s` : ''} (${((Date.now() - started) / 1000).toFixed(0)} s wall)\n`);
        if (DEBUG && r.firstSummary) console.log(`    ${r.firstSummary}`);
      }
    }
  }
  const faultWall = Date.now() - started;
  if (runs.length > 0) printFaults(runs, faults, faultWall);
  if (QUIET_SEEDS.length > 0) {
    const quiet: QuietRun[] = [];
    for (const seed of QUIET_SEEDS) quiet.push(await quietRun(seed, QUIET_DAYS));
    const services = vcTargets();
    const days = quiet.reduce((a, q) => a + q.days, 0);
    const sandboxDays = (days * 86_400) / DAY_SECONDS;
    console.log(`\nFault-free: ${quiet.length} seed(s) × ${QUIET_DAYS} days of virtual time (${(days * 86_400 / 3600).toFixed(0)} h, ${sandboxDays.toFixed(0)} sandbox days of ${DAY_SECONDS} s), normal noise and seasonality, no fault.`);
    const qrows: string[][] = [['target', 'false incidents', 'per day (86,400 s)', `per sandbox day (${DAY_SECONDS} s)`]];
    const all = new Set<string>([...services, ...quiet.flatMap((q) => [...q.perTarget.keys()])]);
    let worst = { key: '', perDay: 0 };
    for (const k of [...all].sort()) {
      const c = quiet.reduce((a, q) => a + (q.perTarget.get(k) ?? 0), 0);
      const perDay = c / days;
      if (perDay >= worst.perDay) worst = { key: k, perDay };
      qrows.push([k, String(c), perDay.toFixed(3), (c / sandboxDays).toFixed(4)]);
    }
    console.log(table(qrows.map((r) => [r[0], '', ...r.slice(1)])).replace(/^( {2}\S*\s*) {3}/gm, '$1'));
    const total = quiet.reduce((a, q) => a + [...q.perTarget.values()].reduce((x, y) => x + y, 0), 0);
    const kinds = new Map<string, number>();
    for (const q of quiet) for (const [k, v] of q.byKind) kinds.set(k, (kinds.get(k) ?? 0) + v);
    console.log(`\n  ${total} false incident(s) in all: ${[...kinds].map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`);
    for (const q of quiet) for (const e of q.examples) console.log(`    seed ${q.seed} ${e}`);
    console.log(worst.perDay > 0 ? `  worst target: ${worst.key} at ${worst.perDay.toFixed(3)} per day (86,400 s), ${((worst.perDay * DAY_SECONDS) / 86_400).toFixed(4)} per sandbox day` : '  worst target: none (no false incident on any target)');
    console.log(`  fewer than 1 false incident per service per simulated day (real 86,400 s day, every target): ${met(worst.perDay < 1)}`);
    console.log(`  (fault-free runs took ${quiet.map((q) => `${(q.wallMs / 1000).toFixed(0)} s`).join(' + ')} wall)`);
  }
  console.log(`\nbench:diagnose done in ${((Date.now() - started) / 1000).toFixed(0)} s wall (load average at the end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, ${os.cpus().length} cores).`);
}

function printFaults(runs: ReadonlyArray<FaultRun>, faults: typeof FAULTS, faultWall: number): void {

  console.log(`Sandbox faults: the agent's DetectionPipeline (detectors, rules, correlator) + Remediator in mode off, on the sandbox simulation in virtual time`);
  console.log(`(seeds ${SEEDS.join(', ')}; sandbox day ${DAY_SECONDS} s; ${WARMUP_MS / 60_000} min warm-up${INJECT_AFTER.some(Boolean) ? ` + ${INJECT_AFTER.map((a) => a / 1000).join(', ')} s` : ''}; ${SCRAPE_MS / 1000} s scrapes; one fault per run).`);
  console.log(`Detect = first incident naming the faulted target (as cause or member; for dependency-outage the failing dependency itself, not only its callers)`);
  console.log(`minus the FaultBook's symptomsAt, in scrape intervals, rounded up (≤ 0: before the symptom threshold, e.g. a leak seen before 80% of its limit).\n`);
  const rows: string[][] = [['fault', 'target', INJECT_AFTER.some(Boolean) ? 'seed/+s' : 'seed', 'expected', 'first diagnosis', `at +${LATER_MS / 1000} s`, 'detect', 'other incidents']];
  for (const r of runs) {
    rows.push([
      r.kind,
      r.target,
      INJECT_AFTER.some(Boolean) ? `${r.seed}/+${r.after / 1000}` : String(r.seed),
      r.kind,
      `${r.first ?? '—'}${r.first && r.first !== r.kind ? ' ✗' : ''}`,
      `${r.later ?? '—'}${r.later && r.later !== r.kind ? ' ✗' : ''}`,
      r.detectMs === undefined ? (r.symptomsMs === undefined ? 'no symptom' : 'missed') : `${intervals(r.detectMs)} (${(r.detectMs / 1000).toFixed(1)} s)`,
      r.others.join(', ') || '—',
    ]);
  }
  console.log(table(rows));

  console.log('\nPer fault:');
  const sum: string[][] = [['fault', 'right first', `right +${LATER_MS / 1000} s`, 'median detect', 'max detect']];
  for (const f of faults) {
    const rs = runs.filter((r) => r.kind === f.kind);
    const ds = rs.filter((r) => r.detectMs !== undefined).map((r) => intervals(r.detectMs!));
    const missed = rs.length - ds.length;
    sum.push([f.kind, `${rs.filter((r) => r.first === r.kind).length}/${rs.length}`, `${rs.filter((r) => r.later === r.kind).length}/${rs.length}`, ds.length ? String(median(ds)) : '—', ds.length ? `${Math.max(...ds)}${missed ? ` (+${missed} missed)` : ''}` : 'missed']);
  }
  console.log(table(sum.map((r) => ['', ...r])).replace(/^ {2} {3}/gm, '  '));
  const n = runs.length;
  const rightFirst = runs.filter((r) => r.first === r.kind).length;
  const rightLater = runs.filter((r) => r.later === r.kind).length;
  const within = runs.filter((r) => r.detectMs !== undefined && intervals(r.detectMs) <= WITHIN_INTERVALS).length;
  const both = runs.filter((r) => r.first === r.kind && r.detectMs !== undefined && intervals(r.detectMs) <= WITHIN_INTERVALS).length;
  const warm = runs.reduce((a, r) => a + r.warmupIncidents, 0);
  const pc = (k: number) => `${((k / n) * 100).toFixed(0)}%`;
  console.log(`\n  right top diagnosis, first reported: ${rightFirst}/${n} = ${pc(rightFirst)} (target ≥ 90%): ${met(rightFirst / n >= 0.9)}`);
  console.log(`  right top diagnosis, ${LATER_MS / 1000} s later:     ${rightLater}/${n} = ${pc(rightLater)} (target ≥ 90%): ${met(rightLater / n >= 0.9)}`);
  console.log(`  detected within ${WITHIN_INTERVALS} scrape intervals of symptoms: ${within}/${n} = ${pc(within)} (target ≥ 90%): ${met(within / n >= 0.9)}`);
  console.log(`  right first AND within ${WITHIN_INTERVALS} intervals:        ${both}/${n} = ${pc(both)} (target ≥ 90%): ${met(both / n >= 0.9)}`);
  console.log(`  (incidents during the ${n} warm-ups before any fault: ${warm}; fault runs took ${(faultWall / 1000).toFixed(0)} s wall)`);

}

function numberList(name: string, text: string): number[] {
  const list = text.split(',').map((x) => Number(x.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 0)) throw new Error(`${name} is "${text}": use a comma list of whole numbers, e.g. 0,60,120`);
  return list;
}

function quietSeeds(text: string): number[] {
  const list = text.split(',').map((x) => Number(x.trim()));
  if (list.some((n) => !Number.isInteger(n) || n < 0)) throw new Error(`VIGIL_BENCH_QUIET_SEEDS is "${text}": use a count (0 to ${SEEDS.length}) or a comma list of seeds, e.g. 11,23,37`);
  return list.length === 1 && list[0] <= SEEDS.length ? SEEDS.slice(0, list[0]) : list;
}

/** Services and nodes of the sandbox topology, so a target without a false incident still shows 0. */
function vcTargets(): string[] {
  const vc = new VirtualCluster({ seed: 1, daySeconds: DAY_SECONDS, t0: T0 });
  const inv = vc.inventory();
  return [...inv.services.map((s) => targetKey(s.target)), ...inv.nodes.map((n) => `node:${n.name}`)];
}

main().catch((err: Error) => {
  console.error(`bench:diagnose failed: ${err.stack ?? err.message}`);
});
