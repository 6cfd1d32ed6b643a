import { MergedMetrics } from '../core/observe/mergedMetrics';
import { probeJourneys } from '../core/observe/probeSpec';
import { applyQueryOverrides, DEFAULT_SIGNAL_QUERIES } from '../core/observe/signalCatalogue';
import type { AlertsPort, ClockPort, Disposable, LoggerPort, MetricsPort, ProbeResultsPort, ServiceGraphPort } from '../core/ports';
import type { ExternalEvidenceDeps } from '../core/loop/externalEvidence';
import { AlertmanagerClient, PrometheusAlerts } from './prometheus/alertmanager';
import { PrometheusServiceGraph } from './prometheus/serviceGraph';
import { PrometheusSloData } from './prometheus/sloData';
import { loadSloFiles } from './sloFiles';
import { rateWindowMs, type VigilSettings } from '../core/settings';
import type { KubeConnection } from './kubernetes/kubeClient';
import { KubernetesSource, podProxyEndpoints } from './kubernetes/kubernetesSource';
import { LogErrorsSource, LogTailer, servicesFromInventory } from './kubernetes/logTail';
import { ProbeSource } from './probes/httpProbe';
import { PrometheusClient, prometheusAuthFromEnv } from './prometheus/prometheusClient';
import { PrometheusSource } from './prometheus/prometheusSource';
import { ScrapeFailureWatch } from './prometheus/scrapeFailures';
import { ScrapeSource } from './prometheus/scrapeSource';
import { loadSignalQueriesFile } from './prometheus/signalConfig';

/** The observe side of the loop, built from the settings: what the detection pipeline and the remediator read. */
export interface ObserveAdapters extends Disposable {
  /** Metrics (Prometheus or direct scrape), log errors and probes, merged per interval. */
  readonly metrics: MetricsPort & Disposable;
  /** Inventory, facts and the log lines of a workload's pods (read on demand for escalations). Not started: call `events.start()`. */
  readonly events: KubernetesSource;
  /** The probes' runs: escalation context (`recentProbes`) and `probe-passing` verification. Empty when none is configured. */
  readonly probes: ProbeResultsPort;
  /** Firing alerts: Alertmanager (`alertmanager.url`, with silences), else Prometheus' own; undefined with neither. */
  readonly alerts?: AlertsPort;
  /** The SLOs of `slos.paths` and their SLIs in Prometheus; undefined when none is configured. */
  readonly slos?: ExternalEvidenceDeps['slos'];
  /** Calls seen in mesh and trace-derived metrics (`prometheus.inferServiceGraph`); undefined without Prometheus. */
  readonly serviceGraph?: ServiceGraphPort;
  /** Pod → workload from the informers' owner references. */
  readonly resolvePod: (namespace: string, pod: string) => ReturnType<KubernetesSource['workloadOfPod']>;
  /** `Prometheus at URL` or `direct scrape of annotated pods through the API server at URL`, plus logs and probes. */
  readonly description: string;
}

const NO_PROBES: ProbeResultsPort = { recent: () => [], latest: () => undefined, targetOf: () => undefined };

/**
 * The one composition of the observe layer (the agent, the extension, tests and benches): Prometheus when
 * `prometheus.url` is set (signals file, then per-signal overrides), otherwise a direct scrape of annotated
 * pods through the API server; plus the log_errors signal of `logs.services` (`*` = every watched workload)
 * and the `probes`, merged into one stream on the scrape interval. Bad settings throw, naming the key.
 */
export async function createObserveAdapters(settings: VigilSettings, conn: KubeConnection, clock: ClockPort, logger: LoggerPort, env: NodeJS.ProcessEnv): Promise<ObserveAdapters> {
  const intervalMs = settings.prometheus.scrapeIntervalSeconds * 1000;
  if (!(intervalMs >= 1000)) throw new Error(`prometheus.scrapeIntervalSeconds must be at least 1, got ${settings.prometheus.scrapeIntervalSeconds}`);
  const windowMs = rateWindowMs(settings);
  const namespaces = settings.kubernetes.namespaces;
  // checked before anything starts, so a bad probe is an error at connect, not a silent gap
  const journeys = probeJourneys(settings.probes);
  const queries = settings.prometheus.url ? applyQueryOverrides(settings.prometheus.signalsFile ? await loadSignalQueriesFile(settings.prometheus.signalsFile) : DEFAULT_SIGNAL_QUERIES, settings.prometheus.signalQueries) : undefined;

  const logs = new LogTailer(conn, { patterns: settings.logs.patterns.length > 0 ? settings.logs.patterns : undefined });
  const events = new KubernetesSource({ conn, clock, namespaces, logger: logger.child('kubernetes'), logs });
  let primary: MetricsPort & Disposable;
  let scrapeWatch: ScrapeFailureWatch | undefined;
  const described: string[] = [];
  const client = settings.prometheus.url ? new PrometheusClient({ url: settings.prometheus.url, auth: prometheusAuthFromEnv(env) }) : undefined;
  if (client && queries) {
    primary = new PrometheusSource({ client, clock, intervalMs, windowMs, queries, namespaces, logger: logger.child('prometheus'), inventory: () => events.inventory(), resolvePod: (ns, pod) => events.workloadOfPod(ns, pod), podStartedAt: (ns, pod) => events.podStartedAt(ns, pod) });
    described.push(`Prometheus at ${client.url}`);
    // a node whose kubelet and pods stop answering their scrapes is named from them, seconds after it died
    scrapeWatch = new ScrapeFailureWatch({ client, clock, logger: logger.child('prometheus'), onRead: (read) => events.noteScrapeFailures(read) });
    scrapeWatch.start();
  } else {
    primary = new ScrapeSource({ clock, intervalMs, windowMs, endpoints: () => podProxyEndpoints(events, conn), inventory: () => events.inventory(), logger: logger.child('scrape'), describe: conn.server });
    described.push(`direct scrape of annotated pods through the API server at ${conn.server}`);
  }
  const parts: Array<MetricsPort & Disposable> = [primary];
  const selected = settings.logs.services;
  if (selected.length > 0) {
    parts.push(new LogErrorsSource({ tailer: logs, clock, intervalMs, services: () => servicesFromInventory(events.inventory(), selected), logger }));
    described.push(selected.includes('*') ? 'error lines in the logs of every workload' : `error lines in the logs of ${selected.join(', ')}`);
  }
  const probes = journeys.length > 0 ? new ProbeSource(journeys, { clock, intervalMs, conn, logger }) : undefined;
  if (probes) {
    parts.push(probes);
    described.push(`${journeys.length} probe(s): ${journeys.map((j) => j.name).join(', ')}`);
  }
  const alerts: AlertsPort | undefined = settings.alertmanager.url ? new AlertmanagerClient({ url: settings.alertmanager.url }) : client ? new PrometheusAlerts(client) : undefined;
  if (alerts) described.push(`alerts from ${alerts.description}`);
  // a bad SLO file is a status line naming file:line and field, not a failed start: the loop runs without it
  const loadedSlos = settings.slos.paths.length ? await loadSloFiles(settings.slos.paths) : undefined;
  const slos = loadedSlos ? { definitions: loadedSlos.slos, problems: loadedSlos.problems, ...(client ? { data: new PrometheusSloData(client) } : {}) } : undefined;
  if (slos) described.push(`${slos.definitions.length} SLO(s)`);
  const serviceGraph = client && settings.prometheus.inferServiceGraph ? new PrometheusServiceGraph(client) : undefined;
  if (serviceGraph) described.push('calls seen in mesh and trace-derived metrics');
  const merged = parts.length === 1 ? undefined : new MergedMetrics(parts, { clock, graceMs: Math.min(5_000, intervalMs / 2) });
  const metrics: MetricsPort & Disposable = merged ?? primary;
  return {
    metrics,
    events,
    probes: probes ?? NO_PROBES,
    ...(alerts ? { alerts } : {}),
    ...(slos ? { slos } : {}),
    ...(serviceGraph ? { serviceGraph } : {}),
    resolvePod: (ns, pod) => events.workloadOfPod(ns, pod),
    description: described.join('; '),
    dispose: () => {
      merged?.dispose();
      parts.forEach((p) => p.dispose());
      scrapeWatch?.dispose();
      events.dispose();
    },
  };
}
