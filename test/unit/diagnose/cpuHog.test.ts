/**
 * "CPU per request regressed" (cpu-hog): CPU up at unchanged traffic, no errors; at once when the relationship model
 * names cpu, after a minute on the CPU band alone; not when traffic rose with it (a surge); a release that only
 * coincides is named and lowers the confidence (a release that blame judges guilty is bad-release's, with its rollback).
 * On the model's first word alone it opens only when the rise is beyond the service's own noise of CPU per request at the
 * requests counted (standard errors at each interval's request count), as sure as a fact; else it waits for a second.
 */
import assert from 'node:assert/strict';
import { Correlator } from '../../../src/core/diagnose/correlation';
import type { CorrelationUpdate } from '../../../src/core/diagnose/incidentGrouping';
import type { Anomaly } from '../../../src/core/model/anomaly';
import type { TargetRef } from '../../../src/core/model/target';
import { STEP, Scenario, T, healthy, shopInventory, svc } from '../../fixtures/correlation/scenario';

const BEFORE = T - 10 * 60_000;
const checkout = svc('shop', 'checkout');

function cpuBand(target: TargetRef, t: number, observed: number): Anomaly {
  return { target, t, detector: 'fusion', score: 1, isAnomaly: true, severity: 'warning', contributions: [{ signal: 'cpu', share: 1, observed, band: { lower: 0.36, expected: 0.4, upper: 0.44 } }], reason: `cpu ${observed} cores above its seasonal band` };
}

function relationship(target: TargetRef, t: number, observed: number): Anomaly {
  return { ...cpuBand(target, t, observed), detector: 'model', contributions: [{ signal: 'cpu', share: 0.9, observed }, { signal: 'request_rate', share: 0.1, observed: 100 }], reason: 'model: signals moved together unlike this service\'s normal windows (score 1.00): cpu 90%' };
}

const opened = (updates: ReadonlyArray<CorrelationUpdate>) => updates.filter((u) => u.isNew);

/** CPU 0.4 → 0.6 cores at `rate(t)` req/s (100 before T). */
function scenario(rate: (t: number) => number, until: number): Scenario {
  const s = new Scenario();
  s.inventory = shopInventory();
  s.series(checkout, BEFORE, until, (t) => ({ ...healthy(), request_rate: rate(t), cpu: t >= T ? 0.6 * (rate(t) / 100) : 0.4 }), false, (t) => ({ request_rate: rate(t), cpu: t >= T ? 0.6 * (rate(t) / 100) : 0.4 }));
  return s;
}

describe('diagnosis: CPU per request regressed (cpu-hog)', () => {
  it('opens at once, named, when the relationship model speaks for cpu', () => {
    const s = scenario(() => 100, T + 2 * STEP);
    s.anomaly(relationship(checkout, T, 0.6));
    s.anomaly(relationship(checkout, T + STEP, 0.6));
    const first = opened(s.run(new Correlator()))[0];
    assert.equal(first?.diagnosis.kind, 'cpu-hog', first?.diagnosis.summary);
    assert.match(first.diagnosis.summary, /^shop\/checkout burns 1\.5x the CPU per request it did before \(0\.4 cores → 0\.6 cores at 100 req\/s → 100 req\/s\): CPU broke its usual relationship with traffic, with no release to blame\.$/);
  });

  it('on the CPU band alone, only once the rise has lasted a minute', () => {
    const s = scenario(() => 100, T + 16 * STEP);
    for (let k = 0; k <= 14; k++) s.anomaly(cpuBand(checkout, T + k * STEP, 0.6));
    const updates = s.run(new Correlator());
    const early = updates.filter((u) => u.diagnosis.t < T + 60_000);
    assert.ok(early.every((u) => u.diagnosis.kind !== 'cpu-hog'), early.map((u) => u.diagnosis.kind).join());
    const late = updates.filter((u) => u.diagnosis.t >= T + 60_000).at(-1);
    assert.equal(late?.diagnosis.kind, 'cpu-hog', late?.diagnosis.summary);
  });

  it('is no regression when traffic rose with the CPU (the same CPU per request)', () => {
    const s = scenario((t) => (t >= T ? 150 : 100), T + 2 * STEP);
    s.anomaly(relationship(checkout, T, 0.9));
    s.anomaly(relationship(checkout, T + STEP, 0.9));
    for (const u of s.run(new Correlator())) assert.notEqual(u.diagnosis.kind, 'cpu-hog', u.diagnosis.summary);
  });

  it('with a release that only coincides (blame does not judge it guilty: no errors nor latency), names it and ranks lower', () => {
    const run = (release: boolean) => {
      const s = scenario(() => 100, T + 2 * STEP);
      if (release) s.fact('revision-changed', checkout, T - 30_000, 'deployment shop/checkout revision 4 → 5', { attributes: { revision: 5, previousRevision: 4, image: 'shop/checkout:1.5.0' } });
      s.anomaly(relationship(checkout, T, 0.6));
      s.anomaly(relationship(checkout, T + STEP, 0.6));
      return opened(s.run(new Correlator()))[0];
    };
    const plain = run(false);
    const withRelease = run(true);
    assert.equal(withRelease?.diagnosis.kind, 'cpu-hog', withRelease?.diagnosis.summary);
    assert.match(withRelease.diagnosis.summary, /though a new revision also rolled out\.$/);
    assert.ok(withRelease.diagnosis.confidence < plain.diagnosis.confidence, `${withRelease.diagnosis.confidence} vs ${plain.diagnosis.confidence}`);
    assert.ok(withRelease.diagnosis.alternatives?.some((a) => a.kind === 'bad-release'), JSON.stringify(withRelease.diagnosis.alternatives));
  });

  describe("on the model's first word, at once only when the rise is beyond the noise of the requests counted", () => {
    /** Standard normal quantiles at 10, 25, 50, 75, 90 %: readings before the onset spread by `relNoise(rate)` σ. */
    const Q = [-1.2816, -0.6745, 0, 0.6745, 1.2816];
    /** CPU per request 4 m cores before T with that noise on each interval's reading, 1.3 × after; `rate(t)` req/s. */
    function noisy(rate: (t: number) => number, relNoise: (rate: number) => number, words = 1): Scenario {
      const s = new Scenario();
      s.inventory = shopInventory();
      const perRequest = (t: number) => (t >= T ? 0.0052 : 0.004 * (1 + relNoise(rate(t)) * Q[Math.round((t - BEFORE) / STEP) % Q.length]));
      s.series(checkout, BEFORE, T + STEP, (t) => ({ ...healthy(), request_rate: rate(t), cpu: (t >= T ? 0.0052 : 0.004) * rate(t) }), false, (t) => ({ request_rate: rate(t), cpu: perRequest(t) * rate(t) }));
      for (let k = 0; k < words; k++) s.anomaly(relationship(checkout, T + k * STEP, 0.6));
      return s;
    }
    const openedAtT = (s: Scenario) => opened(s.run(new Correlator())).filter((u) => u.diagnosis.t === T);

    it('a third more CPU per request where it held to ±3 % opens on the first word, named', () => {
      const first = openedAtT(noisy(() => 100, () => 0.03))[0];
      assert.equal(first?.diagnosis.kind, 'cpu-hog', first?.diagnosis.summary);
    });

    it("the same rise where it wandered by ±15 % waits for the model's next frame", () => {
      assert.deepEqual(openedAtT(noisy(() => 100, () => 0.15)).map((u) => u.diagnosis.kind), []);
      const next = opened(noisy(() => 100, () => 0.15, 2).run(new Correlator()))[0];
      assert.equal(next?.diagnosis.kind, 'cpu-hog', 'opened on the second word');
      assert.equal(next.diagnosis.t, T + STEP);
    });

    it("the noise per request is the service's own: the same rise is sure at 30 req/s, not at 20 (noise ∝ 1/√requests)", () => {
      // before the onset, 30 and 20 req/s in turn, CPU per request spread by 0.5/√rate (9 % and 11 %)
      const at = (after: number) => openedAtT(noisy((t) => (t >= T ? after : Math.round((t - BEFORE) / STEP) % 2 ? 30 : 20), (r) => 0.5 / Math.sqrt(r)));
      assert.equal(at(30)[0]?.diagnosis.kind, 'cpu-hog', 'at 30 req/s: 3.3 standard errors');
      assert.deepEqual(at(20).map((u) => u.diagnosis.kind), [], 'at 20 req/s: 2.7 standard errors');
    });
  });
});

