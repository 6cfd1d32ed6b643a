import assert from 'node:assert/strict';
import { incidentResource } from '../../../src/core/model/incidentResource';
import type { Incident } from '../../../src/core/model/incident';
import type { IncidentObject } from '../../../src/infra/kubernetes/incidentResources';
import { consoleCopilotModel, incidentResourceView, newlyAwaiting, sortForViews } from '../../../src/vscode/clusterConsoleModel';
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
      { id: viaCluster.id, target: viaCluster.target, state: viaCluster.state, open: viaCluster.open, diagnosis: viaCluster.diagnosis, confidence: viaCluster.confidence, summary: viaCluster.summary, proposal: viaCluster.proposal },
      { id: local.id, target: local.target, state: local.state, open: local.open, diagnosis: local.diagnosis, confidence: local.confidence, summary: local.summary, proposal: local.proposal },
    );
    // the values themselves, so a change on both sides is still seen
    assert.equal(viaCluster.diagnosis, 'bad release');
    assert.equal(viaCluster.confidence, 87);
    assert.deepEqual(viaCluster.proposal?.diff, [{ path: 'spec.template.spec.containers[0].image', before: 'shop/checkout:1.1-bad', after: 'shop/checkout:1.0' }]);
    assert.deepEqual(viaCluster.proposal?.gates.map((g) => `${g.gate}:${g.allowed}`), ['namespace-policy:true', 'approval:false']);
    assert.equal(viaCluster.proposal?.awaitingApproval, true);
    assert.deepEqual([viaCluster.cluster, viaCluster.namespace, viaCluster.name], ['prod-eu', 'shop', 'inc-1']);
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
    assert.deepEqual([v.id, v.target, v.state, v.open, v.diagnosis, v.proposal, v.confidence], ['inc-x', 'shop/deployment', 'diagnosed', true, undefined, undefined, undefined]);
  });

  it('open incidents first, newest first; the copilot model names the agent and the watch state', () => {
    const a = incidentResourceView(asObject(awaitingIncident({ id: 'inc-a', openedAt: 1_000 })), 'c');
    const b = incidentResourceView(asObject(awaitingIncident({ id: 'inc-b', openedAt: 2_000 })), 'c');
    const closed = incidentResourceView(asObject(awaitingIncident({ id: 'inc-c', openedAt: 3_000, state: 'closed' })), 'c');
    assert.deepEqual(sortForViews([a, closed, b]).map((x) => x.id), ['inc-b', 'inc-a', 'inc-c']);
    const m = consoleCopilotModel({ connection: { state: 'connected', message: 'Watching' }, incidents: [a, closed, b], holder: 'vigil-0', watch: { state: 'failing', detail: 'HTTP 403' } });
    assert.equal(m.mode, 'in-cluster agent (vigil-0)');
    assert.deepEqual(m.sources, [{ source: 'incidents', state: 'down', message: 'HTTP 403' }]);
    assert.deepEqual(m.incidents.map((x) => x.id), ['inc-b', 'inc-a', 'inc-c']);
  });

  it('notifies a proposal once: not what waited at connect, not the same step again, again for a new step', () => {
    const v = (id: string, stepId: string, state: Incident['state'] = 'awaiting-approval') => {
      const i = awaitingIncident({ id, state });
      const o = asObject(i);
      return incidentResourceView({ ...o, status: { ...o.status, proposedStep: { ...o.status!.proposedStep!, stepId } } }, 'prod-eu');
    };
    assert.deepEqual(newlyAwaiting(undefined, [v('inc-a', 's1')]), [], 'the first list');
    assert.deepEqual(newlyAwaiting([v('inc-a', 's1')], [v('inc-a', 's1'), v('inc-b', 's1')]).map((i) => i.id), ['inc-b']);
    assert.deepEqual(newlyAwaiting([v('inc-a', 's1')], [v('inc-a', 's2')]).map((i) => `${i.id}/${i.proposal?.stepId}`), ['inc-a/s2']);
    assert.deepEqual(newlyAwaiting([], [v('inc-a', 's1', 'acting')]), [], 'not waiting');
  });
});
