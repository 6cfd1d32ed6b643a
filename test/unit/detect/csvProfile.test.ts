import assert from 'node:assert/strict';
import { CSV_FUSION_CONFIG, CSV_SIGNAL_CONFIG, newCsvDetector } from '../../../src/core/detect/csvDetection';
import { DEFAULT_SIGNAL_CONFIG, SignalDetector } from '../../../src/core/detect/signalDetector';
import { StreamingDetector } from '../../../src/core/detect/streamingDetector';

/** Deterministic noise in [-0.5, 0.5). */
function noise(i: number): number {
  const h = Math.sin(i * 12.9898 + 78.233) * 43758.5453;
  return h - Math.floor(h) - 0.5;
}

describe('univariate CSV profile', () => {
  // A level with heavy-ish noise; row 1500 steps just past the highest value seen so far.
  const xs = Array.from({ length: 1600 }, (_, i) => 50 + 10 * noise(i) * (i % 97 === 0 ? 3 : 1));
  const max = Math.max(...xs.slice(0, 1500));
  xs[1500] = max + 3;

  const noRange = { ...CSV_SIGNAL_CONFIG, rangeGain: 0, rangeBase: 0 };

  it('gives a value past everything seen so far extra evidence, and only that value', () => {
    const csv = new SignalDetector(undefined, 'both', CSV_SIGNAL_CONFIG);
    const without = new SignalDetector(undefined, 'both', noRange);
    const a = xs.map((x) => csv.step(x).evidence);
    const b = xs.map((x) => without.step(x).evidence);
    const past = 3 / (max - Math.min(...xs.slice(0, 1500)));
    assert.ok(Math.abs(a[1500] - b[1500] - (CSV_SIGNAL_CONFIG.rangeBase + CSV_SIGNAL_CONFIG.rangeGain * past)) < 1e-9, `${a[1500]} vs ${b[1500]}`);
    // Rows 1000..1499 hold no new extreme: identical evidence.
    for (let i = 1000; i < 1500; i++) assert.equal(a[i], b[i], `row ${i}`);
    const live = new SignalDetector(undefined, 'both', DEFAULT_SIGNAL_CONFIG);
    xs.forEach((x) => live.step(x));
    assert.equal(live.state.range, undefined, 'the live profile keeps no range state');
  });

  it('flags the new extreme with the CSV detector; a harmless direction earns no range evidence', () => {
    const d = newCsvDetector();
    const steps = xs.map((x, i) => d.step(i * 60_000, { value: x }));
    assert.ok(steps[1500].isAnomaly, `score ${steps[1500].score}`);
    const low = [...xs];
    low[1500] = Math.min(...xs.slice(0, 1500)) - 3;
    const up = new SignalDetector(undefined, 'up', CSV_SIGNAL_CONFIG);
    const ref = new SignalDetector(undefined, 'up', noRange);
    const ev = low.map((x) => up.step(x).evidence);
    const plain = low.map((x) => ref.step(x).evidence);
    assert.equal(ev[1500], plain[1500], "a new low of an 'up' signal is no symptom");
    const both = new SignalDetector(undefined, 'both', CSV_SIGNAL_CONFIG);
    assert.ok(low.map((x) => both.step(x).evidence)[1500] > plain[1500] + 1, 'the same low counts when both directions matter');
  });

  it('keeps the longer seasonal history of the CSV profile, the live detector its own', () => {
    const csv = new SignalDetector(undefined, 'both', CSV_SIGNAL_CONFIG);
    const live = new SignalDetector(undefined, 'both', DEFAULT_SIGNAL_CONFIG);
    for (let i = 0; i < 5000; i++) {
      csv.step(50 + 10 * Math.sin((2 * Math.PI * i) / 288) + noise(i));
      live.step(50 + 10 * Math.sin((2 * Math.PI * i) / 288) + noise(i));
    }
    assert.equal(csv.state.baseline.buf.length, CSV_SIGNAL_CONFIG.baseline.historyLength);
    assert.equal(CSV_SIGNAL_CONFIG.baseline.historyLength, 4096);
    assert.equal(live.state.baseline.buf.length, 1024);
    assert.ok(Math.abs(csv.state.baseline.period - 288) <= 3, `daily period found on the longer history: ${csv.state.baseline.period}`);
  });

  it('saves and reloads the range with the rest of the state', () => {
    const whole = newCsvDetector();
    const expected = xs.map((x, i) => whole.step(i, { value: x }).score);
    const first = newCsvDetector();
    for (let i = 0; i < 1000; i++) first.step(i, { value: xs[i] });
    const state = JSON.parse(JSON.stringify(first.snapshot()));
    assert.ok(state.signals.value.range, 'range is part of the saved state');
    const second = new StreamingDetector({}, state, CSV_FUSION_CONFIG, CSV_SIGNAL_CONFIG);
    for (let i = 1000; i < xs.length; i++) assert.equal(second.step(i, { value: xs[i] }).score, expected[i], `row ${i}`);
  });
});
