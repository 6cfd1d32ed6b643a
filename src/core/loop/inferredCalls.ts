/**
 * Keeps the dependency graph's inferred edges current: reads the calls seen in telemetry at start and every
 * `everyMs`, and remembers an edge for `keepMs` after it was last seen, so a callee that stops answering during an
 * outage (or a caller idle overnight) keeps its edge while it matters. A failed read is one warning per distinct
 * cause, never an exception: diagnosis goes on with the edges it has.
 */
import type { ObservedCall } from '../model/serviceCall';
import { targetKey } from '../model/target';
import type { ClockPort, Disposable, LoggerPort, ServiceGraphPort, WorkloadInventory } from '../ports';

export interface InferredCallsDeps {
  readonly clock: ClockPort;
  readonly logger: LoggerPort;
  readonly source: ServiceGraphPort;
  readonly inventory: () => WorkloadInventory;
  /** Receives the whole set of remembered calls after each read. */
  readonly apply: (calls: ReadonlyArray<ObservedCall>) => void;
  /** Default 10 minutes, the cadence of metric discovery. */
  readonly everyMs?: number;
  /** Default 24 hours. */
  readonly keepMs?: number;
}

export class InferredCalls implements Disposable {
  private readonly seen = new Map<string, { call: ObservedCall; lastSeen: number }>();
  private timer: Disposable | undefined;
  private disposed = false;
  private lastProblem: string | undefined;
  private readonly reported = new Set<string>();

  constructor(private readonly deps: InferredCallsDeps) {}

  start(): void {
    const startedAt = this.deps.clock.now();
    const loop = () => {
      if (this.disposed) return;
      const every = this.deps.everyMs ?? 10 * 60_000;
      void this.refresh().finally(() => {
        // look again soon rather than in 10 minutes: before the informers have listed anything no name resolves, and in
        // the first minutes a Prometheus just started (or just given the mesh) may not have the two scrapes rate() needs
        const early = this.seen.size === 0 && this.deps.clock.now() - startedAt < every;
        const soon = early || this.deps.inventory().services.length === 0 || this.lastProblem !== undefined;
        if (!this.disposed) this.timer = this.deps.clock.setTimeout(loop, soon ? Math.min(30_000, every) : every);
      });
    };
    loop();
  }

  /** One read; resolves when the graph has its result (tests and the first interval call it directly). */
  async refresh(): Promise<void> {
    const now = this.deps.clock.now();
    try {
      const reading = await this.deps.source.calls(now, this.deps.inventory());
      for (const c of reading.calls) this.seen.set(`${targetKey(c.caller)}>${targetKey(c.callee)}>${c.source}`, { call: c, lastSeen: now });
      for (const name of reading.unresolved) {
        if (this.reported.has(name)) continue;
        this.reported.add(name);
        this.deps.logger.log('info', `service graph: ${name}; its calls are left out`);
      }
      if (this.lastProblem) this.deps.logger.log('info', `service graph: ${this.deps.source.description} readable again`);
      this.lastProblem = undefined;
    } catch (err) {
      const message = (err as Error).message;
      if (message !== this.lastProblem) this.deps.logger.log('warn', `service graph: could not read ${this.deps.source.description}: ${message}; diagnosis uses the edges it has`);
      this.lastProblem = message;
    }
    const keepMs = this.deps.keepMs ?? 24 * 3_600_000;
    for (const [k, v] of this.seen) if (now - v.lastSeen > keepMs) this.seen.delete(k);
    if (!this.disposed) this.deps.apply(this.calls());
  }

  /** The calls remembered now. */
  calls(): ReadonlyArray<ObservedCall> {
    return [...this.seen.values()].map((v) => v.call);
  }

  dispose(): void {
    this.disposed = true;
    this.timer?.dispose();
  }
}
