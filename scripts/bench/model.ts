// The multi-signal model: throughput (windows scored per second through TfjsModel.score — scaling,
// autoencoder, calibration, contributions — and through the bare network, on wasm and cpu), then
// detection after a per-service fine-tune: seeded synthetic services, faults injected into a held-out day.
// Usage: npm run bench:model [-- --seconds S --batch N --services N]. bench:detect calls benchModel().
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Tensor2D } from '@tensorflow/tfjs';
import { INPUT_WIDTH } from '../../src/infra/tfjs/autoencoder';
import { loadTf } from '../../src/infra/tfjs/backend';
import { INJECTED_FAULTS } from '../../src/infra/tfjs/baseModel';
import { STEPS_PER_DAY, injectRamp, syntheticService, windowsOf } from '../../src/infra/tfjs/syntheticData';
import { TfjsModel } from '../../src/infra/tfjs/tfjsModel';
import type { RawWindow } from '../../src/infra/tfjs/windowSpec';

export interface ModelBenchFigure {
  readonly backend: string;
  /** Windows/s through TfjsModel.score, the path the detector uses. */
  readonly scoreWindowsPerSecond: number;
  /** Windows/s through the bare network's predict. */
  readonly predictWindowsPerSecond: number;
}

export interface ModelBenchResult {
  readonly batch: number;
  readonly reason: string;
  readonly figures: ReadonlyArray<ModelBenchFigure>;
}

async function timed(seconds: number, batch: number, fn: () => Promise<void>): Promise<number> {
  await fn(); // warm-up: kernels compile, buffers allocate
  let windows = 0;
  const t0 = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < seconds) {
    await fn();
    windows += batch;
    elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  }
  return Math.round(windows / elapsed);
}

export async function benchModel(options: { seconds?: number; batch?: number; backends?: ReadonlyArray<'wasm' | 'cpu'> } = {}): Promise<ModelBenchResult> {
  const seconds = options.seconds ?? 3;
  const batch = options.batch ?? 1024;
  const runtime = await loadTf();
  const { tf } = runtime;
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-model-'));
  const model = new TfjsModel({ stateDir });
  const rows = syntheticService(7, 2).rows;
  await model.fineTune('bench/service', windowsOf(rows, 4, 0, STEPS_PER_DAY));
  const windows = windowsOf(rows, 1, STEPS_PER_DAY).slice(0, batch);
  const figures: ModelBenchFigure[] = [];
  try {
    for (const backend of options.backends ?? ['wasm', 'cpu']) {
      if (!(await tf.setBackend(backend))) continue;
      const scoreRate = await timed(seconds, windows.length, async () => {
        await model.score('bench/service', windows);
      });
      const net = tf.sequential({ layers: [tf.layers.dense({ inputShape: [INPUT_WIDTH], units: 32, activation: 'relu' }), tf.layers.dense({ units: 8 }), tf.layers.dense({ units: 32, activation: 'relu' }), tf.layers.dense({ units: INPUT_WIDTH })] });
      const x = tf.randomNormal([windows.length, INPUT_WIDTH], 0, 1, 'float32', 1) as Tensor2D;
      const predictRate = await timed(seconds, windows.length, async () => {
        const y = net.predict(x) as Tensor2D;
        await y.data();
        y.dispose();
      });
      x.dispose();
      net.dispose();
      figures.push({ backend, scoreWindowsPerSecond: scoreRate, predictWindowsPerSecond: predictRate });
    }
  } finally {
    await tf.setBackend(runtime.backend);
    await model.dispose();
    rmSync(stateDir, { recursive: true, force: true });
  }
  return { batch: windows.length, reason: runtime.reason, figures };
}

export interface DetectionFigure {
  /** 'normal' or an INJECTED_FAULTS name. */
  readonly case: string;
  /** Share of held-out windows scoring at least 0.9, per service. */
  readonly shareAtLeast09: ReadonlyArray<number>;
}

/**
 * Each service: fine-tune on two days of its synthetic history (seeded), then score its held-out
 * third day as is and with each fault ramped in over a window's last 6 steps.
 */
export async function evaluateDetection(services = 6, seed = 2024): Promise<ReadonlyArray<DetectionFigure>> {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-detect-'));
  const model = new TfjsModel({ stateDir });
  const figures = new Map<string, number[]>([['normal', []]]);
  const share = (scores: ReadonlyArray<{ score: number }>) => scores.filter((s) => s.score >= 0.9).length / scores.length;
  try {
    for (let i = 0; i < services; i++) {
      const key = `bench/svc-${i}`;
      const svc = syntheticService(seed + i, 3, key);
      await model.fineTune(key, windowsOf(svc.rows, 2, 0, 2 * STEPS_PER_DAY));
      const held = windowsOf(svc.rows, 3, 2 * STEPS_PER_DAY);
      figures.get('normal')?.push(share(await model.score(key, held)));
      for (const fault of INJECTED_FAULTS) {
        const faulty = held.map((w) => fault.ramps.reduce<RawWindow>((acc, r) => injectRamp(acc, r.signals, r.factor), w));
        if (!figures.has(fault.name)) figures.set(fault.name, []);
        figures.get(fault.name)?.push(share(await model.score(key, faulty)));
      }
    }
  } finally {
    await model.dispose();
    rmSync(stateDir, { recursive: true, force: true });
  }
  return [...figures].map(([name, shares]) => ({ case: name, shareAtLeast09: shares }));
}

if (require.main === module) {
  const arg = (flag: string) => {
    const i = process.argv.indexOf(flag);
    return i > 0 ? Number(process.argv[i + 1]) : undefined;
  };
  const main = async () => {
    const r = await benchModel({ seconds: arg('--seconds'), batch: arg('--batch') });
    console.log(`model throughput, batches of ${r.batch} windows (12 steps × 8 signals); backend choice: ${r.reason}`);
    console.log(`load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} on ${os.cpus().length} cores (other work shares them)`);
    for (const f of r.figures) {
      console.log(`  ${f.backend.padEnd(5)} score: ${f.scoreWindowsPerSecond.toLocaleString('en-US').padStart(8)} windows/s   bare predict: ${f.predictWindowsPerSecond.toLocaleString('en-US').padStart(8)} windows/s`);
    }
    const wasm = r.figures.find((f) => f.backend === 'wasm');
    console.log(wasm ? `target ≥ 5,000 windows/s on wasm: ${wasm.scoreWindowsPerSecond >= 5000 ? 'met' : 'NOT met'}` : 'the wasm backend was not available');
    const services = arg('--services') ?? 6;
    console.log(`\ndetection after a per-service fine-tune (${services} synthetic services, 2 days history, held-out day): share of windows scoring ≥ 0.9`);
    for (const f of await evaluateDetection(services)) {
      const mean = f.shareAtLeast09.reduce((a, b) => a + b, 0) / f.shareAtLeast09.length;
      console.log(`  ${f.case.padEnd(22)} mean ${(mean * 100).toFixed(1).padStart(5)}%   per service: ${f.shareAtLeast09.map((x) => (x * 100).toFixed(1)).join(' ')}`);
    }
  };
  main().then(
    () => undefined,
    (err: unknown) => {
      console.error(`bench:model failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
}
