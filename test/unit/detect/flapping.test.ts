import assert from 'node:assert/strict';
import { SymptomSpells, readFlapping, symptomOf, type Spell } from '../../../src/core/detect/flapping';
import type { Band, SampleFrame } from '../../../src/core/model/signal';

const target = { kind: 'service' as const, namespace: 'shop', name: 'cart' };
const T0 = Date.UTC(2026, 11, 6, 12, 0, 0);
const bands: Partial<Record<'error_ratio' | 'latency_p95', Band>> = { error_ratio: { lower: 0, expected: 0.002, upper: 0.01 }, latency_p95: { lower: 0.03, expected: 0.05, upper: 0.08 } };

/**
 * A recorded on/off sequence after a healthy minute: one character per 5 s frame, '#' errors at 80 % over the last
 * interval, '.' healthy, '~' 3 % (in between).
 */
function feed(seq: string, windowed = false): { spells: SymptomSpells; end: number } {
  const spells = new SymptomSpells();
  let t = T0;
  for (const c of '.'.repeat(12) + seq) {
    const err = c === '#' ? 0.8 : c === '~' ? 0.03 : 0.001;
    const frame: SampleFrame = windowed ? { target, t, values: { error_ratio: err, latency_p95: 0.05 } } : { target, t, values: { error_ratio: 0.2, latency_p95: 0.05 }, fresh: { error_ratio: err, latency_p95: 0.05 } };
    spells.observe(frame, bands);
    t += 5000;
  }
  return { spells, end: t - 5000 };
}

const on = (s: number) => '#'.repeat(s / 5);
const off = (s: number) => '.'.repeat(s / 5);

describe('flapping from the signal’s own spells', () => {
  it('the sandbox flap (45 s on, 45 s off): oscillating at its first return, flapping at its second, with the spells measured', () => {
    const first = feed(on(45) + off(45) + on(5));
    const r1 = first.spells.reading(target, first.end);
    assert.equal(r1.state, 'oscillating');
    assert.equal(r1.returns, 1);
    assert.equal(r1.holdOver, false);
    const second = feed(on(45) + off(45) + on(45) + off(45) + on(5));
    const r2 = second.spells.reading(target, second.end);
    assert.equal(r2.state, 'flapping');
    assert.equal(r2.returns, 2);
    assert.equal(r2.badMs, 45_000);
    assert.equal(r2.healthyMs, 45_000);
    assert.equal(r2.signal, 'error_ratio');
    assert.match(r2.text, /^its errors cleared and came back 2 times in 3 min 5 s and are back \(bad ~45 s, healthy ~45 s each time\)$/);
  });

  it('a 30 s flap is flapping too; during a healthy spell the reading does not say "are back"', () => {
    const { spells, end } = feed(on(30) + off(30) + on(30) + off(30) + on(30) + off(20));
    const r = spells.reading(target, end);
    assert.equal(r.state, 'flapping');
    assert.doesNotMatch(r.text, /are back/);
  });

  it('a fault that stays on is steady; single clean scrapes inside it (a crash loop between restarts) are no healthy spell', () => {
    const steady = feed(on(300));
    assert.equal(steady.spells.reading(target, steady.end).state, 'steady');
    const crashy = feed('#####.####.#####..####.###.#####.####');
    assert.equal(crashy.spells.reading(target, crashy.end).state, 'steady');
    // and values in between (3 %: above the healthy level, below the symptom) neither end nor start a spell
    const between = feed(on(60) + '~'.repeat(12) + on(30));
    assert.equal(between.spells.reading(target, between.end).state, 'steady');
  });

  it('one return that then stays: the hold ends once the bad spell lasts twice the earlier one and at least a minute', () => {
    const blip = on(20) + off(60);
    const early = feed(blip + on(55));
    assert.deepEqual([early.spells.reading(target, early.end).state, early.spells.reading(target, early.end).holdOver], ['oscillating', false]);
    const stayed = feed(blip + on(65));
    assert.deepEqual([stayed.spells.reading(target, stayed.end).state, stayed.spells.reading(target, stayed.end).holdOver], ['oscillating', true]);
    // after a 50 s spell the hold lasts 100 s
    const longer = feed(on(50) + off(40) + on(90));
    assert.equal(longer.spells.reading(target, longer.end).holdOver, false);
    const over = feed(on(50) + off(40) + on(105));
    assert.equal(over.spells.reading(target, over.end).holdOver, true);
  });

  it('returns older than the window do not count; a problem fixed and gone stays steady', () => {
    const { spells, end } = feed(on(45) + off(45) + on(45) + off(16 * 60) + on(10));
    const r = spells.reading(target, end);
    assert.equal(r.state, 'steady', r.text);
    const fixed = feed(off(60) + on(60) + off(600));
    assert.equal(fixed.spells.reading(target, fixed.end).state, 'steady');
  });

  it('from windowed values alone (no last-interval series) a 60 s flap is still seen', () => {
    // a 30 s rate window smears the flap: bad for the on-phase and half a window more, healthy for the rest
    const { spells, end } = feed((on(75) + off(45)).repeat(2) + on(10), true);
    assert.equal(spells.reading(target, end).state, 'flapping');
  });

  it('latency flaps are read from p95 against its band', () => {
    const spells = new SymptomSpells();
    let t = T0;
    for (const slow of [...Array(9).fill(true), ...Array(9).fill(false), ...Array(9).fill(true), ...Array(9).fill(false), true]) {
      spells.observe({ target, t, values: { error_ratio: 0 }, fresh: { error_ratio: 0, latency_p95: slow ? 0.6 : 0.05 } }, bands);
      t += 5000;
    }
    const r = spells.reading(target, t - 5000);
    assert.equal(r.state, 'flapping');
    assert.equal(r.signal, 'latency_p95');
    assert.match(r.text, /^its latency cleared and came back 2 times/);
  });

  it('symptomOf: errors must be a symptom and above the band; no data is no reading', () => {
    assert.deepEqual(symptomOf({ target, t: T0, values: {}, fresh: { error_ratio: 0.06 } }, bands), { bad: true, signal: 'error_ratio' });
    // a noisy service whose band reaches 10 %: 6 % is its normal
    assert.deepEqual(symptomOf({ target, t: T0, values: {}, fresh: { error_ratio: 0.06 } }, { error_ratio: { lower: 0, expected: 0.05, upper: 0.1 } }), { bad: false });
    assert.equal(symptomOf({ target, t: T0, values: {} }, bands), undefined);
  });

  it('readFlapping on spells as recorded: a leading healthy spell and short bad blips before the first counted one are skipped', () => {
    const spells: Spell[] = [
      { bad: false, from: T0, to: T0 + 600_000 },
      { bad: true, from: T0 + 600_000, to: T0 + 605_000, signal: 'error_ratio' },
      { bad: false, from: T0 + 605_000, to: T0 + 700_000 },
      { bad: true, from: T0 + 700_000, to: T0 + 760_000, signal: 'error_ratio' },
    ];
    assert.equal(readFlapping(spells, T0 + 760_000).state, 'steady');
  });
});
