import { alignUp, promDuration } from '../../core/observe/alignment';
import { FrameAssembler } from '../../core/observe/frames';
import { DEFAULT_SIGNAL_QUERIES, renderQuery, signalDefinition, type SignalQuery } from '../../core/observe/signalCatalogue';
import { candidateMetricNames, chooseSignalQueries, describeChoice, discoverySelector, metricNames, OWNER_METRICS, signalsFileExample, type SignalChoice } from '../../core/observe/metricDiscovery';
import { PodWorkloadMap, workloadTarget } from '../../core/observe/podWorkloads';
import { aggregateSeries, aggregationOf, freshPodIntervals, seriesCoverage, seriesTarget, type PodResolver } from '../../core/observe/workloadAggregation';
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
  /** The signals file and settings merged over DEFAULT_SIGNAL_QUERIES; defaults are replaced by what discovery finds. */
  readonly queries?: ReadonlyArray<SignalQuery>;
  /** Ask the Prometheus which candidate metric names it has, at connect and every `discoverEveryMs` (default on, 10 min). */
  readonly discover?: boolean;
  readonly discoverEveryMs?: number;
  /** While a default signal has no metric, ask again this soon instead (default 1 min): a Prometheus just started has scraped nothing yet. */
  readonly rediscoverMissingMs?: number;
  readonly namespaces?: ReadonlyArray<string>;
  /** Wait after a boundary before querying it. Default a fifth of the interval. */
  readonly lagMs?: number;
  readonly maxBackfillMs?: number;
  readonly logger?: LoggerPort;
  /** Workloads known from Kubernetes, listed by discoverTargets even before they have samples. */
  readonly inventory?: () => WorkloadInventory;
  /** The workload of a pod, for series labelled only namespace+pod (from the informers' owner references). */
  readonly resolvePod?: PodResolver;
  /** When a pod started (its containers' start, from the informers), for the last interval's per-pod values (SampleFrame.freshPods). */
  readonly podStartedAt?: (namespace: string, pod: string) => number | undefined;
}

/** Prometheus range queries return at most 11,000 points per series. */
const MAX_POINTS = 11_000;
const HOUR = 60 * 60_000;
/** How long after the first discovery a missing signal is looked for every interval rather than every minute. */
const EARLY_DISCOVERY_MS = 2 * 60_000;

type QueryResult = Array<{ metric: Readonly<Record<string, string>>; values: ReadonlyArray<readonly [number, string]> }>;

/**
 * MetricsPort on the Prometheus HTTP API: every signal query, aligned, streamed and backfilled. Default signals
 * are chosen by the metric names the Prometheus has (metricDiscovery); per-pod series are counted for their
 * workload and aggregated per signal. Every signal with no query or no series is a problem in the status.
 */
export class PrometheusSource extends PolledSource {
  readonly poller: StreamPoller;
  private readonly configured: ReadonlyArray<SignalQuery>;
  private readonly window: string;
  /** The agent's interval as a PromQL duration, for the last interval's own values (SampleFrame.fresh); none when the window is no longer. */
  private readonly freshWindow: string | undefined;
  private rendered: ReadonlyArray<SignalQuery> = [];
  /** Each windowed query over the last interval alone, with the index of its windowed twin in `rendered`. */
  private freshRendered: ReadonlyArray<SignalQuery & { readonly twin: number }> = [];
  private signalChoices: ReadonlyArray<SignalChoice> = [];
  private discoveredAt: number | undefined;
  private firstDiscoveryAt: number | undefined;
  private discoveryProblem: string | undefined;
  /** Pod owners as kube-state-metrics saw them over the last hour: for pods the informers never listed. */
  private ksmOwners: PodWorkloadMap | undefined;
  private readonly resolvePod: PodResolver = (ns, pod) => {
    const known = this.options.resolvePod?.(ns, pod);
    if (known) return known;
    const w = this.ksmOwners?.workloadOf(ns, pod);
    return w && workloadTarget(w);
  };

  constructor(private readonly options: PrometheusSourceOptions) {
    super();
    const windowMs = options.windowMs ?? defaultRateWindowMs(options.intervalMs);
    this.window = promDuration(windowMs);
    this.freshWindow = windowMs > options.intervalMs ? promDuration(options.intervalMs) : undefined;
    this.configured = options.queries ?? DEFAULT_SIGNAL_QUERIES;
    this.setQueries(this.configured);
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
      details: () => this.signalChoices.map(describeChoice),
    });
  }

  /** The PromQL actually sent, per signal and kind. */
  get queries(): ReadonlyArray<SignalQuery> {
    return this.rendered;
  }

  /** Per signal and kind: the metric found (and whose), the configured query, or what was looked for in vain. */
  get choices(): ReadonlyArray<SignalChoice> {
    return this.signalChoices;
  }

  /**
   * The queries as sent, and their twins over the last interval alone: what a direct scrape reads as the increase since
   * the previous scrape. A rate window of six intervals shows a step a sixth at a time; the fresh value shows it whole
   * at the next boundary, so early evidence (freshEvidence.ts) speaks as soon as on a direct scrape. It needs the
   * Prometheus to scrape at least twice per agent interval; where it does not, the twin matches no series or only some
   * (see collect).
   */
  private setQueries(queries: ReadonlyArray<SignalQuery>): void {
    const ns = this.options.namespaces ?? [];
    this.rendered = queries.map((q) => ({ ...q, query: renderQuery(q.query, this.window, ns) }));
    const fresh: Array<SignalQuery & { twin: number }> = [];
    const freshWindow = this.freshWindow;
    if (freshWindow) {
      queries.forEach((q, twin) => {
        if (!signalDefinition(q.signal).windowed) return;
        const query = renderQuery(q.query, freshWindow, ns);
        // a query that names its own window (a signals file's) has no last-interval twin
        if (query !== this.rendered[twin].query) fresh.push({ ...q, query, twin });
      });
    }
    this.freshRendered = fresh;
  }

  /** At connect and every `discoverEveryMs` (every `rediscoverMissingMs` while a signal has none): which candidate names exist, and so which queries run. */
  async discoverSignals(force = false): Promise<void> {
    if (this.options.discover === false) return;
    const now = this.options.clock.now();
    const missing = this.signalChoices.some((c) => c.status === 'missing');
    // a Prometheus started with the agent has scraped nothing at the first look: in the first minutes a missing
    // signal is asked for again every interval (one label-values call), then every minute
    this.firstDiscoveryAt ??= now;
    const early = now - this.firstDiscoveryAt < EARLY_DISCOVERY_MS;
    const every = missing ? (this.options.rediscoverMissingMs ?? (early ? this.options.intervalMs : 60_000)) : (this.options.discoverEveryMs ?? 10 * 60_000);
    if (!force && this.discoveredAt !== undefined && now - this.discoveredAt < every) return;
    let present: Set<string>;
    try {
      present = new Set(await this.options.client.labelValues('__name__', [discoverySelector(candidateMetricNames())], now - HOUR, now));
    } catch (err) {
      if (!(err instanceof PrometheusError) || err.sourceDown) throw err;
      // a Prometheus that refuses match[] on label values (before 2.24) still answers the queries
      this.discoveredAt = now;
      this.discoveryProblem = `metric discovery refused (${err.message}); running the configured queries unchecked`;
      return;
    }
    this.discoveredAt = now;
    this.discoveryProblem = undefined;
    this.ksmOwners = present.has(OWNER_METRICS.pod) ? await this.readOwners(now) : undefined;
    const { queries, choices } = chooseSignalQueries(present, this.configured);
    const before = this.signalChoices.map(describeChoice).join('\n');
    this.setQueries(queries);
    this.signalChoices = choices;
    if (choices.map(describeChoice).join('\n') !== before) {
      const log = this.options.logger?.child('prometheus');
      const missing = choices.filter((c) => c.status === 'missing');
      log?.log('info', `signals: ${choices.length - missing.length} of ${choices.length} have a metric`, { signals: choices.filter((c) => c.status !== 'missing').map(describeChoice) });
      for (const c of missing) log?.log('warn', describeChoice(c));
    }
  }

  /** kube_pod_owner and kube_replicaset_owner over the last hour, as a pod → workload map; undefined when unreadable. */
  private async readOwners(now: number): Promise<PodWorkloadMap | undefined> {
    const owners = (metric: string, subject: string) =>
      this.options.client.instant(`max by (namespace, ${subject}, owner_kind, owner_name) (last_over_time(${metric}{owner_kind!="<none>",owner_kind!=""}[1h]))`, now);
    try {
      const [pods, replicaSets] = await Promise.all([owners(OWNER_METRICS.pod, 'pod'), owners(OWNER_METRICS.replicaSet, 'replicaset')]);
      const map = new PodWorkloadMap(HOUR);
      const owned = (namespace: string, name: string, kind: string, owner: string) => ({ namespace, name, owners: [{ kind, name: owner, controller: true }] });
      for (const { metric: m } of replicaSets) if (m.namespace && m.replicaset && m.owner_kind && m.owner_name) map.setReplicaSet(owned(m.namespace, m.replicaset, m.owner_kind, m.owner_name));
      for (const { metric: m } of pods) if (m.namespace && m.pod && m.owner_kind && m.owner_name) map.setPod(owned(m.namespace, m.pod, m.owner_kind, m.owner_name));
      return map;
    } catch (err) {
      if (err instanceof PrometheusError && err.sourceDown) throw err;
      this.options.logger?.log('debug', 'kube_pod_owner unreadable; pods map through the informers only', { error: errorText(err) });
      return undefined;
    }
  }

  async fetchInstant(t: number): Promise<FrameFetchResult> {
    await this.discoverSignals();
    return this.collect((q) => this.options.client.instant(q.query, t).then((vec) => vec.map((s) => ({ metric: s.metric, values: [s.value] }))));
  }

  async fetchRange(from: number, to: number, stepMs: number): Promise<FrameFetchResult> {
    await this.discoverSignals();
    const chunk = stepMs * (MAX_POINTS - 1);
    return this.collect(async (q) => {
      const out: QueryResult = [];
      for (let start = from; start <= to; start += chunk + stepMs) {
        out.push(...(await this.options.client.range(q.query, start, Math.min(to, start + chunk), stepMs)));
      }
      return out;
    });
  }

  /** Runs every query; one bad or empty query is a problem, a source failure (all transport errors) throws. */
  private async collect(run: (q: SignalQuery) => Promise<QueryResult>): Promise<FrameFetchResult> {
    const queries = this.rendered;
    const freshQueries = this.freshRendered;
    // one request per distinct text: the three latency quantiles read one bucket query, which at 5,000 pods
    // was most of what Prometheus spent per interval (bench:scale)
    const sent = new Map<string, Promise<QueryResult>>();
    const once = (q: SignalQuery) => {
      let p = sent.get(q.query);
      if (!p) sent.set(q.query, (p = run(q)));
      return p;
    };
    const [results, freshResults] = await Promise.all([Promise.allSettled(queries.map(once)), Promise.allSettled(freshQueries.map(once))]);
    const asm = new FrameAssembler();
    const problems: string[] = [];
    if (this.discoveryProblem) problems.push(this.discoveryProblem);
    for (const c of this.signalChoices) if (c.status === 'missing') problems.push(missingProblem(c));
    const watched = this.options.namespaces?.length ? new Set(this.options.namespaces) : undefined;
    let sourceError: unknown;
    results.forEach((r, i) => {
      const q = queries[i];
      if (r.status === 'rejected') {
        if (r.reason instanceof PrometheusError && !r.reason.sourceDown) problems.push(`signal ${q.signal} (${q.kind}): ${r.reason.message}`);
        else sourceError ??= r.reason;
        return;
      }
      const { points, unmapped } = aggregateSeries(q.kind, aggregationOf(q.signal), r.value, this.resolvePod);
      let kept = 0;
      for (const p of points) {
        if (watched && p.target.namespace !== undefined && !watched.has(p.target.namespace)) continue;
        asm.add(p.t, p.target, q.signal, p.value);
        kept++;
      }
      if (kept === 0) problems.push(emptyProblem(q, r.value.length, unmapped));
    });
    if (sourceError !== undefined) throw sourceError;
    // the last interval's values (a failed or empty twin is no problem: the windowed value stands). A ratio or a
    // quantile read on some of a workload's pods is still that interval's ratio for them; a sum is only a part of the
    // whole, so it counts where it covers every series the windowed query has for that target and time (a pod gone
    // within the window keeps its sum windowed until it leaves the window)
    freshResults.forEach((r, i) => {
      const q = freshQueries[i];
      const whole = results[q.twin];
      if (r.status === 'rejected' || whole.status === 'rejected') return;
      const aggregation = aggregationOf(q.signal);
      const covered = aggregation.mode === 'sum' ? seriesCoverage(q.kind, r.value, this.resolvePod) : undefined;
      const needed = aggregation.mode === 'sum' ? seriesCoverage(q.kind, whole.value, this.resolvePod) : undefined;
      for (const p of aggregateSeries(q.kind, aggregation, r.value, this.resolvePod).points) {
        if (watched && p.target.namespace !== undefined && !watched.has(p.target.namespace)) continue;
        const key = `${targetKey(p.target)}@${p.t}`;
        if (covered && needed && (covered.get(key) ?? 0) < (needed.get(key) ?? Infinity)) continue;
        asm.addFresh(p.t, p.target, q.signal, p.value);
      }
    });
    const perPod = freshPodIntervals(
      freshQueries.flatMap((q, i) => {
        const r = freshResults[i];
        return r.status === 'fulfilled' && (q.signal === 'error_ratio' || q.signal === 'latency_p99') ? [{ signal: q.signal, series: r.value }] : [];
      }),
      this.options.intervalMs / 1000,
      this.resolvePod,
      this.options.podStartedAt,
    );
    for (const { t, target, pods } of perPod) if (!watched || target.namespace === undefined || watched.has(target.namespace)) asm.setFreshPods(t, target, pods);
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
      const ns = this.options.namespaces?.length ? `,namespace=~"${this.options.namespaces.join('|')}"` : ',namespace!=""';
      try {
        const series = await this.options.client.series([`{__name__=~"${names.join('|')}"${ns}}`], now - 5 * 60_000, now);
        for (const labels of series) {
          const target = seriesTarget('service', labels, this.resolvePod);
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

/** A signal none of whose candidate metrics the Prometheus has: what was looked for and the signals-file fix. */
function missingProblem(c: SignalChoice): string {
  return `signal ${c.signal} (${c.kind}): no metric found (looked for ${c.lookedFor?.join(', ')}); put its PromQL in the signals file (prometheus.signalsFile), e.g. ${signalsFileExample(c.signal, c.kind).replace(/\n\s*/g, ' ')}`;
}

/** A query that ran but gave no value for any watched target: say whether it matched nothing or only pods Vigil cannot place. */
function emptyProblem(q: SignalQuery, series: number, unmapped: number): string {
  const names = metricNames([q.query]).join(', ');
  const why =
    series === 0
      ? `matched no series`
      : unmapped > 0
        ? `${unmapped} series name no workload Vigil knows (they need namespace+deployment, or namespace+pod of a pod the informers list)`
        : 'gave no value for a watched workload';
  return `signal ${q.signal} (${q.kind}): ${names || 'the query'} ${why}; check the labels or set the query in the signals file`;
}
