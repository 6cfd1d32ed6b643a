import assert from 'node:assert/strict';
import { BUILTIN_PLAYBOOKS_SOURCE, BUILTIN_PLAYBOOKS_YAML } from '../../../src/core/decide/builtinPlaybooks';
import { parsePlaybooks } from '../../../src/core/decide/playbookLoader';
import { Remediator, restsOnOneScrape, type RemediatorDeps, type RemediationSettings } from '../../../src/core/loop/remediator';
import { replicasForLoad } from '../../../src/core/decide/playbookTemplates';
import { RecoveryWindow } from '../../../src/core/loop/recoveryWindow';
import { VirtualClock } from '../../../src/core/loop/virtualClock';
import { DEFAULT_SAFETY } from '../../../src/core/model/automation';
import type { Diagnosis, DiagnosisKind } from '../../../src/core/model/diagnosis';
import { targetLabel } from '../../../src/core/model/target';
import { diagnosisActedOn, type EscalationContext, type Incident } from '../../../src/core/model/incident';
import type { LeaseState, NotifierPort } from '../../../src/core/ports';
import type { VerificationEvidence } from '../../../src/core/verify/verifier';
import { FakeCluster } from '../../fakes/fakeCluster';
import { MemoryStore } from '../../fakes/memoryStore';
import { MemoryLogger } from '../../fakes/nullLogger';
import { SymptomSpells } from '../../../src/core/detect/flapping';

const playbooks = parsePlaybooks(BUILTIN_PLAYBOOKS_YAML, BUILTIN_PLAYBOOKS_SOURCE).playbooks;
const target = { kind: 'service' as const, namespace: 'shop', name: 'checkout' };


function diagnosis(kind: DiagnosisKind, t: number): Diagnosis {
  return { kind, target, confidence: 0.9, t, summary: `${kind} on shop/checkout`, evidence: [] };
}

interface Rig {
  dir: string;
  clock: VirtualClock;
  cluster: FakeCluster;
  store: MemoryStore;
  notifier: { escalations: EscalationContext[]; approvals: string[]; resolvedIds: string[] } & NotifierPort;
  engine: Remediator;
  healthyAt: number;
  settings: RemediationSettings;
  lease: LeaseState;
}

/** Evidence for a node step: no signals, only where the node's workloads are. */
function nodeEvidence(rescheduled: NonNullable<VerificationEvidence['rescheduled']>): VerificationEvidence {
  return { latest: () => undefined, band: () => undefined, rolloutStatus: async () => undefined, probe: () => undefined, restarts: () => undefined, rescheduled };
}

function rig(over: { mode?: RemediationSettings['mode']; healthyAt?: number; store?: MemoryStore; cluster?: FakeCluster; lease?: LeaseState; evidence?: (clock: VirtualClock) => VerificationEvidence; node?: string; extra?: Partial<RemediatorDeps> } = {}): Rig {
  const dir = '';
  const clock = new VirtualClock(Date.UTC(2026, 10, 23, 12, 0, 0));
  const cluster = over.cluster ?? new FakeCluster();
  const store = over.store ?? new MemoryStore();
  const notifier = {
    escalations: [] as EscalationContext[],
    approvals: [] as string[],
    resolvedIds: [] as string[],
    async escalate(c: EscalationContext) {
      notifier.escalations.push(c);
    },
    async approvalNeeded(_i: Incident, _s: string, summary: string) {
      notifier.approvals.push(summary);
    },
    async resolved(i: Incident) {
      notifier.resolvedIds.push(i.id);
    },
  };
  const r = { dir, clock, cluster, store, notifier, healthyAt: over.healthyAt ?? 0, settings: { mode: over.mode ?? 'auto', safety: { ...DEFAULT_SAFETY, approvalRequiredForRisk: 'high' as const } }, lease: over.lease ?? { holder: 'agent-a', held: true } } as Rig;
  const evidence: VerificationEvidence = over.evidence?.(clock) ?? {
    latest: () => ({ t: clock.now(), v: clock.now() >= r.healthyAt ? 0.004 : 0.2 }),
    band: () => ({ lower: 0, expected: 0.005, upper: 0.02 }),
    rolloutStatus: async () => ({ complete: true, message: 'successfully rolled out' }),
    probe: () => undefined,
    // while unhealthy the pods keep restarting, one more every 10 s
    restarts: () => (clock.now() >= r.healthyAt ? 0 : Math.floor(clock.now() / 10_000)),
  };
  const deps: RemediatorDeps = {
    clock,
    logger: new MemoryLogger(),
    store,
    cluster,
    notifier,
    evidence,
    recovery: new RecoveryWindow(60_000),
    playbooks: () => playbooks,
    settings: () => r.settings,
    targetContext: () => ({ target, replicas: 3, previousRevision: 4, worstPod: 'checkout-7d9f-abcde', deploymentPods: { total: 3, unavailable: 0 }, rolloutInProgress: false, node: over.node, nodes: { total: 3, unschedulable: 0 } }),
    lease: () => r.lease,
    identity: 'agent-a',
    ...over.extra,
  };
  r.engine = new Remediator(deps);
  return r;
}

async function settle(r: Rig, ms = 10 * 60_000) {
  const end = r.clock.now() + ms;
  while (r.clock.now() < end) {
    await r.clock.advance(1000);
    const open = r.engine.list().filter((i) => ['diagnosed', 'acting', 'verifying'].includes(i.state));
    if (open.length === 0 && r.clock.pendingTimers === 0) break;
  }
  await r.engine.idle();
}

/**
 * The target's spells as the pipeline would record them: a frame every 5 s from `from`, bad while `bad(t)`, fed up to
 * the time of each reading.
 */
function spellsOf(from: number, bad: (t: number) => boolean): RemediatorDeps['flaps'] {
  const spells = new SymptomSpells();
  const bands = { error_ratio: { lower: 0, expected: 0.002, upper: 0.01 } };
  let t = from;
  return {
    reading(tg, now) {
      for (; t <= now; t += 5000) spells.observe({ target: tg, t, values: {}, fresh: { error_ratio: bad(t) ? 0.8 : 0.001 } }, bands);
      return spells.reading(tg, now);
    },
  };
}

describe('Remediator', () => {
  const rigs: Rig[] = [];
  afterEach(() => {
    for (const r of rigs.splice(0)) {
      r.engine.dispose();
    }
  });

  it('auto mode: crash loop → delete the pod → verified recovered, all audited', async () => {
    const r = rig();
    rigs.push(r);
    await r.engine.start();
    await r.engine.onDiagnosis({ incidentKey: 'svc:shop/checkout', diagnosis: diagnosis('crash-loop', r.clock.now()) });
    await settle(r);
    const [i] = r.engine.list();
    assert.equal(i.state, 'recovered');
    assert.equal(i.outcome?.recoveredBy, 'delete-crashing-pod');
    assert.deepEqual(r.cluster.applied, ['delete pod shop/checkout-7d9f-abcde']);
    assert.deepEqual((await r.store.readAudit()).map((e) => e.kind), ['dry-run', 'action']);
    assert.deepEqual(r.notifier.resolvedIds, [i.id]);
    assert.deepEqual(i.timeline.map((e) => e.kind), ['diagnosed', 'acted', 'verified', 'resolved']);
  });

  it('suggest mode writes nothing until approved; approval runs the step', async () => {
    const r = rig({ mode: 'suggest' });
    rigs.push(r);
    await r.engine.start();
    await r.engine.onDiagnosis({ incidentKey: 'svc:shop/checkout', diagnosis: diagnosis('bad-release', r.clock.now()) });
    await settle(r, 60_000);
    let [i] = r.engine.list();
    assert.equal(i.state, 'awaiting-approval');
    assert.deepEqual(r.cluster.applied, []);
    assert.equal((await r.store.readAudit()).length, 0, 'a proposal writes nothing and audits nothing');
    const proposed = i.timeline.find((e) => e.kind === 'proposed') as Extract<(typeof i.timeline)[number], { kind: 'proposed' }>;
    assert.deepEqual(proposed.action, { kind: 'rollback', namespace: 'shop', deployment: 'checkout', toRevision: 4 });
    assert.ok(proposed.dryRun?.dryRun, 'the proposal carries a server-side dry run');
    assert.equal(proposed.gates.results.length, 12);
    assert.match(r.notifier.approvals[0], /bad release on shop\/checkout: proposed "rollout undo deployment shop\/checkout --to-revision=4"/);

    await r.engine.approve(i.id, 'user:alice');
    await settle(r);
    [i] = r.engine.list();
    assert.equal(i.state, 'recovered');
    assert.deepEqual(r.cluster.applied, ['rollout undo deployment shop/checkout --to-revision=4']);
    const audit = await r.store.readAudit();
    assert.deepEqual(audit.map((e) => e.kind), ['approval', 'dry-run', 'action']);
    assert.match(audit[2].actor, /user:alice/);
  });

  it('an incident whose cause turned out to be another\'s closes as merged before any step, naming that incident; approving it is refused', async () => {
    // the correlator absorbs an incident opened at a caller when its callee's outage comes in; left open, its proposal
    // (restart the caller) waited for an approval it must never get
    const r = rig({ mode: 'suggest' });
    rigs.push(r);
    await r.engine.start();
    await r.engine.onDiagnosis({ incidentKey: 'svc:shop/checkout', diagnosis: diagnosis('dependency-outage', r.clock.now()) });
    await settle(r, 30_000);
    const payments = { kind: 'service' as const, namespace: 'payments', name: 'payments-api' };
    const outage: Diagnosis = { kind: 'dependency-outage', target: payments, confidence: 0.75, t: r.clock.now(), summary: 'payments/payments-api is failing', evidence: [] };
    await r.engine.onDiagnosis({ incidentKey: 'svc:payments/payments-api', diagnosis: outage });
    const into = r.engine.list().find((i) => i.target.name === 'payments-api')!;
    const merged = await r.engine.mergeInto('svc:shop/checkout', { incidentKey: 'svc:payments/payments-api', diagnosis: outage });
    assert.equal(merged?.state, 'closed');
    assert.equal(merged?.outcome?.kind, 'merged');
    assert.equal(merged?.outcome?.note, `merged into ${into.id} (dependency outage on payments/payments-api): its symptoms are that incident's`);
    await assert.rejects(r.engine.approve(merged!.id, 'user:alice'), /was merged into inc-.* \(dependency outage on payments\/payments-api\): its symptoms are that incident's; nothing to approve here/);
    assert.deepEqual(r.cluster.applied, []);
    // the merged key is free: new symptoms there open a new incident
    await r.engine.onDiagnosis({ incidentKey: 'svc:shop/checkout', diagnosis: diagnosis('bad-release', r.clock.now()) });
    assert.equal(r.engine.list().filter((i) => i.target.name === 'checkout').length, 2);
  });

  it('an incident merged after its step ran stays with its verification', async () => {
    const r = rig();
    rigs.push(r);
    await r.engine.start();
    await r.engine.onDiagnosis({ incidentKey: 'svc:shop/checkout', diagnosis: diagnosis('crash-loop', r.clock.now()) });
    for (let k = 0; k < 30 && !r.cluster.applied.length; k++) await r.clock.advance(1000);
    assert.ok(r.cluster.applied.length > 0, 'the step ran');
    // it waits behind the step's verification in the incident's queue, and finds the incident no longer open
    const merging = r.engine.mergeInto('svc:shop/checkout', { incidentKey: 'svc:x/y', diagnosis: diagnosis('dependency-outage', r.clock.now()) });
    await settle(r);
    assert.equal(await merging, undefined);
    assert.equal(r.engine.list()[0].outcome?.kind, 'recovered');
  });

  it('reject records the label and changes nothing', async () => {
    const r = rig({ mode: 'suggest' });
    rigs.push(r);
    await r.engine.start();
    const opened = await r.engine.onDiagnosis({ incidentKey: 'k', diagnosis: diagnosis('memory-leak', r.clock.now()) });
    await settle(r, 30_000);
    assert.ok(opened);
    const i = await r.engine.reject(opened.id, 'user:bob', 'known batch job');
    assert.equal(i.state, 'closed');
    assert.equal(i.outcome?.kind, 'rejected');
    assert.deepEqual(r.cluster.applied, []);
    assert.deepEqual((await r.store.readAudit()).map((e) => e.kind), ['rejection']);
  });

  it('a step that does not recover leads to the next, and the last escalates with full context', async () => {
    const logLine = { t: 1, pod: { kind: 'pod' as const, namespace: 'shop', name: 'checkout-7d9f-abcde' }, text: 'ERROR upstream connect error', pattern: 'error' };
    const probeRun = { name: 'checkout journey', target, t: 2, success: false, latencyMs: 12, failedStep: 'check out', reason: 'step "check out": POST shop/checkout:8080/checkout answered 502, expected 200' };
    const asked: string[] = [];
    const r = rig({
      healthyAt: Number.MAX_SAFE_INTEGER,
      extra: {
        recentLogs: async () => [logLine],
        recentProbes: (t) => {
          asked.push(targetLabel(t));
          return Array.from({ length: 15 }, () => probeRun);
        },
      },
    });
    rigs.push(r);
    r.settings = { ...r.settings, safety: { ...r.settings.safety, circuitBreakerFailures: 10 } };
    await r.engine.start();
    await r.engine.onDiagnosis({ incidentKey: 'k', diagnosis: diagnosis('crash-loop', r.clock.now()) });
    await settle(r, 30 * 60_000);
    const [i] = r.engine.list();
    assert.equal(i.state, 'escalated');
    assert.equal(r.cluster.applied.length, 2, r.cluster.applied.join('; '));
    const ctx = r.notifier.escalations[0];
    assert.equal(ctx.actionsTried.length, 2);
    assert.ok(ctx.actionsTried.every((a) => a.verdict?.status === 'not-recovered'));
    assert.match(ctx.reason, /did not recover/);
    assert.deepEqual(ctx.recentLogs, [logLine]);
    assert.deepEqual(asked, ['shop/checkout']);
    assert.equal(ctx.recentProbes.length, 10, 'the last ten runs');
    assert.deepEqual(ctx.recentProbes[0], probeRun);
  });

  it('a restarted engine resumes an in-flight step without applying it twice', async () => {
    const cluster = new FakeCluster();
    const a = rig({ cluster });
    rigs.push(a);
    // the first agent applies the write, then dies before hearing back
    const original = cluster.execute.bind(cluster);
    cluster.execute = async (action, options) => {
      const res = await original(action, options);
      if (!options.dryRun) return new Promise<never>(() => undefined);
      return res;
    };
    await a.engine.start();
    void a.engine.onDiagnosis({ incidentKey: 'k', diagnosis: diagnosis('memory-leak', a.clock.now()) });
    for (let n = 0; n < 20; n++) await a.clock.advance(500);
    assert.equal((await a.store.loadIncident(a.engine.list()[0].id))?.state, 'acting');
    assert.deepEqual(cluster.applied, ['rollout restart deployment shop/checkout']);
    a.engine.dispose();

    cluster.execute = original;
    const b = rig({ cluster, store: a.store });
    await b.engine.start();
    await settle(b);
    const [i] = b.engine.list();
    assert.equal(i.state, 'recovered');
    assert.deepEqual(cluster.applied, ['rollout restart deployment shop/checkout'], 'not applied twice');
    const actions = (await b.store.readAudit()).filter((e) => e.kind === 'action');
    assert.equal(actions.length, 1);
    assert.match(actions[0].summary, /no change needed/);
    b.engine.dispose();
  });

  it('only the Lease holder acts: without the Lease the step waits, then escalates', async () => {
    const r = rig({ lease: { holder: 'agent-b', held: false } });
    rigs.push(r);
    await r.engine.start();
    await r.engine.onDiagnosis({ incidentKey: 'k', diagnosis: diagnosis('memory-leak', r.clock.now()) });
    await settle(r, 15 * 60_000);
    const [i] = r.engine.list();
    assert.deepEqual(r.cluster.applied, []);
    const refused = i.timeline.find((e) => e.kind === 'refused') as { gates: { refusedBy?: { gate: string; reason: string } } };
    assert.equal(refused.gates.refusedBy?.gate, 'lease');
    assert.match(refused.gates.refusedBy!.reason, /agent-b/);
    assert.equal(i.state, 'escalated');
  });

  it('a diagnosis that changes while a step is being prepared: the old playbook\'s step never runs, the new one does', async () => {
    // the save of the playbook choice is held, so the next diagnosis lands between choosing a step and running it
    class HeldStore extends MemoryStore {
      hold: Promise<void> | undefined;
      release = () => undefined as void;
      override async saveIncident(i: Incident): Promise<void> {
        if (this.hold && i.playbook) await this.hold;
        return super.saveIncident(i);
      }
    }
    const store = new HeldStore();
    store.hold = new Promise<void>((res) => (store.release = res));
    const r = rig({ store });
    rigs.push(r);
    await r.engine.start();
    await r.engine.onDiagnosis({ incidentKey: 'k', diagnosis: diagnosis('crash-loop', r.clock.now()) });
    await new Promise((res) => setImmediate(res));
    assert.equal(r.engine.list()[0].playbook, 'crash-loop', 'the crash-loop playbook was chosen and its save is on its way');
    const changed = r.engine.onDiagnosis({ incidentKey: 'k', diagnosis: diagnosis('bad-release', r.clock.now()) });
    store.hold = undefined;
    store.release();
    await changed;
    await settle(r);
    const [i] = r.engine.list();
    assert.deepEqual(r.cluster.applied, ['rollout undo deployment shop/checkout --to-revision=4'], 'only the bad release\'s step ran');
    assert.equal(i.state, 'recovered');
    assert.equal(i.outcome?.recoveredBy, 'roll-back');
    assert.deepEqual((await r.store.readAudit()).filter((e) => e.kind === 'action').length, 1);
  });

  it('two diagnoses of one batch (dispatched together): the first step is chosen for the latter, however fast the store is', async () => {
    // the pipeline dispatches every update of an interval at once; a fast store must not let the first one's step win the race
    const r = rig();
    rigs.push(r);
    await r.engine.start();
    const first = r.engine.onDiagnosis({ incidentKey: 'k', diagnosis: diagnosis('crash-loop', r.clock.now()) });
    const second = r.engine.onDiagnosis({ incidentKey: 'k', diagnosis: diagnosis('bad-release', r.clock.now()) });
    await Promise.all([first, second]);
    await settle(r);
    const [i] = r.engine.list();
    assert.deepEqual(r.cluster.applied, ['rollout undo deployment shop/checkout --to-revision=4'], "only the bad release's step ran");
    assert.equal(i.outcome?.recoveredBy, 'roll-back');
    assert.deepEqual(i.timeline.filter((e) => e.kind === 'diagnosed').map((e) => (e as { diagnosis: Diagnosis }).diagnosis.kind), ['crash-loop', 'bad-release']);
    assert.equal((await r.store.readAudit()).filter((e) => e.kind === 'action').length, 1);
  });

  describe('a first step resting on one scrape waits for the next interval or a cluster fact', () => {
    // the order recorded in bench:heal's crash loop, seed 1 (incident inc-20261206T144710Z-checkout-1): the scrape
    // at t caught checkout's three pods all down just after their first restarts and frontend's errors over the last
    // interval (11 %), so the first diagnosis was a dependency outage of checkout at 0.41 s; its BackOff arrived
    // 0.46 s later and turned it to a crash loop at 1.2 s, but the outage's restart had already run at 0.46 s
    const frontend = { kind: 'service' as const, namespace: 'shop', name: 'frontend' };
    const frameAt = (r: Rig) => r.clock.now() - 410;
    const freshErrors = (t: number) => ({ target: frontend, t, detector: 'fusion' as const, score: 0.9, isAnomaly: true, severity: 'warning' as const, contributions: [{ signal: 'error_ratio' as const, share: 1, observed: 0.11 }], reason: 'rule: error_ratio 11% over the last interval > 0.05 (0.2% just before)' });
    const outage = (r: Rig, t: number): Diagnosis => ({ ...diagnosis('dependency-outage', r.clock.now()), confidence: 0.7, summary: 'shop/checkout is down and its caller shop/frontend shows errors', evidence: [{ kind: 'anomaly', anomaly: freshErrors(t) }] });
    const backoff = (r: Rig) => ({ kind: 'crash-backoff' as const, t: r.clock.now(), target, reason: 'CrashLoopBackOff', message: 'Container checkout of pod checkout-kzlj7zl-7cfhb is in CrashLoopBackOff' });
    const crashLoop = (r: Rig, t: number): Diagnosis => ({ ...diagnosis('crash-loop', r.clock.now()), confidence: 0.75, evidence: [{ kind: 'fact', fact: backoff(r) }, { kind: 'anomaly', anomaly: freshErrors(t) }] });
    const applied = (r: Rig) => r.cluster.applied;

    it('the BackOff arriving within the interval turns the diagnosis before any step: the crash loop\'s step runs, the outage\'s never', async () => {
      const r = rig({ extra: { oneScrapeHoldMs: 10_000 } });
      rigs.push(r);
      await r.engine.start();
      const t = frameAt(r);
      const opened = await r.engine.onDiagnosis({ incidentKey: 'k', diagnosis: outage(r, t), anomalies: [freshErrors(t)] });
      await r.engine.idle();
      await r.clock.advance(460);
      await r.engine.idle();
      assert.deepEqual(applied(r), [], 'nothing ran on the outage read from one scrape');
      assert.equal(r.engine.list()[0].state, 'diagnosed');
      await r.engine.onDiagnosis({ incidentKey: 'k', diagnosis: crashLoop(r, t) });
      await settle(r);
      const [i] = r.engine.list();
      assert.equal(i.id, opened?.id);
      assert.equal(i.playbook, 'crash-loop');
      assert.deepEqual(applied(r), ['delete pod shop/checkout-7d9f-abcde']);
      assert.equal(i.outcome?.recoveredBy, 'delete-crashing-pod');
      const acted = i.timeline.find((e) => e.kind === 'acted')!;
      assert.ok(acted.t - opened!.openedAt < 1000, `the step ran when the fact came in (${acted.t - opened!.openedAt} ms after opening), not at the bound`);
    });

    it('nothing turns it: the step runs once the next interval is scored, or at the bound when no frames come', async () => {
      for (const nextInterval of [true, false]) {
        const r = rig({ extra: { oneScrapeHoldMs: 10_000 } });
        rigs.push(r);
        await r.engine.start();
        const t = frameAt(r);
        const opened = await r.engine.onDiagnosis({ incidentKey: 'k', diagnosis: outage(r, t), anomalies: [freshErrors(t)] });
        await r.engine.idle();
        r.engine.intervalObserved(t); // the interval it opened on is no next one
        await r.clock.advance(4000);
        await r.engine.idle();
        assert.deepEqual(applied(r), []);
        if (nextInterval) r.engine.intervalObserved(t + 5000);
        await settle(r);
        const acted = r.engine.list()[0].timeline.find((e) => e.kind === 'acted');
        assert.ok(acted, 'the outage\'s step ran');
        assert.deepEqual(applied(r), ['rollout restart deployment shop/checkout']);
        const after = acted.t - opened!.openedAt;
        if (nextInterval) assert.ok(after >= 4000 && after < 5000, `ran at the next interval (${after} ms)`);
        else assert.ok(after >= 10_000 && after < 11_000, `ran at the 10 s bound (${after} ms)`);
      }
    });

    it('a surge whose rise was measured on its first interval alone waits: the scale-out is sized on the next interval\'s whole rise', async () => {
      // bench:heal's surge (8cf17cf, seed 1): cart's first raised interval held ~2 s of a 4x surge, "rose 2.32x",
      // scaled 2 to 6 at once; the whole interval read 5.66x and the service saturated again 4 s after the verdict
      const surge = (r: Rig, t: number, ratio: number): Diagnosis => ({
        ...diagnosis('traffic-surge', r.clock.now()),
        confidence: 0.8,
        summary: `shop/checkout requests rose ${ratio}x above baseline`,
        evidence: [{ kind: 'signal-trend', signal: 'request_rate', slopePerMinute: 100, note: `request rate ${ratio}x its baseline` }, { kind: 'anomaly', anomaly: freshErrors(t) }],
        details: { loadRatio: ratio },
      });
      const r = rig({ extra: { oneScrapeHoldMs: 10_000, targetContext: (i) => ({ target, replicas: 2, loadReplicas: replicasForLoad(2, i.diagnosis?.details?.loadRatio ?? 1) }) } });
      rigs.push(r);
      await r.engine.start();
      const t = frameAt(r);
      await r.engine.onDiagnosis({ incidentKey: 'k', diagnosis: surge(r, t, 2.32), anomalies: [freshErrors(t)] });
      await r.engine.idle();
      await r.clock.advance(4000);
      await r.engine.idle();
      assert.deepEqual(applied(r), [], 'nothing sized on the partial interval');
      await r.engine.onDiagnosis({ incidentKey: 'k', diagnosis: surge(r, t + 5000, 5.66) });
      r.engine.intervalObserved(t + 5000);
      await settle(r);
      assert.deepEqual(applied(r), ['scale deployment shop/checkout --replicas=10']);
      // a memory climb measured across scrapes is more than one scrape: its step runs at once
      const climb = { ...diagnosis('memory-leak', r.clock.now()), evidence: [{ kind: 'signal-trend' as const, signal: 'memory' as const, slopePerMinute: 1e8, spanMs: 20_000, note: 'memory grew' }, { kind: 'anomaly' as const, anomaly: freshErrors(t) }] };
      assert.equal(restsOnOneScrape({ diagnosis: climb, timeline: [] }), undefined);
      assert.equal(restsOnOneScrape({ diagnosis: surge(r, t, 2.32), timeline: [] }), t);
    });

    it('backed by a cluster fact or two scrapes, or without the hold configured, the step runs at once', async () => {
      const cases: Array<{ d: (r: Rig, t: number) => Diagnosis; hold?: number }> = [
        { d: crashLoop, hold: 10_000 },
        { d: (r, t) => ({ ...outage(r, t), evidence: [{ kind: 'anomaly', anomaly: freshErrors(t - 5000) }, { kind: 'anomaly', anomaly: freshErrors(t) }] }), hold: 10_000 },
        { d: outage },
      ];
      for (const c of cases) {
        const r = rig({ extra: c.hold === undefined ? {} : { oneScrapeHoldMs: c.hold } });
        rigs.push(r);
        await r.engine.start();
        const openedAt = r.clock.now();
        await r.engine.onDiagnosis({ incidentKey: 'k', diagnosis: c.d(r, frameAt(r)) });
        // no virtual time passes: the step's write is awaited through the event loop only
        for (let k = 0; k < 200 && applied(r).length === 0; k++) await new Promise((res) => setImmediate(res));
        assert.equal(applied(r).length, 1, `${c.d(r, 0).kind}: the step ran at once`);
        assert.equal(r.clock.now(), openedAt);
      }
    });
  });

  it('an approval of a proposal that has changed since (a new diagnosis) approves nothing and says what is proposed now', async () => {
    const r = rig({ mode: 'suggest' });
    rigs.push(r);
    await r.engine.start();
    await r.engine.onDiagnosis({ incidentKey: 'k', diagnosis: diagnosis('crash-loop', r.clock.now()) });
    await settle(r, 30_000);
    const seen = r.engine.list()[0];
    assert.equal(seen.state, 'awaiting-approval');
    const shown = ([...seen.timeline].reverse().find((e) => e.kind === 'proposed') as { stepId: string }).stepId;
    assert.equal(shown, 'delete-crashing-pod');
    // while the human reads it, the diagnosis changes and another step is proposed
    await r.engine.onDiagnosis({ incidentKey: 'k', diagnosis: diagnosis('bad-release', r.clock.now()) });
    await settle(r, 30_000);
    await assert.rejects(r.engine.approve(seen.id, 'user:alice', shown), /changed since you saw step "delete-crashing-pod": it now proposes "rollout undo deployment shop\/checkout --to-revision=4" \(step "roll-back"\) for bad release; nothing was approved/);
    assert.deepEqual(r.cluster.applied, []);
    assert.equal((await r.store.readAudit()).length, 0);
    await r.engine.approve(seen.id, 'user:alice', 'roll-back');
    await settle(r);
    assert.deepEqual(r.cluster.applied, ['rollout undo deployment shop/checkout --to-revision=4']);
  });

  it('a flapping target: its problem cleared twice and came back, so the third incident goes to a human at once and the target is left to them', async () => {
    const r = rig();
    rigs.push(r);
    await r.engine.start();
    // dependency outage: one restart step, which "recovers" (the fault flaps off), then the fault is back 3 min later
    for (let n = 1; n <= 2; n++) {
      await r.engine.onDiagnosis({ incidentKey: `k${n}`, diagnosis: diagnosis('dependency-outage', r.clock.now()) });
      await settle(r);
      assert.equal(r.engine.list()[0].state, 'recovered', `incident ${n}`);
      await r.clock.advance(3 * 60_000 + 1000);
    }
    const third = await r.engine.onDiagnosis({ incidentKey: 'k3', diagnosis: diagnosis('dependency-outage', r.clock.now()) });
    await settle(r);
    const i = r.engine.list().find((x) => x.id === third?.id)!;
    assert.equal(i.state, 'escalated');
    assert.equal(r.cluster.applied.length, 2, `one action per cleared incident, none on the third: ${r.cluster.applied.join('; ')}`);
    assert.match(r.notifier.escalations[0].reason, /^shop\/checkout is flapping: its problem came back 2 times in \d+ min after clearing \(2 of those after a step of Vigil\)/);
    // for the next hour, nothing opens on it (a human owns it), whatever its diagnosis
    for (const [n, kind] of [[4, 'crash-loop'], [5, 'dependency-outage']] as const) {
      await r.clock.advance(10 * 60_000);
      assert.equal(await r.engine.onDiagnosis({ incidentKey: `k${n}`, diagnosis: diagnosis(kind, r.clock.now()) }), undefined);
    }
    assert.equal(r.cluster.applied.length, 2);
    assert.equal(r.notifier.escalations.length, 1);
  });

  it('a target whose own errors cleared and came back twice is flapping: escalated at once naming it, in the diagnosis too, nothing written, left to a human', async () => {
    const start = Date.UTC(2026, 10, 23, 12, 0, 0);
    // 45 s on, 45 s off since 3 min before the incident opens; a minute of health before
    const flap = (t: number) => t >= start - 185_000 && Math.floor((t - (start - 185_000)) / 45_000) % 2 === 0;
    const r = rig({ extra: { flaps: spellsOf(start - 245_000, flap) } });
    rigs.push(r);
    await r.engine.start();
    await r.engine.onDiagnosis({ incidentKey: 'k1', diagnosis: diagnosis('dependency-outage', r.clock.now()) });
    await settle(r);
    const [i] = r.engine.list();
    assert.equal(i.state, 'escalated');
    assert.deepEqual(r.cluster.applied, []);
    assert.match(r.notifier.escalations[0].reason, /^shop\/checkout is flapping: its errors cleared and came back 2 times in 3 min 10 s and are back \(bad ~45 s, healthy ~45 s each time\); no step holds/);
    assert.match(i.diagnosis?.summary ?? '', /^dependency-outage on shop\/checkout Flapping: shop\/checkout is flapping/);
    await r.clock.advance(20 * 60_000);
    assert.equal(await r.engine.onDiagnosis({ incidentKey: 'k2', diagnosis: diagnosis('crash-loop', r.clock.now()) }), undefined, 'a human owns it for an hour');
  });

  it('errors that cleared by themselves and came back once hold the step; the next return names the flap, with no action at all', async () => {
    const start = Date.UTC(2026, 10, 23, 12, 0, 0);
    const flap = (t: number) => t >= start - 95_000 && Math.floor((t - (start - 95_000)) / 45_000) % 2 === 0;
    const r = rig({ healthyAt: Infinity, extra: { flaps: spellsOf(start - 155_000, flap) } });
    rigs.push(r);
    await r.engine.start();
    await r.engine.onDiagnosis({ incidentKey: 'k1', diagnosis: diagnosis('dependency-outage', r.clock.now()) });
    await r.clock.advance(30_000);
    await r.engine.idle();
    let [i] = r.engine.list();
    assert.equal(i.state, 'diagnosed');
    assert.deepEqual(r.cluster.applied, [], 'held while it may be flapping');
    assert.deepEqual(i.timeline.filter((e) => e.kind === 'note').map((e) => (e as { text: string }).text), [
      "holding the next step: shop/checkout's errors cleared and came back 1 time in 100 s and are back (bad ~45 s, healthy ~45 s each time); waiting to see whether it flaps",
    ]);
    // its second return is at start + 85 s
    await settle(r, 3 * 60_000);
    [i] = r.engine.list();
    assert.equal(i.state, 'escalated');
    assert.deepEqual(r.cluster.applied, []);
    const escalatedAt = i.timeline.find((e) => e.kind === 'escalated')!.t;
    assert.ok(escalatedAt >= start + 85_000 && escalatedAt <= start + 95_000, `escalated ${(escalatedAt - start) / 1000} s after opening`);
  });

  it('a restart waits while a node where the target has pods missed its Lease renewal, and runs once the node renews it', async () => {
    const start = Date.UTC(2026, 10, 23, 12, 0, 0);
    // node-2's kubelet last renewed 12 s before the incident and renews again 6 s after it opened
    const renewedAt = start + 6_000;
    const r = rig({ healthyAt: start + 20_000, extra: { silentNode: (_t, now) => (now < renewedAt ? { node: 'node-2', ageMs: now - (start - 12_000), everyMs: 10_000, pods: ['checkout-7d9f-abcde'], total: 3 } : undefined) } });
    rigs.push(r);
    await r.engine.start();
    await r.engine.onDiagnosis({ incidentKey: 'k1', diagnosis: diagnosis('dependency-outage', r.clock.now()) });
    await r.clock.advance(4_000);
    await r.engine.idle();
    let [i] = r.engine.list();
    assert.equal(i.state, 'diagnosed');
    assert.deepEqual(r.cluster.applied, [], 'no restart while node-2 may have stopped');
    const notes = i.timeline.filter((e) => e.kind === 'note').map((e) => (e as { text: string }).text);
    assert.deepEqual(notes, [
      "holding the next step (rollout restart deployment shop/checkout): node/node-2, where 1 of shop/checkout's 3 pods run, has not renewed its Lease for 12 s (its kubelet renews every 10 s; the other nodes' are current): new pods may land on a node that has stopped",
    ], 'said once, not at every recheck');
    await settle(r, 60_000);
    [i] = r.engine.list();
    assert.equal(r.cluster.applied.length, 1, 'the restart runs once the node renewed its Lease');
    assert.equal(i.state, 'recovered');
    const acted = i.timeline.find((e) => e.kind === 'acted')!;
    assert.ok(acted.t >= renewedAt && acted.t <= renewedAt + 2_000, `acted ${(acted.t - start) / 1000} s after opening`);
  });

  it('a step that did not hold, escalated, then the target flaps: the next symptom opens despite the quiet after the escalation and names the flap, no second step', async () => {
    const start = Date.UTC(2026, 10, 23, 12, 0, 0);
    // the flap starts as the incident opens: nothing is known yet, so the playbook's one step runs (and fails)
    const flap = (t: number) => t >= start - 5000 && Math.floor((t - (start - 5000)) / 45_000) % 2 === 0;
    const r = rig({ healthyAt: Infinity, extra: { flaps: spellsOf(start - 65_000, flap) } });
    rigs.push(r);
    await r.engine.start();
    await r.engine.onDiagnosis({ incidentKey: 'k1', diagnosis: diagnosis('dependency-outage', r.clock.now()) });
    await settle(r, 150_000);
    assert.deepEqual(r.engine.list().map((x) => x.state), ['escalated']);
    assert.doesNotMatch(r.notifier.escalations[0].reason, /flapping/);
    // one return (at +85 s) is no flap yet: the same cause stays quiet after the escalation
    assert.equal(await r.engine.onDiagnosis({ incidentKey: 'k2', diagnosis: diagnosis('dependency-outage', r.clock.now()) }), undefined);
    await r.clock.advance(Math.max(0, start + 185_000 - r.clock.now()));
    const second = await r.engine.onDiagnosis({ incidentKey: 'k3', diagnosis: diagnosis('dependency-outage', r.clock.now()) });
    assert.ok(second, 'the flap opens an incident despite the quiet after the escalation');
    await settle(r, 60_000);
    assert.equal(r.engine.list().find((x) => x.id === second.id)?.state, 'escalated');
    assert.match(r.notifier.escalations[1].reason, /^shop\/checkout is flapping: its errors cleared and came back 2 times/);
    assert.deepEqual(r.cluster.applied, ['rollout restart deployment shop/checkout'], 'one step in all');
    await r.clock.advance(5 * 60_000);
    assert.equal(await r.engine.onDiagnosis({ incidentKey: 'k4', diagnosis: diagnosis('dependency-outage', r.clock.now()) }), undefined, 'handed over: nothing more opens');
    assert.equal(r.notifier.escalations.length, 2);
  });

  it('a blip that cleared, then a problem that stays: the hold ends after a minute of it and the playbook runs', async () => {
    const start = Date.UTC(2026, 10, 23, 12, 0, 0);
    const blipThenOn = (t: number) => (t >= start - 90_000 && t < start - 60_000) || t >= start - 5000;
    const r = rig({ extra: { flaps: spellsOf(start - 150_000, blipThenOn) } });
    rigs.push(r);
    await r.engine.start();
    await r.engine.onDiagnosis({ incidentKey: 'k1', diagnosis: diagnosis('dependency-outage', r.clock.now()) });
    await settle(r, 5 * 60_000);
    const [i] = r.engine.list();
    const acted = i.timeline.find((e) => e.kind === 'acted');
    assert.ok(acted, `acted: ${i.timeline.map((e) => e.kind).join(', ')}`);
    // the bad spell counts from the last healthy frame, 10 s before opening: a minute of it is 50 s after opening
    assert.ok(acted.t >= start + 50_000 && acted.t <= start + 55_000, `acted ${(acted.t - start) / 1000} s after opening`);
    assert.deepEqual(r.cluster.applied, ['rollout restart deployment shop/checkout']);
    assert.equal(r.notifier.escalations.length, 0);
  });

  it('storage full by its own logs: no step frees a volume, so the incident goes to a human at once with the line', async () => {
    const line = (text: string) => ({ t: Date.UTC(2026, 10, 23, 11, 59, 50), pod: { kind: 'pod' as const, namespace: 'shop', name: 'checkout-7d9f-abcde' }, text, pattern: 'error' });
    const full = rig({ extra: { recentLogs: async () => [line('ERROR request failed'), line('ERROR: could not extend file "base/16384/2619": No space left on device')] } });
    rigs.push(full);
    await full.engine.start();
    await full.engine.onDiagnosis({ incidentKey: 'k', diagnosis: diagnosis('dependency-outage', full.clock.now()) });
    await settle(full);
    const [i] = full.engine.list();
    assert.equal(i.state, 'escalated');
    assert.deepEqual(full.cluster.applied, [], 'nothing written');
    assert.match(full.notifier.escalations[0].reason, /^shop\/checkout's storage is full \(pod checkout-7d9f-abcde: "ERROR: could not extend file .*No space left on device"\); no restart, rollback or scale frees a volume/);
    // other error lines are no reason to hold back
    const other = rig({ extra: { recentLogs: async () => [line('ERROR upstream connect error')] } });
    rigs.push(other);
    await other.engine.start();
    await other.engine.onDiagnosis({ incidentKey: 'k', diagnosis: diagnosis('dependency-outage', other.clock.now()) });
    await settle(other);
    assert.deepEqual(other.cluster.applied, ['rollout restart deployment shop/checkout']);
  });

  it('one recurrence is not flapping: the second incident on a target is remedied as usual', async () => {
    const r = rig();
    rigs.push(r);
    await r.engine.start();
    await r.engine.onDiagnosis({ incidentKey: 'k1', diagnosis: diagnosis('dependency-outage', r.clock.now()) });
    await settle(r);
    await r.clock.advance(3 * 60_000 + 1000);
    await r.engine.onDiagnosis({ incidentKey: 'k2', diagnosis: diagnosis('dependency-outage', r.clock.now()) });
    await settle(r);
    assert.deepEqual(r.engine.list().map((x) => x.state), ['recovered', 'recovered']);
    assert.equal(r.notifier.escalations.length, 0);
  });

  it('groups a repeated diagnosis into the same incident', async () => {
    const r = rig({ mode: 'suggest' });
    rigs.push(r);
    await r.engine.start();
    const a = await r.engine.onDiagnosis({ incidentKey: 'k', diagnosis: diagnosis('memory-leak', r.clock.now()) });
    const b = await r.engine.onDiagnosis({ incidentKey: 'k', diagnosis: { ...diagnosis('memory-leak', r.clock.now()), confidence: 0.92 } });
    assert.equal(a?.id, b?.id);
    assert.equal(r.engine.list().length, 1);
  });

  it('after a fix, lingering symptoms and facts from before it open no new incident; fresh evidence later does', async () => {
    const r = rig();
    rigs.push(r);
    await r.engine.start();
    const oldFact = { kind: 'crash-backoff' as const, t: r.clock.now(), target, reason: 'BackOff', message: 'Back-off restarting failed container' };
    const withFact = (t: number, fact = oldFact) => ({ ...diagnosis('crash-loop', t), evidence: [{ kind: 'fact' as const, fact }] });
    await r.engine.onDiagnosis({ incidentKey: 'k1', diagnosis: withFact(r.clock.now()) });
    await settle(r);
    assert.equal(r.engine.list()[0].state, 'recovered');
    // the correlator reports the same cause again from the same old facts: ignored, during and after the quiet time
    assert.equal(await r.engine.onDiagnosis({ incidentKey: 'k2', diagnosis: withFact(r.clock.now()) }), undefined);
    await r.clock.advance(4 * 60_000);
    assert.equal(await r.engine.onDiagnosis({ incidentKey: 'k3', diagnosis: withFact(r.clock.now()) }), undefined);
    // a new BackOff after the fix is a new incident
    const fresh = await r.engine.onDiagnosis({ incidentKey: 'k4', diagnosis: withFact(r.clock.now(), { ...oldFact, t: r.clock.now() }) });
    assert.ok(fresh, 'fresh evidence opens a new incident');
    assert.equal(r.engine.list().length, 2);
  });

  it('after a fix, a renamed incident still holds back the cause its steps remedied (bench:heal crash loop seed 2)', async () => {
    const r = rig();
    rigs.push(r);
    await r.engine.start();
    const oldFact = { kind: 'crash-backoff' as const, t: r.clock.now(), target, reason: 'BackOff', message: 'Back-off restarting failed container' };
    const withFact = (t: number, fact = oldFact) => ({ ...diagnosis('crash-loop', t), evidence: [{ kind: 'fact' as const, fact }] });
    await r.engine.onDiagnosis({ incidentKey: 'k1', diagnosis: withFact(r.clock.now()) });
    const acted = () => r.engine.list()[0]?.timeline.some((e) => e.kind === 'acted');
    for (let i = 0; i < 50 && !acted(); i++) await r.clock.advance(100);
    assert.ok(acted(), 'the crash loop\'s step ran');
    // while it is verified, the correlator renames the incident (the restarts' request rate read as a surge)
    await r.engine.onDiagnosis({ incidentKey: 'k1', diagnosis: diagnosis('traffic-surge', r.clock.now()) });
    await settle(r);
    const [closed] = r.engine.list();
    assert.equal(closed.state, 'recovered');
    assert.equal(closed.diagnosis?.kind, 'traffic-surge', 'it closed under the new name');
    assert.equal(diagnosisActedOn(closed), 'crash-loop');
    // past the quiet time, the crash loop's facts from before the fix are all that is left: not a new incident
    await r.clock.advance(4 * 60_000);
    assert.equal(await r.engine.onDiagnosis({ incidentKey: 'k2', diagnosis: withFact(r.clock.now()) }), undefined);
    assert.ok(await r.engine.onDiagnosis({ incidentKey: 'k3', diagnosis: withFact(r.clock.now(), { ...oldFact, t: r.clock.now() }) }), 'a BackOff after the fix is');
  });

  it('a target is its own while the write is on its way, before the write returns (its watch events can arrive first)', async () => {
    const cluster = new FakeCluster();
    const seen: boolean[] = [];
    const r = rig({ cluster });
    rigs.push(r);
    const execute = cluster.execute.bind(cluster);
    cluster.execute = async (action, options) => {
      if (!options.dryRun) seen.push(r.engine.actedOn('service:shop/checkout', 1000));
      return execute(action, options);
    };
    await r.engine.start();
    assert.equal(r.engine.actedOn('service:shop/checkout', 60_000), false);
    await r.engine.onDiagnosis({ incidentKey: 'svc:shop/checkout', diagnosis: diagnosis('memory-leak', r.clock.now()) });
    await settle(r);
    assert.deepEqual(seen, [true], 'the rollout restart counted as Vigil\'s own while it was being written');
    assert.equal(r.engine.actedOn('service:shop/checkout', 60 * 60_000), true);
    assert.equal(r.engine.actedOn('service:shop/cart', 60 * 60_000), false);
  });

  it('a node step is verified by its workloads running elsewhere: a node has no replicas to count', async () => {
    const asked: string[] = [];
    let movedAt = Infinity;
    const r = rig({
      node: 'node-2',
      evidence: (clock) =>
        nodeEvidence((n) => {
          asked.push(`${n.kind}:${n.name}`);
          return clock.now() >= movedAt ? { complete: true, message: 'every workload that ran on node-2 is available elsewhere' } : { complete: false, message: '1 pod(s) still on node-2: shop/checkout-1' };
        }),
    });
    rigs.push(r);
    movedAt = r.clock.now() + 3_000;
    await r.engine.start();
    const node = { kind: 'node' as const, name: 'node-2' };
    await r.engine.onDiagnosis({ incidentKey: 'node:node-2', diagnosis: { kind: 'node-failure', target: node, confidence: 0.8, t: r.clock.now(), summary: 'node-2 NotReady', evidence: [], details: { node: 'node-2' } } });
    await settle(r);
    const [i] = r.engine.list();
    assert.equal(i.state, 'recovered', JSON.stringify(i.timeline.filter((e) => e.kind === 'verified')));
    assert.equal(i.outcome?.recoveredBy, 'cordon-node');
    assert.ok(asked.length > 0 && asked.every((a) => a === 'node:node-2'));
    assert.ok(i.outcome!.t - i.openedAt >= 8_000, 'held for 5 s after the workloads moved');
  });

  it('a cordon on a node whose kubelet is gone and whose pods nothing evicts goes on to the drain at once', async () => {
    let stalled = true;
    const r = rig({
      node: 'node-2',
      evidence: () => nodeEvidence(() => ({ complete: false, message: '2 pod(s) still on node-2: shop/checkout-1, shop/cart-2', ...(stalled ? { stalled: 'node-2 has not renewed its Lease for 16 s and none of its pods is being evicted' } : {}) })),
    });
    rigs.push(r);
    await r.engine.start();
    const node = { kind: 'node' as const, name: 'node-2' };
    await r.engine.onDiagnosis({ incidentKey: 'node:node-2', diagnosis: { kind: 'node-failure', target: node, confidence: 0.8, t: r.clock.now(), summary: 'node-2 stopped renewing its Lease', evidence: [], details: { node: 'node-2' } } });
    await settle(r);
    const [i] = r.engine.list();
    const cordoned = i.timeline.find((e) => e.kind === 'acted');
    assert.equal(cordoned?.kind === 'acted' && cordoned.result.action.kind, 'cordon');
    const verified = i.timeline.find((e) => e.kind === 'verified');
    assert.ok(verified?.kind === 'verified' && verified.verdict.status === 'not-recovered' && /a cordon moves no pod/.test(verified.verdict.summary), JSON.stringify(verified));
    assert.equal(i.state, 'awaiting-approval', 'the drain (high risk) is proposed');
    const proposed = i.timeline.find((e) => e.kind === 'proposed');
    assert.ok(proposed?.kind === 'proposed' && proposed.action.kind === 'drain');
    assert.ok(proposed.t - cordoned!.t < 1_000, `the drain came ${proposed.t - cordoned!.t} ms after the cordon, not after its 10 s wait`);
    assert.equal(r.notifier.approvals.length, 1);
    stalled = false;
  });

  it('a cordon hands on to the drain as soon as the node is known gone: named from its pods\' silence, its Lease overdue 3 s later', async () => {
    let overdueAt = Infinity;
    const r = rig({
      node: 'node-2',
      evidence: (clock) => nodeEvidence(() => ({ complete: false, message: '1 pod(s) still on node-2: shop/checkout-1', ...(clock.now() >= overdueAt ? { stalled: 'node-2 has not renewed its Lease for 11 s and none of its pods is being evicted' } : {}) })),
    });
    rigs.push(r);
    overdueAt = r.clock.now() + 3_000;
    await r.engine.start();
    await r.engine.onDiagnosis({ incidentKey: 'node:node-2', diagnosis: { kind: 'node-failure', target: { kind: 'node', name: 'node-2' }, confidence: 0.8, t: r.clock.now(), summary: 'node-2 stopped answering', evidence: [], details: { node: 'node-2' } } });
    await settle(r);
    const [i] = r.engine.list();
    const cordoned = i.timeline.find((e) => e.kind === 'acted');
    const proposed = i.timeline.find((e) => e.kind === 'proposed');
    assert.ok(cordoned && proposed?.kind === 'proposed' && proposed.action.kind === 'drain', JSON.stringify(i.timeline.map((e) => e.kind)));
    assert.ok(proposed.t - cordoned.t >= 3_000 && proposed.t - cordoned.t <= 4_000, `the drain came ${proposed.t - cordoned.t} ms after the cordon`);
  });

  it('a cordoned node whose kubelet still renews its Lease is not drained: the incident goes to a human', async () => {
    const r = rig({
      node: 'node-2',
      evidence: () => nodeEvidence(() => ({ complete: false, message: '1 pod(s) still on node-2: shop/checkout-1', renewing: 'node-2 is Ready and renewed its Lease 3 s ago' })),
    });
    rigs.push(r);
    await r.engine.start();
    await r.engine.onDiagnosis({ incidentKey: 'node:node-2', diagnosis: { kind: 'node-failure', target: { kind: 'node', name: 'node-2' }, confidence: 0.8, t: r.clock.now(), summary: 'node-2 stopped answering', evidence: [], details: { node: 'node-2' } } });
    await settle(r);
    const [i] = r.engine.list();
    assert.equal(i.state, 'escalated');
    assert.ok(!i.timeline.some((e) => (e.kind === 'proposed' || e.kind === 'acted') && (e.kind === 'proposed' ? e.action : e.result.action).kind === 'drain'), 'no drain proposed or run');
    assert.equal(r.notifier.escalations.length, 1);
    assert.match(r.notifier.escalations[0].reason, /^cordoned node node-2 but did not drain it: node-2 is Ready and renewed its Lease 3 s ago, so its kubelet is up/);
  });

  it('a cordon waits its verification while the node is not known gone (nothing stalled)', async () => {
    const r = rig({
      node: 'node-2',
      evidence: () => nodeEvidence(() => ({ complete: false, message: '1 pod(s) still on node-2: shop/checkout-1' })),
    });
    rigs.push(r);
    await r.engine.start();
    await r.engine.onDiagnosis({ incidentKey: 'node:node-2', diagnosis: { kind: 'node-failure', target: { kind: 'node', name: 'node-2' }, confidence: 0.8, t: r.clock.now(), summary: 'node-2 NotReady', evidence: [], details: { node: 'node-2' } } });
    await settle(r);
    const [i] = r.engine.list();
    const cordoned = i.timeline.find((e) => e.kind === 'acted');
    const proposed = i.timeline.find((e) => e.kind === 'proposed');
    assert.ok(cordoned && proposed?.kind === 'proposed' && proposed.action.kind === 'drain', JSON.stringify(i.timeline.map((e) => e.kind)));
    assert.ok(proposed.t - cordoned.t >= 10_000, `the drain came ${proposed.t - cordoned.t} ms after the cordon`);
  });
});
