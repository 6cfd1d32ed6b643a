import assert from 'node:assert/strict';
import { resolveIntOrPercent, templateHash } from '../../../../src/sandbox/sim/deploymentController';
import type { Deployment, NodeObject, Pod, ReplicaSet } from '../../../../src/sandbox/sim/objects';
import { deploymentManifest } from '../../../../src/sandbox/sim/topology';
import { ready, SimHarness } from './simHarness';

const REV = 'deployment.kubernetes.io/revision';
const rev = (o: { metadata: { annotations?: Record<string, string> } }) => o.metadata.annotations?.[REV];

describe('sandbox deployment and replicaset controllers', () => {
  it('brings the default topology up: ReplicaSets per template, named pods, complete status', () => {
    const h = new SimHarness();
    h.run(3000);
    assert.equal(h.pods().length, 10);
    assert.ok(h.pods().every(ready));
    const d = h.deployment('shop', 'checkout');
    const [rs] = h.replicaSets('shop', 'checkout');
    const hash = templateHash(d.spec.template);
    assert.equal(rs.metadata.name, `checkout-${hash}`);
    assert.equal(rs.metadata.labels?.['pod-template-hash'], hash);
    assert.deepEqual(rs.metadata.ownerReferences?.map((r) => [r.kind, r.name, r.uid, r.controller]), [['Deployment', 'checkout', d.metadata.uid, true]]);
    assert.equal(rev(rs), '1');
    assert.equal(rev(d), '1');
    for (const p of h.pods('shop', 'checkout')) {
      assert.match(p.metadata.name, new RegExp(`^${rs.metadata.name}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
      assert.equal(p.metadata.ownerReferences?.[0].uid, rs.metadata.uid);
      assert.equal(p.metadata.annotations?.['prometheus.io/scrape'], 'true');
    }
    assert.deepEqual(
      { ...d.status, conditions: undefined },
      { observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3, conditions: undefined },
    );
    const progressing = d.status?.conditions?.find((c) => c.type === 'Progressing');
    assert.equal(progressing?.reason, 'NewReplicaSetAvailable');
    assert.equal(d.status?.conditions?.find((c) => c.type === 'Available')?.status, 'True');
    assert.equal(h.events({ reason: 'SuccessfulCreate', kind: 'ReplicaSet', name: 'checkout' }).length, 3);
    assert.equal(h.events({ reason: 'ScalingReplicaSet', name: 'checkout' })[0].message, `Scaled up replica set ${rs.metadata.name} from 0 to 3`);
  });

  it('rolls a new image within maxSurge/maxUnavailable and numbers revisions', () => {
    const h = new SimHarness({}, false);
    h.store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
    h.sim.seedTopology();
    h.store.mutate('deployments', 'shop', 'checkout', (o) => void ((o as Deployment).spec.replicas = 4));
    h.run(3000);
    assert.equal(h.pods('shop', 'checkout').filter(ready).length, 4);
    h.setImage('shop', 'checkout', 'shop/checkout:1.5.0');
    let maxTotal = 0;
    let minReady = Infinity;
    h.run(12_000, 100, () => {
      const rss = h.replicaSets('shop', 'checkout');
      maxTotal = Math.max(maxTotal, rss.reduce((n, r) => n + (r.spec.replicas ?? 0), 0), h.pods('shop', 'checkout').length);
      minReady = Math.min(minReady, h.pods('shop', 'checkout').filter(ready).length);
    });
    // 4 replicas, 25%/25%: at most 5 pods, at least 3 ready throughout
    assert.equal(maxTotal, 5);
    assert.equal(minReady, 3);
    const rss = h.replicaSets('shop', 'checkout').sort((a, b) => Number(rev(a)) - Number(rev(b)));
    assert.deepEqual(rss.map((r) => [rev(r), r.spec.replicas]), [['1', 0], ['2', 4]]);
    assert.ok(h.pods('shop', 'checkout').every((p) => p.spec.containers[0].image === 'shop/checkout:1.5.0' && ready(p)));
    const d = h.deployment('shop', 'checkout');
    assert.equal(rev(d), '2');
    assert.equal(d.status?.observedGeneration, d.metadata.generation);
    assert.equal(d.status?.updatedReplicas, 4);
    assert.equal(d.status?.conditions?.find((c) => c.type === 'Progressing')?.reason, 'NewReplicaSetAvailable');
    const scaling = h.events({ reason: 'ScalingReplicaSet', name: 'checkout' }).map((e) => e.message as string);
    assert.ok(scaling.some((m) => /^Scaled down replica set checkout-\w+ from 4 to 3$/.test(m)), scaling.join('\n'));
  });

  it('reuses the old ReplicaSet on rollout undo and gives it the next revision', () => {
    const h = new SimHarness();
    h.run(2000);
    const original = h.deployment('shop', 'cart').spec.template;
    const firstRs = h.replicaSets('shop', 'cart')[0].metadata.name;
    h.setImage('shop', 'cart', 'shop/cart:1.9.0');
    h.run(8000);
    assert.equal(h.replicaSets('shop', 'cart').length, 2);
    // what `kubectl rollout undo` does: PATCH the template back to the previous ReplicaSet's
    h.store.mutate('deployments', 'shop', 'cart', (o) => void ((o as Deployment).spec.template = structuredClone(original)));
    h.run(8000);
    const rss = h.replicaSets('shop', 'cart');
    assert.equal(rss.length, 2, 'no third ReplicaSet');
    const reused = rss.find((r) => r.metadata.name === firstRs) as ReplicaSet;
    assert.equal(rev(reused), '3');
    assert.equal(reused.spec.replicas, 2);
    assert.equal(rev(h.deployment('shop', 'cart')), '3');
    assert.ok(h.pods('shop', 'cart').every((p) => p.spec.containers[0].image === 'shop/cart:1.8.0' && ready(p)));
  });

  it('rollout restart replaces every pod; scale changes the pod count; deleted pods come back', () => {
    const h = new SimHarness();
    h.run(2000);
    const before = new Set(h.pods('shop', 'frontend').map((p) => p.metadata.uid));
    h.store.mutate('deployments', 'shop', 'frontend', (o) => {
      const t = (o as Deployment).spec.template;
      t.metadata = { ...t.metadata, annotations: { ...t.metadata?.annotations, 'kubectl.kubernetes.io/restartedAt': '2026-03-02T12:00:02Z' } };
    });
    h.run(10_000);
    const after = h.pods('shop', 'frontend');
    assert.equal(after.length, 3);
    assert.ok(after.every((p) => !before.has(p.metadata.uid) && ready(p)));
    assert.equal(rev(h.deployment('shop', 'frontend')), '2');

    h.store.mutate('deployments', 'shop', 'frontend', (o) => void ((o as Deployment).spec.replicas = 6));
    h.run(3000);
    assert.equal(h.pods('shop', 'frontend').filter(ready).length, 6);
    h.store.mutate('deployments', 'shop', 'frontend', (o) => void ((o as Deployment).spec.replicas = 2));
    h.run(1000);
    assert.equal(h.pods('shop', 'frontend').length, 2);
    assert.equal(h.deployment('shop', 'frontend').status?.replicas, 2);

    const victim = h.pods('shop', 'frontend')[0].metadata.name;
    h.store.delete('pods', 'shop', victim);
    h.run(2000);
    const now = h.pods('shop', 'frontend');
    assert.equal(now.length, 2);
    assert.ok(!now.some((p) => p.metadata.name === victim));
    assert.ok(h.events({ reason: 'SuccessfulCreate', kind: 'ReplicaSet', name: 'frontend' }).length >= 1);
    assert.ok(h.events({ reason: 'Killing', name: victim }).length === 1);
  });

  it('maxSurge 0 never exceeds replicas; maxUnavailable 0 never drops below them', () => {
    for (const [surge, unavailable] of [[0, 1], [1, 0]] as const) {
      const h = new SimHarness({}, false);
      h.store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } });
      h.sim.seedTopology();
      const d = deploymentManifest({ namespace: 'demo', name: 'api', image: 'demo/api:1.0.0', replicas: 3, baseRps: 5, latencyMs: 30 });
      d.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: surge, maxUnavailable: unavailable } };
      h.store.create('deployments', d);
      h.run(3000);
      h.setImage('demo', 'api', 'demo/api:1.1.0');
      let maxPods = 0;
      let minReady = Infinity;
      h.run(15_000, 100, () => {
        maxPods = Math.max(maxPods, h.pods('demo').length);
        minReady = Math.min(minReady, h.pods('demo').filter(ready).length);
      });
      assert.equal(maxPods, 3 + surge, `surge ${surge}`);
      assert.equal(minReady, 3 - unavailable, `unavailable ${unavailable}`);
      assert.ok(h.pods('demo').every((p) => p.spec.containers[0].image === 'demo/api:1.1.0' && ready(p)));
    }
  });

  it('deleting a deployment garbage-collects its ReplicaSets and pods', () => {
    const h = new SimHarness();
    h.run(2000);
    h.store.delete('deployments', 'payments', 'payments-api');
    h.run(500);
    assert.equal(h.replicaSets('payments', 'payments-api').length, 0);
    assert.equal(h.pods('payments').length, 0);
  });

  it('reports ProgressDeadlineExceeded when a rollout stops making progress', () => {
    const h = new SimHarness();
    h.run(2000);
    h.store.mutate('deployments', 'shop', 'cart', (o) => void ((o as Deployment).spec.progressDeadlineSeconds = 5));
    for (const n of ['node-1', 'node-2', 'node-3']) h.store.mutate('nodes', undefined, n, (o) => void ((o as NodeObject).spec = { ...(o as NodeObject).spec, unschedulable: true }));
    h.setImage('shop', 'cart', 'shop/cart:2.0.0');
    h.run(3000);
    assert.equal(h.deployment('shop', 'cart').status?.conditions?.find((c) => c.type === 'Progressing')?.reason, 'ReplicaSetUpdated');
    h.run(4000);
    const progressing = h.deployment('shop', 'cart').status?.conditions?.find((c) => c.type === 'Progressing');
    assert.deepEqual([progressing?.status, progressing?.reason], ['False', 'ProgressDeadlineExceeded']);
    assert.equal(h.pods('shop', 'cart').filter(ready).length, 2, 'the old pods keep serving');
  });

  it('Recreate stops every old pod before starting new ones', () => {
    const h = new SimHarness();
    h.store.mutate('deployments', 'shop', 'cart', (o) => void ((o as Deployment).spec.strategy = { type: 'Recreate' }));
    h.run(2000);
    h.setImage('shop', 'cart', 'shop/cart:2.0.0');
    let mixed = false;
    h.run(5000, 100, () => {
      const images = new Set(h.pods('shop', 'cart').map((p) => p.spec.containers[0].image));
      if (images.size > 1) mixed = true;
    });
    assert.equal(mixed, false);
    assert.ok(h.pods('shop', 'cart').every((p) => p.spec.containers[0].image === 'shop/cart:2.0.0' && ready(p)));
  });

  it('runs a bare pod (kubectl run) and exports its metrics under its own name', () => {
    const h = new SimHarness();
    h.store.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'debug', namespace: 'default', labels: { run: 'debug' } }, spec: { containers: [{ name: 'debug', image: 'busybox:1.36' }] } } as Pod);
    h.run(2000);
    const p = h.store.mustGet('pods', 'default', 'debug') as Pod;
    assert.ok(ready(p) && p.spec.nodeName);
    assert.match(h.sim.allMetrics(), /process_resident_memory_bytes\{namespace="default",pod="debug",deployment="debug",node="node-\d"\}/);
  });

  it('resolves int-or-percent like Kubernetes', () => {
    assert.equal(resolveIntOrPercent('25%', 3, '25%', true), 1);
    assert.equal(resolveIntOrPercent('25%', 3, '25%', false), 0);
    assert.equal(resolveIntOrPercent(undefined, 10, '25%', true), 3);
    assert.equal(resolveIntOrPercent(2, 10, '25%', false), 2);
  });

  it('keeps PodDisruptionBudget status current', () => {
    const h = new SimHarness();
    h.run(3000);
    const pdb = h.store.mustGet('poddisruptionbudgets', 'shop', 'checkout').status as Record<string, number>;
    assert.deepEqual([pdb.expectedPods, pdb.currentHealthy, pdb.desiredHealthy, pdb.disruptionsAllowed], [3, 3, 2, 1]);
  });
});
