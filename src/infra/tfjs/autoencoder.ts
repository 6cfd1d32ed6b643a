import type { LayersModel, Tensor2D } from '@tensorflow/tfjs';
import type { Tf } from './backend';
import { SeededRandom } from './random';
import { MODEL_SIGNALS, WINDOW_SIZE } from './windowSpec';

/**
 * A small dense autoencoder over a flattened window (WINDOW_SIZE × signals): 96 → 32 → 8 → 32 → 96.
 * The 8-wide bottleneck can only hold how the signals usually move together (load drives
 * latency and cpu), so a window where they part ways reconstructs badly.
 */
export const ARCHITECTURE = 'dense autoencoder 96-32(relu)-8(linear)-32(relu)-96(linear), masked MSE, Adam';
export const INPUT_WIDTH = WINDOW_SIZE * MODEL_SIGNALS.length;
const HIDDEN = 32;
const BOTTLENECK = 8;

export function buildAutoencoder(tf: Tf, seed: number): LayersModel {
  const rng = new SeededRandom(seed);
  const init = () => tf.initializers.glorotUniform({ seed: rng.int() });
  return tf.sequential({
    name: 'vigil_autoencoder',
    layers: [
      tf.layers.dense({ inputShape: [INPUT_WIDTH], units: HIDDEN, activation: 'relu', kernelInitializer: init(), name: 'encode' }),
      tf.layers.dense({ units: BOTTLENECK, activation: 'linear', kernelInitializer: init(), name: 'bottleneck' }),
      tf.layers.dense({ units: HIDDEN, activation: 'relu', kernelInitializer: init(), name: 'decode' }),
      tf.layers.dense({ units: INPUT_WIDTH, activation: 'linear', kernelInitializer: init(), name: 'reconstruct' }),
    ],
  });
}

/** A copy with the same weights, so a service can fine-tune without touching the base model. */
export function cloneAutoencoder(tf: Tf, model: LayersModel): LayersModel {
  const copy = buildAutoencoder(tf, 0);
  copy.setWeights(model.getWeights());
  return copy;
}

export interface TrainOptions {
  readonly epochs: number;
  readonly batchSize?: number;
  readonly learningRate?: number;
  /** Seeds the batch order. */
  readonly seed: number;
  readonly onEpoch?: (epoch: number, loss: number) => void;
}

/**
 * Trains on scaled windows with a masked MSE (missing values neither count nor teach), batches
 * in a seeded order. Returns the last epoch's mean loss.
 */
export function trainAutoencoder(tf: Tf, model: LayersModel, values: Float32Array, mask: Float32Array, options: TrainOptions): number {
  const n = values.length / INPUT_WIDTH;
  if (n === 0 || options.epochs <= 0) return NaN;
  const batchSize = Math.min(options.batchSize ?? 128, n);
  const optimizer = tf.train.adam(options.learningRate ?? 0.003);
  const rng = new SeededRandom(options.seed);
  const order = Array.from({ length: n }, (_, i) => i);
  const batchValues = new Float32Array(batchSize * INPUT_WIDTH);
  const batchMask = new Float32Array(batchSize * INPUT_WIDTH);
  let epochLoss = NaN;
  try {
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      rng.shuffle(order);
      let sum = 0;
      let batches = 0;
      for (let start = 0; start < n; start += batchSize) {
        const size = Math.min(batchSize, n - start);
        for (let b = 0; b < size; b++) {
          const src = order[start + b] * INPUT_WIDTH;
          batchValues.set(values.subarray(src, src + INPUT_WIDTH), b * INPUT_WIDTH);
          batchMask.set(mask.subarray(src, src + INPUT_WIDTH), b * INPUT_WIDTH);
        }
        const loss = tf.tidy(() => {
          const x = tf.tensor2d(batchValues.subarray(0, size * INPUT_WIDTH), [size, INPUT_WIDTH]);
          const m = tf.tensor2d(batchMask.subarray(0, size * INPUT_WIDTH), [size, INPUT_WIDTH]);
          const cost = optimizer.minimize(() => maskedMse(tf, model.apply(x, { training: true }) as Tensor2D, x, m), true);
          return cost ? cost.dataSync()[0] : NaN;
        });
        sum += loss;
        batches++;
      }
      epochLoss = sum / batches;
      options.onEpoch?.(epoch + 1, epochLoss);
    }
  } finally {
    optimizer.dispose();
  }
  return epochLoss;
}

function maskedMse(tf: Tf, predicted: Tensor2D, actual: Tensor2D, mask: Tensor2D) {
  const sq = tf.mul(tf.squaredDifference(predicted, actual), mask);
  return tf.div(tf.sum(sq), tf.maximum(tf.sum(mask), 1)) as ReturnType<Tf['scalar']>;
}

export interface Reconstruction {
  /** Per window: root of the mean squared error over present values. */
  readonly errors: Float32Array;
  /** Per window × signal: summed squared error over the window's steps (n × signals, row-major). */
  readonly perSignal: Float32Array;
}

/** Reconstruction errors of many windows, in batches, with one read back per batch. */
export function reconstruct(tf: Tf, model: LayersModel, values: Float32Array, mask: Float32Array, batchSize = 4096): Reconstruction {
  const n = values.length / INPUT_WIDTH;
  const S = MODEL_SIGNALS.length;
  const errors = new Float32Array(n);
  const perSignal = new Float32Array(n * S);
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const block = tf.tidy(() => {
      const x = tf.tensor2d(values.subarray(start * INPUT_WIDTH, (start + size) * INPUT_WIDTH), [size, INPUT_WIDTH]);
      const m = tf.tensor2d(mask.subarray(start * INPUT_WIDTH, (start + size) * INPUT_WIDTH), [size, INPUT_WIDTH]);
      const sq = tf.mul(tf.squaredDifference(model.predict(x) as Tensor2D, x), m);
      return tf.sum(tf.reshape(sq, [size, WINDOW_SIZE, S]), 1);
    });
    const data = block.dataSync() as Float32Array;
    block.dispose();
    perSignal.set(data, start * S);
    for (let i = 0; i < size; i++) {
      let present = 0;
      const base = (start + i) * INPUT_WIDTH;
      for (let k = 0; k < INPUT_WIDTH; k++) present += mask[base + k];
      let total = 0;
      for (let s = 0; s < S; s++) total += data[i * S + s];
      errors[start + i] = present > 0 ? Math.sqrt(total / present) : 0;
    }
  }
  return { errors, perSignal };
}
