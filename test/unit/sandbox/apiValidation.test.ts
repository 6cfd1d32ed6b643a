import assert from 'node:assert/strict';
import { unknownFields, validateObject } from '../../../src/sandbox/apiValidation';
import { resourceInfo, StatusError, type KubeObject, type ResourceInfo } from '../../../src/sandbox/store';

const info = (name: string) => resourceInfo(name) as ResourceInfo;
const deployment = (): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', labels: { app: 'web' } },
  spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'web:1' }] } } },
});

function invalid(o: KubeObject, resource = 'deployments'): StatusError {
  try {
    validateObject(info(resource), o);
  } catch (err) {
    assert.ok(err instanceof StatusError);
    assert.equal(err.code, 422);
    return err;
  }
  assert.fail('expected 422 Invalid');
}

describe('sandbox validation', () => {
  it('accepts a well-formed deployment', () => {
    assert.doesNotThrow(() => validateObject(info('deployments'), deployment()));
  });

  it('names every bad field of a deployment, as the API server does', () => {
    const d = deployment() as KubeObject & { spec: { replicas: number; template: { metadata: { labels: Record<string, string> }; spec: { containers: Array<{ name: string; image?: string }> } } } };
    d.spec.replicas = -1;
    d.spec.template.metadata.labels = { app: 'other' };
    d.spec.template.spec.containers = [{ name: 'web' }, { name: 'web', image: 'x' }];
    const err = invalid(d);
    assert.match(err.message, /^Deployment\.apps "web" is invalid: /);
    const fields = (err.details?.causes ?? []).map((c) => c.field);
    assert.deepEqual(fields, ['spec.replicas', 'spec.template.metadata.labels', 'spec.template.spec.containers[0].image', 'spec.template.spec.containers[1].name']);
  });

  it('checks names, labels and kind-specific fields', () => {
    assert.match(invalid({ ...deployment(), metadata: { name: 'Bad_Name' } }).message, /metadata.name: Invalid value: "Bad_Name"/);
    assert.match(invalid({ ...deployment(), metadata: { name: 'web', labels: { app: 'has space' } } }).message, /metadata.labels/);
    assert.match(invalid({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { k: 1 } } as KubeObject, 'configmaps').message, /data\[k\]: Invalid value: 1: must be a string/);
    assert.match(invalid({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l' }, spec: { leaseDurationSeconds: 0 } }, 'leases').message, /leaseDurationSeconds/);
    assert.match(invalid({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, spec: { unschedulable: 'yes' } }, 'nodes').message, /must be a boolean/);
    assert.match(invalid({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'p' }, spec: { minAvailable: 1, maxUnavailable: 1 } }, 'poddisruptionbudgets').message, /cannot be both set/);
  });

  it('finds unknown fields down to containers, and prunes them when asked', () => {
    const d = deployment() as KubeObject & Record<string, unknown>;
    d.extra = 1;
    (d.spec as Record<string, unknown>).replica = 3;
    ((d.spec as { template: { spec: { containers: Array<Record<string, unknown>> } } }).template.spec.containers[0]).imagePullPolicyy = 'Always';
    assert.deepEqual(unknownFields(info('deployments'), d), ['extra', 'spec.replica', 'spec.template.spec.containers[0].imagePullPolicyy']);
    unknownFields(info('deployments'), d, { prune: true });
    assert.deepEqual(unknownFields(info('deployments'), d), []);
    assert.equal((d.spec as Record<string, unknown>).replicas, 2);
    assert.deepEqual(unknownFields(info('configmaps'), { data: {}, $patch: 'replace' }), []);
  });
});
