import assert from 'node:assert/strict';
import { Correlator } from '../../../src/core/diagnose/correlation';
import { DEFAULT_CORRELATION_CONFIG, resolveCorrelationConfig } from '../../../src/core/diagnose/correlationConfig';
import type { CorrelationUpdate } from '../../../src/core/diagnose/incidentGrouping';
import type { Anomaly } from '../../../src/core/model/anomaly';
import type { SignalName } from '../../../src/core/model/signal';
import type { TargetRef } from '../../../src/core/model/target';
import { STEP, Scenario, T, finalIncidents, healthy, node, pod, podsOf, ramp, shopInventory, svc } from '../../fixtures/correlation/scenario';

const BEFORE = T - 5 * 60_000;
const AFTER = T + 2 * 60_000;

function anomaly(target: TargetRef, t: number, signals: Partial<Record<SignalName, number>>, score = 0.8): Anomaly {
  return {
    target,
    t,
    detector: 'fusion',
    score,
    isAnomaly: true,
    severity: 'warning',
    contributions: Object.entries(signals).map(([signal, share]) => ({ signal: signal as SignalName, share: share! })),
    reason: 'test',
  };
}

function feedAll(_c: Correlator, items: ReadonlyArray<() => CorrelationUpdate[]>): CorrelationUpdate[] {
  return items.flatMap((f) => f());
}

describe('Correlator', () => {
  it('upgrades "unknown" to "memory leak" when OOMKilled arrives, keeping the incident key', () => {
    const inv = shopInventory();
    const c = new Correlator();
    c.setInventory(inv);
    const cart = svc('shop', 'cart');
    const steps: Array<() => CorrelationUpdate[]> = [];
    for (let t = T; t <= T + 30_000; t += STEP) steps.push(() => c.observeAnomaly(anomaly(cart, t, { cpu: 0.6, log_errors: 0.4 })));
    steps.push(() => c.observeFact({ kind: 'oom-killed', target: pod('shop', podsOf(inv, 'cart')[1]), t: T + 32_000, message: 'Container cart OOMKilled', reason: 'OOMKilled' }));
    steps.push(() => c.observeAnomaly(anomaly(cart, T + 35_000, { memory: 0.7, cpu: 0.3 })));
    const updates = feedAll(c, steps);
    assert.ok(updates.length >= 2);
    assert.equal(updates[0].diagnosis.kind, 'unknown');
    assert.equal(updates[0].isNew, true);
    const last = updates[updates.length - 1];
    assert.equal(last.diagnosis.kind, 'memory-leak');
    assert.equal(last.isNew, false);
    assert.equal(new Set(updates.map((u) => u.incidentKey)).size, 1);
    assert.ok(last.diagnosis.alternatives?.some((a) => a.kind === 'unknown'));
    assert.equal(updates.filter((u) => u.isNew).length, 1);
  });

  it('later anomalies of the same service, its pods or other signals attach to the open incident', () => {
    const inv = shopInventory();
    const c = new Correlator();
    c.setInventory(inv);
    const checkout = svc('shop', 'checkout');
    const first = feedAll(c, [0, 5_000, 10_000, 15_000].map((dt) => () => c.observeAnomaly(anomaly(checkout, T + dt, { error_ratio: 1 }))));
    assert.equal(first.length >= 1, true);
    const key = first[0].incidentKey;
    const later = feedAll(c, [
      () => c.observeAnomaly(anomaly(checkout, T + 20_000, { latency_p99: 1 })),
      () => c.observeAnomaly(anomaly(pod('shop', podsOf(inv, 'checkout')[2]), T + 25_000, { error_ratio: 0.5, cpu: 0.5 })),
      () => c.observeAnomaly(anomaly(checkout, T + 60_000, { error_ratio: 1 }, 0.95)),
    ]);
    for (const u of later) assert.equal(u.incidentKey, key);
    assert.deepEqual(c.openIncidents().map((u) => u.incidentKey), [key]);
    assert.deepEqual(c.openIncidents()[0].members, [checkout]);
  });

  it('callers that alarmed before their dependency are folded into ONE incident under the oldest key', () => {
    const s = new Scenario();
    s.inventory = shopInventory();
    // Callers see timeouts first; the callee's own error ratio crosses its threshold 20 s later.
    for (const name of ['checkout', 'orders']) s.series(svc('shop', name), BEFORE, AFTER, (t) => ({ ...healthy(), latency_p99: 0.2 + 2 * ramp(t, T, 10_000), error_ratio: 0.004 + 0.1 * ramp(t, T + 10_000, 20_000) }));
    s.series(svc('payments', 'payments-api'), BEFORE, AFTER, (t) => ({ ...healthy(), available_replicas: t < T + 30_000 ? 3 : 0, error_ratio: 0.004 }));
    const updates = s.run(new Correlator());
    const opened = updates.filter((u) => u.isNew).map((u) => u.incidentKey);
    assert.ok(opened.length >= 2, `callers opened their own incidents first: ${opened.join()}`);
    const open = finalIncidents(updates);
    assert.equal(open.length, 1, open.map((u) => u.incidentKey).join());
    const u = open[0];
    assert.equal(u.diagnosis.kind, 'dependency-outage');
    assert.deepEqual(u.target, svc('payments', 'payments-api'));
    assert.match(u.diagnosis.summary, /^payments\/payments-api is down and its callers shop\/checkout, shop\/orders show errors since/);
    assert.equal(u.incidentKey, opened[0], 'the first reported key survives');
    const absorbed = updates.flatMap((x) => x.absorbed ?? []);
    assert.deepEqual([...new Set(absorbed)].sort(), opened.filter((k) => k !== u.incidentKey).sort());
  });

  it('same inputs give the same outputs', () => {
    const build = () => {
      const s = new Scenario();
      const inv = shopInventory({ revision: { cart: 9 } });
      s.inventory = inv;
      s.fact('revision-changed', svc('shop', 'cart'), T - 10_000, 'cart revision 9', { attributes: { revision: 9, image: 'shop/cart:9' } });
      for (const name of ['checkout', 'cart', 'search', 'orders']) {
        s.series(svc('shop', name), BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.004 + (name === 'orders' ? 0 : 0.1) * ramp(t, T + 5_000, 20_000) }));
      }
      s.fact('node-not-ready', node('node-2'), T + 30_000, 'node-2 NotReady');
      return s;
    };
    const a = build().run(new Correlator());
    const b = build().run(new Correlator());
    assert.ok(a.length > 0);
    assert.deepEqual(b, a);
    assert.equal(JSON.stringify(b), JSON.stringify(a));
  });

  it('every diagnosis is well formed: confidence in [0,1], alternatives ranked without the top kind, time from the inputs', () => {
    const s = new Scenario();
    s.inventory = shopInventory();
    s.fact('k8s-event', node('node-2'), T + 20_000, 'Node node-2 status is now: NodeNotReady', { reason: 'NodeNotReady' });
    for (const name of ['cart', 'search', 'checkout', 'orders']) s.series(svc('shop', name), BEFORE, AFTER, (t) => ({ ...healthy(), latency_p95: 0.12 + 0.6 * ramp(t, T, 30_000) }));
    const updates = s.run(new Correlator());
    assert.ok(updates.length > 0);
    for (const u of updates) {
      const d = u.diagnosis;
      assert.ok(d.confidence >= 0 && d.confidence <= 1);
      assert.ok(d.t >= T - 5 * 60_000 && d.t <= AFTER, `t ${d.t}`);
      assert.ok(d.summary.length > 20 && d.summary.endsWith('.'));
      assert.ok(d.evidence.length > 0);
      const alts = d.alternatives ?? [];
      assert.ok(alts.every((a) => a.kind !== d.kind && a.confidence >= 0 && a.confidence <= 1));
      for (let i = 1; i < alts.length; i++) assert.ok(alts[i - 1].confidence >= alts[i].confidence);
      assert.deepEqual(u.target, d.target);
    }
  });

  it('closes incidents that went quiet, and new symptoms then open a new one', () => {
    const c = new Correlator({ incidentIdleMs: 60_000 });
    c.setInventory(shopInventory());
    const cart = svc('shop', 'cart');
    const one = feedAll(c, [0, 5_000, 10_000, 15_000].map((dt) => () => c.observeAnomaly(anomaly(cart, T + dt, { error_ratio: 1 }))));
    assert.equal(c.closeIdle(T + 60_000).length, 0);
    assert.deepEqual(c.closeIdle(T + 90_000), [one[0].incidentKey]);
    assert.deepEqual(c.openIncidents(), []);
    const two = feedAll(c, [10, 15, 20, 25].map((s) => () => c.observeAnomaly(anomaly(cart, T + 10 * 60_000 + s * 1000, { error_ratio: 1 }))));
    assert.ok(two.length > 0);
    assert.notEqual(two[0].incidentKey, one[0].incidentKey);
    assert.equal(two[0].isNew, true);
    assert.equal(c.closeIncident(two[0].incidentKey), true);
    assert.equal(c.closeIncident(two[0].incidentKey), false);
  });

  it('config: a longer settle time holds back an unexplained incident', () => {
    const run = (settleMs: number) => {
      const c = new Correlator({ settleMs });
      c.setInventory(shopInventory());
      return feedAll(c, [0, 5_000, 10_000, 15_000, 20_000].map((dt) => () => c.observeAnomaly(anomaly(svc('shop', 'search'), T + dt, { cpu: 1 }))));
    };
    assert.ok(run(DEFAULT_CORRELATION_CONFIG.settleMs).length > 0);
    assert.deepEqual(run(60_000), []);
  });

  it('facts about pods missing from the inventory still reach their deployment by pod name', () => {
    const c = new Correlator();
    c.setInventory(shopInventory());
    const ghost = pod('payments', 'payments-api-5c8d9f7b6-q2w3e');
    const ups = feedAll(c, [
      () => c.observeFact({ kind: 'pod-restarted', target: ghost, t: T, message: 'restarted' }),
      () => c.observeFact({ kind: 'pod-restarted', target: ghost, t: T + 20_000, message: 'restarted' }),
      () => c.observeFact({ kind: 'crash-backoff', target: ghost, t: T + 25_000, message: 'CrashLoopBackOff', reason: 'CrashLoopBackOff' }),
    ]);
    const u = ups[ups.length - 1];
    assert.equal(u.diagnosis.kind, 'crash-loop');
    assert.deepEqual(u.target, svc('payments', 'payments-api'));
    assert.equal(u.diagnosis.details?.worstPod, 'payments-api-5c8d9f7b6-q2w3e');
  });

  it('a NotReady node alone opens a node-failure incident', () => {
    const c = new Correlator();
    c.setInventory(shopInventory());
    const ups = c.observeFact({ kind: 'node-not-ready', target: node('node-3'), t: T, message: 'node-3 NotReady' });
    assert.equal(ups.length, 1);
    assert.equal(ups[0].diagnosis.kind, 'node-failure');
    assert.deepEqual(ups[0].members, [node('node-3')]);
    assert.equal(ups[0].diagnosis.details?.node, 'node-3');
  });

  it('ignores anomalies the detector itself did not flag', () => {
    const c = new Correlator();
    const updates = feedAll(c, [0, 5_000, 10_000, 15_000].map((dt) => () => c.observeAnomaly({ ...anomaly(svc('shop', 'cart'), T + dt, { error_ratio: 1 }), isAnomaly: false })));
    assert.deepEqual(updates, []);
  });

  it('the same sample flagged by four detectors at once is still one noisy sample', () => {
    const c = new Correlator();
    c.setInventory(shopInventory());
    const cart = svc('shop', 'cart');
    const updates = (['rule', 'baseline', 'model', 'fusion'] as const).flatMap((detector) => c.observeAnomaly({ ...anomaly(cart, T, { error_ratio: 1 }, 0.9), detector }));
    assert.deepEqual(updates, []);
  });

  it('odd input (no contributions, NaN samples, unknown pods, no namespace, late events) never throws', () => {
    const c = new Correlator();
    c.setInventory(shopInventory());
    const odd = svc('shop', 'not-in-inventory');
    const run = () => [
      ...c.observeFrame({ target: odd, t: T, values: { error_ratio: Number.NaN, memory: Number.POSITIVE_INFINITY } }),
      ...c.observeAnomaly({ ...anomaly(odd, T + 5_000, {}), contributions: [] }),
      ...c.observeAnomaly({ ...anomaly(odd, T + 15_000, {}), contributions: [] }),
      ...c.observeFact({ kind: 'pod-evicted', target: { kind: 'pod', name: 'orphan' }, t: T + 16_000, message: 'evicted' }),
      ...c.observeFact({ kind: 'configmap-changed', target: { kind: 'service', name: 'flags' }, t: T + 17_000, message: 'changed' }),
      ...c.observeFact({ kind: 'k8s-event', target: node('node-9'), t: T + 18_000, message: 'NodeNotReady', reason: 'NodeNotReady' }),
      ...c.observeAnomaly(anomaly(pod('shop', 'x'), T + 1_000, { cpu: 1 })),
      ...c.observeFrame({ target: odd, t: T + 2_000, values: { error_ratio: 0.5 } }),
    ];
    const updates = run();
    for (const u of updates) assert.ok(u.diagnosis.summary.length > 0 && Number.isFinite(u.diagnosis.confidence));
    assert.ok(updates.some((u) => u.diagnosis.kind === 'node-failure' && u.target.name === 'node-9'));
  });

  it('config: out-of-range settings keep their default and are named with the fix', () => {
    const { config, problems } = resolveCorrelationConfig({ settleMs: 20_000, openConfidence: 1.5, surgeRatio: Number.NaN, windowMs: 5 } as never);
    assert.equal(config.settleMs, 20_000);
    assert.equal(config.openConfidence, DEFAULT_CORRELATION_CONFIG.openConfidence);
    assert.equal(config.surgeRatio, DEFAULT_CORRELATION_CONFIG.surgeRatio);
    assert.deepEqual(problems, [
      'correlation.openConfidence is 1.5; use a number from 0 to 1 (kept the default 0.6)',
      'correlation.surgeRatio is NaN; use a number of 0 or more (kept the default 2)',
      `correlation.windowMs is not a setting; known: ${Object.keys(DEFAULT_CORRELATION_CONFIG).join(', ')}`,
    ]);
    assert.deepEqual(new Correlator({ minConfidence: -1 }).configProblems, ['correlation.minConfidence is -1; use a number from 0 to 1 (kept the default 0.15)']);
  });

  it('forgets targets that went away, so memory follows the live cluster', () => {
    const c = new Correlator();
    for (let i = 0; i < 50; i++) c.observeFrame({ target: pod('shop', `cart-7d9f8c6b5-old${String(i).padStart(2, '0')}`), t: T, values: { cpu: 0.1 } });
    assert.equal(c.trackedTargets, 50);
    for (let t = T; t <= T + 40 * 60_000; t += 60_000) c.observeFrame({ target: svc('shop', 'cart'), t, values: { cpu: 0.1 } });
    assert.equal(c.trackedTargets, 1);
  });

  it('a node that comes back lowers the node-failure confidence and says it was NotReady', () => {
    const c = new Correlator();
    c.setInventory(shopInventory());
    const down = c.observeFact({ kind: 'node-not-ready', target: node('node-1'), t: T, message: 'node-1 NotReady' });
    const up = c.observeFact({ kind: 'node-ready', target: node('node-1'), t: T + 90_000, message: 'node-1 Ready' });
    assert.equal(up.length, 1);
    assert.equal(up[0].incidentKey, down[0].incidentKey);
    assert.ok(up[0].diagnosis.confidence < down[0].diagnosis.confidence);
    assert.match(up[0].diagnosis.summary, /^node\/node-1 was NotReady since 19:00:00 UTC\.$/);
  });
});
