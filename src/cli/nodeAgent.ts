/** `vigil node-agent`: plays the kubelets of N nodes of a real control plane until SIGINT/SIGTERM; one JSON ready line on stdout, logs on stderr. */
import { intOption, parseCliArgs } from './args';
import { startNodeAgent } from '../sandbox/node/nodeAgent';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCliArgs('node-agent', argv, {
    kubeconfig: { type: 'string' },
    nodes: { type: 'string' },
  });
  const kubeconfig = values.kubeconfig as string | undefined;
  if (!kubeconfig) throw new Error('vigil node-agent: --kubeconfig is required (the control plane\'s admin kubeconfig)');
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  const agent = await startNodeAgent({ kubeconfig, nodes: intOption('node-agent', 'nodes', values.nodes, 3), log });
  process.stdout.write(`${JSON.stringify({ ready: true, nodes: agent.nodes })}\n`);
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      log(`${signal}: stopping the node agent`);
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      agent.stop().then(
        () => resolve(0),
        (err: unknown) => {
          log(`stop failed: ${(err as Error).message}`);
          resolve(1);
        },
      );
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
}
