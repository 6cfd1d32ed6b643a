import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { LoggerPort } from '../core/ports';
import type { VigilSettings } from '../core/settings';

/** How to run `vigil sandbox`: the program and the arguments before `sandbox`. */
export interface SandboxCommand {
  readonly program: string;
  readonly args: ReadonlyArray<string>;
}

export interface SandboxProcessOptions {
  readonly command: SandboxCommand;
  readonly kubeconfigPath: string;
  readonly seed?: number;
  readonly daySeconds?: number;
  /** The `sandbox.*` settings: how the sandbox names its metrics. */
  readonly metrics?: VigilSettings['sandbox'];
  readonly logger: LoggerPort;
  readonly readyTimeoutMs?: number;
  /** Called when the sandbox exits without being asked to (killed, crashed). */
  readonly onUnexpectedExit?: (reason: string) => void;
}

/** The ready line `vigil sandbox` prints on stdout. */
interface ReadyLine {
  apiServer: string;
  metrics: string;
  kubeconfig: string;
}

const STDERR_KEPT = 20;

/**
 * The sandbox as a separate process (`vigil sandbox`), like a real cluster would be: its objects,
 * simulation and servers stay out of the extension host's memory. Same handshake as the CLI:
 * one JSON ready line on stdout, the kubeconfig written where asked. It stops when its stdin
 * closes, so it never outlives the extension host.
 */
export class SandboxProcess {
  private stopped: Promise<void> | undefined;

  private constructor(
    private readonly child: ChildProcess,
    readonly apiServer: string,
    readonly metrics: string,
    readonly kubeconfig: string,
    private readonly logger: LoggerPort,
  ) {}

  get pid(): number | undefined {
    return this.child.pid;
  }

  static start(o: SandboxProcessOptions): Promise<SandboxProcess> {
    const args = [...o.command.args, 'sandbox', '--seed', String(o.seed ?? 7), '--day-seconds', String(o.daySeconds ?? 600), '--kubeconfig', o.kubeconfigPath, '--stop-with-stdin'];
    if (o.metrics) args.push('--application-metrics', o.metrics.applicationMetrics, ...(o.metrics.deploymentLabel ? [] : ['--no-deployment-label']), ...(o.metrics.declareDependencies ? [] : ['--no-depends-on']));
    // inside VS Code desktop process.execPath is Electron: run it as plain Node
    const child = spawn(o.command.program, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, windowsHide: true });
    const stderr: string[] = [];
    readLines(child.stderr!, (line) => {
      stderr.push(line);
      if (stderr.length > STDERR_KEPT) stderr.shift();
      o.logger.log('info', `[sandbox] ${line}`);
    });
    const commandText = `${o.command.program} ${args.join(' ')}`;
    return new Promise<SandboxProcess>((resolve, reject) => {
      let settled = false;
      const fail = (why: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        child.kill('SIGKILL');
        const tail = stderr.length ? `; it said: ${stderr.slice(-5).join(' | ')}` : '';
        reject(new Error(`the sandbox process (${commandText}) ${why}${tail}`));
      };
      const timer = setTimeout(() => fail(`was not ready after ${Math.round((o.readyTimeoutMs ?? 30_000) / 1000)} s`), o.readyTimeoutMs ?? 30_000);
      child.once('error', (err) => fail(`could not start: ${err.message}`));
      child.once('exit', (code, signal) => fail(`exited before it was ready (${signal ?? `exit ${code}`})`));
      readLines(child.stdout!, (line) => {
        if (settled) return;
        let ready: ReadyLine;
        try {
          ready = JSON.parse(line) as ReadyLine;
        } catch {
          o.logger.log('info', `[sandbox] ${line}`);
          return;
        }
        if (typeof ready.apiServer !== 'string' || typeof ready.kubeconfig !== 'string') return fail(`printed an unexpected ready line: ${line.slice(0, 200)}`);
        settled = true;
        clearTimeout(timer);
        child.removeAllListeners('exit');
        const sandbox = new SandboxProcess(child, ready.apiServer, ready.metrics, ready.kubeconfig, o.logger);
        child.once('exit', (code, signal) => {
          if (sandbox.stopped) return;
          const reason = `the sandbox process exited on its own (${signal ?? `exit ${code}`})`;
          o.logger.log('warn', `${reason}; run "Vigil: Start Sandbox Cluster" again`);
          o.onUnexpectedExit?.(reason);
        });
        resolve(sandbox);
      });
    });
  }

  /** The faults the sandbox can inject (GET /sandbox/v1), so the sandbox code stays out of this process. */
  async faultKinds(): Promise<string[]> {
    const body = (await this.request('GET', '/sandbox/v1')) as { faults?: unknown };
    return Array.isArray(body.faults) ? body.faults.filter((f): f is string => typeof f === 'string') : [];
  }

  /** POST /sandbox/v1/faults on the sandbox's API server; the error names the fault, the target and why. */
  async injectFault(fault: string, target: string, durationSeconds: number): Promise<{ id?: string }> {
    return (await this.request('POST', '/sandbox/v1/faults', { fault, target, durationSeconds }, `${fault} on ${target}`)) as { id?: string };
  }

  // node:http, not fetch: the first fetch() loads undici into the extension host (measured +18 MB rss)
  private async request(method: string, urlPath: string, body?: unknown, what = `${method} ${urlPath}`): Promise<unknown> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let status: number;
    let text: string;
    try {
      ({ status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = http.request(`${this.apiServer}${urlPath}`, { method, timeout: 10_000, headers: payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {} }, (res) => {
          let data = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (data += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: data }));
          res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error('timed out after 10 s')));
        req.on('error', reject);
        req.end(payload);
      }));
    } catch (err) {
      throw new Error(`cannot reach the sandbox at ${this.apiServer} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); run "Vigil: Start Sandbox Cluster" again`);
    }
    let parsed: unknown = {};
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = { message: text.slice(0, 300) };
    }
    if (status < 200 || status >= 300) throw new Error(`the sandbox refused ${what} (HTTP ${status}): ${(parsed as { message?: string }).message ?? text.slice(0, 300)}`);
    return parsed;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs = 5000): Promise<void> {
    this.stopped ??= new Promise<void>((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return resolve();
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      this.child.once('exit', () => {
        clearTimeout(timer);
        this.logger.log('info', 'sandbox process stopped');
        resolve();
      });
      this.child.kill('SIGTERM');
    });
    return this.stopped;
  }
}

function readLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buf += chunk;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (line) onLine(line);
    }
  });
}
