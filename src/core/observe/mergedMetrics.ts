import type { SampleFrame, SignalName } from '../model/signal';
import { targetKey, type TargetRef } from '../model/target';
import type { ClockPort, Disposable, MetricsPort, SourceStatus } from '../ports';
import { groupByTime, mergeFrames } from './frames';

export interface MergedMetricsOptions {
  readonly clock: ClockPort;
  /** How long an interval waits for the other sources after the primary delivered it. */
  readonly graceMs?: number;
  /** While the primary is down, the others' intervals are held (so the primary's backfill can join them) at most this long. */
  readonly maxHoldMs?: number;
}

/**
 * One MetricsPort over several aligned sources (metrics first, then logs, probes): one call per
 * interval with every target's merged frame, oldest first. The primary (first) source paces the
 * stream; the others join an interval if they deliver it within the grace time. Sources must use
 * the same interval so their times coincide.
 */
export class MergedMetrics implements MetricsPort, Disposable {
  private readonly listeners = new Set<(frames: ReadonlyArray<SampleFrame>) => void>();
  private readonly pending = new Map<number, Array<ReadonlyArray<SampleFrame> | undefined>>();
  private readonly lastDelivered: Array<number | undefined>;
  private readonly states: Array<SourceStatus['state']>;
  private subs: Disposable[] = [];
  private timer: Disposable | undefined;
  private lastFlushed = -Infinity;

  constructor(
    private readonly sources: ReadonlyArray<MetricsPort>,
    private readonly options: MergedMetricsOptions,
  ) {
    if (sources.length === 0) throw new Error('MergedMetrics needs at least one source');
    this.lastDelivered = sources.map(() => undefined);
    this.states = sources.map(() => 'connecting');
  }

  subscribe(onFrames: (frames: ReadonlyArray<SampleFrame>) => void): Disposable {
    this.listeners.add(onFrames);
    if (this.subs.length === 0) {
      this.sources.forEach((s, i) => {
        this.subs.push(s.onStatus((st) => (this.states[i] = st.state)));
        this.subs.push(s.subscribe((frames) => this.onPart(i, frames)));
      });
    }
    return {
      dispose: () => {
        this.listeners.delete(onFrames);
        if (this.listeners.size === 0) this.stop();
      },
    };
  }

  onStatus(listener: (status: SourceStatus) => void): Disposable {
    const subs = this.sources.map((s) => s.onStatus(listener));
    return { dispose: () => subs.forEach((d) => d.dispose()) };
  }

  async discoverTargets(): Promise<ReadonlyArray<{ readonly target: TargetRef; readonly signals: ReadonlyArray<SignalName> }>> {
    const all = await Promise.allSettled(this.sources.map((s) => s.discoverTargets()));
    const merged = new Map<string, { target: TargetRef; signals: Set<SignalName> }>();
    for (const r of all) {
      if (r.status !== 'fulfilled') continue;
      for (const d of r.value) {
        const key = targetKey(d.target);
        const e = merged.get(key) ?? { target: d.target, signals: new Set<SignalName>() };
        d.signals.forEach((s) => e.signals.add(s));
        merged.set(key, e);
      }
    }
    return [...merged.values()].map((e) => ({ target: e.target, signals: [...e.signals].sort() }));
  }

  async range(from: number, to: number, stepMs: number): Promise<ReadonlyArray<SampleFrame>> {
    const [primary, ...rest] = await Promise.all(this.sources.map((s, i) => (i === 0 ? s.range(from, to, stepMs) : s.range(from, to, stepMs).catch(() => [] as SampleFrame[]))));
    return mergeFrames(primary, ...rest);
  }

  dispose(): void {
    this.listeners.clear();
    this.stop();
  }

  private stop(): void {
    this.subs.forEach((d) => d.dispose());
    this.subs = [];
    this.timer?.dispose();
    this.timer = undefined;
  }

  private onPart(i: number, frames: ReadonlyArray<SampleFrame>): void {
    if (frames.length === 0) return;
    const t = frames[0].t;
    if (t <= this.lastFlushed) return;
    let parts = this.pending.get(t);
    if (!parts) this.pending.set(t, (parts = this.sources.map(() => undefined)));
    parts[i] = frames;
    this.lastDelivered[i] = t;
    this.consider();
  }

  /** Flushes what is complete; otherwise arms a timer for the grace or hold deadline. */
  private consider(): void {
    const now = this.options.clock.now();
    const grace = this.options.graceMs ?? 2_000;
    const hold = this.options.maxHoldMs ?? 10 * 60_000;
    const times = [...this.pending.keys()].sort((a, b) => a - b);
    let flushTo: number | undefined;
    let wakeAt = Infinity;
    for (const t of times) {
      const parts = this.pending.get(t)!;
      const arrived = (this.arrivedAt.get(t) ?? this.arrivedAt.set(t, now).get(t))!;
      const expected = this.sources.every((_s, i) => parts[i] !== undefined || this.states[i] === 'down' || (this.lastDelivered[i] !== undefined && this.lastDelivered[i]! < this.lastFlushedOr(t)));
      if (parts[0] !== undefined) {
        if (expected || now - arrived >= grace) flushTo = t;
        else wakeAt = Math.min(wakeAt, arrived + grace);
      } else if (now - arrived >= hold) {
        flushTo = t;
      } else {
        wakeAt = Math.min(wakeAt, arrived + hold);
      }
    }
    if (flushTo !== undefined) this.flush(flushTo);
    this.timer?.dispose();
    this.timer = undefined;
    if (this.pending.size > 0 && Number.isFinite(wakeAt)) this.timer = this.options.clock.setTimeout(() => this.consider(), Math.max(0, wakeAt - this.options.clock.now()));
  }

  private readonly arrivedAt = new Map<number, number>();

  /** A source is waited for (up to the grace) unless it is down or fell behind the last flushed interval (a slower cadence). */
  private lastFlushedOr(t: number): number {
    return Number.isFinite(this.lastFlushed) ? this.lastFlushed : t;
  }

  private flush(upTo: number): void {
    const times = [...this.pending.keys()].filter((t) => t <= upTo).sort((a, b) => a - b);
    for (const t of times) {
      const parts = this.pending.get(t)!;
      this.pending.delete(t);
      this.arrivedAt.delete(t);
      const merged = groupByTime(mergeFrames(...parts.filter((p): p is ReadonlyArray<SampleFrame> => p !== undefined)));
      this.lastFlushed = t;
      for (const g of merged) {
        for (const l of [...this.listeners]) {
          try {
            l(g.frames);
          } catch {
            // a listener's failure is its own; the stream goes on
          }
        }
      }
    }
  }
}
