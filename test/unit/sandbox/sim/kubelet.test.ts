import assert from 'node:assert/strict';
import type { NodeObject, Pod } from '../../../../src/sandbox/sim/objects';
import { ready, SimHarness } from './simHarness';

const cond = (p: Pod, type: string) => p.status?.conditions?.find((c) => c.type === type)?.status;

describe('sandbox kubelet and scheduler', () => {
  it('takes a pod Pending → Running → Ready after the start delay, with conditions, IPs and events', () => {
    const h = new SimHarness({ podStartDelayMs: 1000 });
    h.run(100);
    const [first] = h.pods('shop', 'cart');
    assert.ok(first.spec.nodeName, 'scheduled on the first tick');
    assert.equal(first.status?.phase, 'Pending');
    assert.equal(first.status?.containerStatuses?.[0].state.waiting?.reason, 'ContainerCreating');
    assert.equal(cond(first, 'PodScheduled'), 'True');
    assert.equal(cond(first, 'Ready'), 'False');
    h.run(500);
    const running = h.store.mustGet('pods', 'shop', first.metadata.name) as Pod;
    assert.equal(running.status?.phase, 'Running');
    assert.ok(running.status?.containerStatuses?.[0].state.running?.startedAt);
    assert.equal(cond(running, 'Ready'), 'False', 'not ready before the readiness delay');
    h.run(600);
    const p = h.store.mustGet('pods', 'shop', first.metadata.name) as Pod;
    assert.ok(ready(p));
    assert.deepEqual(p.status?.conditions?.map((c) => [c.type, c.status]).sort(), [
      ['ContainersReady', 'True'],
      ['Initialized', 'True'],
      ['PodReadyToStartContainers', 'True'],
      ['PodScheduled', 'True'],
      ['Ready', 'True'],
    ]);
    assert.match(p.status?.podIP ?? '', /^10\.244\.\d\.\d+$/);
    assert.match(p.status?.hostIP ?? '', /^10\.0\.0\.1\d$/);
    assert.ok(p.status?.startTime);
    const cs = p.status?.containerStatuses?.[0];
    assert.deepEqual([cs?.ready, cs?.started, cs?.restartCount, cs?.image], [true, true, 0, 'shop/cart:1.8.0']);
    const reasons = h.events({ name: first.metadata.name, kind: 'Pod' }).map((e) => e.reason);
    assert.deepEqual(reasons.sort(), ['Created', 'Pulled', 'Scheduled', 'Started']);
    const scheduled = h.events({ name: first.metadata.name, reason: 'Scheduled' })[0];
    assert.equal((scheduled.source as { component: string }).component, 'default-scheduler');
    assert.equal(scheduled.message, `Successfully assigned shop/${first.metadata.name} to ${first.spec.nodeName}`);
    assert.equal(scheduled.type, 'Normal');
    assert.equal(scheduled.count, 1);
    assert.ok(scheduled.firstTimestamp && scheduled.lastTimestamp);
  });

  it('spreads a deployment over nodes and never schedules onto a cordoned node', () => {
    const h = new SimHarness({}, false);
    h.sim.seedTopology();
    h.store.mutate('nodes', undefined, 'node-2', (o) => void ((o as NodeObject).spec = { ...(o as NodeObject).spec, unschedulable: true }));
    h.run(2000);
    const pods = h.pods();
    assert.equal(pods.length, 10);
    assert.ok(pods.every((p) => p.spec.nodeName !== 'node-2'));
    const frontend = h.pods('shop', 'frontend').map((p) => p.spec.nodeName);
    assert.ok(new Set(frontend).size === 2, `frontend on ${frontend.join(',')}`);
  });

  it('leaves pods Pending with FailedScheduling when no node fits', () => {
    const h = new SimHarness({}, false);
    h.sim.seedTopology();
    for (const n of ['node-1', 'node-2', 'node-3']) h.store.mutate('nodes', undefined, n, (o) => void ((o as NodeObject).spec = { ...(o as NodeObject).spec, unschedulable: true }));
    h.run(1000);
    const p = h.pods('shop', 'checkout')[0];
    assert.equal(p.status?.phase, 'Pending');
    assert.equal(p.status?.conditions?.find((c) => c.type === 'PodScheduled')?.reason, 'Unschedulable');
    const ev = h.events({ reason: 'FailedScheduling', name: p.metadata.name })[0];
    assert.equal(ev.type, 'Warning');
    assert.match(ev.message as string, /^0\/3 nodes are available: 3 node\(s\) were unschedulable/);
    assert.ok((ev.count as number) > 1, 'repeats fold into one event with a count');
    h.store.mutate('nodes', undefined, 'node-1', (o) => void ((o as NodeObject).spec = { ...(o as NodeObject).spec, unschedulable: false }));
    h.run(2000);
    assert.ok(h.pods().every((p2) => p2.spec.nodeName === 'node-1' && ready(p2)));
  });

  it('marks a failed node NotReady and evicts its pods to other nodes after the timeout', () => {
    const h = new SimHarness({ evictionTimeoutMs: 5000 });
    h.run(2000);
    const onNode = h.pods().filter((p) => p.spec.nodeName === 'node-2');
    assert.ok(onNode.length > 0);
    const r = h.control('POST', '/sandbox/v1/faults', { fault: 'node-failure', target: 'node-2', durationSeconds: 60 });
    assert.equal(r.status, 201);
    h.run(200);
    const node = h.store.mustGet('nodes', undefined, 'node-2') as NodeObject;
    assert.equal(node.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
    assert.ok(node.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/not-ready' && t.effect === 'NoExecute'));
    assert.equal(h.events({ reason: 'NodeNotReady', kind: 'Node' })[0].message, 'Node node-2 status is now: NodeNotReady');
    for (const p of onNode) {
      const now = h.store.mustGet('pods', p.metadata.namespace, p.metadata.name) as Pod;
      assert.equal(cond(now, 'Ready'), 'False');
      assert.equal(h.events({ reason: 'NodeNotReady', name: p.metadata.name }).length, 1);
    }
    h.run(3000);
    assert.ok(h.pods().some((p) => p.spec.nodeName === 'node-2'), 'not evicted before the timeout');
    h.run(4000);
    assert.ok(!h.pods().some((p) => p.spec.nodeName === 'node-2'), 'evicted after the timeout');
    assert.equal(h.events({ reason: 'TaintManagerEviction' }).length, onNode.length);
    assert.equal(h.pods().length, 10);
    assert.ok(h.pods().every(ready), 'replacements run on the other nodes');
    const fault = h.control('GET', `/sandbox/v1/faults/${r.body.id}`).body;
    assert.ok(fault.recoveredAt, 'recovery recorded once the workloads run elsewhere');
    h.control('DELETE', `/sandbox/v1/faults/${r.body.id}`);
    h.run(200);
    const back = h.store.mustGet('nodes', undefined, 'node-2') as NodeObject;
    assert.equal(back.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    assert.ok(!back.spec?.taints?.length);
    assert.equal(h.events({ reason: 'NodeReady' }).length, 1);
  });

  it('expires events an hour after they were last seen', () => {
    const h = new SimHarness();
    h.run(2000);
    const early = h.events({ reason: 'Scheduled' }).length;
    assert.equal(early, 10);
    h.run(62 * 60 * 1000, 30_000);
    assert.equal(h.events({ reason: 'Scheduled' }).length, 0);
    assert.ok(h.pods().every(ready), 'pods live on');
  });
});
