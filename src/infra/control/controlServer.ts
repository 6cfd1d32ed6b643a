import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseHumanDecision } from '../../core/loop/humanDecisions';
import type { DecisionVerdict, HumanDecision } from '../../core/model/decision';
import type { LoggerPort } from '../../core/ports';

/** Unix socket paths are limited to about 104 bytes; a longer state directory gets one in the temp directory. */
const MAX_SOCKET_PATH = 100;
/** A request line longer than this is not a decision. */
export const MAX_REQUEST_BYTES = 64 * 1024;

/** Where the running agent listens: `<stateDir>/agent.sock` (a named pipe on Windows). Both sides compute it. */
export function controlSocketPath(stateDir: string): string {
  const dir = path.resolve(stateDir);
  const tag = createHash('sha256').update(dir).digest('hex').slice(0, 16);
  if (process.platform === 'win32') return `\\\\.\\pipe\\vigil-${tag}`;
  const inDir = path.join(dir, 'agent.sock');
  return inDir.length <= MAX_SOCKET_PATH ? inDir : path.join(os.tmpdir(), `vigil-${tag}.sock`);
}

/** One line each way: `{"decision": {...}}` → `{"verdict": {...}}`, or `{"error": "..."}` for a malformed request. */
export type ControlRequest = { readonly decision: HumanDecision };
export type ControlResponse = { readonly verdict: DecisionVerdict } | { readonly error: string };

/**
 * The agent's control socket: newline-delimited JSON, one request and one answer per line, owner-only (0600).
 * The caller must hold the state directory's lock, so a socket file left by a dead agent can be replaced.
 */
export class ControlServer {
  private readonly sockets = new Set<net.Socket>();
  private readonly inFlight = new Set<Promise<unknown>>();

  private constructor(
    private readonly server: net.Server,
    readonly socketPath: string,
  ) {}

  static async listen(stateDir: string, apply: (d: HumanDecision) => Promise<DecisionVerdict>, logger: LoggerPort): Promise<ControlServer> {
    const socketPath = controlSocketPath(stateDir);
    if (process.platform !== 'win32') await fs.rm(socketPath, { force: true });
    const server = net.createServer();
    const control = new ControlServer(server, socketPath);
    server.on('connection', (socket) => control.serve(socket, apply, logger));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => logger.log('warn', `control socket ${socketPath}: ${err.message}`));
    if (process.platform !== 'win32') await fs.chmod(socketPath, 0o600);
    return control;
  }

  private serve(socket: net.Socket, apply: (d: HumanDecision) => Promise<DecisionVerdict>, logger: LoggerPort): void {
    this.sockets.add(socket);
    socket.setEncoding('utf8');
    let buffer = '';
    // answers go out in the order the requests came, one line each
    let answered: Promise<unknown> = Promise.resolve();
    const answer = (line: string): void => {
      const reply = handle(line, apply, logger);
      this.inFlight.add(reply);
      void reply.finally(() => this.inFlight.delete(reply));
      answered = answered.then(async () => {
        const r = await reply;
        if (!socket.destroyed) socket.write(`${JSON.stringify(r)}\n`);
      });
    };
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.trim()) answer(line);
      }
      if (buffer.length > MAX_REQUEST_BYTES) {
        socket.end(`${JSON.stringify({ error: `request longer than ${MAX_REQUEST_BYTES} bytes without a newline` })}\n`);
        buffer = '';
      }
    });
    socket.on('error', () => undefined); // a client that went away mid-answer is no problem of the agent's
    socket.on('close', () => this.sockets.delete(socket));
  }

  /** Stops taking connections, answers the decisions already being applied (for up to `graceMs`), then hangs up. */
  async close(graceMs = 5000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    await new Promise((resolve) => setImmediate(resolve)); // lets the last answers be written
    for (const s of this.sockets) {
      s.end(); // flushes what was written
      setTimeout(() => s.destroy(), 1000).unref();
    }
    await closed;
    if (process.platform !== 'win32') await fs.rm(this.socketPath, { force: true });
  }
}

async function handle(line: string, apply: (d: HumanDecision) => Promise<DecisionVerdict>, logger: LoggerPort): Promise<ControlResponse> {
  let decision: HumanDecision;
  try {
    const request = JSON.parse(line) as Partial<ControlRequest>;
    decision = parseHumanDecision(request?.decision);
  } catch (err) {
    return { error: `not a decision: ${(err as Error).message}` };
  }
  try {
    const verdict = await apply(decision);
    logger.log('info', `decision ${decision.id} (${decision.kind}) by ${decision.by}: ${verdict.applied ? 'applied' : 'refused'} — ${verdict.message}`, { decision: decision.id });
    return { verdict };
  } catch (err) {
    logger.log('error', `decision ${decision.id} by ${decision.by} failed: ${(err as Error).message}`, { decision: decision.id });
    return { error: `the agent could not apply decision ${decision.id}: ${(err as Error).message}` };
  }
}
