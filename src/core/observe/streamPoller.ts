import type { SampleFrame } from '../model/signal';
import type { ClockPort, Disposable, LoggerPort, SourceStatus } from '../ports';
import { alignDown, stepTimes } from './alignment';
import { groupByTime } from './frames';

/** What a source returns for one poll: frames, plus problems that did not stop it (one bad query). */
export interface FrameFetchResult {
  readonly frames: ReadonlyArray<SampleFrame>;
  readonly problems: ReadonlyArray<string>;
}

/** The I/O half of a metrics source; the poller owns timing, ordering, backfill and status. */
export interface FrameFetcher {
  instant(t: number): Promise<FrameFetchResult>;
  range(from: number, to: number, stepMs: number): Promise<FrameFetchResult>;
}

export interface StreamPollerOptions {
  /** Source name in SourceStatus, e.g. `prometheus`. */
  readonly source: string;
  /** Message while the source fails, e.g. `Prometheus unreachable at URL: cause`. */
  readonly describeDown: (err: unknown) => string;
  readonly clock: ClockPort;
  readonly intervalMs: number;
  /** Wait after an interval boundary before asking, so the scrape of that boundary has landed. */
  readonly lagMs?: number;
  /** Longest gap filled after an outage; older intervals are reported as lost, not silently dropped. */
  readonly maxBackfillMs?: number;
  readonly logger?: LoggerPort;
  /** Lines the status carries besides its message (SourceStatus.details). */
  readonly details?: () => ReadonlyArray<string>;
}

type FramesListener = (frames: ReadonlyArray<SampleFrame>) => void;
type StatusListener = (status: SourceStatus) => void;

/**
 * Polls a FrameFetcher once per aligned interval and emits one call per interval, oldest first.
 * After a failure it keeps retrying with backoff; on recovery it fills the gap with one range
 * fetch, so every interval since the last emitted one is emitted in order. Never throws out.
 */
export class StreamPoller implements Disposable {
  private readonly frameListeners = new Set<FramesListener>();
  private readonly statusListeners = new Set<StatusListener>();
  private timer: Disposable | undefined;
  private running = false;
  private disposed = false;
  private lastEmitted: number | undefined;
  private failures = 0;
  private current: SourceStatus;
  private readonly lagMs: number;
  private readonly maxBackfillMs: number;

  constructor(
    private readonly fetcher: FrameFetcher,
    private readonly options: StreamPollerOptions,
  ) {
    if (!(options.intervalMs >= 1)) throw new Error(`Poll interval must be at least 1 ms, got ${options.intervalMs}`);
    this.lagMs = options.lagMs ?? 0;
    this.maxBackfillMs = options.maxBackfillMs ?? 60 * 60_000;
    this.current = { source: options.source, state: 'connecting', message: `Connecting to ${options.source}`, since: options.clock.now() };
  }

  get status(): SourceStatus {
    return this.current;
  }

  /** Last aligned time emitted, for tests and status. */
  get lastEmittedTime(): number | undefined {
    return this.lastEmitted;
  }

  subscribe(onFrames: FramesListener): Disposable {
    this.frameListeners.add(onFrames);
    if (!this.timer && !this.running && !this.disposed) this.schedule(0);
    return {
      dispose: () => {
        this.frameListeners.delete(onFrames);
        if (this.frameListeners.size === 0) this.stop();
      },
    };
  }

  onStatus(listener: StatusListener): Disposable {
    this.statusListeners.add(listener);
    listener(this.current);
    return { dispose: () => this.statusListeners.delete(listener) };
  }

  dispose(): void {
    this.disposed = true;
    this.stop();
    this.frameListeners.clear();
    this.statusListeners.clear();
  }

  private stop(): void {
    this.timer?.dispose();
    this.timer = undefined;
  }

  private schedule(delayMs: number): void {
    if (this.disposed || this.frameListeners.size === 0) return;
    this.timer?.dispose();
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = undefined;
      void this.tick().then((next) => this.schedule(next));
    }, Math.max(0, delayMs));
  }

  /** One poll; resolves to the delay until the next. Public so tests can drive it step by step. */
  async tick(): Promise<number> {
    const { clock, intervalMs } = this.options;
    if (this.running) return intervalMs;
    this.running = true;
    try {
      const now = clock.now();
      const t = alignDown(now - this.lagMs, intervalMs);
      const untilNext = t + intervalMs + this.lagMs - now;
      if (this.lastEmitted !== undefined && t <= this.lastEmitted) return untilNext;
      let from = this.lastEmitted === undefined ? t : this.lastEmitted + intervalMs;
      let lost = 0;
      if (t - from > this.maxBackfillMs) {
        const newFrom = alignDown(t - this.maxBackfillMs, intervalMs);
        lost = (newFrom - from) / intervalMs;
        from = newFrom;
      }
      let result: FrameFetchResult;
      try {
        result = from === t ? await this.fetcher.instant(t) : await this.fetcher.range(from, t, intervalMs);
      } catch (err) {
        this.failures++;
        this.setStatus('down', this.options.describeDown(err));
        this.options.logger?.log('warn', 'metrics source failed', { source: this.options.source, failures: this.failures, error: errorText(err) });
        return Math.min(intervalMs, 500 * 2 ** Math.min(this.failures - 1, 6));
      }
      if (this.disposed) return intervalMs;
      const recovered = this.failures > 0;
      this.failures = 0;
      const groups = new Map(groupByTime(result.frames).map((g) => [g.t, g.frames]));
      let empty = 0;
      const times = stepTimes(from, t, intervalMs);
      for (const at of times) {
        const frames = groups.get(at) ?? [];
        if (frames.length === 0) empty++;
        this.emit(frames);
      }
      this.lastEmitted = t;
      const notes: string[] = [];
      if (recovered && times.length > 1) notes.push(`recovered; backfilled ${times.length - 1} missed interval(s)`);
      if (lost > 0) notes.push(`${lost} interval(s) older than the backfill limit were lost`);
      if (empty > 0) notes.push(`${empty} interval(s) had no samples`);
      notes.push(...result.problems);
      const degraded = lost > 0 || result.problems.length > 0 || (empty > 0 && empty === times.length);
      this.setStatus(degraded ? 'degraded' : 'ok', notes.length > 0 ? notes.join('; ') : `Streaming from ${this.options.source}`);
      return Math.max(0, t + intervalMs + this.lagMs - clock.now());
    } finally {
      this.running = false;
    }
  }

  private emit(frames: ReadonlyArray<SampleFrame>): void {
    for (const listener of [...this.frameListeners]) {
      try {
        listener(frames);
      } catch (err) {
        this.options.logger?.log('error', 'frame listener threw', { source: this.options.source, error: errorText(err) });
      }
    }
  }

  private setStatus(state: SourceStatus['state'], message: string): void {
    const details = this.options.details?.();
    if (this.current.state === state && this.current.message === message && (this.current.details ?? []).join('\n') === (details ?? []).join('\n')) return;
    this.current = { source: this.options.source, state, message, since: this.options.clock.now(), ...(details && details.length > 0 ? { details } : {}) };
    for (const listener of [...this.statusListeners]) {
      try {
        listener(this.current);
      } catch (err) {
        this.options.logger?.log('error', 'status listener threw', { source: this.options.source, error: errorText(err) });
      }
    }
  }
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
