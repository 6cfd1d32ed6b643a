import assert from 'node:assert/strict';
import { BUILTIN_PLAYBOOKS_SOURCE, BUILTIN_PLAYBOOKS_YAML } from '../../../src/core/decide/builtinPlaybooks';
import { parsePlaybooks } from '../../../src/core/decide/playbookLoader';
import { attemptsOf, rankPlaybook, stepRanker } from '../../../src/core/learn/remediationRanking';
import type { ActionSpec } from '../../../src/core/model/action';
import type { Incident, TimelineEntry } from '../../../src/core/model/incident';
import type { Playbook } from '../../../src/core/model/playbook';

/** A three-step playbook to rank (the built-in crash-loop's two steps and a roll-back, as a user might write it). */
const builtinCrashLoop = parsePlaybooks(BUILTIN_PLAYBOOKS_YAML, BUILTIN_PLAYBOOKS_SOURCE).playbooks.find((p) => p.name === 'crash-loop')!;
const builtinRollBack = parsePlaybooks(BUILTIN_PLAYBOOKS_YAML, BUILTIN_PLAYBOOKS_SOURCE).playbooks.find((p) => p.name === 'bad-release')!.steps[0];
const crashLoop: Playbook = { ...builtinCrashLoop, steps: [...builtinCrashLoop.steps.map((s) => ({ ...s, onFailure: 'next' as const })), { ...builtinRollBack, onFailure: 'escalate' as const }] };
const T0 = Date.UTC(2026, 10, 23, 12);
const cart = { kind: 'service' as const, namespace: 'shop', name: 'cart' };

/** An incident that tried the given steps in order; each recovers or not after `ms`. */
function incident(id: string, tries: Array<{ step: string; ok: boolean; ms: number }>, target = cart, playbook = 'crash-loop'): Incident {
  let t = T0 + Number(id.replace(/\D/g, '') || 0) * 3_600_000;
  const openedAt = t;
  const timeline: TimelineEntry[] = [];
  const action: ActionSpec = { kind: 'delete-pod', namespace: 'shop', pod: 'x' };
  for (const s of tries) {
    t += 1000;
    timeline.push({ t, kind: 'acted', stepId: s.step, result: { action, dryRun: false, changed: true, summary: s.step } });
    t += s.ms;
    timeline.push({ t, kind: 'verified', stepId: s.step, verdict: { status: s.ok ? 'recovered' : 'not-recovered', t, checks: [], summary: '' } });
  }
  const last = tries.at(-1)!;
  return {
    id,
    target,
    openedAt,
    updatedAt: t,
    state: last.ok ? 'recovered' : 'escalated',
    diagnosis: { kind: 'crash-loop', target, confidence: 0.9, t: openedAt, summary: '', evidence: [] },
    playbook,
    stepIndex: 0,
    timeline,
    recording: { frames: [], facts: [], logs: [] },
    outcome: last.ok ? { kind: 'recovered', t, recoveredBy: last.step } : { kind: 'escalated', t },
  };
}

describe('remediation ranking', () => {
  it('reads tries from the timeline: acted → verified, with the time to recover', () => {
    const i = incident('i1', [{ step: 'delete-crashing-pod', ok: false, ms: 45_000 }, { step: 'rollout-restart', ok: true, ms: 30_000 }]);
    assert.deepEqual(attemptsOf(i), [{ stepId: 'delete-crashing-pod', ok: false }, { stepId: 'rollout-restart', ok: true, recoverMs: 30_000 }]);
  });

  it('no history: the author’s order stands', () => {
    const r = rankPlaybook(crashLoop, [], { diagnosis: 'crash-loop', target: 'service:shop/cart' });
    assert.equal(r.changed, false);
    assert.equal(r.playbook, crashLoop);
    assert.deepEqual(r.explanations, []);
  });

  it('a step that keeps failing is disabled, said with its numbers, and the working step goes first', () => {
    const history = [1, 2, 3].map((k) => incident(`i${k}`, [{ step: 'delete-crashing-pod', ok: false, ms: 45_000 }, { step: 'rollout-restart', ok: true, ms: 20_000 }]));
    const r = rankPlaybook(crashLoop, history, { diagnosis: 'crash-loop', target: 'service:shop/cart' });
    assert.deepEqual(r.playbook.steps.map((s) => s.id), ['rollout-restart', 'roll-back']);
    assert.ok(r.explanations.some((e) => e === 'step "delete-crashing-pod" disabled: it recovered 0 of 3 tries for crash-loop on service:shop/cart'), r.explanations.join('\n'));
    assert.equal(r.explanations.length, 1, 'dropping a step moves nothing else: no other explanation');
    const rec = r.records.find((x) => x.stepId === 'delete-crashing-pod')!;
    assert.equal(rec.disabled, true);
    assert.equal(rec.tries, 3);
  });

  it('two failures are not enough to disable, but they already move the step below untried ones', () => {
    const history = [1, 2].map((k) => incident(`i${k}`, [{ step: 'delete-crashing-pod', ok: false, ms: 45_000 }, { step: 'rollout-restart', ok: true, ms: 20_000 }]));
    const r = rankPlaybook(crashLoop, history, { diagnosis: 'crash-loop', target: 'service:shop/cart' });
    // 0/2 (smoothed 0.25) ranks below an untried step (0.5), which ranks below 2/2 (0.75)
    assert.deepEqual(r.playbook.steps.map((s) => s.id), ['rollout-restart', 'roll-back', 'delete-crashing-pod']);
    assert.equal(r.records.find((x) => x.stepId === 'delete-crashing-pod')?.disabled, false);
    assert.deepEqual(r.explanations, [
      'step "rollout-restart" moved to position 1, ahead of "delete-crashing-pod" (0/2 recovered): 2/2 recovered, 20 s to recover',
      'step "roll-back" moved to position 2, ahead of "delete-crashing-pod" (0/2 recovered): no history',
    ]);
  });

  it('equal success: the faster step first; equal speed too: the less risky step first', () => {
    const pb: Playbook = { name: 'pb', trigger: { diagnosis: 'crash-loop' }, steps: [crashLoop.steps[2], crashLoop.steps[1]] };
    const even = [1, 2].map((k) => incident(`i${k}`, [{ step: 'roll-back', ok: true, ms: 30_000 }], cart, 'pb')).concat([3, 4].map((k) => incident(`i${k}`, [{ step: 'rollout-restart', ok: true, ms: 31_000 }], cart, 'pb')));
    const r = rankPlaybook(pb, even, { diagnosis: 'crash-loop', target: 'service:shop/cart' });
    assert.deepEqual(r.playbook.steps.map((s) => s.id), ['rollout-restart', 'roll-back'], 'same rate and time: low-risk restart before medium-risk rollback');
    const faster = [1, 2].map((k) => incident(`i${k}`, [{ step: 'roll-back', ok: true, ms: 10_000 }], cart, 'pb')).concat([3, 4].map((k) => incident(`i${k}`, [{ step: 'rollout-restart', ok: true, ms: 60_000 }], cart, 'pb')));
    assert.deepEqual(rankPlaybook(pb, faster, { diagnosis: 'crash-loop', target: 'service:shop/cart' }).playbook.steps.map((s) => s.id), ['roll-back', 'rollout-restart']);
  });

  it('per service: another service’s failures count only while this one has no record of its own', () => {
    const other = { kind: 'service' as const, namespace: 'shop', name: 'checkout' };
    const history = [1, 2, 3].map((k) => incident(`i${k}`, [{ step: 'delete-crashing-pod', ok: false, ms: 45_000 }, { step: 'rollout-restart', ok: true, ms: 20_000 }], other));
    const fresh = rankPlaybook(crashLoop, history, { diagnosis: 'crash-loop', target: 'service:shop/cart' });
    assert.equal(fresh.playbook.steps[0].id, 'rollout-restart');
    assert.match(fresh.explanations.join('\n'), /across services/);
    const own = history.concat([4, 5].map((k) => incident(`i${k}`, [{ step: 'delete-crashing-pod', ok: true, ms: 15_000 }])));
    const mine = rankPlaybook(crashLoop, own, { diagnosis: 'crash-loop', target: 'service:shop/cart' });
    assert.equal(mine.playbook.steps[0].id, 'delete-crashing-pod', 'cart’s own record: deleting the pod works there');
  });

  it('every step failing: nothing is dropped (the playbook still ends in an escalation), and it says so', () => {
    const history = [1, 2, 3].map((k) => incident(`i${k}`, crashLoop.steps.map((s) => ({ step: s.id, ok: false, ms: 30_000 }))));
    const r = rankPlaybook(crashLoop, history, { diagnosis: 'crash-loop', target: 'service:shop/cart' });
    assert.equal(r.playbook.steps.length, 3);
    assert.match(r.explanations.join('\n'), /every step keeps failing/);
  });

  it('the engine hook leaves out the incident being ranked', () => {
    const history = [1, 2, 3].map((k) => incident(`i${k}`, [{ step: 'delete-crashing-pod', ok: false, ms: 45_000 }, { step: 'rollout-restart', ok: true, ms: 20_000 }]));
    const rank = stepRanker(() => history);
    assert.equal(rank(crashLoop, history[0]).steps[0].id, 'rollout-restart', 'two other incidents already move it');
    assert.equal(rank(crashLoop, { ...history[0], diagnosis: undefined }), crashLoop);
  });
});
