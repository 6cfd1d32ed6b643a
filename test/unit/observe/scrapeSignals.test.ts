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

  it('gives the last interval alone, a reset counted from zero', () => {
    const w = new CounterWindow(60_000);
    w.add(0, 100);
    w.add(10_000, 200);
    assert.deepEqual(w.lastIncrease(10_000), { increase: 100, spanMs: 10_000, from: 0 });
    w.add(20_000, 30); // reset: +30
    assert.deepEqual(w.lastIncrease(20_000), { increase: 30, spanMs: 10_000, from: 10_000 });
    // as of an earlier time, the interval that ended then
    assert.deepEqual(w.lastIncrease(15_000), { increase: 100, spanMs: 10_000, from: 0 });
    assert.equal(new CounterWindow(1000).lastIncrease(0), undefined);
  });
});

describe('CounterWindow from a known process start', () => {
  it('counts the first sample as an increase from 0 at the start', () => {
    const w = new CounterWindow(30_000, 2_000);
    assert.equal(w.lastSeen, undefined, 'the start alone is no sample');
    assert.equal(w.lastIncrease(5_000), undefined);
    w.add(5_000, 30);
    assert.deepEqual(w.lastIncrease(5_000), { increase: 30, spanMs: 3_000, from: 2_000 });
    assert.equal(w.rate(5_000), 10);
    assert.equal(w.lastSeen, 5_000);
    w.add(10_000, 80);
    assert.deepEqual(w.lastIncrease(10_000), { increase: 50, spanMs: 5_000, from: 5_000 });
    assert.deepEqual(w.increase(10_000), { increase: 80, spanMs: 8_000 });
  });

  it('ignores a start that is not before the first sample (clocks apart)', () => {
    const w = new CounterWindow(30_000, 6_000);
    w.add(5_000, 30);
    assert.equal(w.lastIncrease(5_000), undefined);
    w.add(10_000, 40);
    assert.deepEqual(w.lastIncrease(10_000), { increase: 10, spanMs: 5_000, from: 5_000 });
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

  it('gives each windowed signal over the last interval alone, from the series scraped in this round', () => {
    const c = new ScrapeSignalComputer(30_000);
    // 10 req/s, no errors, for 20 s; then 5 s at 10 req/s with half of them errors
    const at = (t: number) => (t <= 20_000 ? { ok: t / 100, err: 0 } : { ok: 200 + (t - 20_000) / 200, err: (t - 20_000) / 200 });
    for (let t = 0; t <= 20_000; t += 5_000) c.ingest(t, pod('shop', 'cart', 'cart-a', 'n1', t, at(t)));
    c.compute(20_000);
    c.ingest(25_000, pod('shop', 'cart', 'cart-a', 'n1', 25_000, at(25_000)));
    const cart = c.compute(25_000).find((f) => f.target.kind === 'service')!;
    // the 30 s window still averages the good seconds in; the fresh interval is the bad one alone
    assert.ok(Math.abs(cart.values.error_ratio! - 25 / 250) < 1e-9, `windowed ${cart.values.error_ratio}`);
    assert.ok(Math.abs(cart.fresh!.error_ratio! - 0.5) < 1e-9, `fresh ${cart.fresh?.error_ratio}`);
    assert.ok(Math.abs(cart.fresh!.request_rate! - 10) < 1e-9);
    // a pod not scraped in this round adds nothing fresh, though its samples are still in the window
    c.ingest(30_000, pod('shop', 'cart', 'cart-b', 'n1', 30_000, { ok: 0, err: 0 }));
    const next = c.compute(30_000).find((f) => f.target.kind === 'service')!;
    assert.equal(next.fresh?.request_rate, undefined, 'cart-a was not scraped and cart-b has one sample only');
    assert.ok(next.values.request_rate! > 0, 'the window still counts cart-a');
  });

  it('gives fresh latency quantiles from the buckets\' increase since the previous scrape', () => {
    const c = new ScrapeSignalComputer(60_000);
    let fast = 0;
    let slow = 0;
    const buckets = (): ExpositionSample[] =>
      [
        ['0.1', fast],
        ['1', fast + slow],
        ['+Inf', fast + slow],
      ].map(([le, n]) => ({ name: 'http_request_duration_seconds_bucket', labels: { le: le as string }, value: n as number }));
    for (let t = 0; t <= 50_000; t += 5_000) {
      if (t <= 45_000) fast += 100;
      else slow += 100;
      c.ingest(t, buckets(), { namespace: 'shop', deployment: 'api', pod: 'api-1' });
    }
    const api = c.compute(50_000).find((f) => f.target.name === 'api')!;
    assert.ok(api.values.latency_p95! < 0.6, `the window is mostly fast: ${api.values.latency_p95}`);
    assert.ok(api.fresh!.latency_p95! > 0.9, `the last interval is all slow: ${api.fresh?.latency_p95}`);
  });

  it('gives a pod that started after the previous scrape fresh values from its first scrape (process_start_time_seconds)', () => {
    // a bad release: the old pod serves 10 req/s cleanly; a new pod starts at 21 s and fails 40% of its 10 req/s
    const old = (t: number) => pod('shop', 'web', 'web-old', 'n1', t, { ok: t / 100, err: 0 });
    const fresh = (withStart: boolean) => {
      const c = new ScrapeSignalComputer(30_000);
      for (let t = 0; t <= 20_000; t += 5_000) {
        c.ingest(t, old(t));
        c.compute(t);
      }
      const start: ExpositionSample[] = withStart ? [{ name: 'process_start_time_seconds', labels: { namespace: 'shop', pod: 'web-new' }, value: 21 }] : [];
      c.ingest(25_000, old(25_000));
      // the start sample comes last in the exposition: the pod's counters still count from it
      c.ingest(25_000, [...pod('shop', 'web', 'web-new', 'n1', 25_000, { ok: 24, err: 16 }).filter((x) => x.name === 'http_requests_total'), ...start], { namespace: 'shop', deployment: 'web', pod: 'web-new' });
      return c.compute(25_000).find((f) => f.target.kind === 'service')!;
    };
    const known = fresh(true);
    // fresh: old pod 50 ok over 5 s (10/s); new pod 24 ok + 16 failed over the 4 s since its start (10/s)
    assert.ok(Math.abs(known.fresh!.request_rate! - 20) < 1e-9, `fresh rate ${known.fresh?.request_rate}`);
    assert.ok(Math.abs(known.fresh!.error_ratio! - 0.2) < 1e-9, `fresh error ratio ${known.fresh?.error_ratio}`);
    assert.ok(known.values.error_ratio! > 0, 'the window counts the new pod too');
    // without its start time the new pod's single sample is no increase yet: the failures stay unseen for a scrape
    const unknown = fresh(false);
    assert.equal(unknown.fresh!.error_ratio, 0);
    assert.equal(unknown.values.error_ratio, 0);
  });

  it('says when the pods behind the fresh values started, only while every one of them is known', () => {
    const c = new ScrapeSignalComputer(30_000);
    const T = 1_000_000;
    const start = (podName: string, s: number): ExpositionSample => ({ name: 'process_start_time_seconds', labels: { namespace: 'shop', pod: podName }, value: s });
    const web = (t: number, pods: Array<[string, number | undefined]>) => {
      for (const [name, s] of pods) c.ingest(T + t, [...pod('shop', 'web', name, 'n1', t, { ok: t / 100, err: 0 }), ...(s !== undefined ? [start(name, s)] : [])]);
      return c.compute(T + t).find((f) => f.target.kind === 'service')!;
    };
    web(0, [['a', 500], ['b', 400]]);
    assert.equal(web(5_000, [['a', 500], ['b', 400]]).freshPodsSince, 400_000, 'the earliest start');
    // a rolled-out pair replaces them: the old ones are no longer scraped
    web(10_000, [['c', 1007], ['d', 1008]]);
    assert.equal(web(15_000, [['c', 1007], ['d', 1008]]).freshPodsSince, 1_007_000);
    // one pod without a start time: unknown
    web(20_000, [['c', 1007], ['e', undefined]]);
    assert.equal(web(25_000, [['c', 1007], ['e', undefined]]).freshPodsSince, undefined);
  });

  it('does not count a counter from a process start older than the window', () => {
    const c = new ScrapeSignalComputer(30_000);
    const start: ExpositionSample = { name: 'process_start_time_seconds', labels: { namespace: 'shop', pod: 'a' }, value: 100 };
    c.ingest(200_000, [...pod('shop', 'web', 'a', 'n1', 200_000, { ok: 5_000, err: 0 }), start]);
    const web = c.compute(200_000).find((f) => f.target.kind === 'service')!;
    assert.equal(web.values.request_rate, undefined, 'one sample, its start out of the window: no rate yet');
    assert.equal(web.fresh?.request_rate, undefined);
  });

  it('names a bad error-code pattern', () => {
    assert.throws(() => new ScrapeSignalComputer(1000, { requestsTotal: 'a', errorCode: '5..(', durationHistogram: 'd', cpuSecondsTotal: 'c', residentMemoryBytes: 'm', restartsTotal: 'r', availableReplicas: 'x', processStartTime: 'p' }), /Invalid error code pattern "5\.\.\("/);
  });
});
