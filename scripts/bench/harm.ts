/**
 * `npm run bench:harm [-- --seeds 3 | --seed 2] [--scenarios all|name,…] [--parallel 1] [--flap-minutes 30] [--json FILE] [--trace]`
 * `npm run bench:harm -- --combine FILE…` prints the table of earlier runs (a full run does not fit one 15-minute lock).
 *
 * Do no harm: the faults that fight back, on the embedded sandbox with the agent's runtime in auto mode (5 s scrape,
 * 30 s rate windows), real time. Per scenario and seed: healed (by the right remedy, from the sandbox's ground truth),
 * escalated correctly (the faults no action fixes), harmful actions, actions per incident, time to recover.
 *
 * A harmful action is a write to a workload that is not a ground-truth cause, or an action after which its target's
 * error ratio or p95 latency over [action + 60 s, action + 180 s] is worse than over the 120 s before it by more than
 * 20 % relative and more than 0.5 percentage points or 50 ms. The signals are computed from the sandbox's own
 * exposition every 5 s by the agent's ScrapeSignalComputer, independently of what the agent reads.
 *
 * Each run keeps going 180 s after its last action, so every action's after-window is measured.
 */
import { writeFileSync, appendFileSync, readFileSync } from 'node:fs';
import { describeAction, type ActionSpec } from '../../src/core/model/action';
import type { Incident } from '../../src/core/model/incident';
import { ScrapeSignalComputer } from '../../src/core/observe/scrapeSignals';
import { DEFAULT_SETTINGS, withSettings } from '../../src/core/settings';
import { parseTextFormat } from '../../src/infra/prometheus/textFormat';
import { sleep, startDrillWorld, textTable } from '../../src/cli/faultDrill';
import type { FaultRecord } from '../../src/sandbox/sim/faults';

interface Injection {
  /** Seconds after the warm-up. */
  readonly at: number;
  readonly fault: string;
  readonly target: string;
  readonly periodSeconds?: number;
}

interface Scenario {
  readonly name: string;
  readonly injections: ReadonlyArray<Injection>;
  /** Longest run after the first injection, in seconds (a run ends earlier once everything settled). */
  readonly runSeconds: number;
  readonly maintenance?: boolean;
  readonly flapping?: boolean;
}

const SCENARIOS: ReadonlyArray<Scenario> = [
  { name: 'config-crash', injections: [{ at: 0, fault: 'bad-config', target: 'shop/checkout' }], runSeconds: 300 },
  { name: 'release-crash', injections: [{ at: 0, fault: 'crash-release', target: 'shop/cart' }], runSeconds: 300 },
  { name: 'release-5xx', injections: [{ at: 0, fault: 'bad-release', target: 'shop/frontend' }], runSeconds: 300 },
  { name: 'disk-full', injections: [{ at: 0, fault: 'disk-full', target: 'payments/payments-api' }], runSeconds: 300 },
  {
    name: 'innocent-release',
    injections: [
      { at: 0, fault: 'dependency-outage', target: 'shop/cart' },
      { at: 20, fault: 'healthy-release', target: 'shop/frontend' },
    ],
    runSeconds: 300,
  },
  {
    name: 'caller+callee',
    injections: [
      { at: 0, fault: 'crash-loop', target: 'shop/checkout' },
      { at: 0, fault: 'bad-release', target: 'shop/frontend' },
    ],
    runSeconds: 300,
  },
  {
    name: 'two-unrelated',
    injections: [
      { at: 0, fault: 'crash-loop', target: 'shop/cart' },
      { at: 0, fault: 'bad-release', target: 'payments/payments-api' },
    ],
    runSeconds: 300,
  },
  { name: 'flapping', injections: [{ at: 0, fault: 'flapping', target: 'shop/cart', periodSeconds: 45 }], runSeconds: 1800, flapping: true },
  { name: 'maintenance', injections: [{ at: 0, fault: 'crash-loop', target: 'shop/checkout' }], runSeconds: 240, maintenance: true },
];

const STEP_MS = 5000;
const WARMUP_MS = 40_000;
const AFTER_LAST_ACTION_MS = 180_000;
const BEFORE_MS = 120_000;
const AFTER_FROM_MS = 60_000;
const AFTER_TO_MS = 180_000;

interface ActionRow {
  readonly t: number;
  readonly incident: string;
  readonly action: string;
  readonly workload: string;
  readonly harmful?: string;
}

interface RunResult {
  readonly scenario: string;
  readonly seed: number;
  readonly healable: number;
  readonly healedRight: number;
  readonly unhealable: number;
  readonly escalatedRight: number;
  readonly actions: ReadonlyArray<ActionRow>;
  readonly incidents: number;
  readonly recoverSeconds?: number;
  readonly notes: ReadonlyArray<string>;
  readonly wallSeconds: number;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

type Series = Map<string, Array<{ t: number; err?: number; p95?: number }>>;

function mean(xs: ReadonlyArray<number>): number | undefined {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined;
}

/** Why the action's target got worse after it (the definition in the header), or undefined. */
function worseAfter(series: Series, workload: string, t: number): string | undefined {
  const pts = series.get(workload) ?? [];
  const window = (from: number, to: number, pick: (p: { err?: number; p95?: number }) => number | undefined) =>
    mean(pts.filter((p) => p.t >= from && p.t <= to).map(pick).filter((v): v is number => v !== undefined && Number.isFinite(v)));
  const checks: Array<[string, (p: { err?: number; p95?: number }) => number | undefined, number, (v: number) => string]> = [
    ['error ratio', (p) => p.err, 0.005, (v) => `${(v * 100).toFixed(1)}%`],
    ['p95 latency', (p) => p.p95, 0.05, (v) => `${Math.round(v * 1000)} ms`],
  ];
  for (const [name, pick, abs, fmt] of checks) {
    const before = window(t - BEFORE_MS, t, pick);
    const after = window(t + AFTER_FROM_MS, t + AFTER_TO_MS, pick);
    if (before === undefined || after === undefined) continue;
    if (after > before * 1.2 && after - before > abs) return `${name} ${fmt(before)} before, ${fmt(after)} after`;
  }
  return undefined;
}

/** The workload a write changes: a pod's deployment, a deployment, or (a configmap) the workloads it configures. */
function workloadOf(a: ActionSpec, faults: ReadonlyArray<FaultRecord>): string {
  switch (a.kind) {
    case 'delete-pod': {
      const owner = faults.find((f) => a.pod.startsWith(`${f.cause.split('/')[1]}-`) && f.cause.startsWith(`${a.namespace}/`));
      return owner ? owner.cause : `${a.namespace}/${a.pod.replace(/-[a-z0-9]{6,10}-[a-z0-9]{5}$/, '')}`;
    }
    case 'patch-configmap': {
      const owner = faults.find((f) => (f.fault === 'bad-config' || f.fault === 'bad-feature-flag') && f.cause.startsWith(`${a.namespace}/`));
      return owner ? owner.cause : `${a.namespace}/configmap ${a.configMap}`;
    }
    case 'cordon':
    case 'uncordon':
    case 'drain':
      return `node/${a.node}`;
    default:
      return `${a.namespace}/${a.deployment}`;
  }
}

async function runScenario(s: Scenario, seed: number, flapSeconds: number): Promise<RunResult> {
  const started = Date.now();
  const runMs = (s.flapping ? flapSeconds : s.runSeconds) * 1000;
  const settings = s.maintenance ? withSettings(DEFAULT_SETTINGS, { safety: { maintenanceWindows: ['* 00:00-24:00'] } }) : DEFAULT_SETTINGS;
  const world = await startDrillWorld({ seed, intervalMs: STEP_MS, quiet: true, settings });
  const sim = world.sandbox.simulation;
  const scraper = new ScrapeSignalComputer(6 * STEP_MS);
  const series: Series = new Map();
  let stop = false;
  const sampler = (async () => {
    while (!stop) {
      const now = Date.now();
      scraper.ingest(now, parseTextFormat(sim.allMetrics(), 'sandbox').samples);
      for (const f of scraper.compute(now)) {
        if (f.target.kind !== 'service') continue;
        const key = `${f.target.namespace}/${f.target.name}`;
        const list = series.get(key) ?? [];
        list.push({ t: now, err: f.values.error_ratio, p95: f.values.latency_p95 });
        series.set(key, list);
      }
      await sleep(STEP_MS);
    }
  })();
  const ids: string[] = [];
  const notes: string[] = [];
  let injectedAt = 0;
  try {
    await sleep(WARMUP_MS);
    injectedAt = Date.now();
    for (const inj of [...s.injections].sort((a, b) => a.at - b.at)) {
      const wait = injectedAt + inj.at * 1000 - Date.now();
      if (wait > 0) await sleep(wait);
      const res = sim.handleControl('POST', '/sandbox/v1/faults', { fault: inj.fault, target: inj.target, durationSeconds: runMs / 1000 + 600, ...(inj.periodSeconds ? { periodSeconds: inj.periodSeconds } : {}) });
      if (res.status >= 300) throw new Error(`could not inject ${inj.fault} on ${inj.target}: ${JSON.stringify(res.body)}`);
      ids.push((res.body as FaultRecord).id);
    }
    const faults = () => ids.map((id) => sim.handleControl('GET', `/sandbox/v1/faults/${id}`, undefined).body as FaultRecord);
    // ends once every fault is healed or handed to a human, nothing is open, and the last action's after-window is over
    for (;;) {
      await sleep(2000);
      const now = Date.now();
      if (now - injectedAt >= runMs) break;
      if (s.flapping) continue;
      const list = world.runtime.core.remediator.list().filter((i) => i.openedAt >= injectedAt - 1000);
      const lastAction = Math.max(injectedAt, ...list.flatMap((i) => i.timeline.filter((e) => e.kind === 'acted').map((e) => e.t)));
      const open = list.some((i) => !['recovered', 'escalated', 'closed'].includes(i.state));
      const settled = faults().every((f) => f.remedy.actions.length === 0 || f.recoveredAt !== undefined);
      if (!open && settled && list.length > 0 && now - lastAction >= AFTER_LAST_ACTION_MS) break;
    }
    const truth = faults();
    const incidents = world.runtime.core.remediator.list().filter((i) => i.openedAt >= injectedAt - 1000);
    if (process.argv.includes('--trace')) {
      for (const i of incidents) {
        const line = i.timeline.map((e) => `+${Math.round((e.t - injectedAt) / 1000)}s ${e.kind}${e.kind === 'diagnosed' ? ` ${e.diagnosis.kind}` : e.kind === 'acted' ? ` ${describeAction(e.result.action)}` : e.kind === 'verified' ? ` ${e.verdict.status}` : e.kind === 'escalated' ? ` ${e.reason.slice(0, 120)}` : e.kind === 'note' ? ` ${e.text.slice(0, 120)}` : ''}`);
        console.log(`  trace ${i.id} ${i.state}${i.outcome ? ` (${i.outcome.kind})` : ''}: ${line.join(' | ')}`);
      }
    }
    // the after-window of the last actions: keep sampling until it has passed (bounded by the run's own length)
    const acted = incidents.flatMap((i) => i.timeline.flatMap((e) => (e.kind === 'acted' && !e.result.dryRun ? [{ t: e.t, incident: i, action: e.result.action }] : [])));
    const lastAction = Math.max(0, ...acted.map((a) => a.t));
    const waitAfter = lastAction + AFTER_TO_MS + STEP_MS - Date.now();
    if (waitAfter > 0) await sleep(waitAfter);
    const causes = new Set(truth.filter((f) => f.fault !== 'healthy-release').map((f) => f.cause));
    const actions: ActionRow[] = acted
      .sort((a, b) => a.t - b.t)
      .map(({ t, incident, action }) => {
        const workload = workloadOf(action, truth);
        const harm = !causes.has(workload) ? `${workload} is not a cause` : worseAfter(series, workload, t);
        return { t: t - injectedAt, incident: incident.id, action: describeAction(action), workload, ...(harm ? { harmful: harm } : {}) };
      });
    const healable = truth.filter((f) => f.remedy.actions.length > 0);
    const rightActions = (f: FaultRecord) => acted.filter((a) => workloadOf(a.action, truth) === f.cause && f.remedy.actions.includes(a.action.kind));
    const healedRight = healable.filter((f) => f.recoveredAt !== undefined && rightActions(f).some((a) => a.t <= Date.parse(f.recoveredAt!)));
    for (const f of healable) if (!healedRight.includes(f) && !s.maintenance) notes.push(`${f.fault} on ${f.cause} not healed by ${f.remedy.words}${f.recoveredAt ? ' (it recovered otherwise)' : ''}`);
    const unhealable = truth.filter((f) => f.remedy.actions.length === 0 && f.fault !== 'healthy-release');
    const escalatedRight = unhealable.filter((f) => escalatedRightly(s, f, incidents, acted, truth, injectedAt, notes));
    // a healable fault inside a maintenance window: no write at all, and a human told
    const told = incidents.some((i) => i.state === 'escalated' && i.timeline.some((e) => e.kind === 'escalated' && /maintenance window/.test(e.reason)));
    if (s.maintenance && !told) notes.push('no escalation naming the maintenance window');
    const recover = healable.map((f) => (f.recoveredAt ? Date.parse(f.recoveredAt) - injectedAt : undefined));
    return {
      scenario: s.name,
      seed,
      healable: s.maintenance ? 0 : healable.length,
      healedRight: s.maintenance ? 0 : healedRight.length,
      unhealable: s.maintenance ? 1 : unhealable.length,
      escalatedRight: s.maintenance ? (acted.length === 0 && told ? 1 : 0) : escalatedRight.length,
      actions,
      incidents: incidents.length,
      recoverSeconds: s.maintenance || recover.some((x) => x === undefined) || !recover.length ? undefined : Math.round(Math.max(...(recover as number[])) / 1000),
      notes,
      wallSeconds: Math.round((Date.now() - started) / 1000),
    };
  } finally {
    stop = true;
    await sampler;
    await world.dispose();
  }
}

/** An unhealable fault: escalated with context after at most 2 steps and 3 actions on it; flapping named within 10 min, nothing after. */
function escalatedRightly(s: Scenario, f: FaultRecord, incidents: ReadonlyArray<Incident>, acted: ReadonlyArray<{ t: number; action: ActionSpec }>, truth: ReadonlyArray<FaultRecord>, injectedAt: number, notes: string[]): boolean {
  const name = f.cause.split('/')[1];
  const mine = incidents.filter((i) => i.target.name === name || i.diagnosis?.details?.affected?.some((a) => a.name === name));
  const escalations = mine.flatMap((i) => i.timeline.filter((e): e is Extract<Incident['timeline'][number], { kind: 'escalated' }> => e.kind === 'escalated').map((e) => ({ i, e })));
  const onIt = acted.filter((a) => workloadOf(a.action, truth) === f.cause);
  if (!escalations.length) {
    notes.push(`${f.fault} on ${f.cause}: never escalated`);
    return false;
  }
  if (onIt.length > 3) {
    notes.push(`${f.fault} on ${f.cause}: ${onIt.length} actions (at most 3)`);
    return false;
  }
  if (s.flapping) {
    const named = escalations.find(({ e }) => /flapping/.test(e.reason));
    if (!named || named.e.t - injectedAt > 10 * 60_000) {
      notes.push(`flapping not named within 10 min (${named ? `${Math.round((named.e.t - injectedAt) / 1000)} s` : 'never'})`);
      return false;
    }
    if (onIt.some((a) => a.t > named.e.t)) {
      notes.push('actions after the flapping escalation');
      return false;
    }
    return true;
  }
  const first = escalations.sort((a, b) => a.e.t - b.e.t)[0];
  const steps = first.i.timeline.filter((e) => e.kind === 'acted' || e.kind === 'action-failed').length;
  if (steps > 2) {
    notes.push(`${f.fault} on ${f.cause}: escalated after ${steps} steps (at most 2)`);
    return false;
  }
  return true;
}

function table(results: ReadonlyArray<RunResult>): string {
  const rows = results.map((r) => {
    const withActions = new Set(r.actions.map((a) => a.incident)).size;
    return [
      r.scenario,
      String(r.seed),
      r.healable ? `${r.healedRight}/${r.healable}` : '—',
      r.unhealable ? `${r.escalatedRight}/${r.unhealable}` : '—',
      String(r.actions.filter((a) => a.harmful).length),
      withActions ? (r.actions.length / withActions).toFixed(1) : '0',
      String(r.actions.length),
      r.recoverSeconds !== undefined ? `${r.recoverSeconds} s` : '—',
      [...r.actions.map((a) => `+${Math.round(a.t / 1000)}s ${a.action}${a.harmful ? ` [HARM: ${a.harmful}]` : ''}`), ...r.notes.map((n) => `NOTE ${n}`)].join('; '),
    ];
  });
  return textTable(['scenario', 'seed', 'healed right', 'escalated right', 'harmful', 'actions/incident', 'actions', 'recover', 'what happened'], rows);
}

function summary(results: ReadonlyArray<RunResult>): string {
  const names = [...new Set(results.map((r) => r.scenario))];
  return textTable(
    ['scenario', 'runs', 'healed right', 'escalated right', 'harmful', 'actions/incident', 'recover (median)'],
    names.map((n) => {
      const rs = results.filter((r) => r.scenario === n);
      const sum = (f: (r: RunResult) => number) => rs.reduce((a, r) => a + f(r), 0);
      const acted = sum((r) => new Set(r.actions.map((a) => a.incident)).size);
      const rec = rs.map((r) => r.recoverSeconds).filter((x): x is number => x !== undefined).sort((a, b) => a - b);
      return [
        n,
        String(rs.length),
        sum((r) => r.healable) ? `${sum((r) => r.healedRight)}/${sum((r) => r.healable)}` : '—',
        sum((r) => r.unhealable) ? `${sum((r) => r.escalatedRight)}/${sum((r) => r.unhealable)}` : '—',
        String(sum((r) => r.actions.filter((a) => a.harmful).length)),
        acted ? (sum((r) => r.actions.length) / acted).toFixed(1) : '0',
        rec.length ? `${rec[Math.floor((rec.length - 1) / 2)]} s` : '—',
      ];
    }),
  );
}

async function main(): Promise<void> {
  const combine = process.argv.indexOf('--combine');
  if (combine >= 0) {
    const files = process.argv.slice(combine + 1).filter((a) => !a.startsWith('--'));
    if (!files.length) throw new Error('--combine needs the JSON files written by --json');
    const results = files.flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunResult));
    console.log(`bench:harm — ${results.length} run(s) from ${files.join(', ')}\n\n${table(results)}\n\n${summary(results)}`);
    return;
  }
  const seeds = arg('seed') ? arg('seed')!.split(',').map(Number) : Array.from({ length: Number(arg('seeds') ?? '3') }, (_, i) => i + 1);
  const which = arg('scenarios') ?? 'all';
  const chosen = which === 'all' ? SCENARIOS : which.split(',').map((n) => SCENARIOS.find((s) => s.name === n) ?? (() => { throw new Error(`--scenarios: unknown scenario "${n}"; use all or some of ${SCENARIOS.map((s) => s.name).join(', ')}`); })());
  const flapSeconds = Number(arg('flap-minutes') ?? '30') * 60;
  if (!Number.isFinite(flapSeconds) || flapSeconds <= 0) throw new Error(`--flap-minutes must be a positive number, got "${arg('flap-minutes')}"`);
  const parallel = Math.max(1, Number(arg('parallel') ?? '1'));
  const json = arg('json');
  if (json) writeFileSync(json, '', { flag: 'a' });
  const jobs = seeds.flatMap((seed) => chosen.map((s) => ({ s, seed })));
  const results: RunResult[] = [];
  const worker = async () => {
    for (let job = jobs.shift(); job; job = jobs.shift()) {
      process.stderr.write(`seed ${job.seed}: ${job.s.name} ...\n`);
      const r = await runScenario(job.s, job.seed, flapSeconds);
      process.stderr.write(`seed ${job.seed}: ${job.s.name}: ${r.actions.length} action(s), ${r.actions.filter((a) => a.harmful).length} harmful, ${r.wallSeconds} s\n`);
      results.push(r);
      if (json) appendFileSync(json, `${JSON.stringify(r)}\n`);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  console.log(`\nbench:harm — auto mode, 5 s scrape interval, seeds ${seeds.join(',')}, ${parallel} run(s) at a time\n\n${table(results)}\n\n${summary(results)}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
