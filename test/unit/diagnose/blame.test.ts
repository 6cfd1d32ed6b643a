import assert from 'node:assert/strict';
import { Correlator } from '../../../src/core/diagnose/correlation';
import { newPodsAgainstOld } from '../../../src/core/diagnose/diagnosisRules';
import type { CorrelationUpdate } from '../../../src/core/diagnose/incidentGrouping';
import { targetKey, type TargetRef } from '../../../src/core/model/target';
import { Scenario, T, evidenceNames, finalIncidents, healthy, pod, podsOf, ramp, shopInventory, svc, wobble } from '../../fixtures/correlation/scenario';

/**
 * The rules of blame (diagnosisRules.judgeChange): a change (release, configmap) is the cause only if its own
 * workload got worse after it and its dependencies stayed healthy over the same time, or its new pods are worse
 * than a failing dependency explains. Otherwise the change is "coincident, not blamed", said in the evidence.
 */
const BEFORE = T - 10 * 60_000;
const AFTER = T + 3 * 60_000;
const release = (s: Scenario, target: TargetRef, t: number, revision = 5) =>
  s.fact('revision-changed', target, t, `deployment ${target.namespace}/${target.name} revision ${revision - 1} → ${revision}`, {
    attributes: { revision, previousRevision: revision - 1, image: `${target.namespace}/${target.name}:9.9.${revision}` },
  });
const describe1 = (us: ReadonlyArray<CorrelationUpdate>) => us.map((u) => `${u.diagnosis.kind} on ${targetKey(u.target)} [${u.members.map((m) => m.name).join(',')}]: ${u.diagnosis.summary}`).join('\n');

describe('rules of blame', () => {
  // The first drill, on two caller/callee pairs: the callee fails, its caller's 5xx follow, and a
  // healthy release of the caller rolls out meanwhile.
  for (const [caller, callee] of [
    [svc('shop', 'checkout'), svc('payments', 'payments-api')],
    [svc('shop', 'frontend'), svc('shop', 'cart')],
  ] as const) {
    it(`dependency failing over the same time: a healthy release of ${caller.name} during ${callee.name}'s outage is coincident, not blamed`, () => {
      const s = new Scenario();
      s.inventory = shopInventory();
      s.series(callee, BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.004 + 0.6 * ramp(t, T, 15_000) }));
      // the caller fails 60% of the callee's share (its calls to it), nothing of its own, before and after its release
      s.series(caller, BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.004 + wobble(t, 2, 0.001) + 0.36 * ramp(t, T + 5_000, 20_000) }));
      release(s, caller, T + 15_000);
      const updates = s.run(new Correlator());
      const open = finalIncidents(updates);
      assert.equal(open.length, 1, describe1(open));
      assert.equal(open[0].diagnosis.kind, 'dependency-outage', describe1(open));
      assert.deepEqual(open[0].target, callee);
      assert.ok(open[0].members.some((m) => targetKey(m) === targetKey(caller)), 'the caller joins the incident of the callee that explains it');
      assert.ok(!updates.some((u) => u.diagnosis.kind === 'bad-release'), `never a bad release:\n${describe1(updates)}`);
      const coincident = open[0].diagnosis.evidence.find((e) => e.kind === 'coincident-change');
      assert.ok(coincident && coincident.kind === 'coincident-change', evidenceNames(open[0]).join());
      assert.equal(targetKey(coincident.fact.target), targetKey(caller));
      assert.match(coincident.note, new RegExp(`^coincident, not blamed: ${caller.namespace}/${caller.name}'s dependency ${callee.namespace}/${callee.name} was failing over the same time$`));
      // the competing explanation is ranked, below the cause
      const alt = open[0].diagnosis.alternatives?.find((a) => a.kind === 'bad-release');
      assert.ok(alt && alt.confidence < open[0].diagnosis.confidence, JSON.stringify(open[0].diagnosis.alternatives));
    });
  }

  it('own behaviour not worse after the change: a release into symptoms already there is coincident, not blamed', () => {
    const s = new Scenario();
    s.inventory = shopInventory();
    // search (no dependencies) errs from T at a steady 20%; a release 20 s later changes nothing
    s.series(svc('shop', 'search'), BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.004 + 0.2 * ramp(t, T, 10_000) }));
    release(s, svc('shop', 'search'), T + 20_000);
    const updates = s.run(new Correlator());
    const open = finalIncidents(updates);
    assert.equal(open.length, 1, describe1(open));
    assert.notEqual(open[0].diagnosis.kind, 'bad-release', describe1(updates));
    const alt = open[0].diagnosis.alternatives?.find((a) => a.kind === 'bad-release');
    assert.ok(alt && alt.confidence <= 0.2, `the release stays a low-ranked alternative: ${JSON.stringify(open[0].diagnosis.alternatives)}`);
  });

  it('worse after the change and dependencies healthy: the release is blamed', () => {
    const s = new Scenario();
    s.inventory = shopInventory();
    s.series(svc('payments', 'payments-api'), BEFORE, AFTER, () => healthy());
    s.series(svc('shop', 'checkout'), BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.004 + 0.2 * ramp(t, T + 20_000, 20_000) }));
    release(s, svc('shop', 'checkout'), T);
    const open = finalIncidents(s.run(new Correlator()));
    assert.equal(open.length, 1, describe1(open));
    assert.equal(open[0].diagnosis.kind, 'bad-release');
    assert.ok(open[0].diagnosis.confidence >= 0.7, String(open[0].diagnosis.confidence));
    assert.ok(evidenceNames(open[0]).includes('fact:revision-changed'));
    assert.ok(!evidenceNames(open[0]).some((n) => n.startsWith('coincident')));
  });

  it('new pods worse than a failing dependency explains (they crash): the release is blamed although the callee fails too', () => {
    const inv = shopInventory();
    const s = new Scenario();
    s.inventory = inv;
    s.series(svc('payments', 'payments-api'), BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.004 + 0.5 * ramp(t, T, 15_000) }));
    s.series(svc('shop', 'checkout'), BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.004 + 0.3 * ramp(t, T + 5_000, 20_000), available_replicas: t < T + 30_000 ? 3 : 2 }));
    release(s, svc('shop', 'checkout'), T + 10_000);
    const newPod = 'checkout-5c4b3a291-n3w01';
    for (const [i, dt] of [25_000, 40_000, 60_000, 90_000].entries()) s.fact('pod-restarted', pod('shop', newPod), T + dt, 'Container checkout restarted (exit code 1)', { attributes: { restarts: i + 1 } });
    s.fact('crash-backoff', pod('shop', newPod), T + 45_000, 'checkout is in CrashLoopBackOff', { reason: 'CrashLoopBackOff' });
    const open = finalIncidents(s.run(new Correlator()));
    const onCheckout = open.find((u) => targetKey(u.target) === targetKey(svc('shop', 'checkout')));
    assert.ok(onCheckout, describe1(open));
    assert.equal(onCheckout.diagnosis.kind, 'bad-release', describe1(open));
    // the callee's own outage is a concurrent incident of its own
    const onPayments = open.find((u) => targetKey(u.target) === targetKey(svc('payments', 'payments-api')));
    assert.ok(onPayments, `the payments outage has its own incident:\n${describe1(open)}`);
    assert.ok(!onPayments.members.some((m) => m.name === 'checkout'), 'checkout is explained by its own release');
  });

  it('fails a larger share than its failing dependency could make it fail: the release is blamed', () => {
    const s = new Scenario();
    s.inventory = shopInventory();
    s.series(svc('payments', 'payments-api'), BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.004 + 0.1 * ramp(t, T, 20_000) }));
    s.series(svc('shop', 'orders'), BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.004 + 0.4 * ramp(t, T, 20_000) }));
    release(s, svc('shop', 'orders'), T - 30_000, 7);
    const open = finalIncidents(s.run(new Correlator()));
    const onOrders = open.find((u) => u.members.some((m) => m.name === 'orders'));
    assert.equal(onOrders?.diagnosis.kind, 'bad-release', describe1(open));
    assert.deepEqual(onOrders.target, svc('shop', 'orders'));
  });

  it('a crash loop right after a change of a configmap the pods read is that change: bad-feature-flag with the value to restore', () => {
    const inv = shopInventory({ configMaps: { cart: ['cart-config'] } });
    const s = new Scenario();
    s.inventory = inv;
    s.fact('configmap-changed', svc('shop', 'cart'), T, 'ConfigMap shop/cart-config changed (cart.max-connections)', {
      attributes: { configMap: 'cart-config', key: 'cart.max-connections', previousValue: '64', value: '-1' },
    });
    const pods = podsOf(inv, 'cart');
    for (const [i, dt] of [8_000, 20_000, 35_000, 55_000].entries()) s.fact('pod-restarted', pod('shop', pods[i % 3]), T + dt, 'Container cart restarted (exit code 78)', { attributes: { reason: 'Error', exitCode: 78 } });
    s.fact('crash-backoff', pod('shop', pods[0]), T + 30_000, 'cart is in CrashLoopBackOff', { reason: 'CrashLoopBackOff' });
    s.series(svc('shop', 'cart'), BEFORE, AFTER, (t) => ({ ...healthy(), available_replicas: t < T + 10_000 ? 3 : t < T + 40_000 ? 2 : 1, restarts: t < T + 8_000 ? 0 : Math.min(4, (t - T) / 15_000) }));
    const open = finalIncidents(s.run(new Correlator()));
    assert.equal(open.length, 1, describe1(open));
    assert.equal(open[0].diagnosis.kind, 'bad-feature-flag', describe1(open));
    assert.deepEqual(open[0].diagnosis.details?.flag, { namespace: 'shop', configMap: 'cart-config', key: 'cart.max-connections', previousValue: '64' });
    assert.equal(open[0].diagnosis.alternatives?.[0]?.kind, 'crash-loop');
  });

  it('a revert of a bad config value is never blamed: crashes that go on for a moment after it stay the bad value\'s', () => {
    const inv = shopInventory({ configMaps: { cart: ['cart-config'] } });
    const s = new Scenario();
    s.inventory = inv;
    const change = (t: number, previousValue: string, value: string) =>
      s.fact('configmap-changed', svc('shop', 'cart'), t, 'ConfigMap shop/cart-config changed (cart.max-connections)', { attributes: { configMap: 'cart-config', key: 'cart.max-connections', previousValue, value } });
    change(T, '64', '-1');
    change(T + 20_000, '-1', '64'); // the fix
    const pods = podsOf(inv, 'cart');
    for (const [i, dt] of [5_000, 12_000, 22_000, 26_000].entries()) s.fact('pod-restarted', pod('shop', pods[i % 3]), T + dt, 'Container cart restarted (exit code 78)', { attributes: { reason: 'Error', exitCode: 78 } });
    s.fact('crash-backoff', pod('shop', pods[0]), T + 24_000, 'cart is in CrashLoopBackOff', { reason: 'CrashLoopBackOff' });
    s.series(svc('shop', 'cart'), BEFORE, AFTER, (t) => ({ ...healthy(), available_replicas: t < T + 5_000 || t > T + 40_000 ? 3 : 1 }));
    const updates = s.run(new Correlator());
    const flags = updates.filter((u) => u.diagnosis.kind === 'bad-feature-flag');
    assert.ok(flags.length > 0, describe1(updates));
    for (const u of flags) assert.equal(u.diagnosis.details?.flag?.previousValue, '64', `only the bad value is put back: ${u.diagnosis.summary}`);
  });

  it('a flag change while the dependency fails is coincident, not blamed: the outage is the incident', () => {
    const s = new Scenario();
    s.inventory = shopInventory({ configMaps: { checkout: ['checkout-flags'] } });
    s.series(svc('payments', 'payments-api'), BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.004 + 0.6 * ramp(t, T, 15_000) }));
    s.series(svc('shop', 'checkout'), BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.004 + 0.36 * ramp(t, T + 5_000, 20_000) }));
    s.fact('configmap-changed', svc('shop', 'checkout-flags'), T + 10_000, 'configmap shop/checkout-flags changed key new-pricing', {
      attributes: { configMap: 'checkout-flags', key: 'new-pricing', previousValue: 'false', value: 'true' },
    });
    const updates = s.run(new Correlator());
    const open = finalIncidents(updates);
    assert.equal(open.length, 1, describe1(open));
    assert.equal(open[0].diagnosis.kind, 'dependency-outage', describe1(updates));
    assert.ok(!updates.some((u) => u.diagnosis.kind === 'bad-feature-flag'), describe1(updates));
  });

  /**
   * A rolling update of frontend at `at`: one new pod every 15 s replaces an old one (3 replicas), each pod serving 50
   * requests an interval; old pods fail `oldShare(t)`, new ones `newShare(t)`.
   */
  const rollingPods = (at: number, oldShare: (t: number) => number, newShare: (t: number) => number) => (t: number) => {
    const replaced = t < at ? 0 : Math.min(3, 1 + Math.floor((t - at) / 15_000));
    return [0, 1, 2].map((k) => {
      const fresh = k < replaced;
      const share = fresh ? newShare(t) : oldShare(t);
      return { pod: fresh ? `frontend-6f5e4d3c2-n${k}` : `frontend-7d9f8c6b5-o${k}`, since: fresh ? at + 2_000 + k * 15_000 : T - 3_600_000, requests: 50, errors: Math.round(50 * share) };
    });
  };

  it('concurrent causes: a bad release of frontend during checkout\'s crash loop is judged on its own pods (new fail more than old beside them) — two incidents', () => {
    const inv = shopInventory();
    const s = new Scenario();
    s.inventory = inv;
    // checkout crash-loops from T: 60 % of its requests fail, its pods restart
    s.series(svc('shop', 'checkout'), BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.004 + 0.6 * ramp(t, T, 15_000), available_replicas: t < T + 10_000 ? 3 : 1 }));
    const pods = podsOf(inv, 'checkout');
    for (const [i, dt] of [6_000, 18_000, 30_000, 45_000].entries()) s.fact('pod-restarted', pod('shop', pods[i % 3]), T + dt, 'Container checkout restarted (exit code 1)', { attributes: { restarts: i + 1 } });
    s.fact('crash-backoff', pod('shop', pods[0]), T + 25_000, 'checkout is in CrashLoopBackOff', { reason: 'CrashLoopBackOff' });
    for (const c of ['cart', 'search']) s.series(svc('shop', c), BEFORE, AFTER, () => healthy());
    // frontend: 60 % of checkout's share from its calls (0.36) on every pod, and 25 % more on the new revision's pods
    const fromCallee = (t: number) => 0.36 * ramp(t, T + 3_000, 15_000);
    const newPods = (t: number) => fromCallee(t) + 0.25;
    const pf = rollingPods(T + 5_000, fromCallee, newPods);
    s.series(
      svc('shop', 'frontend'),
      BEFORE,
      AFTER,
      (t) => {
        const ps = pf(t);
        return { ...healthy(), error_ratio: 0.004 + ps.reduce((a, p) => a + p.errors, 0) / ps.reduce((a, p) => a + p.requests, 0) };
      },
      true,
      undefined,
      pf,
    );
    release(s, svc('shop', 'frontend'), T + 5_000);
    const updates = s.run(new Correlator());
    const open = finalIncidents(updates);
    const onFrontend = open.find((u) => targetKey(u.target) === targetKey(svc('shop', 'frontend')));
    assert.equal(onFrontend?.diagnosis.kind, 'bad-release', describe1(open));
    assert.match(onFrontend.diagnosis.summary, /shop\/frontend/);
    assert.ok(evidenceNames(onFrontend).includes('fact:revision-changed'), evidenceNames(onFrontend).join());
    const onCheckout = open.find((u) => targetKey(u.target) === targetKey(svc('shop', 'checkout')));
    assert.ok(onCheckout && onCheckout.diagnosis.kind === 'crash-loop', `checkout's crash loop is an incident of its own:\n${describe1(open)}`);
    assert.ok(!onCheckout.members.some((m) => m.name === 'frontend'), 'frontend is explained by its own release, not the callee');
  });

  it('the rule alone: new pods failing more than old ones beside them blame the release although a callee fails more than it does', () => {
    const frames = [0, 1, 2, 3].map((k) => ({
      target: svc('shop', 'frontend'),
      t: T + 10_000 + k * 5_000,
      values: {},
      freshPods: [
        { pod: 'frontend-old-a', since: T - 60_000, requests: 50, errors: 18 },
        { pod: 'frontend-new-a', since: T + 2_000, requests: 50, errors: 31 },
      ],
    }));
    assert.deepEqual(newPodsAgainstOld(frames, T, T + 60_000), { newer: 0.62, older: 0.36, intervals: 4 });
    // before the change, pods that started later than it, too few requests: nothing to compare
    assert.equal(newPodsAgainstOld(frames, T + 30_000, T + 60_000), undefined);
    assert.equal(newPodsAgainstOld(frames.slice(0, 1).map((f) => ({ ...f, freshPods: f.freshPods.map((p) => ({ ...p, requests: 10 })) })), T, T + 60_000), undefined);
  });

  it('a healthy release whose caller fails more than any one failing callee (all three it calls fail): its new pods fail no more than its old ones, so it is coincident, not blamed', () => {
    const inv = shopInventory();
    const s = new Scenario();
    s.inventory = inv;
    // checkout, cart and search each fail 30 %; frontend calls all three and fails 60 % of each share on every pod,
    // 54 % in all: more than 1.2 × 30 % + 5 points, which the share rule alone took for the release's own doing
    for (const c of ['checkout', 'cart', 'search']) s.series(svc('shop', c), BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.004 + 0.3 * ramp(t, T, 15_000) }));
    const share = (t: number) => 0.54 * ramp(t, T + 3_000, 15_000);
    const pf = rollingPods(T + 10_000, share, share);
    s.series(svc('shop', 'frontend'), BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.004 + share(t) }), true, undefined, pf);
    release(s, svc('shop', 'frontend'), T + 10_000);
    const updates = s.run(new Correlator());
    assert.ok(!updates.some((u) => u.diagnosis.kind === 'bad-release' && targetKey(u.target) === targetKey(svc('shop', 'frontend'))), describe1(updates));
    const open = finalIncidents(updates);
    const withFrontend = open.find((u) => u.members.some((m) => m.name === 'frontend'));
    assert.ok(withFrontend && withFrontend.diagnosis.kind === 'dependency-outage', describe1(open));
    const coincident = withFrontend.diagnosis.evidence.find((e) => e.kind === 'coincident-change');
    assert.ok(coincident && coincident.kind === 'coincident-change', describe1(open));
    assert.match(coincident.note, /^coincident, not blamed: shop\/frontend's /);
  });

  it('a healthy release while a dependency the graph does not know fails: new pods no worse than old ones clear it, though its known dependencies are healthy', () => {
    const inv = shopInventory();
    const s = new Scenario();
    s.inventory = inv;
    // search (no declared dependencies) fails more and more of its requests on every pod from T, up to 30 % at T + 40 s;
    // a release rolls out at T + 10 s, so its errors rise after the release, which time alone took for the release's doing
    const share = (t: number) => 0.3 * ramp(t, T, 40_000);
    const pf = (t: number) => rollingPods(T + 10_000, share, share)(t).map((p) => ({ ...p, pod: p.pod.replace('frontend', 'search') }));
    s.series(svc('shop', 'search'), BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.004 + share(t) }), true, undefined, pf);
    release(s, svc('shop', 'search'), T + 10_000);
    const updates = s.run(new Correlator());
    const open = finalIncidents(updates);
    assert.equal(open.length, 1, describe1(open));
    assert.notEqual(open[0].diagnosis.kind, 'bad-release', describe1(updates));
    const alt = open[0].diagnosis.alternatives?.find((a) => a.kind === 'bad-release');
    assert.ok(alt && alt.confidence <= 0.2, JSON.stringify(open[0].diagnosis.alternatives));
  });

  it('concurrent unrelated causes: two incidents, each with its own cause', () => {
    const inv = shopInventory();
    const s = new Scenario();
    s.inventory = inv;
    s.series(svc('shop', 'search'), BEFORE, AFTER, (t) => ({ ...healthy(), latency_p95: 0.12 + 0.8 * ramp(t, T, 20_000), latency_p99: 0.2 + 1.2 * ramp(t, T, 20_000) }));
    s.series(svc('shop', 'orders'), BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.004 + 0.2 * ramp(t, T + 20_000, 20_000) }));
    s.series(svc('payments', 'payments-api'), BEFORE, AFTER, () => healthy());
    release(s, svc('shop', 'orders'), T + 5_000);
    const open = finalIncidents(s.run(new Correlator()));
    const kinds = open.map((u) => `${u.diagnosis.kind}@${u.target.name}`).sort();
    assert.deepEqual(kinds, ['bad-release@orders', 'latency-spike@search'], describe1(open));
  });
});
