/**
 * deploy/ with helm: the rendered manifests equal `helm template` of the chart, `helm lint --strict` passes, and the
 * chart's values render as documented. In the k8s tier because `npm run k8s:build` (its prepare step) builds helm; the
 * unit tier ran these before helm existed on a cold machine and skipped them. Needs no control plane.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseAllDocuments, parse } from 'yaml';
import { CHART_DIR, findHelm, MANIFESTS_FILE, renderManifests, runHelm } from '../../scripts/renderManifests';

type Doc = { kind: string; metadata: { name: string; namespace?: string }; [k: string]: unknown };
const docs = (text: string): Doc[] => parseAllDocuments(text).map((d) => d.toJS() as Doc).filter(Boolean);
const find = (all: Doc[], kind: string, name?: string) => all.filter((d) => d.kind === kind && (!name || d.metadata.name === name));

describe('deploy/: the Helm chart with helm (built by npm run k8s:build, which this tier runs first)', function () {
  this.timeout(60_000);
  const manifests = docs(readFileSync(MANIFESTS_FILE, 'utf8'));
  let helm: string;
  before(() => {
    // the tier's prepare step (test/k8s/prepare.mjs) builds helm with the components: missing here is a failure, not a skip
    const h = findHelm();
    if ('reason' in h) throw new Error(`helm: ${h.reason}`);
    helm = h.binary;
  });

  it('deploy/manifests/vigil.yaml equals helm template of the chart (render again: npx tsx scripts/renderManifests.ts)', () => {
    assert.equal(readFileSync(MANIFESTS_FILE, 'utf8'), renderManifests(helm));
  });

  it('helm lint passes', () => {
    const r = runHelm(helm, ['lint', '--strict', CHART_DIR]);
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it('a namespace allow-list: namespaced rules as a Role per namespace, only the node rules cluster-wide, the agent watches those namespaces', () => {
    const r = runHelm(helm, ['template', 'vigil', CHART_DIR, '--namespace', 'vigil', '--set', 'rbac.namespaces={shop,payments}']);
    assert.equal(r.code, 0, r.stderr);
    const out = docs(r.stdout);
    const [cr] = find(out, 'ClusterRole', 'vigil-agent') as Array<Doc & { rules: Array<{ resources: string[] }> }>;
    assert.ok(cr.rules.length > 0 && cr.rules.every((x) => x.resources.includes('nodes')));
    const roles = find(out, 'Role', 'vigil-agent') as Array<Doc & { rules: Array<{ resources: string[] }> }>;
    assert.deepEqual(roles.map((x) => x.metadata.namespace), ['shop', 'payments']);
    assert.ok(roles[0].rules.every((x) => !x.resources.includes('nodes')));
    assert.equal(find(out, 'RoleBinding', 'vigil-agent').length, 2);
    const [cm] = find(out, 'ConfigMap', 'vigil-settings') as Array<Doc & { data: Record<string, string> }>;
    assert.deepEqual((parse(cm.data['settings.yaml']) as { kubernetes: { namespaces: string[] } }).kubernetes.namespaces, ['shop', 'payments']);
  });

  it('notifications: a Secret only when values are given; the Deployment reads it either way (optional keys)', () => {
    const r = runHelm(helm, ['template', 'vigil', CHART_DIR, '--namespace', 'vigil', '--set', 'notifications.slackWebhookUrl=https://hooks.slack.invalid/x']);
    assert.equal(r.code, 0, r.stderr);
    const [secret] = find(docs(r.stdout), 'Secret') as Array<Doc & { stringData: Record<string, string> }>;
    assert.deepEqual(secret.stringData, { slackWebhookUrl: 'https://hooks.slack.invalid/x' });
    assert.equal(find(manifests, 'Secret').length, 0);
  });
});
