import assert from 'node:assert/strict';
import type { ControllerRevision } from '../../../../src/sandbox/sim/controllerRevisions';
import type { DaemonSet } from '../../../../src/sandbox/sim/daemonSetController';
import type { Pod } from '../../../../src/sandbox/sim/objects';
import type { StatefulSet } from '../../../../src/sandbox/sim/statefulSetController';
import { seedWorkloadKinds } from '../../../../src/sandbox/sim/topology';
import { ready, SimHarness } from './simHarness';

const HASH = 'controller-revision-hash';

function world(): SimHarness {
  const h = new SimHarness();
  seedWorkloadKinds(h.store);
  return h;
}

const sts = (h: SimHarness) => h.store.mustGet('statefulsets', 'shop', 'orders-db') as StatefulSet;
const ds = (h: SimHarness) => h.store.mustGet('daemonsets', 'shop', 'log-agent') as DaemonSet;
const revisions = (h: SimHarness, owner: string) => (h.store.list('controllerrevisions', 'shop').items as ControllerRevision[]).filter((r) => r.metadata.ownerReferences?.[0].name === owner).sort((a, b) => a.revision - b.revision);
const setImage = (h: SimHarness, resource: 'statefulsets' | 'daemonsets', name: string, image: string) =>
  h.store.mutate(resource, 'shop', name, (o) => void ((o as StatefulSet).spec.template.spec.containers[0].image = image));
const dbPods = (h: SimHarness) => h.pods('shop', 'orders-db').sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));

describe('sandbox StatefulSet and DaemonSet controllers', () => {
  it('StatefulSet: pods <set>-<ordinal> one at a time (OrderedReady), a ControllerRevision, complete status', () => {
    const h = world();
    const seen: string[][] = [];
    h.run(6000, 100, () => {
      const names = dbPods(h).map((p) => `${p.metadata.name}:${ready(p) ? 'ready' : 'starting'}`);
      if (JSON.stringify(seen.at(-1)) !== JSON.stringify(names)) seen.push(names);
    });
    // orders-db-1 is created only once orders-db-0 is ready
    assert.deepEqual(seen.slice(0, 3), [['orders-db-0:starting'], ['orders-db-0:ready'], ['orders-db-0:ready', 'orders-db-1:starting']]);
    const [r1] = revisions(h, 'orders-db');
    assert.equal(r1.revision, 1);
    assert.equal(r1.metadata.name, `orders-db-${r1.metadata.labels?.[HASH]}`);
    assert.equal(r1.data.spec.template.$patch, 'replace');
    assert.ok(dbPods(h).every((p) => p.metadata.labels?.[HASH] === r1.metadata.name && p.metadata.ownerReferences?.[0].kind === 'StatefulSet'));
    assert.deepEqual(sts(h).status, { observedGeneration: 1, replicas: 2, readyReplicas: 2, availableReplicas: 2, currentReplicas: 2, updatedReplicas: 2, currentRevision: r1.metadata.name, updateRevision: r1.metadata.name, collisionCount: 0 });
  });

  it('StatefulSet: a new image rolls from the highest ordinal down, one pod at a time; a rollback renumbers the old revision', () => {
    const h = world();
    h.run(6000);
    const firstPods = new Map(dbPods(h).map((p) => [p.metadata.name, p.metadata.uid]));
    setImage(h, 'statefulsets', 'orders-db', 'shop/orders-db:2.0.0');
    h.run(200);
    const mid = sts(h).status!;
    const [r1, r2] = revisions(h, 'orders-db');
    assert.deepEqual([mid.currentRevision, mid.updateRevision, r2.revision], [r1.metadata.name, r2.metadata.name, 2]);
    // orders-db-1 replaced first; orders-db-0 untouched until it is ready
    assert.equal(h.store.get('pods', 'shop', 'orders-db-0')?.metadata.uid, firstPods.get('orders-db-0'));
    assert.notEqual(h.store.get('pods', 'shop', 'orders-db-1')?.metadata.uid, firstPods.get('orders-db-1'));
    h.run(8000);
    assert.ok(dbPods(h).every((p) => p.spec.containers[0].image === 'shop/orders-db:2.0.0' && p.metadata.labels?.[HASH] === r2.metadata.name && ready(p)));
    assert.equal(sts(h).status?.currentRevision, r2.metadata.name);
    // kubectl rollout undo: the previous ControllerRevision's template again, renumbered 3
    setImage(h, 'statefulsets', 'orders-db', 'shop/orders-db:1.0.0');
    h.run(8000);
    assert.deepEqual(revisions(h, 'orders-db').map((r) => [r.metadata.name, r.revision]), [[r2.metadata.name, 2], [r1.metadata.name, 3]]);
    assert.equal(sts(h).status?.updateRevision, r1.metadata.name);
    assert.ok(dbPods(h).every((p) => p.spec.containers[0].image === 'shop/orders-db:1.0.0'));
  });

  it('StatefulSet: rollout restart (restartedAt) replaces every pod of a crash-looping set, one at a time', () => {
    const h = world();
    h.run(6000);
    h.control('POST', '/sandbox/v1/faults', { fault: 'crash-loop', target: 'shop/orders-db', durationSeconds: 600 });
    h.run(3000);
    assert.ok(dbPods(h).some((p) => !ready(p)));
    const before = new Map(dbPods(h).map((p) => [p.metadata.name, p.metadata.uid]));
    h.store.mutate('statefulsets', 'shop', 'orders-db', (o) => {
      const t = (o as StatefulSet).spec.template;
      t.metadata = { ...t.metadata, annotations: { ...t.metadata?.annotations, 'kubectl.kubernetes.io/restartedAt': '2026-03-02T12:00:09Z' } };
    });
    h.run(300);
    // a step only while every pod is Running and Ready (crash-looping ones are, between crashes), one pod at a time
    const replaced = dbPods(h).filter((p) => p.metadata.uid !== before.get(p.metadata.name)).map((p) => p.metadata.name);
    assert.ok(replaced.length <= 1, `one pod at a time, got ${replaced.join(', ')}`);
    h.run(15_000);
    assert.ok(dbPods(h).every((p) => p.metadata.uid !== before.get(p.metadata.name) && ready(p)), 'every pod replaced and ready (the fault stays with the old pods)');
    assert.equal(revisions(h, 'orders-db').length, 2);
  });

  it('DaemonSet: one pod per node, a ControllerRevision, a rolling update within maxUnavailable', () => {
    const h = world();
    h.run(4000);
    const agents = () => h.pods('shop', 'log-agent');
    const nodes = h.store.list('nodes').items.map((n) => n.metadata.name).sort();
    assert.deepEqual(agents().map((p) => p.spec.nodeName).sort(), nodes);
    assert.ok(agents().every((p) => /^log-agent-[bcdfghjklmnpqrstvwxz2456789]{5}$/.test(p.metadata.name) && ready(p)));
    const [r1] = revisions(h, 'log-agent');
    assert.ok(agents().every((p) => p.metadata.labels?.[HASH] === r1.metadata.labels?.[HASH]));
    assert.deepEqual(ds(h).status, { observedGeneration: 1, desiredNumberScheduled: 3, currentNumberScheduled: 3, numberMisscheduled: 0, numberReady: 3, numberAvailable: 3, updatedNumberScheduled: 3 });
    setImage(h, 'daemonsets', 'log-agent', 'shop/log-agent:2.0.0');
    let minReady = Infinity;
    h.run(10_000, 100, () => void (minReady = Math.min(minReady, agents().filter(ready).length)));
    assert.equal(minReady, 2, 'maxUnavailable 1: at most one node without a ready agent');
    const [, r2] = revisions(h, 'log-agent');
    assert.equal(r2.revision, 2);
    assert.ok(agents().every((p: Pod) => p.spec.containers[0].image === 'shop/log-agent:2.0.0' && ready(p)));
    assert.equal(ds(h).status?.updatedNumberScheduled, 3);
  });

  it('a bad release fault rolls a StatefulSet or DaemonSet to an image none ran, in its own kind', () => {
    const h = world();
    h.run(6000);
    for (const [target, resource] of [['shop/orders-db', 'statefulsets'], ['shop/log-agent', 'daemonsets']] as const) {
      const r = h.control('POST', '/sandbox/v1/faults', { fault: 'bad-release', target, durationSeconds: 600 });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const o = h.store.mustGet(resource, 'shop', target.split('/')[1]) as StatefulSet;
      assert.equal(o.spec.template.spec.containers[0].image, `shop/${target.split('/')[1]}:1.0.1`);
    }
  });
});
