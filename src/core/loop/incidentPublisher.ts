import { IncidentResourcesAbsentError, incidentResource } from '../model/incidentResource';
import type { Incident } from '../model/incident';
import type { ClockPort, Disposable, IncidentResourcesPort, LeaseState, LoggerPort } from '../ports';

/** How long a cluster found without the Incident CRD is left alone before one write checks again. */
export const CRD_RECHECK_MS = 5 * 60_000;

/**
 * Publishes each incident as an Incident resource while this replica leads (a standby's copy would fight the
 * leader's). Writes for one incident run one at a time and only the newest version waits, so a burst of
 * transitions costs at most two writes. A failed write is logged and retried with the next change; it never
 * stops the loop. A cluster without the CRD is found once: one warning naming the fix, then no request at all
 * until one write checks again CRD_RECHECK_MS later; the newest version of each incident waits and is written
 * once the CRD is there.
 */
export class IncidentPublisher implements Disposable {
  private readonly pending = new Map<string, Incident>();
  private readonly running = new Set<string>();
  /** Newest version of each incident not written because the CRD is absent. */
  private readonly deferred = new Map<string, Incident>();
  private wasLeading = false;
  private disposed = false;
  private lastError = '';
  /** The CRD was found absent: no write before this time, and then only the one that checks again. */
  private absentUntil: number | undefined;
  private checking = false;

  constructor(
    private readonly port: IncidentResourcesPort,
    private readonly lease: () => LeaseState | undefined,
    /** Namespace of node incidents (cluster-scoped targets): the agent's own. */
    private readonly nodeNamespace: string,
    private readonly logger: LoggerPort,
    private readonly clock: Pick<ClockPort, 'now'>,
  ) {}

  publish(i: Incident): void {
    if (this.disposed) return;
    this.pending.set(i.id, i);
    if (!this.running.has(i.id)) void this.drain(i.id);
  }

  /**
   * Call each interval: a replica that just took the Lease publishes what it knows (the old leader may have died
   * mid-write); once the re-check time of an absent CRD has come, one deferred incident checks again.
   */
  checkLeadership(all: () => ReadonlyArray<Incident>): void {
    const leading = this.lease()?.held ?? false;
    if (leading && !this.wasLeading) for (const i of all()) this.publish(i);
    this.wasLeading = leading;
    const first = this.deferred.values().next();
    if (leading && !first.done && this.absentUntil !== undefined && this.clock.now() >= this.absentUntil && !this.checking) {
      this.deferred.delete(first.value.id);
      this.publish(first.value);
    }
  }

  private async drain(id: string): Promise<void> {
    this.running.add(id);
    try {
      for (let i = this.pending.get(id); i && !this.disposed; i = this.pending.get(id)) {
        this.pending.delete(id);
        if (!this.lease()?.held) continue;
        if (this.absentUntil !== undefined && (this.checking || this.clock.now() < this.absentUntil)) {
          this.deferred.set(id, i);
          continue;
        }
        const checking = this.absentUntil !== undefined;
        this.checking = checking;
        try {
          await this.port.write(incidentResource(i, this.nodeNamespace));
          this.lastError = '';
          this.deferred.delete(id);
          if (checking) this.found();
        } catch (err) {
          if (err instanceof IncidentResourcesAbsentError) {
            if (this.absentUntil === undefined) this.logger.log('warn', `${err.message}. Vigil publishes no incidents to the cluster meanwhile and checks again every ${CRD_RECHECK_MS / 60_000} min`);
            this.absentUntil = this.clock.now() + CRD_RECHECK_MS;
            this.deferred.set(id, this.pending.get(id) ?? i);
            continue;
          }
          const message = (err as Error).message;
          // one line per distinct cause, not one per write
          if (message !== this.lastError) this.logger.log('warn', `could not write Incident resource for ${i.id}: ${message}`);
          this.lastError = message;
        } finally {
          if (checking) this.checking = false;
        }
      }
    } finally {
      this.running.delete(id);
    }
  }

  /** The CRD is there (again): what waited is written. */
  private found(): void {
    this.absentUntil = undefined;
    this.logger.log('info', `Incident resources (incidents.vigil.dev) found: publishing ${this.deferred.size} waiting incident(s)`);
    const waiting = [...this.deferred.values()];
    this.deferred.clear();
    for (const i of waiting) this.publish(i);
  }

  dispose(): void {
    this.disposed = true;
    this.pending.clear();
    this.deferred.clear();
  }
}
