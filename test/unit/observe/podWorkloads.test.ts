import assert from 'node:assert/strict';
import { PodWorkloadMap, workloadOfPod, type OwnedObject } from '../../../src/core/observe/podWorkloads';

const pod = (name: string, owners: OwnedObject['owners'], templateHash?: string, namespace = 'shop'): OwnedObject => ({ namespace, name, owners, templateHash });
const rs = (name: string, deployment?: string, namespace = 'shop'): OwnedObject => ({ namespace, name, owners: deployment ? [{ kind: 'Deployment', name: deployment, controller: true }] : [] });

describe('pod → workload from owner references', () => {
  const replicaSets = [rs('cart-7d9f8', 'cart'), rs('batch-rs')];
  const lookup = (ns: string, name: string) => replicaSets.find((r) => r.namespace === ns && r.name === name);

  it('maps every owner kind: Deployment through its ReplicaSet, StatefulSet, DaemonSet, bare ReplicaSet; a bare pod maps to none', () => {
    assert.deepEqual(workloadOfPod(pod('cart-7d9f8-abcde', [{ kind: 'ReplicaSet', name: 'cart-7d9f8', controller: true }]), lookup), { kind: 'Deployment', namespace: 'shop', name: 'cart' });
    assert.deepEqual(workloadOfPod(pod('db-0', [{ kind: 'StatefulSet', name: 'db', controller: true }]), lookup), { kind: 'StatefulSet', namespace: 'shop', name: 'db' });
    assert.deepEqual(workloadOfPod(pod('logagent-x2k9p', [{ kind: 'DaemonSet', name: 'logagent', controller: true }]), lookup), { kind: 'DaemonSet', namespace: 'shop', name: 'logagent' });
    assert.deepEqual(workloadOfPod(pod('batch-rs-q7w2e', [{ kind: 'ReplicaSet', name: 'batch-rs', controller: true }]), lookup), { kind: 'ReplicaSet', namespace: 'shop', name: 'batch-rs' });
    assert.equal(workloadOfPod(pod('debug', []), lookup), undefined);
    assert.equal(workloadOfPod(pod('job-1-xyz', [{ kind: 'Job', name: 'job-1', controller: true }]), lookup), undefined);
  });

  it('resolves a ReplicaSet not cached yet from the pod-template-hash, and prefers the controller owner', () => {
    assert.deepEqual(workloadOfPod(pod('cart-5c6b7-zzzzz', [{ kind: 'ReplicaSet', name: 'cart-5c6b7' }], '5c6b7'), lookup), { kind: 'Deployment', namespace: 'shop', name: 'cart' });
    const two = pod('x', [
      { kind: 'ConfigMap', name: 'cfg' },
      { kind: 'StatefulSet', name: 'db', controller: true },
    ]);
    assert.deepEqual(workloadOfPod(two, lookup), { kind: 'StatefulSet', namespace: 'shop', name: 'db' });
  });

  it('keeps the pods of a rollout on their Deployment: the old ReplicaSet\'s pods after deletion, a pod adopted by the new ReplicaSet, a new pod not listed yet', () => {
    const map = new PodWorkloadMap(10 * 60_000);
    const old = rs('cart-aaaaa', 'cart');
    map.update([pod('cart-aaaaa-p1', [{ kind: 'ReplicaSet', name: 'cart-aaaaa', controller: true }]), pod('cart-aaaaa-p2', [{ kind: 'ReplicaSet', name: 'cart-aaaaa', controller: true }])], [old], 0);
    // the rollout: a new ReplicaSet, one old pod deleted, one old pod re-owned (orphaned and adopted)
    map.setReplicaSet(rs('cart-bbbbb', 'cart'));
    map.setPod(pod('cart-bbbbb-n1', [{ kind: 'ReplicaSet', name: 'cart-bbbbb', controller: true }]));
    map.deletePod('shop', 'cart-aaaaa-p1', 60_000);
    map.setPod(pod('cart-aaaaa-p2', [{ kind: 'ReplicaSet', name: 'cart-bbbbb', controller: true }]));
    map.deleteReplicaSet('shop', 'cart-aaaaa');
    const cart = { kind: 'Deployment', namespace: 'shop', name: 'cart' };
    for (const p of ['cart-aaaaa-p1', 'cart-aaaaa-p2', 'cart-bbbbb-n1']) assert.deepEqual(map.workloadOf('shop', p), cart, p);
    // a pod the informers have not listed yet: by the name of a cached ReplicaSet
    assert.deepEqual(map.workloadOf('shop', 'cart-bbbbb-n2'), cart);
    // same pod name in another namespace is another pod
    assert.equal(map.workloadOf('other', 'cart-aaaaa-p1'), undefined);
    // a deleted pod is forgotten after the retention (its series have left every window by then)
    map.update([pod('cart-bbbbb-n1', [{ kind: 'ReplicaSet', name: 'cart-bbbbb', controller: true }])], [rs('cart-bbbbb', 'cart')], 60_000 + 10 * 60_000 + 1);
    assert.equal(map.workloadOf('shop', 'cart-aaaaa-p1'), undefined);
    assert.deepEqual(map.workloadOf('shop', 'cart-aaaaa-p2'), cart, 'deleted by update() at the later time, still retained');
  });

  it('places StatefulSet and DaemonSet pods it has not listed by name once the set is known', () => {
    const map = new PodWorkloadMap(60_000);
    map.update([pod('db-0', [{ kind: 'StatefulSet', name: 'db', controller: true }]), pod('logagent-x2k9p', [{ kind: 'DaemonSet', name: 'logagent', controller: true }])], [], 0);
    assert.deepEqual(map.workloadOf('shop', 'db-2'), { kind: 'StatefulSet', namespace: 'shop', name: 'db' });
    assert.deepEqual(map.workloadOf('shop', 'logagent-77hqz'), { kind: 'DaemonSet', namespace: 'shop', name: 'logagent' });
    assert.equal(map.workloadOf('shop', 'db-primary'), undefined, 'not an ordinal');
    assert.equal(map.workloadOf('shop', 'dbx-1'), undefined);
  });
});
