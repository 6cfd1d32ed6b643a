import type { ChildProcess } from 'node:child_process';
import type { LogFields, LogLevel, LoggerPort } from '../core/ports';

/** A reply to one call, as the healing loop's and the model's workers send it. */
export interface IpcReply {
  readonly id: number;
  readonly result?: unknown;
  readonly error?: string;
}

/**
 * Calls over a child process's IPC channel that answer once (the healing loop's process, the model's): each request
 * `{ id, method, args }` waits for the reply with its id; an exit fails every call still waiting.
 */
export class IpcCalls {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; method: string }>();

  /** `who` names the process in errors, e.g. "the model process". */
  constructor(private readonly who: string) {}

  /** Calls still waiting for their reply. */
  get size(): number {
    return this.pending.size;
  }

  send(child: ChildProcess, method: string, args: unknown[]): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      child.send({ id, method, args }, (err) => {
        if (!err) return;
        this.pending.delete(id);
        reject(new Error(`${this.who} did not take the ${method} call: ${err.message}`));
      });
    });
  }

  /** Settles the call a reply answers (a reply to no waiting call is dropped). */
  settle(reply: IpcReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    if (reply.error !== undefined) p.reject(new Error(reply.error));
    else p.resolve(reply.result);
  }

  /** Fails every call still waiting: "<why> during <method>". */
  failAll(why: string): void {
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(new Error(`${why} during ${p.method}`));
    }
  }
}

/** A log line a worker sends its host as an event. */
export interface IpcLogLine {
  readonly kind: 'log';
  readonly component: string;
  readonly level: LogLevel;
  readonly message: string;
  readonly fields?: LogFields;
}

/** The LoggerPort of a worker process: its lines go to the host as `log` events (the host's logger writes them). */
export function ipcLogger(emit: (line: IpcLogLine) => void, component: string): LoggerPort {
  return {
    log: (level, message, fields) => emit({ kind: 'log', component, level, message, ...(fields ? { fields } : {}) }),
    child: (name) => ipcLogger(emit, name),
  };
}

/** Asks a forked worker to stop by closing its IPC channel, and kills it if it has not exited within `graceMs`. */
export async function stopWorker(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.connected) child.disconnect();
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
