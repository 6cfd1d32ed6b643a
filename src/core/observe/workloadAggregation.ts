/**
 * Series of a signal query → one value per target and time. A series that names its workload
 * (`namespace` + `deployment`) counts for it; one that names only `namespace` + `pod` counts for the pod's
 * workload (PodWorkloadMap). Several series of one workload combine as the signal says: rates and counts
 * sum, a gauge may take the max, a ratio divides summed parts, a quantile is read from summed buckets.
 */
import type { PodInterval, SignalName } from '../model/signal';
import { targetKey, type TargetKind, type TargetRef } from '../model/target';
import { bucketBound, histogramQuantile } from './histogram';

/**
 * How series of one workload combine. `ratio`: series labelled `vigil_part="num"` and `"den"` are summed
 * apart and divided (no numerator reads 0). `quantile`: series with `le` are buckets, summed per `le`.
 * A series without those labels (a query that already aggregates) is taken as it is.
 */
export type WorkloadAggregation = { readonly mode: 'sum' } | { readonly mode: 'max' } | { readonly mode: 'ratio' } | { readonly mode: 'quantile'; readonly q: number };

/** The label that marks a ratio query's numerator and denominator series. */
export const PART_LABEL = 'vigil_part';

/** The aggregation a signal needs when its query returns per-pod series. */
export function aggregationOf(signal: SignalName): WorkloadAggregation {
  switch (signal) {
    case 'error_ratio':
      return { mode: 'ratio' };
    case 'latency_p50':
      return { mode: 'quantile', q: 0.5 };
    case 'latency_p95':
      return { mode: 'quantile', q: 0.95 };
    case 'latency_p99':
      return { mode: 'quantile', q: 0.99 };
    case 'available_replicas':
    case 'probe_success':
    case 'probe_latency':
      return { mode: 'max' };
    default:
      // rates, restarts, CPU and memory of a workload are the sums over its pods
      return { mode: 'sum' };
  }
}

export interface QuerySeries {
  readonly metric: Readonly<Record<string, string>>;
  readonly values: ReadonlyArray<readonly [number, string]>;
}

/** Resolves a pod to the target of its workload; undefined when the pod is unknown. */
export type PodResolver = (namespace: string, pod: string) => TargetRef | undefined;

/** The target a series counts for: its own workload labels first, then its pod's workload. */
export function seriesTarget(kind: TargetKind, labels: Readonly<Record<string, string>>, resolvePod?: PodResolver): TargetRef | undefined {
  if (kind === 'node') return labels.node ? { kind, name: labels.node } : undefined;
  if (!labels.namespace) return undefined;
  if (kind === 'pod') return labels.pod ? { kind, namespace: labels.namespace, name: labels.pod } : undefined;
  if (labels.deployment) return { kind, namespace: labels.namespace, name: labels.deployment };
  return labels.pod && resolvePod ? resolvePod(labels.namespace, labels.pod) : undefined;
}

interface Acc {
  readonly target: TargetRef;
  readonly t: number;
  sum?: number;
  max?: number;
  num?: number;
  den?: number;
  direct?: number;
  readonly buckets: Map<number, number>;
}

export interface AggregatedPoint {
  readonly target: TargetRef;
  /** ms */
  readonly t: number;
  readonly value: number;
}

/**
 * Combines a query's series per target and time. Points come as Prometheus returns them ([seconds, "value"]);
 * series whose target cannot be resolved are counted in `unmapped`, so a caller can say why a signal is empty.
 */
export function aggregateSeries(
  kind: TargetKind,
  aggregation: WorkloadAggregation,
  series: ReadonlyArray<QuerySeries>,
  resolvePod?: PodResolver,
): { readonly points: AggregatedPoint[]; readonly unmapped: number } {
  const accs = new Map<string, Acc>();
  let unmapped = 0;
  for (const s of series) {
    const target = seriesTarget(kind, s.metric, resolvePod);
    if (!target) {
      unmapped++;
      continue;
    }
    const part = s.metric[PART_LABEL];
    const le = s.metric.le;
    for (const [ts, raw] of s.values) {
      const v = Number(raw);
      if (Number.isNaN(v)) continue;
      const t = Math.round(ts * 1000);
      const key = `${targetKey(target)}@${t}`;
      let acc = accs.get(key);
      if (!acc) accs.set(key, (acc = { target, t, buckets: new Map() }));
      if (aggregation.mode === 'ratio' && (part === 'num' || part === 'den')) {
        acc[part] = (acc[part] ?? 0) + v;
      } else if (aggregation.mode === 'quantile' && le !== undefined) {
        const bound = bucketBound(le);
        acc.buckets.set(bound, (acc.buckets.get(bound) ?? 0) + v);
      } else if (aggregation.mode === 'sum') {
        acc.sum = (acc.sum ?? 0) + v;
      } else {
        // max, and an already aggregated ratio or quantile: of two series, the worse (higher) one
        acc.max = Math.max(acc.max ?? -Infinity, v);
      }
    }
  }
  const points: AggregatedPoint[] = [];
  for (const acc of accs.values()) {
    let value: number | undefined;
    if (aggregation.mode === 'sum') value = acc.sum;
    else if (aggregation.mode === 'ratio' && acc.den !== undefined) value = acc.den > 0 ? (acc.num ?? 0) / acc.den : undefined;
    else if (aggregation.mode === 'quantile' && acc.buckets.size > 0) value = histogramQuantile(aggregation.q, [...acc.buckets].map(([b, count]) => ({ le: b, count })));
    else value = acc.max;
    if (value !== undefined && Number.isFinite(value)) points.push({ target: acc.target, t: acc.t, value });
  }
  points.sort((a, b) => a.t - b.t || targetKey(a.target).localeCompare(targetKey(b.target)));
  return { points, unmapped };
}

/**
 * How many distinct series (pods, or whatever the query groups by, less `le` and the ratio's numerator) gave a value
 * per target and time, keyed `targetKey@ms`. A short-window twin of a query that covers fewer series than its
 * windowed query at the same time read only some of the workload's pods, and its sum would be a part of the whole.
 */
export function seriesCoverage(kind: TargetKind, series: ReadonlyArray<QuerySeries>, resolvePod?: PodResolver): Map<string, number> {
  const seen = new Map<string, Set<string>>();
  for (const s of series) {
    if (s.metric[PART_LABEL] === 'num') continue;
    const target = seriesTarget(kind, s.metric, resolvePod);
    if (!target) continue;
    const id = Object.entries(s.metric)
      .filter(([k]) => k !== 'le' && k !== PART_LABEL)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    for (const [ts, raw] of s.values) {
      if (Number.isNaN(Number(raw))) continue;
      const key = `${targetKey(target)}@${Math.round(ts * 1000)}`;
      let ids = seen.get(key);
      if (!ids) seen.set(key, (ids = new Set()));
      ids.add(id);
    }
  }
  return new Map([...seen].map(([k, ids]) => [k, ids.size]));
}

/**
 * Each pod's requests, 5xx and latency buckets over the last interval (SampleFrame.freshPods) from the per-pod series of
 * the last-interval twins of the error-ratio and latency queries (rates, times the interval's length), with the pod's
 * start where `startedAt` knows it. Series that name no pod (a query that aggregates per workload) give none.
 */
export function freshPodIntervals(
  parts: ReadonlyArray<{ readonly signal: SignalName; readonly series: ReadonlyArray<QuerySeries> }>,
  intervalSeconds: number,
  resolvePod?: PodResolver,
  startedAt?: (namespace: string, pod: string) => number | undefined,
): Array<{ readonly t: number; readonly target: TargetRef; readonly pods: PodInterval[] }> {
  type Entry = { pod: string; since?: number; requests?: number; errors: number; buckets?: Record<string, number> };
  const byTarget = new Map<string, { t: number; target: TargetRef; pods: Map<string, Entry> }>();
  for (const { signal, series } of parts) {
    for (const s of series) {
      const { namespace, pod } = s.metric;
      const target = namespace && pod ? seriesTarget('service', s.metric, resolvePod) : undefined;
      if (!target || !pod || !namespace) continue;
      const part = s.metric[PART_LABEL];
      const le = s.metric.le;
      for (const [ts, raw] of s.values) {
        const v = Number(raw) * intervalSeconds;
        if (!Number.isFinite(v)) continue;
        const t = Math.round(ts * 1000);
        const key = `${targetKey(target)}@${t}`;
        let at = byTarget.get(key);
        if (!at) byTarget.set(key, (at = { t, target, pods: new Map() }));
        let e = at.pods.get(pod);
        if (!e) {
          const since = startedAt?.(namespace, pod);
          at.pods.set(pod, (e = { pod, ...(since !== undefined ? { since } : {}), errors: 0 }));
        }
        if (signal === 'error_ratio' && part === 'num') e.errors += v;
        else if (signal === 'error_ratio' && part === 'den') e.requests = (e.requests ?? 0) + v;
        else if (signal !== 'error_ratio' && le !== undefined) (e.buckets ??= {})[le] = (e.buckets[le] ?? 0) + v;
      }
    }
  }
  return [...byTarget.values()].map(({ t, target, pods }) => ({
    t,
    target,
    pods: [...pods.values()]
      .sort((a, b) => (a.pod < b.pod ? -1 : 1))
      .map(({ requests, ...e }) => ({ ...e, requests: requests ?? e.buckets?.['+Inf'] ?? 0 })),
  }));
}
