import assert from 'node:assert/strict';
import { Correlator } from '../../../src/core/diagnose/correlation';
import type { Remediator } from '../../../src/core/loop/remediator';
import type { Incident } from '../../../src/core/model/incident';
import { SERVICE, loopRig, normalValues } from './loopRig';

/** The loop with an engine that only reports incident changes, and a correlator whose incident 'k' holds the service. */
async function rig() {
  let listener: ((i: Incident) => void) | undefined;
  const remediator = {
    record: () => undefined,
    recordFact: () => undefined,
    onChange: (l: (i: Incident) => void) => ((listener = l), { dispose: () => undefined }),
    actedOn: () => false,
    onDiagnosis: async () => undefined,
  } as unknown as Remediator;
  class OneIncident extends Correlator {
    override incidentMembers(key: string): string[] {
      return key === 'k' ? ['service:shop/cart'] : [];
    }
  }
  const r = loopRig({ remediator, correlator: new OneIncident(), rateWindowMs: 30_000 });
  await r.loop.start();
  let k = 0;
  const normal = () => r.frame(normalValues(k++));
  // p50 ten times its usual level: no rule covers it, only the statistical detectors see it
  const slow = () => r.frame({ ...normalValues(k++), latency_p50: 0.2 });
  for (let i = 0; i < 300; i++) normal();
  const resolve = (t: number) => listener!({ id: 'inc-1', correlationKey: 'k', target: SERVICE, openedAt: t - 60_000, updatedAt: t, state: 'recovered', stepIndex: 0, timeline: [], recording: { frames: [], facts: [], logs: [] }, outcome: { kind: 'recovered', t } });
  return { normal, slow, resolve };
}

describe('healing loop: after a fix, the detectors of its members listen in full again', () => {
  it('a new fault a rate window after the fix is raised by the statistical detectors, not damped as an echo of the last alert', async () => {
    const fixed = await rig();
    const control = await rig();
    for (const x of [fixed, control]) {
      assert.equal(x.slow().isAnomaly, true, 'the first fault is detected');
      for (let i = 0; i < 5; i++) x.normal();
    }
    const { t } = fixed.normal();
    fixed.resolve(t);
    control.normal();
    for (let i = 0; i < 7; i++) {
      fixed.normal();
      control.normal();
    }
    const again = fixed.slow();
    assert.equal(again.isAnomaly, true, `35 s after the fix (a 30 s rate window): ${again.reason} (score ${again.score.toFixed(2)})`);
    const damped = control.slow();
    assert.equal(damped.isAnomaly, false, `without a fix the detector is still in its quiet period: ${damped.reason} (score ${damped.score.toFixed(2)})`);
  });
});
