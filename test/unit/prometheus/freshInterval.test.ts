import assert from 'node:assert/strict';
import type { SampleFrame } from '../../../src/core/model/signal';
import type { TargetRef } from '../../../src/core/model/target';
import { VirtualClock } from '../../../src/core/loop/virtualClock';
import type { InstantVectorSample, PrometheusClient } from '../../../src/infra/prometheus/prometheusClient';
import { PrometheusSource } from '../../../src/infra/prometheus/prometheusSource';

const T = 1765011600_000;
const PODS = ['cart-6d8f9c7b5-x7k2p', 'cart-6d8f9c7b5-q9w4z'];
const resolvePod = (ns: string, pod: string): TargetRef | undefined => (ns === 'shop' && PODS.includes(pod) ? { kind: 'service', namespace: ns, name: 'cart' } : undefined);

/**
 * Answers the request-rate and error-ratio queries per pod: over the 30 s rate window 10 req/s per pod with 1 % 5xx,
 * over the last 5 s interval 30 req/s per pod with 20 % 5xx, for the pods in `freshPods` (the others have fewer than
 * two samples in the short window, as when Prometheus scrapes less often than twice per interval).
 */
class TwoWindowPrometheus {
  readonly url = 'http://prometheus.monitoring:9090';
  readonly queries: string[] = [];
  constructor(private readonly freshPods: ReadonlyArray<string>) {}

  async instant(query: string, t: number): Promise<InstantVectorSample[]> {
    this.queries.push(query);
    const fresh = query.includes('[5s]');
    if (!fresh && !query.includes('[30s]')) return [];
    const pods = fresh ? this.freshPods : PODS;
    const rate = fresh ? 30 : 10;
    const sample = (labels: Record<string, string>, v: number): InstantVectorSample => ({ metric: { namespace: 'shop', ...labels }, value: [t / 1000, String(v)] });
    if (/^sum by \(namespace, deployment, pod\) \(rate\(http_requests_total\{\}/.test(query)) return pods.map((pod) => sample({ pod }, rate));
    if (query.startsWith('label_replace(sum by (namespace, deployment, pod) (rate(http_requests_total{code=~"5.."}'))
      return pods.flatMap((pod) => [sample({ pod, vigil_part: 'num' }, rate * (fresh ? 0.2 : 0.01)), sample({ pod, vigil_part: 'den' }, rate)]);
    return [];
  }

  async series(): Promise<Array<Record<string, string>>> {
    return [];
  }
}

async function cartFrame(freshPods: ReadonlyArray<string>): Promise<{ cart: SampleFrame | undefined; client: TwoWindowPrometheus }> {
  const client = new TwoWindowPrometheus(freshPods);
  const clock = new VirtualClock(T);
  const source = new PrometheusSource({ client: client as unknown as PrometheusClient, clock, intervalMs: 5_000, windowMs: 30_000, discover: false, resolvePod });
  const frames: SampleFrame[] = [];
  source.subscribe((f) => frames.push(...f));
  await clock.advance(2_000);
  source.dispose();
  return { cart: frames.find((f) => f.target.kind === 'service' && f.target.name === 'cart' && f.values.request_rate !== undefined), client };
}

describe('Prometheus source: the last interval alone (SampleFrame.fresh), as a direct scrape reads it', () => {
  it('sends each windowed query again over the agent interval and gives its value as fresh', async () => {
    const { cart, client } = await cartFrame(PODS);
    assert.ok(cart, 'cart has a frame');
    assert.equal(cart.values.request_rate, 20);
    assert.equal(cart.values.error_ratio, 0.01);
    assert.equal(cart.fresh?.request_rate, 60);
    assert.equal(cart.fresh?.error_ratio, 0.2);
    // windowed signals only: memory and available replicas have no short-window twin
    const short = client.queries.filter((q) => q.includes('[5s]'));
    assert.ok(short.some((q) => q.includes('rate(http_requests_total{}[5s])')), short.join('\n'));
    assert.ok(!short.some((q) => q.includes('process_resident_memory_bytes') || q.includes('kube_deployment_status_replicas_available')), short.join('\n'));
  });

  it('sends each distinct query once per interval: the three latency quantiles share one bucket query', async () => {
    const { client } = await cartFrame(PODS);
    // each fetch sends the request-rate query once; p50, p95 and p99 add one bucket query per window, not three
    const fetches = client.queries.filter((q) => /^sum by \(namespace, deployment, pod\) \(rate\(http_requests_total\{\}\[30s\]\)\)$/.test(q)).length;
    assert.ok(fetches >= 1, client.queries.join('\n'));
    const buckets = client.queries.filter((q) => q.includes('http_request_duration_seconds_bucket'));
    assert.equal(buckets.filter((q) => q.includes('[30s]')).length, fetches, buckets.join('\n'));
    assert.equal(buckets.filter((q) => q.includes('[5s]')).length, fetches, buckets.join('\n'));
  });

  it('gives no fresh sum for a workload whose short window covered only some of its pods; a ratio of those pods still counts', async () => {
    const { cart } = await cartFrame(PODS.slice(0, 1));
    assert.ok(cart, 'cart has a frame');
    assert.equal(cart.values.request_rate, 20);
    assert.equal(cart.fresh?.request_rate, undefined, 'one pod of two is not the workload\'s request rate');
    assert.equal(cart.fresh?.error_ratio, 0.2);
  });
});
