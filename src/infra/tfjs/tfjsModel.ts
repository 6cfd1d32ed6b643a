import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs';
import type { SignalName } from '../../core/model/signal';
import type { LoggerPort, ModelPort, ModelScore, RetrainRecord } from '../../core/ports';
import { INPUT_WIDTH, buildAutoencoder, cloneAutoencoder, reconstruct, trainAutoencoder } from './autoencoder';
import { findBaseModelDir } from './baseModel';
import { loadTf, type TfRuntime } from './backend';
import { ErrorCalibration } from './calibration';
import { MODEL_FILE, directoryIoHandler } from './directoryIoHandler';
import { MODEL_METADATA_KEY, type ModelMetadata } from './modelMetadata';
import { MODEL_SIGNALS, WINDOW_SIZE, checkWindows, fitScaler, scaleWindows, scalerFromColumns, type RawWindow, type RobustScaler } from './windowSpec';

export interface TfjsModelOptions {
  /** Per-service models live in `<stateDir>/models/<service-key-safe>/`. */
  readonly stateDir: string;
  /** Where the shipped base model is; found next to the bundle or in the checkout when omitted. */
  readonly baseModelDir?: string;
  readonly logger?: LoggerPort;
  /** Time of retrain records; wall time unless a test passes its own. */
  readonly now?: () => number;
}

/** A retraining's candidate needs at least this many training windows (the newest 20% of them calibrate it). */
export const RETRAIN_MIN_TRAIN_WINDOWS = 50;
/** Retrain records kept per service in `retrain.json`. */
const RETRAIN_RECORDS_KEPT = 50;
export const RETRAIN_RECORDS_FILE = 'retrain.json';
/** A candidate may flag at most this much more of the held-out normal windows than the model it replaces. */
const FPR_TOLERANCE = 0.01;

interface ServiceModel {
  readonly model: LayersModel;
  scaler: RobustScaler | undefined;
  /** Raw values per signal seen by fine-tunes while the scaler warms up; undefined once frozen. */
  scalerSamples: number[][] | undefined;
  readonly calibration: ErrorCalibration;
  /** False while the calibration is still the base model's. */
  calibratedOnService: boolean;
  fineTunedWindows: number;
}

interface Base {
  readonly runtime: TfRuntime;
  readonly model: LayersModel;
  readonly calibration: ErrorCalibration;
  readonly trained: boolean;
}

/** A first fine-tune this large or larger holds out its newest 20% to calibrate on. */
const SPLIT_MIN_WINDOWS = 50;
/**
 * The scaler is refitted on every fine-tune until the service has shown this many windows (a day
 * of one-minute steps), so a first small batch cannot fix it to one hour of the daily cycle; then it is frozen.
 */
const SCALER_WARMUP_WINDOWS = 1440;
const SCALER_SAMPLES = 4096;
const SCALER_SAMPLES_SAVED = 1024;

/**
 * ModelPort on TensorFlow.js: one autoencoder per service, copied from the shipped base model,
 * fine-tuned online on that service's normal windows, scored against its own recent error
 * distribution. Windows may be raw or already normalised (NaN for a missing value): each service's
 * robust scaler is fitted on its fine-tune windows (or, before any, on the first scored ones) and
 * kept with its model. A service seen for the first time is loaded from its saved model if there
 * is one. tfjs is loaded on first use, not at construction.
 */
export class TfjsModel implements ModelPort {
  readonly signals: ReadonlyArray<SignalName> = MODEL_SIGNALS;
  readonly windowSize = WINDOW_SIZE;
  private base: Promise<Base> | undefined;
  private readonly services = new Map<string, ServiceModel>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly logger: LoggerPort | undefined;
  /** Services whose saved model could not be used: said once, then they start from the base model until it is saved over. */
  private readonly unreadable = new Set<string>();

  constructor(private readonly options: TfjsModelOptions) {
    this.logger = options.logger?.child('model');
  }

  /** Directory of one service's model; keys like `shop/checkout` become `shop_checkout-<hash>`. */
  serviceDir(serviceKey: string): string {
    return path.join(this.options.stateDir, 'models', safeName(serviceKey));
  }

  async backend(): Promise<string> {
    return (await this.loadBase()).runtime.backend;
  }

  score(serviceKey: string, windows: ReadonlyArray<RawWindow>): Promise<ReadonlyArray<ModelScore>> {
    return this.serial(async () => {
      checkWindows(windows);
      if (windows.length === 0) return [];
      const { runtime } = await this.loadBase();
      const svc = await this.service(serviceKey);
      svc.scaler ??= fitScaler(windows);
      const { values, mask } = scaleWindows(windows, svc.scaler);
      const r = reconstruct(runtime.tf, svc.model, values, mask);
      const S = MODEL_SIGNALS.length;
      return Array.from(r.errors, (error, i) => ({
        score: svc.calibration.score(error),
        contributions: contributions(r.perSignal.subarray(i * S, (i + 1) * S), windows[i]),
      }));
    });
  }

  /**
   * Trains the service's model on windows the caller believes normal, oldest first. The scaler is
   * refitted until a day of windows has been seen, then frozen. A first call of 50+ windows holds out
   * its newest 20% to calibrate on; other calls record each window's error before training on it,
   * an honest out-of-sample error. Windows with an open incident should not be passed.
   */
  fineTune(serviceKey: string, windows: ReadonlyArray<RawWindow>): Promise<{ readonly loss: number }> {
    return this.serial(async () => {
      checkWindows(windows);
      if (windows.length === 0) return { loss: NaN };
      const base = await this.loadBase();
      const tf = base.runtime.tf;
      const svc = await this.service(serviceKey);
      warmUpScaler(svc, windows);
      const { values, mask } = scaleWindows(windows, svc.scaler ?? fitScaler(windows));
      const first = !svc.calibratedOnService;
      const epochs = first ? (base.trained ? 8 : 30) : 2;
      const seed = hash(`${serviceKey}#${svc.fineTunedWindows}`);
      let loss: number;
      if (first && windows.length >= SPLIT_MIN_WINDOWS) {
        const cut = Math.floor(windows.length * 0.8) * values.length / windows.length;
        loss = trainAutoencoder(tf, svc.model, values.subarray(0, cut), mask.subarray(0, cut), { epochs, seed, learningRate: 0.002, batchSize: 64 });
        svc.calibration.reset(reconstruct(tf, svc.model, values.subarray(cut), mask.subarray(cut)).errors);
      } else {
        const before = reconstruct(tf, svc.model, values, mask).errors;
        if (first) svc.calibration.reset(before);
        else svc.calibration.add(before);
        loss = trainAutoencoder(tf, svc.model, values, mask, { epochs, seed, learningRate: first ? 0.002 : 0.001, batchSize: 64 });
      }
      svc.calibratedOnService = true;
      svc.fineTunedWindows += windows.length;
      this.logger?.log('debug', `fine-tuned ${serviceKey} on ${windows.length} windows`, { service: serviceKey, loss, epochs });
      return { loss };
    });
  }

  /**
   * Retrains a service's model on accumulated normal windows (oldest first): a candidate copied from the
   * base model trains on all but the newest `holdout` windows (default 20%) and calibrates on the newest
   * fifth of those; then the candidate and the current model are scored on the held-out windows, in the
   * same scaled units (the service's own scaler, so neither is flattered). The candidate is kept and saved
   * when its mean reconstruction error is lower and its own calibration flags no more of the held-out
   * (normal) windows, give or take one point; otherwise the previous model stays.
   * The record is appended to the service's `retrain.json` and returned.
   */
  retrain(serviceKey: string, windows: ReadonlyArray<RawWindow>, options: { readonly holdout?: number } = {}): Promise<RetrainRecord> {
    return this.serial(async () => {
      checkWindows(windows);
      const n = windows.length;
      const holdout = Math.max(1, Math.min(n - 1, Math.round(options.holdout ?? Math.ceil(n * 0.2))));
      if (n - holdout < RETRAIN_MIN_TRAIN_WINDOWS) {
        throw new Error(`retraining the model of ${serviceKey} needs at least ${RETRAIN_MIN_TRAIN_WINDOWS} normal windows besides the ${holdout} held out; it has ${Math.max(0, n - holdout)}. Let the agent record more normal traffic first.`);
      }
      const base = await this.loadBase();
      const tf = base.runtime.tf;
      const svc = await this.service(serviceKey);
      const train = windows.slice(0, n - holdout);
      const held = windows.slice(n - holdout);
      const scaler = svc.scaler ?? fitScaler(train);
      const T = scaleWindows(train, scaler);
      const H = scaleWindows(held, scaler);
      const oldErrors = reconstruct(tf, svc.model, H.values, H.mask).errors;
      const candidate = cloneAutoencoder(tf, base.model);
      let kept: RetrainRecord['kept'] = 'previous';
      try {
        const cut = Math.floor(train.length * 0.8) * INPUT_WIDTH;
        trainAutoencoder(tf, candidate, T.values.subarray(0, cut), T.mask.subarray(0, cut), { epochs: base.trained ? 10 : 30, seed: hash(`${serviceKey}#retrain#${n}`), learningRate: 0.002, batchSize: 64 });
        const calibration = new ErrorCalibration();
        calibration.reset(reconstruct(tf, candidate, T.values.subarray(cut), T.mask.subarray(cut)).errors);
        const newErrors = reconstruct(tf, candidate, H.values, H.mask).errors;
        const oldLoss = mean(oldErrors);
        const newLoss = mean(newErrors);
        const oldFpr = share(oldErrors, (e) => svc.calibration.score(e) >= 0.9);
        const newFpr = share(newErrors, (e) => calibration.score(e) >= 0.9);
        // better reconstruction is not enough: a candidate whose own calibration flags more of the recent normal windows would page more
        const fewerFalseAlarms = newFpr <= oldFpr + FPR_TOLERANCE;
        kept = newLoss < oldLoss && fewerFalseAlarms ? 'new' : 'previous';
        const record: RetrainRecord = {
          service: serviceKey,
          t: (this.options.now ?? Date.now)(),
          oldLoss: round(oldLoss),
          newLoss: round(newLoss),
          oldFalsePositiveRate: round(oldFpr),
          newFalsePositiveRate: round(newFpr),
          kept,
          windows: train.length,
          holdout,
          reason:
            kept === 'new'
              ? `the retrained model reconstructs the ${holdout} held-out recent windows better (mean error ${fmt(newLoss)} < ${fmt(oldLoss)}) and flags no more of them (${pct(newFpr)} vs ${pct(oldFpr)}); it replaces the previous one`
              : newLoss >= oldLoss
                ? `the retrained model is no better on the ${holdout} held-out recent windows (mean error ${fmt(newLoss)} ≥ ${fmt(oldLoss)}); the previous model is kept`
                : `the retrained model reconstructs the ${holdout} held-out recent windows better (mean error ${fmt(newLoss)} < ${fmt(oldLoss)}) but would flag ${pct(newFpr)} of them as anomalous against ${pct(oldFpr)}; the previous model is kept`,
        };
        if (kept === 'new') {
          calibration.add(newErrors); // out-of-sample errors on normal windows
          svc.model.dispose();
          const next: ServiceModel = { model: candidate, scaler, scalerSamples: svc.scalerSamples, calibration, calibratedOnService: true, fineTunedWindows: train.length };
          this.services.set(serviceKey, next);
          await this.write(serviceKey, next);
        }
        await appendRecord(path.join(this.serviceDir(serviceKey), RETRAIN_RECORDS_FILE), record);
        this.logger?.log('info', `retrained ${serviceKey}: ${record.reason}`, { service: serviceKey, oldLoss: record.oldLoss, newLoss: record.newLoss, kept });
        return record;
      } finally {
        if (kept !== 'new') candidate.dispose();
      }
    });
  }

  save(serviceKey: string): Promise<void> {
    return this.serial(async () => {
      const svc = this.services.get(serviceKey);
      if (!svc) return; // nothing learned for this service yet
      await this.write(serviceKey, svc);
    });
  }

  /** Retrain records of a service, oldest first (empty when it was never retrained). */
  async retrainRecords(serviceKey: string): Promise<RetrainRecord[]> {
    return readRecords(path.join(this.serviceDir(serviceKey), RETRAIN_RECORDS_FILE));
  }

  private async write(serviceKey: string, svc: ServiceModel): Promise<void> {
    const metadata: ModelMetadata = {
      kind: 'service',
      serviceKey,
      signals: [...MODEL_SIGNALS],
      windowSize: WINDOW_SIZE,
      ...(svc.scaler ? { scaler: svc.scaler } : {}),
      ...(svc.scalerSamples ? { scalerSamples: svc.scalerSamples.map((c) => thin(c, SCALER_SAMPLES_SAVED)) } : {}),
      calibration: svc.calibration.toJSON(),
      fineTunedWindows: svc.fineTunedWindows,
    };
    svc.model.setUserDefinedMetadata({ [MODEL_METADATA_KEY]: metadata });
    await svc.model.save(directoryIoHandler(this.serviceDir(serviceKey)));
    this.unreadable.delete(serviceKey);
  }

  /** Loads the service's saved model; false when there is none or it does not fit this version. */
  load(serviceKey: string): Promise<boolean> {
    return this.serial(async () => {
      const loaded = await this.readService(serviceKey);
      if (!loaded) return false;
      this.services.get(serviceKey)?.model.dispose();
      this.services.set(serviceKey, loaded);
      return true;
    });
  }

  /** Frees every model's tensors. */
  async dispose(): Promise<void> {
    await this.queue.catch(() => undefined);
    for (const svc of this.services.values()) svc.model.dispose();
    this.services.clear();
    if (this.base) (await this.base).model.dispose();
    this.base = undefined;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** The in-memory model of a service, else its saved one, else a fresh copy of the base model. */
  private async service(serviceKey: string): Promise<ServiceModel> {
    let svc = this.services.get(serviceKey);
    if (svc) return svc;
    svc = await this.readService(serviceKey);
    if (!svc) {
      const base = await this.loadBase();
      svc = {
        model: cloneAutoencoder(base.runtime.tf, base.model),
        scaler: undefined,
        scalerSamples: MODEL_SIGNALS.map(() => []),
        calibration: new ErrorCalibration(base.calibration.toJSON()),
        calibratedOnService: false,
        fineTunedWindows: 0,
      };
    }
    this.services.set(serviceKey, svc);
    return svc;
  }

  private async readService(serviceKey: string): Promise<ServiceModel | undefined> {
    const dir = this.serviceDir(serviceKey);
    if (!existsSync(path.join(dir, MODEL_FILE)) || this.unreadable.has(serviceKey)) return undefined;
    const { runtime } = await this.loadBase();
    try {
      const model = await runtime.tf.loadLayersModel(directoryIoHandler(dir));
      const meta = readMetadata(model);
      if (!meta || meta.kind !== 'service' || meta.windowSize !== WINDOW_SIZE || meta.signals.join() !== MODEL_SIGNALS.join()) {
        model.dispose();
        this.unreadable.add(serviceKey);
        this.logger?.log('warn', `ignoring the saved model of ${serviceKey} in ${dir}: it was made for other signals or window size; it will be retrained`, { service: serviceKey });
        return undefined;
      }
      return { model, scaler: meta.scaler, scalerSamples: meta.scalerSamples, calibration: new ErrorCalibration(meta.calibration), calibratedOnService: meta.fineTunedWindows > 0, fineTunedWindows: meta.fineTunedWindows };
    } catch (err) {
      this.unreadable.add(serviceKey);
      this.logger?.log('warn', `cannot load the saved model of ${serviceKey} from ${dir}: ${(err as Error).message}; starting from the base model (delete the folder to silence this)`, { service: serviceKey });
      return undefined;
    }
  }

  private loadBase(): Promise<Base> {
    this.base ??= (async () => {
      const runtime = await loadTf(this.options.logger);
      const dir = this.options.baseModelDir ?? findBaseModelDir();
      if (dir && existsSync(path.join(dir, MODEL_FILE))) {
        try {
          const model = await runtime.tf.loadLayersModel(directoryIoHandler(dir));
          const meta = readMetadata(model);
          if (meta && meta.windowSize === WINDOW_SIZE && meta.signals.join() === MODEL_SIGNALS.join()) {
            this.logger?.log('info', `base model loaded from ${dir}`);
            return { runtime, model, calibration: new ErrorCalibration(meta.calibration), trained: true };
          }
          model.dispose();
          this.logger?.log('warn', `the base model in ${dir} was made for other signals or window size; run \`vigil train-model\` to rebuild it. Starting untrained.`);
        } catch (err) {
          this.logger?.log('warn', `cannot load the base model from ${dir}: ${(err as Error).message}; run \`vigil train-model\` to rebuild it. Starting untrained.`);
        }
      } else {
        this.logger?.log('warn', 'no base model found (models/base/model.json); every service trains from scratch. Run `vigil train-model` to build it.');
      }
      return { runtime, model: buildAutoencoder(runtime.tf, 1), calibration: new ErrorCalibration(), trained: false };
    })();
    return this.base;
  }
}

/**
 * While warming up, records the newest step of each window (windows come from a sliding stream)
 * and refits the scaler on everything recorded; freezes it once the service has shown enough.
 */
function warmUpScaler(svc: ServiceModel, windows: ReadonlyArray<RawWindow>): void {
  const samples = svc.scalerSamples;
  if (!samples) return;
  const rows = samples.every((c) => c.length === 0) ? [...windows[0], ...windows.slice(1).map((w) => w[w.length - 1])] : windows.map((w) => w[w.length - 1]);
  for (const row of rows) {
    for (let s = 0; s < MODEL_SIGNALS.length; s++) if (Number.isFinite(row[s])) samples[s].push(row[s]);
  }
  for (const column of samples) if (column.length > SCALER_SAMPLES) column.splice(0, column.length - SCALER_SAMPLES);
  svc.scaler = scalerFromColumns(samples);
  if (svc.fineTunedWindows + windows.length >= SCALER_WARMUP_WINDOWS) svc.scalerSamples = undefined;
}

function mean(xs: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < xs.length; i++) sum += xs[i];
  return xs.length ? sum / xs.length : NaN;
}

function share(xs: ArrayLike<number>, test: (x: number) => boolean): number {
  let k = 0;
  for (let i = 0; i < xs.length; i++) if (test(xs[i])) k++;
  return xs.length ? k / xs.length : 0;
}

function round(x: number): number {
  return Number(x.toPrecision(6));
}

function fmt(x: number): string {
  return String(Number(x.toPrecision(4)));
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

async function readRecords(file: string): Promise<RetrainRecord[]> {
  try {
    const doc = JSON.parse(await readFile(file, 'utf8')) as unknown;
    return Array.isArray(doc) ? (doc as RetrainRecord[]) : [];
  } catch {
    return []; // missing or unreadable: the next record starts a new file
  }
}

async function appendRecord(file: string, record: RetrainRecord): Promise<void> {
  const records = [...(await readRecords(file)), record].slice(-RETRAIN_RECORDS_KEPT);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(records, null, 1)}\n`);
}

/** Evenly spaced subset of at most `max` items, keeping the newest. */
function thin(items: number[], max: number): number[] {
  if (items.length <= max) return [...items];
  return Array.from({ length: max }, (_, i) => items[items.length - 1 - Math.floor((i * items.length) / max)]).reverse();
}

function readMetadata(model: LayersModel): ModelMetadata | undefined {
  const meta = model.getUserDefinedMetadata() as Record<string, unknown> | undefined;
  return meta?.[MODEL_METADATA_KEY] as ModelMetadata | undefined;
}

/** Share of the window's squared error per signal; signals missing from the whole window get none. */
function contributions(perSignal: ArrayLike<number>, window: RawWindow): Partial<Record<SignalName, number>> {
  let total = 0;
  for (let s = 0; s < perSignal.length; s++) total += perSignal[s];
  const present = MODEL_SIGNALS.map((_, s) => window.some((row) => Number.isFinite(row[s])));
  const count = present.filter(Boolean).length;
  const out: Partial<Record<SignalName, number>> = {};
  MODEL_SIGNALS.forEach((name, s) => {
    if (!present[s]) return;
    out[name] = total > 0 ? perSignal[s] / total : 1 / count;
  });
  return out;
}

function safeName(serviceKey: string): string {
  const readable = serviceKey.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 80) || 'service';
  return `${readable}-${hash(serviceKey).toString(16).padStart(8, '0')}`;
}

/** FNV-1a, 32 bit: a stable seed and folder suffix from a service key. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
