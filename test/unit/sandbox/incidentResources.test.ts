/**
 * The embedded sandbox serves what an in-cluster agent and its console need — Incident resources (watch,
 * resourceVersion, status subresource, merge patch, the CRD's schema checks), Leases, SelfSubjectReviews — and the
 * infra clients (the agent's writer, the console's watch and finder, the decision writer) work against it.
 * Over real HTTP on 127.0.0.1, no simulation: sub-second.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { shardLeaseName } from '../../../src/core/model/automation';
import type { HumanDecision } from '../../../src/core/model/decision';
import { incidentResource } from '../../../src/core/model/incidentResource';
import { findInClusterVigil, KubernetesIncidentResources, watchIncidents, writeDecision, type IncidentObject } from '../../../src/infra/kubernetes/incidentResources';
import { connectKube, type KubeConnection } from '../../../src/infra/kubernetes/kubeClient';
import { ApiServer, type SimulationApi } from '../../../src/sandbox/apiServer';
import { sandboxKubeconfig, SANDBOX_USER } from '../../../src/sandbox/kubeconfig';
import { ObjectStore } from '../../../src/sandbox/store';
import { awaitingIncident } from '../vscode/fixtures';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API answers, read field by field as the assertions need
type Json = Record<string, any>;

const NO_SIMULATION: SimulationApi = {
  podMetrics: () => undefined,
  serveHttp: () => undefined,
  podLogs: () => undefined,
  handleControl: () => ({ status: 404, body: { message: 'no simulation' } }),
};

async function until<T>(what: string, check: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('sandbox: Incident resources, Leases and SelfSubjectReviews for an in-cluster agent and its console', () => {
  let store: ObjectStore;
  let server: ApiServer;
  let base: string;
  let dir: string;
  let conn: KubeConnection;
  const incidentPath = '/apis/vigil.dev/v1alpha1/namespaces/shop/incidents/inc-1';
  const req = (method: string, p: string, body?: unknown, contentType = 'application/json') =>
    fetch(`${base}${p}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'Content-Type': contentType } }) }).then(async (r) => ({ status: r.status, json: (await r.json()) as Json }));

  beforeEach(async () => {
    store = new ObjectStore();
    for (const ns of ['shop', 'vigil']) store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    server = new ApiServer({ store, simulation: NO_SIMULATION });
    base = `http://127.0.0.1:${await server.listen(0)}`;
    dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-incidents-'));
    writeFileSync(path.join(dir, 'kubeconfig'), sandboxKubeconfig(base));
    conn = await connectKube({ kubeconfig: path.join(dir, 'kubeconfig') });
  });
  afterEach(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('discovery lists incidents (with status and the vigil category) and selfsubjectreviews', async () => {
    const gv = await req('GET', '/apis/vigil.dev/v1alpha1');
    assert.equal(gv.status, 200);
    const names = (gv.json.resources as Array<{ name: string; categories?: string[]; shortNames?: string[] }>).map((r) => r.name);
    assert.deepEqual(names, ['incidents', 'incidents/status']);
    assert.deepEqual(gv.json.resources[0].categories, ['vigil']);
    const auth = await req('GET', '/apis/authentication.k8s.io/v1');
    assert.deepEqual((auth.json.resources as Array<{ name: string; verbs: string[] }>).map((r) => [r.name, r.verbs]), [['selfsubjectreviews', ['create']]]);
  });

  it('a SelfSubjectReview answers the sandbox user; it cannot be listed', async () => {
    const r = await req('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    assert.equal(r.status, 201);
    assert.equal(r.json.status.userInfo.username, SANDBOX_USER);
    assert.equal((await req('GET', '/apis/authentication.k8s.io/v1/selfsubjectreviews')).status, 405);
  });

  it('the agent writes an Incident (create, then its status subresource); spec writes leave status alone and the schema is checked', async () => {
    const r = incidentResource(awaitingIncident(), 'vigil');
    await new KubernetesIncidentResources(conn).write(r);
    const got = await req('GET', incidentPath);
    assert.equal(got.status, 200);
    assert.equal(got.json.status.state, 'awaiting-approval');
    assert.equal(got.json.status.proposedStep.stepId, 'rollback');
    assert.deepEqual(got.json.spec, { incidentId: 'inc-1', target: 'service/checkout' });
    // a merge patch of the object cannot change status (the status subresource)
    const patched = await req('PATCH', incidentPath, { status: { state: 'recovered' }, metadata: { labels: { a: 'b' } } }, 'application/merge-patch+json');
    assert.equal(patched.status, 200);
    assert.equal(patched.json.status.state, 'awaiting-approval');
    assert.equal(patched.json.metadata.labels.a, 'b');
    // a decision outside the CRD's enum is refused, naming the field
    const bad = await req('PATCH', incidentPath, { spec: { decision: { action: 'maybe', stepId: 'rollback', by: 'x' } } }, 'application/merge-patch+json');
    assert.equal(bad.status, 422);
    assert.match(bad.json.message, /spec\.decision\.action: .*"approve", "reject"/);
    // a stale resourceVersion is a conflict
    const stale = await req('PATCH', incidentPath, { metadata: { resourceVersion: '1' }, spec: { decision: { action: 'approve', stepId: 'rollback', by: 'x' } } }, 'application/merge-patch+json');
    assert.equal(stale.status, 409);
    const list = await req('GET', '/apis/vigil.dev/v1alpha1/incidents');
    assert.deepEqual((list.json.items as IncidentObject[]).map((o) => `${o.metadata?.namespace}/${o.metadata?.name}`), ['shop/inc-1']);
  });

  it('findInClusterVigil: Incident resources served, and a Vigil Lease (or a shard\'s) held by someone else and renewed', async () => {
    const lease = (name: string, holder: string, renewedMsAgo: number) =>
      store.create('leases', { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: 'vigil' }, spec: { holderIdentity: holder, leaseDurationSeconds: 15, renewTime: new Date(Date.now() - renewedMsAgo).toISOString() } });
    const none = await findInClusterVigil(conn, { leaseName: 'vigil-copilot', ownIdentity: 'vscode@me' });
    assert.deepEqual([none.incidents, none.lease], [true, undefined]);
    assert.match(none.detail, /no Vigil Lease \("vigil-copilot" or its shards\) is held/);
    lease('vigil-copilot', 'vscode@me', 0); // this window's own loop
    lease('other-lease', 'someone', 0); // not Vigil's
    lease(shardLeaseName('vigil-copilot', ['team-a']), 'vigil-agent-old', 60_000); // expired
    assert.equal((await findInClusterVigil(conn, { leaseName: 'vigil-copilot', ownIdentity: 'vscode@me' })).lease, undefined);
    const shard = shardLeaseName('vigil-copilot', ['team-b']);
    lease(shard, 'vigil-agent-7d9f', 1_000);
    const found = await findInClusterVigil(conn, { leaseName: 'vigil-copilot', ownIdentity: 'vscode@me' });
    assert.deepEqual(found.lease, { namespace: 'vigil', name: shard, holder: 'vigil-agent-7d9f' });
  });

  it('findInClusterVigil: no CRD served is no in-cluster Vigil, with the fix', async () => {
    const absent = { ...conn, request: async () => ({ status: 404, body: '{"kind":"Status","message":"the server could not find the requested resource"}' }) } as KubeConnection;
    const r = await findInClusterVigil(absent, { leaseName: 'vigil-copilot' });
    assert.equal(r.incidents, false);
    assert.match(r.detail, /the CRD incidents\.vigil\.dev is not served .*install the chart deploy\/helm\/vigil/);
  });

  it('the console watches Incidents live; its Approve writes spec.decision (by from a SelfSubjectReview) and the agent\'s decision watch gets it', async () => {
    const seen: Array<ReadonlyArray<IncidentObject>> = [];
    const watch = watchIncidents(conn, (items) => seen.push(items), () => undefined);
    const decisions: HumanDecision[] = [];
    const agentSide = new KubernetesIncidentResources(conn).watchDecisions((d) => decisions.push(d), () => undefined);
    try {
      await until('the first (empty) list', () => (seen.length ? true : undefined));
      await new KubernetesIncidentResources(conn).write(incidentResource(awaitingIncident(), 'vigil'));
      await until('the watch to show the incident awaiting approval', () => (seen.at(-1)?.[0]?.status?.state === 'awaiting-approval' ? true : undefined));
      // a step that is no longer the one proposed is refused and nothing is written
      await assert.rejects(writeDecision(conn, { incident: 'inc-1', namespace: 'shop', action: 'approve', expectedStepId: 'scale-up' }), /it now proposes step "rollback" .*nothing was written/);
      assert.equal(store.get('incidents', 'shop', 'inc-1')?.spec && (store.get('incidents', 'shop', 'inc-1')?.spec as { decision?: unknown }).decision, undefined);
      const d = await writeDecision(conn, { incident: 'inc-1', namespace: 'shop', action: 'approve', expectedStepId: 'rollback' });
      assert.deepEqual(d, { namespace: 'shop', name: 'inc-1', incidentId: 'inc-1', stepId: 'rollback', action: 'approve', by: SANDBOX_USER });
      assert.deepEqual((store.get('incidents', 'shop', 'inc-1')?.spec as { decision?: unknown }).decision, { action: 'approve', stepId: 'rollback', by: SANDBOX_USER });
      const got = await until('the agent side to see the decision', () => decisions[0]);
      assert.deepEqual(got.kind === 'approve' ? [got.kind, got.incidentId, got.stepId, got.by] : [got.kind], ['approve', 'inc-1', 'rollback', `user:${SANDBOX_USER} (kubernetes)`]);
      await until('the console to show the decision', () => ((seen.at(-1)?.[0]?.spec?.decision?.by ?? '') === SANDBOX_USER ? true : undefined));
      // once decided, writeDecision refuses a second one when the agent moved on
      await new KubernetesIncidentResources(conn).write({ ...incidentResource(awaitingIncident({ state: 'acting' }), 'vigil') });
      await assert.rejects(writeDecision(conn, { incident: 'inc-1', namespace: 'shop', action: 'reject' }), /has no step waiting for a decision \(state acting/);
    } finally {
      watch.dispose();
      agentSide.dispose();
    }
  });
});
