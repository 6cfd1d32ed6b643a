import type { ClockPort, ClusterPort, Disposable, LeaseState, LoggerPort } from '../ports';

/**
 * Holds (or waits for) the cluster Lease that lets exactly one Vigil instance act. Renews at a third
 * of the duration; if renewing fails the lease counts as lost, so a cut-off instance stops acting.
 */
export class LeaseKeeper implements Disposable {
  private current: LeaseState | undefined;
  private timer: Disposable | undefined;
  private lastOk = 0;
  private stopped = false;

  constructor(
    private readonly cluster: ClusterPort,
    private readonly clock: ClockPort,
    private readonly logger: LoggerPort,
    readonly name: string,
    readonly namespace: string,
    readonly identity: string,
    private readonly durationSeconds = 30,
  ) {}

  get state(): LeaseState | undefined {
    // a lease we could not renew within its duration is not ours any more
    if (this.current?.held && this.clock.now() - this.lastOk > this.durationSeconds * 1000) return { holder: undefined, held: false };
    return this.current;
  }

  async start(): Promise<void> {
    await this.tick();
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      const before = this.current;
      this.current = await this.cluster.acquireLease(this.name, this.namespace, this.identity, this.durationSeconds);
      this.lastOk = this.clock.now();
      if (before?.held !== this.current.held || before?.holder !== this.current.holder) {
        this.logger.log('info', this.current.held ? `holding Lease ${this.namespace}/${this.name}: this instance acts on the cluster` : `Lease ${this.namespace}/${this.name} is held by ${this.current.holder}: this instance observes only`);
      }
    } catch (err) {
      this.logger.log('warn', `could not renew Lease ${this.namespace}/${this.name}: ${(err as Error).message}`);
    }
    if (!this.stopped) this.timer = this.clock.setTimeout(() => void this.tick(), (this.durationSeconds * 1000) / 3);
  }

  async dispose(): Promise<void> {
    this.stopped = true;
    this.timer?.dispose();
    if (this.current?.held) {
      await this.cluster.releaseLease(this.name, this.namespace, this.identity).catch(() => undefined);
      this.current = { holder: undefined, held: false };
    }
  }
}
