import type { ChildProcess } from 'node:child_process';
import type { LoggerPort } from '../core/ports';
import { IpcCalls, stopWorker } from '../infra/ipcCalls';
import type { ConsoleCalls, ConsoleEvent, ConsoleMethod, ConsoleWorkerMessage } from './clusterConsoleProtocol';
import { bundledWorker, forkWorker } from './coreProcess';

export interface ClusterConsoleProcessOptions {
  readonly event: (e: ConsoleEvent) => void;
  /** It exited without being asked: every watch is gone. */
  readonly lost: (reason: string) => void;
  readonly logger?: LoggerPort;
  /** dist/clusterConsoleWorker.js next to this bundle by default. */
  readonly worker?: { readonly path: string; readonly execArgv?: ReadonlyArray<string> };
}

/**
 * The console's list+watch in a child process of the extension host (dist/clusterConsoleWorker.js), forked when the
 * first context is probed and stopped with the last: the host keeps the views and hears typed events.
 */
export class ClusterConsoleProcess {
  private child: ChildProcess | undefined;
  private readonly calls = new IpcCalls("the console's process");

  constructor(private readonly options: ClusterConsoleProcessOptions) {}

  get pid(): number | undefined {
    return this.child?.exitCode === null ? this.child.pid : undefined;
  }

  call<M extends ConsoleMethod>(method: M, ...args: Parameters<ConsoleCalls[M]>): ReturnType<ConsoleCalls[M]> {
    let child: ChildProcess;
    try {
      child = this.child ?? this.fork();
    } catch (err) {
      return Promise.reject(err) as ReturnType<ConsoleCalls[M]>;
    }
    return this.calls.send(child, method, args) as ReturnType<ConsoleCalls[M]>;
  }

  private fork(): ChildProcess {
    const { child, lastStderr } = forkWorker(this.options.worker ?? { path: bundledWorker('clusterConsoleWorker.js') }, { who: "the console's", logAs: 'console process', logger: this.options.logger });
    this.child = child;
    child.on('message', (m: ConsoleWorkerMessage) => {
      if (m.kind === 'event') this.options.event(m.event);
      else this.calls.settle(m);
    });
    child.on('exit', (code, signal) => {
      const why = `the console's process exited (${signal ? `signal ${signal}` : `code ${code}`})${lastStderr() ? `: ${lastStderr()}` : ''}`;
      this.calls.failAll(why);
      if (this.child !== child) return;
      this.child = undefined;
      this.options.lost(why);
    });
    this.options.logger?.log('info', `console process started (pid ${child.pid})`);
    return child;
  }

  /** Stops the process (its watches end with it); the next call forks a new one. */
  async dispose(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child) await stopWorker(child, 5_000);
  }
}
