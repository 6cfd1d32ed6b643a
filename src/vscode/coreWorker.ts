/**
 * Entry of the healing loop's process (dist/coreWorker.js), forked by the extension host (CoreProcess): it composes the
 * loop exactly as the agent does (CoreService → VigilRuntime → createHealingCore), answers the UI's calls over IPC
 * and sends its events; the model runs in a child process of this one. It exits when the host goes away.
 * No 'vscode' import.
 */
import { ipcLogger } from '../infra/ipcCalls';
import { CORE_METHODS, type CoreCalls, type CoreEvent, type CoreMethod, type CoreRequest, type CoreStart, type CoreWorkerMessage } from './coreClient';
import type { CoreService } from './coreService';

function send(m: CoreWorkerMessage): void {
  if (process.connected) process.send?.(m);
}

const emit = (event: CoreEvent): void => send({ kind: 'event', event });


let service: CoreService | undefined;
let running: Promise<CoreService> | undefined;

async function answer(req: CoreRequest): Promise<unknown> {
  if (req.method === 'start') {
    if (running) throw new Error('the healing loop was started already in this process');
    const { CoreService } = await import('./coreService');
    const starting = CoreService.start(req.args[0] as CoreStart, emit, ipcLogger(emit, 'engine'), process.env);
    running = starting.then((r) => (service = r.service));
    return (await starting).started;
  }
  const name: CoreMethod = req.method;
  if (!CORE_METHODS.includes(name)) throw new Error(`the healing loop has no call "${String(name)}"`);
  const s = service ?? (await running);
  if (!s) throw new Error('the healing loop is not started');
  const method = s[name] as (...args: unknown[]) => ReturnType<CoreCalls[CoreMethod]>;
  return method.apply(s, req.args);
}

process.on('message', (req: CoreRequest) => {
  answer(req).then(
    (result) => send({ kind: 'reply', id: req.id, result }),
    (err: unknown) => send({ kind: 'reply', id: req.id, error: err instanceof Error ? err.message : String(err) }),
  );
});

// the host went away (closed, crashed, or asked): stop the loop's timers, release the state directory, exit
process.on('disconnect', () => {
  const s = service;
  service = undefined;
  const timer = setTimeout(() => process.exit(0), 5_000);
  timer.unref();
  void (s ? s.dispose() : Promise.resolve()).catch(() => undefined).then(() => process.exit(0));
});
