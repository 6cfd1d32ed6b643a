import axios from 'axios';
import { DEFAULT_SCRAPE_METRICS, ScrapeSignalComputer, type ExpositionSample, type ScrapeMetricNames, type ScrapeTargetLabels } from '../../core/observe/scrapeSignals';
import { errorText, StreamPoller, type FrameFetchResult } from '../../core/observe/streamPoller';
import { PolledSource } from '../../core/observe/polledSource';
import type { SignalName } from '../../core/model/signal';
import { targetKey, type TargetRef } from '../../core/model/target';
import type { ClockPort, LoggerPort, WorkloadInventory } from '../../core/ports';
import { parseTextFormat } from './textFormat';
import { defaultRateWindowMs } from '../../core/settings';

/** One endpoint to scrape: a name for messages, labels it adds, and how to fetch its exposition. */
export interface ScrapeEndpoint {
  readonly name: string;
  readonly labels: ScrapeTargetLabels;
  fetch(): Promise<string>;
}

export interface ScrapeSourceOptions {
  readonly clock: ClockPort;
  readonly intervalMs: number;
  /** Rate window; default max(4 × interval, 60 s), like the Prometheus source. */
  readonly windowMs?: number;
  /** Current endpoints (pods from Kubernetes, or a static list); called every round. */
  readonly endpoints: () => ReadonlyArray<ScrapeEndpoint> | Promise<ReadonlyArray<ScrapeEndpoint>>;
  readonly metrics?: ScrapeMetricNames;
  /** Parallel scrapes. */
  readonly concurrency?: number;
  readonly logger?: LoggerPort;
  /** Frames kept for range() and backfill. */
  readonly historyIntervals?: number;
  /** Label for status messages, e.g. the API server URL. */
  readonly describe?: string;
  /**
   * Workloads from Kubernetes: without kube-state-metrics, restarts and available replicas come
   * from here, fed through the same computation as scraped series.
   */
  readonly inventory?: () => WorkloadInventory;
}

const MAX_PROBLEMS_LISTED = 3;

/**
 * MetricsPort without Prometheus: scrapes exporters (pods through the API server proxy, or URLs)
 * each interval and computes the catalogue's signals from counter deltas and histogram buckets.
 * It has no storage, so range() serves the frames it computed itself.
 */
export class ScrapeSource extends PolledSource {
  readonly poller: StreamPoller;
  private readonly computer: ScrapeSignalComputer;
  private lastScrapeSamples = 0;

  constructor(private readonly options: ScrapeSourceOptions) {
    super();
    const windowMs = options.windowMs ?? defaultRateWindowMs(options.intervalMs);
    this.computer = new ScrapeSignalComputer(windowMs, options.metrics ?? DEFAULT_SCRAPE_METRICS);
    const where = options.describe ?? 'the scrape targets';
    this.poller = new StreamPoller(
      { instant: (t) => this.scrapeRound(t), range: (from, to) => this.scrapeRound(to, from) },
      {
        source: 'scrape',
        describeDown: (err) => `Direct scrape failed at ${where}: ${errorText(err)}`,
        clock: options.clock,
        intervalMs: options.intervalMs,
        lagMs: 0,
        logger: options.logger?.child('scrape'),
      },
    );
  }

  /** Samples parsed in the last round (for the benchmark and status). */
  get samplesLastRound(): number {
    return this.lastScrapeSamples;
  }

  /** Scrapes every endpoint now and computes frames at aligned `t`; with `from`, also returns kept history in [from, t). */
  async scrapeRound(t: number, from?: number): Promise<FrameFetchResult> {
    const endpoints = await this.options.endpoints();
    const problems: string[] = [];
    let failed = 0;
    let firstError = '';
    let samples = 0;
    const queue = [...endpoints];
    const worker = async () => {
      for (let ep = queue.shift(); ep; ep = queue.shift()) {
        try {
          const sent = this.options.clock.now();
          const text = await ep.fetch();
          // The exporter read its counters somewhere between request and answer; the midpoint halves the error.
          const at = Math.round((sent + this.options.clock.now()) / 2);
          const parsed = parseTextFormat(text, ep.name);
          samples += parsed.samples.length;
          this.computer.ingest(at, parsed.samples, ep.labels);
        } catch (err) {
          failed++;
          firstError ||= `${ep.name}: ${errorText(err)}`;
          if (problems.length < MAX_PROBLEMS_LISTED) problems.push(`scrape of ${ep.name} failed: ${errorText(err)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency ?? 8, Math.max(1, endpoints.length)) }, worker));
    this.lastScrapeSamples = samples;
    if (this.options.inventory) this.computer.ingest(this.options.clock.now(), inventorySamples(this.options.inventory(), this.options.metrics ?? DEFAULT_SCRAPE_METRICS));
    if (endpoints.length > 0 && failed === endpoints.length) throw new Error(`none of ${endpoints.length} endpoint(s) answered; first: ${firstError}`);
    if (failed > MAX_PROBLEMS_LISTED) problems.push(`${failed - MAX_PROBLEMS_LISTED} more scrape(s) failed`);
    if (endpoints.length === 0) problems.push('no scrape targets: annotate pods with prometheus.io/scrape: "true" (and prometheus.io/port) or list exporter URLs');
    const frames = this.computer.compute(t, this.options.clock.now());
    const keep = this.options.historyIntervals ?? 240;
    this.remember(frames, t, keep * this.options.intervalMs);
    const past = from === undefined ? [] : this.history.filter((f) => f.t >= from && f.t < t);
    return { frames: [...past, ...frames], problems };
  }

  async discoverTargets(): Promise<ReadonlyArray<{ readonly target: TargetRef; readonly signals: ReadonlyArray<SignalName> }>> {
    const latest = new Map<string, { target: TargetRef; signals: Set<SignalName> }>();
    for (const f of this.history) {
      const key = targetKey(f.target);
      let e = latest.get(key);
      if (!e) latest.set(key, (e = { target: f.target, signals: new Set() }));
      for (const s of Object.keys(f.values) as SignalName[]) e.signals.add(s);
    }
    return [...latest.values()].map((e) => ({ target: e.target, signals: [...e.signals].sort() }));
  }
}

/** The inventory as kube-state-style series, so restarts and available replicas share the scrape computation. */
export function inventorySamples(inv: WorkloadInventory, metrics: ScrapeMetricNames): ExpositionSample[] {
  const out: ExpositionSample[] = [];
  for (const svc of inv.services) {
    const base = { namespace: svc.target.namespace ?? '', deployment: svc.target.name };
    out.push({ name: metrics.availableReplicas, labels: base, value: svc.availableReplicas });
    for (const pod of svc.pods) out.push({ name: metrics.restartsTotal, labels: { ...base, pod: pod.name }, value: pod.restarts });
  }
  return out;
}

/** Endpoints from exporter URLs, fetched with a timeout and size cap. */
export function urlEndpoints(urls: ReadonlyArray<{ readonly url: string; readonly labels?: ScrapeTargetLabels }>, timeoutMs = 5_000, maxBytes = 16 * 1024 * 1024): ScrapeEndpoint[] {
  return urls.map(({ url, labels }) => ({
    name: url,
    labels: labels ?? {},
    fetch: async () => {
      const res = await axios.get<string>(url, { timeout: timeoutMs, maxContentLength: maxBytes, responseType: 'text', transformResponse: [(d: unknown) => d], validateStatus: () => true, proxy: false, headers: { Accept: 'text/plain;version=0.0.4' } });
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      return String(res.data);
    },
  }));
}
