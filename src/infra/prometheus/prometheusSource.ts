import { alignUp, promDuration } from '../../core/observe/alignment';
import { FrameAssembler } from '../../core/observe/frames';
import { DEFAULT_SIGNAL_QUERIES, renderQuery, targetFromLabels, type SignalQuery } from '../../core/observe/signalCatalogue';
import { errorText, StreamPoller, type FrameFetchResult, type FrameFetcher } from '../../core/observe/streamPoller';
import { PolledSource } from '../../core/observe/polledSource';
import type { SampleFrame, SignalName } from '../../core/model/signal';
import { targetKey, type TargetRef } from '../../core/model/target';
import type { ClockPort, LoggerPort, WorkloadInventory } from '../../core/ports';
import { PrometheusError, type PrometheusClient } from './prometheusClient';
import { defaultRateWindowMs } from '../../core/settings';

export interface PrometheusSourceOptions {
  readonly client: PrometheusClient;
  readonly clock: ClockPort;
  readonly intervalMs: number;
  /** Rate window; at least two scrape intervals of the Prometheus. Default max(4 × interval, 60 s). */
  readonly windowMs?: number;
  readonly queries?: ReadonlyArray<SignalQuery>;
  readonly namespaces?: ReadonlyArray<string>;
  /** Wait after a boundary before querying it. Default a fifth of the interval. */
  readonly lagMs?: number;
  readonly maxBackfillMs?: number;
  readonly logger?: LoggerPort;
  /** Workloads known from Kubernetes, listed by discoverTargets even before they have samples. */
  readonly inventory?: () => WorkloadInventory;
}

/** Metric names a set of PromQL expressions reads (a name followed by a selector or range). */
export function metricNames(queries: ReadonlyArray<string>): string[] {
  const names = new Set<string>();
  for (const q of queries) {
    const noStrings = q.replace(/"(?:[^"\\]|\\.)*"/g, '""');
    for (const m of noStrings.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*[{[]/g)) names.add(m[1]);
  }
  return [...names].sort();
}

/** Prometheus range queries return at most 11,000 points per series. */
const MAX_POINTS = 11_000;

/** MetricsPort on the Prometheus HTTP API: every catalogue query, aligned, streamed and backfilled. */
export class PrometheusSource extends PolledSource {
  readonly poller: StreamPoller;
  private readonly rendered: ReadonlyArray<SignalQuery>;

  constructor(private readonly options: PrometheusSourceOptions) {
    super();
    const windowMs = options.windowMs ?? defaultRateWindowMs(options.intervalMs);
    const window = promDuration(windowMs);
    this.rendered = (options.queries ?? DEFAULT_SIGNAL_QUERIES).map((q) => ({ ...q, query: renderQuery(q.query, window, options.namespaces ?? []) }));
    const url = options.client.url;
    const fetcher: FrameFetcher = { instant: (t) => this.fetchInstant(t), range: (f, to, step) => this.fetchRange(f, to, step) };
    this.poller = new StreamPoller(fetcher, {
      source: 'prometheus',
      describeDown: (err) => `Prometheus unreachable at ${url}: ${errorText(err)}`,
      clock: options.clock,
      intervalMs: options.intervalMs,
      lagMs: options.lagMs ?? Math.round(options.intervalMs / 5),
      maxBackfillMs: options.maxBackfillMs,
      logger: options.logger?.child('prometheus'),
    });
  }

  /** The PromQL actually sent, per signal and kind. */
  get queries(): ReadonlyArray<SignalQuery> {
    return this.rendered;
  }

  async fetchInstant(t: number): Promise<FrameFetchResult> {
    return this.collect((q) => this.options.client.instant(q.query, t).then((vec) => vec.map((s) => ({ metric: s.metric, values: [s.value] }))));
  }

  async fetchRange(from: number, to: number, stepMs: number): Promise<FrameFetchResult> {
    const chunk = stepMs * (MAX_POINTS - 1);
    return this.collect(async (q) => {
      const out: Array<{ metric: Readonly<Record<string, string>>; values: ReadonlyArray<readonly [number, string]> }> = [];
      for (let start = from; start <= to; start += chunk + stepMs) {
        out.push(...(await this.options.client.range(q.query, start, Math.min(to, start + chunk), stepMs)));
      }
      return out;
    });
  }

  /** Runs every query; one bad query is a problem, a source failure (all transport errors) throws. */
  private async collect(run: (q: SignalQuery) => Promise<Array<{ metric: Readonly<Record<string, string>>; values: ReadonlyArray<readonly [number, string]> }>>): Promise<FrameFetchResult> {
    const results = await Promise.allSettled(this.rendered.map(run));
    const asm = new FrameAssembler();
    const problems: string[] = [];
    let sourceError: unknown;
    results.forEach((r, i) => {
      const q = this.rendered[i];
      if (r.status === 'rejected') {
        if (r.reason instanceof PrometheusError && !r.reason.sourceDown) problems.push(`signal ${q.signal} (${q.kind}): ${r.reason.message}`);
        else sourceError ??= r.reason;
        return;
      }
      for (const series of r.value) {
        const target = targetFromLabels(q.kind, series.metric);
        if (!target) continue;
        for (const [ts, v] of series.values) asm.add(Math.round(ts * 1000), target, q.signal, Number(v));
      }
    });
    if (sourceError !== undefined) throw sourceError;
    return { frames: asm.frames(), problems };
  }

  async discoverTargets(): Promise<ReadonlyArray<{ readonly target: TargetRef; readonly signals: ReadonlyArray<SignalName> }>> {
    const found = new Map<string, { target: TargetRef; signals: Set<SignalName> }>();
    const add = (target: TargetRef, signal?: SignalName) => {
      const key = targetKey(target);
      let e = found.get(key);
      if (!e) found.set(key, (e = { target, signals: new Set() }));
      if (signal) e.signals.add(signal);
    };
    const now = this.options.clock.now();
    const { frames } = await this.fetchInstant(now);
    for (const f of frames) for (const s of Object.keys(f.values) as SignalName[]) add(f.target, s);
    // Series seen recently but without a current value (a service that stopped serving) are targets too.
    const names = metricNames(this.rendered.map((q) => q.query));
    if (names.length > 0) {
      const ns = this.options.namespaces?.length ? `,namespace=~"${this.options.namespaces.join('|')}"` : '';
      try {
        const series = await this.options.client.series([`{__name__=~"${names.join('|')}",deployment!=""${ns}}`], now - 5 * 60_000, now);
        for (const labels of series) {
          const target = targetFromLabels('service', labels);
          if (target) add(target);
        }
      } catch (err) {
        this.options.logger?.log('debug', 'series discovery failed', { error: errorText(err) });
      }
    }
    const inv = this.options.inventory?.();
    for (const svc of inv?.services ?? []) add(svc.target);
    for (const node of inv?.nodes ?? []) add({ kind: 'node', name: node.name });
    return [...found.values()].map((e) => ({ target: e.target, signals: [...e.signals].sort() }));
  }

  /** MetricsPort.range: aligned frames over [from, to]. */
  override async range(from: number, to: number, stepMs: number): Promise<ReadonlyArray<SampleFrame>> {
    return (await this.fetchRange(alignUp(from, stepMs), to, stepMs)).frames;
  }
}
