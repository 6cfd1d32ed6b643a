/**
 * npm run bench:live-model — the multi-signal model in the live loop: does it add false alarms, does
 * detection still work, and how fast does it score in the loop's own setting (one window per service
 * per interval)?
 *
 * The sandbox SIMULATION runs in virtual time (compressed 600 s days); every 5 s its metrics go through the
 * real Prometheus text parser and ScrapeSignalComputer into two HealingLoops fed the same frames: one
 * without the model (rules + baselines) and one with TfjsModel (wasm backend, the shipped base model,
 * fine-tuned online per service). Between frames the bench waits for the model's work in flight, as real
 * time would. After a one-hour warm-up, a fault-free stretch counts new incidents (correlator) and raised
 * anomalies per service; then a memory leak on shop/cart checks that both still detect it.
 *
 * Env: VIGIL_BENCH_SEEDS (default 11,23), VIGIL_BENCH_QUIET_HOURS (default 6).
 * Figures depend only on the seeds except the timings, which were taken on a shared, loaded 2-core machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Correlator } from '../../src/core/diagnose/correlation';
import type { CorrelationUpdate } from '../../src/core/diagnose/incidentGrouping';
import { createHealingCore } from '../../src/core/loop/healingCore';
import { VirtualClock } from '../../src/core/loop/virtualClock';
import type { Anomaly } from '../../src/core/model/anomaly';
import type { SampleFrame } from '../../src/core/model/signal';
import { targetKey } from '../../src/core/model/target';
import { ScrapeSignalComputer } from '../../src/core/observe/scrapeSignals';
import type { Disposable, EventsPort, LoggerPort, MetricsPort, WorkloadInventory } from '../../src/core/ports';
import { DEFAULT_SETTINGS, withSettings } from '../../src/core/settings';
import { buildInventory, type ClusterObjects } from '../../src/infra/kubernetes/inventory';
import { parseTextFormat } from '../../src/infra/prometheus/textFormat';
import { loadTf } from '../../src/infra/tfjs/backend';
import { TfjsModel } from '../../src/infra/tfjs/tfjsModel';
import { Simulation } from '../../src/sandbox/sim/simulation';
import { ObjectStore } from '../../src/sandbox/store';
import { MemoryStore } from '../../src/core/loop/memoryStore';
import { READ_ONLY_CLUSTER } from './virtualCluster';

const SCRAPE_MS = 5_000;
const DAY_SECONDS = 600;
const WARMUP_MS = 3_600_000;
const QUIET_MS = Number(process.env.VIGIL_BENCH_QUIET_HOURS ?? 6) * 3_600_000;
const FAULT_MS = 300_000;
const T0 = Date.parse('2026-03-02T00:00:00Z');
const SEEDS = (process.env.VIGIL_BENCH_SEEDS ?? '11,23').split(',').map(Number);

class CountingCorrelator extends Correlator {
  readonly fresh: Array<{ at: number; target: string; kind: string }> = [];
  readonly anomalies: Anomaly[] = [];
  override observeAnomalies(list: ReadonlyArray<Anomaly>): CorrelationUpdate[] {
    this.anomalies.push(...list);
    return this.count(super.observeAnomalies(list));
  }
  override observeFrames(frames: ReadonlyArray<SampleFrame>): CorrelationUpdate[] {
    return this.count(super.observeFrames(frames));
  }
  private count(us: CorrelationUpdate[]): CorrelationUpdate[] {
    for (const u of us) if (u.isNew) this.fresh.push({ at: u.diagnosis.t, target: targetKey(u.target), kind: u.diagnosis.kind });
    return us;
  }
}

const silent: LoggerPort = { log: () => undefined, child: () => silent };
const noop: Disposable = { dispose: () => undefined };

/** The live composition in mode off (it diagnoses, never writes), fed frames by hand through the pipeline. */
function loopOf(clock: VirtualClock, inventory: () => WorkloadInventory, model?: TfjsModel) {
  const correlator = new CountingCorrelator();
  const metrics: MetricsPort = { discoverTargets: async () => [], range: async () => [], subscribe: () => noop, onStatus: () => noop };
  const events: EventsPort = { inventory, subscribe: () => noop, onStatus: () => noop, recentLogs: async () => [] };
  const core = createHealingCore(
    { clock, logger: silent, store: new MemoryStore(), cluster: READ_ONLY_CLUSTER, metrics, events, model },
    withSettings(DEFAULT_SETTINGS, { automation: { mode: 'off' }, prometheus: { scrapeIntervalSeconds: 5, rateWindowSeconds: 30 } }),
    { identity: 'bench', playbooks: () => [], lease: false, correlator },
  );
  return { loop: core.pipeline, core, correlator };
}

interface SeedResult {
  seed: number;
  services: number;
  quiet: { base: { incidents: number; anomalies: number }; model: { incidents: number; anomalies: number; byModel: number } };
  fault: { base?: number; model?: number; modelRaised: number };
  scored: number;
  scoreMs: number;
  /** Mean ms of one single-window call with nothing queued ahead. */
  bareMs: number;
  rssMb: number;
  fineTunes: number;
  wallMs: number;
  examples: string[];
}

async function runSeed(seed: number): Promise<SeedResult> {
  const wall = Date.now();
  let t = T0;
  const store = new ObjectStore(20_000, () => t);
  const sim = new Simulation(store, { seed, daySeconds: DAY_SECONDS, podStartDelayMs: 1000, evictionTimeoutMs: 20_000, now: () => t });
  sim.seedTopology();
  const scraper = new ScrapeSignalComputer(30_000);
  const list = (r: 'pods' | 'deployments' | 'replicasets' | 'nodes') => store.list(r).items as unknown[];
  const inventory = () => buildInventory({ pods: list('pods'), deployments: list('deployments'), replicaSets: list('replicasets'), nodes: list('nodes') } as unknown as ClusterObjects);
  const clock = new VirtualClock(T0);
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-live-model-'));
  const model = new TfjsModel({ stateDir, baseModelDir: path.resolve('models/base') });
  const base = loopOf(clock, inventory);
  const withModel = loopOf(clock, inventory, model);
  // wall time of each live score call (the loop's own stats run on its virtual clock)
  const timing = { calls: 0, windows: 0, ms: 0 };
  const real = model.score.bind(model);
  model.score = async (key, windows) => {
    const t0 = process.hrtime.bigint();
    const out = await real(key, windows);
    timing.ms += Number(process.hrtime.bigint() - t0) / 1e6;
    timing.calls++;
    timing.windows += windows.length;
    if (process.env.VIGIL_BENCH_DEBUG && out[0] && out[0].score > 0.9 && t > T0 + WARMUP_MS) console.log(`    [${(t - T0) / 1000}s] ${key} ${out[0].score.toFixed(3)} ${JSON.stringify(out[0].contributions)}`);
    return out;
  };
  const evidence = withModel.loop.modelEvidence!;
  const services = new Set<string>();
  const step = async () => {
    t += SCRAPE_MS;
    sim.tick();
    await clock.advanceTo(t);
    scraper.ingest(t, parseTextFormat(sim.allMetrics(), 'sandbox').samples);
    const frames = scraper.compute(t);
    for (const f of frames) if (f.target.kind === 'service') services.add(targetKey(f.target));
    base.loop.onFrames(frames);
    withModel.loop.onFrames(frames);
    await evidence.idle(); // real time passes between frames; the model's work finishes in it
  };
  while (t < T0 + WARMUP_MS) await step();
  const quietFrom = t;
  const marks = { base: [base.correlator.fresh.length, base.correlator.anomalies.length], model: [withModel.correlator.fresh.length, withModel.correlator.anomalies.length] };
  while (t < quietFrom + QUIET_MS) await step();
  const quiet = {
    base: { incidents: base.correlator.fresh.length - marks.base[0], anomalies: base.correlator.anomalies.length - marks.base[1] },
    model: {
      incidents: withModel.correlator.fresh.length - marks.model[0],
      anomalies: withModel.correlator.anomalies.length - marks.model[1],
      byModel: withModel.correlator.anomalies.slice(marks.model[1]).filter((a) => a.reason.startsWith('model:')).length,
    },
  };
  const perQuarter: number[] = [];
  for (const a of withModel.correlator.anomalies.slice(marks.model[1])) {
    if (!a.reason.startsWith('model:')) continue;
    const q = Math.floor((a.t - quietFrom) / 900_000);
    perQuarter[q] = (perQuarter[q] ?? 0) + 1;
  }
  if (process.env.VIGIL_BENCH_DEBUG) console.log(`  model-raised anomalies per quarter hour: ${Array.from(perQuarter, (x) => x ?? 0).join(' ')}`);
  const examples = withModel.correlator.anomalies.slice(marks.model[1]).filter((a) => a.reason.startsWith('model:')).slice(0, 3).map((a) => `${targetKey(a.target)}: ${a.reason}`);
  // a memory leak on shop/cart: the first anomaly on it, in scrape intervals after injection
  const r = sim.handleControl('POST', '/sandbox/v1/faults', { fault: 'memory-leak', target: 'shop/cart', durationSeconds: FAULT_MS / 1000 });
  if (r.status !== 201) throw new Error(`fault refused: ${JSON.stringify(r.body)}`);
  const injected = t;
  const firstOn = (c: CountingCorrelator) => c.anomalies.find((a) => a.t > injected && targetKey(a.target) === 'service:shop/cart')?.t;
  const fromAnomaly = withModel.correlator.anomalies.length;
  while (t < injected + FAULT_MS) await step();
  const late = (at: number | undefined) => (at === undefined ? undefined : Math.round((at - injected) / SCRAPE_MS));
  const fault = { base: late(firstOn(base.correlator)), model: late(firstOn(withModel.correlator)), modelRaised: withModel.correlator.anomalies.slice(fromAnomaly).filter((a) => a.reason.startsWith('model:')).length };
  // the bare cost of one live call, without fine-tunes ahead of it in the model's queue
  const window = evidence.serviceKeys().length ? await (async () => {
    const key = 'service:shop/cart';
    const rows = Array.from({ length: 12 }, () => model.signals.map(() => 1));
    const t1 = process.hrtime.bigint();
    for (let i = 0; i < 500; i++) await real(key, [rows]);
    return Number(process.hrtime.bigint() - t1) / 1e6 / 500;
  })() : NaN;
  const result: SeedResult = { seed, services: services.size, quiet, fault, scored: timing.windows, scoreMs: timing.ms, bareMs: window, rssMb: process.memoryUsage().rss / 1048576, fineTunes: evidence.stats.fineTunes, wallMs: Date.now() - wall, examples };
  await model.dispose();
  rmSync(stateDir, { recursive: true, force: true });
  return result;
}

async function main(): Promise<void> {
  const { backend, reason } = await loadTf();
  console.log(`bench:live-model — the model in the live loop, tfjs backend ${backend} (${reason})`);
  console.log(`per seed: ${WARMUP_MS / 3_600_000} h warm-up, ${QUIET_MS / 3_600_000} h fault-free (sandbox days of ${DAY_SECONDS} s), then a memory leak on shop/cart for ${FAULT_MS / 1000} s; scrape every ${SCRAPE_MS / 1000} s\n`);
  const results: SeedResult[] = [];
  for (const seed of SEEDS) {
    const r = await runSeed(seed);
    results.push(r);
    const hours = QUIET_MS / 3_600_000;
    console.log(`seed ${seed}: ${r.services} services; fault-free ${hours} h: new incidents ${r.quiet.base.incidents} without the model, ${r.quiet.model.incidents} with it; raised anomalies ${r.quiet.base.anomalies} vs ${r.quiet.model.anomalies} (${r.quiet.model.byModel} raised by the model)`);
    console.log(`  memory leak on shop/cart: first anomaly after ${r.fault.base ?? 'never'} intervals without the model, ${r.fault.model ?? 'never'} with it (${r.fault.modelRaised} anomalies raised by the model during the fault)`);
    console.log(`  model: ${r.scored} windows scored live in ${(r.scoreMs / 1000).toFixed(1)} s of model time = ${Math.round(r.scored / Math.max(r.scoreMs / 1000, 1e-9))} windows/s (${(r.scoreMs / Math.max(r.scored, 1)).toFixed(2)} ms per window, one window per call), ${r.fineTunes} fine-tunes; a single-window call alone takes ${r.bareMs.toFixed(2)} ms (${Math.round(1000 / r.bareMs)} windows/s); rss ${r.rssMb.toFixed(0)} MB; ${(r.wallMs / 1000).toFixed(0)} s wall`);
    for (const e of r.examples) console.log(`    e.g. ${e}`);
  }
  const sum = (f: (r: SeedResult) => number) => results.reduce((a, r) => a + f(r), 0);
  const serviceDays = sum((r) => r.services) * (QUIET_MS / 86_400_000) / results.length * results.length;
  console.log(`\nfalse incidents per service per real day: ${(sum((r) => r.quiet.base.incidents) / serviceDays).toFixed(2)} without the model, ${(sum((r) => r.quiet.model.incidents) / serviceDays).toFixed(2)} with it`);
  console.log(`live scoring: ${Math.round(sum((r) => r.scored) / (sum((r) => r.scoreMs) / 1000))} windows/s on ${backend} (one window per service per interval, including the wait in the model's queue)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
