import type { AuditEntry, AuditVerification } from '../model/audit';
import type { Incident } from '../model/incident';
import type { StorePort } from '../ports';

/**
 * StorePort in memory: replay, benches and unit tests on a virtual clock (file I/O would race the virtual time).
 * Values are copied in and out, as a file store would, so no caller mutates what another holds. The audit chain
 * is hashed with `hash` when given (tests pass the file store's); without it entries are chained by seq only.
 */
export class MemoryStore implements StorePort {
  readonly incidents = new Map<string, Incident>();
  readonly audit: AuditEntry[] = [];
  readonly state = new Map<string, string>();

  constructor(
    private readonly hash?: (entry: Omit<AuditEntry, 'hash'>) => string,
    private readonly genesis = '',
  ) {}

  async saveIncident(incident: Incident): Promise<void> {
    this.incidents.set(incident.id, structuredClone(incident));
  }
  async loadIncident(id: string): Promise<Incident | undefined> {
    const i = this.incidents.get(id);
    return i && structuredClone(i);
  }
  async listIncidents(): Promise<ReadonlyArray<Incident>> {
    return [...this.incidents.values()].map((i) => structuredClone(i)).sort((a, b) => a.openedAt - b.openedAt);
  }
  async appendAudit(draft: Omit<AuditEntry, 'seq' | 'prevHash' | 'hash'>): Promise<AuditEntry> {
    const prev = this.audit.at(-1);
    const body = { ...draft, seq: (prev?.seq ?? 0) + 1, prevHash: prev?.hash ?? this.genesis };
    const entry = { ...body, hash: this.hash ? this.hash(body) : '' };
    this.audit.push(entry);
    return entry;
  }
  async readAudit(): Promise<ReadonlyArray<AuditEntry>> {
    return [...this.audit];
  }
  async verifyAudit(): Promise<AuditVerification> {
    return { ok: true, entries: this.audit.length };
  }
  async readState<T>(name: string): Promise<T | undefined> {
    const s = this.state.get(name);
    return s === undefined ? undefined : (JSON.parse(s) as T);
  }
  async writeState<T>(name: string, value: T): Promise<void> {
    this.state.set(name, JSON.stringify(value));
  }
}
