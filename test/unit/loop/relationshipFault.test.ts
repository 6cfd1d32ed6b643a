/**
 * A fault only the relationship model sees: the sandbox's cpu-hog on payments-api (one of its 2 pods burns twice the
 * CPU per request) started while the day's traffic eases, as bench:diagnose runs it (seed 37, 600 s days, an hour
 * after start). The service's CPU per request rises by about a third, but its requests fall as fast as the evening
 * comes, so its total CPU, requests, latency and errors each stay inside their own bands: the per-signal baselines
 * raise nothing for two minutes. The relationship model (CPU against requests) raises it within 3 intervals of the
 * symptoms, and the incident opens then, diagnosed "CPU per request regressed". The same frames feed two live
 * compositions (mode off), with and without the model.
 */
import assert from 'node:assert/strict';
import type { Anomaly } from '../../../src/core/model/anomaly';
import { targetKey } from '../../../src/core/model/target';
import { VirtualCluster } from '../../../scripts/bench/virtualCluster';
import { liveLoop, SANDBOX_MONDAY as T0, SCRAPE_MS } from './liveDrill';

const PAYMENTS = 'service:payments/payments-api';

describe('a relationship fault the per-signal baselines do not see', function () {
  this.timeout(180_000);

  it('cpu-hog while traffic eases: no baseline raises it, the relationship model does within 3 intervals, diagnosed', async () => {
    const vc = new VirtualCluster({ seed: 37, daySeconds: 600, t0: T0, facts: true });
    const withModel = await liveLoop(vc, {});
    const baselines = await liveLoop(vc, false);
    const scrape = async (tickMs: number) => {
      vc.advance(SCRAPE_MS, tickMs, () => {
        for (const f of vc.drainFacts()) for (const l of [withModel, baselines]) l.core.pipeline.onFact(f);
      });
      const frames = vc.scrape();
      for (const l of [withModel, baselines]) {
        await l.clock.advanceTo(vc.t);
        l.core.pipeline.onFrames(frames);
      }
      return frames;
    };
    // an hour: the baselines leave their warm-up and learn the season, the relationship model calibrates
    for (let i = 0; i < 720; i++) await scrape(SCRAPE_MS);
    assert.ok(withModel.core.pipeline.jointEvidence?.isReady(PAYMENTS), 'the relationship model speaks after an hour');
    const record = vc.inject({ fault: 'cpu-hog', target: 'payments/payments-api', durationSeconds: 900 });
    const symptomsMs = Date.parse(String(record.symptomsAt));
    const perRequest: number[] = [];
    const requests: number[] = [];
    for (let i = 0; i < 24; i++) {
      const frames = await scrape(500);
      const p = frames.find((f) => targetKey(f.target) === PAYMENTS);
      if (p?.values.cpu !== undefined && p.values.request_rate) {
        perRequest.push(p.values.cpu / p.values.request_rate);
        requests.push(p.values.request_rate);
      }
    }
    // the fault is what it claims: CPU per request up by a fifth or more while requests fall
    assert.ok(perRequest.at(-1)! > 1.2 * perRequest[0], `CPU per request ${perRequest[0].toFixed(4)} → ${perRequest.at(-1)!.toFixed(4)}`);
    assert.ok(requests.at(-1)! < requests[0], `requests ${requests[0].toFixed(2)} → ${requests.at(-1)!.toFixed(2)} req/s`);

    const after = (a: Anomaly) => a.t >= symptomsMs && targetKey(a.target) === PAYMENTS && a.isAnomaly;
    const byBaselines = baselines.correlator.anomalies.filter(after);
    assert.deepEqual(byBaselines.map((a) => `${(a.t - symptomsMs) / 1000} s ${a.reason}`), [], 'the per-signal baselines and rules raise nothing on payments-api for 2 minutes');
    assert.deepEqual(baselines.correlator.opened.filter((o) => o.t >= symptomsMs), [], 'and open no incident');

    const byModel = withModel.correlator.anomalies.filter((a) => after(a) && a.reason.startsWith('model:'));
    assert.ok(byModel.length > 0 && byModel[0].t - symptomsMs <= 3 * SCRAPE_MS, `the relationship model raises it ${byModel.length ? (byModel[0].t - symptomsMs) / 1000 : '-'} s after the symptoms (3 intervals: 15 s)`);
    assert.match(byModel[0].reason, /cpu \d+%/);
    const incident = withModel.correlator.opened.find((o) => o.target === PAYMENTS && o.t >= symptomsMs);
    assert.ok(incident && incident.t - symptomsMs <= 3 * SCRAPE_MS, `an incident on payments-api within 3 intervals (${incident ? (incident.t - symptomsMs) / 1000 : '-'} s)`);
    assert.equal(incident.kind, 'cpu-hog', incident.summary);
    assert.match(incident.summary, /CPU broke its usual relationship with traffic/);
    withModel.core.pipeline.dispose();
    baselines.core.pipeline.dispose();
  });
});
