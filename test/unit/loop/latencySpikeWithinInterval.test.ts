/**
 * A latency spike injected between two scrapes (bench:heal's latency spike: frontend × 10, detected 2.2–2.3 intervals
 * after the ground truth's first symptoms on 3 seeds). The scrape after the injection holds one to four slow seconds of
 * five; left unflagged, the first whole interval is the first anomaly and the incident (two scrapes) waits for the next:
 * 2 + the slow part's share of an interval, whatever the detector. The sandbox in virtual time feeds the live composition
 * (mode off), injected at several points of the interval, on a weekday and at a weekend night's trough (18 requests a
 * second, the fewest frontend serves); the incident must open within 2 intervals of the first symptoms, as a latency spike.
 */
import assert from 'node:assert/strict';
import { targetKey } from '../../../src/core/model/target';
import { VirtualCluster } from '../../../scripts/bench/virtualCluster';
import { liveLoop, SANDBOX_MONDAY as T0, SCRAPE_MS } from './liveDrill';

const FRONTEND = 'service:shop/frontend';

/** 40 s of watching (as in the bench), then frontend × 10 injected `offsetMs` after a scrape, 4 more scrapes. */
async function spikeDrill(t0: number, offsetMs: number) {
  const vc = new VirtualCluster({ seed: 1, daySeconds: 600, t0, facts: true });
  const { core, correlator, clock } = await liveLoop(vc);
  let requestRate: number | undefined;
  const scrape = async (ms: number) => {
    vc.advance(ms, 250, () => {
      for (const f of vc.drainFacts()) core.pipeline.onFact(f);
    });
    const fs = vc.scrape();
    await clock.advanceTo(vc.t);
    core.pipeline.onFrames(fs);
    requestRate ??= fs.find((f) => targetKey(f.target) === FRONTEND)?.fresh?.request_rate;
  };
  for (let i = 0; i < 8; i++) await scrape(SCRAPE_MS);
  vc.advance(offsetMs, 250);
  vc.inject({ fault: 'latency-spike', target: 'shop/frontend', durationSeconds: 900 });
  await scrape(SCRAPE_MS - offsetMs);
  for (let i = 0; i < 4; i++) await scrape(SCRAPE_MS);
  core.pipeline.dispose();
  const symptomsMs = Date.parse(String(vc.faultRecords()[0].symptomsAt));
  const incident = correlator.opened.find((o) => o.target === FRONTEND);
  return { symptomsMs, incident, requestRate };
}

async function assertOnTime(t0: number, offsetMs: number): Promise<number> {
  const d = await spikeDrill(t0, offsetMs);
  assert.ok(d.incident, 'an incident on frontend');
  assert.equal(d.incident.kind, 'latency-spike', d.incident.summary);
  const intervals = (d.incident.t - d.symptomsMs) / SCRAPE_MS;
  assert.ok(intervals <= 2, `injected ${offsetMs / 1000} s after a scrape: opened ${intervals.toFixed(2)} intervals after the first symptoms (at most 2)`);
  return d.requestRate!;
}

describe('a latency spike that begins between two scrapes', function () {
  this.timeout(60_000);

  // 1, 2 and 4 slow seconds of the five before the next scrape (2.2, 2.4 and 1.4 intervals before; 2.05 at 4.75 s)
  it('on a weekday afternoon, injected just after a scrape: the whole next interval slow, opened on it (it waited for the next: 2 intervals, 2.2 in real time)', async () => {
    const d = await spikeDrill(T0 + 0.5 * 600_000 - 40_000, 250);
    assert.equal(d.incident?.kind, 'latency-spike', d.incident?.summary);
    const intervals = (d.incident!.t - d.symptomsMs) / SCRAPE_MS;
    assert.ok(intervals <= 1, `opened ${intervals.toFixed(2)} intervals after the first symptoms (at most 1)`);
  });

  for (const offsetMs of [4_000, 3_000, 1_000, 4_750]) {
    it(`on a weekday afternoon, injected ${offsetMs / 1000} s after a scrape: opened within 2 intervals`, async () => {
      await assertOnTime(T0 + 0.5 * 600_000 - 40_000, offsetMs);
    });
  }

  for (const offsetMs of [4_000, 3_000]) {
    it(`at a weekend night's trough, injected ${offsetMs / 1000} s after a scrape: opened within 2 intervals`, async () => {
      // sandbox day 3 of this week is a Saturday (traffic × 0.75), phase 0.125 its trough
      const rps = await assertOnTime(T0 + 3.125 * 600_000 - 40_000, offsetMs);
      assert.ok(rps < 20, `the fewest requests frontend serves: ${rps.toFixed(1)}/s`);
    });
  }
});
