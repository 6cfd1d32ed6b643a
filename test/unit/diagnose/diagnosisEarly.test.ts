/**
 * Early, right diagnoses: hand-made cases for each rule that lets the correlator name a cause within a
 * scrape or two of the symptoms (bench:diagnose measures them on the sandbox), and for the guards that
 * keep those rules from firing on healthy services.
 */
import assert from 'node:assert/strict';
import { Correlator } from '../../../src/core/diagnose/correlation';
import type { CorrelationUpdate } from '../../../src/core/diagnose/incidentGrouping';
import type { Anomaly } from '../../../src/core/model/anomaly';
import type { SignalName } from '../../../src/core/model/signal';
import type { TargetRef } from '../../../src/core/model/target';
import { MiB, STEP, Scenario, T, healthy, shopInventory, svc, wobble } from '../../fixtures/correlation/scenario';

const BEFORE = T - 10 * 60_000;

/** One anomaly of the statistical detector on one signal, with the band it was scored against. */
function fused(target: TargetRef, t: number, signal: SignalName, observed: number, expected: number, upper: number): Anomaly {
  return {
    target,
    t,
    detector: 'fusion',
    score: 1,
    isAnomaly: true,
    severity: 'critical',
    contributions: [{ signal, share: 1, observed, band: { lower: 0, expected, upper } }],
    reason: `${signal} ${observed} above its seasonal band`,
  };
}

/** A rule anomaly as the RuleEngine raises it: the observed value, no band. */
function rule(target: TargetRef, t: number, signal: SignalName, observed: number): Anomaly {
  return { target, t, detector: 'rule', score: 0.9, isAnomaly: true, severity: 'warning', contributions: [{ signal, share: 1, observed }], reason: `rule: ${signal} ${observed}`, rule: 'Now' };
}

const opened = (updates: ReadonlyArray<CorrelationUpdate>) => updates.filter((u) => u.isNew);

describe('early diagnosis (correlator + diagnosis rules)', () => {
  it('memory leak: a straight climb past 1.5x its start opens memory-leak before any OOMKill, on one statistical alert', () => {
    const cart = svc('shop', 'cart');
    const s = new Scenario();
    s.inventory = shopInventory();
    // 200 MiB, then +100 MiB every 5 s (the statistical detector alerts once, at the first step, then keeps quiet)
    s.series(cart, BEFORE, T + 60_000, (t) => ({ ...healthy(), memory: (200 + (t > T ? ((t - T) / STEP) * 100 : 0) + wobble(t, 1, 1)) * MiB }), false);
    s.anomaly(fused(cart, T + STEP, 'memory', 300 * MiB, 200 * MiB, 205 * MiB));
    const first = opened(s.run(new Correlator()))[0];
    assert.ok(first, 'an incident opens');
    assert.equal(first.diagnosis.kind, 'memory-leak');
    assert.ok(first.diagnosis.t <= T + 30_000, `opened at +${(first.diagnosis.t - T) / 1000} s, before the OOMKill a leak this fast would cause`);
    assert.ok(first.diagnosis.confidence >= 0.6);
    assert.match(first.diagnosis.summary, /at this rate it adds that much again every \d+ s/);
    assert.ok(!first.diagnosis.evidence.some((e) => e.kind === 'fact'), 'no OOM fact needed');
  });

  it('memory leak: the same climb while a rollout adds pods is not called a leak on one alert', () => {
    const cart = svc('shop', 'cart');
    const s = new Scenario();
    s.inventory = shopInventory();
    s.series(cart, BEFORE, T + 60_000, (t) => ({ ...healthy(), memory: (200 + (t > T ? ((t - T) / STEP) * 100 : 0)) * MiB }), false);
    s.fact('rollout-started', cart, T, 'Rollout of shop/cart started (image shop/cart:1.5.0)');
    s.anomaly(fused(cart, T + STEP, 'memory', 300 * MiB, 200 * MiB, 205 * MiB));
    const leak = opened(s.run(new Correlator())).find((u) => u.diagnosis.kind === 'memory-leak');
    assert.equal(leak, undefined, 'new pods add their memory to the sum: no runaway bonus, nothing opened on one alert');
  });

  it('traffic surge: requests climbing 15%+ a scrape while latency saturates opens traffic-surge before the 2x ratio', () => {
    const fe = svc('shop', 'frontend');
    const s = new Scenario();
    s.inventory = shopInventory();
    // the rate window smooths a 4x surge into a ramp: 100, 110, 145 req/s
    const rate = (t: number) => (t <= T ? 100 : t === T + STEP ? 110 : 145 + (t - T - 2 * STEP) / 200);
    s.series(fe, BEFORE, T + 2 * STEP, (t) => ({ ...healthy(), request_rate: rate(t) + wobble(t, 2, 1), latency_p95: t > T ? 0.6 : 0.12 }), false);
    s.anomaly(fused(fe, T + 2 * STEP, 'latency_p95', 0.6, 0.12, 0.13));
    const first = opened(s.run(new Correlator()))[0];
    assert.ok(first, 'an incident opens on the first alert');
    assert.equal(first.diagnosis.kind, 'traffic-surge');
    assert.equal(first.diagnosis.t, T + 2 * STEP);
    assert.match(first.diagnosis.summary, /requests rose 1\.4\dx above baseline/);
  });

  it('traffic surge: the last interval shows the whole 4x surge, so a caller\'s errors are not blamed on an outage of it', () => {
    const cart = svc('shop', 'cart');
    const fe = svc('shop', 'frontend');
    const s = new Scenario();
    s.inventory = shopInventory();
    // the 30 s window has only begun to climb (20 → 30 req/s) while the last interval reads 80: cart sheds 35% as 503
    s.series(cart, BEFORE, T + STEP, (t) => ({ ...healthy(), request_rate: t <= T ? 20 : 30, error_ratio: t <= T ? 0.003 : 0.06 }), false, (t) => ({ request_rate: t <= T ? 20 : 80, error_ratio: t <= T ? 0.003 : 0.35 }));
    s.series(fe, BEFORE, T + STEP, (t) => ({ ...healthy(), error_ratio: t <= T ? 0.003 : 0.2 }), false);
    s.anomaly(rule(cart, T + STEP, 'error_ratio', 0.35));
    s.anomaly(rule(fe, T + STEP, 'error_ratio', 0.2));
    const updates = s.run(new Correlator());
    const last = updates[updates.length - 1];
    assert.ok(last, 'an incident opens');
    assert.equal(last.diagnosis.kind, 'traffic-surge');
    assert.match(last.diagnosis.summary, /shop\/cart requests rose 4x above baseline/);
  });

  it('traffic surge: the same 1.45x reached slowly (a daily curve) does not open on one latency alert', () => {
    const fe = svc('shop', 'frontend');
    const s = new Scenario();
    s.inventory = shopInventory();
    // +2% a scrape: the morning ramp of a service, not a surge
    s.series(fe, BEFORE, T + 2 * STEP, (t) => ({ ...healthy(), request_rate: 100 * Math.min(1.45, 1.02 ** Math.max(0, (t - (T - 19 * STEP)) / STEP)), latency_p95: 0.2 }), false);
    s.anomaly(fused(fe, T + 2 * STEP, 'latency_p95', 0.2, 0.12, 0.13));
    assert.deepEqual(opened(s.run(new Correlator())), []);
  });

  describe('traffic surge against the seasonal expectation (bench:diagnose fault-free week, seed 11, +48h46m)', () => {
    // checkout on the first weekday after the weekend: the last ten minutes were the weekend's evening and the night
    // (median 6.8 req/s); now the morning peak at 13.8 req/s, the same as every weekday's, with p99 at 407 ms
    const checkout = svc('shop', 'checkout');
    const daily = (t: number) => (t <= T - 5 * 60_000 ? 6.8 : 6.8 + (7 * (t - (T - 5 * 60_000))) / (5 * 60_000));
    const scenario = () => {
      const s = new Scenario();
      s.inventory = shopInventory();
      s.series(checkout, BEFORE, T + STEP, (t) => ({ ...healthy(), request_rate: daily(t), latency_p99: t > T ? 0.407 : 0.3 }), false, (t) => ({ request_rate: t > T ? 13.8 : daily(t) }));
      s.anomaly(fused(checkout, T + STEP, 'latency_p99', 0.407, 0.3, 0.35));
      return s;
    };

    it('a daily peak twice the last minutes\' median, as the seasonal baselines expect it, is no surge', () => {
      const c = new Correlator();
      // the detectors' expectation follows the daily curve: 13 req/s at this hour
      for (let t = BEFORE; t <= T + STEP; t += STEP) c.observeExpected(checkout, t, { request_rate: Math.max(6.8, daily(t) - 0.8), latency_p99: 0.3 });
      const surge = scenario().run(c).find((u) => u.diagnosis.kind === 'traffic-surge');
      assert.equal(surge, undefined, surge?.diagnosis.summary);
    });

    it('without an expectation from the detectors the median stands in, and the same peak reads as a 2x surge', () => {
      const first = opened(scenario().run(new Correlator()))[0];
      assert.equal(first?.diagnosis.kind, 'traffic-surge');
      assert.match(first.diagnosis.summary, /requests rose 2\.0\dx above baseline/);
    });

    it('an expectation below what the service just served (a profile still learning) does not make a surge of it', () => {
      const c = new Correlator();
      // the last ten minutes served 6.8 to 13.8 req/s; a half-learnt profile expects 6 at this hour
      for (let t = BEFORE; t <= T + STEP; t += STEP) c.observeExpected(checkout, t, { request_rate: 6 });
      const s = new Scenario();
      s.inventory = shopInventory();
      s.series(checkout, BEFORE, T + STEP, (t) => ({ ...healthy(), request_rate: 11, latency_p99: t > T ? 0.407 : 0.3 }), false, () => ({ request_rate: 13.8 }));
      s.anomaly(fused(checkout, T + STEP, 'latency_p99', 0.407, 0.3, 0.35));
      const surge = s.run(c).find((u) => u.diagnosis.kind === 'traffic-surge');
      assert.equal(surge, undefined, surge?.diagnosis.summary);
    });

    it('a real 3x surge at that hour is still one', () => {
      const c = new Correlator();
      for (let t = BEFORE; t <= T + STEP; t += STEP) c.observeExpected(checkout, t, { request_rate: 13, latency_p99: 0.3 });
      const s = new Scenario();
      s.inventory = shopInventory();
      s.series(checkout, BEFORE, T + STEP, (t) => ({ ...healthy(), request_rate: t > T ? 20 : 13, latency_p99: t > T ? 0.9 : 0.3 }), false, (t) => ({ request_rate: t > T ? 39 : 13 }));
      s.anomaly(fused(checkout, T + STEP, 'latency_p99', 0.9, 0.3, 0.35));
      const first = opened(s.run(c))[0];
      assert.equal(first?.diagnosis.kind, 'traffic-surge');
      assert.match(first.diagnosis.summary, /requests rose 3x above baseline \(13 req\/s/);
    });
  });

  it('bad feature flag: a flag flip does not explain requests up 3x; the surge ranks first', () => {
    const fe = svc('shop', 'frontend');
    const s = new Scenario();
    s.inventory = shopInventory({ configMaps: { frontend: ['feature-flags'] } });
    s.fact('configmap-changed', { kind: 'service', namespace: 'shop', name: 'frontend' }, T - 60_000, 'ConfigMap shop/feature-flags changed (frontend.dark-mode)', { attributes: { configMap: 'feature-flags', key: 'frontend.dark-mode' } });
    s.series(fe, BEFORE, T + 30_000, (t) => ({ ...healthy(), request_rate: t > T ? 300 : 100, latency_p95: t > T ? 0.9 : 0.12, error_ratio: t > T ? 0.06 : 0.004 }), false);
    for (let t = T + STEP; t <= T + 30_000; t += STEP) s.anomaly(fused(fe, t, 'latency_p95', 0.9, 0.12, 0.13));
    const updates = s.run(new Correlator());
    const last = updates[updates.length - 1];
    assert.equal(last.diagnosis.kind, 'traffic-surge');
    const flag = last.diagnosis.alternatives?.find((a) => a.kind === 'bad-feature-flag');
    assert.ok(flag, 'the flag change is still named as an alternative');
    assert.ok(flag.confidence < last.diagnosis.confidence);
  });

  it('dependency outage: a callee answering 98% with a caller alerting is not an outage opened at once', () => {
    const checkout = svc('shop', 'checkout');
    const fe = svc('shop', 'frontend');
    const s = new Scenario();
    s.inventory = shopInventory();
    s.series(checkout, BEFORE, T + STEP, (t) => ({ ...healthy(), error_ratio: t >= T ? 0.021 : 0 }), false);
    s.series(fe, BEFORE, T + STEP, (t) => ({ ...healthy(), error_ratio: t >= T ? 0.01 : 0.004 }), false);
    s.anomaly(fused(checkout, T, 'error_ratio', 0.021, 0, 0.001));
    s.anomaly(fused(fe, T, 'error_ratio', 0.01, 0.004, 0.005));
    assert.deepEqual(opened(s.run(new Correlator())).map((u) => u.diagnosis.kind), []);
  });

  it('dependency outage: a callee failing a third of its calls with a caller alerting opens at once', () => {
    const checkout = svc('shop', 'checkout');
    const fe = svc('shop', 'frontend');
    const s = new Scenario();
    s.inventory = shopInventory();
    s.series(checkout, BEFORE, T, (t) => ({ ...healthy(), error_ratio: t >= T ? 0.34 : 0 }), false);
    s.series(fe, BEFORE, T, (t) => ({ ...healthy(), error_ratio: t >= T ? 0.18 : 0.004 }), false);
    s.anomaly(rule(checkout, T, 'error_ratio', 0.34));
    s.anomaly(rule(fe, T, 'error_ratio', 0.18));
    const first = opened(s.run(new Correlator()))[0];
    assert.equal(first?.diagnosis.kind, 'dependency-outage');
    assert.deepEqual(first.target, checkout);
  });

  it('an unnamed cause waits one settle longer than a named one: a caller arriving a scrape later names it', () => {
    const pay = svc('payments', 'payments-api');
    const checkout = svc('shop', 'checkout');
    const s = new Scenario();
    s.inventory = shopInventory();
    s.series(pay, BEFORE, T + 2 * STEP, (t) => ({ ...healthy(), error_ratio: t >= T ? 0.3 : 0 }), false);
    s.series(checkout, BEFORE, T + 2 * STEP, (t) => ({ ...healthy(), error_ratio: t >= T + STEP ? 0.15 : 0.004 }), false);
    s.anomaly(rule(pay, T, 'error_ratio', 0.16));
    s.anomaly(rule(pay, T + STEP, 'error_ratio', 0.3));
    s.anomaly(rule(checkout, T + STEP, 'error_ratio', 0.15));
    const first = opened(s.run(new Correlator()))[0];
    assert.equal(first?.diagnosis.kind, 'dependency-outage', 'never reported as unknown first');
    assert.equal(first.diagnosis.t, T + STEP);
  });

  it('an unnamed cause alone still opens, after two settle periods', () => {
    const search = svc('shop', 'search');
    const s = new Scenario();
    s.inventory = shopInventory();
    s.series(search, BEFORE, T + 3 * STEP, (t) => ({ ...healthy(), cpu: t >= T ? 0.9 : 0.4 }), false);
    for (let k = 0; k <= 3; k++) s.anomaly(rule(search, T + k * STEP, 'cpu', 0.9));
    const first = opened(s.run(new Correlator()))[0];
    assert.equal(first?.diagnosis.kind, 'unknown');
    assert.equal(first.diagnosis.t, T + 2 * STEP);
  });

  it('latency still twice its usual level after the one statistical alert keeps the symptom going: latency-spike opens', () => {
    const cart = svc('shop', 'cart');
    const s = new Scenario();
    s.inventory = shopInventory();
    s.series(cart, BEFORE, T + 2 * STEP, (t) => ({ ...healthy(), latency_p95: t >= T ? 0.6 : 0.12 }), false);
    s.anomaly(fused(cart, T, 'latency_p95', 0.6, 0.12, 0.13));
    const first = opened(s.run(new Correlator()))[0];
    assert.equal(first?.diagnosis.kind, 'latency-spike');
    assert.equal(first.diagnosis.t, T + STEP, 'the next frame, still 5x, confirms it');
  });

  it('latency back within 2x after the alert, or a jumpy p99, does not keep a symptom going', () => {
    const cart = svc('shop', 'cart');
    const s = new Scenario();
    s.inventory = shopInventory();
    s.series(cart, BEFORE, T + 6 * STEP, (t) => ({ ...healthy(), latency_p95: t === T ? 0.6 : t > T ? 0.2 : 0.12, latency_p99: t >= T ? 1.2 : 0.2 }), false);
    s.anomaly(fused(cart, T, 'latency_p95', 0.6, 0.12, 0.13));
    s.anomaly(fused(svc('shop', 'search'), T, 'latency_p99', 1.2, 0.2, 0.25));
    s.series(svc('shop', 'search'), BEFORE, T + 6 * STEP, (t) => ({ ...healthy(), latency_p99: t >= T ? 1.2 : 0.2 }), false);
    assert.deepEqual(opened(s.run(new Correlator())), []);
  });
});

describe('grouping a named callee incident with its callers', () => {
  it('callers of a crash-looping callee stay in its incident while its pods flicker back to ready', () => {
    const cart = svc('shop', 'cart');
    const fe = svc('shop', 'frontend');
    const s = new Scenario();
    const inv = shopInventory();
    s.inventory = inv;
    const pods = inv.services.find((x) => x.target.name === 'cart')!.pods.map((p) => p.name);
    for (let k = 0; k < 4; k++) s.fact('pod-restarted', { kind: 'pod', namespace: 'shop', name: pods[k % 2] }, T + k * 2_000, 'Container cart restarted', { attributes: { restarts: k + 1 } });
    s.fact('crash-backoff', { kind: 'pod', namespace: 'shop', name: pods[0] }, T + 6_000, 'Container cart is in CrashLoopBackOff', { reason: 'CrashLoopBackOff' });
    // cart's pods are ready again between crashes: it is never "down" by its available replicas
    s.series(cart, BEFORE, T + 60_000, () => ({ ...healthy(), available_replicas: 3 }), false);
    s.series(fe, BEFORE, T + 60_000, (t) => ({ ...healthy(), error_ratio: t >= T + 10_000 ? 0.3 : 0.004 }), false);
    for (let t = T + 10_000; t <= T + 60_000; t += STEP) s.anomaly(rule(fe, t, 'error_ratio', 0.3));
    const updates = s.run(new Correlator());
    assert.deepEqual(opened(updates).map((u) => `${u.diagnosis.kind}@${u.target.name}`), ['crash-loop@cart'], 'one incident, not one per symptomatic service');
    const last = updates[updates.length - 1];
    assert.deepEqual(last.members.map((m) => m.name).sort(), ['cart', 'frontend']);
  });

  it("a caller whose errors began well before its callee's incident is not pulled into it", () => {
    const cart = svc('shop', 'cart');
    const fe = svc('shop', 'frontend');
    const s = new Scenario();
    const inv = shopInventory();
    s.inventory = inv;
    const pods = inv.services.find((x) => x.target.name === 'cart')!.pods.map((p) => p.name);
    s.series(fe, BEFORE, T + 60_000, (t) => ({ ...healthy(), error_ratio: t >= T - 120_000 ? 0.3 : 0.004 }), false);
    for (let t = T - 120_000; t <= T + 60_000; t += STEP) s.anomaly(rule(fe, t, 'error_ratio', 0.3));
    s.series(cart, BEFORE, T + 60_000, () => ({ ...healthy(), available_replicas: 3 }), false);
    for (let k = 0; k < 4; k++) s.fact('pod-restarted', { kind: 'pod', namespace: 'shop', name: pods[k % 2] }, T + k * 2_000, 'Container cart restarted', { attributes: { restarts: k + 1 } });
    s.fact('crash-backoff', { kind: 'pod', namespace: 'shop', name: pods[0] }, T + 6_000, 'Container cart is in CrashLoopBackOff', { reason: 'CrashLoopBackOff' });
    const final = new Map(s.run(new Correlator()).map((u) => [u.incidentKey, u]));
    const cartInc = [...final.values()].find((u) => u.target.name === 'cart');
    assert.ok(cartInc, 'the crash loop is its own incident');
    assert.ok(!cartInc.members.some((m) => m.name === 'frontend'), 'frontend had its trouble before cart did');
  });
});
