import { existsSync } from 'node:fs';
import path from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs';
import type { SignalName } from '../../core/model/signal';
import { ARCHITECTURE, buildAutoencoder, reconstruct, trainAutoencoder } from './autoencoder';
import type { Tf } from './backend';
import { CALIBRATION_CAPACITY, ErrorCalibration } from './calibration';
import { MODEL_METADATA_KEY, type ModelMetadata } from './modelMetadata';
import { SeededRandom } from './random';
import { STEPS_PER_DAY, injectRamp, syntheticService, windowsOf } from './syntheticData';
import { MODEL_FILE } from './directoryIoHandler';
import { MODEL_SIGNALS, WINDOW_SIZE, fitScaler, scaleWindows, type RawWindow } from './windowSpec';

export interface BaseTrainingOptions {
  readonly seed: number;
  readonly epochs: number;
  /** Synthetic services; each has its own scale, load curve and noise. */
  readonly services?: number;
  /** Days per service: all but the last train, the last day is held out for calibration and checks. */
  readonly days?: number;
  /** Training windows start every `stride` minutes. */
  readonly stride?: number;
  readonly onEpoch?: (epoch: number, loss: number) => void;
}

export interface BaseTrainingReport {
  readonly seed: number;
  readonly epochs: number;
  readonly services: number;
  readonly days: number;
  readonly stride: number;
  readonly trainingWindows: number;
  readonly heldOutWindows: number;
  readonly architecture: string;
  readonly parameters: number;
  readonly signals: ReadonlyArray<string>;
  readonly windowSize: number;
  readonly finalLoss: number;
  readonly calibration: {
    readonly reservoir: number;
    readonly heldOutErrorP50: number;
    readonly heldOutErrorP99: number;
    /** Share of held-out normal windows scoring at least 0.9 (false alarms). */
    readonly heldOutShareAtLeast09: number;
    /** Per injected fault (see INJECTED_FAULTS): share of held-out windows scoring at least 0.9 once the fault is ramped in. */
    readonly detectedShareAtLeast09: Readonly<Record<string, number>>;
  };
}

/** Faults ramped into held-out windows over their last 6 steps, to show what the base model catches before any fine-tune. */
export const INJECTED_FAULTS: ReadonlyArray<{ readonly name: string; readonly ramps: ReadonlyArray<{ readonly signals: ReadonlyArray<SignalName>; readonly factor: number }> }> = [
  { name: 'memoryLeakWithLatency', ramps: [{ signals: ['memory', 'latency_p50', 'latency_p95', 'latency_p99'], factor: 1.5 }] },
  { name: 'badRelease', ramps: [{ signals: ['error_ratio'], factor: 10 }, { signals: ['latency_p99'], factor: 1.5 }] },
  { name: 'cpuSaturation', ramps: [{ signals: ['cpu'], factor: 1.6 }, { signals: ['latency_p50', 'latency_p95', 'latency_p99'], factor: 1.4 }] },
  { name: 'replicaLoss', ramps: [{ signals: ['available_replicas'], factor: 0.5 }] },
  { name: 'trafficDrop', ramps: [{ signals: ['request_rate'], factor: 0.3 }, { signals: ['cpu'], factor: 0.6 }] },
];

export interface BaseTrainingResult {
  readonly model: LayersModel;
  readonly calibration: ErrorCalibration;
  readonly report: BaseTrainingReport;
}

/**
 * Trains the base model on seeded synthetic normal data (see syntheticData.ts). Every service is
 * scaled by its own robust scaler, as live services are. The same seed and options give the same
 * weights on the same backend.
 */
export function trainBaseModel(tf: Tf, options: BaseTrainingOptions): BaseTrainingResult {
  const services = options.services ?? 16;
  const days = options.days ?? 4;
  const stride = options.stride ?? 2;
  if (days < 2) throw new Error('base model training needs at least 2 days per service (the last one is held out)');
  const rng = new SeededRandom(options.seed);
  const train: { values: Float32Array; mask: Float32Array }[] = [];
  const heldOut: { values: Float32Array; mask: Float32Array }[] = [];
  const injected = INJECTED_FAULTS.map(() => [] as { values: Float32Array; mask: Float32Array }[]);
  const trainEnd = (days - 1) * STEPS_PER_DAY;
  for (let i = 0; i < services; i++) {
    const svc = syntheticService(rng.int(), days);
    const trainWindows = windowsOf(svc.rows, stride, 0, trainEnd);
    const scaler = fitScaler(trainWindows);
    train.push(scaleWindows(trainWindows, scaler));
    const held = windowsOf(svc.rows, 3, trainEnd);
    heldOut.push(scaleWindows(held, scaler));
    INJECTED_FAULTS.forEach((fault, f) => {
      const faulty: RawWindow[] = held.map((w) => fault.ramps.reduce<RawWindow>((acc, r) => injectRamp(acc, r.signals, r.factor), w));
      injected[f].push(scaleWindows(faulty, scaler));
    });
  }
  const trainSet = concat(train);
  const heldSet = concat(heldOut);

  const model = buildAutoencoder(tf, rng.int());
  const finalLoss = trainAutoencoder(tf, model, trainSet.values, trainSet.mask, { epochs: options.epochs, seed: rng.int(), batchSize: 128, learningRate: 0.003, onEpoch: options.onEpoch });

  const heldErrors = reconstruct(tf, model, heldSet.values, heldSet.mask).errors;
  // Half of the held-out day calibrates, the other half checks it, so the false-alarm share is honest.
  const calibrationErrors: number[] = [];
  const checkErrors: number[] = [];
  heldErrors.forEach((e, i) => (i % 2 === 0 ? calibrationErrors : checkErrors).push(e));
  const calibration = new ErrorCalibration();
  calibration.add(thin(calibrationErrors, CALIBRATION_CAPACITY));
  const shareHigh = (errors: ArrayLike<number>) => Array.from(errors).filter((e) => calibration.score(e) >= 0.9).length / Math.max(1, errors.length);
  const detected: Record<string, number> = {};
  INJECTED_FAULTS.forEach((fault, f) => {
    const set = concat(injected[f]);
    detected[fault.name] = round(shareHigh(reconstruct(tf, model, set.values, set.mask).errors));
  });
  const sortedHeld = Array.from(heldErrors).sort((a, b) => a - b);

  const report: BaseTrainingReport = {
    seed: options.seed,
    epochs: options.epochs,
    services,
    days,
    stride,
    trainingWindows: trainSet.values.length / (WINDOW_SIZE * MODEL_SIGNALS.length),
    heldOutWindows: heldSet.values.length / (WINDOW_SIZE * MODEL_SIGNALS.length),
    architecture: ARCHITECTURE,
    parameters: model.countParams(),
    signals: MODEL_SIGNALS,
    windowSize: WINDOW_SIZE,
    finalLoss: round(finalLoss),
    calibration: {
      reservoir: calibration.size,
      heldOutErrorP50: round(sortedHeld[Math.floor(sortedHeld.length * 0.5)]),
      heldOutErrorP99: round(sortedHeld[Math.floor(sortedHeld.length * 0.99)]),
      heldOutShareAtLeast09: round(shareHigh(checkErrors)),
      detectedShareAtLeast09: detected,
    },
  };
  const metadata: ModelMetadata = { kind: 'base', signals: [...MODEL_SIGNALS], windowSize: WINDOW_SIZE, calibration: calibration.toJSON(), fineTunedWindows: 0 };
  model.setUserDefinedMetadata({ [MODEL_METADATA_KEY]: metadata } as unknown as Record<string, never>);
  return { model, calibration, report };
}

/** The shipped base model: next to the bundle (dist/../models/base) or in the source checkout. */
export function findBaseModelDir(): string | undefined {
  const starts = [typeof __dirname === 'string' ? __dirname : process.cwd(), process.cwd()];
  for (const start of starts) {
    let dir = start;
    for (let up = 0; up < 5; up++) {
      const candidate = path.join(dir, 'models', 'base');
      if (existsSync(path.join(candidate, MODEL_FILE))) return candidate;
      dir = path.dirname(dir);
    }
  }
  return undefined;
}

function concat(parts: { values: Float32Array; mask: Float32Array }[]): { values: Float32Array; mask: Float32Array } {
  const total = parts.reduce((n, p) => n + p.values.length, 0);
  const values = new Float32Array(total);
  const mask = new Float32Array(total);
  let offset = 0;
  for (const p of parts) {
    values.set(p.values, offset);
    mask.set(p.mask, offset);
    offset += p.values.length;
  }
  return { values, mask };
}

/** Evenly spaced subset of at most `max` items. */
function thin(items: number[], max: number): number[] {
  if (items.length <= max) return items;
  return Array.from({ length: max }, (_, i) => items[Math.floor((i * items.length) / max)]);
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
