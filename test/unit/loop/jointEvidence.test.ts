/**
 * The joint (relationship) model in the live loop, on the sandbox's cpu-hog fault: one checkout pod burns twice the CPU
 * per request at normal traffic, latency and errors. The live composition (createHealingCore, mode off) runs twice on
 * the same frames (the simulation's metrics through the real text parser and ScrapeSignalComputer every 5 s), with and
 * without the relationship model. The model stays quiet on normal traffic and raises the fault on its own evidence
 * within 3 intervals (15 s) of the symptoms (measured: 10 s): it reads CPU and requests over the last interval alone,
 * where the hog shows whole at once, and a CUSUM of its departures needs two frames at twice the reference. The
 * incident opens within 3 intervals and is diagnosed "CPU per request regressed". (The sandbox's traffic is so steady
 * that the CPU baseline's band is ±5 %, so the per-signal baseline sees the service's +33 % CPU too, as early as the
 * model or earlier; the test prints both times rather than claim the model alone finds it.)
 */
import assert from 'node:assert/strict';
import { Correlator } from '../../../src/core/diagnose/correlation';
import type { CorrelationUpdate } from '../../../src/core/diagnose/incidentGrouping';
import { createHealingCore } from '../../../src/core/loop/healingCore';
import { JointEvidence, type JointEvidenceOptions } from '../../../src/core/loop/jointEvidence';
import { VirtualClock } from '../../../src/core/loop/virtualClock';
import type { Anomaly } from '../../../src/core/model/anomaly';
import type { SampleFrame } from '../../../src/core/model/signal';
import { targetKey } from '../../../src/core/model/target';
import { ScrapeSignalComputer } from '../../../src/core/observe/scrapeSignals';
import type { EventsPort, MetricsPort, WorkloadInventory } from '../../../src/core/ports';
import { DEFAULT_SETTINGS, withSettings } from '../../../src/core/settings';
import { buildInventory, type ClusterObjects } from '../../../src/infra/kubernetes/inventory';
import { parseTextFormat } from '../../../src/infra/prometheus/textFormat';
import { FakeCluster } from '../../fakes/fakeCluster';
import { MemoryStore } from '../../fakes/memoryStore';
import { MemoryLogger } from '../../fakes/nullLogger';
import { SimHarness } from '../sandbox/sim/simHarness';

const SCRAPE_MS = 5_000;
const CHECKOUT = 'service:shop/checkout';

class RecordingCorrelator extends Correlator {
  readonly anomalies: Anomaly[] = [];
  readonly opened: Array<{ t: number; target: string; kind: string; summary: string }> = [];
  override observeAnomalies(list: ReadonlyArray<Anomaly>): CorrelationUpdate[] {
    this.anomalies.push(...list);
    const us = super.observeAnomalies(list);
    for (const u of us) if (u.isNew) this.opened.push({ t: u.diagnosis.t, target: targetKey(u.target), kind: u.diagnosis.kind, summary: u.diagnosis.summary });
    return us;
  }
}

async function loop(inventory: () => WorkloadInventory, t0: number, relationships: JointEvidenceOptions | false) {
  const none = { dispose: () => undefined };
  const metrics: MetricsPort = { discoverTargets: async () => [], range: async () => [], subscribe: () => none, onStatus: () => none };
  const events: EventsPort = { inventory, subscribe: () => none, onStatus: () => none, recentLogs: async () => [] };
  const correlator = new RecordingCorrelator();
  const clock = new VirtualClock(t0);
  const logger = new MemoryLogger();
  const core = createHealingCore(
    { clock, logger, store: new MemoryStore(), cluster: new FakeCluster(), metrics, events },
    withSettings(DEFAULT_SETTINGS, { automation: { mode: 'off' }, prometheus: { scrapeIntervalSeconds: 5, rateWindowSeconds: 30 } }),
    { identity: 'test', playbooks: () => [], lease: false, correlator, relationships },
  );
  await core.start();
  return { core, correlator, clock, logger };
}

describe('joint (relationship) model in the live loop', function () {
  this.timeout(120_000);

  it('is quiet on normal traffic, raises the cpu-hog fault on its own evidence within 3 intervals of its symptoms, and the incident is diagnosed', async () => {
    const h = new SimHarness({ seed: 7 });
    const list = (r: 'pods' | 'deployments' | 'replicasets' | 'nodes') => h.store.list(r).items as unknown[];
    const inventory = () => buildInventory({ pods: list('pods'), deployments: list('deployments'), replicaSets: list('replicasets'), nodes: list('nodes') } as unknown as ClusterObjects);
    const scraper = new ScrapeSignalComputer(30_000);
    const withModel = await loop(inventory, h.t, {});
    const baselines = await loop(inventory, h.t, false);
    // the same model on its own, fed checkout's frames, to time its own evidence (the fused reason names the strongest)
    const alone = new JointEvidence(new MemoryLogger());
    const aloneScores: Array<{ t: number; score: number }> = [];
    const step = async () => {
      h.run(SCRAPE_MS, 1000);
      scraper.ingest(h.t, parseTextFormat(h.sim.allMetrics(), 'sandbox').samples);
      const frames: SampleFrame[] = scraper.compute(h.t);
      const checkout = frames.find((f) => targetKey(f.target) === CHECKOUT);
      if (checkout) {
        const e = alone.evidence(checkout);
        alone.settle(checkout, false);
        if (e) aloneScores.push({ t: h.t, score: e.score });
      }
      for (const l of [withModel, baselines]) {
        await l.clock.advanceTo(h.t);
        l.core.pipeline.onFrames(frames);
      }
    };
    // an hour of normal traffic: the baselines leave their warm-up (250 frames), the joint model calibrates (240)
    for (let i = 0; i < 720; i++) await step();
    const joint = withModel.core.pipeline.jointEvidence;
    assert.ok(joint?.isReady(CHECKOUT), 'the joint model speaks after an hour of normal frames');
    assert.match(withModel.logger.lines.map((l) => l.message).join('\n'), /multi-signal model of service:shop\/checkout calibrated on 240 normal frames/);
    const quiet = withModel.correlator.anomalies.filter((a) => a.t > h.t - 1_800_000 && a.reason.startsWith('model:'));
    assert.deepEqual(quiet.map((a) => `${targetKey(a.target)} ${a.reason}`), [], 'no model anomaly in the last normal half hour');

    const r = h.control('POST', '/sandbox/v1/faults', { fault: 'cpu-hog', target: 'shop/checkout', durationSeconds: 300 });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const symptomsMs = Date.parse(String(r.body.symptomsAt));
    const from = { model: withModel.correlator.anomalies.length, base: baselines.correlator.anomalies.length };
    for (let i = 0; i < 60; i++) await step();

    const firstAlone = aloneScores.find((x) => x.t >= symptomsMs && x.score >= 0.9);
    assert.ok(firstAlone && firstAlone.t - symptomsMs <= 3 * SCRAPE_MS, `the model alone reaches its threshold ${firstAlone ? (firstAlone.t - symptomsMs) / 1000 : '-'} s after the symptoms (3 intervals: 15 s)`);
    assert.ok(aloneScores.filter((x) => x.t < symptomsMs).every((x) => x.score < 0.9), 'and never before them');
    const byModel = withModel.correlator.anomalies.slice(from.model).filter((a) => targetKey(a.target) === CHECKOUT && a.isAnomaly && a.reason.startsWith('model:'));
    assert.ok(byModel.length > 0, 'in the loop, the joint model raises the fault on its own evidence');
    assert.ok(byModel[0].t - symptomsMs <= 3 * SCRAPE_MS, `the model names the fault in the loop ${(byModel[0].t - symptomsMs) / 1000} s after the symptoms`);
    assert.match(byModel[0].reason, /^model: signals moved together unlike this service's normal windows .*cpu \d+%/);
    const incident = withModel.correlator.opened.find((o) => o.target === CHECKOUT && o.t >= symptomsMs);
    assert.ok(incident && incident.t - symptomsMs <= 3 * SCRAPE_MS, `an incident on checkout within 3 intervals (${incident ? (incident.t - symptomsMs) / 1000 : '-'} s)`);
    assert.equal(incident.kind, 'cpu-hog', incident.summary);
    assert.match(incident.summary, /^shop\/checkout burns 1\.\d+x the CPU per request it did before .*CPU broke its usual relationship with traffic, with no release to blame/);
    const others = withModel.correlator.anomalies.slice(from.model).filter((a) => targetKey(a.target) !== CHECKOUT && a.isAnomaly && a.reason.startsWith('model:'));
    assert.deepEqual(others.map((a) => `${targetKey(a.target)} ${a.reason}`), [], 'no model anomaly on the services the fault does not touch');
    const byBaselines = baselines.correlator.anomalies.slice(from.base).filter((a) => targetKey(a.target) === CHECKOUT && a.isAnomaly);
    assert.ok(byBaselines.every((a) => !a.reason.startsWith('model:')), 'without the relationship model nothing speaks for the model');
    // on this steady sandbox the CPU band sees the +33 % too (since a new pod's counters count from its start, as
    // early as the model or earlier): the fault is not a relationship break the baselines miss, and the test says
    // so rather than assert an order that depends on which interval the rate window fills
    const firstBaseline = byBaselines[0]?.t;
    console.log(`      model at ${(byModel[0].t - symptomsMs) / 1000} s, per-signal baselines at ${firstBaseline === undefined ? 'never' : `${(firstBaseline - symptomsMs) / 1000} s`} after the symptoms`);
  });
});
