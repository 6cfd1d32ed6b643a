/**
 * Causes judged on what one interval shows as a whole, not in the order its anomalies came in.
 *
 * bench:heal (41baa54, alone, 2 of 3 seeds): a dependency outage on payments-api opened rooted at its caller checkout,
 * "checkout failing, caller frontend" at 0.75 against payments-api's 0.65, because checkout's anomaly of that interval
 * was judged before payments-api's had come in; the remediator proposed restarting checkout. bench:scale on the real
 * control plane had one such extra incident per failing caller.
 */
import assert from 'node:assert/strict';
import { Correlator } from '../../../src/core/diagnose/correlation';
import type { CorrelationUpdate } from '../../../src/core/diagnose/incidentGrouping';
import { targetKey } from '../../../src/core/model/target';
import { STEP, Scenario, T, finalIncidents, healthy, pod, podsOf, ramp, scaleInventory, shopInventory, svc } from '../../fixtures/correlation/scenario';

const BEFORE = T - 10 * 60_000;
const AFTER = T + 2 * 60_000;
const PAYMENTS = svc('payments', 'payments-api');
const CHECKOUT = svc('shop', 'checkout');
const FRONTEND = svc('shop', 'frontend');

const opened = (updates: ReadonlyArray<CorrelationUpdate>) => [...new Set(updates.filter((u) => u.isNew).map((u) => `${u.diagnosis.kind} on ${targetKey(u.target)}`))];

/** payments-api fails half its calls from one interval to the next; checkout and frontend fail with it, in the same interval. */
function outageSeenInOneInterval(): Scenario {
  const s = new Scenario();
  s.inventory = shopInventory();
  // callers written first: within each interval their anomalies come before the callee's
  s.series(FRONTEND, BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.004 + 0.2 * ramp(t, T - STEP, STEP) }));
  s.series(CHECKOUT, BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.004 + 0.4 * ramp(t, T - STEP, STEP) }));
  s.series(PAYMENTS, BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.004 + 0.5 * ramp(t, T - STEP, STEP) }));
  return s;
}

describe('the anomalies of one interval are judged together', () => {
  it('a callee failing in the same interval as its callers, its anomaly last: ONE dependency outage rooted at the callee, no incident at a caller', () => {
    const updates = outageSeenInOneInterval().run(new Correlator(), { batched: true });
    assert.deepEqual(opened(updates), ['dependency-outage on service:payments/payments-api']);
    const open = finalIncidents(updates);
    assert.equal(open.length, 1);
    assert.deepEqual(open[0].members.map(targetKey).sort(), ['service:payments/payments-api', 'service:shop/checkout', 'service:shop/frontend']);
  });

  it('fed one by one, callers first: the callee\'s anomaly takes the incident from the caller that opened it (its own "dependency outage" ranks under its callee\'s)', () => {
    const updates = outageSeenInOneInterval().run(new Correlator(), { batched: false });
    const open = finalIncidents(updates);
    assert.deepEqual(open.map((u) => `${u.diagnosis.kind} on ${targetKey(u.target)}`), ['dependency-outage on service:payments/payments-api']);
    assert.ok(updates.some((u) => u.absorbed?.length), 'the incident opened at the caller was absorbed');
  });
});

describe('a caller whose errors show an interval before its callees\'', () => {
  it('frontend failing from one interval, checkout and payments-api from the next: ONE dependency outage rooted at payments-api, none opened at checkout', () => {
    // bench:heal's dependency outage beside bench:diagnose (79a7e89, 3 of 3 seeds): frontend's errors showed one scrape
    // before its callees'; in the next interval payments-api's incident opened first, checkout read it as a callee with
    // no cause named yet, and frontend opened "checkout is failing (5xx 13%) and its caller frontend shows errors" at
    // 0.4 beside it; checkout, healthy, was restarted before the next interval folded that incident into payments-api's
    for (const frontendErrors of [0.08, 0.2]) {
      const s = new Scenario();
      s.inventory = shopInventory();
      s.series(FRONTEND, BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.004 + frontendErrors * ramp(t, T - 2 * STEP, STEP) }));
      s.series(CHECKOUT, BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.004 + 0.13 * ramp(t, T - STEP, STEP) }));
      s.series(PAYMENTS, BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.004 + 0.26 * ramp(t, T - STEP, STEP) }));
      const updates = s.run(new Correlator(), { batched: true });
      assert.deepEqual(opened(updates), ['dependency-outage on service:payments/payments-api'], `frontend at ${frontendErrors}`);
      const open = finalIncidents(updates);
      assert.equal(open.length, 1);
      assert.deepEqual(open[0].members.map(targetKey).sort(), ['service:payments/payments-api', 'service:shop/checkout', 'service:shop/frontend']);
    }
  });
});

describe('a caller with an earlier blip still counts as the symptom of its callee\'s outage', () => {
  it('checkout slow for one scrape 60 s before payments-api fails: a dependency outage naming checkout, not "unknown"', () => {
    // the kube-prometheus names test (Istio, one caller), once in a clean-clone run: the incident on payments-api opened as
    // "unknown", its caller's episode having begun before the outage
    const s = new Scenario();
    s.inventory = shopInventory();
    s.series(CHECKOUT, BEFORE, AFTER, (t) => ({ ...healthy(), latency_p95: t === T - 60_000 ? 0.7 : 0.12, error_ratio: 0.004 + 0.3 * ramp(t, T, STEP) }));
    s.series(PAYMENTS, BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.004 + 0.5 * ramp(t, T - STEP, STEP) }));
    const updates = s.run(new Correlator(), { batched: true });
    assert.deepEqual(opened(updates), ['dependency-outage on service:payments/payments-api']);
    const u = finalIncidents(updates)[0];
    assert.deepEqual(u.diagnosis.details?.affected, [CHECKOUT]);
    assert.match(u.diagnosis.summary, /its caller shop\/checkout shows errors since 19:00:05 UTC/);
  });
});

describe('a caller of a crash-looping callee is not its own outage', () => {
  it('svc-0090 fails a minute into svc-0100\'s crash loop, while its pods are briefly ready: it joins the crash loop\'s incident, none rooted at it', () => {
    // bench:scale on the real control plane (1,000 pods, 87b263a): svc-0100's crash loop had its incident; its caller
    // svc-0090 began failing when svc-0100 had no episode at that moment (its pods ready between crashes, no 5xx of its
    // own) and opened "svc-0090 is failing (5xx 56 %) and its callers svc-0080, svc-0083, svc-0089 show errors" at 0.95
    // over the crash loop's 0.85, proposing a restart of a healthy service
    const inv = scaleInventory([['svc-0100'], ['svc-0090', 'svc-0100'], ['svc-0080', 'svc-0090'], ['svc-0083', 'svc-0090'], ['svc-0089', 'svc-0090']]);
    const s = new Scenario();
    s.inventory = inv;
    const root = svc('scale-001', 'svc-0100');
    const pods = podsOf(inv, 'svc-0100');
    for (let dt = -40_000; dt <= 90_000; dt += 10_000) s.fact('pod-restarted', pod('scale-001', pods[((dt / 10_000) % 3 + 3) % 3]), T + dt, 'Container svc-0100 restarted (exit code 1)', { attributes: { reason: 'Error', exitCode: 1 } });
    s.fact('crash-backoff', pod('scale-001', pods[0]), T - 15_000, 'svc-0100 is in CrashLoopBackOff', { reason: 'CrashLoopBackOff' });
    s.series(root, BEFORE, AFTER, (t) => ({ ...healthy(), available_replicas: t >= T - 30_000 && t < T + 10_000 ? 0 : 3 }));
    s.series(svc('scale-001', 'svc-0090'), BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.002 + 0.56 * ramp(t, T + 55_000, STEP) }));
    for (const n of ['svc-0080', 'svc-0083', 'svc-0089']) s.series(svc('scale-001', n), BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.002 + 0.34 * ramp(t, T + 55_000, STEP) }));
    const updates = s.run(new Correlator(), { batched: true });
    const opened = [...new Set(updates.filter((u) => u.isNew).map((u) => `${u.diagnosis.kind} on ${targetKey(u.target)}`))];
    assert.deepEqual(opened, ['crash-loop on service:scale-001/svc-0100']);
    const open = finalIncidents(updates);
    assert.equal(open.length, 1);
    assert.ok(open[0].members.some((m) => m.name === 'svc-0090'), open[0].members.map(targetKey).join(', '));
  });
});

describe('a crash loop whose pods are all down is not renamed its own dependency outage', () => {
  it('payments-api crash-looping, 0 of 3 ready for a minute, its callers checkout and orders failing with it, frontend behind checkout: every report names the crash loop, the outage is an alternative', () => {
    // bench:scale on the real control plane (1312a6c): svc-0100's incident went crash loop → dependency outage ("is down
    // and its callers show errors", 0.9 over 0.85) → crash loop within a minute, and the step proposed changed with it
    const inv = shopInventory();
    const s = new Scenario();
    s.inventory = inv;
    const pods = podsOf(inv, 'payments-api');
    for (let dt = -30_000; dt <= 90_000; dt += 10_000) s.fact('pod-restarted', pod('payments', pods[((dt / 10_000) % pods.length + pods.length) % pods.length]), T + dt, 'Container payments-api restarted (exit code 1)', { attributes: { reason: 'Error', exitCode: 1 } });
    s.fact('crash-backoff', pod('payments', pods[0]), T - 10_000, 'payments-api is in CrashLoopBackOff', { reason: 'CrashLoopBackOff' });
    s.series(PAYMENTS, BEFORE, AFTER, (t) => ({ ...healthy(), available_replicas: t >= T && t < T + 60_000 ? 0 : pods.length }));
    const failing = (t: number) => t >= T + STEP && t < T + 60_000;
    s.series(CHECKOUT, BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: failing(t) ? 0.6 : 0.004 }));
    s.series(svc('shop', 'orders'), BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: failing(t) ? 0.5 : 0.004 }));
    s.series(FRONTEND, BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: failing(t) ? 0.3 : 0.004 }));
    const updates = s.run(new Correlator(), { batched: true });
    const mine = updates.filter((u) => targetKey(u.target) === 'service:payments/payments-api');
    assert.ok(mine.length >= 2, `${mine.length} reports`);
    assert.deepEqual([...new Set(mine.map((u) => u.diagnosis.kind))], ['crash-loop']);
    assert.ok(mine.some((u) => u.diagnosis.alternatives?.some((a) => a.kind === 'dependency-outage')), 'the outage reading is shown as an alternative');
    assert.ok(mine.some((u) => u.members.some((m) => m.name === 'orders')), 'its callers join the crash loop');
  });
});
