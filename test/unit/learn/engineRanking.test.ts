import assert from 'node:assert/strict';
import { BUILTIN_PLAYBOOKS_SOURCE, BUILTIN_PLAYBOOKS_YAML } from '../../../src/core/decide/builtinPlaybooks';
import { parsePlaybooks } from '../../../src/core/decide/playbookLoader';
import { stepRanker } from '../../../src/core/learn/remediationRanking';
import { Remediator } from '../../../src/core/loop/remediator';
import { RecoveryWindow } from '../../../src/core/loop/recoveryWindow';
import { VirtualClock } from '../../../src/core/loop/virtualClock';
import { DEFAULT_SAFETY } from '../../../src/core/model/automation';
import type { Incident } from '../../../src/core/model/incident';
import type { Playbook } from '../../../src/core/model/playbook';
import { FakeCluster } from '../../fakes/fakeCluster';
import { MemoryStore } from '../../fakes/memoryStore';
import { MemoryLogger } from '../../fakes/nullLogger';

const playbooks = parsePlaybooks(BUILTIN_PLAYBOOKS_YAML, BUILTIN_PLAYBOOKS_SOURCE).playbooks;
const target = { kind: 'service' as const, namespace: 'shop', name: 'checkout' };

function engine(rankSteps?: (p: Playbook, i: Incident) => Playbook) {
  const clock = new VirtualClock(Date.UTC(2026, 10, 23, 12));
  const cluster = new FakeCluster();
  const store = new MemoryStore();
  const e = new Remediator({
    clock,
    logger: new MemoryLogger(),
    store,
    cluster,
    notifier: { escalate: async () => undefined, approvalNeeded: async () => undefined, resolved: async () => undefined },
    evidence: { latest: () => ({ t: clock.now(), v: 0.004 }), band: () => ({ lower: 0, expected: 0.005, upper: 0.02 }), rolloutStatus: async () => ({ complete: true, message: 'ok' }), probe: () => undefined, restarts: () => 0 },
    recovery: new RecoveryWindow(60_000),
    playbooks: () => playbooks,
    settings: () => ({ mode: 'auto', safety: { ...DEFAULT_SAFETY, approvalRequiredForRisk: 'high' } }),
    targetContext: () => ({ target, replicas: 3, previousRevision: 4, worstPod: 'checkout-7d9f-abcde', deploymentPods: { total: 3, unavailable: 0 }, rolloutInProgress: false }),
    lease: () => ({ holder: 'a', held: true }),
    identity: 'a',
    ...(rankSteps ? { rankSteps } : {}),
  });
  return { e, clock, cluster, store };
}

async function crashLoop(r: ReturnType<typeof engine>): Promise<Incident> {
  await r.e.start();
  await r.e.onDiagnosis({ incidentKey: 'svc:shop/checkout', diagnosis: { kind: 'crash-loop', target, confidence: 0.9, t: r.clock.now(), summary: 'crash loop', evidence: [] } });
  for (let k = 0; k < 300 && r.e.list().some((i) => ['diagnosed', 'acting', 'verifying'].includes(i.state)); k++) await r.clock.advance(1000);
  await r.e.idle();
  r.e.dispose();
  return r.e.list()[0];
}

describe('Remediator with remediation ranking', () => {
  it('without the hook the author’s first step runs', async () => {
    const r = engine();
    const i = await crashLoop(r);
    assert.deepEqual(r.cluster.applied, ['delete pod shop/checkout-7d9f-abcde']);
    assert.equal(i.outcome?.recoveredBy, 'delete-crashing-pod');
  });

  it('with a history where deleting the pod keeps failing, the engine runs the ranked first step', async () => {
    const failing = (k: number): Incident => ({
      id: `old-${k}`,
      target,
      openedAt: k,
      updatedAt: k,
      state: 'recovered',
      stepIndex: 1,
      diagnosis: { kind: 'crash-loop', target, confidence: 0.9, t: k, summary: '', evidence: [] },
      playbook: 'crash-loop',
      timeline: [
        { t: k, kind: 'acted', stepId: 'delete-crashing-pod', result: { action: { kind: 'delete-pod', namespace: 'shop', pod: 'p' }, dryRun: false, changed: true, summary: '' } },
        { t: k + 45_000, kind: 'verified', stepId: 'delete-crashing-pod', verdict: { status: 'not-recovered', t: k + 45_000, checks: [], summary: '' } },
      ],
      recording: { frames: [], facts: [], logs: [] },
      outcome: { kind: 'recovered', t: k + 90_000, recoveredBy: 'rollout-restart' },
    });
    const history = [1, 2, 3].map(failing);
    const r = engine(stepRanker(() => history));
    const i = await crashLoop(r);
    assert.deepEqual(r.cluster.applied, ['rollout restart deployment shop/checkout']);
    assert.equal(i.outcome?.recoveredBy, 'rollout-restart');
    assert.equal(i.playbook, 'crash-loop', 'the incident still names the playbook it ran');
  });
});
