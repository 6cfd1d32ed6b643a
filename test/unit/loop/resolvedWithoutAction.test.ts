import assert from 'node:assert/strict';
import type { DiagnosisKind } from '../../../src/core/model/diagnosis';
import type { Incident } from '../../../src/core/model/incident';
import type { SettingsPatch } from '../../../src/core/settings';
import { FakeCluster } from '../../fakes/fakeCluster';
import { normalValues } from './loopRig';
import { coreRig } from './coreRig';

const CART = { kind: 'service' as const, namespace: 'shop', name: 'cart' };
const FRAME_MS = 5_000;
/** max(2 rate windows, 60 s) with the default 15 s scrape interval: a 60 s rate window. */
const HOLD_MS = 120_000;

/**
 * The composed core on a virtual clock, fed one frame of shop/cart every 5 s: warmed up on calm traffic, then
 * handed a diagnosis whose symptom is error_ratio. Only what the frames say next differs between the cases.
 */
async function warmedUp(patch: SettingsPatch, cluster?: FakeCluster) {
  const r = await coreRig(patch, { cluster });
  let k = 0;
  const frame = async (over: Record<string, number> = {}) => {
    await r.clock.advance(FRAME_MS);
    r.frame({ target: CART, values: { ...normalValues(k++), ...over } });
    await r.clock.advance(0);
  };
  for (let i = 0; i < 300; i++) await frame();
  const open = async (kind: DiagnosisKind): Promise<Incident> => {
    const i = await r.core.remediator.onDiagnosis({
      incidentKey: 'k',
      diagnosis: {
        kind,
        target: CART,
        confidence: 0.9,
        t: r.clock.now(),
        summary: `${kind} on shop/cart`,
        evidence: [{ kind: 'signal-trend', signal: 'error_ratio', slopePerMinute: 0.05, note: 'errors rising' }],
        details: { previousRevision: 4 },
      },
    });
    assert.ok(i, 'the diagnosis opens an incident');
    await r.core.remediator.idle();
    return i;
  };
  return { ...r, frame, open, incident: (id: string) => r.core.remediator.get(id)! };
}

describe('resolved without action (createHealingCore, virtual clock)', () => {
  it('an incident awaiting approval whose symptoms stay back in band for the hold closes as resolved-without-action; approving it then is refused', async () => {
    const r = await warmedUp({ automation: { mode: 'suggest' } });
    try {
      const opened = await r.open('latency-spike');
      assert.equal(r.incident(opened.id).state, 'awaiting-approval');
      // calm frames; bounded at twice the hold
      let closedAt: number | undefined;
      while (closedAt === undefined && r.clock.now() - opened.openedAt <= 2 * HOLD_MS) {
        await r.frame();
        await r.core.remediator.idle();
        if (r.incident(opened.id).outcome) closedAt = r.clock.now();
      }
      const i = r.incident(opened.id);
      assert.equal(i.outcome?.kind, 'resolved-without-action', `state ${i.state}, outcome ${JSON.stringify(i.outcome)}`);
      assert.equal(i.state, 'closed');
      assert.ok(closedAt! - opened.openedAt >= HOLD_MS, `closed ${(closedAt! - opened.openedAt) / 1000} s after opening, before the hold of ${HOLD_MS / 1000} s`);
      assert.match(i.outcome!.note ?? '', /error_ratio of service:shop\/cart back in band for 1[23]\d s before any step ran/);
      assert.deepEqual(r.cluster.applied, [], 'nothing was written');
      assert.deepEqual((await r.store.readAudit()).map((e) => e.kind), ['resolution']);
      await assert.rejects(r.core.remediator.approve(opened.id, 'user:alice'), /resolved at .* without action .*; nothing to approve/);
      assert.deepEqual(r.cluster.applied, [], 'the refused approval wrote nothing');
    } finally {
      await r.dispose();
    }
  });

  it('an incident on which a step ran is never closed that way, however long its symptoms stay in band', async () => {
    // every step waits for approval; the crash loop's pod delete is approved and forbidden (403); its rollout restart waits
    const cluster = new FakeCluster();
    cluster.failures = [{ status: 403 }];
    const r = await warmedUp({ automation: { mode: 'auto' }, safety: { approvalRequiredForRisk: 'low' } }, cluster);
    try {
      const opened = await r.open('crash-loop');
      await r.core.remediator.approve(opened.id, 'user:alice');
      await r.core.remediator.idle();
      const i0 = r.incident(opened.id);
      assert.equal(i0.state, 'awaiting-approval', JSON.stringify(i0.timeline.map((e) => e.kind)));
      assert.equal(i0.timeline.filter((e) => e.kind === 'action-failed').length, 1, 'a step ran (and failed) before the proposal');
      for (let n = 0; n < (3 * HOLD_MS) / FRAME_MS; n++) await r.frame();
      await r.core.remediator.idle();
      const i = r.incident(opened.id);
      assert.equal(i.state, 'awaiting-approval', `outcome ${JSON.stringify(i.outcome)}`);
      assert.equal(i.outcome, undefined);
      assert.ok(!(await r.store.readAudit()).some((e) => e.kind === 'resolution'));
    } finally {
      await r.dispose();
    }
  });

  it('an incident whose symptoms stay bad stays open', async () => {
    const r = await warmedUp({ automation: { mode: 'suggest' } });
    try {
      const opened = await r.open('latency-spike');
      for (let n = 0; n < (10 * 60_000) / FRAME_MS; n++) await r.frame({ error_ratio: 0.2 });
      await r.core.remediator.idle();
      const i = r.incident(opened.id);
      assert.equal(i.state, 'awaiting-approval', `outcome ${JSON.stringify(i.outcome)}`);
      assert.ok(!(await r.store.readAudit()).some((e) => e.kind === 'resolution'));
      // and once they go back, the hold starts only then
      const back = r.clock.now();
      while (!r.incident(opened.id).outcome && r.clock.now() - back <= 2 * HOLD_MS) await r.frame();
      await r.core.remediator.idle();
      assert.equal(r.incident(opened.id).outcome?.kind, 'resolved-without-action');
      assert.ok(r.incident(opened.id).outcome!.t - back >= HOLD_MS);
    } finally {
      await r.dispose();
    }
  });
});
