/** `vigil node-agent`: plays the kubelets of N nodes of a real control plane until SIGINT/SIGTERM; one JSON ready line on stdout, logs on stderr. */
import { intOption, parseCliArgs, serveUntilStopped } from './args';
import { startNodeAgent } from '../sandbox/node/nodeAgent';
import { parseRunImage } from '../sandbox/node/podProcesses';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCliArgs('node-agent', argv, {
    kubeconfig: { type: 'string' },
    nodes: { type: 'string' },
    seed: { type: 'string' },
    'day-seconds': { type: 'string' },
    'fault-port': { type: 'string' },
    'run-image': { type: 'string', multiple: true },
    'application-metrics': { type: 'string' },
  });
  const application = (values['application-metrics'] as string | undefined) ?? 'prometheus';
  if (application !== 'prometheus' && application !== 'opentelemetry' && application !== 'istio') throw new Error(`vigil node-agent: --application-metrics must be prometheus, opentelemetry or istio, got "${application}"`);
  const kubeconfig = values.kubeconfig as string | undefined;
  if (!kubeconfig) throw new Error('vigil node-agent: --kubeconfig is required (the control plane\'s admin kubeconfig)');
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  const agent = await startNodeAgent({
    kubeconfig,
    nodes: intOption('node-agent', 'nodes', values.nodes, 3),
    seed: intOption('node-agent', 'seed', values.seed, 1),
    daySeconds: intOption('node-agent', 'day-seconds', values['day-seconds'], 600),
    faultApiPort: intOption('node-agent', 'fault-port', values['fault-port'], 0),
    runImages: ((values['run-image'] as string[] | undefined) ?? []).map(parseRunImage),
    applicationMetrics: application,
    log,
  });
  process.stdout.write(`${JSON.stringify({ ready: true, nodes: agent.nodes, faultsUrl: agent.faultsUrl })}\n`);
  return serveUntilStopped('node agent', () => agent.stop(), log);
}
