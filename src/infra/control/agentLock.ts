import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Who holds a state directory: the agent for as long as it runs, a CLI for the one decision it writes. */
export interface LockHolder {
  readonly pid: number;
  readonly role: 'agent' | 'cli';
  readonly host: string;
  readonly since: number;
}

export class LockHeldError extends Error {
  constructor(
    readonly holder: LockHolder,
    readonly file: string,
  ) {
    super(`${describeHolder(holder)} holds ${file}`);
  }
}

export function describeHolder(h: LockHolder): string {
  return `${h.role === 'agent' ? 'a Vigil agent' : 'a vigil command'} (pid ${h.pid} on ${h.host}, since ${new Date(h.since).toISOString()})`;
}

export function lockFile(stateDir: string): string {
  return path.join(stateDir, 'agent.lock');
}

/** A lock file that names no live process on this host, or that cannot be read and is old, is stale. */
const UNREADABLE_STALE_MS = 10_000;

/**
 * `<stateDir>/agent.lock`: one writer per state directory. The file holds the owner's pid; it is made
 * whole in a temp file and linked into place, which fails if the lock exists, so it is never seen half written.
 * A lock whose pid is dead is taken over.
 */
export class AgentLock {
  private released = false;

  private constructor(
    readonly file: string,
    readonly holder: LockHolder,
  ) {}

  /** Takes the lock or throws LockHeldError naming the live holder. */
  static async acquire(stateDir: string, role: LockHolder['role']): Promise<AgentLock> {
    const file = lockFile(stateDir);
    await fs.mkdir(stateDir, { recursive: true });
    const holder: LockHolder = { pid: process.pid, role, host: os.hostname(), since: Date.now() };
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await fs.writeFile(tmp, `${JSON.stringify(holder)}\n`, { mode: 0o600 });
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          await fs.link(tmp, file);
          return new AgentLock(file, holder);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
        const current = await readHolder(file);
        if (current === 'gone') continue;
        if (current !== 'unreadable' && isAlive(current)) throw new LockHeldError(current, file);
        if (current === 'unreadable' && !(await olderThan(file, UNREADABLE_STALE_MS))) throw new Error(`${file} cannot be read; if no Vigil agent or command uses ${stateDir}, remove it`);
        if (attempt >= 3) throw new Error(`could not take over the stale lock ${file}; remove it if no Vigil agent or command uses ${stateDir}`);
        await removeIfSame(file, current);
      }
    } finally {
      await fs.rm(tmp, { force: true });
    }
  }

  /** Removes the lock if it is still ours. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await removeIfSame(this.file, this.holder);
  }
}

/** The holder named in the lock file; 'gone' when there is none, 'unreadable' when it is not a lock. */
export async function readHolder(file: string): Promise<LockHolder | 'gone' | 'unreadable'> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw err;
  }
  try {
    const h = JSON.parse(text) as LockHolder;
    return Number.isInteger(h.pid) && h.pid > 0 && (h.role === 'agent' || h.role === 'cli') ? h : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

/** A holder on another host cannot be checked: it counts as alive. */
export function isAlive(h: LockHolder): boolean {
  if (h.host !== os.hostname()) return true;
  try {
    process.kill(h.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, someone else's
  }
}

async function olderThan(file: string, ms: number): Promise<boolean> {
  try {
    return Date.now() - (await fs.stat(file)).mtimeMs > ms;
  } catch {
    return true;
  }
}

/** Removes the lock only while it still names `expected`, so a lock someone just took is left alone. */
async function removeIfSame(file: string, expected: LockHolder | 'unreadable'): Promise<void> {
  const now = await readHolder(file);
  if (now === 'gone') return;
  if (expected === 'unreadable' ? now !== 'unreadable' : now === 'unreadable' || now.pid !== expected.pid || now.since !== expected.since || now.host !== expected.host) return;
  await fs.rm(file, { force: true });
}
