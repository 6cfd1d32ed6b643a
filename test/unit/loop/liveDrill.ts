/**
 * The rig of the loop's drills: the live composition (mode off) over the sandbox in virtual time, with a correlator
 * that keeps what it saw and opened; and the replay of a recorded fault run through the relationship model.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Correlator } from '../../../src/core/diagnose/correlation';
import type { CorrelationUpdate } from '../../../src/core/diagnose/incidentGrouping';
import { createHealingCore } from '../../../src/core/loop/healingCore';
import { JointEvidence, type JointEvidenceOptions } from '../../../src/core/loop/jointEvidence';
import { VirtualClock } from '../../../src/core/loop/virtualClock';
import type { Anomaly } from '../../../src/core/model/anomaly';
import type { ClusterFact } from '../../../src/core/model/fact';
import type { SampleFrame } from '../../../src/core/model/signal';
import { targetKey } from '../../../src/core/model/target';
import type { EventsPort, MetricsPort } from '../../../src/core/ports';
import { DEFAULT_SETTINGS, withSettings } from '../../../src/core/settings';
import { READ_ONLY_CLUSTER, type VirtualCluster } from '../../../scripts/bench/virtualCluster';
import { MemoryStore } from '../../fakes/memoryStore';
import { MemoryLogger } from '../../fakes/nullLogger';

export const SCRAPE_MS = 5_000;
/** Midnight of a 600 s sandbox day, a Monday of the sandbox's week. */
export const SANDBOX_MONDAY = Date.parse('2026-03-02T00:00:00Z');

export interface OpenedIncident {
  readonly t: number;
  readonly target: string;
  readonly members: string[];
  readonly kind: string;
  readonly summary: string;
  readonly loadRatio?: number;
}

/** A Correlator that keeps every anomaly it was given and every incident it opened. */
export class RecordingCorrelator extends Correlator {
  readonly anomalies: Anomaly[] = [];
  readonly opened: OpenedIncident[] = [];
  private rec(us: CorrelationUpdate[]): CorrelationUpdate[] {
    for (const u of us) {
      if (!u.isNew) continue;
      const loadRatio = (u.diagnosis.details as { loadRatio?: number } | undefined)?.loadRatio;
      this.opened.push({ t: u.diagnosis.t, target: targetKey(u.target), members: u.members.map(targetKey), kind: u.diagnosis.kind, summary: u.diagnosis.summary, loadRatio });
    }
    return us;
  }
  override observeAnomalies(list: ReadonlyArray<Anomaly>): CorrelationUpdate[] {
    this.anomalies.push(...list);
    return this.rec(super.observeAnomalies(list));
  }
  override observeFrames(frames: ReadonlyArray<SampleFrame>): CorrelationUpdate[] {
    return this.rec(super.observeFrames(frames));
  }
  override observeFact(f: ClusterFact): CorrelationUpdate[] {
    return this.rec(super.observeFact(f));
  }
}

/** The live composition in mode off on a VirtualCluster's inventory, 5 s scrapes, a 30 s rate window; frames and facts are fed by the drill. */
export async function liveLoop(vc: Pick<VirtualCluster, 't' | 'inventory'>, relationships?: JointEvidenceOptions | false) {
  const none = { dispose: () => undefined };
  const metrics: MetricsPort = { discoverTargets: async () => [], range: async () => [], subscribe: () => none, onStatus: () => none };
  const events: EventsPort = { inventory: () => vc.inventory(), subscribe: () => none, onStatus: () => none, recentLogs: async () => [] };
  const correlator = new RecordingCorrelator();
  const clock = new VirtualClock(vc.t);
  const core = createHealingCore(
    { clock, logger: new MemoryLogger(), store: new MemoryStore(), cluster: READ_ONLY_CLUSTER, metrics, events },
    withSettings(DEFAULT_SETTINGS, { automation: { mode: 'off' }, prometheus: { scrapeIntervalSeconds: 5, rateWindowSeconds: 30 } }),
    { identity: 'test', playbooks: () => [], lease: false, correlator, relationships, persistEvery: Number.MAX_SAFE_INTEGER },
  );
  await core.start();
  return { core, correlator, clock };
}

/** A fault run recorded with VIGIL_BENCH_RECORD (test/fixtures/relationship/*.json.gz: the service's frames, each with `normal`). */
function recorded(fixture: string): Array<SampleFrame & { normal: boolean }> {
  return JSON.parse(gunzipSync(readFileSync(path.join(__dirname, '../../fixtures/relationship', fixture))).toString('utf8')) as Array<SampleFrame & { normal: boolean }>;
}

/**
 * A recorded fault run replayed through the relationship model: the frames, the model, and the times of the frames its
 * evidence reached the threshold (score ≥ 0.9). Each frame is learned from as the live loop let the model learn.
 */
export function replayRecorded(fixture: string) {
  const frames = recorded(fixture);
  const joint = new JointEvidence(new MemoryLogger());
  const raised: number[] = [];
  for (const f of frames) {
    const e = joint.evidence(f);
    joint.settle(f, !f.normal);
    if (e && e.score >= 0.9) raised.push(f.t);
  }
  return { frames, joint, raised };
}

/**
 * A recorded fault run replayed through the whole live composition (mode off, relationship model on), scrape by
 * scrape on the virtual clock: detectors, rules, the model and the correlator decide what opens, as in bench:diagnose.
 * `vc` (the recorded sandbox's seed) gives the inventory only: taken once its pods are up, as the agent would list it
 * (a sandbox at its first second has no pod ready, and every service would read as down).
 */
export async function replayThroughLoop(fixture: string, vc: VirtualCluster) {
  const frames = recorded(fixture);
  vc.advance(120_000, SCRAPE_MS, () => vc.drainFacts());
  const inventory = vc.inventory();
  const loop = await liveLoop({ t: frames[0].t - SCRAPE_MS, inventory: () => inventory }, {});
  for (const f of frames) {
    await loop.clock.advanceTo(f.t);
    loop.core.pipeline.onFrames([f]);
  }
  return { frames, ...loop };
}
