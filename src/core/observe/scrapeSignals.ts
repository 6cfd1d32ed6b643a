import type { SampleFrame, SignalName } from '../model/signal';
import type { TargetRef } from '../model/target';
import { CounterWindow } from './counterWindow';
import { FrameAssembler } from './frames';
import { bucketBound, histogramQuantile, type Bucket } from './histogram';

/** One sample line of a Prometheus text exposition. */
export interface ExpositionSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly timestampMs?: number;
}

/** Metric names the direct-scrape source reads; configurable because clusters name them differently. */
export interface ScrapeMetricNames {
  readonly requestsTotal: string;
  /** Regex (anchored) on the `code` label that counts as an error. */
  readonly errorCode: string;
  /** Histogram base name: `<name>_bucket{le}`. */
  readonly durationHistogram: string;
  readonly cpuSecondsTotal: string;
  readonly residentMemoryBytes: string;
  readonly restartsTotal: string;
  readonly availableReplicas: string;
  /** The process's start, in Unix seconds (every Prometheus client library exports it): its counters were 0 then. */
  readonly processStartTime: string;
}

export const DEFAULT_SCRAPE_METRICS: ScrapeMetricNames = {
  requestsTotal: 'http_requests_total',
  errorCode: '5..',
  durationHistogram: 'http_request_duration_seconds',
  cpuSecondsTotal: 'process_cpu_seconds_total',
  residentMemoryBytes: 'process_resident_memory_bytes',
  restartsTotal: 'kube_pod_container_status_restarts_total',
  availableReplicas: 'kube_deployment_status_replicas_available',
  processStartTime: 'process_start_time_seconds',
};

/** Labels the scraper knows about the scraped pod; they fill in labels the exposition lacks. */
export interface ScrapeTargetLabels {
  readonly namespace?: string;
  readonly pod?: string;
  readonly deployment?: string;
  readonly node?: string;
}

type Role = 'requests' | 'bucket' | 'cpu' | 'memory' | 'restarts' | 'available';

interface Series {
  readonly role: Role;
  readonly labels: Readonly<Record<string, string>>;
  readonly counter?: CounterWindow;
  gauge?: { t: number; v: number };
  /** Its process's start (ms), from the last exposition that had one. */
  started?: number;
}

/**
 * Computes the catalogue's signals from successive scrapes the way the default PromQL does:
 * rates over the window from counter deltas (with reset handling), histogram quantiles from
 * bucket rates, sums per namespace/deployment (service) and per node. Alongside, the same signals
 * over the last interval alone (`fresh`: the increase since the previous scrape).
 */
export class ScrapeSignalComputer {
  private readonly series = new Map<string, Series>();
  private readonly roles: Map<string, Role>;
  private readonly errorCode: RegExp;
  private readonly processStartTime: string;
  /** When the previous frames were computed: a gauge not scraped again since then belongs to a pod that is gone. */
  private previousAsOf: number | undefined;

  constructor(
    private readonly windowMs: number,
    metrics: ScrapeMetricNames = DEFAULT_SCRAPE_METRICS,
  ) {
    this.roles = new Map<string, Role>([
      [metrics.requestsTotal, 'requests'],
      [`${metrics.durationHistogram}_bucket`, 'bucket'],
      [metrics.cpuSecondsTotal, 'cpu'],
      [metrics.residentMemoryBytes, 'memory'],
      [metrics.restartsTotal, 'restarts'],
      [metrics.availableReplicas, 'available'],
    ]);
    this.processStartTime = metrics.processStartTime;
    try {
      this.errorCode = new RegExp(`^(?:${metrics.errorCode})$`);
    } catch {
      throw new Error(`Invalid error code pattern "${metrics.errorCode}": use a regex such as 5..`);
    }
  }

  /** Adds one scrape taken at `t` (ms). Samples of metrics the catalogue does not use are skipped. */
  ingest(t: number, samples: ReadonlyArray<ExpositionSample>, target: ScrapeTargetLabels = {}): void {
    const started = this.processStarts(samples, target);
    for (const s of samples) {
      const role = this.roles.get(s.name);
      if (!role) continue;
      const at = s.timestampMs ?? t;
      const labels = { ...dropUndefined(target), ...s.labels };
      const key = seriesKey(s.name, labels);
      let series = this.series.get(key);
      if (!series) {
        const isGauge = role === 'memory' || role === 'available';
        const start = isGauge ? undefined : started.get(podKey(labels));
        // a process that started within the window: its counters rose from 0 since then, so the first sample counts
        const from = start !== undefined && start < at && start > at - this.windowMs ? start : undefined;
        series = { role, labels, counter: isGauge ? undefined : new CounterWindow(this.windowMs, from) };
        this.series.set(key, series);
      }
      series.started = started.get(podKey(labels)) ?? series.started;
      if (series.counter) series.counter.add(at, s.value);
      else series.gauge = { t: at, v: s.value };
    }
  }

  /** Process start times (ms) in one exposition, by pod (`namespace/pod`, from the sample's labels or the target's). */
  private processStarts(samples: ReadonlyArray<ExpositionSample>, target: ScrapeTargetLabels): Map<string, number> {
    const out = new Map<string, number>();
    for (const s of samples) {
      if (s.name !== this.processStartTime || !Number.isFinite(s.value) || s.value <= 0) continue;
      out.set(podKey({ ...dropUndefined(target), ...s.labels }), s.value * 1000);
    }
    return out;
  }

  /** Frames stamped at aligned time `t`, from samples up to `asOf` (the scrape may land after the boundary). */
  compute(t: number, asOf = t): SampleFrame[] {
    const svc = new Map<string, Acc>();
    const nodes = new Map<string, Acc>();
    const windowS = this.windowMs / 1000;
    for (const [key, s] of this.series) {
      const seen = s.counter ? s.counter.lastSeen : s.gauge?.t;
      if (seen === undefined || seen <= asOf - 2 * this.windowMs) {
        this.series.delete(key);
        continue;
      }
      if (seen <= asOf - this.windowMs) continue;
      // like Prometheus's staleness: a gauge counts only while its pod is scraped (a counter's samples stay in its window)
      if (!s.counter && this.previousAsOf !== undefined && seen <= this.previousAsOf) continue;
      const { namespace, deployment, node } = s.labels;
      const accs: Acc[] = [];
      if (namespace && deployment) accs.push(getAcc(svc, `${namespace}/${deployment}`, { kind: 'service', namespace, name: deployment }));
      if (node && (s.role === 'cpu' || s.role === 'memory')) accs.push(getAcc(nodes, node, { kind: 'node', name: node }));
      if (accs.length === 0) continue;
      const rate = s.counter?.rate(asOf);
      // the fresh interval: only a series scraped in this round, with its previous sample inside the window
      const last = s.counter && (this.previousAsOf === undefined || seen > this.previousAsOf) ? s.counter.lastIncrease(asOf) : undefined;
      const freshRate = last && last.spanMs > 0 && last.from > asOf - this.windowMs ? last.increase / (last.spanMs / 1000) : undefined;
      for (const acc of accs) {
        if (freshRate !== undefined) addFresh(acc, s, freshRate, last!.increase, this.errorCode);
        switch (s.role) {
          case 'requests':
            if (rate === undefined) break;
            acc.requests = (acc.requests ?? 0) + rate;
            if (this.errorCode.test(s.labels.code ?? '')) acc.errors = (acc.errors ?? 0) + rate;
            break;
          case 'bucket': {
            if (rate === undefined) break;
            const le = bucketBound(s.labels.le);
            acc.buckets.set(le, (acc.buckets.get(le) ?? 0) + rate);
            break;
          }
          case 'cpu':
            if (rate !== undefined) acc.cpu = (acc.cpu ?? 0) + rate;
            break;
          case 'restarts':
            if (rate !== undefined) acc.restarts = (acc.restarts ?? 0) + rate * windowS;
            break;
          case 'memory':
            acc.memory = (acc.memory ?? 0) + s.gauge!.v;
            break;
          case 'available':
            acc.available = Math.max(acc.available ?? -Infinity, s.gauge!.v);
            break;
        }
      }
    }
    this.previousAsOf = asOf;
    const asm = new FrameAssembler();
    for (const acc of [...svc.values(), ...nodes.values()]) {
      const put = (signal: SignalName, v: number | undefined) => v !== undefined && asm.add(t, acc.target, signal, v);
      if (acc.target.kind === 'service') {
        put('request_rate', acc.requests);
        if (acc.requests !== undefined && acc.requests > 0) put('error_ratio', (acc.errors ?? 0) / acc.requests);
        if (acc.buckets.size > 0) {
          const buckets: Bucket[] = [...acc.buckets].map(([le, count]) => ({ le, count }));
          put('latency_p50', histogramQuantile(0.5, buckets));
          put('latency_p95', histogramQuantile(0.95, buckets));
          put('latency_p99', histogramQuantile(0.99, buckets));
        }
        put('restarts', acc.restarts);
        put('available_replicas', acc.available);
        const f = acc.fresh;
        if (f.requests !== undefined) asm.addFresh(t, acc.target, 'request_rate', f.requests);
        if (f.requests !== undefined && f.requests > 0) asm.addFresh(t, acc.target, 'error_ratio', (f.errors ?? 0) / f.requests);
        if (f.buckets.size > 0) {
          const buckets: Bucket[] = [...f.buckets].map(([le, count]) => ({ le, count }));
          asm.addFresh(t, acc.target, 'latency_p50', histogramQuantile(0.5, buckets));
          asm.addFresh(t, acc.target, 'latency_p95', histogramQuantile(0.95, buckets));
          asm.addFresh(t, acc.target, 'latency_p99', histogramQuantile(0.99, buckets));
        }
        if (f.restarts !== undefined) asm.addFresh(t, acc.target, 'restarts', f.restarts);
        if (f.cpu !== undefined) asm.addFresh(t, acc.target, 'cpu', f.cpu);
        if (f.podsSince !== undefined && !f.podStartUnknown) asm.setFreshPodsSince(t, acc.target, f.podsSince);
        asm.setFreshPods(t, acc.target, [...f.pods.values()].sort((a, b) => (a.pod < b.pod ? -1 : 1)));
      }
      put('cpu', acc.cpu);
      put('memory', acc.memory);
    }
    return asm.frames();
  }

  get seriesCount(): number {
    return this.series.size;
  }
}

interface Acc {
  readonly target: TargetRef;
  /** The same sums over the last scrape interval alone (see SampleFrame.fresh); restarts as a count. */
  readonly fresh: { requests?: number; errors?: number; readonly buckets: Map<number, number>; restarts?: number; cpu?: number; podsSince?: number; podStartUnknown?: boolean; readonly pods: Map<string, { pod: string; since?: number; requests: number; errors: number; buckets?: Record<string, number> }> };
  requests?: number;
  errors?: number;
  readonly buckets: Map<number, number>;
  cpu?: number;
  memory?: number;
  restarts?: number;
  available?: number;
}

function getAcc(map: Map<string, Acc>, key: string, target: TargetRef): Acc {
  let acc = map.get(key);
  if (!acc) map.set(key, (acc = { target, buckets: new Map(), fresh: { buckets: new Map(), pods: new Map() } }));
  return acc;
}

function addFresh(acc: Acc, s: Series, rate: number, increase: number, errorCode: RegExp): void {
  const f = acc.fresh;
  if (s.role === 'requests' || s.role === 'bucket') {
    if (s.started === undefined) f.podStartUnknown = true;
    else f.podsSince = Math.min(f.podsSince ?? Infinity, s.started);
  }
  const pod = () => {
    const name = s.labels.pod;
    if (!name) return undefined;
    let p = f.pods.get(name);
    if (!p) f.pods.set(name, (p = { pod: name, ...(s.started !== undefined ? { since: s.started } : {}), requests: 0, errors: 0 }));
    return p;
  };
  if (s.role === 'requests') {
    f.requests = (f.requests ?? 0) + rate;
    const failed = errorCode.test(s.labels.code ?? '');
    if (failed) f.errors = (f.errors ?? 0) + rate;
    const p = pod();
    if (p) {
      p.requests += increase;
      if (failed) p.errors += increase;
    }
  } else if (s.role === 'bucket') {
    const le = bucketBound(s.labels.le);
    f.buckets.set(le, (f.buckets.get(le) ?? 0) + rate);
    const p = pod();
    if (p && s.labels.le !== undefined) (p.buckets ??= {})[s.labels.le] = (p.buckets[s.labels.le] ?? 0) + increase;
  } else if (s.role === 'restarts') f.restarts = (f.restarts ?? 0) + increase;
  else if (s.role === 'cpu') f.cpu = (f.cpu ?? 0) + rate;
}

function dropUndefined(labels: ScrapeTargetLabels): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (v !== undefined && v !== '') out[k] = v;
  return out;
}

function podKey(labels: Readonly<Record<string, string>>): string {
  return `${labels.namespace ?? ''}/${labels.pod ?? ''}`;
}

function seriesKey(name: string, labels: Readonly<Record<string, string>>): string {
  let key = name;
  for (const k of Object.keys(labels).sort()) key += `\u0000${k}=${labels[k]}`;
  return key;
}
