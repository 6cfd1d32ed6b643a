import assert from 'node:assert/strict';
import { CounterWindow } from '../../../src/core/observe/counterWindow';
import { ScrapeSignalComputer, type ExpositionSample } from '../../../src/core/observe/scrapeSignals';

function pod(namespace: string, deployment: string, podName: string, node: string, t: number, reqs: { ok: number; err: number }, extra: ExpositionSample[] = []): ExpositionSample[] {
  const base = { namespace, deployment, pod: podName, node };
  return [
    { name: 'http_requests_total', labels: { ...base, code: '200', method: 'GET' }, value: reqs.ok },
    { name: 'http_requests_total', labels: { ...base, code: '503', method: 'GET' }, value: reqs.err },
    { name: 'process_resident_memory_bytes', labels: base, value: 100e6 },
    { name: 'process_cpu_seconds_total', labels: base, value: t / 1000 / 4 },
    { name: 'kube_deployment_status_replicas_available', labels: base, value: 2 },
    ...extra,
  ];
}

describe('CounterWindow', () => {
  it('computes rates with counter resets counted from zero', () => {
    const w = new CounterWindow(60_000);
    w.add(0, 100);
    w.add(10_000, 200);
    w.add(20_000, 50); // reset: +50
    w.add(30_000, 150);
    assert.equal(w.increase(30_000)!.increase, 250);
    assert.equal(w.rate(30_000), 250 / 30);
    assert.equal(new CounterWindow(1000).rate(0), undefined);
  });
});

describe('ScrapeSignalComputer', () => {
  it('computes rates, error ratio, sums and max per service, and cpu/memory per node', () => {
    const c = new ScrapeSignalComputer(60_000);
    for (let t = 0; t <= 30_000; t += 10_000) {
      c.ingest(t, pod('shop', 'cart', 'cart-a', 'n1', t, { ok: t / 100, err: t / 1000 }));
      c.ingest(t, pod('shop', 'cart', 'cart-b', 'n2', t, { ok: t / 100, err: 0 }));
    }
    const frames = c.compute(30_000);
    const cart = frames.find((f) => f.target.kind === 'service')!;
    assert.deepEqual(cart.target, { kind: 'service', namespace: 'shop', name: 'cart' });
    assert.ok(Math.abs(cart.values.request_rate! - 21) < 1e-9); // 10 + 1 + 10 req/s
    assert.ok(Math.abs(cart.values.error_ratio! - 1 / 21) < 1e-9);
    assert.equal(cart.values.memory, 200e6);
    assert.ok(Math.abs(cart.values.cpu! - 0.5) < 1e-9);
    assert.equal(cart.values.available_replicas, 2);
    const n1 = frames.find((f) => f.target.kind === 'node' && f.target.name === 'n1')!;
    assert.ok(Math.abs(n1.values.cpu! - 0.25) < 1e-9);
  });

  it('computes latency quantiles from bucket rates like histogram_quantile', () => {
    const c = new ScrapeSignalComputer(60_000);
    const buckets = (t: number): ExpositionSample[] =>
      [
        ['0.1', 10],
        ['0.2', 30],
        ['0.5', 90],
        ['1', 100],
        ['+Inf', 100],
      ].map(([le, perSec]) => ({ name: 'http_request_duration_seconds_bucket', labels: { le: le as string }, value: ((perSec as number) * t) / 1000 }));
    for (let t = 0; t <= 20_000; t += 10_000) c.ingest(t, buckets(t), { namespace: 'shop', deployment: 'api', pod: 'api-1' });
    const api = c.compute(20_000).find((f) => f.target.name === 'api')!;
    assert.ok(Math.abs(api.values.latency_p50! - (0.2 + 0.3 * (20 / 60))) < 1e-9);
    assert.ok(Math.abs(api.values.latency_p95! - 0.75) < 1e-9);
    assert.equal(api.values.latency_p99, 0.95);
  });

  it('drops pods not scraped within the window, so a deleted pod stops counting', () => {
    const c = new ScrapeSignalComputer(20_000);
    for (let t = 0; t <= 10_000; t += 5_000) c.ingest(t, pod('shop', 'cart', 'old', 'n1', t, { ok: t, err: 0 }));
    for (let t = 0; t <= 60_000; t += 5_000) c.ingest(t, pod('shop', 'cart', 'new', 'n1', t, { ok: t / 1000, err: 0 }));
    const cart = c.compute(60_000).find((f) => f.target.kind === 'service')!;
    assert.ok(Math.abs(cart.values.request_rate! - 1) < 1e-9);
    assert.equal(cart.values.memory, 100e6);
  });

  it('names a bad error-code pattern', () => {
    assert.throws(() => new ScrapeSignalComputer(1000, { requestsTotal: 'a', errorCode: '5..(', durationHistogram: 'd', cpuSecondsTotal: 'c', residentMemoryBytes: 'm', restartsTotal: 'r', availableReplicas: 'x' }), /Invalid error code pattern "5\.\.\("/);
  });
});
