/** Incident resources: what status says for an incident, and that only the leader writes, newest version last. */
import assert from 'node:assert/strict';
import { CRD_RECHECK_MS, IncidentPublisher } from '../../../src/core/loop/incidentPublisher';
import type { Incident, TimelineEntry } from '../../../src/core/model/incident';
import { IncidentResourcesAbsentError, incidentResource, type IncidentResource } from '../../../src/core/model/incidentResource';
import type { LeaseState, LoggerPort } from '../../../src/core/ports';

const T0 = Date.UTC(2026, 11, 6, 12, 0, 0);
const target = { kind: 'service', namespace: 'shop', name: 'checkout' } as const;
const action = { kind: 'rollback', namespace: 'shop', deployment: 'checkout' } as const;
const diagnosis = {
  kind: 'bad-release', target, confidence: 0.874, t: T0, summary: 'revision 4 of shop/checkout raised errors',
  evidence: [
    { kind: 'anomaly', anomaly: { target, t: T0, detector: 'rule', score: 1, isAnomaly: true, severity: 'critical', contributions: [], reason: 'error_ratio 0.31 > 0.05 for 1m' } },
    { kind: 'fact', fact: { kind: 'rollout', t: T0 - 60_000, target, message: 'deployment shop/checkout rolled out revision 4 (image shop/checkout:1.4)' } },
  ],
};
const proposed: TimelineEntry = {
  t: T0 + 1000, kind: 'proposed', stepId: 'inc-1:0', action,
  gates: { allowed: false, needsApproval: true, results: [{ gate: 'automation-mode', allowed: false, reason: 'suggest mode: a human approves' }, { gate: 'blast-radius', allowed: true, reason: '1 of 12 workloads' }] },
  dryRun: { action, dryRun: true, changed: true, summary: 'would roll back shop/checkout from revision 4 to 3', diff: [{ path: 'spec.template.spec.containers[0].image', before: 'shop/checkout:1.4', after: 'shop/checkout:1.3' }, { path: 'metadata.annotations', before: undefined, after: { a: 1 } }] },
} as TimelineEntry;

function incident(state: Incident['state'], timeline: TimelineEntry[] = [proposed], extra: Partial<Incident> = {}): Incident {
  return { id: 'INC-1_ab', target, openedAt: T0, updatedAt: T0 + 2000, state, diagnosis, stepIndex: 0, timeline, recording: { frames: [], facts: [], logs: [] }, ...extra } as unknown as Incident;
}

const quiet: LoggerPort = { log: () => undefined, child: () => quiet };

describe('Incident resources', () => {
  it('status carries diagnosis, evidence, the proposed step with its dry-run diff, gates, verification and outcome', () => {
    const r = incidentResource(incident('awaiting-approval'), 'vigil');
    assert.equal(r.name, 'inc-1-ab');
    assert.equal(r.namespace, 'shop');
    assert.deepEqual(r.spec, { incidentId: 'INC-1_ab', target: 'service/checkout' });
    assert.equal(r.status.state, 'awaiting-approval');
    assert.equal(r.status.openedAt, '2026-12-06T12:00:00.000Z');
    assert.deepEqual(r.status.diagnosis, { kind: 'bad-release', confidence: '87%', summary: 'revision 4 of shop/checkout raised errors' });
    assert.deepEqual(r.status.evidence, ['error_ratio 0.31 > 0.05 for 1m', 'deployment shop/checkout rolled out revision 4 (image shop/checkout:1.4)']);
    assert.equal(r.status.proposedStep?.stepId, 'inc-1:0');
    assert.match(r.status.proposedStep?.action ?? '', /checkout/);
    assert.equal(r.status.proposedStep?.dryRun, 'would roll back shop/checkout from revision 4 to 3');
    assert.deepEqual(r.status.proposedStep?.diff, [{ path: 'spec.template.spec.containers[0].image', before: 'shop/checkout:1.4', after: 'shop/checkout:1.3' }, { path: 'metadata.annotations', before: undefined, after: '{"a":1}' }]);
    assert.deepEqual(r.status.gates?.map((g) => `${g.gate}:${g.allowed}`), ['automation-mode:false', 'blast-radius:true']);
    assert.equal(r.status.verification, undefined);

    const done = incidentResource(incident('recovered', [proposed, { t: T0 + 90_000, kind: 'verified', stepId: 'inc-1:0', verdict: { status: 'recovered', t: T0 + 90_000, checks: [], summary: 'error ratio back under 0.05' } }], { outcome: { kind: 'recovered', t: T0 + 90_000 } }), 'vigil');
    assert.deepEqual(done.status.verification, { stepId: 'inc-1:0', status: 'recovered', summary: 'error ratio back under 0.05' });
    assert.deepEqual(done.status.outcome, { kind: 'recovered', at: '2026-12-06T12:01:30.000Z' });
    assert.equal(incidentResource({ ...incident('diagnosed'), target: { kind: 'node', name: 'node-3' } }, 'vigil').namespace, 'vigil', "a node's incident lives in the agent's namespace");
  });

  it('only the leader writes; a burst of changes ends with the newest status; a new leader publishes what it knows', async () => {
    const writes: IncidentResource[] = [];
    let release: (() => void) | undefined;
    const port = { write: (r: IncidentResource) => { writes.push(r); return new Promise<void>((resolve) => { release = resolve; }); } };
    let lease: LeaseState = { holder: 'other', held: false };
    const p = new IncidentPublisher(port, () => lease, 'vigil', quiet, { now: () => T0 });
    p.publish(incident('diagnosed'));
    await new Promise((r) => setImmediate(r));
    assert.equal(writes.length, 0, 'a standby writes nothing');

    lease = { holder: 'me', held: true };
    p.checkLeadership(() => [incident('awaiting-approval')]);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(writes.map((w) => w.status.state), ['awaiting-approval'], 'taking the Lease publishes the known incidents');
    p.publish(incident('acting'));
    p.publish(incident('verifying'));
    p.publish(incident('recovered'));
    release!();
    await new Promise((r) => setImmediate(r));
    release!();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(writes.map((w) => w.status.state), ['awaiting-approval', 'recovered'], 'one write in flight, then only the newest');
    p.dispose();
  });

  it('without the CRD: found once, one warning naming the fix, no request until the re-check 5 min later, then the newest of each incident is written', async () => {
    let crd = false;
    let now = T0;
    const requests: string[] = [];
    const port = {
      async write(r: IncidentResource) {
        requests.push(`${r.name}:${r.status.state}`);
        if (!crd) throw new IncidentResourcesAbsentError(`POST /apis/vigil.dev/v1alpha1/namespaces/${r.namespace}/incidents: 404`);
      },
    };
    const lines: string[] = [];
    const logger: LoggerPort = { log: (level, m) => void lines.push(`${level} ${m}`), child: () => logger };
    const lease: LeaseState = { holder: 'me', held: true };
    const p = new IncidentPublisher(port, () => lease, 'vigil', logger, { now: () => now });
    const tick = () => new Promise((r) => setImmediate(r));
    const other = (state: Incident['state']) => ({ ...incident(state), id: 'INC-2' });

    p.publish(incident('diagnosed'));
    await tick();
    assert.deepEqual(requests, ['inc-1-ab:diagnosed'], 'the first write finds the CRD absent');
    for (const state of ['awaiting-approval', 'acting', 'verifying'] as const) {
      now += 15_000;
      p.publish(incident(state));
      p.publish(other(state));
      p.checkLeadership(() => []);
      await tick();
    }
    assert.equal(requests.length, 1, 'no request at all while the CRD is known absent');
    assert.equal(lines.length, 1, 'one warning');
    assert.match(lines[0], /^warn no Incident resources on this cluster .*kubectl apply -f deploy\/helm\/vigil\/crds\/incidents\.vigil\.dev\.yaml.*checks again every 5 min/);

    // the re-check: one write, still absent, no second warning
    now = T0 + CRD_RECHECK_MS;
    p.checkLeadership(() => []);
    await tick();
    assert.equal(requests.length, 2, 'one write checks again');
    assert.equal(lines.length, 1);
    p.checkLeadership(() => []);
    await tick();
    assert.equal(requests.length, 2, 'and then quiet for another 5 min');

    // the CRD is installed; the next re-check finds it and writes the newest version of each incident
    crd = true;
    now += CRD_RECHECK_MS;
    p.checkLeadership(() => []);
    for (let n = 0; n < 5; n++) await tick();
    assert.deepEqual(requests.slice(2).sort(), ['inc-1-ab:verifying', 'inc-2:verifying']);
    assert.match(lines[1], /^info Incident resources \(incidents\.vigil\.dev\) found: publishing 1 waiting incident/);
    p.dispose();
  });
});
