import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import { configMapFacts, deploymentFacts, eventFact, nodeFacts, podFacts } from '../../../src/infra/kubernetes/facts';
import { buildInventory, owningDeployment, rolloutInProgress, serviceOfPod, templateConfigMaps } from '../../../src/infra/kubernetes/inventory';

const svc = { kind: 'service' as const, namespace: 'shop', name: 'cart' };

function deployment(o: { rev: number; image: string; replicas: number; gen: number; observed: number; updated: number; available: number }): k8s.V1Deployment {
  return {
    metadata: { namespace: 'shop', name: 'cart', generation: o.gen, annotations: { 'deployment.kubernetes.io/revision': String(o.rev) }, labels: { app: 'cart' } },
    spec: { replicas: o.replicas, selector: { matchLabels: { app: 'cart' } }, template: { spec: { containers: [{ name: 'cart', image: o.image }], volumes: [{ name: 'cfg', configMap: { name: 'cart-config' } }] } } },
    status: { observedGeneration: o.observed, replicas: o.replicas, updatedReplicas: o.updated, availableReplicas: o.available },
  };
}

function pod(name: string, restarts: number, extra: Partial<k8s.V1ContainerStatus> = {}, status: Partial<k8s.V1PodStatus> = {}): k8s.V1Pod {
  return {
    metadata: { namespace: 'shop', name, labels: { 'pod-template-hash': 'abc12' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'cart-abc12', uid: 'u1' }] },
    spec: { nodeName: 'node-1', containers: [{ name: 'cart' }] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'cart', restartCount: restarts, ready: true, image: 'x', imageID: 'x', ...extra }], ...status },
  };
}

describe('Kubernetes facts', () => {
  it('pod restarts, OOM kills, crash backoff and evictions', () => {
    const before = pod('cart-abc12-x', 0);
    const oom = pod('cart-abc12-x', 1, { lastState: { terminated: { reason: 'OOMKilled', exitCode: 137 } }, state: { waiting: { reason: 'CrashLoopBackOff' } } });
    const facts = podFacts(before, oom, svc, 1000);
    assert.deepEqual(facts.map((f) => f.kind), ['pod-restarted', 'oom-killed', 'crash-backoff']);
    assert.ok(facts.every((f) => f.target === svc && f.attributes?.pod === 'cart-abc12-x' && f.t === 1000));
    assert.deepEqual(podFacts(oom, oom, svc, 2000), [], 'no change, no fact');
    const evicted = podFacts(before, pod('cart-abc12-x', 0, {}, { reason: 'Evicted', message: 'The node was low on resource: memory.' }), svc, 3000);
    assert.equal(evicted[0].kind, 'pod-evicted');
    assert.match(evicted[0].message, /low on resource: memory/);
    assert.deepEqual(podFacts(undefined, oom, svc, 1).map((f) => f.kind), ['crash-backoff'], 'a newly listed pod has no restart history to diff, but its crash loop is current state');
  });

  it('revision change, rollout start and finish, scaling', () => {
    const stable = deployment({ rev: 3, image: 'cart:1', replicas: 2, gen: 5, observed: 5, updated: 2, available: 2 });
    const started = deployment({ rev: 4, image: 'cart:2', replicas: 2, gen: 6, observed: 5, updated: 2, available: 2 });
    const kinds = deploymentFacts(stable, started, 10).map((f) => f.kind);
    assert.deepEqual(kinds, ['revision-changed', 'rollout-started']);
    const rev = deploymentFacts(stable, started, 10)[0];
    assert.deepEqual(rev.attributes, { from: 3, to: 4, image: 'cart:2', previousImage: 'cart:1' });
    const progressing = deployment({ rev: 4, image: 'cart:2', replicas: 2, gen: 6, observed: 6, updated: 1, available: 2 });
    assert.deepEqual(deploymentFacts(started, progressing, 11), [], 'still rolling: nothing new');
    const done = deployment({ rev: 4, image: 'cart:2', replicas: 2, gen: 6, observed: 6, updated: 2, available: 2 });
    assert.deepEqual(deploymentFacts(progressing, done, 12).map((f) => f.kind), ['rollout-finished']);
    const scaled = deployment({ rev: 4, image: 'cart:2', replicas: 4, gen: 7, observed: 7, updated: 4, available: 4 });
    const sf = deploymentFacts(done, scaled, 13);
    assert.deepEqual(sf.map((f) => f.kind), ['scaled']);
    assert.deepEqual(sf[0].attributes, { from: 2, to: 4 });
    assert.equal(rolloutInProgress(done), false);
    assert.equal(rolloutInProgress(progressing), true);
  });

  it('node readiness transitions and configmap changes for the services that use it', () => {
    const node = (ready: boolean): k8s.V1Node => ({ metadata: { name: 'node-2' }, status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'Unknown', reason: ready ? 'KubeletReady' : 'NodeStatusUnknown', message: ready ? '' : 'Kubelet stopped posting node status.' }] } });
    const down = nodeFacts(node(true), node(false), 5);
    assert.equal(down[0].kind, 'node-not-ready');
    assert.match(down[0].message, /Kubelet stopped posting/);
    assert.equal(nodeFacts(node(false), node(true), 6)[0].kind, 'node-ready');
    const cm = (v: string): k8s.V1ConfigMap => ({ metadata: { namespace: 'shop', name: 'cart-config' }, data: { 'cart.flag': v, other: 'same' } });
    const f = configMapFacts(cm('off'), cm('on'), [svc], 7);
    assert.equal(f.length, 1);
    assert.deepEqual(f[0].attributes, { configMap: 'cart-config', keys: 'cart.flag', key: 'cart.flag', previousValue: 'off', value: 'on' });
    // several keys at once, or a long value, is no single flag to put back
    const two = configMapFacts({ ...cm('off'), data: { 'cart.flag': 'off', other: 'a' } }, { ...cm('on'), data: { 'cart.flag': 'on', other: 'b' } }, [svc], 7);
    assert.deepEqual(two[0].attributes, { configMap: 'cart-config', keys: 'cart.flag,other' });
    assert.equal(configMapFacts(cm('off'), cm('x'.repeat(300)), [svc], 7)[0].attributes?.previousValue, undefined);
    assert.deepEqual(configMapFacts(cm('on'), cm('on'), [svc], 8), []);
  });

  it('Kubernetes events resolve to the service or node they concern', () => {
    const ev: k8s.CoreV1Event = { metadata: { namespace: 'shop', name: 'e1' }, involvedObject: { kind: 'Pod', namespace: 'shop', name: 'cart-abc12-x' }, reason: 'BackOff', message: 'Back-off restarting failed container', type: 'Warning', count: 3, lastTimestamp: new Date('2026-11-23T10:00:00Z') };
    const f = eventFact(ev, (_ns, kind) => (kind === 'Pod' ? svc : undefined), 99);
    assert.equal(f?.kind, 'k8s-event');
    assert.equal(f?.severity, 'Warning');
    assert.equal(f?.t, Date.parse('2026-11-23T10:00:00Z'));
    assert.equal(f?.target, svc);
    assert.equal(eventFact({ ...ev, involvedObject: { kind: 'Secret', name: 's' } }, () => undefined, 1), undefined);
  });
});

describe('workload inventory', () => {
  it('groups pods under their deployment through ReplicaSets, with node pod counts', () => {
    const rs: k8s.V1ReplicaSet = { metadata: { namespace: 'shop', name: 'cart-abc12', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'cart', uid: 'd' }] } };
    const pods = [pod('cart-abc12-a', 2), pod('cart-abc12-b', 0, {}, { phase: 'Pending', conditions: [] })];
    const inv = buildInventory({ pods, deployments: [deployment({ rev: 4, image: 'cart:2', replicas: 2, gen: 6, observed: 6, updated: 2, available: 1 })], replicaSets: [rs], nodes: [{ metadata: { name: 'node-1' }, spec: { unschedulable: true }, status: { conditions: [{ type: 'Ready', status: 'True' }] } }] });
    assert.equal(inv.services.length, 1);
    const s = inv.services[0];
    assert.deepEqual(s.target, svc);
    assert.equal(s.revision, 4);
    assert.equal(s.image, 'cart:2');
    assert.equal(s.rolloutInProgress, false, 'an unavailable replica of the current template is not a rollout');
    assert.deepEqual(s.pods, [
      { name: 'cart-abc12-a', node: 'node-1', ready: true, restarts: 2, phase: 'Running' },
      { name: 'cart-abc12-b', node: 'node-1', ready: false, restarts: 0, phase: 'Pending' },
    ]);
    assert.deepEqual(s.configMaps, ['cart-config']);
    assert.deepEqual(inv.nodes, [{ name: 'node-1', ready: true, unschedulable: true, pods: 2 }]);
  });

  it('sums a pod\'s container memory limits, and knows none when a container has no limit', () => {
    const rs: k8s.V1ReplicaSet = { metadata: { namespace: 'shop', name: 'cart-abc12', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'cart', uid: 'd' }] } };
    const limited = (name: string, limits: Array<string | undefined>): k8s.V1Pod => ({ ...pod(name, 0), spec: { nodeName: 'node-1', containers: limits.map((memory, i) => ({ name: `c${i}`, ...(memory ? { resources: { limits: { memory } } } : {}) })) } });
    const inv = buildInventory({ pods: [limited('cart-abc12-a', ['256Mi', '64Mi']), limited('cart-abc12-b', ['256Mi', undefined])], deployments: [deployment({ rev: 1, image: 'cart:1', replicas: 2, gen: 1, observed: 1, updated: 2, available: 2 })], replicaSets: [rs], nodes: [] });
    assert.deepEqual(inv.services[0].pods.map((p) => p.memoryLimitBytes), [320 * 1024 * 1024, undefined]);
  });

  it('falls back to the pod-template-hash when the ReplicaSet is not cached yet', () => {
    assert.equal(owningDeployment(pod('cart-abc12-a', 0), []), 'cart');
  });

  it("a StatefulSet's or DaemonSet's pod counts for its workload, as its series do; a bare ReplicaSet's pod stays a pod", () => {
    const owned = (name: string, kind: string, owner: string): k8s.V1Pod => ({ ...pod(name, 3), metadata: { namespace: 'shop', name, ownerReferences: [{ apiVersion: 'apps/v1', kind, name: owner, uid: 'u', controller: true }] } });
    assert.deepEqual(serviceOfPod(owned('orders-db-0', 'StatefulSet', 'orders-db'), []), { kind: 'service', namespace: 'shop', name: 'orders-db' });
    assert.deepEqual(serviceOfPod(owned('log-agent-x7k2p', 'DaemonSet', 'log-agent'), []), { kind: 'service', namespace: 'shop', name: 'log-agent' });
    const bare: k8s.V1ReplicaSet = { metadata: { namespace: 'shop', name: 'batch-rs' } };
    assert.equal(serviceOfPod(owned('batch-rs-q9w4z', 'ReplicaSet', 'batch-rs'), [bare]), undefined);
    const restarted = podFacts(owned('orders-db-0', 'StatefulSet', 'orders-db'), { ...owned('orders-db-0', 'StatefulSet', 'orders-db'), status: pod('orders-db-0', 4).status }, serviceOfPod(owned('orders-db-0', 'StatefulSet', 'orders-db'), []), 1000);
    assert.ok(restarted.some((f) => f.kind === 'pod-restarted' && f.target.kind === 'service' && f.target.name === 'orders-db'), JSON.stringify(restarted));
    // known by their pods in the inventory: restarts and readiness for the playbooks and the verifier
    const inv = buildInventory({ pods: [owned('orders-db-0', 'StatefulSet', 'orders-db'), owned('orders-db-1', 'StatefulSet', 'orders-db'), owned('batch-rs-q9w4z', 'ReplicaSet', 'batch-rs')], deployments: [], replicaSets: [bare], nodes: [] });
    assert.deepEqual(inv.services.map((x) => [x.target.name, x.replicas, x.availableReplicas, x.pods.reduce((n, p) => n + p.restarts, 0)]), [['orders-db', 2, 2, 6]]);
  });

  it('finds configmaps used through volumes, envFrom and env', () => {
    assert.deepEqual(templateConfigMaps({ containers: [{ name: 'c', envFrom: [{ configMapRef: { name: 'b' } }], env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'c', key: 'k' } } }] }], volumes: [{ name: 'v', configMap: { name: 'a' } }] }), ['a', 'b', 'c']);
  });
});
