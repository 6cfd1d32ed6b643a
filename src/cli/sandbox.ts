/** `vigil sandbox`: runs the simulated cluster until SIGINT/SIGTERM; one JSON ready line on stdout, logs on stderr. */
import { intOption, parseCliArgs, serveUntilStopped } from './args';
import { DEFAULT_KUBECONFIG_PATH, startSandbox } from '../sandbox/sandbox';
import { DEFAULT_SETTINGS } from '../core/settings';

function port(flag: string, value: unknown): number {
  const n = intOption('sandbox', flag, value, 0);
  if (n < 0 || n > 65535) throw new Error(`vigil sandbox: --${flag} must be between 0 and 65535 (0 picks a free port), got ${n}`);
  return n;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCliArgs('sandbox', argv, {
    port: { type: 'string' },
    'metrics-port': { type: 'string' },
    seed: { type: 'string' },
    'day-seconds': { type: 'string' },
    kubeconfig: { type: 'string' },
    'stop-with-stdin': { type: 'boolean' },
    'application-metrics': { type: 'string' },
    'no-deployment-label': { type: 'boolean' },
  });
  const application = (values['application-metrics'] as string | undefined) ?? DEFAULT_SETTINGS.sandbox.applicationMetrics;
  if (application !== 'prometheus' && application !== 'opentelemetry' && application !== 'istio') {
    throw new Error(`vigil sandbox: --application-metrics must be prometheus, opentelemetry or istio, got "${application}"`);
  }
  const daySeconds = intOption('sandbox', 'day-seconds', values['day-seconds'], 600);
  if (daySeconds < 1) throw new Error(`vigil sandbox: --day-seconds must be at least 1, got ${daySeconds}`);
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  const sandbox = await startSandbox({
    port: port('port', values.port),
    metricsPort: port('metrics-port', values['metrics-port']),
    seed: intOption('sandbox', 'seed', values.seed, 1),
    daySeconds,
    kubeconfigPath: (values.kubeconfig as string | undefined) ?? DEFAULT_KUBECONFIG_PATH,
    metricShape: { application, deploymentLabel: !values['no-deployment-label'] },
    log,
  });
  process.stdout.write(`${JSON.stringify({ apiServer: sandbox.apiServer, metrics: sandbox.metrics, kubeconfig: sandbox.kubeconfig })}\n`);
  log(`sandbox ready; kubectl --kubeconfig ${sandbox.kubeconfig} get pods -A. Ctrl-C stops it.`);
  // run as a child (the VS Code extension): when the parent goes away, so does the sandbox
  return serveUntilStopped('sandbox', () => sandbox.stop(), log, { stopWithStdin: Boolean(values['stop-with-stdin']) });
}
