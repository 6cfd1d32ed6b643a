import type { SampleFrame, SignalName } from '../model/signal';
import type { TargetRef } from '../model/target';
import type { Disposable, MetricsPort, SourceStatus } from '../ports';
import type { StreamPoller } from './streamPoller';

/**
 * A MetricsPort whose frames come from a StreamPoller. Sources that cannot ask their backend for the past
 * (direct scrape, log tails, probes) keep what they computed, so range() and backfill serve it.
 */
export abstract class PolledSource implements MetricsPort, Disposable {
  abstract readonly poller: StreamPoller;
  protected readonly history: SampleFrame[] = [];

  abstract discoverTargets(): Promise<ReadonlyArray<{ readonly target: TargetRef; readonly signals: ReadonlyArray<SignalName> }>>;

  /** Keeps `frames` and forgets what is older than `keepMs` before `t`. */
  protected remember(frames: ReadonlyArray<SampleFrame>, t: number, keepMs: number): void {
    this.history.push(...frames);
    let drop = 0;
    while (drop < this.history.length && this.history[drop].t < t - keepMs) drop++;
    if (drop > 0) this.history.splice(0, drop);
  }

  async range(from: number, to: number, _stepMs?: number): Promise<ReadonlyArray<SampleFrame>> {
    return this.history.filter((f) => f.t >= from && f.t <= to);
  }

  subscribe(onFrames: (frames: ReadonlyArray<SampleFrame>) => void): Disposable {
    return this.poller.subscribe(onFrames);
  }

  onStatus(listener: (status: SourceStatus) => void): Disposable {
    return this.poller.onStatus(listener);
  }

  dispose(): void {
    this.poller.dispose();
  }
}
