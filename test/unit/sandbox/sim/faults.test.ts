import assert from 'node:assert/strict';
import { bumpVersion } from '../../../../src/sandbox/sim/faults';
import type { ConfigMap, Deployment, Pod } from '../../../../src/sandbox/sim/objects';
import { meanLatency, ready, scrape, SimHarness, total, window } from './simHarness';

function inject(h: SimHarness, body: Record<string, unknown>): Record<string, unknown> {
  const r = h.control('POST', '/sandbox/v1/faults', body);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

function fault(h: SimHarness, id: unknown): Record<string, unknown> {
  return h.control('GET', `/sandbox/v1/faults/${id}`).body;
}

function restartRollout(h: SimHarness, ns: string, name: string): void {
  h.store.mutate('deployments', ns, name, (o) => {
    const t = (o as Deployment).spec.template;
    t.metadata = { ...t.metadata, annotations: { ...t.metadata?.annotations, 'kubectl.kubernetes.io/restartedAt': new Date(h.t).toISOString() } };
  });
}

describe('sandbox faults', () => {
  it('control API: 201 with ground truth, list, end; 400/404/405 with clear messages', () => {
    const h = new SimHarness();
    h.run(2000);
    const f = inject(h, { fault: 'latency-spike', target: 'shop/cart', durationSeconds: 30 });
    assert.match(String(f.id), /^fault-\d+$/);
    assert.deepEqual([f.fault, f.target, f.active], ['latency-spike', 'shop/cart', true]);
    assert.equal(Date.parse(String(f.endsAt)) - Date.parse(String(f.startedAt)), 30_000);
    assert.equal(f.symptomsAt, f.startedAt);
    const list = h.control('GET', '/sandbox/v1/faults').body.items as Array<Record<string, unknown>>;
    assert.deepEqual(list.map((x) => x.id), [f.id]);
    const ended = h.control('DELETE', `/sandbox/v1/faults/${f.id}`);
    assert.equal(ended.status, 200);
    assert.equal(ended.body.active, false);
    assert.ok(ended.body.endedAt);

    const bad = h.control('POST', '/sandbox/v1/faults', { fault: 'meteor-strike', target: 'shop/cart' });
    assert.equal(bad.status, 400);
    assert.match(String(bad.body.message), /unknown fault "meteor-strike": use one of crash-loop, memory-leak/);
    assert.equal(h.control('POST', '/sandbox/v1/faults', { fault: 'crash-loop' }).status, 400);
    assert.equal(h.control('POST', '/sandbox/v1/faults', { fault: 'crash-loop', target: 'checkout' }).status, 400);
    const missing = h.control('POST', '/sandbox/v1/faults', { fault: 'bad-release', target: 'shop/nope' });
    assert.equal(missing.status, 404);
    assert.match(String(missing.body.message), /deployment "shop\/nope" not found; deployments in shop: shop\/cart, shop\/checkout, shop\/frontend/);
    assert.equal(h.control('POST', '/sandbox/v1/faults', { fault: 'node-failure', target: 'node-9' }).status, 404);
    assert.equal(h.control('POST', '/sandbox/v1/faults', { fault: 'latency-spike', target: 'shop/cart', durationSeconds: -1 }).status, 400);
    assert.equal(h.control('POST', '/sandbox/v1/faults', 'crash-loop').status, 400);
    assert.equal(h.control('DELETE', '/sandbox/v1/faults/fault-99').status, 404);
    assert.equal(h.control('PUT', '/sandbox/v1/faults').status, 405);
    assert.equal(h.control('GET', '/sandbox/v1/whatever').status, 404);
  });

  it('crash-loop: Error exits, climbing restarts, BackOff, not Ready; deleting the pods heals', () => {
    const h = new SimHarness({ kubelet: { crashAfterMs: 1000, backoffBaseMs: 1000, backoffMaxMs: 4000 } });
    h.run(3000);
    const f = inject(h, { fault: 'crash-loop', target: 'shop/checkout' });
    h.run(15_000);
    const pods = h.pods('shop', 'checkout');
    for (const p of pods) {
      const cs = p.status?.containerStatuses?.[0];
      assert.ok((cs?.restartCount ?? 0) >= 3, `restarts ${cs?.restartCount}`);
      assert.equal(cs?.lastState.terminated?.reason, 'Error');
      assert.equal(cs?.lastState.terminated?.exitCode, 1);
    }
    assert.ok(pods.some((p) => p.status?.containerStatuses?.[0].state.waiting?.reason === 'CrashLoopBackOff'));
    const backoff = h.events({ reason: 'BackOff', name: 'checkout' });
    assert.ok(backoff.length >= 1 && backoff.every((e) => e.type === 'Warning'));
    assert.ok(backoff.some((e) => (e.count as number) >= 2), 'repeated BackOff folds into a count');
    assert.ok(h.deployment('shop', 'checkout').status?.readyReplicas !== 3);
    const samples = scrape(h);
    assert.ok(total(samples, 'kube_pod_container_status_restarts_total', { deployment: 'checkout' }) >= 9);
    const logs = h.sim.podLogs('shop', pods[0].metadata.name, {}, () => undefined);
    assert.ok(logs?.lines.some((l) => l.includes('FATAL')) || pods[0].status?.containerStatuses?.[0].state.waiting);
    assert.ok(fault(h, f.id).symptomsAt, 'symptoms recorded at the first crash');
    assert.equal(fault(h, f.id).recoveredAt, undefined);
    for (const p of pods) h.store.delete('pods', 'shop', p.metadata.name);
    h.run(8000);
    const fresh = h.pods('shop', 'checkout');
    assert.equal(fresh.length, 3);
    assert.ok(fresh.every((p) => ready(p) && p.status?.containerStatuses?.[0].restartCount === 0));
    assert.ok(fault(h, f.id).recoveredAt, 'recovery recorded');
  });

  it('memory-leak: memory climbs, latency rises, OOMKilled with an OOMKilling event; rollout restart heals', () => {
    const h = new SimHarness();
    h.run(3000);
    const base = scrape(h);
    const f = inject(h, { fault: 'memory-leak', target: 'shop/cart', leakSeconds: 20 });
    h.run(14_000);
    const mid = scrape(h);
    const mem = (s: ReturnType<typeof scrape>) => total(s, 'process_resident_memory_bytes', { deployment: 'cart' }) / 2;
    assert.ok(mem(mid) > mem(base) + 90 * 1024 * 1024, `memory grew from ${mem(base)} to ${mem(mid)}`);
    h.run(4000);
    const late = scrape(h);
    assert.ok(meanLatency(mid, late, 'cart') > 1.8 * meanLatency(base, mid, 'cart'), 'latency rises with memory pressure');
    h.run(6000);
    const pods = h.pods('shop', 'cart');
    assert.ok(pods.every((p) => p.status?.containerStatuses?.[0].lastState.terminated?.reason === 'OOMKilled'));
    assert.ok(pods.every((p) => p.status?.containerStatuses?.[0].lastState.terminated?.exitCode === 137));
    const oom = h.events({ reason: 'OOMKilling', name: 'cart' });
    assert.ok(oom.length >= 2 && oom.every((e) => e.type === 'Warning' && (e.source as { component: string }).component === 'kernel-monitor'));
    assert.ok(total(scrape(h), 'kube_pod_container_status_last_terminated_reason', { deployment: 'cart', reason: 'OOMKilled' }) === 2);
    assert.ok(fault(h, f.id).symptomsAt);
    restartRollout(h, 'shop', 'cart');
    h.run(10_000);
    const before = scrape(h);
    h.run(20_000);
    const after = scrape(h);
    assert.ok(h.pods('shop', 'cart').every((p) => ready(p) && p.status?.containerStatuses?.[0].restartCount === 0));
    assert.ok(mem(after) < 110 * 1024 * 1024, `new pods stay at baseline memory (${mem(after)})`);
    assert.ok(meanLatency(before, after, 'cart') < 0.04);
    assert.ok(fault(h, f.id).recoveredAt);
  });

  it('bad-release: rolls out a new image through the store with elevated 5xx; rollout undo heals', () => {
    const h = new SimHarness();
    h.run(3000);
    const f = inject(h, { fault: 'bad-release', target: 'shop/checkout' });
    const d = h.deployment('shop', 'checkout');
    assert.equal(d.spec.template.spec.containers[0].image, 'shop/checkout:1.4.3');
    assert.match(String(f.description), /rolled out shop\/checkout:1\.4\.3 \(was shop\/checkout:1\.4\.2\)/);
    h.run(10_000);
    assert.equal(h.deployment('shop', 'checkout').metadata.annotations?.['deployment.kubernetes.io/revision'], '2');
    assert.ok(h.pods('shop', 'checkout').every((p) => p.spec.containers[0].image === 'shop/checkout:1.4.3' && ready(p)));
    const a = scrape(h);
    h.run(30_000);
    const b = scrape(h);
    const bad = window(a, b, 'checkout');
    assert.ok(bad.errorShare > 0.15 && bad.errorShare < 0.4, `5xx share ${bad.errorShare}`);
    assert.ok((bad.byCode['500'] ?? 0) > 0);
    const fr = window(a, b, 'frontend');
    assert.ok(fr.errorShare > 0.05, `callers see it too (${fr.errorShare})`);
    assert.ok(fault(h, f.id).symptomsAt);
    const logs = h.sim.podLogs('shop', h.pods('shop', 'checkout')[0].metadata.name, {}, () => undefined);
    assert.ok(logs?.lines.some((l) => l.includes('ERROR') && l.includes('1.4.3')));
    // kubectl rollout undo: the previous ReplicaSet's template goes back into the deployment
    const previous = h.replicaSets('shop', 'checkout').find((r) => r.metadata.annotations?.['deployment.kubernetes.io/revision'] === '1');
    assert.ok(previous);
    const template = structuredClone(previous.spec.template);
    delete template.metadata?.labels?.['pod-template-hash'];
    h.store.mutate('deployments', 'shop', 'checkout', (o) => void ((o as Deployment).spec.template = template));
    h.run(10_000);
    const c = scrape(h);
    h.run(30_000);
    const e = scrape(h);
    assert.ok(window(c, e, 'checkout').errorShare < 0.02);
    assert.equal(h.replicaSets('shop', 'checkout').length, 2);
    assert.ok(fault(h, f.id).recoveredAt);
  });

  it('latency-spike multiplies latency while active', () => {
    const h = new SimHarness();
    h.run(3000);
    const a = scrape(h);
    h.run(20_000);
    const b = scrape(h);
    const f = inject(h, { fault: 'latency-spike', target: 'payments/payments-api', factor: 8, durationSeconds: 20 });
    h.run(20_000);
    const c = scrape(h);
    h.run(20_000);
    const d = scrape(h);
    const normal = meanLatency(a, b, 'payments-api');
    const spiked = meanLatency(b, c, 'payments-api');
    assert.ok(spiked > 6 * normal, `${spiked} vs ${normal}`);
    assert.ok(meanLatency(c, d, 'payments-api') < 1.5 * normal);
    assert.ok(fault(h, f.id).recoveredAt);
    assert.ok(h.events({ reason: 'Unhealthy', name: 'payments-api' }).length > 0, 'slow readiness probes');
  });

  it('cpu-hog: one pod burns twice the CPU per request at normal traffic, latency and errors; deleting it heals', () => {
    const h = new SimHarness();
    h.run(3000);
    const a = scrape(h);
    h.run(20_000);
    const b = scrape(h);
    const f = inject(h, { fault: 'cpu-hog', target: 'shop/checkout' });
    assert.ok(f.symptomsAt, 'symptoms from injection');
    h.run(20_000);
    const c = scrape(h);
    const cpu = (x: ReturnType<typeof scrape>) => total(x, 'process_cpu_seconds_total', { deployment: 'checkout' });
    const before = (cpu(b) - cpu(a)) / 20;
    const during = (cpu(c) - cpu(b)) / 20;
    // one pod of three at twice its CPU: the service burns about 4/3 as much
    assert.ok(during > 1.2 * before && during < 1.5 * before, `${during} vs ${before}`);
    assert.ok(window(b, c, 'checkout').requests > 0.8 * window(a, b, 'checkout').requests, 'traffic unchanged');
    assert.ok(meanLatency(b, c, 'checkout') < 1.2 * meanLatency(a, b, 'checkout'), 'latency unchanged');
    assert.equal(fault(h, f.id).recoveredAt, undefined);
    const checkoutPods = h.store.list('pods', 'shop').items.filter((p) => (p as Pod).metadata.labels?.app === 'checkout').map((p) => p.metadata.name).sort();
    for (const name of checkoutPods) h.store.delete('pods', 'shop', name);
    h.run(30_000);
    assert.ok(fault(h, f.id).recoveredAt, 'new pods are not affected');
  });

  it('traffic-surge: rate × N saturates CPU and latency; scaling out heals', () => {
    const h = new SimHarness();
    h.run(3000);
    const a = scrape(h);
    h.run(20_000);
    const b = scrape(h);
    const f = inject(h, { fault: 'traffic-surge', target: 'shop/cart', factor: 5 });
    h.run(20_000);
    const c = scrape(h);
    const normal = window(a, b, 'cart');
    const surge = window(b, c, 'cart');
    assert.ok(surge.requests > 4 * normal.requests);
    assert.ok(meanLatency(b, c, 'cart') > 3 * meanLatency(a, b, 'cart'));
    const cpu = (x: ReturnType<typeof scrape>) => total(x, 'process_cpu_seconds_total', { deployment: 'cart' });
    assert.ok((cpu(c) - cpu(b)) / 20 / 2 > 0.45, 'each pod uses about its whole CPU limit');
    assert.ok((surge.byCode['503'] ?? 0) > 0, 'load shedding');
    assert.equal(fault(h, f.id).recoveredAt, undefined);
    h.store.mutate('deployments', 'shop', 'cart', (o) => void ((o as Deployment).spec.replicas = 8));
    h.run(5000);
    const d = scrape(h);
    h.run(20_000);
    const e = scrape(h);
    assert.ok(meanLatency(d, e, 'cart') < 1.5 * meanLatency(a, b, 'cart'));
    assert.ok(fault(h, f.id).recoveredAt, 'recovered once pods are below saturation');
  });

  it('bad-feature-flag: errors follow the ConfigMap current value; reverting the flag heals', () => {
    const h = new SimHarness();
    h.run(3000);
    const f = inject(h, { fault: 'bad-feature-flag', target: 'shop/checkout' });
    const cm = () => h.store.mustGet('configmaps', 'shop', 'feature-flags') as ConfigMap;
    assert.equal(cm().data?.['checkout.new-pricing-engine'], 'true');
    const a = scrape(h);
    h.run(20_000);
    const b = scrape(h);
    assert.ok(window(a, b, 'checkout').errorShare > 0.25);
    assert.ok(window(a, b, 'cart').errorShare < 0.02, 'other services unaffected');
    h.store.mutate('configmaps', 'shop', 'feature-flags', (o) => void ((o as ConfigMap).data = { ...(o as ConfigMap).data, 'checkout.new-pricing-engine': 'false' }));
    h.run(1000);
    const c = scrape(h);
    h.run(20_000);
    const d = scrape(h);
    assert.ok(window(c, d, 'checkout').errorShare < 0.02);
    assert.ok(fault(h, f.id).recoveredAt);
    // flipping it again by hand brings the errors back: the effect is the value, not the fault record
    h.store.mutate('configmaps', 'shop', 'feature-flags', (o) => void ((o as ConfigMap).data = { ...(o as ConfigMap).data, 'checkout.new-pricing-engine': 'true' }));
    h.run(1000);
    const e = scrape(h);
    h.run(20_000);
    assert.ok(window(e, scrape(h), 'checkout').errorShare > 0.25);
    h.control('DELETE', `/sandbox/v1/faults/${f.id}`);
    assert.equal(cm().data?.['checkout.new-pricing-engine'], 'false', 'ending the fault restores the flag');
    assert.equal(h.control('POST', '/sandbox/v1/faults', { fault: 'bad-feature-flag', target: 'shop/cart' }).status, 400);
  });

  it('dependency-outage: the target answers 503 and its callers return 502', () => {
    const h = new SimHarness();
    h.run(3000);
    const f = inject(h, { fault: 'dependency-outage', target: 'payments/payments-api', durationSeconds: 30 });
    h.run(2000);
    const a = scrape(h);
    h.run(20_000);
    const b = scrape(h);
    const pay = window(a, b, 'payments-api');
    const checkout = window(a, b, 'checkout');
    assert.ok((pay.byCode['503'] ?? 0) / pay.requests > 0.8);
    assert.ok((checkout.byCode['502'] ?? 0) / checkout.requests > 0.4, JSON.stringify(checkout.byCode));
    assert.ok(window(a, b, 'cart').errorShare < 0.02);
    const logs = h.sim.podLogs('shop', h.pods('shop', 'checkout')[0].metadata.name, {}, () => undefined);
    assert.ok(logs?.lines.some((l) => l.includes('call to payments/payments-api failed')));
    h.run(10_000);
    const c = scrape(h);
    h.run(20_000);
    assert.ok(window(c, scrape(h), 'checkout').errorShare < 0.02);
    assert.ok(fault(h, f.id).recoveredAt && fault(h, f.id).endedAt);
  });

  it('a dependency scaled to zero fails its callers, without any fault', () => {
    const h = new SimHarness();
    h.run(3000);
    h.store.mutate('deployments', 'payments', 'payments-api', (o) => void ((o as Deployment).spec.replicas = 0));
    h.run(2000);
    const a = scrape(h);
    h.run(10_000);
    const w = window(a, scrape(h), 'checkout');
    assert.ok((w.byCode['502'] ?? 0) / w.requests > 0.5, JSON.stringify(w.byCode));
  });

  it('bumps versions for bad releases', () => {
    assert.equal(bumpVersion('shop/checkout:1.4.2'), 'shop/checkout:1.4.3');
    assert.equal(bumpVersion('registry:5000/x:v2.0.9-alpine'), 'registry:5000/x:v2.0.10-alpine');
    assert.equal(bumpVersion('nginx'), 'nginx:latest-r2');
    assert.equal(bumpVersion('nginx:stable-r2'), 'nginx:stable-r3');
  });

  it('crash-loop on a single pod leaves the others alone', () => {
    const h = new SimHarness({ kubelet: { crashAfterMs: 500, backoffBaseMs: 500 } });
    h.run(3000);
    const [victim, ...others] = h.pods('shop', 'frontend');
    const f = inject(h, { fault: 'crash-loop', target: `shop/${victim.metadata.name}` });
    assert.equal(f.target, `shop/${victim.metadata.name}`);
    h.run(6000);
    const restarts = (p: Pod) => (h.store.mustGet('pods', 'shop', p.metadata.name) as Pod).status?.containerStatuses?.[0].restartCount ?? 0;
    assert.ok(restarts(victim) >= 2);
    assert.ok(others.every((p) => restarts(p) === 0));
  });
});
