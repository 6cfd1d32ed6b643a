import assert from 'node:assert/strict';
import { applyLabel } from '../../../src/core/learn/feedback';
import type { ThresholdChange } from '../../../src/core/learn/thresholdTuning';
import { applyHumanDecision, DECISION_LEDGER_STATE, DecisionLedger, parseHumanDecision, type DecisionTarget, type IncidentDecisions } from '../../../src/core/loop/humanDecisions';
import { VirtualClock } from '../../../src/core/loop/virtualClock';
import type { HumanDecision } from '../../../src/core/model/decision';
import type { GateDecision } from '../../../src/core/model/gate';
import type { HumanLabel, Incident } from '../../../src/core/model/incident';
import { MemoryStore } from '../../fakes/memoryStore';

const T0 = Date.UTC(2026, 10, 23, 12);
const target = { kind: 'service' as const, namespace: 'shop', name: 'checkout' };

function incident(id: string, over: Partial<Incident> = {}): Incident {
  return {
    id,
    target,
    openedAt: T0,
    updatedAt: T0,
    state: 'awaiting-approval',
    stepIndex: 0,
    playbook: 'bad-release',
    timeline: [{ t: T0, kind: 'proposed', stepId: 'roll-back', action: { kind: 'rollback', namespace: 'shop', deployment: 'checkout', toRevision: 4 }, gates: { allowed: false, needsApproval: true, results: [] } as unknown as GateDecision }],
    recording: { frames: [], facts: [], logs: [] },
    ...over,
  };
}

/** The incident side as a list of calls, so a test can count what was applied. */
class FakeIncidents implements IncidentDecisions {
  readonly calls: string[] = [];
  constructor(readonly incidents: Map<string, Incident>) {}
  get(id: string) {
    return this.incidents.get(id);
  }
  async approve(id: string, by: string, stepId?: string) {
    this.calls.push(`approve ${id} ${by} ${stepId ?? ''}`);
    return this.set({ ...this.incidents.get(id)!, state: 'acting' });
  }
  async reject(id: string, by: string) {
    this.calls.push(`reject ${id} ${by}`);
    return this.set({ ...this.incidents.get(id)!, state: 'closed', outcome: { kind: 'rejected', t: T0 } });
  }
  async snooze(id: string, by: string, ms: number) {
    this.calls.push(`snooze ${id} ${by} ${ms}`);
    return this.incidents.get(id)!;
  }
  async label(id: string, label: HumanLabel, by: string, note?: string) {
    this.calls.push(`label ${id} ${label}`);
    return this.set(applyLabel(this.incidents.get(id)!, label, by, T0, note));
  }
  private set(i: Incident): Incident {
    this.incidents.set(i.id, i);
    return i;
  }
}

function rig() {
  const clock = new VirtualClock(T0);
  const store = new MemoryStore();
  const incidents = new FakeIncidents(new Map([['inc-1', incident('inc-1')], ['inc-2', incident('inc-2', { state: 'recovered', outcome: { kind: 'recovered', t: T0 + 60_000 } })]]));
  const thresholdCalls: string[] = [];
  const change = (id: string, status: ThresholdChange['status']) => ({ id, status, target: 'service:shop/cart', detector: 'rule:HighErrorRatio', from: 0.05, to: 0.08, defaultValue: 0.05, t: T0, incidents: [], reason: 'x' }) as unknown as ThresholdChange;
  const thresholds = {
    accept: async (id: string, by: string) => {
      thresholdCalls.push(`accept ${id} ${by}`);
      if (id !== 'thr-1') throw new Error(`no threshold change "${id}"`);
      return change(id, 'applied');
    },
    reject: async (id: string) => change(id, 'rejected'),
    revert: async (id: string) => change(id, 'reverted'),
  };
  const t: DecisionTarget = { incidents, thresholds, store, clock, ledger: new DecisionLedger(store) };
  return { t, store, clock, incidents, thresholdCalls };
}

const base = { by: 'user:alice (cli)', t: T0 };

describe('human decisions', () => {
  it('a decision id replayed answers with its first verdict and applies nothing again', async () => {
    const { t, store, incidents } = rig();
    const d: HumanDecision = { ...base, id: 'd-1', kind: 'approve', incidentId: 'inc-1', stepId: 'roll-back' };
    const first = await applyHumanDecision(t, d);
    assert.deepEqual(first, { id: 'd-1', applied: true, message: 'approved step "roll-back" (rollout undo deployment shop/checkout --to-revision=4) of inc-1; the agent runs it now and verifies it' });
    const again = await applyHumanDecision(t, d);
    assert.deepEqual(again, first);
    assert.deepEqual(incidents.calls, ['approve inc-1 user:alice (cli) roll-back']);
    const audit = store.audit.filter((e) => e.kind === 'decision');
    assert.equal(audit.length, 1, 'one audit entry per decision, not per delivery');
    assert.equal(audit[0].actor, 'user:alice (cli)');
    assert.match(audit[0].summary, /^approve inc-1 \(step roll-back\): applied — approved step "roll-back"/);
    assert.deepEqual((audit[0].detail as { decision: HumanDecision }).decision, d);
  });

  it('the same id sent twice at once is applied once; both get the one verdict', async () => {
    const { t, incidents } = rig();
    const d: HumanDecision = { ...base, id: 'd-2', kind: 'label', incidentId: 'inc-2', label: 'real' };
    const [a, b] = await Promise.all([applyHumanDecision(t, d), applyHumanDecision(t, d)]);
    assert.deepEqual(a, b);
    assert.equal(a.applied, true);
    assert.deepEqual(incidents.calls, ['label inc-2 real']);
  });

  it('a refusal says why and is the answer to a retry too, even once the refusal no longer holds', async () => {
    const { t, incidents } = rig();
    const d: HumanDecision = { ...base, id: 'd-3', kind: 'approve', incidentId: 'inc-2' };
    const first = await applyHumanDecision(t, d);
    assert.deepEqual(first, { id: 'd-3', applied: false, message: 'incident inc-2 was recovered at 2026-11-23T12:01:00.000Z, nothing to approve' });
    incidents.incidents.set('inc-2', incident('inc-2'));
    assert.deepEqual(await applyHumanDecision(t, d), first);
    assert.deepEqual(incidents.calls, []);
    assert.match((await applyHumanDecision(t, { ...base, id: 'd-4', kind: 'reject', incidentId: 'inc-9' })).message, /^no incident "inc-9"/);
    incidents.incidents.set('inc-3', incident('inc-3', { state: 'closed', outcome: { kind: 'resolved-without-action', t: T0 + 120_000 } }));
    assert.deepEqual(await applyHumanDecision(t, { ...base, id: 'd-4b', kind: 'approve', incidentId: 'inc-3' }), { id: 'd-4b', applied: false, message: 'incident inc-3 resolved at 2026-11-23T12:02:00.000Z without action (its symptoms went back in band); nothing to approve' });
    assert.match((await applyHumanDecision(t, { ...base, id: 'd-5', kind: 'threshold', changeId: 'thr-9', action: 'accept' })).message, /^no threshold change "thr-9"/);
  });

  it('labels, snoozes and threshold decisions reach their owner once, with who decided', async () => {
    const { t, incidents, thresholdCalls } = rig();
    const label = await applyHumanDecision(t, { ...base, id: 'd-6', kind: 'label', incidentId: 'inc-2', label: 'false-alarm', note: 'batch job' });
    assert.equal(label.message, 'labelled inc-2 as false-alarm; threshold tuning and remediation ranking learn from it');
    const relabel = await applyHumanDecision(t, { ...base, id: 'd-7', kind: 'label', incidentId: 'inc-2', label: 'real' });
    assert.match(relabel.message, /as real \(was false-alarm\)/);
    const snooze = await applyHumanDecision(t, { ...base, id: 'd-8', kind: 'snooze', incidentId: 'inc-1', minutes: 30 });
    assert.equal(snooze.message, 'snoozed inc-1 for 30 min: step "roll-back" (rollout undo deployment shop/checkout --to-revision=4) is proposed again at 2026-11-23T12:30:00.000Z');
    const accept = await applyHumanDecision(t, { ...base, id: 'd-9', kind: 'threshold', changeId: 'thr-1', action: 'accept' });
    assert.equal(accept.applied, true, accept.message);
    assert.match(accept.message, /^thr-1 applied: rule:HighErrorRatio on service:shop\/cart 0.05 → 0.08/);
    assert.deepEqual(incidents.calls, ['label inc-2 false-alarm', 'label inc-2 real', 'snooze inc-1 user:alice (cli) 1800000']);
    assert.deepEqual(thresholdCalls, ['accept thr-1 user:alice (cli)']);
  });

  it('the ledger is persisted (a restarted agent still knows the id), bounded, and a decision cut off mid-way is never re-applied', async () => {
    const { t, store, incidents } = rig();
    const d: HumanDecision = { ...base, id: 'd-10', kind: 'label', incidentId: 'inc-2', label: 'real' };
    const first = await applyHumanDecision(t, d);
    const restarted: DecisionTarget = { ...t, ledger: new DecisionLedger(store) };
    assert.deepEqual(await applyHumanDecision(restarted, d), first);
    assert.equal(incidents.calls.length, 1);

    // an id written as started, with no verdict: the applier stopped while applying it
    await store.writeState(DECISION_LEDGER_STATE, { entries: [{ id: 'd-11', t: T0 }] });
    const cut = await applyHumanDecision({ ...t, ledger: new DecisionLedger(store) }, { ...d, id: 'd-11' });
    assert.equal(cut.applied, false);
    assert.match(cut.message, /was being applied when its applier stopped/);
    assert.equal(incidents.calls.length, 1);

    const small: DecisionTarget = { ...t, ledger: new DecisionLedger(store, 3) };
    for (let k = 0; k < 5; k++) await applyHumanDecision(small, { ...d, id: `b-${k}` });
    const saved = (await store.readState<{ entries: Array<{ id: string }> }>(DECISION_LEDGER_STATE))!;
    assert.deepEqual(saved.entries.map((e) => e.id), ['b-2', 'b-3', 'b-4']);
  });

  it('parseHumanDecision names the bad field', () => {
    assert.throws(() => parseHumanDecision('approve'), /must be a JSON object/);
    assert.throws(() => parseHumanDecision({ ...base, id: 'x', kind: 'delete', incidentId: 'i' }), /"kind" must be one of approve, reject, snooze, label, threshold, got "delete"/);
    assert.throws(() => parseHumanDecision({ ...base, kind: 'approve', incidentId: 'i' }), /"id" must be a non-empty string, got undefined/);
    assert.throws(() => parseHumanDecision({ ...base, id: 'x', kind: 'snooze', incidentId: 'i', minutes: 0 }), /"minutes" must be a whole number from 1 to 1440, got 0/);
    assert.throws(() => parseHumanDecision({ ...base, id: 'x', kind: 'label', incidentId: 'i', label: 'meh' }), /"label" must be one of false-alarm, real, right-diagnosis-wrong-fix/);
    assert.throws(() => parseHumanDecision({ ...base, id: 'x', kind: 'threshold', changeId: 'thr-1', action: 'apply' }), /"action" must be one of accept, reject, revert/);
    const ok = { ...base, id: 'x', kind: 'reject', incidentId: 'inc-1', note: 'known job' };
    assert.deepEqual(parseHumanDecision(ok), ok);
  });
});
