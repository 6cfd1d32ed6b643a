import assert from 'node:assert/strict';
import { parseDetectorState } from '../../../src/core/detect/detectorState';
import { detectPeriod } from '../../../src/core/detect/periodDetection';
import { SeasonalBaseline } from '../../../src/core/detect/seasonalBaseline';
import { StreamingDetector, stepFrame, toAnomaly } from '../../../src/core/detect/streamingDetector';

/** Deterministic pseudo-random numbers (mulberry32), so tests do not depend on Math.random. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function seasonal(n: number, period: number, seed = 1): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => 100 + 30 * Math.sin((2 * Math.PI * i) / period) + 3 * (r() - 0.5));
}

describe('period detection', () => {
  it('finds a compressed sandbox day, a real day and no period in noise', () => {
    assert.equal(detectPeriod(seasonal(512, 8)), 8);
    const day = detectPeriod(seasonal(1024, 288));
    assert.ok(Math.abs(day - 288) <= 3, `period ${day}`);
    const r = rng(7);
    assert.equal(detectPeriod(Array.from({ length: 1024 }, () => r())), 0);
  });

  it('ignores a linear trend', () => {
    const r = rng(3);
    assert.equal(detectPeriod(Array.from({ length: 1024 }, (_, i) => i * 0.5 + r())), 0);
  });
});

describe('seasonal baseline', () => {
  it('learns the period from data and puts the next sample inside its band', () => {
    const b = new SeasonalBaseline();
    const xs = seasonal(3000, 40);
    for (const x of xs) b.step(x);
    assert.equal(b.period, 40);
    const band = b.nextBand();
    const next = 100 + 30 * Math.sin((2 * Math.PI * 3000) / 40);
    assert.ok(band.lower < next && next < band.upper, `${JSON.stringify(band)} vs ${next}`);
    // The band follows the season: it is tighter than the whole swing of the signal.
    assert.ok(band.upper - band.lower < 40, `band width ${band.upper - band.lower}`);
  });
});

describe('streaming detector', () => {
  function stream(): Array<Record<string, number>> {
    const a = seasonal(3000, 50, 11);
    const b = seasonal(3000, 50, 12);
    return a.map((x, i) => ({ cpu: i >= 2500 && i < 2520 ? x + 200 : x, memory: b[i] }));
  }

  it('gives a seasonal expectation only for signals whose season it has found', () => {
    const d = new StreamingDetector();
    const a = seasonal(600, 50, 13);
    // twenty samples: no season yet, its band's middle is only a recent level
    for (let i = 0; i < 20; i++) d.step(i * 5000, { request_rate: a[i] });
    assert.deepEqual(d.seasonalExpectations(), {});
    for (let i = 20; i < 600; i++) d.step(i * 5000, { request_rate: a[i] });
    const e = d.seasonalExpectations().request_rate;
    assert.ok(e !== undefined, 'the 50-sample season is found');
    // the next sample's phase: 100 + 30 sin(2π·600/50) = 100, within the noise the profile learnt
    assert.ok(Math.abs(e - 100) < 8, `expected ${e}`);
    assert.equal(e, d.bands().request_rate.expected);
  });

  it('flags an injected spike at once, names the signal, and stays mostly quiet on normal rows', () => {
    const d = new StreamingDetector();
    const rows = stream();
    const steps = rows.map((v, i) => d.step(i * 15000, v));
    const spike = steps[2500];
    assert.ok(spike.isAnomaly, `spike score ${spike.score}`);
    const top = [...spike.contributions].sort((x, y) => y.share - x.share)[0];
    assert.equal(top.signal, 'cpu');
    assert.match(spike.reason, /^cpu [\d.]+ cores above its seasonal band/);
    // Normal seasonal traffic: no alarm during warm-up, at most a stray novelty alarm per thousand rows after it.
    assert.equal(steps.slice(0, 250).filter((s) => s.score > 0).length, 0);
    const falseAlarms = steps.slice(250, 2500).filter((s) => s.isAnomaly).length;
    assert.ok(falseAlarms <= 3, `${falseAlarms} alarms on normal rows`);
    for (const s of steps) assert.ok(s.score >= 0 && s.score <= 1);
  });

  it('survives a restart: save at the split, reload, identical scores to an uninterrupted run', () => {
    const rows = stream();
    const whole = new StreamingDetector();
    const expected = rows.map((v, i) => whole.step(i * 15000, v));
    const first = new StreamingDetector();
    const split = 1777;
    for (let i = 0; i < split; i++) first.step(i * 15000, rows[i]);
    const saved = JSON.stringify(first.snapshot());
    const second = new StreamingDetector({}, parseDetectorState(JSON.parse(saved)));
    assert.equal(second.lastT, (split - 1) * 15000);
    for (let i = split; i < rows.length; i++) {
      const s = second.step(i * 15000, rows[i]);
      assert.equal(s.score, expected[i].score, `row ${i}`);
      assert.equal(s.isAnomaly, expected[i].isAnomaly, `row ${i}`);
    }
  });

  it('refuses a state of another version or shape with a clear message', () => {
    assert.throws(() => parseDetectorState({ version: 99, signals: {}, fusion: {} }), /version 99 .* fresh warm-up/);
    assert.throws(() => parseDetectorState('x'), /JSON object/);
    assert.throws(() => parseDetectorState({ version: 2, signals: { cpu: {} }, fusion: {} }), /signal "cpu" is incomplete/);
  });

  it('honours the bad direction: a drop of error_ratio is no anomaly, a rise is', () => {
    const base = seasonal(2000, 50, 5).map((x) => x / 10000);
    const run = (delta: number) => {
      const d = new StreamingDetector({ error_ratio: 'up' });
      return base.map((x, i) => d.step(i, { error_ratio: i >= 1800 && i < 1830 ? x + delta : x })).slice(1800, 1830);
    };
    assert.equal(run(-0.009).filter((s) => s.isAnomaly).length, 0);
    assert.ok(run(+0.05).some((s) => s.isAnomaly));
  });

  it('treats a missing value as a gap, not a zero', () => {
    const d = new StreamingDetector();
    const xs = seasonal(600, 20);
    xs.forEach((x, i) => d.step(i, { cpu: x }));
    const gap = d.step(600, { cpu: undefined, memory: Number.NaN });
    assert.equal(gap.score, 0);
    assert.equal(gap.contributions.length, 0);
  });

  it('fuses model and rule evidence into the domain Anomaly', () => {
    const d = new StreamingDetector();
    const target = { kind: 'service' as const, namespace: 'shop', name: 'checkout' };
    const xs = seasonal(300, 20);
    xs.forEach((x, i) => d.step(i, { error_ratio: 0.01 * x }));
    const step = stepFrame(d, { target, t: 300, values: { error_ratio: 1 } }, { score: 0.99, contributions: { error_ratio: 1 } });
    const a = toAnomaly(target, step);
    assert.equal(a.detector, 'fusion');
    assert.ok(a.score >= 0.99 && a.isAnomaly);
    assert.equal(a.contributions[0].signal, 'error_ratio');
  });
});
