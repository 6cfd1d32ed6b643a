import type { ClockPort, Disposable, LoggerPort, ScrapeFailures } from '../../core/ports';
import { PrometheusError, type PrometheusClient } from './prometheusClient';

export interface ScrapeFailureWatchOptions {
  readonly client: Pick<PrometheusClient, 'instant'>;
  readonly clock: ClockPort;
  /** How often `up == 0` is read (default every second: a small answer, empty while every target answers). */
  readonly everyMs?: number;
  readonly logger?: LoggerPort;
  readonly onRead: (read: ScrapeFailures) => void;
}

/**
 * The scrape targets Prometheus fails to reach (`up == 0`), read every second rather than every interval: what fails
 * shows within the scrape that failed, so a node that died is named seconds after, not an interval or two later. A
 * failed read is skipped (the metrics source reports Prometheus down).
 */
export class ScrapeFailureWatch implements Disposable {
  private timer: Disposable | undefined;
  private disposed = false;
  private failing = false;

  constructor(private readonly options: ScrapeFailureWatchOptions) {}

  start(): void {
    if (this.timer || this.disposed) return;
    const every = this.options.everyMs ?? 1_000;
    const tick = async () => {
      await this.readOnce();
      if (!this.disposed) this.timer = this.options.clock.setTimeout(() => void tick(), every);
    };
    this.timer = this.options.clock.setTimeout(() => void tick(), every);
  }

  async readOnce(): Promise<void> {
    const t = this.options.clock.now();
    try {
      const down = await this.options.client.instant('up == 0', t);
      if (this.disposed) return;
      this.failing = false;
      this.options.onRead({ t, down: down.map((s) => s.metric) });
    } catch (err) {
      // said once per outage: the metrics source names Prometheus down already
      if (!this.failing) this.options.logger?.log('debug', `scrape failures not read: ${err instanceof PrometheusError ? err.message : (err as Error).message}`);
      this.failing = true;
    }
  }

  dispose(): void {
    this.disposed = true;
    this.timer?.dispose();
    this.timer = undefined;
  }
}
