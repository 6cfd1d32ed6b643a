/**
 * The Helm chart on the real control plane: its rendered manifests pass `kubectl apply --dry-run=server`; its
 * ClusterRole (deploy/rbac/clusterrole.yaml, exactly) lets a ServiceAccount token do what the agent does and
 * nothing else; applied for real, its two agent replicas run as real processes (the node agent's --run-image), use
 * their pod's service account, come up ready on /readyz, and exactly one of them leads.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseAllDocuments, stringify } from 'yaml';
import { MANIFESTS_FILE, RELEASE } from '../../scripts/renderManifests';
import { AGENT_IMAGE } from './agentImage';
import { shopManifests } from '../../src/sandbox/sim/topology';
import { apply, cluster, oncallUsersManifest, kubectl, kubectlOk, pods, podReady, tokenKubeconfig, vigilCli, waitFor, type PodView } from './cluster';

const MANIFESTS = readFileSync(MANIFESTS_FILE, 'utf8');
const NS = RELEASE.namespace;
const SELECTOR = 'app.kubernetes.io/name=vigil,app.kubernetes.io/component=agent';
/** The shop's pods Ready: ~15 s measured on the loaded machine (nodeAgent.test.ts); 3 min allowed. */
const SHOP_READY_BOUND_MS = 180_000;
/** From the fault to the Incident: detection (rules over 1 min windows at a 15 s interval) and diagnosis; 5 min allowed. */
const BAD_RELEASE_INCIDENT_BOUND_MS = 300_000;
/** From kubectl patch of spec.decision to the agent acting: a watch event and one step; 60 s allowed. */
const APPROVAL_BOUND_MS = 60_000;
/** From the approval to a verified recovery (the rollout, then the verification window); 5 min allowed. */
const RECOVERY_BOUND_MS = 300_000;

/** `vigil chaos …` from source, inside the namespace (the node agent's fault API listens on a node address). */
function chaos(args: string[]) {
  return vigilCli(['chaos', ...args, '--kubeconfig', cluster().cp.kubeconfig]);
}

describe("the chart's ClusterRole (deploy/rbac/clusterrole.yaml) with a ServiceAccount token", function () {
  this.timeout(120_000);
  const TEST_NS = 'rbac-chart';
  let kubeconfig: string;

  before(async () => {
    const objects = parseAllDocuments(MANIFESTS).map((d) => d.toJS() as { kind: string; metadata: { name: string } });
    const role = objects.find((d) => d?.kind === 'ClusterRole' && d.metadata.name === 'vigil-agent');
    const crd = objects.find((d) => d?.kind === 'CustomResourceDefinition');
    assert.ok(role && crd, 'the manifests carry a ClusterRole and the Incident CRD');
    // RBAC answers for incidents.vigil.dev only once the API server serves the resource
    await apply(stringify(crd));
    await kubectlOk(['wait', '--for=condition=Established', 'crd/incidents.vigil.dev', '--timeout=30s'], { timeoutMs: 40_000 });
    // the chart's ClusterRole exactly, renamed so this test does not race the release applied below
    await apply(stringify({ ...role, metadata: { ...role.metadata, name: 'vigil-test-chart-role' } }));
    await apply(`
apiVersion: v1
kind: Namespace
metadata: {name: ${TEST_NS}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: agent, namespace: ${TEST_NS}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: vigil-test-chart-role}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: vigil-test-chart-role}
subjects:
- {kind: ServiceAccount, name: agent, namespace: ${TEST_NS}}
---
apiVersion: v1
kind: Secret
metadata: {name: not-for-vigil, namespace: ${TEST_NS}}
stringData: {password: hunter2}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: target, namespace: ${TEST_NS}}
spec:
  replicas: 1
  selector: {matchLabels: {app: target}}
  template:
    metadata: {labels: {app: target}}
    spec:
      containers: [{name: app, image: registry.invalid/target:1.0}]
`);
    kubeconfig = await tokenKubeconfig(TEST_NS, 'agent');
    await waitFor('the binding to reach the RBAC cache', 20_000, async () => ((await kubectl(['get', 'deploy/target', '-n', TEST_NS, '-o', 'name'], { kubeconfig })).code === 0 ? true : undefined));
  });

  it("allows what the agent does: watch pods, events, nodes, deployments; restart, roll back, scale, evict, cordon (server dry runs); read logs", async () => {
    const as = (args: string[]) => kubectl(args, { kubeconfig });
    for (const args of [
      ['get', 'pods,events,configmaps', '-A', '-o', 'name'],
      ['get', 'nodes', '-o', 'name'],
      ['get', 'deployments,replicasets', '-A', '-o', 'name'],
      // a rollout restart is this patch (kubectl rollout restart has no --dry-run)
      ['patch', 'deploy/target', '-n', TEST_NS, '-p', '{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2026-12-06T00:00:00Z"}}}}}', '--dry-run=server'],
      ['scale', 'deploy/target', '-n', TEST_NS, '--replicas=2', '--dry-run=server'],
      ['patch', 'configmap', 'kube-root-ca.crt', '-n', TEST_NS, '--type=merge', '-p', '{"metadata":{"annotations":{"vigil.dev/test":"1"}}}', '--dry-run=server'],
      ['cordon', 'node-1', '--dry-run=server'],
    ]) {
      const r = await as(args);
      assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    }
    const [pod] = await pods(TEST_NS, 'app=target');
    assert.equal((await as(['delete', 'pod', pod.metadata.name, '-n', TEST_NS, '--dry-run=server'])).code, 0);
    for (const args of [['create', 'pods', '--subresource=eviction'], ['get', 'pods', '--subresource=log'], ['create', 'incidents.vigil.dev'], ['patch', 'incidents.vigil.dev', '--subresource=status']]) {
      const r = await as(['auth', 'can-i', ...args, '-n', TEST_NS]);
      assert.equal(r.stdout.trim(), 'yes', `can-i ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    }
  });

  it('forbids the rest with 403: Secrets, deleting or creating workloads, Leases outside its own Role', async () => {
    const forbidden = async (args: string[], verb: string, resource: string) => {
      const r = await kubectl(args, { kubeconfig });
      assert.equal(r.code, 1, `kubectl ${args.join(' ')} should be forbidden: ${r.stdout}`);
      assert.match(r.stderr, new RegExp(`is forbidden: User "system:serviceaccount:${TEST_NS}:agent" cannot ${verb} resource "${resource}"`));
    };
    await forbidden(['get', 'secret/not-for-vigil', '-n', TEST_NS], 'get', 'secrets');
    await forbidden(['get', 'secrets', '-A'], 'list', 'secrets');
    await forbidden(['delete', 'deploy/target', '-n', TEST_NS, '--dry-run=server'], 'delete', 'deployments');
    await forbidden(['create', 'deployment', 'x', '-n', TEST_NS, '--image=registry.invalid/x:1', '--dry-run=server'], 'create', 'deployments');
    await forbidden(['create', 'clusterrolebinding', 'escalate', '--clusterrole=cluster-admin', `--serviceaccount=${TEST_NS}:agent`, '--dry-run=server'], 'create', 'clusterrolebindings');
    await forbidden(['get', 'lease', 'vigil-copilot', '-n', 'default'], 'get', 'leases');
  });

  after(async () => {
    await kubectl(['delete', 'namespace', TEST_NS, '--wait=false']).catch(() => undefined);
    await kubectl(['delete', 'clusterrolebinding,clusterrole', 'vigil-test-chart-role']).catch(() => undefined);
  });
});

describe('the chart applied on the control plane: two agent replicas as real processes', function () {
  this.timeout(300_000);

  it('kubectl apply --dry-run=server of deploy/manifests passes (the namespace exists first: a dry run creates nothing)', async () => {
    await kubectlOk(['create', 'namespace', NS]);
    const r = await kubectl(['apply', '--dry-run=server', '-f', '-'], { input: MANIFESTS });
    assert.equal(r.code, 0, r.stderr);
    for (const obj of ['customresourcedefinition.apiextensions.k8s.io/incidents.vigil.dev', 'clusterrole.rbac.authorization.k8s.io/vigil-agent', 'deployment.apps/vigil-agent', 'poddisruptionbudget.policy/vigil-agent', 'configmap/vigil-settings']) {
      assert.match(r.stdout, new RegExp(`^${obj.replace(/\./g, '\\.')} (created|configured|unchanged) \\(server dry run\\)$`, 'm'));
    }
    assert.equal((await kubectl(['get', 'deploy/vigil-agent', '-n', NS])).code, 1, 'a dry run created nothing');
  });

  it('applied, both replicas run the agent with their service account, serve /readyz and /metrics, and exactly one leads', async () => {
    await kubectlOk(['apply', '-f', '-'], { input: MANIFESTS });
    const dep = JSON.parse(await kubectlOk(['get', 'deploy/vigil-agent', '-n', NS, '-o', 'json'])) as { spec: { template: { spec: { containers: Array<{ image: string }> } } } };
    assert.ok(dep.spec.template.spec.containers[0].image.startsWith(`${AGENT_IMAGE}:`));
    // the agent under tsx starts in ~10 s on an idle machine; 3 min allowed for a loaded one
    const running = await waitFor('2 Ready agent pods', 180_000, async () => {
      const ps = await pods(NS, SELECTOR);
      return ps.length === 2 && ps.every(podReady) && ps.every((p) => p.status.podIP) ? ps : undefined;
    });
    const get = async (p: PodView, route: string) => {
      const r = await fetch(`http://${p.status.podIP}:9464${route}`, { signal: AbortSignal.timeout(5000) });
      return { status: r.status, body: await r.text() };
    };
    for (const p of running) {
      await waitFor(`/readyz of ${p.metadata.name} to answer 200`, 120_000, async () => ((await get(p, '/readyz')).status === 200 ? true : undefined));
      assert.equal((await get(p, '/healthz')).status, 200);
    }
    const leaders = await waitFor('exactly one replica to say vigil_leader 1', 90_000, async () => {
      const values = await Promise.all(running.map(async (p) => Number(/^vigil_leader (\d)$/m.exec((await get(p, '/metrics')).body)?.[1])));
      return values.filter((v) => v === 1).length === 1 && values.filter((v) => v === 0).length === 1 ? values : undefined;
    });
    assert.deepEqual([...leaders].sort(), [0, 1]);
    // the Lease in the release's namespace, taken through the chart's leader-election Role with the pod's token
    const holder = (await kubectlOk(['get', 'lease', 'vigil-copilot', '-n', NS, '-o', 'jsonpath={.spec.holderIdentity}'])).trim();
    assert.match(holder, /^vigil-agent@/);
    const logs = await kubectlOk(['logs', running[0].metadata.name, '-n', NS, '--tail=200']);
    assert.match(logs, /watching https:\/\/10\.244\.0\.1:6443 \(context in-cluster\)/, 'the agent connected with its service account');
    assert.match(logs, /watching the nodes' Leases \(kube-node-lease\)/, "the chart's node-leases Role lets it read the kubelets' Leases");
    assert.doesNotMatch(logs, /node Leases not read/);
    const metrics = (await get(running[0], '/metrics')).body;
    for (const family of ['vigil_incidents_open', 'vigil_actions_total', 'vigil_loop_duration_seconds', 'vigil_source_errors_total']) assert.match(metrics, new RegExp(`^# TYPE ${family} `, 'm'));
  });

  it('a bad release of shop/checkout becomes an Incident in kubectl get incidents -A, awaiting approval (suggest mode)', async function () {
    this.timeout(SHOP_READY_BOUND_MS + BAD_RELEASE_INCIDENT_BOUND_MS + 120_000);
    await apply(shopManifests().map((o) => stringify(o)).join('---\n'));
    await waitFor('the shop Ready', SHOP_READY_BOUND_MS, async () => ((await pods('shop', 'app=checkout')).filter(podReady).length === 3 ? true : undefined));
    // a minute of normal traffic scraped first, so the fault is a change and not the start
    await new Promise((r) => setTimeout(r, 60_000));
    const injected = await chaos(['bad-release', '--target', 'shop/checkout']);
    assert.equal(injected.code, 0, injected.stderr);
    const t0 = Date.now();
    const row = await waitFor('an Incident for shop/checkout awaiting approval', BAD_RELEASE_INCIDENT_BOUND_MS, async () => {
      const out = await kubectlOk(['get', 'incidents', '-A', '--no-headers']);
      return out.split('\n').find((l) => /^shop\s+\S+\s+service\/checkout\s+/.test(l) && /\sawaiting-approval\s/.test(l));
    });
    console.log(`    kubectl get incidents -A, ${((Date.now() - t0) / 1000).toFixed(0)} s after the bad release:\n    ${(await kubectlOk(['get', 'incidents', '-A'])).trim().replace(/\n/g, '\n    ')}`);
    assert.match(row, /bad-release/);
    const [incident] = (JSON.parse(await kubectlOk(['get', 'incidents', '-n', 'shop', '-o', 'json'])) as { items: Array<{ status: { proposedStep?: { action: string; dryRun?: string }; gates?: Array<{ gate: string; allowed: boolean }>; evidence?: string[] } }> }).items;
    assert.match(incident.status.proposedStep?.action ?? '', /checkout/);
    assert.ok(incident.status.gates?.some((g) => !g.allowed), 'a refusing gate (approval) is shown');
    assert.ok((incident.status.evidence ?? []).length > 0);
  });

  it('approval through spec.decision: 403 without the approver role, a forged `by` refused by the admission policy, the real one approved and the service recovers', async function () {
    this.timeout(APPROVAL_BOUND_MS + RECOVERY_BOUND_MS + 60_000);
    await apply(oncallUsersManifest(['alice', 'mallory'], ['alice']));
    const alice = await tokenKubeconfig('oncall', 'alice');
    const mallory = await tokenKubeconfig('oncall', 'mallory');
    const [inc] = (JSON.parse(await kubectlOk(['get', 'incidents', '-n', 'shop', '-o', 'json'])) as { items: Array<{ metadata: { name: string }; status: { proposedStep?: { stepId: string } } }> }).items;
    const stepId = inc.status.proposedStep!.stepId;
    const decide = (kubeconfig: string, by: string) => kubectl(['patch', 'incident', inc.metadata.name, '-n', 'shop', '--type=merge', '-p', JSON.stringify({ spec: { decision: { action: 'approve', stepId, by } } })], { kubeconfig });

    const denied = await decide(mallory, 'system:serviceaccount:oncall:mallory');
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /is forbidden: User "system:serviceaccount:oncall:mallory" cannot (get|patch) resource "incidents" in API group "vigil.dev" in the namespace "shop"/, 'kubectl patch reads the object first: a user without the role is refused at once');
    // the binding and the policy reach the apiserver's caches within moments
    const forged = await waitFor('the admission policy to refuse a forged by', 30_000, async () => {
      const r = await decide(alice, 'system:serviceaccount:oncall:bob');
      return r.code === 1 && /spec\.decision\.by must be the user who sends the decision/.test(r.stderr) ? r : undefined;
    });
    assert.match(forged.stderr, /ValidatingAdmissionPolicy 'vigil-incident-decisions'/);
    assert.equal((await kubectlOk(['get', 'incident', inc.metadata.name, '-n', 'shop', '-o', 'jsonpath={.spec.decision}'])).trim(), '', 'nothing was written');

    const t0 = Date.now();
    const approved = await decide(alice, 'system:serviceaccount:oncall:alice');
    assert.equal(approved.code, 0, approved.stderr);
    const state = (): Promise<string> => kubectlOk(['get', 'incident', inc.metadata.name, '-n', 'shop', '-o', 'jsonpath={.status.state}']).then((s) => s.trim());
    await waitFor('the agent to act on the approval', APPROVAL_BOUND_MS, async () => (['acting', 'verifying', 'recovered'].includes(await state()) ? true : undefined));
    console.log(`    approved step ${stepId} acted on ${((Date.now() - t0) / 1000).toFixed(1)} s after kubectl patch`);
    await waitFor('the Incident to say recovered', RECOVERY_BOUND_MS, async () => ((await state()) === 'recovered' ? true : undefined));
    console.log(`    recovered ${((Date.now() - t0) / 1000).toFixed(0)} s after the approval:\n    ${(await kubectlOk(['get', 'incidents', '-A'])).trim().replace(/\n/g, '\n    ')}`);
  });

  after(async function () {
    this.timeout(120_000);
    await kubectl(['delete', 'namespace', NS, 'shop', 'payments', 'oncall', '--wait=true', '--timeout=90s'], { timeoutMs: 100_000 }).catch(() => undefined);
    await kubectl(['delete', 'clusterrolebinding,clusterrole', 'vigil-agent']).catch(() => undefined);
    await kubectl(['delete', 'clusterrole', 'vigil-approver']).catch(() => undefined);
    await kubectl(['delete', 'validatingadmissionpolicy,validatingadmissionpolicybinding', 'vigil-incident-decisions']).catch(() => undefined);
  });
});
