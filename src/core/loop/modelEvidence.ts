import { carriedAlone } from '../detect/jointModel';
import type { Anomaly } from '../model/anomaly';
import type { Band, SampleFrame } from '../model/signal';
import { targetKey } from '../model/target';
import type { LoggerPort, ModelPort, ModelScore, RetrainRecord, StorePort } from '../ports';
import { valueWording } from '../observe/signalWording';
import { LATENCY_ALONE } from './jointEvidence';

export interface ModelEvidenceOptions {
  /** Fine-tune a service on its new normal windows this often, in frame time. */
  readonly fineTuneEveryMs?: number;
  /** Normal windows a service needs before its first fine-tune; until then it is not scored (scaler and calibration are still the base model's). */
  readonly firstFineTuneWindows?: number;
  /** At most this many windows per fine-tune (the newest), so one call stays bounded. */
  readonly fineTuneMaxWindows?: number;
  /** Save the models fine-tuned since the last save, and the history, this often. */
  readonly saveEveryMs?: number;
  /** Rows of history kept per service for fine-tuning and retraining. */
  readonly historyRows?: number;
  /**
   * Windows a service's model must have been fine-tuned on before its score counts: until then its
   * calibration has seen too few out-of-sample errors to know its own tail (it is scored, not fused).
   */
  readonly matureAfterWindows?: number;
  /** The model raises only when this many consecutive windows surprise it: the weakest of them is fused. */
  readonly persistWindows?: number;
  /**
   * A signal carrying at least this share of the model's error must be outside its expected band at the
   * frame: the model combines what the baselines see into one verdict, it does not page on a shape alone.
   */
  readonly corroborationShare?: number;
}

const DEFAULTS: Required<ModelEvidenceOptions> = {
  fineTuneEveryMs: 10 * 60_000,
  firstFineTuneWindows: 200,
  fineTuneMaxWindows: 360,
  saveEveryMs: 30 * 60_000,
  historyRows: 1440,
  matureAfterWindows: 720,
  persistWindows: 3,
  corroborationShare: 0.2,
};

/** A retraining needs this many normal windows, of which the newest (those no model has trained on) are held out. */
export const RETRAIN_MIN_WINDOWS = 200;
const RETRAIN_MIN_HOLDOUT = 30;
export const MODEL_HISTORY_STATE = 'model-history';

/** Rows of one service as saved: times, raw values in the model's signal order (null = missing), anomalous flags. */
export interface ServiceHistory {
  readonly t: number[];
  readonly rows: Array<Array<number | null>>;
  readonly anomalous: boolean[];
}

export interface ModelHistoryDocument {
  readonly version: 1;
  readonly signals: string[];
  readonly windowSize: number;
  readonly services: Record<string, ServiceHistory & { readonly tunedUpTo?: number; readonly tunedWindows?: number }>;
}

interface ServiceWindows {
  t: number[];
  rows: number[][];
  anomalous: boolean[];
  /** loading: reading a saved model; untrained: waiting for enough normal windows; ready: scored; failed: left out. */
  state: 'loading' | 'untrained' | 'ready';
  scoring: boolean;
  /** Fine-tune, retrain or save in flight. */
  busy: boolean;
  /** Scores of the newest windows, oldest first (at most persistWindows). */
  recent: Array<{ t: number; score: ModelScore }>;
  /** Windows fine-tuned on so far (a model loaded without history counts as mature). */
  tunedWindows: number;
  /** End time of the newest window the model was fine-tuned on. */
  tunedUpTo: number;
  lastFineTune: number;
  lastSave: number;
  dirty: boolean;
}

/**
 * The multi-signal model in the live loop. Keeps a rolling window of each service's raw signals (in
 * ModelPort.signals order), scores the newest window asynchronously, so a frame never waits on the model:
 * the score of the window ending at frame t is fused at frame t+1 (never a score older than one and a half
 * intervals). Windows with no anomaly in them or in the window after them are normal: they fine-tune the
 * service's model every few minutes (bounded) and are kept as history for retraining. Models are loaded at
 * first sight of a service, saved periodically and on flush. The first model failure is logged once and the
 * model is left out; detection goes on without it.
 */
export class ModelEvidence {
  private readonly services = new Map<string, ServiceWindows>();
  private readonly options: Required<ModelEvidenceOptions>;
  private readonly work = new Set<Promise<unknown>>();
  private failed: string | undefined;
  private savedHistory: ModelHistoryDocument['services'] | undefined;
  private readonly historyLoaded: Promise<void>;
  private historyDirty = false;
  /** Windows scored since start and the time spent, for the bench and the debug view. */
  readonly stats = { scored: 0, scoreMs: 0, fineTunes: 0, fineTunedWindows: 0 };

  constructor(
    readonly model: ModelPort,
    private readonly logger: LoggerPort,
    private readonly store?: StorePort,
    options: ModelEvidenceOptions = {},
    private readonly wallClock: () => number = () => 0,
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.historyLoaded = this.loadHistory();
  }

  /** Why the model was left out, if it was. */
  get failure(): string | undefined {
    return this.failed;
  }

  /** Service keys with a model in use. */
  serviceKeys(): string[] {
    return [...this.services.keys()];
  }

  isReady(serviceKey: string): boolean {
    return this.services.get(serviceKey)?.state === 'ready';
  }

  /**
   * The freshest model score for this frame's service, and starts scoring the window that ends at this frame.
   * Undefined for pods and nodes, before the service's model is ready, once the model failed, when no
   * signal the model blames is outside its expected band (`bands`, the baselines' for this frame), and when the
   * latency quantiles carry the score alone (LATENCY_ALONE).
   */
  evidence(frame: SampleFrame, bands: Readonly<Record<string, Band>> = {}): ModelScore | undefined {
    if (frame.target.kind !== 'service' || this.failed) return undefined;
    const key = targetKey(frame.target);
    const svc = this.serviceOf(key);
    const n = svc.t.length;
    if (n > 0 && frame.t <= svc.t[n - 1]) return undefined; // a repeated or late frame: the window only moves forward
    svc.t.push(frame.t);
    svc.rows.push(this.model.signals.map((s) => {
      const v = frame.values[s];
      return v !== undefined && Number.isFinite(v) ? v : NaN;
    }));
    svc.anomalous.push(false);
    const excess = svc.t.length - this.options.historyRows;
    if (excess > 0) {
      svc.t.splice(0, excess);
      svc.rows.splice(0, excess);
      svc.anomalous.splice(0, excess);
    }
    const scored = corroborated(this.fused(svc, frame.t), frame, bands, this.options.corroborationShare);
    // a score the latency quantiles carry alone is a latency move, the baselines' business: the same gate as the
    // relationship model's (LATENCY_ALONE); bench:live-model's 4 model-raised incidents over 7 days were p99-led
    const fresh = scored && carriedAlone(scored.contributions, LATENCY_ALONE) ? undefined : scored;
    const W = this.model.windowSize;
    if (svc.state === 'ready' && !svc.scoring && svc.rows.length >= W) {
      const window = smoothedWindow(svc.rows, svc.rows.length - 1, W);
      if (window.some((r) => r.some(Number.isFinite))) {
        svc.scoring = true;
        const t0 = this.wallClock();
        this.track(
          this.model.score(key, [window]).then(([s]) => {
            this.stats.scored++;
            this.stats.scoreMs += this.wallClock() - t0;
            if (!s) return;
            svc.recent.push({ t: frame.t, score: s });
            if (svc.recent.length > this.options.persistWindows) svc.recent.shift();
          }),
          () => (svc.scoring = false),
        );
      }
    }
    return fresh;
  }

  /**
   * Records whether this frame was anomalous (by any detector, before learned thresholds), then fine-tunes
   * or saves when due. Only windows with no anomaly in them or in the next window count as normal.
   */
  settle(frame: SampleFrame, anomalous: boolean): void {
    if (frame.target.kind !== 'service' || this.failed) return;
    const svc = this.services.get(targetKey(frame.target));
    if (!svc || svc.t[svc.t.length - 1] !== frame.t) return;
    svc.anomalous[svc.anomalous.length - 1] = anomalous;
    if (svc.busy || svc.state === 'loading') return;
    const key = targetKey(frame.target);
    if (svc.state === 'untrained') {
      const windows = this.normalWindows(svc, -Infinity);
      if (windows.ends.length >= this.options.firstFineTuneWindows) this.fineTune(key, svc, windows, frame.t);
      return;
    }
    if (frame.t - svc.lastFineTune >= this.options.fineTuneEveryMs) {
      const windows = this.normalWindows(svc, svc.tunedUpTo);
      if (windows.ends.length > 0) {
        this.fineTune(key, svc, windows, frame.t);
        return;
      }
    }
    if (svc.dirty && frame.t - svc.lastSave >= this.options.saveEveryMs) {
      svc.lastSave = frame.t;
      this.save(key, svc);
    }
  }

  /**
   * Retrains one service's model on its accumulated normal windows: the windows no model has trained on yet
   * are held out (at least 20%), so the comparison is honest for both. Undefined when the model cannot
   * retrain or there is too little normal data (the reason is logged).
   */
  async retrain(serviceKey: string): Promise<RetrainRecord | undefined> {
    await this.historyLoaded;
    const svc = this.services.get(serviceKey);
    const retrain = this.model.retrain?.bind(this.model);
    if (!retrain || !svc || this.failed) return undefined;
    if (svc.busy) await this.idle();
    const { windows, ends } = this.normalWindows(svc, -Infinity, false);
    if (windows.length < RETRAIN_MIN_WINDOWS) {
      this.logger.log('info', `not retraining ${serviceKey}: ${windows.length} normal windows recorded, ${RETRAIN_MIN_WINDOWS} needed`, { service: serviceKey });
      return undefined;
    }
    const holdout = retrainHoldout(ends, svc.tunedUpTo);
    svc.busy = true;
    try {
      const record = await retrain(serviceKey, windows, { holdout });
      svc.recent = []; // the next scores come from the model kept
      if (record.kept === 'new') {
        svc.state = 'ready';
        svc.tunedUpTo = ends[windows.length - holdout - 1] ?? svc.tunedUpTo;
      }
      return record;
    } finally {
      svc.busy = false;
    }
  }

  /** Waits for every score, fine-tune and save in flight. */
  async idle(): Promise<void> {
    while (this.work.size > 0) await Promise.allSettled([...this.work]);
  }

  /** Saves every service's model and the history; waits for work in flight first. */
  async flush(): Promise<void> {
    await this.idle();
    await this.historyLoaded;
    if (this.failed) return;
    for (const [key, svc] of this.services) {
      if (svc.state === 'ready' && svc.dirty) this.save(key, svc);
    }
    await this.idle();
    await this.saveHistory();
  }

  private serviceOf(key: string): ServiceWindows {
    let svc = this.services.get(key);
    if (svc) return svc;
    svc = { t: [], rows: [], anomalous: [], state: 'loading', scoring: false, busy: false, recent: [], tunedWindows: 0, tunedUpTo: -Infinity, lastFineTune: -Infinity, lastSave: -Infinity, dirty: false };
    this.services.set(key, svc);
    const s = svc;
    this.track(
      Promise.all([this.model.load(key), this.historyLoaded]).then(([loaded]) => {
        const tuned = this.restoreHistory(key, s);
        if (loaded && tuned === undefined) s.tunedWindows = this.options.matureAfterWindows;
        s.state = loaded ? 'ready' : 'untrained';
        if (loaded) this.logger.log('info', `model of ${key} loaded from its saved state`, { service: key });
      }),
    );
    return svc;
  }

  private fineTune(key: string, svc: ServiceWindows, normal: { windows: number[][][]; ends: number[] }, now: number): void {
    const max = this.options.fineTuneMaxWindows;
    const windows = normal.windows.slice(-max);
    const ends = normal.ends.slice(-max);
    svc.busy = true;
    svc.lastFineTune = now;
    this.track(
      this.model.fineTune(key, windows).then(({ loss }) => {
        this.stats.fineTunes++;
        this.stats.fineTunedWindows += windows.length;
        svc.tunedUpTo = ends[ends.length - 1];
        svc.tunedWindows += windows.length;
        svc.dirty = true;
        this.historyDirty = true;
        if (svc.state !== 'ready') {
          svc.state = 'ready';
          svc.lastSave = now;
          this.logger.log('info', `model of ${key} fine-tuned on ${windows.length} normal windows (loss ${loss.toFixed(4)}); it now scores live`, { service: key });
          this.save(key, svc);
        }
      }),
      () => (svc.busy = false),
    );
  }

  private save(key: string, svc: ServiceWindows): void {
    svc.dirty = false;
    // a model that cannot be saved still scores; the next save tries again
    const warn = (err: Error) => {
      svc.dirty = true;
      this.logger.log('warn', `could not save the model of ${key}: ${err.message}`, { service: key });
    };
    this.track(this.model.save(key).catch(warn));
    if (this.historyDirty) this.track(this.saveHistory().catch(warn));
  }

  /**
   * Normal windows (oldest first) ending after `after`: all rows present in time order without a gap,
   * no anomaly in the window and, when `settled`, none in the next window either (a fault often shows in
   * the model before the detectors raise it).
   */
  private normalWindows(svc: ServiceWindows, after: number, settled = true): { windows: number[][][]; ends: number[] } {
    // a fine-tune takes at most fineTuneMaxWindows; a retraining (not settled) takes them all
    return normalWindowsOf(svc, this.model.windowSize, after, settled, settled ? Math.max(this.options.fineTuneMaxWindows, this.options.firstFineTuneWindows) : Infinity);
  }

  private track(p: Promise<unknown>, done?: () => void): void {
    const tracked = p
      .catch((err: Error) => this.fail(err))
      .finally(() => {
        done?.();
        this.work.delete(tracked);
      });
    this.work.add(tracked);
  }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = err.message;
    this.logger.log('error', `the multi-signal model failed (${err.message}); detection goes on with rules and baselines only. Restart to try the model again.`);
  }

  private async loadHistory(): Promise<void> {
    if (!this.store) return;
    try {
      const doc = await this.store.readState<ModelHistoryDocument>(MODEL_HISTORY_STATE);
      if (!doc) return;
      if (doc.version !== 1 || doc.windowSize !== this.model.windowSize || doc.signals?.join() !== this.model.signals.join() || typeof doc.services !== 'object') {
        this.logger.log('warn', 'the saved model history was made for other signals or window size; starting a new one');
        return;
      }
      this.savedHistory = doc.services;
    } catch (err) {
      this.logger.log('warn', `${(err as Error).message}; the model history starts afresh`);
    }
  }

  /** Puts the saved rows before the live ones; returns the windows fine-tuned on, if the history knew. */
  private restoreHistory(key: string, svc: ServiceWindows): number | undefined {
    const h = this.savedHistory?.[key];
    if (!h || !Array.isArray(h.t) || !Array.isArray(h.rows) || !Array.isArray(h.anomalous)) return undefined;
    const first = svc.t[0] ?? Infinity;
    const keep = h.t.map((_, i) => i).filter((i) => h.t[i] < first && Array.isArray(h.rows[i]) && h.rows[i].length === this.model.signals.length);
    svc.t.unshift(...keep.map((i) => h.t[i]));
    svc.rows.unshift(...keep.map((i) => h.rows[i].map((v) => (v === null ? NaN : v))));
    svc.anomalous.unshift(...keep.map((i) => Boolean(h.anomalous[i])));
    const excess = svc.t.length - this.options.historyRows;
    if (excess > 0) {
      svc.t.splice(0, excess);
      svc.rows.splice(0, excess);
      svc.anomalous.splice(0, excess);
    }
    if (typeof h.tunedUpTo === 'number') svc.tunedUpTo = h.tunedUpTo;
    if (typeof h.tunedWindows !== 'number') return undefined;
    svc.tunedWindows = h.tunedWindows;
    return h.tunedWindows;
  }

  /**
   * The evidence fused at frame t: the weakest of the last persistWindows scores, all of consecutive
   * windows ending at the frames before t (none older than one and a half intervals); undefined while
   * the model is not mature.
   */
  private fused(svc: ServiceWindows, t: number): ModelScore | undefined {
    const need = this.options.persistWindows;
    if (svc.tunedWindows < this.options.matureAfterWindows || svc.recent.length < need) return undefined;
    const interval = intervalOf(svc.t);
    const newest = svc.recent[svc.recent.length - 1];
    if (!(newest.t < t && t - newest.t <= 1.5 * interval)) return undefined;
    for (let i = 1; i < svc.recent.length; i++) if (svc.recent[i].t - svc.recent[i - 1].t > 1.5 * interval) return undefined;
    return svc.recent.reduce((a, b) => (b.score.score < a.score.score ? b : a)).score;
  }

  private async saveHistory(): Promise<void> {
    if (!this.store) return;
    this.historyDirty = false;
    const services: ModelHistoryDocument['services'] = { ...this.savedHistory };
    for (const [key, svc] of this.services) {
      services[key] = {
        t: [...svc.t],
        rows: svc.rows.map((r) => r.map((v) => (Number.isFinite(v) ? Number(v.toPrecision(6)) : null))),
        anomalous: [...svc.anomalous],
        ...(Number.isFinite(svc.tunedUpTo) ? { tunedUpTo: svc.tunedUpTo } : {}),
        tunedWindows: svc.tunedWindows,
      };
    }
    const doc: ModelHistoryDocument = { version: 1, signals: [...this.model.signals], windowSize: this.model.windowSize, services };
    await this.store.writeState(MODEL_HISTORY_STATE, doc);
  }
}

/**
 * Normal windows of a service's recorded rows (see ModelEvidence), oldest first, at most the newest `limit`
 * of them built; exported for `vigil retrain-model`, which retrains from the saved history without an agent.
 */
export function normalWindowsOf(
  h: ServiceHistory | { t: number[]; rows: number[][]; anomalous: boolean[] },
  W: number,
  after = -Infinity,
  settled = true,
  limit = Infinity,
): { windows: number[][][]; ends: number[] } {
  const interval = intervalOf(h.t);
  const n = h.t.length;
  const lastEnd = settled ? n - 1 - W : n - 1;
  let clean = 0; // consecutive rows without an anomaly or a gap, up to and including i
  const cleanRun: number[] = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const gap = i > 0 && h.t[i] - h.t[i - 1] > 1.5 * interval;
    clean = h.anomalous[i] ? 0 : gap ? 1 : clean + 1;
    cleanRun[i] = clean;
  }
  // counted first, built only for the newest `limit`: the loop asks on every frame until the first fine-tune
  const candidates: number[] = [];
  for (let end = W - 1; end <= lastEnd; end++) {
    if (h.t[end] <= after) continue;
    const reach = settled ? end + W : end;
    // the window, the two rows its medians reach back to, and (settled) the next window
    if (cleanRun[reach] >= reach - end + W + 2) candidates.push(end);
  }
  const windows: number[][][] = [];
  const ends: number[] = [];
  for (const end of candidates.slice(-Math.min(limit, candidates.length))) {
    const window = smoothedWindow(h.rows, end, W);
    if (!window.some((r) => r.some(Number.isFinite))) continue;
    windows.push(window);
    ends.push(h.t[end]);
  }
  return { windows, ends };
}

/** The score, if a signal with at least `share` of the model's error is outside its band at this frame. */
function corroborated(score: ModelScore | undefined, frame: SampleFrame, bands: Readonly<Record<string, Band>>, share: number): ModelScore | undefined {
  if (!score) return undefined;
  for (const [signal, s] of Object.entries(score.contributions)) {
    const v = frame.values[signal as keyof typeof frame.values];
    const band = bands[signal];
    if ((s ?? 0) >= share && band && v !== undefined && Number.isFinite(v) && (v > band.upper || v < band.lower)) return score;
  }
  return undefined;
}

/**
 * How many of the newest normal windows a retraining holds out: those no fine-tune has seen yet, at least
 * 20% (and 30), at most half.
 */
export function retrainHoldout(ends: ReadonlyArray<number>, tunedUpTo: number): number {
  const untrained = ends.filter((t) => t > tunedUpTo).length;
  return Math.min(Math.max(untrained, RETRAIN_MIN_HOLDOUT, Math.ceil(ends.length * 0.2)), Math.floor(ends.length / 2));
}

/**
 * The W rows ending at `end`, each signal a causal median of its last three values: a single-sample
 * spike (a noisy p99 from a few slow requests) is the baselines' business and must not echo through the
 * next W windows; a shift of two samples or more passes through, one step late at most.
 */
export function smoothedWindow(rows: ReadonlyArray<ReadonlyArray<number | null>>, end: number, W: number): number[][] {
  const at = (i: number, s: number): number => {
    const v = rows[i]?.[s];
    return typeof v === 'number' ? v : NaN; // null in a saved history is a missing value
  };
  const out: number[][] = [];
  for (let i = end - W + 1; i <= end; i++) {
    out.push(rows[i].map((_, s) => {
      const v = at(i, s);
      const xs = [at(i - 2, s), at(i - 1, s), v];
      if (!xs.every(Number.isFinite)) return v;
      xs.sort((a, b) => a - b);
      return xs[1];
    }));
  }
  return out;
}

/** The scrape interval, as the median step between recent rows. */
function intervalOf(t: ReadonlyArray<number>): number {
  const n = t.length;
  if (n < 2) return Infinity;
  const steps: number[] = [];
  for (let i = Math.max(1, n - 21); i < n; i++) steps.push(t[i] - t[i - 1]);
  steps.sort((a, b) => a - b);
  return steps[Math.floor(steps.length / 2)];
}

/**
 * When the model's score is what raised an anomaly, its reason names the signals that moved together,
 * by their share of the reconstruction error, so a human sees what the model saw.
 */
export function explainModelAnomaly(a: Anomaly): Anomaly {
  if (!a.reason.startsWith('model:')) return a;
  const top = [...a.contributions].filter((c) => c.share >= 0.1).sort((x, y) => y.share - x.share).slice(0, 4);
  if (top.length === 0) return a;
  const moved = top.map((c) => `${c.signal} ${Math.round(c.share * 100)}%${c.observed !== undefined ? ` (${valueWording(c.signal, c.observed)}${c.band ? ` vs ${valueWording(c.signal, c.band.expected)}` : ''})` : ''}`).join(', ');
  return { ...a, reason: `model: signals moved together unlike this service's normal windows (score ${a.score.toFixed(2)}): ${moved}` };
}

