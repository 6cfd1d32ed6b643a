import assert from 'node:assert/strict';
import type { EventsPort, WorkloadInventory } from '../../../src/core/ports';
import { loopRig } from './loopRig';

type Service = WorkloadInventory['services'][number];
const svc = (name: string, replicas: number, available: number, pods: Array<[string, string]>): Service => ({
  target: { kind: 'service', namespace: 'shop', name },
  revision: 1,
  image: `shop/${name}:1`,
  replicas,
  availableReplicas: available,
  rolloutInProgress: false,
  labels: {},
  pods: pods.map(([pod, node]) => ({ name: pod, node, ready: true, restarts: 0, phase: 'Running' })),
});

describe('DetectionPipeline: where a failed node\'s workloads went', () => {
  it('is complete only once the services that ran on the node are available elsewhere and nothing is left on it', () => {
    let inv: WorkloadInventory = { nodes: [{ name: 'node-1', ready: true, unschedulable: false, pods: 2 }, { name: 'node-2', ready: true, unschedulable: false, pods: 2 }], services: [svc('checkout', 2, 2, [['checkout-a', 'node-1'], ['checkout-b', 'node-2']]), svc('cart', 1, 1, [['cart-a', 'node-1']])] };
    const none = { dispose: () => undefined };
    const events: EventsPort = { inventory: () => inv, subscribe: () => none, onStatus: () => none, recentLogs: async () => [] };
    const rig = loopRig({ events });
    const node2 = { kind: 'node' as const, name: 'node-2' };
    rig.frame({ request_rate: 10 });
    assert.deepEqual(rig.evidence.rescheduled(node2), { complete: false, message: '1 pod(s) still on node-2: shop/checkout-b' });
    // evicted: the replacement is not available yet
    inv = { ...inv, services: [svc('checkout', 2, 1, [['checkout-a', 'node-1'], ['checkout-c', 'node-1']]), inv.services[1]] };
    rig.frame({ request_rate: 10 });
    assert.deepEqual(rig.evidence.rescheduled(node2), { complete: false, message: 'moved off node-2, not yet available again: shop/checkout 1/2 available' });
    inv = { ...inv, services: [svc('checkout', 2, 2, [['checkout-a', 'node-1'], ['checkout-c', 'node-1']]), inv.services[1]] };
    assert.deepEqual(rig.evidence.rescheduled(node2), { complete: true, message: 'every workload that ran on node-2 is available elsewhere: shop/checkout' });
    assert.equal(rig.evidence.rescheduled({ kind: 'service', namespace: 'shop', name: 'cart' }), undefined, 'only nodes have placements');
  });

  it('says the pods left are stalled when the node is NotReady or its Lease overdue and nothing evicts them; a DaemonSet\'s pods stay', () => {
    const ds: Service = { ...svc('node-exporter', 2, 1, [['ne-a', 'node-1'], ['ne-b', 'node-2']]), workloadKind: 'DaemonSet' };
    let ready = true;
    let heartbeats = [{ node: 'node-1', renewedAt: 0, everyMs: 10_000 }, { node: 'node-2', renewedAt: 0, everyMs: 10_000 }];
    const inv = (): WorkloadInventory => ({ nodes: [{ name: 'node-1', ready: true, unschedulable: false, pods: 2 }, { name: 'node-2', ready, unschedulable: true, pods: 2 }], services: [svc('checkout', 2, 1, [['checkout-a', 'node-1'], ['checkout-b', 'node-2']]), ds] });
    const none = { dispose: () => undefined };
    const events: EventsPort = { inventory: inv, subscribe: () => none, onStatus: () => none, recentLogs: async () => [], nodeHeartbeats: () => heartbeats };
    const rig = loopRig({ events });
    const node2 = { kind: 'node' as const, name: 'node-2' };
    rig.frame({ request_rate: 10 });
    const now = rig.clock.now();
    heartbeats = [{ node: 'node-1', renewedAt: now - 2_000, everyMs: 10_000 }, { node: 'node-2', renewedAt: now - 5_000, everyMs: 10_000 }];
    assert.deepEqual(rig.evidence.rescheduled(node2), { complete: false, message: '1 pod(s) still on node-2: shop/checkout-b', renewing: 'node-2 is Ready and renewed its Lease 5 s ago' }, 'a current Lease: the kubelet is alive');
    heartbeats = [{ node: 'node-1', renewedAt: now - 2_000, everyMs: 10_000 }, { node: 'node-2', renewedAt: now - 12_400, everyMs: 10_000 }];
    assert.deepEqual(rig.evidence.rescheduled(node2), { complete: false, message: '1 pod(s) still on node-2: shop/checkout-b', stalled: 'node-2 has not renewed its Lease for 12 s and none of its pods is being evicted' });
    heartbeats = [{ node: 'node-1', renewedAt: now - 12_000, everyMs: 10_000 }, { node: 'node-2', renewedAt: now - 12_400, everyMs: 10_000 }];
    assert.deepEqual(rig.evidence.rescheduled(node2), { complete: false, message: '1 pod(s) still on node-2: shop/checkout-b' }, 'every Lease late at once: the watch stalled, not the node, and none is known alive');
    ready = false;
    assert.equal(rig.evidence.rescheduled(node2)?.stalled, 'node-2 is NotReady and none of its pods is being evicted');
  });

  it('leaves a DaemonSet\'s pods on the node out: no drain moves them, and the node is clear without them', () => {
    const ds: Service = { ...svc('node-exporter', 2, 1, [['ne-a', 'node-1'], ['ne-b', 'node-2']]), workloadKind: 'DaemonSet' };
    const none = { dispose: () => undefined };
    const events: EventsPort = { inventory: () => ({ nodes: [{ name: 'node-1', ready: true, unschedulable: false, pods: 2 }, { name: 'node-2', ready: false, unschedulable: true, pods: 1 }], services: [svc('checkout', 2, 2, [['checkout-a', 'node-1'], ['checkout-c', 'node-1']]), ds] }), subscribe: () => none, onStatus: () => none, recentLogs: async () => [] };
    const rig = loopRig({ events });
    rig.frame({ request_rate: 10 });
    assert.deepEqual(rig.evidence.rescheduled({ kind: 'node', name: 'node-2' }), { complete: true, message: 'no workload ran on node-2' });
  });

  it('has no evidence before the inventory has synced', () => {
    const rig = loopRig();
    assert.equal(rig.evidence.rescheduled({ kind: 'node', name: 'node-2' }), undefined);
  });
});
