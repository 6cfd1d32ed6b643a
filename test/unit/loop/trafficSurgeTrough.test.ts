/**
 * A traffic surge at the night trough, as bench:heal's surge seeds 2 and 3 met it: cart's requests × 4 while the day's
 * traffic is at its lowest, so its pods run at 90–97% of capacity (ground truth: saturated) but shed nothing until the
 * day climbs a minute and a half later. The agent has watched for 40 s only, as in the bench. The sandbox in virtual
 * time feeds the live composition (mode off); the incident must open within 2 intervals of the ground truth's first
 * symptoms, as a traffic surge, with the rise measured whole (it sizes the scale-out).
 */
import assert from 'node:assert/strict';
import { Correlator } from '../../../src/core/diagnose/correlation';
import type { CorrelationUpdate } from '../../../src/core/diagnose/incidentGrouping';
import { createHealingCore } from '../../../src/core/loop/healingCore';
import { VirtualClock } from '../../../src/core/loop/virtualClock';
import type { ClusterFact } from '../../../src/core/model/fact';
import type { Anomaly } from '../../../src/core/model/anomaly';
import { targetKey } from '../../../src/core/model/target';
import type { EventsPort, MetricsPort } from '../../../src/core/ports';
import { DEFAULT_SETTINGS, withSettings } from '../../../src/core/settings';
import { READ_ONLY_CLUSTER, VirtualCluster } from '../../../scripts/bench/virtualCluster';
import { MemoryStore } from '../../fakes/memoryStore';
import { MemoryLogger } from '../../fakes/nullLogger';

const SCRAPE_MS = 5_000;
/** Midnight of a 600 s sandbox day (phase 0); the trough is at phase 0.125 (75 s later). */
const T0 = Date.parse('2026-03-02T00:00:00Z');
const CART = 'service:shop/cart';

class RecordingCorrelator extends Correlator {
  readonly anomalies: Anomaly[] = [];
  readonly opened: Array<{ t: number; target: string; members: string[]; kind: string; summary: string; loadRatio?: number }> = [];
  private rec(us: CorrelationUpdate[]): CorrelationUpdate[] {
    for (const u of us) if (u.isNew) this.opened.push({ t: u.diagnosis.t, target: targetKey(u.target), members: u.members.map(targetKey), kind: u.diagnosis.kind, summary: u.diagnosis.summary, loadRatio: (u.diagnosis.details as { loadRatio?: number } | undefined)?.loadRatio });
    return us;
  }
  override observeAnomaly(a: Anomaly): CorrelationUpdate[] {
    this.anomalies.push(a);
    return this.rec(super.observeAnomaly(a));
  }
  override observeFact(f: ClusterFact): CorrelationUpdate[] {
    return this.rec(super.observeFact(f));
  }
}

describe('a traffic surge at the night trough (saturated, not yet shedding)', function () {
  this.timeout(60_000);

  it('opens within 2 intervals of the first saturated scrape, as a traffic surge measured whole', async () => {
    // 40 s of watching before the injection at phase 0.06 of the day: 96% of capacity at injection, 90% at the trough
    const vc = new VirtualCluster({ seed: 2, daySeconds: 600, t0: T0 - 4_000, facts: true });
    const none = { dispose: () => undefined };
    const metrics: MetricsPort = { discoverTargets: async () => [], range: async () => [], subscribe: () => none, onStatus: () => none };
    const events: EventsPort = { inventory: () => vc.inventory(), subscribe: () => none, onStatus: () => none, recentLogs: async () => [] };
    const correlator = new RecordingCorrelator();
    const clock = new VirtualClock(vc.t);
    const core = createHealingCore(
      { clock, logger: new MemoryLogger(), store: new MemoryStore(), cluster: READ_ONLY_CLUSTER, metrics, events },
      withSettings(DEFAULT_SETTINGS, { automation: { mode: 'off' }, prometheus: { scrapeIntervalSeconds: 5, rateWindowSeconds: 30 } }),
      { identity: 'test', playbooks: () => [], lease: false, correlator, persistEvery: Number.MAX_SAFE_INTEGER },
    );
    await core.start();
    const frames: Array<{ t: number; err?: number }> = [];
    const scrape = async (tickMs: number) => {
      vc.advance(SCRAPE_MS, tickMs, () => {
        for (const f of vc.drainFacts()) core.pipeline.onFact(f);
      });
      const fs = vc.scrape();
      await clock.advanceTo(vc.t);
      core.pipeline.onFrames(fs);
      const c = fs.find((f) => targetKey(f.target) === CART);
      frames.push({ t: vc.t, err: c?.fresh?.error_ratio });
    };
    for (let i = 0; i < 8; i++) await scrape(1000);
    const injectedAt = vc.t;
    vc.inject({ fault: 'traffic-surge', target: 'shop/cart', durationSeconds: 900 });
    for (let i = 0; i < 24; i++) await scrape(500);
    const record = vc.faultRecords()[0];
    const symptomsMs = Date.parse(String(record.symptomsAt));
    // the fault is what the bench met: saturated at once by ground truth, and not one interval of shedding for a minute
    assert.ok(symptomsMs - injectedAt <= SCRAPE_MS, `ground truth: saturated ${(symptomsMs - injectedAt) / 1000} s after injection`);
    const shedding = frames.filter((f) => f.t > injectedAt && (f.err ?? 0) > 0.05);
    assert.ok(shedding.length === 0 || shedding[0].t - injectedAt >= 60_000, `no shedding for a minute (first at ${shedding.length ? (shedding[0].t - injectedAt) / 1000 : '-'} s)`);
    const incident = correlator.opened.find((o) => o.members.includes(CART));
    assert.ok(incident, 'an incident on cart');
    assert.ok(incident.t - symptomsMs <= 2 * SCRAPE_MS, `opened ${(incident.t - symptomsMs) / 1000} s after the first symptoms (2 intervals: 10 s)`);
    assert.equal(incident.target, CART, 'cart is the cause, not a callee nor a caller');
    assert.equal(incident.kind, 'traffic-surge', incident.summary);
    // × 4 injected; the rise is measured on the last interval against the level before, so the scale-out is sized for it
    assert.ok(incident.loadRatio !== undefined && incident.loadRatio >= 3.2, `load ratio ${incident.loadRatio}`);
    const first = correlator.anomalies.find((a) => targetKey(a.target) === CART && a.isAnomaly);
    assert.match(first!.reason, /request_rate .* its pods saturate: median latency/);
    core.pipeline.dispose();
  });
});
