import assert from 'node:assert/strict';
import { DEPENDS_ON_ANNOTATION, DependencyGraph, parseDependsOn } from '../../../src/core/diagnose/dependencyGraph';
import { shopInventory, svc } from '../../fixtures/correlation/scenario';

describe('DependencyGraph', () => {
  it('reads depends-on annotations: namespace/name entries, bare names in the caller namespace, spaces ignored', () => {
    const r = parseDependsOn(' payments/payments-api, cart ,', 'shop');
    assert.deepEqual(r.services, [svc('payments', 'payments-api'), svc('shop', 'cart')]);
    assert.deepEqual(r.problems, []);
  });

  it('names a malformed entry and the fix instead of guessing', () => {
    const r = parseDependsOn('payments/payments-api, a/b/c, Bad_Name', 'shop', 'deployment shop/checkout');
    assert.deepEqual(r.services, [svc('payments', 'payments-api')]);
    assert.equal(r.problems.length, 2);
    assert.match(r.problems[0], /deployment shop\/checkout: annotation vigil\.dev\/depends-on has entry "a\/b\/c"; write it as namespace\/deployment/);
    assert.match(r.problems[1], /"Bad_Name"/);
  });

  it('builds callers, callees, pod placement and node membership from the inventory', () => {
    const g = DependencyGraph.fromInventory(shopInventory({ configMaps: { checkout: ['checkout-flags'] } }));
    assert.deepEqual(g.callees('service:shop/checkout'), ['service:payments/payments-api']);
    assert.deepEqual(g.callers('service:payments/payments-api'), ['service:shop/checkout', 'service:shop/orders']);
    assert.deepEqual(g.servicesOnNode('node:node-2'), ['service:shop/cart', 'service:shop/checkout', 'service:shop/search']);
    assert.deepEqual(g.nodesOfService('service:shop/search'), ['node:node-1', 'node:node-2']);
    assert.equal(g.serviceOfPod({ kind: 'pod', namespace: 'shop', name: 'cart-7d9f8c6b5-abcde' }), 'service:shop/cart');
    assert.equal(g.nodeOfPod({ kind: 'pod', namespace: 'shop', name: 'cart-7d9f8c6b5-abcde' }), 'node:node-2');
    assert.equal(g.references('service:shop/checkout', 'checkout-flags'), true);
    assert.equal(g.references('service:shop/cart', 'checkout-flags'), false);
    assert.deepEqual(g.problems, []);
  });

  it('remembers pods that left the inventory for a while, so late eviction facts still find their node', () => {
    const inv = shopInventory();
    const g = DependencyGraph.fromInventory(inv, 0);
    const gone = { ...inv, services: inv.services.filter((s) => s.target.name !== 'cart') };
    g.applyInventory(gone, 60_000, 5 * 60_000);
    assert.equal(g.nodeOfPod({ kind: 'pod', namespace: 'shop', name: 'cart-7d9f8c6b5-abcde' }), 'node:node-2');
    g.applyInventory(gone, 10 * 60_000, 5 * 60_000);
    assert.equal(g.nodeOfPod({ kind: 'pod', namespace: 'shop', name: 'cart-7d9f8c6b5-abcde' }), undefined);
  });

  it('reports annotation problems of the inventory', () => {
    const inv = shopInventory();
    const bad = { ...inv, services: inv.services.map((s) => (s.target.name === 'orders' ? { ...s, annotations: { [DEPENDS_ON_ANNOTATION]: 'payments/' } } : s)) };
    const g = DependencyGraph.fromInventory(bad);
    assert.equal(g.problems.length, 1);
    assert.match(g.problems[0], /^deployment shop\/orders: annotation vigil\.dev\/depends-on has entry "payments\/"/);
    assert.deepEqual(g.callers('service:payments/payments-api'), ['service:shop/checkout']);
  });
});
