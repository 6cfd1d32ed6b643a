import assert from 'node:assert/strict';
import type { TargetRef } from '../../../src/core/model/target';
import { aggregateSeries, aggregationOf, freshPodIntervals, seriesTarget, type QuerySeries } from '../../../src/core/observe/workloadAggregation';

const T = 1_700_000_000;
const s = (metric: Record<string, string>, v: number, t = T): QuerySeries => ({ metric, values: [[t, String(v)]] });
const pods: Record<string, string> = { 'cart-a-1': 'cart', 'cart-b-1': 'cart', 'db-0': 'db', 'db-1': 'db' };
const resolve = (ns: string, pod: string): TargetRef | undefined => (ns === 'shop' && pods[pod] ? { kind: 'service', namespace: ns, name: pods[pod] } : undefined);
const one = (r: ReturnType<typeof aggregateSeries>, name: string) => r.points.filter((p) => p.target.name === name).map((p) => p.value);

describe('per-pod series aggregated to their workload', () => {
  it('names the target by the deployment label first, else by the pod\'s workload; a pod Vigil does not know counts as unmapped', () => {
    assert.deepEqual(seriesTarget('service', { namespace: 'shop', deployment: 'cart', pod: 'whatever' }, resolve), { kind: 'service', namespace: 'shop', name: 'cart' });
    assert.deepEqual(seriesTarget('service', { namespace: 'shop', pod: 'db-1' }, resolve), { kind: 'service', namespace: 'shop', name: 'db' });
    assert.equal(seriesTarget('service', { namespace: 'shop', pod: 'ghost' }, resolve), undefined);
    const r = aggregateSeries('service', { mode: 'sum' }, [s({ namespace: 'shop', pod: 'ghost' }, 1), s({ namespace: 'shop', pod: 'db-0' }, 2)], resolve);
    assert.equal(r.unmapped, 1);
    assert.deepEqual(one(r, 'db'), [2]);
  });

  it('sums rates over the pods of a workload, including both ReplicaSets of a rollout, per time', () => {
    const series = [
      { metric: { namespace: 'shop', pod: 'cart-a-1' }, values: [[T, '3'], [T + 15, '1']] as Array<[number, string]> },
      { metric: { namespace: 'shop', pod: 'cart-b-1' }, values: [[T + 15, '2.5']] as Array<[number, string]> },
    ];
    const r = aggregateSeries('service', aggregationOf('request_rate'), series, resolve);
    assert.deepEqual(r.points.map((p) => [p.t, p.value]), [
      [T * 1000, 3],
      [(T + 15) * 1000, 3.5],
    ]);
  });

  it('memory sums the pods (max where a signal asks for it: available replicas)', () => {
    const mem = [s({ namespace: 'shop', pod: 'db-0' }, 100e6), s({ namespace: 'shop', pod: 'db-1' }, 300e6)];
    assert.deepEqual(one(aggregateSeries('service', aggregationOf('memory'), mem, resolve), 'db'), [400e6]);
    assert.deepEqual(one(aggregateSeries('service', aggregationOf('available_replicas'), [s({ namespace: 'shop', deployment: 'cart' }, 2), s({ namespace: 'shop', deployment: 'cart', instance: 'b' }, 3)], resolve), 'cart'), [3]);
  });

  it('error ratio divides the summed 5xx parts by the summed totals (not a mean of pod ratios); no 5xx reads 0', () => {
    const series = [
      s({ namespace: 'shop', pod: 'cart-a-1', vigil_part: 'num' }, 9),
      s({ namespace: 'shop', pod: 'cart-a-1', vigil_part: 'den' }, 10),
      s({ namespace: 'shop', pod: 'cart-b-1', vigil_part: 'den' }, 90),
      s({ namespace: 'shop', pod: 'db-0', vigil_part: 'den' }, 5),
    ];
    const r = aggregateSeries('service', aggregationOf('error_ratio'), series, resolve);
    assert.deepEqual(one(r, 'cart'), [0.09]);
    assert.deepEqual(one(r, 'db'), [0]);
    // a query that returns its own ratio (a signals file written per deployment) is taken as it is
    assert.deepEqual(one(aggregateSeries('service', aggregationOf('error_ratio'), [s({ namespace: 'shop', deployment: 'cart' }, 0.25)], resolve), 'cart'), [0.25]);
  });

  it('latency quantiles come from the buckets summed per le over the pods (hand-computed), not from per-pod quantiles', () => {
    // pod 1: 10 req/s all <= 0.1 s; pod 2: 10 req/s, all in (0.5, 1]
    const b = (pod: string, le: string, v: number) => s({ namespace: 'shop', pod, le }, v);
    const series = [b('cart-a-1', '0.1', 10), b('cart-a-1', '0.5', 10), b('cart-a-1', '1', 10), b('cart-a-1', '+Inf', 10), b('cart-b-1', '0.1', 0), b('cart-b-1', '0.5', 0), b('cart-b-1', '1', 10), b('cart-b-1', '+Inf', 10)];
    // total 20; p50: rank 10 falls on the first bucket's upper bound (count 10 at le 0.1) → 0.1
    assert.deepEqual(one(aggregateSeries('service', aggregationOf('latency_p50'), series, resolve), 'cart'), [0.1]);
    // p95: rank 19 falls in (0.5, 1] with 10 before it and 10 in it: 0.5 + 0.5 × (19 − 10) / 10 = 0.95
    const p95 = one(aggregateSeries('service', aggregationOf('latency_p95'), series, resolve), 'cart')[0];
    assert.ok(Math.abs(p95 - 0.95) < 1e-12, String(p95));
    // an already computed quantile (no le) is taken as it is; of two, the higher
    assert.deepEqual(one(aggregateSeries('service', aggregationOf('latency_p99'), [s({ namespace: 'shop', deployment: 'cart' }, 0.2), s({ namespace: 'shop', deployment: 'cart', x: '1' }, 0.3)], resolve), 'cart'), [0.3]);
  });

  it('pod and node kinds read their own labels', () => {
    assert.deepEqual(aggregateSeries('node', { mode: 'sum' }, [s({ node: 'n1' }, 1), s({ node: 'n1', id: '/' }, 2)]).points.map((p) => [p.target, p.value]), [[{ kind: 'node', name: 'n1' }, 3]]);
    assert.deepEqual(aggregateSeries('pod', { mode: 'sum' }, [s({ namespace: 'shop', pod: 'db-0' }, 4)]).points[0].target, { kind: 'pod', namespace: 'shop', name: 'db-0' });
  });
});

describe("each pod's last interval from Prometheus's per-pod series (SampleFrame.freshPods)", () => {
  const s = (metric: Record<string, string>, v: number): QuerySeries => ({ metric: { namespace: 'shop', ...metric }, values: [[1000, String(v)]] });
  const owner = (_ns: string, pod: string): TargetRef | undefined => (pod.startsWith('frontend-') ? { kind: 'service', namespace: 'shop', name: 'frontend' } : undefined);

  it("reads each pod's requests, 5xx and buckets over the interval (rates times its length), with its start where known", () => {
    const errors = [s({ pod: 'frontend-old', vigil_part: 'num' }, 1), s({ pod: 'frontend-old', vigil_part: 'den' }, 4), s({ pod: 'frontend-new', vigil_part: 'den' }, 3), s({ pod: 'cart-1', vigil_part: 'den' }, 9)];
    const latency = [s({ pod: 'frontend-new', le: '0.1' }, 2.4), s({ pod: 'frontend-new', le: '+Inf' }, 3)];
    const started: Record<string, number> = { 'frontend-new': 995_000 };
    const out = freshPodIntervals(
      [
        { signal: 'error_ratio', series: errors },
        { signal: 'latency_p99', series: latency },
      ],
      5,
      owner,
      (_ns, pod) => started[pod],
    );
    assert.deepEqual(out, [
      {
        t: 1_000_000,
        target: { kind: 'service', namespace: 'shop', name: 'frontend' },
        pods: [
          { pod: 'frontend-new', since: 995_000, errors: 0, requests: 15, buckets: { '0.1': 12, '+Inf': 15 } },
          { pod: 'frontend-old', errors: 5, requests: 20 },
        ],
      },
    ]);
  });

  it('gives none for series that name no pod (a query aggregated per workload)', () => {
    const out = freshPodIntervals([{ signal: 'error_ratio', series: [s({ deployment: 'frontend', vigil_part: 'den' }, 4)] }], 5, owner);
    assert.deepEqual(out, []);
  });
});
