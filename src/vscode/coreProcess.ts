import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { LoggerPort } from '../core/ports';
import { IpcCalls, stopWorker } from '../infra/ipcCalls';
import type { CoreCalls, CoreClient, CoreListener, CoreMethod, CoreStart, CoreStarted, CoreWorkerMessage } from './coreClient';

export interface CoreProcessOptions {
  readonly listener: CoreListener;
  /** The process's own lifecycle and its stderr; the loop's log lines come as events. */
  readonly logger?: LoggerPort;
  /** Added to the host's environment for the process: secrets (VIGIL_PROMETHEUS_TOKEN) travel here, never in messages. */
  readonly env?: Readonly<Record<string, string>>;
  /** The worker script and the Node flags to run it with; dist/coreWorker.js next to this bundle by default. */
  readonly worker?: { readonly path: string; readonly execArgv?: ReadonlyArray<string> };
  /** Restarts after exits it did not ask for: at most `max` within `windowMs` (default 3 in 10 min), then it stays down. */
  readonly restarts?: { readonly max: number; readonly windowMs: number };
  readonly now?: () => number;
}

const DEFAULT_RESTARTS = { max: 3, windowMs: 600_000 };
/** How long the loop may take to stop (save its state, release the state directory) before it is killed. */
const STOP_GRACE_MS = 8_000;

/**
 * The healing loop in a child process of the extension host, as language servers run beside the editor: the host
 * keeps the UI and a view model, the process (dist/coreWorker.js) runs the VigilRuntime with its informers, detectors,
 * incidents and replays, and the model's process under it. Calls go over IPC (structured clone) and answer once;
 * events stream back. A process that dies is started again with the latest settings, within a budget; past it the
 * listener hears `lost(reason, false)` and the loop stays down until the user reconnects.
 */
export class CoreProcess implements CoreClient {
  private child: ChildProcess | undefined;
  private readonly calls = new IpcCalls("the healing loop's process");
  private startOptions: CoreStart | undefined;
  private running = false;
  /** A process is being started: its exit is that start's failure, not a crash to restart from. */
  private starting = false;
  private crashes: number[] = [];
  private lastStderr: () => string = () => '';

  constructor(private readonly options: CoreProcessOptions) {}

  get pid(): number | undefined {
    return this.child?.exitCode === null ? this.child.pid : undefined;
  }

  async start(options: CoreStart): Promise<CoreStarted> {
    this.startOptions = options;
    const started = await this.launch();
    this.running = true;
    return started;
  }

  call<M extends CoreMethod>(method: M, ...args: Parameters<CoreCalls[M]>): ReturnType<CoreCalls[M]> {
    // settings sent while running are those a restarted process starts with
    if (method === 'applySettings' && this.startOptions) this.startOptions = { ...this.startOptions, settings: args[0] as CoreStart['settings'] };
    const child = this.child;
    if (!child || !child.connected) return Promise.reject(new Error(`the healing loop is not running${this.running ? ' (its process exited; it is being started again)' : ''}`)) as ReturnType<CoreCalls[M]>;
    return this.calls.send(child, method, args) as ReturnType<CoreCalls[M]>;
  }

  async dispose(): Promise<void> {
    this.running = false;
    const child = this.child;
    this.child = undefined;
    // on disconnect the loop stops (saves its state, releases the state directory) and exits; a stuck one is killed
    if (child) await stopWorker(child, STOP_GRACE_MS);
  }

  private async launch(): Promise<CoreStarted> {
    this.starting = true;
    try {
      const child = this.fork();
      return (await this.calls.send(child, 'start', [this.startOptions as CoreStart])) as CoreStarted;
    } finally {
      this.starting = false;
    }
  }

  private fork(): ChildProcess {
    const worker = this.options.worker ?? { path: bundledWorker('coreWorker.js') };
    const { child, lastStderr } = forkWorker(worker, { who: "the healing loop's", logAs: 'healing loop process', env: this.options.env, logger: this.options.logger });
    this.child = child;
    this.lastStderr = lastStderr;
    child.on('message', (m: CoreWorkerMessage) => {
      if (m.kind === 'event') {
        this.options.listener.event(m.event);
        return;
      }
      this.calls.settle(m);
    });
    child.on('exit', (code, signal) => this.exited(child, code, signal));
    this.options.logger?.log('info', `healing loop process started (pid ${child.pid})`);
    return child;
  }

  private exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    const unasked = this.child === child;
    if (unasked) this.child = undefined;
    const why = `the healing loop's process exited (${signal ? `signal ${signal}` : `code ${code}`})${this.lastStderr() ? `: ${this.lastStderr()}` : ''}`;
    this.calls.failAll(why);
    // a start that fails is reported by the one who started it; one asked to stop is no news
    if (!unasked || !this.running || this.starting) return;
    const { max, windowMs } = this.options.restarts ?? DEFAULT_RESTARTS;
    const now = (this.options.now ?? Date.now)();
    this.crashes = [...this.crashes.filter((t) => now - t < windowMs), now];
    if (this.crashes.length > max) {
      this.running = false;
      this.options.logger?.log('error', `${why}; it exited ${this.crashes.length} times within ${Math.round(windowMs / 60_000)} min, so it is not started again`);
      this.options.listener.lost?.(`${why}, ${this.crashes.length} times within ${Math.round(windowMs / 60_000)} min`, false);
      return;
    }
    this.options.logger?.log('warn', `${why}; starting it again (${this.crashes.length} of ${max} restarts within ${Math.round(windowMs / 60_000)} min)`);
    this.options.listener.lost?.(why, true);
    this.launch().then(
      (started) => {
        if (this.running) this.options.listener.restarted?.(started);
      },
      (err: Error) => {
        if (!this.running) return;
        void this.dispose();
        this.options.listener.lost?.(`${why}; starting it again failed: ${err.message}`, false);
      },
    );
  }
}

/**
 * Forks one of the bundle's worker scripts (`who`: "the healing loop's") with an IPC channel of structured clones;
 * `env` is added to the host's environment. Its stderr goes to `logger` as warnings (`logAs`: "healing loop process"),
 * and its last line is kept to say why it exited.
 */
export function forkWorker(
  worker: { readonly path: string; readonly execArgv?: ReadonlyArray<string> },
  o: { readonly who: string; readonly logAs: string; readonly env?: Readonly<Record<string, string>>; readonly logger?: LoggerPort },
): { child: ChildProcess; lastStderr: () => string } {
  if (!existsSync(worker.path)) throw new Error(`${o.who} script ${worker.path} is missing; rebuild the extension (npm run build)`);
  const child = fork(worker.path, [], {
    // the extension host may be Electron: run its binary as plain Node, as VS Code's language clients do
    env: { ...process.env, ...o.env, ELECTRON_RUN_AS_NODE: '1' },
    execArgv: [...(worker.execArgv ?? [])],
    serialization: 'advanced',
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let last = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    const lines = text.trim().split('\n');
    last = lines[lines.length - 1]?.slice(0, 300) ?? '';
    o.logger?.log('warn', `${o.logAs}: ${text.trim()}`);
  });
  return { child, lastStderr: () => last };
}

/** dist/<name> (coreWorker.js, clusterConsoleWorker.js): this code runs from dist/extension.js or from a chunk in dist/chunks/. */
export function bundledWorker(name: string): string {
  const here = typeof __dirname === 'string' ? __dirname : process.cwd();
  const candidates = [path.join(here, name), path.join(path.dirname(here), name)];
  return candidates.find((p) => existsSync(p)) ?? candidates[0];
}
