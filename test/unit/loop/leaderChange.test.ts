import assert from 'node:assert/strict';
import { BUILTIN_PLAYBOOKS_SOURCE, BUILTIN_PLAYBOOKS_YAML } from '../../../src/core/decide/builtinPlaybooks';
import { parsePlaybooks } from '../../../src/core/decide/playbookLoader';
import { RecoveryWindow } from '../../../src/core/loop/recoveryWindow';
import { Remediator } from '../../../src/core/loop/remediator';
import { VirtualClock } from '../../../src/core/loop/virtualClock';
import { DEFAULT_SAFETY } from '../../../src/core/model/automation';
import type { Diagnosis } from '../../../src/core/model/diagnosis';
import { resumeDecision } from '../../../src/core/model/inFlightStep';
import type { LeaseState } from '../../../src/core/ports';
import { FakeCluster } from '../../fakes/fakeCluster';
import { FakeInFlightSteps } from '../../fakes/fakeInFlightSteps';
import { MemoryStore } from '../../fakes/memoryStore';
import { MemoryLogger } from '../../fakes/nullLogger';

const playbooks = parsePlaybooks(BUILTIN_PLAYBOOKS_YAML, BUILTIN_PLAYBOOKS_SOURCE).playbooks;
const target = { kind: 'service' as const, namespace: 'shop', name: 'checkout' };
const RESTART = 'rollout restart deployment shop/checkout';

/** One replica of the agent: its own store (an emptyDir), the shared cluster and the shared Incident resources. */
function replica(identity: string, clock: VirtualClock, cluster: FakeCluster, inFlight: FakeInFlightSteps, lease: { state: LeaseState }, store = new MemoryStore()) {
  const logger = new MemoryLogger();
  const engine = new Remediator({
    clock,
    logger,
    store,
    cluster,
    notifier: { escalate: async () => undefined, approvalNeeded: async () => undefined, resolved: async () => undefined },
    evidence: {
      // healthy once the restart is on the cluster
      latest: () => ({ t: clock.now(), v: cluster.restartTokens.size > 0 ? 0.004 : 0.2 }),
      band: () => ({ lower: 0, expected: 0.005, upper: 0.02 }),
      rolloutStatus: async () => ({ complete: true, message: 'successfully rolled out' }),
      probe: () => undefined,
      restarts: () => 0,
    },
    recovery: new RecoveryWindow(60_000),
    playbooks: () => playbooks,
    settings: () => ({ mode: 'auto', safety: DEFAULT_SAFETY }),
    targetContext: () => ({ target, replicas: 3, previousRevision: 4, worstPod: 'checkout-7d9f-abcde', deploymentPods: { total: 3, unavailable: 0 }, rolloutInProgress: false, nodes: { total: 3, unschedulable: 0 } }),
    lease: () => ({ ...lease.state, held: lease.state.holder === identity }),
    identity,
    inFlight,
    nodeNamespace: 'vigil',
  });
  return { engine, store, logger };
}

function leak(t: number): Diagnosis {
  return { kind: 'memory-leak', target, confidence: 0.9, t, summary: 'memory leak on shop/checkout', evidence: [] };
}

/**
 * Replica a leads and dies in the middle of a step (`landed`: after its write reached the cluster, else before);
 * replica b, which saw the same problem as a standby, takes the Lease over.
 */
async function leaderDies(landed: boolean) {
  const clock = new VirtualClock(Date.UTC(2026, 11, 6, 12, 0, 0));
  const cluster = new FakeCluster();
  const inFlight = new FakeInFlightSteps();
  const lease = { state: { holder: 'agent-a', held: true } as LeaseState };
  const a = replica('agent-a', clock, cluster, inFlight, lease);
  const b = replica('agent-b', clock, cluster, inFlight, lease);
  const original = cluster.execute.bind(cluster);
  // a's process stops at its write: before sending it, or after the API server stored it
  cluster.execute = async (action, options) => {
    if (options.dryRun) return original(action, options);
    if (landed) await original(action, options);
    return new Promise<never>(() => undefined);
  };
  await a.engine.start();
  await b.engine.start();
  void a.engine.onDiagnosis({ incidentKey: 'svc:shop/checkout', diagnosis: leak(clock.now()) });
  // the standby sees it a scrape later: its own incident has another id
  for (let n = 0; n < 4; n++) await clock.advance(500);
  void b.engine.onDiagnosis({ incidentKey: 'svc:shop/checkout', diagnosis: leak(clock.now()) });
  for (let n = 0; n < 6; n++) await clock.advance(500);
  const [aIncident] = a.engine.list();
  assert.equal(aIncident.state, 'acting');
  assert.deepEqual([...inFlight.steps.keys()], [aIncident.id], 'the intent is in the cluster before the write');
  assert.deepEqual(cluster.applied, landed ? [RESTART] : []);
  const [bOwn] = b.engine.list();
  assert.notEqual(bOwn.id, aIncident.id);
  assert.equal(bOwn.state, 'diagnosed', 'the standby holds its own step back (lease gate)');
  a.engine.dispose();

  // a's Lease runs out; b takes it and, at its next interval, adopts what a had in flight
  cluster.execute = original;
  lease.state = { holder: 'agent-b', held: true };
  // a's pod restarts with its disk: its incident says 'acting', but it does not lead, so it must not write
  const a2 = replica('agent-a', clock, cluster, inFlight, lease, a.store);
  await a2.engine.start();
  await b.engine.resumeInFlight();
  for (let n = 0; n < 120 && b.engine.list().some((i) => i.state === 'acting' || i.state === 'verifying' || i.state === 'diagnosed'); n++) await clock.advance(1000);
  await b.engine.idle();
  assert.equal(a2.engine.get(aIncident.id)?.state, 'acting', 'the restarted old leader waits for the Lease');
  a2.engine.dispose();
  return { aIncident, b, cluster, inFlight };
}

describe('A leader change with a step in flight', () => {
  it('resume decision: a write already landed is verified, one that did not is written', () => {
    assert.equal(resumeDecision(true), 'verify');
    assert.equal(resumeDecision(false), 'write');
  });

  it('intent recorded, write not landed: the new leader writes the step once, under the old incident id', async () => {
    const { aIncident, b, cluster, inFlight } = await leaderDies(false);
    assert.deepEqual(cluster.applied, [RESTART], 'exactly one write');
    assert.equal(cluster.landedChecks, 1, 'the marker was checked before writing');
    const adopted = b.engine.get(aIncident.id);
    assert.equal(adopted?.state, 'recovered');
    assert.equal(cluster.restartTokens.get('shop/checkout'), `${aIncident.id}/rollout-restart`, 'the write carries the old leader\'s marker');
    const own = b.engine.list().find((i) => i.id !== aIncident.id);
    assert.equal(own?.state, 'closed', 'b\'s own incident for the same problem does not act');
    assert.match(own?.outcome?.note ?? '', new RegExp(`continued by ${aIncident.id}`));
    assert.equal(inFlight.steps.size, 0, 'the intent is cleared once the step is verified');
    const actions = (await b.store.readAudit()).filter((e) => e.kind === 'action');
    assert.equal(actions.length, 1);
    assert.equal((actions[0].detail as { changed: boolean }).changed, true);
  });

  it('intent recorded, write landed: the new leader does not write again and goes on to verify', async () => {
    const { aIncident, b, cluster } = await leaderDies(true);
    assert.deepEqual(cluster.applied, [RESTART], 'still the old leader\'s one write');
    const adopted = b.engine.get(aIncident.id);
    assert.equal(adopted?.state, 'recovered');
    const acted = adopted?.timeline.find((e) => e.kind === 'acted');
    assert.ok(acted && acted.kind === 'acted');
    assert.equal(acted.result.changed, false);
    assert.match(acted.result.summary, /already written before the restart or leader change/);
    assert.deepEqual(adopted?.timeline.map((e) => e.kind), ['diagnosed', 'note', 'acted', 'verified', 'resolved']);
    assert.equal(b.engine.list().find((i) => i.id !== aIncident.id)?.state, 'closed');
  });

  it('without the CRD the step runs from the local store, said once, and nothing more is asked of the cluster', async () => {
    const clock = new VirtualClock(Date.UTC(2026, 11, 6, 12, 0, 0));
    const cluster = new FakeCluster();
    const inFlight = new FakeInFlightSteps();
    inFlight.absent = true;
    const a = replica('agent-a', clock, cluster, inFlight, { state: { holder: 'agent-a', held: true } });
    await a.engine.start();
    await a.engine.onDiagnosis({ incidentKey: 'svc:shop/checkout', diagnosis: leak(clock.now()) });
    for (let n = 0; n < 120 && a.engine.list()[0].state !== 'recovered'; n++) await clock.advance(1000);
    assert.equal(a.engine.list()[0].state, 'recovered');
    assert.deepEqual(cluster.applied, [RESTART]);
    assert.equal(a.logger.lines.filter((l) => /kept on this replica's disk only/.test(l.message)).length, 1);
    assert.deepEqual(inFlight.calls, ['list', 'record inc-20261206T120000Z-checkout-1/rollout-restart'], 'one read on taking the Lease, one write attempt; the clear after the step is not sent');
  });

  it('the recovery window survives the leader change: a replica taking the Lease holds back the problem the old leader just fixed', async () => {
    const clock = new VirtualClock(Date.UTC(2026, 11, 6, 12, 0, 0));
    const cluster = new FakeCluster();
    const inFlight = new FakeInFlightSteps();
    const lease = { state: { holder: 'agent-b', held: true } as LeaseState };
    // the old leader recovered shop/checkout's memory leak a minute ago (its Incident resource says so)
    inFlight.closed.push({ target, kind: 'memory-leak', t: clock.now() - 60_000, fixed: true });
    const b = replica('agent-b', clock, cluster, inFlight, lease);
    await b.engine.start();
    await b.engine.resumeInFlight();
    assert.equal(await b.engine.onDiagnosis({ incidentKey: 'svc:shop/checkout', diagnosis: leak(clock.now()) }), undefined, 'lingering symptoms of the fix open nothing');
    // once the hold is over (3 rate windows, at least 3 min, after the fix), the same problem is new again
    await clock.advance(3 * 60_000);
    assert.ok(await b.engine.onDiagnosis({ incidentKey: 'svc:shop/checkout', diagnosis: leak(clock.now()) }));
    b.engine.dispose();
  });
});
