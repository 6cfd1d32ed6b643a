import assert from 'node:assert/strict';
import { RecoveryWindow } from '../../../src/core/loop/recoveryWindow';
import type { Diagnosis } from '../../../src/core/model/diagnosis';
import type { ClusterFact } from '../../../src/core/model/fact';

/**
 * bench:heal's crash loop, seed 2 (its state directory, times in ms from the recovered verdict): the steps ran on a
 * crash-loop diagnosis; while the rollout restart ran, checkout's windowed request rate read 3.3x and the incident was
 * re-diagnosed a traffic surge, under which name it closed, recovered. 187 s later (after the 3-minute quiet of a
 * cause) a crash-loop diagnosis came back resting only on that crash loop's BackOff and restart facts (16–25 s before
 * the verdict): the bench's relapse. No checkout pod restarted after the fix.
 */
const CHECKOUT = { kind: 'service' as const, namespace: 'shop', name: 'checkout' };
const VERDICT = 1_796_575_513_909;
const fact = (dt: number, kind: ClusterFact['kind'], reason: string): ClusterFact => ({ kind, t: VERDICT + dt, target: CHECKOUT, reason, message: `checkout ${reason}` });
const staleCrashLoop = (t: number): Diagnosis => ({
  kind: 'crash-loop',
  target: CHECKOUT,
  confidence: 0.75,
  t,
  summary: 'shop/checkout pods are crash-looping: 8 restarts in 5 min, BackOff, 3 of 3 replicas available.',
  evidence: [fact(-21_909, 'k8s-event', 'BackOff'), fact(-21_648, 'crash-backoff', 'CrashLoopBackOff'), fact(-25_172, 'pod-restarted', 'Error'), fact(-16_909, 'k8s-event', 'Killing')].map((f) => ({ kind: 'fact' as const, fact: f })),
});
const renamed: Diagnosis = { kind: 'traffic-surge', target: CHECKOUT, confidence: 0.84, t: VERDICT - 13_909, summary: 'shop/checkout requests rose 3.26x above baseline', evidence: [] };

describe('RecoveryWindow after a fix whose incident was renamed', () => {
  it('holds back the cause the steps remedied, not only the name it closed under', () => {
    const w = new RecoveryWindow(30_000);
    w.closed({ target: CHECKOUT, diagnosis: renamed, remedied: 'crash-loop', t: VERDICT, fixed: true });
    assert.equal(w.holdsBack(staleCrashLoop(VERDICT + 60_000), VERDICT + 60_000), 'the same problem was just remedied or handed to a human');
    const at = VERDICT + 187_182;
    assert.equal(w.holdsBack(staleCrashLoop(at), at), 'it rests only on cluster facts from before the last fix');
    // a crash loop with a restart after the fix is a new problem
    const fresh = staleCrashLoop(at);
    const again = { ...fresh, evidence: [...fresh.evidence, { kind: 'fact' as const, fact: fact(180_000, 'pod-restarted', 'Error') }] };
    assert.equal(w.holdsBack(again, at), undefined);
  });

  it('without the remedied cause the stale crash loop opened again (the relapse as recorded)', () => {
    const w = new RecoveryWindow(30_000);
    w.closed({ target: CHECKOUT, diagnosis: renamed, t: VERDICT, fixed: true });
    const at = VERDICT + 187_182;
    assert.equal(w.holdsBack(staleCrashLoop(at), at), undefined);
  });
});
