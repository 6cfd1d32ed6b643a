/**
 * `vigil sandbox`: runs a cluster until SIGINT/SIGTERM; one JSON ready line on stdout, logs on stderr.
 * `--control-plane embedded` (default): the embedded API server and simulation. `--control-plane kubernetes`:
 * the official components built by `npm run k8s:build`, with the node agent as the nodes (needs root).
 * `--services N --pods-per-service M` generates N services (src/sandbox/sim/scaleTopology.ts): beside the shop on the
 * embedded control plane; applied with kubectl on the real one, with enough node-agent nodes unless --nodes says.
 */
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { intOption, parseCliArgs, serveUntilStopped } from './args';
import { DEFAULT_KUBECONFIG_PATH, startSandbox } from '../sandbox/sandbox';
import { DEFAULT_SETTINGS } from '../core/settings';
import { nodeAgentNodesFor, scaleManifests, scaleOptionsProblem, type ScaleOptions } from '../sandbox/sim/scaleTopology';

function port(flag: string, value: unknown): number {
  const n = intOption('sandbox', flag, value, 0);
  if (n < 0 || n > 65535) throw new Error(`vigil sandbox: --${flag} must be between 0 and 65535 (0 picks a free port), got ${n}`);
  return n;
}

/** The ready line both control planes print: tools that start a sandbox read apiServer, metrics and kubeconfig. */
export interface SandboxReadyLine {
  readonly apiServer: string;
  /** The embedded simulation's exposition, or kube-state-metrics on the real control plane (workloads are found by service discovery there). */
  readonly metrics: string;
  readonly kubeconfig: string;
  readonly controlPlane: 'embedded' | 'kubernetes';
  readonly netns?: string;
  readonly startSeconds?: number;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCliArgs('sandbox', argv, {
    'control-plane': { type: 'string' },
    nodes: { type: 'string' },
    port: { type: 'string' },
    'metrics-port': { type: 'string' },
    seed: { type: 'string' },
    'day-seconds': { type: 'string' },
    kubeconfig: { type: 'string' },
    'stop-with-stdin': { type: 'boolean' },
    'application-metrics': { type: 'string' },
    'no-deployment-label': { type: 'boolean' },
    'no-depends-on': { type: 'boolean' },
    services: { type: 'string' },
    'pods-per-service': { type: 'string' },
  });
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  const kubeconfigPath = (values.kubeconfig as string | undefined) ?? DEFAULT_KUBECONFIG_PATH;
  const stopWithStdin = Boolean(values['stop-with-stdin']);
  const controlPlane = (values['control-plane'] as string | undefined) ?? 'embedded';
  if (controlPlane === 'kubernetes') {
    for (const flag of ['port', 'metrics-port', 'seed', 'day-seconds', 'application-metrics', 'no-deployment-label', 'no-depends-on']) {
      if (values[flag] !== undefined) throw new Error(`vigil sandbox: --${flag} is for the embedded control plane; --control-plane kubernetes takes --nodes, --services, --pods-per-service and --kubeconfig`);
    }
    const scale = scaleOption(values.services, values['pods-per-service']);
    const nodes = intOption('sandbox', 'nodes', values.nodes, scale ? nodeAgentNodesFor(scale.services * scale.podsPerService) : 3);
    return runKubernetes(nodes, kubeconfigPath, stopWithStdin, log, scale);
  }
  if (controlPlane !== 'embedded') throw new Error(`vigil sandbox: --control-plane must be embedded or kubernetes, got "${controlPlane}"`);
  if (values.nodes !== undefined) throw new Error('vigil sandbox: --nodes is for --control-plane kubernetes');
  const application = (values['application-metrics'] as string | undefined) ?? DEFAULT_SETTINGS.sandbox.applicationMetrics;
  if (application !== 'prometheus' && application !== 'opentelemetry' && application !== 'istio') {
    throw new Error(`vigil sandbox: --application-metrics must be prometheus, opentelemetry or istio, got "${application}"`);
  }
  const scale = scaleOption(values.services, values['pods-per-service']);
  const daySeconds = intOption('sandbox', 'day-seconds', values['day-seconds'], 600);
  if (daySeconds < 1) throw new Error(`vigil sandbox: --day-seconds must be at least 1, got ${daySeconds}`);
  const sandbox = await startSandbox({
    port: port('port', values.port),
    metricsPort: port('metrics-port', values['metrics-port']),
    seed: intOption('sandbox', 'seed', values.seed, 1),
    daySeconds,
    kubeconfigPath,
    metricShape: { application, deploymentLabel: !values['no-deployment-label'] },
    declareDependencies: !values['no-depends-on'],
    scale,
    log,
  });
  const ready: SandboxReadyLine = { apiServer: sandbox.apiServer, metrics: sandbox.metrics, kubeconfig: sandbox.kubeconfig, controlPlane: 'embedded' };
  process.stdout.write(`${JSON.stringify(ready)}\n`);
  log(`sandbox ready; kubectl --kubeconfig ${sandbox.kubeconfig} get pods -A. Ctrl-C stops it.`);
  // run as a child (the VS Code extension): when the parent goes away, so does the sandbox
  return serveUntilStopped('sandbox', () => sandbox.stop(), log, { stopWithStdin });
}

/** `--services N [--pods-per-service M]`: generated services beside the shop; undefined without --services. */
function scaleOption(services: unknown, podsPerService: unknown): ScaleOptions | undefined {
  if (services === undefined) {
    if (podsPerService !== undefined) throw new Error('vigil sandbox: --pods-per-service needs --services N (how many services to generate)');
    return undefined;
  }
  const scale = { services: intOption('sandbox', 'services', services, 0), podsPerService: intOption('sandbox', 'pods-per-service', podsPerService, 5) };
  const problem = scaleOptionsProblem(scale);
  if (problem) throw new Error(`vigil sandbox: ${problem}`);
  return scale;
}

async function runKubernetes(nodes: number, kubeconfigPath: string, stopWithStdin: boolean, log: (line: string) => void, scale: ScaleOptions | undefined): Promise<number> {
  const { controlPlanePrerequisiteProblem, findComponents } = await import('../sandbox/controlPlane/components');
  const problem = controlPlanePrerequisiteProblem();
  if (problem) throw new Error(`vigil sandbox --control-plane kubernetes: ${problem}`);
  const components = findComponents();
  if ('reason' in components) throw new Error(`vigil sandbox --control-plane kubernetes: ${components.reason}`);
  const { applyInBatches, startControlPlane } = await import('../sandbox/controlPlane/controlPlane');
  const starting = { aborted: false };
  const abort = () => (starting.aborted = true);
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  log(`starting the Kubernetes control plane from ${components.dir}`);
  const cp = await startControlPlane({
    binaries: components.dir,
    // this same program plays the nodes, inside the namespace
    nodeAgent: { command: [process.execPath, ...process.execArgv, process.argv[1]], nodes },
    log,
    signal: starting,
  }).finally(() => {
    process.off('SIGINT', abort);
    process.off('SIGTERM', abort);
  });
  if (scale) {
    try {
      applyInBatches(cp, scaleManifests(scale), 'scale');
    } catch (err) {
      await cp.stop();
      throw err;
    }
    log(`applied ${scale.services} generated services × ${scale.podsPerService} pods (scale-000/svc-0000 …) on ${nodes} nodes`);
  }
  const kubeconfig = path.resolve(kubeconfigPath);
  mkdirSync(path.dirname(kubeconfig), { recursive: true });
  copyFileSync(cp.kubeconfig, kubeconfig);
  const ready: SandboxReadyLine = { apiServer: cp.server, metrics: cp.kubeStateMetricsUrl, kubeconfig, controlPlane: 'kubernetes', netns: cp.netns, startSeconds: cp.startSeconds };
  process.stdout.write(`${JSON.stringify(ready)}\n`);
  log(`Kubernetes control plane ready in ${cp.startSeconds.toFixed(1)} s (state in ${cp.dir}); ${cp.kubectlPath} --kubeconfig ${kubeconfig} get nodes. Ctrl-C stops it.`);
  return serveUntilStopped('control plane', async () => {
    await cp.stop();
    rmSync(cp.dir, { recursive: true, force: true });
  }, log, { stopWithStdin });
}
