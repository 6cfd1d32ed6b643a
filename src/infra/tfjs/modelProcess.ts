import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { SignalName } from '../../core/model/signal';
import type { LogFields, LogLevel, LoggerPort, ModelPort, ModelScore, RetrainRecord } from '../../core/ports';
import type { TfjsModel } from './tfjsModel';
import { MODEL_SIGNALS, WINDOW_SIZE, type RawWindow } from './windowSpec';
import { IpcCalls, stopWorker } from '../ipcCalls';

export interface ModelWorkerOptions {
  readonly stateDir: string;
  readonly baseModelDir?: string;
}

type Method = 'score' | 'fineTune' | 'save' | 'load' | 'retrain' | 'backend';

export interface ModelCall {
  readonly id: number;
  readonly method: Method & keyof TfjsModel;
  readonly args: unknown[];
}

export type ModelProcessMessage =
  | { readonly kind: 'ready' }
  | { readonly kind: 'reply'; readonly id: number; readonly result?: unknown; readonly error?: string }
  | { readonly kind: 'log'; readonly component: string; readonly level: LogLevel; readonly message: string; readonly fields?: LogFields };

export interface ModelProcessOptions extends ModelWorkerOptions {
  readonly logger?: LoggerPort;
  /** The worker script and the Node flags to run it with; dist/modelWorker.js next to this bundle by default. */
  readonly worker?: { readonly path: string; readonly execArgv?: ReadonlyArray<string> };
  /** Restarts allowed after exits it did not ask for: this many within `crashWindowMs`, then a pause (default 3 in 10 min, 5 min). */
  readonly restarts?: { readonly max: number; readonly windowMs: number; readonly pauseMs: number };
  readonly now?: () => number;
}

const DEFAULT_RESTARTS = { max: 3, windowMs: 600_000, pauseMs: 300_000 };

/**
 * The TensorFlow.js model in a child process, as language servers run beside the editor: the ModelPort's calls go
 * over IPC (structured clone) to dist/modelWorker.js, which holds the model. The extension host then keeps only the
 * UI: tfjs, its wasm memory and the models' weights live in the child, whose rss Debug Stats reports beside the
 * host's. The child starts on the first call (as LazyTfjsModel loads tfjs then) and again after it died.
 */
export class ModelProcess implements ModelPort {
  readonly signals: ReadonlyArray<SignalName> = MODEL_SIGNALS;
  readonly windowSize = WINDOW_SIZE;
  private child: ChildProcess | undefined;
  private readonly calls = new IpcCalls('the model process');
  private readonly logger: LoggerPort | undefined;
  /** When the process exited without being asked to, newest last (only those inside the restart window are kept). */
  private crashes: number[] = [];
  private pausedUntil = 0;

  constructor(private readonly options: ModelProcessOptions) {
    this.logger = options.logger?.child('model');
  }

  /** Whether the model process has been started. */
  get loaded(): boolean {
    return this.child !== undefined;
  }

  /** The model process's pid while it runs. */
  get pid(): number | undefined {
    return this.child?.exitCode === null ? this.child.pid : undefined;
  }

  score(serviceKey: string, windows: ReadonlyArray<RawWindow>): Promise<ReadonlyArray<ModelScore>> {
    return this.call('score', [serviceKey, windows]) as Promise<ReadonlyArray<ModelScore>>;
  }

  fineTune(serviceKey: string, windows: ReadonlyArray<RawWindow>): Promise<{ readonly loss: number }> {
    return this.call('fineTune', [serviceKey, windows]) as Promise<{ loss: number }>;
  }

  async save(serviceKey: string): Promise<void> {
    if (this.child) await this.call('save', [serviceKey]);
  }

  load(serviceKey: string): Promise<boolean> {
    return this.call('load', [serviceKey]) as Promise<boolean>;
  }

  retrain(serviceKey: string, windows: ReadonlyArray<RawWindow>, options?: { readonly holdout?: number }): Promise<RetrainRecord> {
    return this.call('retrain', [serviceKey, windows, options]) as Promise<RetrainRecord>;
  }

  /** The backend in use in the model process ('not loaded' before it started). */
  async backend(): Promise<string> {
    return this.child ? ((await this.call('backend', [])) as string) : 'not loaded';
  }

  async dispose(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    // it exits on disconnect; a model busy in a long fine-tune is ended after a grace period
    if (child) await stopWorker(child, 3_000);
  }

  private call(method: Method, args: unknown[]): Promise<unknown> {
    let child: ChildProcess;
    try {
      child = this.start();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return this.calls.send(child, method, args);
  }

  private start(): ChildProcess {
    if (this.child && this.child.exitCode === null && this.child.connected) return this.child;
    const now = (this.options.now ?? Date.now)();
    if (now < this.pausedUntil) {
      const { max, windowMs } = this.options.restarts ?? DEFAULT_RESTARTS;
      throw new Error(`the model process exited ${max} times within ${Math.round(windowMs / 60_000)} min; the model is paused until ${new Date(this.pausedUntil).toISOString()} (rules and baselines go on); see the model's log lines for why it died`);
    }
    const worker = this.options.worker ?? { path: bundledWorker() };
    if (!existsSync(worker.path)) throw new Error(`the model process's script ${worker.path} is missing; rebuild the extension (npm run build) or turn the model off (vigil.model.enabled)`);
    const child = fork(worker.path, [JSON.stringify({ stateDir: this.options.stateDir, ...(this.options.baseModelDir ? { baseModelDir: this.options.baseModelDir } : {}) } satisfies ModelWorkerOptions)], {
      // the extension host may be Electron: run its binary as plain Node, as VS Code's language clients do
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      execArgv: [...(worker.execArgv ?? [])],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.child = child;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => this.logger?.log('warn', `model process: ${text.trim()}`));
    child.on('message', (m: ModelProcessMessage) => {
      if (m.kind === 'log') this.logger?.log(m.level, m.message, m.fields);
      else if (m.kind === 'reply') this.calls.settle(m);
    });
    child.on('exit', (code, signal) => {
      const unasked = this.child === child;
      if (unasked) this.child = undefined;
      const why = `the model process exited (${signal ? `signal ${signal}` : `code ${code}`})`;
      if (unasked) this.noteCrash(why);
      if (this.calls.size) this.logger?.log('warn', `${why} with ${this.calls.size} call(s) unanswered; the next call starts it again`);
      this.calls.failAll(why);
    });
    this.logger?.log('info', `model process started (pid ${child.pid})`);
    return child;
  }

  /** A process that keeps dying (a broken wasm file, memory) is not restarted for every frame: `max` exits in the window pause it. */
  private noteCrash(why: string): void {
    const { max, windowMs, pauseMs } = this.options.restarts ?? DEFAULT_RESTARTS;
    const now = (this.options.now ?? Date.now)();
    this.crashes = [...this.crashes.filter((t) => now - t < windowMs), now];
    if (this.crashes.length < max) return;
    this.crashes = [];
    this.pausedUntil = now + pauseMs;
    this.logger?.log('error', `${why}: ${max} exits within ${Math.round(windowMs / 60_000)} min, so the model is paused for ${Math.round(pauseMs / 60_000)} min; rules and baselines go on`);
  }
}

/** dist/modelWorker.js: this code runs from dist/ (the CLI) or from a chunk in dist/chunks/ (the extension). */
function bundledWorker(): string {
  const here = typeof __dirname === 'string' ? __dirname : process.cwd();
  const candidates = [path.join(here, 'modelWorker.js'), path.join(path.dirname(here), 'modelWorker.js')];
  return candidates.find((p) => existsSync(p)) ?? candidates[0];
}
