import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { AuditEntry, AuditVerification } from '../../core/model/audit';
import type { Incident } from '../../core/model/incident';
import type { StorePort } from '../../core/ports';
import { AuditLog, readIfExists, writeAtomically } from './auditLog';

/**
 * StorePort on a state directory:
 *   incidents/<id>.json   one incident each, written atomically
 *   audit.jsonl (+ .head) the hash-chained audit log
 *   state/<name>.json     detector state, learned thresholds, engine state
 */
export class FileStore implements StorePort {
  readonly audit: AuditLog;

  constructor(readonly stateDir: string) {
    this.audit = new AuditLog(path.join(stateDir, 'audit.jsonl'));
  }

  private incidentFile(id: string): string {
    if (!/^[A-Za-z0-9._-]+$/.test(id)) throw new Error(`Invalid incident id "${id}": use letters, digits, dot, dash or underscore`);
    return path.join(this.stateDir, 'incidents', `${id}.json`);
  }

  async saveIncident(incident: Incident): Promise<void> {
    await writeAtomically(this.incidentFile(incident.id), `${JSON.stringify(incident)}\n`);
  }

  async loadIncident(id: string): Promise<Incident | undefined> {
    const text = await readIfExists(this.incidentFile(id));
    return text ? (JSON.parse(text) as Incident) : undefined;
  }

  async listIncidents(): Promise<ReadonlyArray<Incident>> {
    const dir = path.join(this.stateDir, 'incidents');
    let names: string[];
    try {
      names = await fs.readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: Incident[] = [];
    for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
      try {
        out.push(JSON.parse(await fs.readFile(path.join(dir, name), 'utf8')) as Incident);
      } catch {
        // an unreadable incident file must not hide the others; `vigil replay --list` names it
      }
    }
    return out.sort((a, b) => a.openedAt - b.openedAt || a.id.localeCompare(b.id));
  }

  appendAudit(entry: Omit<AuditEntry, 'seq' | 'prevHash' | 'hash'>): Promise<AuditEntry> {
    return this.audit.append(entry);
  }

  readAudit(): Promise<ReadonlyArray<AuditEntry>> {
    return this.audit.read();
  }

  verifyAudit(): Promise<AuditVerification> {
    return this.audit.verify();
  }

  private stateFile(name: string): string {
    if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`Invalid state name "${name}"`);
    return path.join(this.stateDir, 'state', `${name}.json`);
  }

  async readState<T>(name: string): Promise<T | undefined> {
    const file = this.stateFile(name);
    const text = await readIfExists(file);
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new Error(`State file ${file} is corrupted (${(err as Error).message}); move it aside to start from defaults`);
    }
  }

  async writeState<T>(name: string, value: T): Promise<void> {
    await writeAtomically(this.stateFile(name), `${JSON.stringify(value)}\n`);
  }
}
