import assert from 'node:assert/strict';
import { BUILTIN_PLAYBOOKS_SOURCE, BUILTIN_PLAYBOOKS_YAML } from '../../../src/core/decide/builtinPlaybooks';
import { parsePlaybooks } from '../../../src/core/decide/playbookLoader';
import { formatReplay, replayIncident } from '../../../src/core/learn/replay';
import { createHealingCore } from '../../../src/core/loop/healingCore';
import { RECORDING_BOUNDS } from '../../../src/core/loop/incidentRecorder';
import { MemoryStore } from '../../../src/core/loop/memoryStore';
import { VirtualClock } from '../../../src/core/loop/virtualClock';
import type { ClusterFact } from '../../../src/core/model/fact';
import type { Incident } from '../../../src/core/model/incident';
import type { SampleFrame } from '../../../src/core/model/signal';
import type { Disposable, EventsPort, LoggerPort, MetricsPort, WorkloadInventory } from '../../../src/core/ports';
import { DEFAULT_SETTINGS, withSettings } from '../../../src/core/settings';
import { FakeCluster } from '../../fakes/fakeCluster';

const playbooks = parsePlaybooks(BUILTIN_PLAYBOOKS_YAML, BUILTIN_PLAYBOOKS_SOURCE).playbooks;
const target = { kind: 'service' as const, namespace: 'shop', name: 'checkout' };
const T0 = Date.UTC(2026, 10, 23, 10, 0, 0);
const STEP = 5000;
const silent: LoggerPort = { log: () => undefined, child: () => silent };
const none: Disposable = { dispose: () => undefined };
const settings = withSettings(DEFAULT_SETTINGS, { automation: { mode: 'auto' }, prometheus: { scrapeIntervalSeconds: 5, rateWindowSeconds: 30 }, model: { enabled: false } });

/**
 * The live core on a virtual clock and a fake cluster: 12 minutes of normal traffic, then revision 5 of
 * shop/checkout with 12 % errors until Vigil rolls it back. Returns the incident as the store keeps it.
 */
async function liveBadRelease(opts: { frontendReleaseAt?: number } = {}): Promise<Incident> {
  let seed = 42;
  const noise = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31 - 0.5;
  };
  const clock = new VirtualClock(T0);
  const store = new MemoryStore();
  const cluster = new FakeCluster();
  let revision = 4;
  let frontendRevision = 2;
  const frontend = { kind: 'service' as const, namespace: 'shop', name: 'frontend' };
  let onFrames: (f: ReadonlyArray<SampleFrame>) => void = () => undefined;
  let onFact: (f: ClusterFact) => void = () => undefined;
  const inventory = (): WorkloadInventory => ({
    services: [
      { target, revision, image: `shop/checkout:1.${revision}.0`, replicas: 3, availableReplicas: 3, rolloutInProgress: false, labels: { app: 'checkout' }, pods: [0, 1, 2].map((k) => ({ name: `checkout-${revision}-${k}`, node: `node-${k + 1}`, ready: true, restarts: 0, phase: 'Running' })) },
      ...(opts.frontendReleaseAt === undefined
        ? []
        : [{ target: frontend, revision: frontendRevision, image: `shop/frontend:2.${frontendRevision}.0`, replicas: 3, availableReplicas: 3, rolloutInProgress: false, labels: { app: 'frontend' }, annotations: { 'vigil.dev/depends-on': 'shop/checkout' }, pods: [0, 1, 2].map((k) => ({ name: `frontend-${frontendRevision}-${k}`, node: `node-${k + 1}`, ready: true, restarts: 0, phase: 'Running' })) }]),
    ],
    nodes: [1, 2, 3].map((k) => ({ name: `node-${k}`, ready: true, unschedulable: false, pods: 4 })),
  });
  const metrics: MetricsPort = { discoverTargets: async () => [], range: async () => [], subscribe: (cb) => ((onFrames = cb), none), onStatus: () => none };
  const events: EventsPort = { inventory, subscribe: (cb) => ((onFact = cb), none), onStatus: () => none, recentLogs: async () => [] };
  const core = createHealingCore({ clock, logger: silent, store, cluster, metrics, events }, settings, { identity: 'vigil-test', playbooks: () => playbooks, lease: false });
  await core.start();
  const releaseAt = T0 + 150 * STEP;
  let healedAt: number | undefined;
  let frontendHealedAt: number | undefined;
  const frontendReleaseAt = opts.frontendReleaseAt === undefined ? undefined : T0 + opts.frontendReleaseAt * STEP;
  for (let k = 0; k < 260; k++) {
    const t = T0 + k * STEP;
    await clock.advanceTo(t + 700); // a scrape lands a little after its interval
    if (t === releaseAt) {
      revision = 5;
      onFact({ kind: 'revision-changed', t: clock.now(), target, message: 'shop/checkout moved from revision 4 to 5', attributes: { from: 4, to: 5, revision: 5, previousRevision: 4, image: 'shop/checkout:1.5.0' } });
      onFact({ kind: 'rollout-started', t: clock.now(), target, message: 'Rollout of shop/checkout started', attributes: { revision: 5, image: 'shop/checkout:1.5.0' } });
    }
    if (t === frontendReleaseAt) {
      frontendRevision = 3;
      onFact({ kind: 'revision-changed', t: clock.now(), target: frontend, message: 'shop/frontend moved from revision 2 to 3', attributes: { from: 2, to: 3, revision: 3, previousRevision: 2, image: 'shop/frontend:2.3.0' } });
      onFact({ kind: 'rollout-started', t: clock.now(), target: frontend, message: 'Rollout of shop/frontend started', attributes: { revision: 3, image: 'shop/frontend:2.3.0' } });
    }
    if (frontendHealedAt === undefined && cluster.applied.some((a) => a.startsWith('rollout undo deployment shop/frontend'))) frontendHealedAt = t + 2 * STEP;
    if (healedAt === undefined && cluster.applied.some((a) => a.startsWith('rollout undo deployment shop/checkout'))) healedAt = t + 2 * STEP;
    const bad = t >= releaseAt + 2 * STEP && (healedAt === undefined || t < healedAt);
    const frames: SampleFrame[] = [{ target, t, values: { request_rate: 50 + 5 * noise(), error_ratio: bad ? 0.12 + 0.01 * noise() : 0.004 + 0.002 * noise(), latency_p99: 0.25 + 0.02 * noise(), cpu: 0.4 + 0.02 * noise(), memory: 2.6e8 + 1e6 * noise(), available_replicas: 3 } }];
    if (frontendReleaseAt !== undefined) {
      const frontendBad = t >= frontendReleaseAt + 2 * STEP && (frontendHealedAt === undefined || t < frontendHealedAt);
      frames.push({ target: frontend, t, values: { request_rate: 80 + 5 * noise(), error_ratio: frontendBad ? 0.15 + 0.01 * noise() : 0.004 + 0.002 * noise(), latency_p99: 0.3 + 0.02 * noise(), cpu: 0.5 + 0.02 * noise(), memory: 3e8 + 1e6 * noise(), available_replicas: 3 } });
    }
    onFrames(frames);
  }
  await clock.advance(30_000);
  const incident = (await store.listIncidents()).find((i) => i.target.name === 'checkout');
  await core.dispose();
  assert.ok(incident, 'the live core opened an incident on shop/checkout');
  // as the file store keeps it
  return JSON.parse(JSON.stringify(incident)) as Incident;
}

describe('replay: the live core on a virtual clock with recorded-data ports', () => {
  let live: Incident;
  before(async function () {
    this.timeout(60_000);
    live = await liveBadRelease();
  });

  it('records the detector, learner and recovery state, every frame and fact of the members, and each cluster call', () => {
    assert.equal(live.state, 'recovered', JSON.stringify(live.timeline.map((e) => e.kind)));
    const rec = live.recording;
    assert.ok(rec.start, 'a start state');
    assert.ok(rec.start.detectors['service:shop/checkout'], 'the member’s detector state');
    assert.ok(rec.start.t < live.openedAt - 40 * STEP, 'the start lies before the first symptom');
    assert.ok(rec.frames.length <= RECORDING_BOUNDS.MAX_FRAMES_PER_TARGET);
    assert.ok(rec.frames.at(-1)!.t >= live.outcome!.t - 2 * STEP, 'frames until the incident closed');
    assert.equal(rec.frameArrivals?.length, rec.frames.length);
    assert.ok(rec.facts.some((f) => f.kind === 'revision-changed'));
    assert.ok(rec.writes?.some((w) => !w.dryRun && w.result?.action.kind === 'rollback'), 'the write and its result');
    assert.ok(rec.inventory?.length, 'the inventory');
    assert.equal(rec.start.settings.automation.mode, 'auto');
    assert.ok(rec.start.playbooks.some((p) => p.name === 'bad-release'));
  });

  it('with unchanged configuration, reproduces the live decisions: detection frame, diagnosis, steps in order', async () => {
    const r = await replayIncident(live);
    assert.equal(r.recorded.diagnosis, 'bad-release');
    assert.deepEqual(r.replayed.steps, r.recorded.steps);
    assert.deepEqual(r.recorded.steps, ['roll-back ran (rollback)']);
    assert.equal(r.replayed.firstDetection, r.recorded.firstDetection, r.comparison.join('; '));
    assert.equal(r.replayed.outcome, 'recovered');
    assert.ok(r.equivalent?.all, r.comparison.join('; '));
    assert.ok(r.comparison.includes('same diagnosis (bad release)'), r.comparison.join('; '));
    assert.deepEqual(r.notes, []);
  });

  it('gives a byte-identical timeline on two runs', async () => {
    const a = formatReplay(await replayIncident(live), T0);
    const b = formatReplay(await replayIncident(live), T0);
    assert.equal(a, b);
    assert.ok(a.length > 200);
  });

  it('a what-if with today’s playbooks (no bad-release playbook) reports a different action', async () => {
    const r = await replayIncident(live, { playbooks: playbooks.filter((p) => p.name !== 'bad-release'), settings });
    assert.ok(r.comparison.some((c) => /different first action/.test(c)), r.comparison.join('; '));
    assert.equal(r.equivalent?.steps, false);
  });

  it('a what-if in suggest mode proposes the step instead of running it; a write not recorded is only a dry run', async () => {
    const r = await replayIncident(live, { settings: withSettings(settings, { automation: { mode: 'suggest' } }) });
    assert.deepEqual(r.replayed.steps, ['roll-back proposed (rollback)']);
  });

  it('the lead-in only detects: an incident the live core handled before the opening is not handled again (its writes are not in this recording)', async function () {
    this.timeout(60_000);
    // shop/frontend (a caller of shop/checkout, so in its recording) has a bad release 50 intervals earlier, which the live core rolled back
    const twice = await liveBadRelease({ frontendReleaseAt: 100 });
    assert.ok(twice.recording.start!.engine.history.some((h) => h.targetKey === 'service:shop/frontend'), 'the frontend rollback is in the history at the opening');
    assert.ok(twice.recording.frames.some((f) => f.target.name === 'frontend' && f.t < twice.recording.start!.engine.history[0].t), 'and the frontend frames before it in the lead-in');
    const r = await replayIncident(twice);
    assert.deepEqual(r.replayed.steps, ['roll-back ran (rollback)']);
    assert.ok(r.equivalent?.all, r.comparison.join('; '));
    assert.deepEqual(r.notes, [], 'no write of another incident answered as a dry run');
    // the frontend's symptoms open an incident again, but no step is chosen on it and it is not escalated
    assert.ok(r.others?.some((o) => o.target === 'service:shop/frontend'), JSON.stringify(r.others));
    for (const o of r.others ?? []) {
      assert.deepEqual(o.steps, [], JSON.stringify(o));
      assert.ok(o.outcome === 'diagnosed' || o.outcome === 'resolved-without-action', JSON.stringify(o));
    }
  });

  it('an incident open at the opening is recorded with its key; in replay its key’s updates go to it, it is not opened again', async function () {
    this.timeout(60_000);
    // shop/frontend's bad release is rolled back and still being verified when shop/checkout's opens
    const during = await liveBadRelease({ frontendReleaseAt: 148 });
    const open = during.recording.start!.openIncidents ?? [];
    assert.deepEqual(open.map((i) => [i.target.name, i.state]), [['frontend', 'verifying']]);
    assert.ok(open[0].correlationKey?.startsWith('service:shop/frontend@'));
    assert.ok(open[0].timeline.some((e) => e.kind === 'acted'), 'with its step');
    assert.ok((await replayIncident(during)).equivalent?.all);
    // the caller's incident from the lead-in test, opened again in replay, is taken by the same incident open at the opening
    const before = await liveBadRelease({ frontendReleaseAt: 100 });
    const again = (await replayIncident(before)).others?.find((o) => o.target === 'service:shop/frontend');
    assert.ok(again?.firstDetection !== undefined);
    const start = before.recording.start!;
    const frontendPast = start.pastIncidents.find((i) => i.target.name === 'frontend')!;
    const seeded: Incident = { ...before, recording: { ...before.recording, start: { ...start, pastIncidents: start.pastIncidents.filter((i) => i !== frontendPast), openIncidents: [{ ...frontendPast, state: 'verifying', outcome: undefined, correlationKey: `service:shop/frontend@${new Date(again.firstDetection).toISOString()}` }] } } };
    const r = await replayIncident(seeded);
    assert.ok(r.equivalent?.all, r.comparison.join('; '));
    assert.deepEqual(r.others, [], 'the frontend updates went to the incident open at the opening');
  });

  it('an incident recorded before replay state existed still replays (detectors start cold) and says so', async () => {
    const old: Incident = { ...live, recording: { frames: live.recording.frames, facts: live.recording.facts, logs: [] } };
    const r = await replayIncident(old, { playbooks, settings });
    assert.ok(r.notes?.some((n) => /detectors start cold/.test(n)));
    assert.ok(r.comparison.length >= 3);
  });
});
