import assert from 'node:assert/strict';
import { VirtualClock } from '../../../src/core/loop/virtualClock';
import { unreachableNodes } from '../../../src/core/observe/nodeHeartbeats';
import type { WorkloadInventory } from '../../../src/core/ports';
import { NodeReachability } from '../../../src/infra/kubernetes/nodeReachability';
import { ScrapeFailureWatch } from '../../../src/infra/prometheus/scrapeFailures';

const inventory = {
  services: [
    { target: { kind: 'service', namespace: 'shop', name: 'cart' }, revision: 1, image: 'cart:1', replicas: 2, availableReplicas: 2, rolloutInProgress: false, labels: {}, pods: [
      { name: 'cart-a', node: 'node-1', ready: true, restarts: 0, phase: 'Running' },
      { name: 'cart-b', node: 'node-2', ready: true, restarts: 0, phase: 'Running' },
    ] },
    { target: { kind: 'service', namespace: 'shop', name: 'checkout' }, revision: 1, image: 'checkout:1', replicas: 1, availableReplicas: 1, rolloutInProgress: false, labels: {}, pods: [
      { name: 'checkout-a', node: 'node-2', ready: true, restarts: 0, phase: 'Running' },
    ] },
  ],
  nodes: ['node-1', 'node-2', 'node-3'].map((name) => ({ name, ready: true, unschedulable: false, pods: 1 })),
} as unknown as WorkloadInventory;

/** `up == 0` series as kube-prometheus-stack labels them: the kubelet by node, a pod by namespace and pod. */
const kubelet = (node: string) => ({ __name__: 'up', job: 'kubelet', metrics_path: '/metrics/cadvisor', namespace: 'kube-system', node });
const pod = (name: string, node?: string) => ({ __name__: 'up', job: 'kubernetes-pods', namespace: 'shop', pod: name, ...(node ? { node } : {}) });

describe('unreachableNodes: a node whose kubelet and pods fail their scrapes', () => {
  it('names the node when its kubelet and a pod on it (by its node label or the inventory) fail', () => {
    assert.deepEqual(unreachableNodes({ t: 0, down: [kubelet('node-2'), pod('cart-b'), pod('checkout-a', 'node-2')] }, inventory), [{ node: 'node-2', pods: ['shop/cart-b', 'shop/checkout-a'] }]);
  });

  it('names none for a crash-looping pod (its kubelet answers), a kubelet alone, or every kubelet at once (Prometheus cut off)', () => {
    assert.deepEqual(unreachableNodes({ t: 0, down: [pod('cart-b'), pod('checkout-a')] }, inventory), [], 'pods fail, the kubelet answers');
    assert.deepEqual(unreachableNodes({ t: 0, down: [kubelet('node-2')] }, inventory), [], 'the kubelet alone: its pods still answer');
    assert.deepEqual(unreachableNodes({ t: 0, down: [...['node-1', 'node-2', 'node-3'].map(kubelet), pod('cart-a'), pod('cart-b')] }, inventory), []);
    assert.deepEqual(unreachableNodes({ t: 0, down: [kubelet('node-9'), pod('ghost', 'node-9')] }, inventory), [], 'a node the inventory does not have');
  });
});

describe('NodeReachability: facts of a node Prometheus cannot reach', () => {
  it('says node-not-ready (NodeUnreachable) once, with its pods and Lease, and node-ready when its kubelet answers again', () => {
    const r = new NodeReachability();
    const beats = [{ node: 'node-1', renewedAt: 9_000, everyMs: 10_000 }, { node: 'node-2', renewedAt: 6_000, everyMs: 10_000 }];
    const down = { t: 10_000, down: [kubelet('node-2'), pod('cart-b'), pod('checkout-a')] };
    const [f, ...rest] = r.observe(down, inventory, beats, 10_500);
    assert.equal(rest.length, 0);
    assert.equal(f.kind, 'node-not-ready');
    assert.equal(f.reason, 'NodeUnreachable');
    assert.equal(f.t, 10_000);
    assert.deepEqual(f.target, { kind: 'node', name: 'node-2' });
    assert.equal(f.message, "Node node-2 stopped answering: its kubelet and 2 pod(s) on it (shop/cart-b, shop/checkout-a) fail their scrapes (Prometheus up == 0) while the other nodes answer; its Lease was last renewed 5 s ago (every 10 s). The node is down or cut off; NotReady follows after the node monitor's grace period");
    assert.deepEqual(r.observe({ ...down, t: 11_000 }, inventory, beats, 11_000), [], 'said once');
    assert.deepEqual(r.observe({ t: 12_000, down: [pod('cart-b')] }, inventory, beats, 12_000).map((x) => `${x.kind} ${x.reason} ${x.message}`), ["node-ready NodeReachable Node node-2's kubelet answers its scrapes again"]);
  });
});

describe('ScrapeFailureWatch', () => {
  it('reads `up == 0` every second and hands on what fails; a failed read is skipped', async () => {
    const clock = new VirtualClock(1_000_000);
    const asked: Array<{ q: string; t: number }> = [];
    let fail = false;
    const reads: Array<{ t: number; n: number }> = [];
    const watch = new ScrapeFailureWatch({
      client: {
        instant: async (q: string, t: number) => {
          asked.push({ q, t });
          if (fail) throw new Error('Prometheus unreachable');
          return [{ metric: kubelet('node-2'), value: [t / 1000, '0'] as [number, string] }];
        },
      },
      clock,
      onRead: (read) => reads.push({ t: read.t, n: read.down.length }),
    });
    watch.start();
    await clock.advance(1_000);
    fail = true;
    await clock.advance(1_000);
    fail = false;
    await clock.advance(1_000);
    watch.dispose();
    await clock.advance(5_000);
    assert.deepEqual(asked.map((a) => a.q), ['up == 0', 'up == 0', 'up == 0']);
    assert.deepEqual(reads, [{ t: 1_001_000, n: 1 }, { t: 1_003_000, n: 1 }]);
  });
});
