import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import { resolveStep } from '../../../src/core/decide/playbookTemplates';
import { factsOfChange, type FactContext } from '../../../src/infra/kubernetes/facts';
import { buildInventory } from '../../../src/infra/kubernetes/inventory';
import { setFacts, setRevision, setRolloutInProgress } from '../../../src/infra/kubernetes/setRevisions';

const template = (image: string): k8s.V1PodTemplateSpec => ({ metadata: { labels: { app: 'orders-db' } }, spec: { containers: [{ name: 'orders-db', image }] } });

function sts(o: { image: string; gen: number; observed: number; current: string; update: string; updated: number; ready: number; replicas?: number }): k8s.V1StatefulSet {
  return {
    metadata: { namespace: 'shop', name: 'orders-db', uid: 'sts-uid', generation: o.gen, annotations: { 'vigil.dev/depends-on': 'payments/ledger' } },
    spec: { replicas: o.replicas ?? 2, serviceName: 'orders-db', selector: { matchLabels: { app: 'orders-db' } }, template: template(o.image) },
    status: { replicas: 2, observedGeneration: o.observed, currentRevision: o.current, updateRevision: o.update, updatedReplicas: o.updated, readyReplicas: o.ready, availableReplicas: o.ready },
  };
}

/** What the real controllers store: the template as a strategic merge patch that replaces it. */
function revision(owner: { kind: string; name: string; uid: string }, name: string, n: number, image: string): k8s.V1ControllerRevision {
  return {
    metadata: { namespace: 'shop', name, labels: { 'controller-revision-hash': name.split('-').at(-1)! }, ownerReferences: [{ apiVersion: 'apps/v1', kind: owner.kind, name: owner.name, uid: owner.uid, controller: true }] },
    data: { spec: { template: { ...template(image), metadata: { labels: { app: 'orders-db' }, creationTimestamp: null }, $patch: 'replace' } } },
    revision: n,
  };
}

const STS = { kind: 'StatefulSet', name: 'orders-db', uid: 'sts-uid' };

describe('StatefulSet and DaemonSet revisions', () => {
  it('a StatefulSet release is revision-changed with the ControllerRevision numbers, then rollout-finished', () => {
    const r1 = revision(STS, 'orders-db-7c9d5', 1, 'db:1');
    const stable = sts({ image: 'db:1', gen: 1, observed: 1, current: 'orders-db-7c9d5', update: 'orders-db-7c9d5', updated: 2, ready: 2 });
    assert.equal(setRevision('StatefulSet', stable, [r1]), 1);
    assert.equal(setRolloutInProgress('StatefulSet', stable), false);
    // the spec changed; the controller has not written the new ControllerRevision yet
    const released = sts({ image: 'db:2', gen: 2, observed: 1, current: 'orders-db-7c9d5', update: 'orders-db-7c9d5', updated: 2, ready: 2 });
    const facts = setFacts('StatefulSet', stable, released, [r1], 5000);
    assert.deepEqual(facts.map((f) => f.kind), ['revision-changed', 'rollout-started']);
    assert.deepEqual(facts[0].attributes, { from: 1, to: 2, image: 'db:2', previousImage: 'db:1', workloadKind: 'StatefulSet' });
    assert.deepEqual(facts[0].target, { kind: 'service', namespace: 'shop', name: 'orders-db' });
    assert.equal(facts[0].message, 'statefulset shop/orders-db moved from revision 1 to 2 (image db:1 → db:2)');
    assert.equal(setRolloutInProgress('StatefulSet', released), true);
    // the controller recorded revision 2 and replaced the highest ordinal first
    const r2 = revision(STS, 'orders-db-5f8b6', 2, 'db:2');
    const rolling = sts({ image: 'db:2', gen: 2, observed: 2, current: 'orders-db-7c9d5', update: 'orders-db-5f8b6', updated: 1, ready: 2 });
    assert.deepEqual(setFacts('StatefulSet', released, rolling, [r1, r2], 6000), [], 'still rolling: nothing new');
    assert.equal(setRevision('StatefulSet', rolling, [r1, r2]), 2);
    const done = sts({ image: 'db:2', gen: 2, observed: 2, current: 'orders-db-5f8b6', update: 'orders-db-5f8b6', updated: 2, ready: 2 });
    assert.deepEqual(setFacts('StatefulSet', rolling, done, [r1, r2], 7000).map((f) => f.kind), ['rollout-finished']);
    assert.deepEqual(setFacts('StatefulSet', done, sts({ image: 'db:2', gen: 3, observed: 3, current: 'orders-db-5f8b6', update: 'orders-db-5f8b6', updated: 2, ready: 2, replicas: 3 }), [r1, r2], 8000).map((f) => [f.kind, f.attributes?.to]), [['scaled', 3]], 'a scale is no release');
  });

  it('a rollback reuses the old ControllerRevision under the next number, as the controllers do', () => {
    const r1 = revision(STS, 'orders-db-7c9d5', 1, 'db:1');
    const r2 = revision(STS, 'orders-db-5f8b6', 2, 'db:2');
    const bad = sts({ image: 'db:2', gen: 2, observed: 2, current: 'orders-db-7c9d5', update: 'orders-db-5f8b6', updated: 1, ready: 1 });
    const undone = sts({ image: 'db:1', gen: 3, observed: 2, current: 'orders-db-7c9d5', update: 'orders-db-5f8b6', updated: 1, ready: 1 });
    // before the controller renumbered revision 1 (its cache still says 1), and after (3)
    for (const revs of [[r1, r2], [{ ...r1, revision: 3 }, r2]]) {
      const f = setFacts('StatefulSet', bad, undone, revs, 9000)[0];
      assert.deepEqual([f.kind, f.attributes?.from, f.attributes?.to], ['revision-changed', 2, 3]);
    }
  });

  it('a DaemonSet (no updateRevision in its status) is numbered by the template its ControllerRevisions hold', () => {
    const DS = { kind: 'DaemonSet', name: 'log-agent', uid: 'ds-uid' };
    const ds = (image: string, gen: number, observed: number, updated: number): k8s.V1DaemonSet => ({
      metadata: { namespace: 'shop', name: 'log-agent', uid: 'ds-uid', generation: gen },
      spec: { selector: { matchLabels: { app: 'orders-db' } }, template: template(image) },
      status: { observedGeneration: observed, desiredNumberScheduled: 3, currentNumberScheduled: 3, numberMisscheduled: 0, numberReady: 3, numberAvailable: 3, updatedNumberScheduled: updated },
    });
    const r1 = revision(DS, 'log-agent-6d4f8', 1, 'agent:1');
    const f = setFacts('DaemonSet', ds('agent:1', 1, 1, 3), ds('agent:2', 2, 1, 3), [r1], 100);
    assert.deepEqual(f.map((x) => [x.kind, x.attributes?.from, x.attributes?.to]), [['revision-changed', 1, 2], ['rollout-started', undefined, undefined]]);
    assert.match(f[0].message, /^daemonset shop\/log-agent moved from revision 1 to 2/);
    const r2 = revision(DS, 'log-agent-9b7c2', 2, 'agent:2');
    assert.equal(setRolloutInProgress('DaemonSet', ds('agent:2', 2, 2, 1)), true, 'two nodes still run the old pod');
    assert.equal(setRevision('DaemonSet', ds('agent:2', 2, 2, 3), [r1, r2]), 2);
    // another DaemonSet's ControllerRevisions do not count
    assert.equal(setRevision('DaemonSet', ds('agent:2', 2, 2, 3), [r1, r2, revision({ kind: 'DaemonSet', name: 'other', uid: 'o' }, 'other-1', 7, 'agent:2')]), 2);
  });

  it('the facts of a change and the inventory read StatefulSets and DaemonSets from their objects', () => {
    const r1 = revision(STS, 'orders-db-7c9d5', 1, 'db:1');
    const ctx: FactContext = { replicaSet: () => undefined, deployments: () => [], sets: () => [], controllerRevisions: () => [r1], resolve: () => undefined };
    const stable = sts({ image: 'db:1', gen: 1, observed: 1, current: 'orders-db-7c9d5', update: 'orders-db-7c9d5', updated: 2, ready: 2 });
    const released = sts({ image: 'db:2', gen: 2, observed: 1, current: 'orders-db-7c9d5', update: 'orders-db-7c9d5', updated: 2, ready: 2 });
    assert.deepEqual(factsOfChange('statefulsets', stable, released, ctx, 1).map((f) => f.kind), ['revision-changed', 'rollout-started']);
    const pod: k8s.V1Pod = { metadata: { namespace: 'shop', name: 'orders-db-0', labels: { 'controller-revision-hash': 'orders-db-7c9d5' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'orders-db', uid: 'sts-uid', controller: true }] }, spec: { containers: [{ name: 'db', image: 'db:1' }] }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } };
    const inv = buildInventory({ pods: [pod], deployments: [], replicaSets: [], nodes: [], statefulSets: [released], controllerRevisions: [r1] });
    const s = inv.services[0];
    assert.equal(s.workloadKind, 'StatefulSet');
    // the playbook's rollback of the target names its kind and the previous ControllerRevision's number
    const step = { id: 'rollback', action: 'rollback' as const, params: { namespace: '{{target.namespace}}', deployment: '{{target.name}}', toRevision: '{{previousRevision}}' } };
    assert.deepEqual(resolveStep(step as unknown as Parameters<typeof resolveStep>[0], { target: { namespace: 'shop', name: 'orders-db' }, workloadKind: s.workloadKind, previousRevision: 1 }), { kind: 'rollback', namespace: 'shop', deployment: 'orders-db', toRevision: 1, workloadKind: 'StatefulSet' });
    assert.deepEqual([s.target.name, s.revision, s.image, s.replicas, s.rolloutInProgress, s.pods.map((p) => p.name), s.annotations?.['vigil.dev/depends-on']], ['orders-db', 2, 'db:2', 2, true, ['orders-db-0'], 'payments/ledger']);
    // not watched (no objects): still known by its pods, without a revision
    assert.deepEqual(buildInventory({ pods: [pod], deployments: [], replicaSets: [], nodes: [] }).services.map((x) => [x.target.name, x.revision]), [['orders-db', 0]]);
  });
});
