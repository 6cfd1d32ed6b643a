/**
 * The console of several clusters at once, over real HTTP: two embedded sandboxes as two clusters (contexts prod-eu and
 * prod-us of one kubeconfig), each with a held Vigil Lease and Incident resources written by the agent's own writer
 * (KubernetesIncidentResources). The console's process (src/vscode/clusterConsoleWorker.ts, forked as the extension
 * forks it) finds both agents, lists and watches both clusters' Incidents, and a decision on prod-us's card is written
 * to prod-us's API server only, though both clusters have an incident of the same id.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { incidentResource } from '../../../src/core/model/incidentResource';
import type { LogLevel, LoggerPort } from '../../../src/core/ports';
import { KubernetesIncidentResources, type IncidentObject } from '../../../src/infra/kubernetes/incidentResources';
import { connectKube } from '../../../src/infra/kubernetes/kubeClient';
import { SANDBOX_USER } from '../../../src/sandbox/kubeconfig';
import { clusterGroups, consoleStatus, newlyAwaiting, routeDecision, type ConsoleCluster, type ConsoleIncident } from '../../../src/vscode/clusterConsoleModel';
import { ClusterConsoleProcess } from '../../../src/vscode/clusterConsoleProcess';
import type { ConsoleEvent } from '../../../src/vscode/clusterConsoleProtocol';
import { awaitingIncident } from '../../unit/vscode/fixtures';
import { startInProcessSandbox, waitFor, type InProcessSandbox } from '../sandbox/sandboxProcess';
import { writeContextsKubeconfig } from '../../fixtures/contextsKubeconfig';

const REPO_ROOT = path.resolve(__dirname, '../../..');
const WORKER = { path: path.join(REPO_ROOT, 'src/vscode/clusterConsoleWorker.ts'), execArgv: ['--import', 'tsx'] };
const CONTEXTS = ['prod-eu', 'prod-us'] as const;
const AGENT_NAMESPACE = 'vigil';
const LEASE = 'vigil-agent';


async function post(server: string, p: string, body: unknown): Promise<void> {
  const res = await fetch(`${server}${p}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  assert.ok(res.status === 201 || res.status === 409, `POST ${p}: HTTP ${res.status} ${await res.text()}`);
}

async function incidentsOf(server: string): Promise<IncidentObject[]> {
  const res = await fetch(`${server}/apis/vigil.dev/v1alpha1/incidents`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { items: IncidentObject[] }).items;
}

describe('the console of several clusters at once (two sandboxes over HTTP, the console in its own process)', function () {
  // the first step forks the console's worker through tsx and loads client-node in it: seconds, more on a loaded machine
  this.timeout(120_000);
  const sandboxes: Record<string, InProcessSandbox> = {};
  let dir = '';
  let kubeconfig = '';
  let console_: ClusterConsoleProcess | undefined;
  const events: ConsoleEvent[] = [];
  const lost: string[] = [];
  const logs: Array<{ level: LogLevel; message: string }> = [];
  const logger: LoggerPort = { log: (level, message) => logs.push({ level, message }), child: () => logger };

  /** The latest set of a cluster's incidents its watch sent. */
  const latest = (cluster: string): ReadonlyArray<ConsoleIncident> | undefined =>
    [...events].reverse().find((e): e is Extract<ConsoleEvent, { kind: 'incidents' }> => e.kind === 'incidents' && e.cluster === cluster)?.incidents;
  const state = (): ConsoleCluster[] => CONTEXTS.map((c) => ({ cluster: c, server: sandboxes[c].apiServer, watch: { state: 'synced', detail: '' }, incidents: latest(c) ?? [] }));

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-console-'));
    sandboxes['prod-eu'] = await startInProcessSandbox({ seed: 3 });
    sandboxes['prod-us'] = await startInProcessSandbox({ seed: 4 });
    kubeconfig = path.join(dir, 'kubeconfig');
    writeContextsKubeconfig(kubeconfig, Object.fromEntries(CONTEXTS.map((c) => [c, sandboxes[c].apiServer])));
    for (const c of CONTEXTS) {
      const server = sandboxes[c].apiServer;
      await post(server, '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: AGENT_NAMESPACE } });
      // the agent's Lease, held and renewed now, as its elector keeps it
      await post(server, `/apis/coordination.k8s.io/v1/namespaces/${AGENT_NAMESPACE}/leases`, {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: LEASE, namespace: AGENT_NAMESPACE },
        spec: { holderIdentity: `vigil-${c}-0`, leaseDurationSeconds: 300, renewTime: new Date().toISOString() },
      });
      // each cluster's agent opened an incident of the same id, awaiting approval of its own step
      const writer = new KubernetesIncidentResources(await connectKube({ kubeconfig, context: c }));
      const r = incidentResource(awaitingIncident(), AGENT_NAMESPACE);
      await writer.write({ ...r, status: { ...r.status, proposedStep: { ...r.status.proposedStep!, stepId: `rollback-${c}` } } });
    }
    console_ = new ClusterConsoleProcess({ event: (e) => events.push(e), lost: (reason) => lost.push(reason), logger, worker: WORKER });
  });

  after(async () => {
    await console_?.dispose();
    for (const s of Object.values(sandboxes)) await s.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds the agent of each context and watches both clusters: one group each, the open incidents summed', async () => {
    const c = console_!;
    for (const context of CONTEXTS) {
      const probe = await c.call('probe', { kubeconfig, context, leaseName: LEASE, ownIdentity: 'vscode@test' });
      assert.equal(probe.server, sandboxes[context].apiServer, `the server of ${context}`);
      assert.deepEqual(probe.found.lease, { namespace: AGENT_NAMESPACE, name: LEASE, holder: `vigil-${context}-0` });
      await c.call('watch', context);
    }
    await waitFor('both clusters listed', () => (CONTEXTS.every((x) => latest(x)?.length === 1) ? true : undefined), 20_000);
    assert.ok(c.pid && c.pid !== process.pid, 'the list+watch runs in a process of its own');
    const groups = clusterGroups(state());
    assert.deepEqual(
      groups.map((g) => [g.cluster, g.open, g.awaiting, g.incidents.map((i) => `${i.id} ${i.proposal?.stepId}`)]),
      [
        ['prod-eu', 1, 1, ['prod-eu/inc-1 rollback-prod-eu']],
        ['prod-us', 1, 1, ['prod-us/inc-1 rollback-prod-us']],
      ],
    );
    assert.equal(consoleStatus(state()).text, 'Vigil: 2 open (2 awaiting approval) · 2 clusters');
    assert.ok(events.some((e) => e.kind === 'watch' && e.cluster === 'prod-us' && e.state === 'synced'), 'the watch of prod-us says it is synced');
  });

  it("Approve on prod-us's card writes spec.decision to prod-us's API server only (its context's connection); the watch shows it", async () => {
    const { cluster, incident } = routeDecision(state(), 'prod-us/inc-1');
    assert.equal(cluster, 'prod-us');
    const d = await console_!.call('decide', cluster, { namespace: incident.namespace, name: incident.name, action: 'approve', expectedStepId: incident.proposal?.stepId });
    assert.deepEqual([d.stepId, d.by, d.namespace], ['rollback-prod-us', SANDBOX_USER, 'shop']);
    assert.deepEqual((await incidentsOf(sandboxes['prod-us'].apiServer)).map((o) => o.spec?.decision), [{ action: 'approve', stepId: 'rollback-prod-us', by: SANDBOX_USER }]);
    assert.deepEqual((await incidentsOf(sandboxes['prod-eu'].apiServer)).map((o) => o.spec?.decision), [undefined], 'prod-eu was written to');
    // live: the watch of prod-us brings the decision to the view (its timeline), prod-eu's stays undecided
    await waitFor("the decision in prod-us's view", () => (latest('prod-us')?.[0]?.timeline.some((e) => e.kind === 'approved') ? true : undefined), 10_000);
    assert.ok(!latest('prod-eu')?.[0]?.timeline.some((e) => e.kind === 'approved'));
    // a step that is no longer the one shown is refused, not approved
    const eu = routeDecision(state(), 'prod-eu/inc-1');
    await assert.rejects(console_!.call('decide', eu.cluster, { namespace: eu.incident.namespace, name: eu.incident.name, action: 'approve', expectedStepId: 'rollback-prod-us' }), /proposal of shop\/inc-1 changed: it now proposes step "rollback-prod-eu"/);
  });

  it("a new proposal in prod-eu arrives live and is news for prod-eu only; a disconnected cluster's changes are not heard", async () => {
    const before = latest('prod-eu');
    const writer = new KubernetesIncidentResources(await connectKube({ kubeconfig, context: 'prod-eu' }));
    const r = incidentResource(awaitingIncident({ id: 'inc-2', openedAt: 1_700_000_100_000 }), AGENT_NAMESPACE);
    await writer.write(r);
    // the agent's writer creates the object, then patches its status: wait for the proposal, not the bare object
    const after_ = await waitFor('inc-2 awaiting approval in prod-eu', () => (latest('prod-eu')?.some((i) => i.id === 'prod-eu/inc-2' && i.proposal?.awaitingApproval) ? latest('prod-eu') : undefined), 10_000);
    assert.deepEqual(newlyAwaiting(before, after_).map((i) => i.id), ['prod-eu/inc-2']);
    await console_!.call('remove', 'prod-us');
    const heard = events.length;
    const us = new KubernetesIncidentResources(await connectKube({ kubeconfig, context: 'prod-us' }));
    await us.write(incidentResource(awaitingIncident({ id: 'inc-3' }), AGENT_NAMESPACE));
    await new Promise((r) => setTimeout(r, 1_500));
    assert.deepEqual(events.slice(heard).filter((e) => e.kind !== 'log' && e.cluster === 'prod-us'), [], 'events of a removed cluster');
    await assert.rejects(console_!.call('decide', 'prod-us', { namespace: 'shop', name: 'inc-3', action: 'approve' }), /does not watch context prod-us/);
    assert.deepEqual(lost, []);
  });
});
