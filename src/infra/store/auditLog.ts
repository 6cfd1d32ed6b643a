import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { AuditEntry, AuditVerification } from '../../core/model/audit';
import { canonicalJson } from './canonicalJson';

export const GENESIS_HASH = '0'.repeat(64);

let tmpCounter = 0;

export type AuditDraft = Omit<AuditEntry, 'seq' | 'prevHash' | 'hash'>;

export function hashEntry(entry: Omit<AuditEntry, 'hash'>): string {
  return createHash('sha256').update(canonicalJson(entry)).digest('hex');
}

/**
 * Append-only, hash-chained JSONL audit log. Each line carries the previous line's hash, so an edited,
 * removed or reordered line breaks the chain; `audit.head` holds the last seq and hash, so cutting lines
 * off the end is caught too.
 */
export class AuditLog {
  private tail: Promise<unknown> = Promise.resolve();
  private last: { seq: number; hash: string } | undefined;

  constructor(private readonly file: string) {}

  get headFile(): string {
    return `${this.file}.head`;
  }

  append(draft: AuditDraft): Promise<AuditEntry> {
    const next = this.tail.then(() => this.appendNow(draft));
    this.tail = next.catch(() => undefined);
    return next;
  }

  private async appendNow(draft: AuditDraft): Promise<AuditEntry> {
    if (!this.last) this.last = await this.readHead();
    const body: Omit<AuditEntry, 'hash'> = { ...draft, seq: this.last.seq + 1, prevHash: this.last.hash };
    const entry: AuditEntry = { ...body, hash: hashEntry(body) };
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    const handle = await fs.open(this.file, 'a');
    try {
      await handle.appendFile(`${canonicalJson(entry)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    this.last = { seq: entry.seq, hash: entry.hash };
    await writeAtomically(this.headFile, `${JSON.stringify(this.last)}\n`);
    return entry;
  }

  private async readHead(): Promise<{ seq: number; hash: string }> {
    // The log itself is the truth for appending; the head file only guards against truncation.
    const entries = await this.read();
    const lastEntry = entries[entries.length - 1];
    return lastEntry ? { seq: lastEntry.seq, hash: lastEntry.hash } : { seq: 0, hash: GENESIS_HASH };
  }

  async read(): Promise<AuditEntry[]> {
    const text = await readIfExists(this.file);
    if (!text) return [];
    const out: AuditEntry[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        out.push(JSON.parse(line) as AuditEntry);
      } catch {
        // verify() reports unparsable lines; readers skip them
      }
    }
    return out;
  }

  async verify(): Promise<AuditVerification> {
    const text = await readIfExists(this.file);
    const lines = text ? text.split('\n') : [];
    if (lines.length && lines[lines.length - 1] === '') lines.pop();
    let prev = { seq: 0, hash: GENESIS_HASH };
    for (let i = 0; i < lines.length; i++) {
      const lineNo = i + 1;
      const bad = (problem: string): AuditVerification => ({ ok: false, entries: i, firstBadLine: lineNo, problem });
      let entry: AuditEntry;
      try {
        entry = JSON.parse(lines[i]) as AuditEntry;
      } catch {
        return bad('not valid JSON (edited or corrupted)');
      }
      if (!entry || typeof entry !== 'object' || typeof entry.hash !== 'string') return bad('not an audit entry');
      if (entry.seq !== prev.seq + 1) return bad(`sequence ${entry.seq} where ${prev.seq + 1} was expected (an entry was removed or reordered)`);
      if (entry.prevHash !== prev.hash) return bad('previous-hash link does not match the entry before it (removed, reordered or edited)');
      const { hash, ...body } = entry;
      if (hashEntry(body) !== hash) return bad('content does not match its hash (the entry was edited)');
      if (canonicalJson(entry) !== lines[i]) return bad('line is not in canonical form (the entry was edited)');
      prev = { seq: entry.seq, hash };
    }
    const headText = await readIfExists(this.headFile);
    if (headText) {
      let head: { seq: number; hash: string } | undefined;
      try {
        head = JSON.parse(headText) as { seq: number; hash: string };
      } catch {
        return { ok: false, entries: lines.length, firstBadLine: lines.length + 1, problem: `${path.basename(this.headFile)} is corrupted` };
      }
      if (head.seq !== prev.seq || head.hash !== prev.hash) {
        return {
          ok: false,
          entries: lines.length,
          firstBadLine: Math.min(head.seq, lines.length + 1),
          problem: `the log ends at entry ${prev.seq} but ${path.basename(this.headFile)} records entry ${head.seq}: entries were cut off the end`,
        };
      }
    } else if (lines.length > 0) {
      return { ok: false, entries: lines.length, firstBadLine: lines.length, problem: `${path.basename(this.headFile)} is missing: the end of the log cannot be vouched for` };
    }
    return { ok: true, entries: lines.length };
  }
}

export async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Write to a temp file and rename, so a crash never leaves a half-written file. */
export async function writeAtomically(file: string, text: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  // unique per write: two writes of one file in the same millisecond must not share a temp file
  const tmp = `${file}.${process.pid}.${++tmpCounter}.${randomBytes(4).toString('hex')}.tmp`;
  await fs.writeFile(tmp, text);
  await fs.rename(tmp, file);
}
