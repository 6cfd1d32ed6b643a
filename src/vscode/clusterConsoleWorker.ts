/**
 * Entry of the console's process (dist/clusterConsoleWorker.js), forked by the extension host (ClusterConsoleProcess):
 * it lists and watches the in-cluster agents' Incident resources and writes decisions, so @kubernetes/client-node and
 * the watches' buffers stay out of the host. It exits when the host goes away. No 'vscode' import.
 */
import { ipcLogger } from '../infra/ipcCalls';
import { CONSOLE_METHODS, type ConsoleCalls, type ConsoleEvent, type ConsoleMethod, type ConsoleWorkerMessage } from './clusterConsoleProtocol';
import { ClusterConsoleService } from './clusterConsoleService';

function send(m: ConsoleWorkerMessage): void {
  if (process.connected) process.send?.(m);
}

const emit = (event: ConsoleEvent): void => send({ kind: 'event', event });


const service = new ClusterConsoleService(emit, ipcLogger(emit, 'console'));

process.on('message', (req: { id: number; method: ConsoleMethod; args: unknown[] }) => {
  const answer = async (): Promise<unknown> => {
    if (!CONSOLE_METHODS.includes(req.method)) throw new Error(`the console's process has no call "${String(req.method)}"`);
    const method = service[req.method] as (...args: unknown[]) => ReturnType<ConsoleCalls[ConsoleMethod]>;
    return method.apply(service, req.args);
  };
  answer().then(
    (result) => send({ kind: 'reply', id: req.id, result }),
    (err: unknown) => send({ kind: 'reply', id: req.id, error: err instanceof Error ? err.message : String(err) }),
  );
});

process.on('disconnect', () => {
  service.dispose();
  process.exit(0);
});
