import assert from 'node:assert/strict';
import { DEFAULT_FRESH_EVIDENCE, FRESH_RULES, FreshReferences, MemoryHeadroom, freshAnomalies, lineFit } from '../../../src/core/detect/freshEvidence';
import type { Band, SampleFrame } from '../../../src/core/model/signal';
import type { TargetRef } from '../../../src/core/model/target';

const target: TargetRef = { kind: 'service', namespace: 'shop', name: 'frontend' };
const p95: Band = { lower: 0.05, expected: 0.09, upper: 0.13 };
const errors: Band = { lower: 0, expected: 0.003, upper: 0.01 };
const MiB = 1024 * 1024;

describe('freshAnomalies', () => {
  const frame = (fresh: SampleFrame['fresh'], values: SampleFrame['values'] = { latency_p95: 0.1, error_ratio: 0.003 }): SampleFrame => ({ target, t: 5_000, values, fresh });

  it('flags the last interval\'s latency while the rate window still averages it away', () => {
    // a 10x slowdown 5 s ago: the 30 s window reads 0.2 s, the fresh interval 0.9 s
    const [a, ...rest] = freshAnomalies(frame({ latency_p95: 0.9 }, { latency_p95: 0.2 }), { latency_p95: p95 });
    assert.equal(rest.length, 0);
    assert.equal(a.rule, FRESH_RULES.latency);
    assert.equal(a.contributions[0].signal, 'latency_p95');
    assert.match(a.reason, /over the last interval, 10\.0x its level just before \(90 ms\)/);
  });

  it('needs both the ratio and the absolute step, above the band', () => {
    assert.deepEqual(freshAnomalies(frame({ latency_p95: 0.5 }), { latency_p95: p95 }), [], '5.6x is under the 6x ratio');
    const tiny: Band = { lower: 0.001, expected: 0.002, upper: 0.004 };
    assert.deepEqual(freshAnomalies(frame({ latency_p95: 0.05 }), { latency_p95: tiny }), [], '25x of 2 ms is still under the 0.15 s step');
    assert.deepEqual(freshAnomalies(frame({ latency_p95: 0.9 }), {}), [], 'no band, no judgement');
    assert.deepEqual(freshAnomalies(frame(undefined), { latency_p95: p95 }), [], 'a source without fresh values');
  });

  it('needs most of the interval slow: one straggler among a quiet service\'s few requests is no spike', () => {
    // a dozen requests at night, one of them 1.4 s: p95 is that one, the median stays at its usual 60 ms
    assert.deepEqual(freshAnomalies(frame({ latency_p95: 1.4, latency_p50: 0.06 }), { latency_p95: p95 }), []);
    // every request 10x slower: the median is above the p95 of just before
    assert.equal(freshAnomalies(frame({ latency_p95: 0.9, latency_p50: 0.6 }), { latency_p95: p95 }).length, 1);
  });

  it('judges a step against the level just before: a daily peak that creeps up is not flagged, a fault is, scrape after scrape', () => {
    const refs = new FreshReferences();
    const step = (t: number, windowed: number, freshP95: number) => {
      const f: SampleFrame = { target, t, values: { latency_p95: windowed }, fresh: { latency_p95: freshP95 } };
      const found = freshAnomalies(f, { latency_p95: p95 }, refs.get('fe'));
      refs.update('fe', f, found.length > 0);
      return found.length;
    };
    // the peak: each interval 40% slower than the last, the window a little behind
    const peak = [0.09, 0.126, 0.176, 0.247, 0.346, 0.484, 0.678].map((v, i) => step(i * 5_000, v * 0.85, v));
    assert.deepEqual(peak, [0, 0, 0, 0, 0, 0, 0]);
    // back to normal, then a fault: 10x at once; the window climbs behind it, the reference stays where it was before the step
    assert.equal(step(90_000, 0.09, 0.09), 0);
    const fault = [[0.09, 0.9], [0.3, 0.9], [0.5, 0.9]].map(([w, f], i) => step(100_000 + i * 5_000, w, f));
    assert.deepEqual(fault, [1, 1, 1]);
  });

  it('a spike that began within an interval: its partial interval does not drag the level just before up with its window', () => {
    // bench:heal's latency spike, seed 1 (frontend, 10x): the recorded frames, windowed p95 / last interval's p95 and p50
    const refs = new FreshReferences();
    const band: Band = { lower: 0.08, expected: 0.095, upper: 0.11 };
    const step = (t: number, windowed: number, freshP95: number, freshP50: number) => {
      const f: SampleFrame = { target, t, values: { latency_p95: windowed }, fresh: { latency_p95: freshP95, latency_p50: freshP50 } };
      const found = freshAnomalies(f, { latency_p95: band }, refs.get('fe'));
      refs.update('fe', f, found.length > 0);
      return found.length;
    };
    assert.equal(step(0, 0.095, 0.096, 0.037), 0);
    // the spike began 2 s before this scrape: 0.52 s is 5.5x, under the 6x step, and the median still fast
    assert.equal(step(5_000, 0.164, 0.518, 0.044), 0);
    assert.deepEqual(refs.get('fe').latency_p95, 0.095, 'the reference stays where it was before the spike');
    // the first full interval: 0.96 s is 10x the level before (it was read against 0.164 s, 5.9x, and left unflagged)
    assert.equal(step(10_000, 0.558, 0.961, 0.374), 1);
    // a level that moves 4x and stays is held two frames, then becomes the reference
    const level = new FreshReferences();
    const f = (t: number, windowed: number, fresh: number): SampleFrame => ({ target, t, values: { latency_p95: windowed }, fresh: { latency_p95: fresh, latency_p50: fresh / 2 } });
    level.update('x', f(0, 0.1, 0.1), false);
    const refsSeen = [0.25, 0.4, 0.4, 0.4].map((w, i) => (level.update('x', f((i + 1) * 5_000, w, 0.4), false), level.get('x').latency_p95));
    assert.deepEqual(refsSeen, [0.1, 0.1, 0.4, 0.4]);
  });

  it('a spike that began within an interval: flags its partial interval when part of its requests are already as slow as a whole slow interval', () => {
    // recorded (virtual-time sandbox, seed 1, a weekend night's trough, frontend × 10 injected 1 s before a scrape): the
    // windowed p95 / the last interval's p95, p50 and p99, and its request rate; one second of the five is slow
    const band: Band = { lower: 0.08, expected: 0.095, upper: 0.11 };
    const drill = (requestsPerSecond = (rps: number) => rps, fresh = (f: Record<string, number>) => f) => {
      const refs = new FreshReferences();
      const step = (t: number, windowed: number, p95: number, p50: number, p99: number, rps: number) => {
        const f: SampleFrame = { target, t, values: { latency_p95: windowed }, fresh: fresh({ latency_p95: p95, latency_p50: p50, latency_p99: p99, request_rate: requestsPerSecond(rps) }) };
        const found = freshAnomalies(f, { latency_p95: band }, refs.get('fe'));
        refs.update('fe', f, found.length > 0);
        return found;
      };
      return [step(35_000, 0.0952, 0.0951, 0.0367, 0.1830, 18.5), step(40_000, 0.0955, 0.096, 0.0366, 0.204, 18.2), step(45_000, 0.1509, 0.5438, 0.0441, 1.105, 18.8), step(50_000, 0.596, 0.9381, 0.3663, 1.81, 18.0)];
    };
    const [quiet, before, partial, full] = drill();
    assert.deepEqual([quiet.length, before.length], [0, 0]);
    // 94 requests: p95 5.7x and p99 11.6x the level just before, the median still under it. Before: left for the next
    // interval, and the incident (two scrapes) for the one after: 11 s, 2.2 intervals after the first slow request
    assert.equal(partial.length, 1, 'the partial interval is flagged');
    assert.match(partial[0].reason, /5\.7x its level just before \(95\.5 ms\), p99 1\.1\d? s: a step within the interval, its median still 44(\.\d)? ms/);
    assert.equal(full.length, 1, 'and the first whole one, against the level before the spike');
    assert.match(full[0].reason, /9\.8x its level just before \(95\.5 ms\)$/);
    // a quiet service's stragglers: the same shape over 11 requests is no step
    assert.equal(drill((rps) => rps / 8)[2].length, 0, '11 requests in the interval');
    // a source without the p99 or the request rate cannot tell a step within the interval from a straggler
    assert.equal(drill(undefined, ({ latency_p99: _p99, ...f }) => f)[2].length, 0, 'no p99');
    assert.equal(drill(undefined, ({ request_rate: _rps, ...f }) => f)[2].length, 0, 'no request rate');
  });

  it('a step within the interval needs the spread to widen: a uniform slowdown is judged whole (6x) or not at all', () => {
    const refs = new FreshReferences();
    const band: Band = { lower: 0.08, expected: 0.095, upper: 0.11 };
    const f0: SampleFrame = { target, t: 0, values: { latency_p95: 0.095 }, fresh: { latency_p95: 0.095, latency_p50: 0.037, latency_p99: 0.19, request_rate: 40 } };
    refs.update('fe', f0, freshAnomalies(f0, { latency_p95: band }, refs.get('fe')).length > 0);
    // every request 3.5x slower (a saturated pod, a surge's queueing): p95 3.5x, p99 7x, but the median moved too
    const slower: SampleFrame = { target, t: 5_000, values: { latency_p95: 0.13 }, fresh: { latency_p95: 0.33, latency_p50: 0.13, latency_p99: 0.66, request_rate: 40 } };
    assert.deepEqual(freshAnomalies(slower, { latency_p95: band }, refs.get('fe')), []);
    // the median still under the level, but the tail only 2x out: no step
    const tail: SampleFrame = { target, t: 5_000, values: { latency_p95: 0.1 }, fresh: { latency_p95: 0.2, latency_p50: 0.04, latency_p99: 0.4, request_rate: 40 } };
    assert.deepEqual(freshAnomalies(tail, { latency_p95: band }, refs.get('fe')), []);
  });

  it('flags a failing interval by the HighErrorRatio level, a step from just before', () => {
    const [a] = freshAnomalies(frame({ error_ratio: 0.25 }), { error_ratio: errors });
    assert.equal(a.rule, FRESH_RULES.errors);
    assert.equal(freshAnomalies(frame({ error_ratio: DEFAULT_FRESH_EVIDENCE.errorRatio }), { error_ratio: errors }).length, 0);
    assert.equal(freshAnomalies(frame({ error_ratio: 0.09, request_rate: 7 }), { error_ratio: errors }).length, 0, '3 stray 5xx of 35 requests: 0.6 a second');
    assert.equal(freshAnomalies(frame({ error_ratio: 0.09, request_rate: 45 }), { error_ratio: errors }).length, 1, '4 a second');
    assert.equal(freshAnomalies(frame({ error_ratio: 0.2 }), { error_ratio: { lower: 0, expected: 0.2, upper: 0.3 } }).length, 0, 'within a band that is used to it');
    assert.equal(freshAnomalies(frame({ error_ratio: 0.12 }), { error_ratio: errors }, { error_ratio: 0.06 }).length, 0, 'shedding that crept up to 6% before');
    // an overload sheds load as 503 while it slows down: the errors are the overload's, not a failure of their own
    const overload = freshAnomalies(frame({ error_ratio: 0.2, latency_p95: 0.4 }), { error_ratio: errors, latency_p95: p95 }, { error_ratio: 0.003, latency_p95: 0.1 });
    assert.deepEqual(overload.map((a) => a.rule), [], 'p95 4x its level with 20% errors: overload');
  });
});

describe('freshAnomalies: a surge saturating the service', () => {
  const cart: TargetRef = { kind: 'service', namespace: 'shop', name: 'cart' };
  // bench:heal's surge at the night trough, recorded from the sandbox: 11 req/s and a 20.7 ms median before; the first
  // interval of × 4 traffic serves 41.4 req/s at a 75.6 ms median and not one error
  const before = { request_rate: 11.04, latency_p50: 0.02075, latency_p95: 0.045, error_ratio: 0 };
  const frame = (fresh: SampleFrame['fresh']): SampleFrame => ({ target: cart, t: 5_000, values: { request_rate: 17, latency_p50: 0.03, available_replicas: 2, error_ratio: 0 }, fresh });
  const surge = (found: ReturnType<typeof freshAnomalies>) => found.filter((a) => a.rule === FRESH_RULES.surge);

  it('flags the requests a multiple of the level just before while the pods queue, before any error', () => {
    const [a, ...rest] = surge(freshAnomalies(frame({ request_rate: 41.4, latency_p50: 0.0756, latency_p95: 0.15, error_ratio: 0 }), {}, before));
    assert.equal(rest.length, 0);
    assert.equal(a.target, cart);
    assert.deepEqual(a.contributions.map((c) => c.signal), ['request_rate', 'latency_p50'], 'the rise and the saturation both, for the diagnosis');
    assert.match(a.reason, /41\.4 req\/s .* 3\.8x its level just before .* 20\.7 req\/s per ready pod; its pods saturate: median latency 75\.6 ms \(3\.6x\)/);
  });

  it('or while they shed: errors past the failing level with the rise', () => {
    const [a] = surge(freshAnomalies(frame({ request_rate: 41.4, latency_p50: 0.022, error_ratio: 0.2 }), {}, before));
    assert.deepEqual(a.contributions.map((c) => c.signal), ['request_rate', 'error_ratio']);
  });

  it('a rise the pods absorb, a smaller rise, a usual hour, or no level before is no surge', () => {
    assert.deepEqual(surge(freshAnomalies(frame({ request_rate: 41.4, latency_p50: 0.021, error_ratio: 0 }), {}, before)), [], 'latency flat: the pods absorb it');
    assert.deepEqual(surge(freshAnomalies(frame({ request_rate: 20, latency_p50: 0.0756, error_ratio: 0 }), {}, before)), [], '1.8x is under the 2x ratio');
    assert.deepEqual(surge(freshAnomalies(frame({ request_rate: 41.4, latency_p50: 0.0756, error_ratio: 0 }), {}, { ...before, seasonalRequestRate: 30 })), [], '1.4x what is usual at this hour: the morning, not a surge');
    assert.deepEqual(surge(freshAnomalies(frame({ request_rate: 41.4, latency_p50: 0.0756, error_ratio: 0 }), {}, {})), [], 'no level before');
    assert.deepEqual(surge(freshAnomalies(frame({ request_rate: 41.4, latency_p50: 0.006, error_ratio: 0 }), {}, { ...before, latency_p50: 0.002 })), [], '3x of a 2 ms median is under the 5 ms step');
  });
});

describe('freshAnomalies: a surge the pods absorb so far', () => {
  const cart: TargetRef = { kind: 'service', namespace: 'shop', name: 'cart' };
  // the sandbox's weekend night (test/unit/loop/trafficSurgeTrough.test.ts): 7.6 req/s on 2 pods at 0.16 cores, then
  // × 4 traffic: 30 req/s, the median flat at 21 ms, the windowed CPU 0.24 cores after one interval, 0.32 after two
  const before = { request_rate: 7.6, latency_p50: 0.0206, error_ratio: 0, cpu: 0.16, available_replicas: 2 };
  const frame = (cpu: number | undefined, pods: number, rate = 30): SampleFrame => ({
    target: cart,
    t: 10_000,
    values: { request_rate: 16.4, latency_p50: 0.0207, error_ratio: 0, available_replicas: pods, ...(cpu !== undefined ? { cpu } : {}) },
    fresh: { request_rate: rate, latency_p50: 0.0207, error_ratio: 0 },
  });
  const surge = (found: ReturnType<typeof freshAnomalies>) => found.filter((a) => a.rule === FRESH_RULES.surge);

  it('flags four times the requests on each pod, its CPU following, before the pods slow', () => {
    const [a, ...rest] = surge(freshAnomalies(frame(0.32, 2), {}, before));
    assert.equal(rest.length, 0);
    assert.deepEqual(a.contributions.map((c) => c.signal), ['request_rate', 'cpu'], 'the rise and the work it makes, for the diagnosis');
    assert.match(a.reason, /30 req\/s .* 3\.9x its level just before \(7\.6 req\/s\), 15 req\/s per ready pod; its pods do the work of it, CPU 0\.32 cores \(2\.0x per pod\), not yet slower/);
  });

  it('not without the CPU to show the work, nor cheap requests the CPU does not follow, nor once spread over more pods', () => {
    assert.deepEqual(surge(freshAnomalies(frame(undefined, 2), {}, before)), [], 'no CPU signal: wait for the pods to slow');
    assert.deepEqual(surge(freshAnomalies(frame(0.2, 2), {}, before)), [], 'CPU 1.25x per pod: requests that cost nothing');
    assert.deepEqual(surge(freshAnomalies(frame(1.6, 10), {}, before)), [], 'after the scale-out to 10: 3 req/s per pod, less than before the rise');
    assert.deepEqual(surge(freshAnomalies(frame(0.32, 2), {}, { ...before, available_replicas: undefined })), [], 'no replica count before');
    assert.deepEqual(surge(freshAnomalies(frame(0.32, 2, 14), {}, before)), [], '1.8x is under the 2x ratio');
  });

  it('the reference keeps what the pods served before the rise while it is absorbed (no flag on a partial first interval)', () => {
    const refs = new FreshReferences();
    const at = (t: number, windowed: number, fresh: number, cpu: number): SampleFrame => ({ target: cart, t, values: { request_rate: windowed, latency_p50: 0.0206, cpu, available_replicas: 2, error_ratio: 0 }, fresh: { request_rate: fresh, latency_p50: 0.0206, error_ratio: 0 } });
    for (const [t, w, f, c] of [[5_000, 7.6, 7.5, 0.16], [10_000, 7.6, 7.7, 0.16], [15_000, 8.9, 17.5, 0.19]] as const) {
      const f0 = at(t, w, f, c);
      refs.update('cart', f0, freshAnomalies(f0, {}, refs.get('cart')).length > 0);
    }
    const ref = refs.get('cart');
    assert.deepEqual([ref.request_rate, ref.cpu, ref.available_replicas], [7.6, 0.16, 2], 'the level before the rise, not the partial interval\'s');
    assert.equal(surge(freshAnomalies(at(20_000, 12.7, 30, 0.27), {}, ref)).length, 1, 'the first whole interval: 3.9x per pod, CPU 1.7x');
  });
});

describe('freshAnomalies: a rate window younger than itself is no level before', () => {
  const cart: TargetRef = { kind: 'service', namespace: 'shop', name: 'cart' };
  const surge = (found: ReturnType<typeof freshAnomalies>) => found.filter((a) => a.rule === FRESH_RULES.surge);
  // Prometheus started with the agent (the SLO integration test): rate() over 60 s divides what it saw by the whole window,
  // so the windowed rate and CPU climb from a third of the truth to all of it over the first minute, while the last
  // interval reads all of it. 9.5 req/s on 2 pods at 0.15 cores, the sandbox's 8 % step noise on the intervals.
  const drill = (surgeAtMs?: number) => {
    const refs = new FreshReferences();
    const found: Array<{ t: number; reason: string }> = [];
    for (let t = 5_000; t <= 150_000; t += 5_000) {
      const seen = Math.min(1, (t + 15_000) / 60_000);
      const noise = 1 + 0.08 * Math.sin(t / 7_000);
      const factor = surgeAtMs !== undefined && t > surgeAtMs ? 4 : 1;
      const windowedFactor = surgeAtMs !== undefined && t > surgeAtMs ? 1 + (3 * Math.min(60_000, t - surgeAtMs)) / 60_000 : 1;
      const frame: SampleFrame = {
        target: cart,
        t,
        values: { request_rate: 9.5 * seen * windowedFactor, cpu: 0.15 * seen * windowedFactor, latency_p50: 0.02, error_ratio: 0, available_replicas: 2 },
        fresh: { request_rate: 9.5 * noise * factor, cpu: 0.15 * noise * factor, latency_p50: 0.02, error_ratio: 0 },
      };
      const out = freshAnomalies(frame, {}, refs.get('cart'));
      for (const a of surge(out)) found.push({ t, reason: a.reason });
      refs.update('cart', frame, out.length > 0);
    }
    return found;
  };

  it('no surge while the window fills: the last intervals\' own rate and CPU are the level before', () => {
    assert.deepEqual(drill(), [], 'the windowed rate at half the truth is not "the level just before"');
  });

  it('a surge after the window filled is still flagged in its first whole interval', () => {
    const found = drill(100_000);
    assert.ok(found.length > 0 && found[0].t <= 110_000, `flagged at ${found[0]?.t} (surge from 100 s): ${JSON.stringify(found[0])}`);
    assert.match(found[0].reason, /its pods do the work of it/);
  });
});

describe('FreshReferences: a level known to be steady', () => {
  const pay: TargetRef = { kind: 'service', namespace: 'payments', name: 'payments-api' };
  // bench:heal on a loaded machine (dependency outage, seed 1), payments-api's recorded frames from the agent's first:
  // t, windowed rate, last interval's rate, windowed and fresh p50, fresh error ratio. Its first reading (1.16 req/s) counts
  // from the processes' start, before they served; the next interval was answered late (7.12); then 4.0–4.2 steadily
  const recorded: Array<[number, number, number, number, number, number]> = [
    [5_000, 1.163, 1.163, 0.175, 0.175, 0],
    [10_000, 2.63, 7.12, 0.16, 0.1, 0],
    [15_000, 4.14, 4.84, 0.142, 0.135, 0],
    [20_000, 4.24, 4.38, 0.14, 0.138, 0],
    [25_000, 4.18, 4.02, 0.139, 0.137, 0],
    [30_000, 4.18, 4.2, 0.138, 0.131, 0],
    [35_000, 4.15, 3.98, 0.138, 0.138, 0],
    [40_000, 4.12, 4.01, 0.134, 0.134, 0],
    [45_000, 4.05, 4.01, 0.135, 0.141, 0],
    // the dependency outage: 10 % of its requests fail, the requests as before
    [50_000, 4.04, 3.97, 0.135, 0.141, 0.1],
  ];
  const run = (rows: typeof recorded) => {
    const refs = new FreshReferences();
    return rows.map(([t, windowed, fresh, p50, freshP50, err]) => {
      const f: SampleFrame = { target: pay, t, values: { request_rate: windowed, latency_p50: p50, error_ratio: 0 }, fresh: { request_rate: fresh, latency_p50: freshP50, error_ratio: err } };
      const found = freshAnomalies(f, {}, refs.get('pay'));
      refs.update('pay', f, found.length > 0);
      return { found, ref: refs.get('pay') };
    });
  };

  it('a cold start\'s readings are no level before a rise: the outage is no surge (a surge 3.4x 1.16 req/s before)', () => {
    const out = run(recorded);
    // 0.4 failed requests a second are under the fresh error rule's count: the windowed rules name the outage next
    assert.deepEqual(out.at(-1)!.found.map((a) => a.rule), [], 'no surge');
    assert.equal(out[1].ref.request_rate, undefined, 'no level yet after 1.16 then 2.63');
    assert.equal(out[4].ref.request_rate, 4.18, 'then the steady level');
    assert.ok(out.every((o) => !o.found.some((a) => a.rule === FRESH_RULES.surge)));
  });

  it('a surge from a steady level is still measured against the level before it, held while the pods absorb it', () => {
    // steady at 4 req/s, then × 4 absorbed (median flat) for a minute, then the pods queue
    const steady = recorded.slice(3, 9);
    const rise: typeof recorded = Array.from({ length: 12 }, (_, i) => [50_000 + i * 5_000, 4 + Math.min(12, (i + 1) * 1.5), 16, 0.135, 0.137, 0]);
    const out = run([...steady, ...rise, [110_000, 16, 16.5, 0.14, 0.3, 0]]);
    assert.equal(out.at(-2)!.ref.request_rate, 4.05, 'the level before the rise, held');
    assert.match(out.at(-1)!.found.find((a) => a.rule === FRESH_RULES.surge)?.reason ?? '', /4\.1x its level just before \(4\.05 req\/s\)/);
  });
});

describe('MemoryHeadroom', () => {
  const at = (t: number, memory: number): SampleFrame => ({ target, t, values: { memory } });

  it('warns of a straight climb that reaches the limit within the horizon, before any OOMKill', () => {
    const h = new MemoryHeadroom();
    const limit = 512 * MiB;
    // two pods from 180 MiB, +8.5 MiB/s: the limit is 39 s away at 0 s
    const found: number[] = [];
    for (let t = 0; t <= 20_000; t += 5_000) {
      const a = h.step('svc', at(t, 180 * MiB + 8.5 * MiB * (t / 1000)), limit, 2);
      if (a) {
        found.push(t);
        assert.equal(a.rule, FRESH_RULES.memory);
        assert.match(a.reason, /reaches its limit of 512 MiB in \d+ s/);
      }
    }
    assert.deepEqual(found, [15_000, 20_000], 'from the fourth sample spanning 15 s');
  });

  it('stays quiet on flat memory, a slow climb far from the limit, an unknown limit, or pods coming and going', () => {
    const flat = new MemoryHeadroom();
    const slow = new MemoryHeadroom();
    const unknown = new MemoryHeadroom();
    const rollout = new MemoryHeadroom();
    const out: unknown[] = [];
    for (let t = 0; t <= 60_000; t += 5_000) {
      out.push(flat.step('a', at(t, 180 * MiB + (t % 10_000 ? MiB : 0)), 512 * MiB, 2));
      // +20% in a minute: hours from the limit
      out.push(slow.step('b', at(t, 180 * MiB * (1 + (0.2 * t) / 60_000)), 4096 * MiB, 2));
      out.push(unknown.step('c', at(t, 180 * MiB + 8.5 * MiB * (t / 1000)), undefined, 2));
      // a rollout adds a pod each scrape: the sum climbs, the pod count (and the limit sum) changes with it
      const pods = 2 + Math.floor(t / 5_000);
      out.push(rollout.step('d', at(t, 90 * MiB * pods), 256 * MiB * pods, pods));
    }
    assert.deepEqual(out.filter(Boolean), []);
  });

  it('fits a line: slope per ms and r²', () => {
    const fit = lineFit([{ t: 0, v: 1 }, { t: 1000, v: 3 }, { t: 2000, v: 5 }])!;
    assert.ok(Math.abs(fit.slope - 0.002) < 1e-12);
    assert.ok(Math.abs(fit.r2 - 1) < 1e-12);
    assert.equal(lineFit([{ t: 0, v: 1 }]), undefined);
  });
});
