import type { ClusterFact } from '../model/fact';
import { targetLabel } from '../model/target';
import type { EventsPort, LoggerPort, StorePort } from '../ports';

/** Every release Vigil saw (a new revision of a workload), so the change failure rate has its denominator. */
export const RELEASES_STATE = 'releases';
/** The newest releases kept. */
export const RELEASES_KEPT = 5000;

export interface ReleaseRecord {
  readonly t: number;
  /** `namespace/name`. */
  readonly target: string;
  readonly revision?: number;
  readonly previousRevision?: number;
  readonly image?: string;
}

export interface ReleaseLog {
  readonly releases: ReadonlyArray<ReleaseRecord>;
}

/** Appends each revision change of a service to the store's release log (loaded once, written in order). */
export class ReleaseRecorder {
  private log: ReleaseRecord[] | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: StorePort,
    private readonly logger: LoggerPort,
  ) {}

  fact(f: ClusterFact): void {
    if (f.kind !== 'revision-changed' || f.target.kind !== 'service') return;
    const num = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined);
    const a = f.attributes ?? {};
    const record: ReleaseRecord = { t: f.t, target: targetLabel(f.target), revision: num(a.to ?? a.revision), previousRevision: num(a.from ?? a.previousRevision), image: typeof a.image === 'string' ? a.image : undefined };
    this.writing = this.writing
      .then(async () => {
        this.log ??= [...((await this.store.readState<ReleaseLog>(RELEASES_STATE))?.releases ?? [])];
        if (this.log.some((r) => r.t === record.t && r.target === record.target && r.revision === record.revision)) return;
        this.log.push(record);
        if (this.log.length > RELEASES_KEPT) this.log.splice(0, this.log.length - RELEASES_KEPT);
        await this.store.writeState(RELEASES_STATE, { releases: this.log } satisfies ReleaseLog);
      })
      .catch((err: Error) => this.logger.log('warn', `could not record the release of ${record.target}: ${err.message}`));
  }

  /** The events port with every fact shown to the recorder first (one subscription, as the port's users expect). */
  tap(events: EventsPort): EventsPort {
    return { inventory: () => events.inventory(), recentLogs: (t, n) => events.recentLogs(t, n), onStatus: (l) => events.onStatus(l), subscribe: (cb) => events.subscribe((f) => (this.fact(f), cb(f))) };
  }

  flush(): Promise<void> {
    return this.writing;
  }
}
