import assert from 'node:assert/strict';
import { Correlator } from '../../../src/core/diagnose/correlation';
import type { CorrelationUpdate } from '../../../src/core/diagnose/incidentGrouping';
import { targetKey } from '../../../src/core/model/target';
import { STEP, Scenario, T, finalIncidents, healthy, podsOf, pod, ramp, shopInventory, svc } from '../../fixtures/correlation/scenario';

/**
 * What a fixed incident leaves behind: the callee's crash loop is healed at FIX, but its own and its callers'
 * 5xx stay in their 30 s rate windows and fade. That is not a new problem; a release of a caller after it is.
 */
const FIX = T + 60_000;
const WINDOW = 30_000;
const checkout = svc('shop', 'checkout');
const frontend = svc('shop', 'frontend');

/** Error ratio of a rate window: `bad` while the fault is on, fading linearly over one window after `fixedAt`. */
function fading(t: number, bad: number, fixedAt: number): number {
  if (t < T) return 0.004;
  if (t <= fixedAt) return 0.004 + (bad - 0.004) * ramp(t, T, 10_000);
  return 0.004 + (bad - 0.004) * Math.max(0, 1 - (t - fixedAt) / WINDOW);
}

/** Container restarts counted over the rate window: climbing while the pods crash, fading for a window after the fix. */
function restartsInWindow(t: number): number {
  if (t < T + 10_000) return 0;
  if (t <= FIX) return Math.min(6, (t - T) / 10_000);
  return 6 * Math.max(0, 1 - (t - FIX) / WINDOW);
}

/** The crash loop up to the fix; returns the updates and the correlator, mid-stream. */
function crashLoopUntilFix(): { c: Correlator; updates: CorrelationUpdate[] } {
  const inv = shopInventory();
  const s = new Scenario();
  s.inventory = inv;
  s.series(checkout, T - 5 * 60_000, FIX, (t) => ({ ...healthy(), error_ratio: fading(t, 0.5, FIX), restarts: restartsInWindow(t), available_replicas: t < T + 10_000 ? 3 : 1 }));
  s.series(frontend, T - 5 * 60_000, FIX, (t) => ({ ...healthy(), error_ratio: fading(t, 0.3, FIX) }));
  const pods = podsOf(inv, 'checkout');
  for (const [i, dt] of [10_000, 25_000, 40_000].entries()) s.fact('pod-restarted', pod('shop', pods[i % 3]), T + dt, 'Container checkout restarted (exit code 1)', { attributes: { reason: 'Error', exitCode: 1 } });
  s.fact('crash-backoff', pod('shop', pods[0]), T + 30_000, 'checkout is in CrashLoopBackOff', { reason: 'CrashLoopBackOff' });
  const c = new Correlator();
  return { c, updates: s.run(c) };
}

/** After the fix: the windows fade; `release` (if given) rolls out a bad frontend at that time. */
function afterFix(c: Correlator, until: number, release?: number): CorrelationUpdate[] {
  const s = new Scenario();
  s.series(checkout, FIX + STEP, until, (t) => ({ ...healthy(), error_ratio: fading(t, 0.5, FIX), restarts: restartsInWindow(t) }));
  s.series(frontend, FIX + STEP, until, (t) => ({ ...healthy(), error_ratio: Math.max(fading(t, 0.3, FIX), release !== undefined && t > release ? 0.004 + 0.4 * ramp(t, release, 10_000) : 0) }));
  if (release !== undefined) s.fact('revision-changed', frontend, release, 'deployment shop/frontend revision 4 → 5', { attributes: { revision: 5, previousRevision: 4, image: 'shop/frontend:1.5.0' } });
  return s.run(c);
}

describe('Correlator: what a resolved incident leaves behind', () => {
  it('the crash loop opens one incident that its caller joins', () => {
    const { updates } = crashLoopUntilFix();
    const open = finalIncidents(updates);
    assert.equal(open.length, 1, open.map((u) => `${u.diagnosis.kind} ${targetKey(u.target)}`).join('; '));
    assert.equal(open[0].diagnosis.kind, 'crash-loop');
    assert.deepEqual(open[0].members.map(targetKey).sort(), [targetKey(checkout), targetKey(frontend)]);
  });

  it('resolved: the fading 5xx and restart counts of the service and its caller open nothing', () => {
    const { c, updates } = crashLoopUntilFix();
    assert.equal((c.closeIncident as (k: string, r?: boolean) => boolean)(finalIncidents(updates)[0].incidentKey, true), true);
    const after = afterFix(c, FIX + 4 * 60_000);
    assert.deepEqual(
      after.map((u) => `${u.diagnosis.kind} on ${targetKey(u.target)}: ${u.diagnosis.summary}`),
      [],
      'trailing symptoms of a fixed problem are not a new incident',
    );
  });

  it('resolved: a rate window that climbs while the last interval is clean opens nothing, even as the requests drift up', () => {
    // bench:heal's rolled-back release (frontend): 5 s after the verdict the windowed 5xx rose 6.9 % → 10.5 % as the old
    // pods' request series left the window before their errors did, its last interval 0 %; that began an episode, and
    // 145 s later the day's climb of requests (25 → 51 req/s, no step) opened "traffic surge" on it: a relapse
    const { c, updates } = crashLoopUntilFix();
    c.closeIncident(finalIncidents(updates)[0].incidentKey, true);
    const windowed = (t: number) => (t <= FIX + 5_000 ? 0.069 : t <= FIX + 15_000 ? 0.105 : 0.004);
    const requests = (t: number) => 80 * (1 + Math.max(0, t - FIX - 20_000) / 150_000);
    const s = new Scenario();
    s.series(checkout, FIX + STEP, FIX + 3 * 60_000, (t) => ({ ...healthy(), error_ratio: fading(t, 0.5, FIX), restarts: restartsInWindow(t) }));
    s.series(frontend, FIX + STEP, FIX + 3 * 60_000, (t) => ({ ...healthy(), error_ratio: windowed(t), request_rate: requests(t) }), true, (t) => ({ error_ratio: 0, request_rate: requests(t) * 1.02 }));
    const after = s.run(c);
    assert.ok(requests(FIX + 3 * 60_000) / 80 >= 2, 'the requests doubled over the run');
    assert.deepEqual(after.map((u) => `${u.diagnosis.kind} on ${targetKey(u.target)}: ${u.diagnosis.summary}`), []);
  });

  it('resolved: the same climb of the window with the last interval failing too is a new problem at once', () => {
    const { c, updates } = crashLoopUntilFix();
    c.closeIncident(finalIncidents(updates)[0].incidentKey, true);
    const windowed = (t: number) => (t <= FIX + 5_000 ? 0.069 : 0.105 + 0.002 * ((t - FIX) / 1000));
    const s = new Scenario();
    s.series(frontend, FIX + STEP, FIX + 60_000, (t) => ({ ...healthy(), error_ratio: windowed(t) }), true, (t) => ({ error_ratio: t <= FIX + 5_000 ? 0 : 0.2 }));
    const after = s.run(c);
    const found = after.find((u) => u.isNew && targetKey(u.target) === targetKey(frontend));
    assert.ok(found, 'a new incident on frontend');
    assert.ok(found.diagnosis.t - FIX <= 20_000, `opened ${(found.diagnosis.t - FIX) / 1000} s after the fix`);
  });

  it('not resolved (escalated): the same symptoms go on being judged', () => {
    const { c, updates } = crashLoopUntilFix();
    (c.closeIncident as (k: string, r?: boolean) => boolean)(finalIncidents(updates)[0].incidentKey, false);
    // they fade all the same here, but without the fix to explain them they may open an incident again
    const after = afterFix(c, FIX + 4 * 60_000);
    assert.ok(after.some((u) => u.isNew), 'an escalated problem is not silenced by the correlator (the engine keeps the human from being paged twice)');
  });

  it('a bad release of the caller 10 s after the fix is diagnosed as a bad release, not hidden by the trailing errors', () => {
    const { c, updates } = crashLoopUntilFix();
    (c.closeIncident as (k: string, r?: boolean) => boolean)(finalIncidents(updates)[0].incidentKey, true);
    const after = afterFix(c, FIX + 3 * 60_000, FIX + 10_000);
    const open = finalIncidents(after);
    assert.equal(open.length, 1, open.map((u) => `${u.diagnosis.kind} ${targetKey(u.target)}`).join('; '));
    assert.equal(open[0].diagnosis.kind, 'bad-release');
    assert.deepEqual(open[0].target, frontend);
    assert.match(open[0].diagnosis.summary, /after revision 5/);
    const first = after.find((u) => u.isNew)!;
    assert.ok(first.diagnosis.t - (FIX + 10_000) <= 20_000, `diagnosed ${(first.diagnosis.t - FIX - 10_000) / 1000} s after the release`);
  });

  it("a caller's own bad release that the callee's failure hid: its errors stop fading after the callee's fix, and the release is found", () => {
    // frontend rolled out a bad revision 5 s into checkout's crash loop: 25% 5xx of its own under checkout's 30%
    const release = T + 5_000;
    const own = (t: number) => (t > release ? 0.25 * ramp(t, release, 10_000) : 0);
    const inv = shopInventory();
    const s = new Scenario();
    s.inventory = inv;
    s.series(checkout, T - 5 * 60_000, FIX, (t) => ({ ...healthy(), error_ratio: fading(t, 0.5, FIX), restarts: restartsInWindow(t), available_replicas: t < T + 10_000 ? 3 : 1 }));
    s.series(frontend, T - 5 * 60_000, FIX, (t) => ({ ...healthy(), error_ratio: Math.max(fading(t, 0.3, FIX), own(t)) }));
    s.fact('revision-changed', frontend, release, 'deployment shop/frontend revision 4 → 5', { attributes: { revision: 5, previousRevision: 4, image: 'shop/frontend:1.5.0' } });
    const pods = podsOf(inv, 'checkout');
    for (const [i, dt] of [10_000, 25_000, 40_000].entries()) s.fact('pod-restarted', pod('shop', pods[i % 3]), T + dt, 'Container checkout restarted (exit code 1)', { attributes: { reason: 'Error', exitCode: 1 } });
    s.fact('crash-backoff', pod('shop', pods[0]), T + 30_000, 'checkout is in CrashLoopBackOff', { reason: 'CrashLoopBackOff' });
    const c = new Correlator();
    const during = finalIncidents(s.run(c));
    assert.equal(during.length, 1, during.map((u) => `${u.diagnosis.kind} ${targetKey(u.target)}`).join('; '));
    assert.equal(during[0].diagnosis.kind, 'crash-loop', 'while checkout fails, the release is coincident');
    c.closeIncident(during[0].incidentKey, true);
    const after = new Scenario();
    after.series(checkout, FIX + STEP, FIX + 3 * 60_000, (t) => ({ ...healthy(), error_ratio: fading(t, 0.5, FIX), restarts: restartsInWindow(t) }));
    after.series(frontend, FIX + STEP, FIX + 3 * 60_000, (t) => ({ ...healthy(), error_ratio: Math.max(fading(t, 0.3, FIX), own(t)) }));
    const updates = after.run(c);
    const found = updates.find((u) => u.isNew && targetKey(u.target) === targetKey(frontend));
    assert.ok(found, updates.map((u) => `${u.diagnosis.kind}: ${u.diagnosis.summary}`).join('\n') || 'no update');
    assert.equal(found.diagnosis.kind, 'bad-release', found.diagnosis.summary);
    assert.ok(found.diagnosis.t - FIX <= 90_000, `found ${(found.diagnosis.t - FIX) / 1000} s after the fix`);
  });

  it('a bad release of a service whose unexplained symptoms were handed to a human is still found', () => {
    const { c, updates } = crashLoopUntilFix();
    (c.closeIncident as (k: string, r?: boolean) => boolean)(finalIncidents(updates)[0].incidentKey, false);
    // frontend's errors never fade here (the escalated problem goes on), and a release lands 90 s later
    const s = new Scenario();
    const release = FIX + 90_000;
    s.series(frontend, FIX + STEP, FIX + 4 * 60_000, (t) => ({ ...healthy(), error_ratio: t > release ? 0.3 + 0.3 * ramp(t, release, 10_000) : 0.3 }));
    s.fact('revision-changed', frontend, release, 'deployment shop/frontend revision 4 → 5', { attributes: { revision: 5, previousRevision: 4, image: 'shop/frontend:1.5.0' } });
    const after = s.run(c);
    const last = finalIncidents(after).find((u) => targetKey(u.target) === targetKey(frontend));
    assert.equal(last?.diagnosis.kind, 'bad-release', after.map((u) => `${u.diagnosis.kind}: ${u.diagnosis.summary}`).join('\n'));
  });

  it('a release that changes nothing in symptoms that began well before it is not blamed for them', () => {
    const { c, updates } = crashLoopUntilFix();
    c.closeIncident(finalIncidents(updates)[0].incidentKey, false);
    const s = new Scenario();
    const release = FIX + 90_000;
    s.series(frontend, FIX + STEP, FIX + 4 * 60_000, () => ({ ...healthy(), error_ratio: 0.3 }));
    s.fact('revision-changed', frontend, release, 'deployment shop/frontend revision 4 → 5', { attributes: { revision: 5, previousRevision: 4, image: 'shop/frontend:1.5.0' } });
    const after = s.run(c);
    const kinds = after.filter((u) => targetKey(u.target) === targetKey(frontend)).map((u) => u.diagnosis.kind);
    assert.ok(kinds.length > 0 && !kinds.includes('bad-release'), kinds.join());
  });
});
