/**
 * deploy/: the rendered manifests equal `helm template` of the chart, `helm lint` passes, and the ClusterRole
 * they carry is deploy/rbac/clusterrole.yaml, the one source. The helm cases (template equals the rendered manifests,
 * lint, the namespace allow-list, notifications) are in test/k8s/helmChart.test.ts: that tier builds helm first.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseAllDocuments, parse } from 'yaml';
import { MANIFESTS_FILE } from '../../../scripts/renderManifests';

type Doc = { kind: string; metadata: { name: string; namespace?: string }; [k: string]: unknown };
const docs = (text: string): Doc[] => parseAllDocuments(text).map((d) => d.toJS() as Doc).filter(Boolean);
const find = (all: Doc[], kind: string, name?: string) => all.filter((d) => d.kind === kind && (!name || d.metadata.name === name));

describe('deploy/: Helm chart and rendered manifests', function () {
  this.timeout(60_000);
  const manifests = docs(readFileSync(MANIFESTS_FILE, 'utf8'));

  it('the ClusterRole is deploy/rbac/clusterrole.yaml exactly, and grants no access to Secrets', () => {
    const source = parse(readFileSync('deploy/rbac/clusterrole.yaml', 'utf8')) as { rules: Array<{ resources: string[]; verbs: string[] }> };
    const [role] = find(manifests, 'ClusterRole', 'vigil-agent');
    assert.equal(role.metadata.name, 'vigil-agent');
    assert.deepEqual(role.rules, source.rules);
    assert.ok(!source.rules.some((r) => r.resources.includes('secrets') || r.resources.includes('*') || r.verbs.includes('*')));
  });

  it('the Deployment: 2 replicas, non-root, read-only root filesystem, limits, /healthz and /readyz on the settings port', () => {
    type Container = { ports: Array<{ containerPort: number }>; securityContext: Record<string, boolean>; resources: { requests: Record<string, string>; limits: Record<string, string> }; livenessProbe: { httpGet: { path: string } }; readinessProbe: { httpGet: { path: string } }; volumeMounts: Array<{ mountPath: string }> };
    const [dep] = find(manifests, 'Deployment') as Array<Doc & { spec: { replicas: number; template: { spec: { securityContext: Record<string, unknown>; containers: Container[] } } } }>;
    const pod = dep.spec.template.spec;
    const c = pod.containers[0];
    assert.equal(dep.spec.replicas, 2);
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    assert.ok(c.resources.requests.cpu && c.resources.limits.memory);
    assert.deepEqual([c.livenessProbe.httpGet.path, c.readinessProbe.httpGet.path], ['/healthz', '/readyz']);
    const [cm] = find(manifests, 'ConfigMap', 'vigil-settings') as Array<Doc & { data: Record<string, string> }>;
    const settings = parse(cm.data['settings.yaml']) as { agent: { httpPort: number; leaseNamespace: string; stateDir: string } };
    assert.equal(c.ports[0].containerPort, settings.agent.httpPort);
    assert.equal(settings.agent.leaseNamespace, 'vigil');
    assert.ok(c.volumeMounts.some((m) => m.mountPath === settings.agent.stateDir), 'the state directory is a writable volume');
    assert.deepEqual(find(manifests, 'PodDisruptionBudget').length, 1);
    assert.deepEqual(find(manifests, 'ServiceMonitor').length, 0, 'off by default');
    assert.deepEqual(find(manifests, 'CustomResourceDefinition').map((d) => d.metadata.name), ['incidents.vigil.dev']);
  });
});
