import assert from 'node:assert/strict';
import { humanDuration, tableFor, wantsTable } from '../../../src/sandbox/apiTable';
import { resourceInfo, type KubeObject, type ResourceInfo } from '../../../src/sandbox/store';

const info = (name: string) => resourceInfo(name) as ResourceInfo;
const NOW = Date.parse('2026-01-01T12:00:00Z');

describe('sandbox Table printing', () => {
  it('knows when kubectl asks for a Table', () => {
    assert.equal(wantsTable('application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json'), true);
    assert.equal(wantsTable('application/json'), false);
    assert.equal(wantsTable(undefined), false);
  });

  it('formats ages as kubectl does', () => {
    assert.equal(humanDuration(5_000), '5s');
    assert.equal(humanDuration(150_000), '2m30s');
    assert.equal(humanDuration(30 * 60_000), '30m');
    assert.equal(humanDuration((5 * 60 + 3) * 60_000), '5h3m');
    assert.equal(humanDuration(30 * 3600_000), '30h');
    assert.equal(humanDuration((3 * 24 + 4) * 3600_000), '3d4h');
    assert.equal(humanDuration(100 * 24 * 3600_000), '100d');
    assert.equal(humanDuration(-1000), '<invalid>');
  });

  it('prints pods with readiness, waiting reasons and restarts', () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web-1', namespace: 'shop', creationTimestamp: '2026-01-01T11:59:00Z' },
      spec: { nodeName: 'node-1', containers: [{ name: 'web', image: 'web:1' }] },
      status: { phase: 'Running', podIP: '10.0.0.5', containerStatuses: [{ name: 'web', ready: false, restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } } }] },
    } as KubeObject;
    const t = tableFor(info('pods'), [pod], '42', null, true, NOW) as { kind: string; columnDefinitions: Array<{ name: string; priority: number }>; rows: Array<{ cells: unknown[]; object: { kind: string } }> };
    assert.equal(t.kind, 'Table');
    assert.deepEqual(t.columnDefinitions.filter((c) => c.priority === 0).map((c) => c.name), ['Name', 'Ready', 'Status', 'Restarts', 'Age']);
    assert.deepEqual(t.rows[0].cells.slice(0, 7), ['web-1', '0/1', 'CrashLoopBackOff', '4', '60s', '10.0.0.5', 'node-1']);
    assert.equal(t.rows[0].object.kind, 'PartialObjectMetadata');
  });

  it('prints cordoned nodes and deployments, and drops column definitions when asked', () => {
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1', creationTimestamp: '2026-01-01T11:00:00Z' }, spec: { unschedulable: true }, status: { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { kubeletVersion: 'v1.32.0' } } } as KubeObject;
    const nt = tableFor(info('nodes'), [node], '1', 'Object', true, NOW) as { rows: Array<{ cells: unknown[]; object: KubeObject }> };
    assert.deepEqual(nt.rows[0].cells.slice(0, 5), ['node-1', 'Ready,SchedulingDisabled', '<none>', '60m', 'v1.32.0']);
    assert.equal(nt.rows[0].object.kind, 'Node');
    const dep = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', creationTimestamp: '2026-01-01T12:00:00Z' }, spec: { replicas: 3, template: { spec: { containers: [{ name: 'web', image: 'web:2' }] } }, selector: { matchLabels: { app: 'web' } } }, status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 } } as KubeObject;
    const dt = tableFor(info('deployments'), [dep], '1', null, false, NOW) as { columnDefinitions: unknown[]; rows: Array<{ cells: unknown[] }> };
    assert.deepEqual(dt.columnDefinitions, []);
    assert.deepEqual(dt.rows[0].cells, ['web', '2/3', 3, 2, '0s', 'web', 'web:2', 'app=web']);
  });
});
