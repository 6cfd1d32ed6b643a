import assert from 'node:assert/strict';
import type { ConfigMap, Deployment, NodeObject } from '../../../../src/sandbox/sim/objects';
import { SimHarness } from './simHarness';

describe('sandbox default topology', () => {
  it('seeds namespaces, three Ready nodes with capacity, the shop and payments services, flags and PDBs', () => {
    const h = new SimHarness();
    const names = (r: 'namespaces' | 'nodes') => h.store.list(r).items.map((o) => o.metadata.name);
    for (const ns of ['default', 'kube-system', 'shop', 'payments']) assert.ok(names('namespaces').includes(ns), ns);
    assert.deepEqual(names('nodes'), ['node-1', 'node-2', 'node-3']);
    for (const n of h.store.list('nodes').items as NodeObject[]) {
      assert.equal(n.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
      assert.ok(n.status?.capacity?.cpu && n.status.capacity.memory && n.status.capacity.pods);
    }
    const deps = (h.store.list('deployments').items as Deployment[]).map((d) => [d.metadata.namespace, d.metadata.name, d.spec.replicas]);
    assert.deepEqual(deps, [
      ['payments', 'payments-api', 2],
      ['shop', 'cart', 2],
      ['shop', 'checkout', 3],
      ['shop', 'frontend', 3],
    ]);
    for (const d of h.store.list('deployments').items as Deployment[]) {
      const a = d.spec.template.metadata?.annotations ?? {};
      assert.deepEqual([a['prometheus.io/scrape'], a['prometheus.io/port'], a['prometheus.io/path']], ['true', '8080', '/metrics']);
    }
    assert.equal(h.deployment('shop', 'checkout').metadata.annotations?.['vigil.dev/depends-on'], 'payments/payments-api');
    assert.equal(h.deployment('shop', 'frontend').metadata.annotations?.['vigil.dev/depends-on'], 'shop/cart,shop/checkout');
    const flags = h.store.mustGet('configmaps', 'shop', 'feature-flags') as ConfigMap;
    assert.ok(Object.keys(flags.data ?? {}).length >= 3);
    const pdb = (name: string) => h.store.mustGet('poddisruptionbudgets', 'shop', name).spec as Record<string, unknown>;
    assert.equal(pdb('checkout').minAvailable, 2);
    assert.ok(pdb('frontend'));
  });

  it('is idempotent: seeding twice keeps what exists', () => {
    const h = new SimHarness();
    const rv = h.store.resourceVersion;
    h.sim.seedTopology();
    assert.equal(h.store.resourceVersion, rv);
  });
});
