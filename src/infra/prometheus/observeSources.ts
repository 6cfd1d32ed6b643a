import { parseDuration } from '../../core/observe/alignment';
import { MergedMetrics } from '../../core/observe/mergedMetrics';
import type { ProbeSpec } from '../../core/observe/probeSpec';
import { applyQueryOverrides, DEFAULT_SIGNAL_QUERIES } from '../../core/observe/signalCatalogue';
import type { ClockPort, Disposable, LoggerPort, MetricsPort } from '../../core/ports';
import { connectKube } from '../kubernetes/kubeClient';
import { KubernetesSource, podProxyEndpoints } from '../kubernetes/kubernetesSource';
import { LogErrorsSource, LogTailer, servicesFromInventory } from '../kubernetes/logTail';
import { ProbeSource } from '../probes/httpProbe';
import { PrometheusClient, prometheusAuthFromEnv } from './prometheusClient';
import { PrometheusSource } from './prometheusSource';
import { ScrapeSource, urlEndpoints } from './scrapeSource';
import { loadSignalQueriesFile } from './signalConfig';

/** What the observe layer needs from settings (extension) or flags (agent). */
export interface ObserveConfig {
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly namespaces?: ReadonlyArray<string>;
  /** Empty: no Prometheus, scrape annotated pods (or exporterUrls) directly. */
  readonly prometheusUrl?: string;
  readonly intervalSeconds?: number;
  /** Rate window, e.g. `1m`; default max(4 × interval, 60 s). */
  readonly rateWindow?: string;
  /** YAML file of signal queries (see config/signals.default.yaml). */
  readonly signalsFile?: string;
  /** Per-signal overrides from settings, applied after the file. */
  readonly signalQueries?: Readonly<Record<string, string>>;
  readonly exporterUrls?: ReadonlyArray<string>;
  /** `namespace/deployment` whose logs are tailed; empty means none. */
  readonly logServices?: ReadonlyArray<string>;
  readonly logPatterns?: ReadonlyArray<{ readonly name: string; readonly pattern: string }>;
  readonly probes?: ReadonlyArray<ProbeSpec>;
  /** Where credentials come from (VIGIL_PROMETHEUS_TOKEN, ...); never logged. */
  readonly env?: NodeJS.ProcessEnv;
}

export interface ObserveSources extends Disposable {
  /** Metrics, log errors and probes merged per interval: what the loop subscribes to. */
  readonly metrics: MetricsPort;
  readonly events: KubernetesSource;
  /** `prometheus at URL` or `direct scrape through the API server at URL`. */
  readonly description: string;
}

/** Wires the observe layer from config: Prometheus when a URL is set, otherwise direct scrape. */
export async function createObserveSources(config: ObserveConfig, clock: ClockPort, logger?: LoggerPort): Promise<ObserveSources> {
  const intervalMs = (config.intervalSeconds ?? 15) * 1000;
  if (!(intervalMs >= 1000)) throw new Error(`Scrape interval must be at least 1 second, got ${config.intervalSeconds}`);
  const windowMs = config.rateWindow ? parseDuration(config.rateWindow) : undefined;
  const conn = await connectKube({ kubeconfig: config.kubeconfig, context: config.context });
  const logs = new LogTailer(conn, { patterns: config.logPatterns });
  const events = new KubernetesSource({ conn, clock, namespaces: config.namespaces, logger: logger?.child('kubernetes'), logs });
  events.start();
  let primary: MetricsPort & Disposable;
  let description: string;
  if (config.prometheusUrl) {
    const base = config.signalsFile ? await loadSignalQueriesFile(config.signalsFile) : DEFAULT_SIGNAL_QUERIES;
    const queries = applyQueryOverrides(base, config.signalQueries);
    const client = new PrometheusClient({ url: config.prometheusUrl, auth: prometheusAuthFromEnv(config.env ?? process.env) });
    primary = new PrometheusSource({ client, clock, intervalMs, windowMs, queries, namespaces: config.namespaces, logger, inventory: () => events.inventory() });
    description = `Prometheus at ${client.url}`;
  } else {
    const urls = config.exporterUrls ?? [];
    primary = new ScrapeSource({
      clock,
      intervalMs,
      windowMs,
      endpoints: () => (urls.length > 0 ? urlEndpoints(urls.map((url) => ({ url }))) : podProxyEndpoints(events, conn)),
      inventory: () => events.inventory(),
      logger,
      describe: urls.length > 0 ? urls.join(', ') : conn.server,
    });
    description = urls.length > 0 ? `direct scrape of ${urls.length} exporter URL(s)` : `direct scrape of annotated pods through the API server at ${conn.server}`;
  }
  const parts: Array<MetricsPort & Disposable> = [primary];
  if (config.logServices && config.logServices.length > 0) {
    const selected = config.logServices;
    parts.push(new LogErrorsSource({ tailer: logs, clock, intervalMs, services: () => servicesFromInventory(events.inventory(), selected), logger }));
  }
  if (config.probes && config.probes.length > 0) parts.push(new ProbeSource(config.probes, { clock, intervalMs, logger }));
  const metrics = parts.length === 1 ? primary : new MergedMetrics(parts, { clock, graceMs: Math.min(5_000, intervalMs / 2) });
  return {
    metrics,
    events,
    description,
    dispose: () => {
      if (metrics instanceof MergedMetrics) metrics.dispose();
      parts.forEach((p) => p.dispose());
      events.dispose();
    },
  };
}
