import type { AuditEntry, AuditVerification } from '../../src/core/model/audit';
import type { Incident } from '../../src/core/model/incident';
import type { StorePort } from '../../src/core/ports';
import { GENESIS_HASH, hashEntry } from '../../src/infra/store/auditLog';

/**
 * StorePort in memory, with the same hash chain as the file store, for unit tests on a virtual
 * clock (real file I/O would race the virtual time). The file store has its own tests.
 */
export class MemoryStore implements StorePort {
  readonly incidents = new Map<string, Incident>();
  readonly audit: AuditEntry[] = [];
  readonly state = new Map<string, string>();

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
    const body = { ...draft, seq: (prev?.seq ?? 0) + 1, prevHash: prev?.hash ?? GENESIS_HASH };
    const entry = { ...body, hash: hashEntry(body) };
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
