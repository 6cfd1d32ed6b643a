/**
 * Entry of the model process (dist/modelWorker.js): the TensorFlow.js model behind ModelProcess, answering its
 * calls over IPC, so the process that forks it (the VS Code extension host) never loads tfjs, its wasm backend or
 * the models' weights. Its log lines go back to the parent's logger. It exits when the parent goes away.
 */
import type { LogFields, LogLevel, LoggerPort } from '../../core/ports';
import type { ModelCall, ModelProcessMessage, ModelWorkerOptions } from './modelProcess';

function send(m: ModelProcessMessage): void {
  process.send?.(m);
}

function ipcLogger(component: string): LoggerPort {
  return {
    log: (level: LogLevel, message: string, fields?: LogFields) => send({ kind: 'log', component, level, message, ...(fields ? { fields } : {}) }),
    child: (name: string) => ipcLogger(`${component}.${name}`),
  };
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as ModelWorkerOptions;
  const { TfjsModel } = await import('./tfjsModel');
  const model = new TfjsModel({ stateDir: options.stateDir, ...(options.baseModelDir ? { baseModelDir: options.baseModelDir } : {}), logger: ipcLogger('worker') });
  // one call at a time, in the order they came: the model is not re-entrant (fine-tuning swaps its weights)
  let queue = Promise.resolve();
  process.on('message', (call: ModelCall) => {
    queue = queue.then(async () => {
      try {
        const method = model[call.method] as (...args: unknown[]) => Promise<unknown>;
        send({ kind: 'reply', id: call.id, result: await method.apply(model, call.args) });
      } catch (err) {
        send({ kind: 'reply', id: call.id, error: (err as Error).message ?? String(err) });
      }
    });
  });
  process.on('disconnect', () => process.exit(0));
  send({ kind: 'ready' });
}

main().catch((err: unknown) => {
  process.stderr.write(`vigil model process failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
