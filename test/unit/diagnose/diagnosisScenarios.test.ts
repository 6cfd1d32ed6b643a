import assert from 'node:assert/strict';
import { Correlator } from '../../../src/core/diagnose/correlation';
import type { CorrelationUpdate } from '../../../src/core/diagnose/incidentGrouping';
import { targetKey } from '../../../src/core/model/target';
import { MiB, STEP, Scenario, T, evidenceNames, finalIncidents, healthy, node, pod, podsOf, ramp, scaleInventory, shopInventory, svc, wobble } from '../../fixtures/correlation/scenario';

const BEFORE = T - 10 * 60_000;
const AFTER = T + 3 * 60_000;

function only(updates: ReadonlyArray<CorrelationUpdate>): CorrelationUpdate {
  const open = finalIncidents(updates);
  assert.equal(open.length, 1, `expected one incident, got ${open.map((u) => `${u.incidentKey} ${u.diagnosis.kind}`).join('; ')}`);
  return open[0];
}

/** The services on node-2 slow down from T + 2 s (its pods stop answering); orders, elsewhere, stays healthy. */
function nodeSymptoms(): Scenario {
  const s = new Scenario();
  s.inventory = shopInventory();
  for (const name of ['checkout', 'cart', 'search']) {
    s.series(svc('shop', name), BEFORE, AFTER, (t) => ({ ...healthy(), latency_p95: 0.12 + 0.5 * ramp(t, T + 2_000, 10_000) }));
  }
  s.series(svc('shop', 'orders'), BEFORE, AFTER, () => healthy());
  return s;
}

/** Every update of the scenario, and its node-failure ones (at least one, or the updates are the failure's message). */
function nodeFailureReports(s: Scenario): { updates: CorrelationUpdate[]; nodeUpdates: CorrelationUpdate[] } {
  const updates = s.run(new Correlator());
  const nodeUpdates = updates.filter((x) => x.diagnosis.kind === 'node-failure');
  assert.ok(nodeUpdates.length > 0, updates.map((x) => `${x.diagnosis.kind}: ${x.diagnosis.summary}`).join('\n'));
  return { updates, nodeUpdates };
}

describe('diagnosis scenarios (correlator end to end)', () => {
  it('bad release: errors 40 s after a new revision → bad-release on that deployment, naming revision and image', () => {
    const inv = shopInventory({ revision: { checkout: 5 } });
    const s = new Scenario();
    s.inventory = inv;
    s.fact('rollout-started', svc('shop', 'checkout'), T - 20_000, 'Scaled up replica set checkout-5f6d7 to 1', { reason: 'ScalingReplicaSet' });
    s.fact('revision-changed', svc('shop', 'checkout'), T, 'deployment shop/checkout revision 4 → 5', { attributes: { revision: 5, previousRevision: 4, image: 'shop/checkout:1.5.0' } });
    s.series(svc('shop', 'checkout'), BEFORE, AFTER, (t) => ({
      ...healthy(),
      error_ratio: 0.004 + wobble(t, 1, 0.001) + 0.116 * ramp(t, T + 40_000, 30_000),
      latency_p95: 0.12 + 0.1 * ramp(t, T + 40_000, 30_000),
    }));
    const updates = s.run(new Correlator());
    const u = only(updates);
    assert.equal(u.diagnosis.kind, 'bad-release');
    assert.deepEqual(u.target, svc('shop', 'checkout'));
    assert.ok(u.diagnosis.confidence >= 0.7, `confidence ${u.diagnosis.confidence}`);
    assert.match(u.diagnosis.summary, /^shop\/checkout 5xx rose from 0\.4% to \d+(\.\d)?% \d+ s after revision 5 \(image shop\/checkout:1\.5\.0\) rolled out\.$/);
    const names = evidenceNames(u);
    assert.ok(names.includes('fact:revision-changed'), names.join());
    assert.ok(names.some((n) => n.startsWith('anomaly:service:shop/checkout:') && n.includes('error_ratio')), names.join());
    assert.equal(u.diagnosis.details?.revision, 5);
    assert.equal(u.diagnosis.details?.previousRevision, 4);
    // The first report already names the release: the fact backs it, no settling wait.
    assert.equal(updates[0].diagnosis.kind, 'bad-release');
    assert.ok(updates[0].diagnosis.t <= T + 60_000, `first report at +${(updates[0].diagnosis.t - T) / 1000}s`);
  });

  it('memory leak: memory climbing for 2 min, OOMKilled, latency → memory-leak with trend, OOM facts and latency evidence', () => {
    const inv = shopInventory();
    const pods = podsOf(inv, 'cart');
    const s = new Scenario();
    s.inventory = inv;
    const oomAt = T + 120_000;
    s.series(svc('shop', 'cart'), BEFORE, AFTER, (t) => {
      // 200 MiB climbing 150 MiB/min until the OOMKill at +120 s, then again from the restart.
      const grow = t < oomAt ? ramp(t, T, 120_000) * 300 : ramp(t, oomAt + 10_000, 120_000) * 300;
      return { ...healthy(), memory: (200 + grow + wobble(t, 2, 3)) * MiB, latency_p95: 0.12 + 0.5 * ramp(t, T + 60_000, 60_000) };
    });
    s.fact('oom-killed', pod('shop', pods[0]), oomAt, 'Container cart was OOMKilled (limit 512Mi)', { reason: 'OOMKilled' });
    s.fact('k8s-event', pod('shop', pods[0]), oomAt + 1_000, 'Memory cgroup out of memory: Killed process 4242 (node)', { reason: 'OOMKilling', severity: 'Warning', attributes: { node: 'node-2' } });
    s.fact('pod-restarted', pod('shop', pods[0]), oomAt + 5_000, 'Container cart restarted (OOMKilled)', { attributes: { reason: 'OOMKilled', restarts: 1 } });
    const updates = s.run(new Correlator());
    const u = only(updates);
    assert.equal(u.diagnosis.kind, 'memory-leak');
    assert.deepEqual(u.target, svc('shop', 'cart'));
    assert.ok(u.diagnosis.confidence >= 0.8, `confidence ${u.diagnosis.confidence}`);
    const names = evidenceNames(u);
    for (const n of ['trend:memory', 'fact:oom-killed:OOMKilled', 'fact:k8s-event:OOMKilling']) assert.ok(names.includes(n), `${n} missing from ${names.join()}`);
    assert.ok(names.some((n) => n.includes('latency_p95')), names.join());
    assert.match(u.diagnosis.summary, /^shop\/cart memory grew \d+%\/min to (4\d\d|500) MiB over (1|2) min( \(from \d+ MiB; at this rate it adds that much again every \d+ (s|min)\))? and a pod was OOMKilled; p95 latency rose from 120 ms to \d+ ms\.$/);
    // Crash loop is considered (a restart happened) but ranks below.
    const crash = u.diagnosis.alternatives?.find((a) => a.kind === 'crash-loop');
    assert.ok(!crash || crash.confidence < u.diagnosis.confidence);
  });

  it('crash loop: restarts, BackOff and pods not ready, no new revision → crash-loop', () => {
    const inv = shopInventory();
    const pods = podsOf(inv, 'payments-api');
    const s = new Scenario();
    s.inventory = inv;
    s.series(svc('payments', 'payments-api'), BEFORE, AFTER, (t) => ({
      ...healthy(),
      available_replicas: t < T + 10_000 ? 3 : t < T + 40_000 ? 2 : 1,
      restarts: t < T + 10_000 ? 0 : Math.min(6, Math.floor((t - T) / 15_000)),
      error_ratio: 0.004 + 0.03 * ramp(t, T + 10_000, 30_000),
    }));
    for (const [i, dt] of [10_000, 25_000, 45_000, 75_000].entries()) {
      s.fact('pod-restarted', pod('payments', pods[i % 2]), T + dt, `Container payments-api restarted (exit code 1)`, { attributes: { reason: 'Error', exitCode: 1 } });
    }
    s.fact('k8s-event', pod('payments', pods[0]), T + 30_000, 'Back-off restarting failed container payments-api', { reason: 'BackOff', severity: 'Warning' });
    s.fact('crash-backoff', pod('payments', pods[1]), T + 50_000, 'payments-api is in CrashLoopBackOff', { reason: 'CrashLoopBackOff' });
    const u = only(s.run(new Correlator()));
    assert.equal(u.diagnosis.kind, 'crash-loop');
    assert.deepEqual(u.target, svc('payments', 'payments-api'));
    const names = evidenceNames(u);
    for (const n of ['fact:k8s-event:BackOff', 'fact:crash-backoff:CrashLoopBackOff', 'fact:pod-restarted']) assert.ok(names.includes(n), `${n} missing from ${names.join()}`);
    assert.ok(names.some((n) => n.includes('available_replicas')), names.join());
    assert.match(u.diagnosis.summary, /^payments\/payments-api pods are crash-looping: 4 restarts in 5 min, BackOff on payments-api-7d9f8c6b5-\w{5}, 1 of 3 replicas available\.$/);
    assert.ok(u.diagnosis.details?.worstPod?.startsWith('payments-api-'));
  });

  it('traffic surge: requests 3.5x baseline with latency and CPU saturation, no revision → traffic-surge', () => {
    const s = new Scenario();
    s.inventory = shopInventory();
    s.series(svc('shop', 'frontend'), BEFORE, AFTER, (t) => {
      const k = ramp(t, T, 30_000);
      return { ...healthy(), request_rate: 100 + wobble(t, 3, 5) + 250 * k, latency_p95: 0.12 + 0.6 * k, cpu: 0.4 + 0.8 * k };
    });
    const u = only(s.run(new Correlator()));
    assert.equal(u.diagnosis.kind, 'traffic-surge');
    assert.match(u.diagnosis.summary, /^shop\/frontend requests rose 3\.\d+x above baseline \(\d+ req\/s → \d+ req\/s\) with p95 latency \d+ ms and cpu 1\.\d+ cores, no new revision\.$/);
    const names = evidenceNames(u);
    assert.ok(names.includes('trend:request_rate'), names.join());
    assert.ok(names.some((n) => n.includes('request_rate') && n.startsWith('anomaly')), names.join());
    assert.ok(!u.diagnosis.alternatives?.some((a) => a.kind === 'bad-release'));
  });

  it('bad feature flag: errors 15 s after a configmap the deployment mounts changed → bad-feature-flag with the value to restore', () => {
    const s = new Scenario();
    s.inventory = shopInventory({ configMaps: { checkout: ['checkout-flags'] } });
    s.fact('configmap-changed', svc('shop', 'checkout-flags'), T, 'configmap shop/checkout-flags changed key new-pricing', {
      attributes: { configMap: 'checkout-flags', key: 'new-pricing', previousValue: 'false', value: 'true' },
    });
    s.series(svc('shop', 'checkout'), BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.002 + 0.09 * ramp(t, T + 15_000, 20_000) }));
    const u = only(s.run(new Correlator()));
    assert.equal(u.diagnosis.kind, 'bad-feature-flag');
    assert.deepEqual(u.target, svc('shop', 'checkout'));
    assert.deepEqual(u.diagnosis.details?.flag, { namespace: 'shop', configMap: 'checkout-flags', key: 'new-pricing', previousValue: 'false' });
    assert.match(u.diagnosis.summary, /^shop\/checkout 5xx rose from 0\.2% to \d(\.\d)?% \d+ s after configmap shop\/checkout-flags key new-pricing changed from "false" to "true"\.$/);
    assert.ok(evidenceNames(u).includes('fact:configmap-changed'));
  });

  it('latency spike: latency only, no facts → latency-spike', () => {
    const s = new Scenario();
    s.inventory = shopInventory();
    s.series(svc('shop', 'search'), BEFORE, AFTER, (t) => ({ ...healthy(), latency_p95: 0.12 + 0.8 * ramp(t, T, 20_000), latency_p99: 0.2 + 1.2 * ramp(t, T, 20_000) }));
    const u = only(s.run(new Correlator()));
    assert.equal(u.diagnosis.kind, 'latency-spike');
    assert.match(u.diagnosis.summary, /^shop\/search p99 latency rose from 200 ms to 1\.4 s with no errors, no release/);
    assert.ok(evidenceNames(u).every((n) => n.includes('latency')));
  });

  it('node failure: NotReady, evictions, 3 services on the node degrade → ONE node-failure incident with all of them', () => {
    const inv = shopInventory();
    const s = new Scenario();
    s.inventory = inv;
    // Symptoms start before the node is reported NotReady (the kubelet stops posting status first).
    for (const name of ['checkout', 'cart', 'search']) {
      s.series(svc('shop', name), BEFORE, AFTER, (t) => ({
        ...healthy(),
        available_replicas: t < T + 10_000 ? 3 : 2,
        error_ratio: 0.004 + 0.08 * ramp(t, T + 5_000, 20_000),
        latency_p95: 0.12 + 0.5 * ramp(t, T + 5_000, 20_000),
      }));
    }
    s.series(svc('shop', 'orders'), BEFORE, AFTER, () => healthy());
    s.fact('k8s-event', node('node-2'), T + 40_000, 'Node node-2 status is now: NodeNotReady', { reason: 'NodeNotReady', severity: 'Normal' });
    s.fact('node-not-ready', node('node-2'), T + 40_000, 'node-2 Ready=Unknown: kubelet stopped posting node status');
    for (const name of ['checkout', 'cart', 'search']) {
      const p = inv.services.find((x) => x.target.name === name)!.pods.find((x) => x.node === 'node-2')!;
      s.fact('pod-evicted', pod('shop', p.name), T + 45_000, `Marking for deletion Pod shop/${p.name}`, { reason: 'TaintManagerEviction', attributes: { node: 'node-2' } });
    }
    const updates = s.run(new Correlator());
    const u = only(updates);
    assert.equal(u.diagnosis.kind, 'node-failure');
    assert.deepEqual(u.target, node('node-2'));
    const members = u.members.map((m) => `${m.kind}:${m.namespace ?? ''}/${m.name}`).sort();
    assert.deepEqual(members, ['node:/node-2', 'service:shop/cart', 'service:shop/checkout', 'service:shop/search']);
    assert.ok(u.diagnosis.confidence >= 0.85, `confidence ${u.diagnosis.confidence}`);
    assert.match(u.diagnosis.summary, /^node\/node-2 is NotReady since 19:00:40 UTC; 3 pods evicted; symptoms on shop\/cart, shop\/checkout, shop\/search\.$/);
    const names = evidenceNames(u);
    assert.ok(names.includes('fact:k8s-event:NodeNotReady') && names.includes('fact:pod-evicted:TaintManagerEviction'), names.join());
    assert.equal(u.diagnosis.details?.node, 'node-2');
    // Every later report of those services carries the same key; no second incident stays open.
    const keys = new Set(updates.filter((x) => x.diagnosis.t >= T + 45_000).map((x) => x.incidentKey));
    assert.equal(keys.size, 1, [...keys].join());
  });

  it('node failure before NotReady: its kubelet stopped renewing its Lease, 3 services on it degrade → ONE node-failure incident, worded as the Lease', () => {
    const s = nodeSymptoms();
    // the last renewal at T - 3 s; named 1.5 intervals later, 25 s before a 40 s grace period would make it NotReady
    s.fact('node-not-ready', node('node-2'), T + 12_000, 'Node node-2 stopped renewing its Lease: last renewed 15 s ago (every 10 s; 2 other nodes renew theirs). Its kubelet is down or cut off; NotReady follows after the node monitor\'s grace period', {
      reason: 'NodeLeaseExpired',
      attributes: { lastRenewed: new Date(T - 3_000).toISOString(), renewEverySeconds: 10 },
    });
    const { nodeUpdates } = nodeFailureReports(s);
    const u = nodeUpdates.at(-1)!;
    assert.deepEqual(u.target, node('node-2'));
    assert.ok(nodeUpdates[0].diagnosis.t <= T + 13_000, `named at ${(nodeUpdates[0].diagnosis.t - T) / 1000} s`);
    assert.match(u.diagnosis.summary, /^node\/node-2 has not renewed its Lease since 18:59:57 UTC \(its kubelet is down or cut off; not NotReady yet\); symptoms on shop\/cart, shop\/checkout, shop\/search\.$/);
    assert.equal(u.diagnosis.details?.node, 'node-2');
  });

  it('node failure within a scrape: its kubelet and pods stopped answering Prometheus, then its Lease lapsed → ONE node-failure incident, worded as the silence', () => {
    const s = nodeSymptoms();
    s.fact('node-not-ready', node('node-2'), T + 3_000, "Node node-2 stopped answering: its kubelet and 3 pod(s) on it (shop/cart-1, shop/checkout-2, shop/search-1) fail their scrapes (Prometheus up == 0) while the other nodes answer; its Lease was last renewed 6 s ago (every 10 s). The node is down or cut off; NotReady follows after the node monitor's grace period", {
      reason: 'NodeUnreachable',
      attributes: { since: new Date(T + 3_000).toISOString(), pods: 3 },
    });
    s.fact('node-not-ready', node('node-2'), T + 12_000, 'Node node-2 stopped renewing its Lease: last renewed 15 s ago (every 10 s; 2 other nodes renew theirs). Its kubelet is down or cut off; NotReady follows after the node monitor\'s grace period', {
      reason: 'NodeLeaseExpired',
      attributes: { lastRenewed: new Date(T - 3_000).toISOString(), renewEverySeconds: 10 },
    });
    const { updates, nodeUpdates } = nodeFailureReports(s);
    assert.ok(nodeUpdates[0].diagnosis.t <= T + 4_000, `named at ${(nodeUpdates[0].diagnosis.t - T) / 1000} s`);
    assert.equal(new Set(updates.filter((x) => x.diagnosis.t >= T + 3_000).map((x) => x.incidentKey)).size, 1, 'one incident');
    const u = nodeUpdates.at(-1)!;
    assert.deepEqual(u.target, node('node-2'));
    assert.match(u.diagnosis.summary, /^node\/node-2 has not answered since 19:00:03 UTC \(its kubelet's and 3 pod\(s\)' scrapes fail; not NotReady yet\); symptoms on shop\/cart, shop\/checkout, shop\/search\.$/);
  });

  it('a surge past capacity: the surged service fails a share of its own requests and its caller errs → traffic-surge, not a dependency outage', () => {
    // as the sandbox's surge on cart plays out: requests double, cart answers 5xx past its capacity, frontend's calls to it fail
    const s = new Scenario();
    s.inventory = shopInventory();
    s.series(svc('shop', 'cart'), BEFORE, AFTER, (t) => {
      const k = ramp(t, T, 20_000);
      return { ...healthy(), request_rate: 25 + wobble(t, 1, 5) + 26 * k, error_ratio: 0.002 + 0.38 * ramp(t, T + 10_000, 15_000) };
    });
    s.series(svc('shop', 'frontend'), BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.003 + 0.12 * ramp(t, T + 15_000, 15_000) }));
    const updates = s.run(new Correlator());
    const final = finalIncidents(updates);
    const onCart = final.find((u) => u.target.name === 'cart');
    assert.ok(onCart, `an incident on shop/cart: ${final.map((u) => `${u.incidentKey} ${u.diagnosis.kind}`).join('; ')}`);
    assert.equal(onCart.diagnosis.kind, 'traffic-surge', onCart.diagnosis.summary);
    const outage = onCart.diagnosis.alternatives?.find((a) => a.kind === 'dependency-outage');
    if (outage) assert.ok(outage.confidence < onCart.diagnosis.confidence, 'a dependency outage is at most the runner-up');
  });

  it('dependency outage: callee fails, two callers error → ONE dependency-outage incident on the callee', () => {
    const s = new Scenario();
    s.inventory = shopInventory();
    s.series(svc('payments', 'payments-api'), BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.003 + 0.4 * ramp(t, T, 15_000) }));
    for (const [i, name] of ['checkout', 'orders'].entries()) {
      s.series(svc('shop', name), BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.004 + 0.15 * ramp(t, T + 10_000 + i * 5_000, 20_000), latency_p95: 0.12 + 0.3 * ramp(t, T + 10_000, 20_000) }));
    }
    s.series(svc('shop', 'frontend'), BEFORE, AFTER, () => healthy());
    const updates = s.run(new Correlator());
    const u = only(updates);
    assert.equal(u.diagnosis.kind, 'dependency-outage');
    assert.deepEqual(u.target, svc('payments', 'payments-api'));
    assert.deepEqual(u.members, [svc('payments', 'payments-api'), svc('shop', 'checkout'), svc('shop', 'orders')]);
    assert.match(u.diagnosis.summary, /^payments\/payments-api is failing \(5xx rose from 0\.3% to 40%\) and its callers shop\/checkout, shop\/orders show errors since 19:00:\d\d UTC\.$/);
    const names = evidenceNames(u);
    for (const k of ['payments/payments-api', 'shop/checkout', 'shop/orders']) assert.ok(names.some((n) => n.includes(k)), `${k} missing from ${names.join()}`);
    assert.deepEqual(u.diagnosis.details?.affected, [svc('shop', 'checkout'), svc('shop', 'orders')]);
    assert.equal(new Set(updates.map((x) => x.incidentKey)).size, 1);
  });
});

describe('faults as the sandbox shapes them', () => {
  it('a flag in a configmap shared by two deployments blames the one whose key changed; its caller joins the incident', () => {
    const inv = shopInventory();
    const flags = { 'vigil.dev/feature-flags': 'feature-flags' };
    const withFlags = { ...inv, services: inv.services.map((x) => (['frontend', 'checkout'].includes(x.target.name) ? { ...x, annotations: { ...x.annotations, ...flags } } : x)) };
    const s = new Scenario();
    s.inventory = withFlags;
    s.fact('configmap-changed', svc('shop', 'feature-flags'), T, 'configmap shop/feature-flags changed', {
      attributes: { configMap: 'feature-flags', key: 'checkout.new-pricing-engine', previousValue: 'false', value: 'true' },
    });
    s.series(svc('shop', 'checkout'), BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.004 + 0.3 * ramp(t, T + 5_000, 15_000) }));
    s.series(svc('shop', 'frontend'), BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.004 + 0.1 * ramp(t, T + 10_000, 15_000) }));
    const u = only(s.run(new Correlator()));
    assert.equal(u.diagnosis.kind, 'bad-feature-flag');
    assert.deepEqual(u.target, svc('shop', 'checkout'));
    assert.deepEqual(u.members, [svc('shop', 'checkout'), svc('shop', 'frontend')]);
    assert.equal(u.diagnosis.details?.flag?.key, 'checkout.new-pricing-engine');
  });

  it('a failing dependency two hops down groups the whole chain into one incident', () => {
    const s = new Scenario();
    s.inventory = shopInventory();
    s.series(svc('payments', 'payments-api'), BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.004 + 0.8 * ramp(t, T, 10_000) }));
    s.series(svc('shop', 'checkout'), BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.004 + 0.6 * ramp(t, T + 5_000, 10_000) }));
    s.series(svc('shop', 'frontend'), BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.004 + 0.2 * ramp(t, T + 10_000, 10_000) }));
    const u = only(s.run(new Correlator()));
    assert.equal(u.diagnosis.kind, 'dependency-outage');
    assert.deepEqual(u.target, svc('payments', 'payments-api'));
    assert.deepEqual(u.members, [svc('payments', 'payments-api'), svc('shop', 'checkout'), svc('shop', 'frontend')]);
    assert.match(u.diagnosis.summary, /its caller shop\/checkout shows errors since 19:00:\d\d UTC; also affected: shop\/frontend\.$/);
    assert.deepEqual(u.diagnosis.details?.affected, [svc('shop', 'checkout'), svc('shop', 'frontend')]);
  });

  it('a crash loop whose caller and its caller fail in the same interval, the caller two hops up fed first: ONE incident', () => {
    // bench:scale on the real control plane (1,000 pods): svc-0100 crash-looping and down; its caller svc-0086 and that
    // one's caller svc-0074 began failing in the same interval, and svc-0074 (which sorts first) was re-judged as soon as
    // svc-0086's anomaly came in, before svc-0086 had joined svc-0100's incident: it read svc-0086 as the cause and opened
    // "dependency outage" rooted there (0.65), proposing a restart of a healthy service; fails on 547fd97
    const inv = scaleInventory([['svc-0074', 'svc-0086'], ['svc-0086', 'svc-0100'], ['svc-0100']]);
    const s = new Scenario();
    s.inventory = inv;
    const root = svc('scale-001', 'svc-0100');
    const pods = podsOf(inv, 'svc-0100');
    for (const [i, dt] of [-40_000, -30_000, -20_000].entries()) s.fact('pod-restarted', pod('scale-001', pods[i]), T + dt, 'Container svc-0100 restarted (exit code 1)', { attributes: { reason: 'Error', exitCode: 1 } });
    s.fact('crash-backoff', pod('scale-001', pods[0]), T - 15_000, 'svc-0100 is in CrashLoopBackOff', { reason: 'CrashLoopBackOff' });
    s.series(root, BEFORE, AFTER, (t) => ({ ...healthy(), available_replicas: t < T - 30_000 ? 3 : 0 }));
    s.series(svc('scale-001', 'svc-0074'), BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.004 + 0.12 * ramp(t, T, 5_000) }));
    s.series(svc('scale-001', 'svc-0086'), BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.004 + 0.4 * ramp(t, T, 5_000) }));
    const updates = s.run(new Correlator());
    const opened = [...new Set(updates.filter((u) => u.isNew).map((u) => `${u.diagnosis.kind} on ${targetKey(u.target)}`))];
    assert.deepEqual(opened.filter((o) => !o.endsWith('scale-001/svc-0100')), [], 'no incident rooted at a caller');
    const open = finalIncidents(updates);
    assert.equal(open.length, 1, open.map((u) => `${u.diagnosis.kind} on ${targetKey(u.target)}`).join('; '));
    assert.deepEqual(open[0].target, root);
    assert.deepEqual(open[0].members.map(targetKey).sort(), ['service:scale-001/svc-0074', 'service:scale-001/svc-0086', 'service:scale-001/svc-0100']);
  });

  it('a bad release whose 5xx spill over to its caller as 502s stays ONE bad-release incident', () => {
    const s = new Scenario();
    s.inventory = shopInventory();
    s.fact('revision-changed', svc('shop', 'checkout'), T, 'deployment shop/checkout revision 4 → 5', { attributes: { revision: 5, previousRevision: 4, image: 'shop/checkout:1.4.3' } });
    // New pods replace old ones over 30 s; each answers 25% 5xx; frontend sees 60% of that as 502s.
    s.series(svc('shop', 'checkout'), BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.004 + 0.25 * ramp(t, T + 10_000, 30_000) }));
    s.series(svc('shop', 'frontend'), BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.004 + 0.15 * ramp(t, T + 10_000, 30_000) }));
    const updates = s.run(new Correlator());
    const u = only(updates);
    assert.equal(u.diagnosis.kind, 'bad-release');
    assert.deepEqual(u.target, svc('shop', 'checkout'));
    assert.deepEqual(u.members, [svc('shop', 'checkout'), svc('shop', 'frontend')]);
    assert.ok(updates.every((x) => x.diagnosis.kind === 'bad-release'), updates.map((x) => x.diagnosis.kind).join());
  });

  it('a 40 s leak to the limit (the sandbox default) is a memory leak before and after the OOMKill', () => {
    const inv = shopInventory();
    const s = new Scenario();
    s.inventory = inv;
    const oomAt = T + 40_000;
    s.series(svc('shop', 'cart'), BEFORE, AFTER, (t) => ({ ...healthy(), memory: (t < oomAt ? 180 + 330 * ramp(t, T, 40_000) : 180) * MiB }));
    s.fact('pod-restarted', pod('shop', podsOf(inv, 'cart')[0]), oomAt, 'Container cart restarted', { reason: 'OOMKilled' });
    const updates = s.run(new Correlator());
    assert.ok(updates.length >= 2);
    assert.ok(updates.every((x) => x.diagnosis.kind === 'memory-leak'), updates.map((x) => x.diagnosis.kind).join());
    assert.ok(updates[updates.length - 1].diagnosis.confidence > updates[0].diagnosis.confidence);
    assert.equal(new Set(updates.map((x) => x.incidentKey)).size, 1);
  });
});

describe('ambiguous and benign input', () => {
  it('errors after a revision while a dependency also errs: the fact decides (bad release), dependency outage is the runner-up', () => {
    const s = new Scenario();
    s.inventory = shopInventory({ revision: { orders: 7 } });
    s.fact('revision-changed', svc('shop', 'orders'), T - 30_000, 'deployment shop/orders revision 6 → 7', { attributes: { revision: 7, previousRevision: 6, image: 'shop/orders:2.0.0' } });
    s.series(svc('shop', 'orders'), BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.004 + 0.2 * ramp(t, T, 20_000) }));
    s.series(svc('payments', 'payments-api'), BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: 0.004 + 0.1 * ramp(t, T, 20_000) }));
    const updates = s.run(new Correlator());
    const orders = finalIncidents(updates).find((u) => u.members.some((m) => m.name === 'orders'))!;
    assert.equal(orders.diagnosis.kind, 'bad-release');
    assert.deepEqual(orders.target, svc('shop', 'orders'));
    const alt = orders.diagnosis.alternatives ?? [];
    assert.equal(alt[0]?.kind, 'dependency-outage', JSON.stringify(alt));
    assert.ok(alt[0].confidence < orders.diagnosis.confidence);
  });

  it('pods crash-looping right after a new revision: bad release first, crash loop the runner-up', () => {
    const inv = shopInventory({ revision: { cart: 12 } });
    const s = new Scenario();
    s.inventory = inv;
    s.fact('revision-changed', svc('shop', 'cart'), T, 'deployment shop/cart revision 11 → 12', { attributes: { revision: 12, previousRevision: 11, image: 'shop/cart:1.9.0' } });
    const newPod = 'cart-6c5b4a3f2-n3w01';
    for (const [i, dt] of [15_000, 30_000, 50_000, 80_000].entries()) {
      s.fact('pod-restarted', pod('shop', newPod), T + dt, 'Container cart restarted (exit code 2)', { attributes: { restarts: i + 1 } });
    }
    s.fact('k8s-event', pod('shop', newPod), T + 35_000, 'Back-off restarting failed container cart', { reason: 'BackOff', severity: 'Warning' });
    s.series(svc('shop', 'cart'), BEFORE, AFTER, (t) => ({ ...healthy(), available_replicas: t < T + 20_000 ? 3 : 2, restarts: t < T + 15_000 ? 0 : 1 }));
    const u = only(s.run(new Correlator()));
    assert.equal(u.diagnosis.kind, 'bad-release');
    assert.match(u.diagnosis.summary, /^shop\/cart pods crash-loop \(\d restarts, BackOff\) \d+ s after revision 12 \(image shop\/cart:1\.9\.0\) rolled out\.$/);
    assert.equal(u.diagnosis.alternatives?.[0]?.kind, 'crash-loop');
    assert.equal(u.diagnosis.details?.previousRevision, 11);
  });

  it('image pull back-off after a new revision is a bad release, not a crash loop', () => {
    const s = new Scenario();
    s.inventory = shopInventory();
    s.fact('revision-changed', svc('shop', 'search'), T, 'deployment shop/search revision 4 → 5', { attributes: { revision: 5, previousRevision: 4, image: 'shop/search:typo' } });
    s.fact('k8s-event', pod('shop', 'search-5d4c3b2a1-zz9yx'), T + 10_000, 'Failed to pull image "shop/search:typo": not found', { reason: 'Failed', severity: 'Warning' });
    s.fact('k8s-event', pod('shop', 'search-5d4c3b2a1-zz9yx'), T + 25_000, 'Back-off pulling image "shop/search:typo"', { reason: 'BackOff', severity: 'Warning' });
    const u = only(s.run(new Correlator()));
    assert.equal(u.diagnosis.kind, 'bad-release');
    assert.match(u.diagnosis.summary, /pods cannot pull their image/);
    assert.ok(!u.diagnosis.alternatives?.some((a) => a.kind === 'crash-loop'));
  });

  it('latency with a modest traffic rise: latency-spike and traffic-surge both ranked, by strength of evidence', () => {
    const s = new Scenario();
    s.inventory = shopInventory();
    s.series(svc('shop', 'search'), BEFORE, AFTER, (t) => ({ ...healthy(), request_rate: 100 + 70 * ramp(t, T, 20_000), latency_p95: 0.12 + 0.6 * ramp(t, T, 20_000) }));
    const u = only(s.run(new Correlator()));
    const ranked = [{ kind: u.diagnosis.kind, confidence: u.diagnosis.confidence }, ...(u.diagnosis.alternatives ?? [])];
    const kinds = ranked.map((r) => r.kind);
    assert.ok(kinds.includes('traffic-surge') && kinds.includes('latency-spike'), kinds.join());
    for (let i = 1; i < ranked.length; i++) assert.ok(ranked[i - 1].confidence >= ranked[i].confidence, JSON.stringify(ranked));
  });

  it('one noisy sample with no facts opens nothing', () => {
    const s = new Scenario();
    s.inventory = shopInventory();
    s.series(svc('shop', 'cart'), BEFORE, AFTER, (t) => ({ ...healthy(), error_ratio: t === T ? 0.09 : 0.004 }));
    const updates = s.run(new Correlator());
    assert.deepEqual(updates, []);
  });

  it('a short blip of three samples is at most a low-confidence unknown', () => {
    const s = new Scenario();
    s.inventory = shopInventory();
    s.series(svc('shop', 'cart'), BEFORE, AFTER, (t) => ({ ...healthy(), cpu: t >= T && t <= T + 2 * STEP ? 1.1 : 0.4 }));
    const updates = s.run(new Correlator());
    for (const u of updates) {
      assert.equal(u.diagnosis.kind, 'unknown');
      assert.ok(u.diagnosis.confidence < 0.4, `confidence ${u.diagnosis.confidence}`);
    }
  });
});
