import assert from 'node:assert/strict';
import type { ConfigMap, Deployment, Pod } from '../../../../src/sandbox/sim/objects';
import { ready, scrape, SimHarness, window } from './simHarness';

/** Faults that fight back: the first remedy that comes to mind does not heal them; each names cause and remedy. */
const FAST = { kubelet: { crashAfterMs: 1000, backoffBaseMs: 1000, backoffMaxMs: 4000 } };

function inject(h: SimHarness, body: Record<string, unknown>): Record<string, unknown> {
  const r = h.control('POST', '/sandbox/v1/faults', body);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}
const truth = (h: SimHarness, id: unknown) => h.control('GET', `/sandbox/v1/faults/${id}`).body;

function restartRollout(h: SimHarness, ns: string, name: string): void {
  h.store.mutate('deployments', ns, name, (o) => {
    const t = (o as Deployment).spec.template;
    t.metadata = { ...t.metadata, annotations: { ...t.metadata?.annotations, 'kubectl.kubernetes.io/restartedAt': new Date(h.t).toISOString() } };
  });
}

function rollBack(h: SimHarness, ns: string, name: string): void {
  const previous = h.replicaSets(ns, name).find((r) => r.metadata.annotations?.['deployment.kubernetes.io/revision'] === '1');
  assert.ok(previous);
  const template = structuredClone(previous.spec.template);
  delete template.metadata?.labels?.['pod-template-hash'];
  h.store.mutate('deployments', ns, name, (o) => void ((o as Deployment).spec.template = template));
}

const restarts = (p: Pod) => p.status?.containerStatuses?.[0]?.restartCount ?? 0;

describe('sandbox faults that fight back', () => {
  it('bad-config: every pod crash-loops while the value is bad, new pods too; a restart does not heal, reverting the value does', () => {
    const h = new SimHarness(FAST);
    h.run(3000);
    const f = inject(h, { fault: 'bad-config', target: 'shop/checkout' });
    assert.equal(f.cause, 'shop/checkout');
    assert.deepEqual((f.remedy as { actions: string[] }).actions, ['patch-configmap']);
    const cm = () => h.store.mustGet('configmaps', 'shop', 'feature-flags') as ConfigMap;
    assert.equal(cm().data?.['checkout.new-pricing-engine'], 'true');
    h.run(15_000);
    assert.ok(h.pods('shop', 'checkout').every((p) => restarts(p) >= 2), h.pods('shop', 'checkout').map(restarts).join());
    assert.ok(truth(h, f.id).symptomsAt);
    restartRollout(h, 'shop', 'checkout');
    h.run(30_000);
    const fresh = h.pods('shop', 'checkout');
    assert.ok(fresh.some((p) => restarts(p) >= 1), 'the new pods crash too');
    assert.equal(truth(h, f.id).recoveredAt, undefined);
    h.store.mutate('configmaps', 'shop', 'feature-flags', (o) => void ((o as ConfigMap).data = { ...(o as ConfigMap).data, 'checkout.new-pricing-engine': 'false' }));
    h.run(40_000);
    assert.ok(h.pods('shop', 'checkout').filter(ready).length >= 3);
    assert.ok(truth(h, f.id).recoveredAt, 'reverting the value heals');
  });

  it('crash-release: the new image exits at start-up; a restart does not heal, a rollback does', () => {
    const h = new SimHarness(FAST);
    h.run(3000);
    const f = inject(h, { fault: 'crash-release', target: 'shop/cart' });
    assert.deepEqual((f.remedy as { actions: string[] }).actions, ['rollback']);
    h.run(20_000);
    const bad = h.pods('shop', 'cart').filter((p) => p.spec.containers[0].image === 'shop/cart:1.8.1');
    assert.ok(bad.length > 0 && bad.every((p) => restarts(p) >= 1), bad.map(restarts).join());
    assert.ok(truth(h, f.id).symptomsAt);
    restartRollout(h, 'shop', 'cart');
    h.run(20_000);
    assert.equal(truth(h, f.id).recoveredAt, undefined, 'a restart keeps the crashing image');
    rollBack(h, 'shop', 'cart');
    h.run(60_000);
    assert.ok(h.pods('shop', 'cart').every((p) => p.spec.containers[0].image === 'shop/cart:1.8.0'));
    assert.ok(truth(h, f.id).recoveredAt, 'the rollback heals');
  });

  it('disk-full: every pod answers 503, new ones too; no restart heals it and the ground truth says a human must', () => {
    const h = new SimHarness();
    h.run(3000);
    const f = inject(h, { fault: 'disk-full', target: 'payments/payments-api' });
    assert.deepEqual((f.remedy as { actions: string[] }).actions, []);
    assert.match(String((f.remedy as { words: string }).words), /escalate/);
    const a = scrape(h);
    h.run(20_000);
    const b = scrape(h);
    assert.ok(window(a, b, 'payments-api').errorShare > 0.7);
    assert.ok(window(a, b, 'checkout').errorShare > 0.2, 'its caller fails too');
    restartRollout(h, 'payments', 'payments-api');
    h.run(40_000);
    const c = scrape(h);
    h.run(20_000);
    assert.ok(window(c, scrape(h), 'payments-api').errorShare > 0.7, 'new pods fail the same');
    assert.equal(truth(h, f.id).recoveredAt, undefined);
  });

  it('flapping: on and off every period, whatever is done', () => {
    const h = new SimHarness();
    h.run(3000);
    inject(h, { fault: 'flapping', target: 'shop/cart', periodSeconds: 30 });
    const shares: number[] = [];
    for (let i = 0; i < 4; i++) {
      const a = scrape(h);
      h.run(30_000);
      shares.push(window(a, scrape(h), 'cart').errorShare);
    }
    assert.ok(shares[0] > 0.5 && shares[2] > 0.5, shares.join());
    assert.ok(shares[1] < 0.05 && shares[3] < 0.05, shares.join());
  });

  it('healthy-release: rolls out a new image that serves as well as the old one', () => {
    const h = new SimHarness();
    h.run(3000);
    const f = inject(h, { fault: 'healthy-release', target: 'shop/frontend' });
    assert.deepEqual((f.remedy as { actions: string[] }).actions, []);
    h.run(20_000);
    assert.ok(h.pods('shop', 'frontend').every((p) => p.spec.containers[0].image === 'shop/frontend:2.3.2'));
    const a = scrape(h);
    h.run(20_000);
    assert.ok(window(a, scrape(h), 'frontend').errorShare < 0.02);
  });
});
