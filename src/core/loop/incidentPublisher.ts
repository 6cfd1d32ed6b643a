import { incidentResource } from '../model/incidentResource';
import type { Incident } from '../model/incident';
import type { Disposable, IncidentResourcesPort, LeaseState, LoggerPort } from '../ports';

/**
 * Publishes each incident as an Incident resource while this replica leads (a standby's copy would fight the
 * leader's). Writes for one incident run one at a time and only the newest version waits, so a burst of
 * transitions costs at most two writes. A failed write is logged and retried with the next change; it never
 * stops the loop.
 */
export class IncidentPublisher implements Disposable {
  private readonly pending = new Map<string, Incident>();
  private readonly running = new Set<string>();
  private wasLeading = false;
  private disposed = false;
  private lastError = '';

  constructor(
    private readonly port: IncidentResourcesPort,
    private readonly lease: () => LeaseState | undefined,
    /** Namespace of node incidents (cluster-scoped targets): the agent's own. */
    private readonly nodeNamespace: string,
    private readonly logger: LoggerPort,
  ) {}

  publish(i: Incident): void {
    if (this.disposed) return;
    this.pending.set(i.id, i);
    if (!this.running.has(i.id)) void this.drain(i.id);
  }

  /** Call each interval: a replica that just took the Lease publishes what it knows (the old leader may have died mid-write). */
  checkLeadership(all: () => ReadonlyArray<Incident>): void {
    const leading = this.lease()?.held ?? false;
    if (leading && !this.wasLeading) for (const i of all()) this.publish(i);
    this.wasLeading = leading;
  }

  private async drain(id: string): Promise<void> {
    this.running.add(id);
    try {
      for (let i = this.pending.get(id); i && !this.disposed; i = this.pending.get(id)) {
        this.pending.delete(id);
        if (!this.lease()?.held) continue;
        try {
          await this.port.write(incidentResource(i, this.nodeNamespace));
          this.lastError = '';
        } catch (err) {
          const message = (err as Error).message;
          // one line per distinct cause, not one per write
          if (message !== this.lastError) this.logger.log('warn', `could not write Incident resource for ${i.id}: ${message}`);
          this.lastError = message;
        }
      }
    } finally {
      this.running.delete(id);
    }
  }

  dispose(): void {
    this.disposed = true;
    this.pending.clear();
  }
}
