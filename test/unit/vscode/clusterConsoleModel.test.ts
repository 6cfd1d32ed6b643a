import assert from 'node:assert/strict';
import { incidentResource } from '../../../src/core/model/incidentResource';
import type { Incident } from '../../../src/core/model/incident';
import type { IncidentObject } from '../../../src/infra/kubernetes/incidentResources';
import { clusterGroups, consoleCopilotModel, consoleStatus, incidentResourceView, newlyAwaiting, routeDecision, sortForViews, type ConsoleCluster, type ConsoleIncident } from '../../../src/vscode/clusterConsoleModel';
import { incidentView } from '../../../src/vscode/viewModel';
import { awaitingIncident } from './fixtures';

/** The Incident resource the leader writes for an incident, as the API server returns it. */
function asObject(i: Incident, extra: Partial<IncidentObject> = {}): IncidentObject {
  const r = incidentResource(i, 'vigil');
  return { apiVersion: 'vigil.dev/v1alpha1', kind: 'Incident', metadata: { name: r.name, namespace: r.namespace, uid: 'u-1', resourceVersion: '7' }, spec: r.spec, status: r.status, ...extra };
}

describe('the console of an in-cluster agent: Incident resource → view model', () => {
  it('shows what the local loop shows of the same incident: diagnosis, confidence, state, proposed step, its dry-run diff and gates', () => {
    const i = awaitingIncident();
    const local = incidentView(i);
    const viaCluster = incidentResourceView(asObject(i), 'prod-eu');
    assert.deepEqual(
      { id: viaCluster.incidentId, target: viaCluster.target, state: viaCluster.state, open: viaCluster.open, diagnosis: viaCluster.diagnosis, confidence: viaCluster.confidence, summary: viaCluster.summary, proposal: viaCluster.proposal },
      { id: local.id, target: local.target, state: local.state, open: local.open, diagnosis: local.diagnosis, confidence: local.confidence, summary: local.summary, proposal: local.proposal },
    );
    // the values themselves, so a change on both sides is still seen
    assert.equal(viaCluster.diagnosis, 'bad release');
    assert.equal(viaCluster.confidence, 87);
    assert.deepEqual(viaCluster.proposal?.diff, [{ path: 'spec.template.spec.containers[0].image', before: 'shop/checkout:1.1-bad', after: 'shop/checkout:1.0' }]);
    assert.deepEqual(viaCluster.proposal?.gates.map((g) => `${g.gate}:${g.allowed}`), ['namespace-policy:true', 'approval:false']);
    assert.equal(viaCluster.proposal?.awaitingApproval, true);
    assert.deepEqual([viaCluster.cluster, viaCluster.namespace, viaCluster.name], ['prod-eu', 'shop', 'inc-1']);
    assert.equal(viaCluster.id, 'prod-eu/inc-1', "the views' key names the cluster");
    assert.equal(viaCluster.evidence.length, 3, 'the evidence lines of status');
  });

  it('a decided, recovered incident: closed, its decision and outcome on the timeline, no Approve', () => {
    const i = awaitingIncident({ state: 'recovered', outcome: { kind: 'recovered', t: 1_700_000_100_000, recoveredBy: 'rollback' } });
    const o = asObject(i);
    const v = incidentResourceView({ ...o, spec: { ...o.spec, decision: { action: 'approve', stepId: 'rollback', by: 'alice@example.com' } } }, 'prod-eu');
    assert.equal(v.open, false);
    assert.equal(v.proposal?.awaitingApproval, false);
    assert.equal(v.outcome, 'recovered');
    assert.deepEqual(v.timeline.map((e) => e.kind), ['diagnosed', 'proposed', 'approved', 'resolved']);
    assert.match(v.timeline[2].text, /approved step rollback by alice@example\.com \(spec\.decision\)/);
  });

  it('a resource written before any diagnosis or with a malformed target still shows, as what it is', () => {
    const v = incidentResourceView({ apiVersion: 'vigil.dev/v1alpha1', kind: 'Incident', metadata: { name: 'x', namespace: 'shop' }, spec: { incidentId: 'inc-x', target: 'deployment' } }, 'c');
    assert.deepEqual([v.incidentId, v.target, v.state, v.open, v.diagnosis, v.proposal, v.confidence], ['inc-x', 'shop/deployment', 'diagnosed', true, undefined, undefined, undefined]);
  });

  it('open incidents first, newest first; the copilot model names the agent and the watch state', () => {
    const a = incidentResourceView(asObject(awaitingIncident({ id: 'inc-a', openedAt: 1_000 })), 'c');
    const b = incidentResourceView(asObject(awaitingIncident({ id: 'inc-b', openedAt: 2_000 })), 'c');
    const closed = incidentResourceView(asObject(awaitingIncident({ id: 'inc-c', openedAt: 3_000, state: 'closed' })), 'c');
    assert.deepEqual(sortForViews([a, closed, b]).map((x) => x.id), ['c/inc-b', 'c/inc-a', 'c/inc-c']);
    const m = consoleCopilotModel([{ cluster: 'c', server: 'https://c:6443', incidents: [a, closed, b], holder: 'vigil-0', watch: { state: 'failing', detail: 'HTTP 403' } }]);
    assert.equal(m.mode, 'in-cluster agent (vigil-0)');
    assert.equal(m.connection.message, 'Watching the in-cluster agent of context c (https://c:6443); no local loop runs.');
    assert.deepEqual(m.sources, [{ source: 'incidents', state: 'down', message: 'HTTP 403' }]);
    assert.deepEqual(m.incidents.map((x) => x.id), ['c/inc-b', 'c/inc-a', 'c/inc-c']);
  });

  it('notifies a proposal once: not what waited at connect, not the same step again, again for a new step', () => {
    const v = (id: string, stepId: string, state: Incident['state'] = 'awaiting-approval') => {
      const i = awaitingIncident({ id, state });
      const o = asObject(i);
      return incidentResourceView({ ...o, status: { ...o.status, proposedStep: { ...o.status!.proposedStep!, stepId } } }, 'prod-eu');
    };
    assert.deepEqual(newlyAwaiting(undefined, [v('inc-a', 's1')]), [], 'the first list');
    assert.deepEqual(newlyAwaiting([v('inc-a', 's1')], [v('inc-a', 's1'), v('inc-b', 's1')]).map((i) => i.id), ['prod-eu/inc-b']);
    assert.deepEqual(newlyAwaiting([v('inc-a', 's1')], [v('inc-a', 's2')]).map((i) => `${i.id}/${i.proposal?.stepId}`), ['prod-eu/inc-a/s2']);
    assert.deepEqual(newlyAwaiting([], [v('inc-a', 's1', 'acting')]), [], 'not waiting');
  });
});

describe('the console of several clusters at once (prod-eu and prod-us)', () => {
  /** An agent's Incident, as its cluster's watch maps it; the same incident id in both clusters, as two agents may open. */
  const view = (cluster: string, id: string, o: { state?: Incident['state']; openedAt?: number; stepId?: string } = {}): ConsoleIncident => {
    const obj = asObject(awaitingIncident({ id, state: o.state ?? 'awaiting-approval', openedAt: o.openedAt ?? 1_000 }));
    return incidentResourceView(o.stepId ? { ...obj, status: { ...obj.status, proposedStep: { ...obj.status!.proposedStep!, stepId: o.stepId } } } : obj, cluster);
  };
  const synced = { state: 'synced' as const, detail: 'watching' };
  const clusters = (): ConsoleCluster[] => [
    { cluster: 'prod-eu', server: 'https://eu:6443', holder: 'vigil-eu-0', watch: synced, incidents: [view('prod-eu', 'inc-1', { stepId: 'rollback-eu' }), view('prod-eu', 'inc-2', { state: 'acting', openedAt: 2_000 }), view('prod-eu', 'inc-0', { state: 'recovered' })] },
    { cluster: 'prod-us', server: 'https://us:6443', holder: 'vigil-us-1', watch: { state: 'failing', detail: 'HTTP 403 listing incidents' }, incidents: [view('prod-us', 'inc-1', { stepId: 'rollback-us' })] },
  ];

  it('groups the tree by cluster: one node each, in connection order, with its open and awaiting counts and only its own rows', () => {
    const groups = clusterGroups(clusters());
    assert.deepEqual(
      groups.map((g) => ({ cluster: g.cluster, open: g.open, awaiting: g.awaiting, rows: g.incidents.map((i) => i.id) })),
      [
        { cluster: 'prod-eu', open: 2, awaiting: 1, rows: ['prod-eu/inc-2', 'prod-eu/inc-1', 'prod-eu/inc-0'] },
        { cluster: 'prod-us', open: 1, awaiting: 1, rows: ['prod-us/inc-1'] },
      ],
    );
    assert.ok(groups.every((g) => g.incidents.every((i) => i.cluster === g.cluster)), 'a row under another cluster');
  });

  it('the status bar sums open incidents over the clusters, says how many, and lists each in its tooltip', () => {
    const s = consoleStatus(clusters());
    assert.equal(s.open, 3);
    assert.equal(s.text, 'Vigil: 3 open (2 awaiting approval) · 2 clusters');
    assert.match(s.tooltip, /prod-eu: 2 open, 1 awaiting approval \(agent vigil-eu-0\)/);
    assert.match(s.tooltip, /prod-us: 1 open, 1 awaiting approval · watch failing \(agent vigil-us-1\)/);
    const one = consoleStatus(clusters().slice(0, 1));
    assert.equal(one.text, 'Vigil: 2 open (1 awaiting approval) · prod-eu', 'one cluster is named');
    assert.equal(consoleStatus([{ ...clusters()[1], incidents: [] }]).text, 'Vigil: 0 open · prod-us');
  });

  it('routes a decision to the cluster its card came from, though both clusters have an incident inc-1', () => {
    const eu = routeDecision(clusters(), 'prod-eu/inc-1');
    assert.deepEqual([eu.cluster, eu.incident.proposal?.stepId, eu.incident.namespace, eu.incident.name], ['prod-eu', 'rollback-eu', 'shop', 'inc-1']);
    const us = routeDecision(clusters(), 'prod-us/inc-1');
    assert.deepEqual([us.cluster, us.incident.proposal?.stepId], ['prod-us', 'rollback-us']);
    assert.throws(() => routeDecision(clusters(), 'prod-us/inc-9'), /No Incident resource inc-9 in context prod-us now; list them with kubectl get incidents -A --context prod-us/);
    assert.throws(() => routeDecision(clusters(), 'prod-ap/inc-1'), /not in a cluster this window watches \(prod-eu, prod-us\)/);
    assert.throws(() => routeDecision(clusters(), 'inc-1'), /not in a cluster this window watches/, 'a bare incident id is not guessed to one cluster');
  });

  it('the Copilot view lists every cluster\'s incidents, names each agent and each watch, and each card its cluster', () => {
    const m = consoleCopilotModel(clusters());
    assert.equal(m.connection.message, 'Watching the in-cluster agents of 2 clusters: context prod-eu (https://eu:6443), context prod-us (https://us:6443); no local loop runs.');
    assert.equal(m.mode, 'in-cluster agents (prod-eu: vigil-eu-0; prod-us: vigil-us-1)');
    assert.deepEqual(m.sources.map((x) => `${x.source} ${x.state}`), ['incidents (prod-eu) ok', 'incidents (prod-us) down']);
    assert.deepEqual(m.incidents.filter((i) => i.open).map((i) => `${i.cluster} ${i.id}`).sort(), ['prod-eu prod-eu/inc-1', 'prod-eu prod-eu/inc-2', 'prod-us prod-us/inc-1']);
  });

  it('notifies the same incident id in two clusters as two proposals', () => {
    assert.deepEqual(newlyAwaiting([view('prod-eu', 'inc-1')], [view('prod-eu', 'inc-1'), view('prod-us', 'inc-1')]).map((i) => i.id), ['prod-us/inc-1']);
  });
});
