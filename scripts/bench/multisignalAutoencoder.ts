/**
 * The measurement behind the multi-signal model's family: an autoencoder (TensorFlow.js, wasm backend) in place of PCA
 * T²/Q, everything else as in JointModel (robust standardisation on the training rows, causal median of 3, two
 * interleaved folds for an out-of-sample calibration, the same smoothing, 0.1 % target, score and state). Prints the
 * same pointwise figures as bench:multisignal for the autoencoder, and the model for comparison.
 *
 *   npx tsx scripts/bench/multisignalAutoencoder.ts [--corpus .cache/multisignal]
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AnomalyState } from '../../src/core/detect/anomalyState';
import { JOINT_STATE_CONFIG } from '../../src/core/detect/csvDetection';
import { DEFAULT_JOINT_CONFIG, calibratedScore } from '../../src/core/detect/jointModel';
import { alphaForHalfLife } from '../../src/core/detect/robustStats';
import { loadTf, type Tf } from '../../src/infra/tfjs/backend';
import { detectFlags, loadCorpus } from './multisignal';
import { TRAIN_ROWS, generateCorpus, writeCorpus, type CorpusFile } from './multisignalCorpus';

const EPOCHS = 300;
const cfg = DEFAULT_JOINT_CONFIG;

function median3(rows: number[][]): number[][] {
  return rows.map((r, i) => r.map((_, c) => {
    const xs = rows.slice(Math.max(0, i - 2), i + 1).map((x) => x[c]).filter(Number.isFinite).sort((a, b) => a - b);
    return xs.length ? (xs.length % 2 ? xs[xs.length >> 1] : (xs[xs.length / 2 - 1] + xs[xs.length / 2]) / 2) : NaN;
  }));
}

function q(sorted: number[], p: number): number {
  const pos = (sorted.length - 1) * p;
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function standardiser(train: number[][]): (r: number[]) => number[] {
  const d = train[0].length;
  const med: number[] = [];
  const scale: number[] = [];
  for (let c = 0; c < d; c++) {
    const xs = train.map((r) => r[c]).filter(Number.isFinite).sort((a, b) => a - b);
    const m = xs.length ? q(xs, 0.5) : 0;
    const iqr = xs.length ? (q(xs, 0.75) - q(xs, 0.25)) / 1.349 : 0;
    const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1)) : 0;
    med.push(m);
    scale.push(iqr || sd || Math.max(Math.abs(m) * 0.1, 1e-6));
  }
  return (r) => r.map((v, c) => (Number.isFinite(v) ? Math.max(-cfg.clip, Math.min(cfg.clip, (v - med[c]) / scale[c])) : 0));
}

function train(tf: Tf, rows: number[][], seed: number): (x: number[][]) => number[] {
  const d = rows[0].length;
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed * 10 + k });
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [d], units: 16, activation: 'relu', kernelInitializer: init(1) }),
      tf.layers.dense({ units: Math.max(2, Math.ceil(d / 2)), activation: 'linear', kernelInitializer: init(2) }),
      tf.layers.dense({ units: 16, activation: 'relu', kernelInitializer: init(3) }),
      tf.layers.dense({ units: d, activation: 'linear', kernelInitializer: init(4) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'meanSquaredError' });
  const x = tf.tensor2d(rows);
  // fit() is async; full-batch optimizer steps keep the bench synchronous and deterministic
  for (let e = 0; e < EPOCHS; e++) {
    const loss = model.optimizer.minimize(() => tf.losses.meanSquaredError(x, model.predict(x) as ReturnType<typeof tf.tensor2d>) as ReturnType<typeof tf.scalar>, true);
    loss?.dispose();
  }
  x.dispose();
  return (xs) => tf.tidy(() => {
    const t = tf.tensor2d(xs);
    const err = tf.mean(tf.square(tf.sub(model.predict(t) as ReturnType<typeof tf.tensor2d>, t)), 1);
    return Array.from(err.dataSync());
  });
}

function autoencoderFlags(tf: Tf, file: CorpusFile): number[] {
  const raw = file.csv.trim().split('\n').slice(1).map((l) => l.split(',').slice(1).map((c) => (c === '' ? NaN : Number(c))));
  const smooth = median3(raw);
  const z = smooth.map(standardiser(smooth.slice(0, TRAIN_ROWS)));
  const tr = z.slice(0, TRAIN_ROWS);
  const block = Math.max(1, Math.floor(tr.length / 10));
  const fold = tr.map((_, i) => Math.floor(i / block) % 2);
  const oof = new Array<number>(tr.length);
  for (const f of [0, 1]) {
    const score = train(tf, tr.filter((_, i) => fold[i] !== f), 11 + f);
    const idx = tr.map((_, i) => i).filter((i) => fold[i] === f);
    score(idx.map((i) => tr[i])).forEach((e, k) => (oof[idx[k]] = e));
  }
  const ref = Math.max(q([...oof].sort((a, b) => a - b), 1 - cfg.falseAlarmRate), 1e-9);
  const alpha = alphaForHalfLife(cfg.scoreHalfLife);
  let e: number | undefined;
  const cal = oof.map((x) => (e = e === undefined ? Math.log(x / ref) : e + alpha * (Math.log(Math.max(x / ref, 1e-6)) - e))).sort((a, b) => a - b);
  const errors = train(tf, tr, 13)(z.slice(TRAIN_ROWS));
  const state = new AnomalyState(JOINT_STATE_CONFIG);
  let s = q(cal, 0.5);
  return [...new Array<number>(TRAIN_ROWS).fill(0), ...errors.map((x) => {
    s += alpha * (Math.log(Math.max(x / ref, 1e-6)) - s);
    return state.step(calibratedScore(cal, s, cfg.falseAlarmRate)).inState ? 1 : 0;
  })];
}

function f1(files: CorpusFile[], flags: number[][]): string {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  files.forEach((f, k) => {
    for (let i = TRAIN_ROWS; i < f.labels.length; i++) {
      const y = f.labels[i];
      const p = flags[k][i];
      if (y && p) tp++;
      else if (!y && p) fp++;
      else if (y) fn++;
      else tn++;
    }
  });
  return `F1 ${((2 * tp) / Math.max(1, 2 * tp + fp + fn)).toFixed(3)}  false-alarm ${((100 * fp) / Math.max(1, fp + tn)).toFixed(2)} %  missed ${((100 * fn) / Math.max(1, fn + tp)).toFixed(1)} %`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { corpus: { type: 'string' } } });
  const dir = path.resolve(values.corpus ?? '.cache/multisignal');
  let files: CorpusFile[];
  if (existsSync(path.join(dir, 'labels.json'))) files = loadCorpus(dir);
  else {
    files = generateCorpus();
    writeCorpus(dir, files);
  }
  const { tf, backend } = await loadTf();
  const t0 = Date.now();
  const ae = files.map((f) => autoencoderFlags(tf, f));
  const aeMs = Date.now() - t0;
  console.log(`autoencoder (${backend}, ${EPOCHS} epochs, 3 trainings per file)  ${f1(files, ae)}  (${(aeMs / 1000).toFixed(1)} s)`);
  const t1 = Date.now();
  const pca = files.map((f) => detectFlags(f, {}));
  console.log(`multi-signal model (PCA T²/Q)                         ${f1(files, pca)}  (${((Date.now() - t1) / 1000).toFixed(1)} s)`);
  console.log(`load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
}

void main();
