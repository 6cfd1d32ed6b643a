import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import { silentNodeOf } from '../../../src/core/observe/nodeHeartbeats';
import type { WorkloadInventory } from '../../../src/core/ports';
import { NodeLeases } from '../../../src/infra/kubernetes/nodeLeases';

const lease = (node: string, renewTime: number): k8s.V1Lease => ({ metadata: { name: node, namespace: 'kube-node-lease' }, spec: { holderIdentity: node, leaseDurationSeconds: 40, renewTime: new Date(renewTime) as unknown as k8s.V1MicroTime } });

/** Three kubelets renewing every 10 s (at 0, 10, 20 s ...), node-2 stopping after its renewal at `stopsAt`. */
function drill(stopsAt: number, until: number, stopAll = false) {
  const leases = new NodeLeases();
  const facts: Array<{ t: number; kind: string; reason?: string; message: string; at: number }> = [];
  const last = new Map<string, k8s.V1Lease>();
  for (let now = 0; now <= until; now += 500) {
    if (now % 10_000 === 0) {
      for (const node of ['node-1', 'node-2', 'node-3']) {
        if ((node === 'node-2' || stopAll) && now > stopsAt) continue;
        const cur = lease(node, now);
        leases.observe(last.get(node), cur, now);
        last.set(node, cur);
      }
    }
    for (const f of leases.check(now)) facts.push({ t: f.t, kind: f.kind, reason: f.reason, message: f.message, at: now });
  }
  return { leases, facts };
}

describe('NodeLeases: a kubelet that stops renewing its Lease', () => {
  it('is named one and a half renew intervals after its last renewal, long before a 40 s grace period makes it NotReady', () => {
    const { facts } = drill(20_000, 60_000);
    assert.equal(facts.length, 1, JSON.stringify(facts));
    const [f] = facts;
    assert.equal(f.kind, 'node-not-ready');
    assert.equal(f.reason, 'NodeLeaseExpired');
    assert.ok(f.at > 35_000 && f.at <= 36_000, `named at ${f.at / 1000} s, last renewal at 20 s`);
    assert.equal(f.message, "Node node-2 stopped renewing its Lease: last renewed 16 s ago (every 10 s; 2 other nodes renew theirs). Its kubelet is down or cut off; NotReady follows after the node monitor's grace period");
  });

  it('says so when it renews again, and a Lease renewed on time is never named', () => {
    const leases = new NodeLeases();
    const l1 = lease('node-1', 0);
    const l2 = lease('node-2', 0);
    leases.observe(undefined, l1, 0);
    leases.observe(undefined, l2, 0);
    const seen: string[] = [];
    for (let now = 500; now <= 40_000; now += 500) {
      if (now % 10_000 === 0) leases.observe(l1, lease('node-1', now), now);
      if (now === 30_000) leases.observe(l2, lease('node-2', now), now);
      for (const f of leases.check(now)) seen.push(`${now / 1000} ${f.target.name} ${f.reason}`);
    }
    assert.deepEqual(seen, ['15.5 node-2 NodeLeaseExpired', '30 node-2 NodeLeaseRenewed']);
  });

  it('names no node when every Lease stops at once (the watch or the API server stalled, not the kubelets)', () => {
    assert.deepEqual(drill(20_000, 90_000, true).facts, []);
  });
});

describe('silentNodeOf: a step waits on a node that missed a renewal', () => {
  const inventory = {
    services: [{ target: { kind: 'service', namespace: 'shop', name: 'cart' }, revision: 1, image: 'cart:1', replicas: 2, availableReplicas: 2, rolloutInProgress: false, labels: {}, pods: [
      { name: 'cart-a', node: 'node-1', ready: true, restarts: 0, phase: 'Running' },
      { name: 'cart-b', node: 'node-2', ready: true, restarts: 0, phase: 'Running' },
    ] }],
    nodes: [],
  } as unknown as WorkloadInventory;
  const cart = { kind: 'service' as const, namespace: 'shop', name: 'cart' };
  const beats = (node2: number) => [{ node: 'node-1', renewedAt: 20_000, everyMs: 10_000 }, { node: 'node-2', renewedAt: node2, everyMs: 10_000 }, { node: 'node-3', renewedAt: 20_000, everyMs: 10_000 }];

  it('names node-2 once its Lease is older than a renew interval and a second, while the others are current', () => {
    assert.equal(silentNodeOf(cart, () => inventory, beats(20_000), 25_000), undefined, 'renewed 5 s ago: current');
    assert.equal(silentNodeOf(cart, () => inventory, beats(14_000), 25_000), undefined, '11 s: within the slack');
    assert.deepEqual(silentNodeOf(cart, () => inventory, beats(13_000), 25_000), { node: 'node-2', ageMs: 12_000, everyMs: 10_000, pods: ['cart-b'], total: 2 });
  });

  it('holds no longer than three intervals, not for a node without its pods, not when no other node is current', () => {
    assert.equal(silentNodeOf(cart, () => inventory, beats(-10_000), 25_000), undefined, '35 s: named long since, the hold is over');
    assert.equal(silentNodeOf({ ...cart, name: 'checkout' }, () => inventory, beats(13_000), 25_000), undefined, 'no pods of it there');
    assert.equal(silentNodeOf(cart, () => inventory, beats(13_000).map((b) => ({ ...b, renewedAt: 13_000 })), 25_000), undefined, 'every Lease late: the watch stalled');
  });
});
