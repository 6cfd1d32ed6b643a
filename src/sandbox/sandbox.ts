/**
 * Composition of the sandbox: one ObjectStore, the Simulation that drives it, the Kubernetes API
 * server over it and a Prometheus-style metrics port, all on 127.0.0.1.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiServer } from './apiServer';
import { FAULT_API_CONFIGMAP } from './discovery';
import { writeSandboxKubeconfig } from './kubeconfig';
import { Simulation } from './sim/simulation';
import { ObjectStore } from './store';
import type { MetricShape } from './sim/metrics';
import { seedScaleTopology, type ScaleOptions } from './sim/scaleTopology';

export const SANDBOX_HOST = '127.0.0.1';
export const DEFAULT_KUBECONFIG_PATH = '.vigil-state/sandbox.kubeconfig';

export interface SandboxOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  metricsPort?: number;
  seed?: number;
  /** Length of one simulated day (traffic seasonality) in real seconds. */
  daySeconds?: number;
  kubeconfigPath?: string;
  tickMs?: number;
  podStartDelayMs?: number;
  /** How many changes a watch can resume from before it gets 410 Gone. */
  historyLimit?: number;
  /** How often watches that allow bookmarks get one (default 10 s). */
  watchBookmarkMs?: number;
  /** How /metrics names the series: the `sandbox.applicationMetrics` and `sandbox.deploymentLabel` settings. */
  metricShape?: MetricShape;
  /** The `sandbox.declareDependencies` setting: false leaves out the `vigil.dev/depends-on` annotations. */
  declareDependencies?: boolean;
  /** Generated services beside the shop (`vigil sandbox --services N --pods-per-service M`), on as many nodes as they need. */
  scale?: ScaleOptions;
  log?: (line: string) => void;
}

export interface Sandbox {
  /** Base URL of the API server, e.g. http://127.0.0.1:PORT */
  readonly apiServer: string;
  /** URL of the metrics endpoint, e.g. http://127.0.0.1:PORT/metrics */
  readonly metrics: string;
  /** Absolute path of the written kubeconfig. */
  readonly kubeconfig: string;
  readonly store: ObjectStore;
  readonly simulation: Simulation;
  stop(): Promise<void>;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const log = options.log ?? (() => undefined);
  const store = new ObjectStore(options.historyLimit ?? 5000);
  const simulation = new Simulation(store, {
    seed: options.seed ?? 1,
    daySeconds: options.daySeconds ?? 600,
    // at thousands of pods a pass costs tens of ms: once a second leaves the cores to what is measured
    tickMs: options.tickMs ?? (options.scale ? 1000 : undefined),
    podStartDelayMs: options.podStartDelayMs,
    metricShape: options.metricShape,
    declareDependencies: options.declareDependencies,
  });
  simulation.seedTopology();
  if (options.scale) seedScaleTopology(store, { seed: options.seed, ...options.scale }, { declareDependencies: options.declareDependencies });
  const api = new ApiServer({ store, simulation, log, bookmarkIntervalMs: options.watchBookmarkMs });
  const metricsServer = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && (url === '/metrics' || url === '/')) {
      let body: string;
      try {
        body = simulation.allMetrics();
      } catch (err) {
        res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`metrics failed: ${(err as Error).message}\n`);
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }).end(body);
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: the sandbox serves metrics at /metrics\n');
  });
  let apiPort: number;
  let metricsPort: number;
  try {
    apiPort = await api.listen(options.port ?? 0, SANDBOX_HOST);
    metricsPort = await new Promise<number>((resolve, reject) => {
      metricsServer.once('error', reject);
      metricsServer.listen(options.metricsPort ?? 0, SANDBOX_HOST, () => resolve((metricsServer.address() as AddressInfo).port));
    });
  } catch (err) {
    await api.close();
    metricsServer.close();
    throw new Error(`sandbox could not listen on ${SANDBOX_HOST}: ${(err as Error).message}. Pick another --port / --metrics-port, or 0 for a free one.`);
  }
  const apiServer = `http://${SANDBOX_HOST}:${apiPort}`;
  const kubeconfig = writeSandboxKubeconfig(options.kubeconfigPath ?? DEFAULT_KUBECONFIG_PATH, apiServer);
  // where `vigil chaos` finds the fault API, as it does on a real control plane with the node agent
  const { namespace: faultNs, name: faultCm, key: faultKey } = FAULT_API_CONFIGMAP;
  if (!store.get('configmaps', faultNs, faultCm)) store.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: faultCm, namespace: faultNs }, data: { [faultKey]: `${apiServer}/sandbox/v1` } });
  simulation.start();
  log(`sandbox API server on ${apiServer}, metrics on http://${SANDBOX_HOST}:${metricsPort}/metrics`);
  let stopped: Promise<void> | undefined;
  return {
    apiServer,
    metrics: `http://${SANDBOX_HOST}:${metricsPort}/metrics`,
    kubeconfig,
    store,
    simulation,
    stop() {
      stopped ??= (async () => {
        simulation.stop();
        metricsServer.closeAllConnections();
        await Promise.all([api.close(), new Promise<void>((r) => metricsServer.close(() => r()))]);
      })();
      return stopped;
    },
  };
}
