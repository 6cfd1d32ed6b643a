// Throughput of the multi-signal model: windows scored per second through TfjsModel.score
// (scaling, autoencoder, calibration, contributions) and through the bare network, on wasm and cpu.
// Usage: npm run bench:model [-- --seconds S --batch N]. Also called by bench:detect through benchModel().
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Tensor2D } from '@tensorflow/tfjs';
import { INPUT_WIDTH } from '../../src/infra/tfjs/autoencoder';
import { loadTf } from '../../src/infra/tfjs/backend';
import { STEPS_PER_DAY, syntheticService, windowsOf } from '../../src/infra/tfjs/syntheticData';
import { TfjsModel } from '../../src/infra/tfjs/tfjsModel';

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

if (require.main === module) {
  const arg = (flag: string) => {
    const i = process.argv.indexOf(flag);
    return i > 0 ? Number(process.argv[i + 1]) : undefined;
  };
  benchModel({ seconds: arg('--seconds'), batch: arg('--batch') }).then(
    (r) => {
      console.log(`model throughput, batches of ${r.batch} windows (12 steps × 8 signals); backend choice: ${r.reason}`);
      console.log(`load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} on ${os.cpus().length} cores (other work shares them)`);
      for (const f of r.figures) {
        console.log(`  ${f.backend.padEnd(5)} score: ${f.scoreWindowsPerSecond.toLocaleString('en-US').padStart(8)} windows/s   bare predict: ${f.predictWindowsPerSecond.toLocaleString('en-US').padStart(8)} windows/s`);
      }
      const wasm = r.figures.find((f) => f.backend === 'wasm');
      console.log(wasm ? `target ≥ 5,000 windows/s on wasm: ${wasm.scoreWindowsPerSecond >= 5000 ? 'met' : 'NOT met'}` : 'the wasm backend was not available');
    },
    (err: unknown) => {
      console.error(`bench:model failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
}
