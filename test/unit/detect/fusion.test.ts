import assert from 'node:assert/strict';
import { ScoreFusion, type SignalEvidence } from '../../../src/core/detect/fusion';
import { newNovelty, noveltyStep } from '../../../src/core/detect/novelty';

const band = { lower: 0, expected: 1, upper: 2 };
const ev = (signal: string, evidence: number, observed = 1): SignalEvidence => ({ signal, evidence, deviation: evidence, observed, band, cause: 'seasonal' });
const config = { warmup: 0, decades: 4, threshold: 0.9, quietSamples: 10, quietDamping: 0.5, fatigueGain: 0.5, fatigueHalfLife: 1000 };

describe('score fusion', () => {
  it('maps calibrated evidence to a score through the normal tail, and splits contributions', () => {
    const f = new ScoreFusion(undefined, config);
    assert.equal(f.fuse([ev('cpu', 0)]).score, 0);
    const r = f.fuse([ev('cpu', 1), ev('memory', 3)]);
    // P(Z > 3) ≈ 1.35e-3: 2.87 decades, less log10(2) because the strongest of two signals was taken; of 4.
    assert.ok(Math.abs(r.score - (2.87 - Math.log10(2)) / 4) < 0.01, String(r.score));
    assert.equal(r.isAnomaly, false);
    assert.deepEqual(r.contributions.map((c) => c.share), [0.25, 0.75]);
    // said in the signal's unit (memory in MiB), never in scientific notation
    assert.match(r.reason, /^memory 0 MiB /);
  });

  it('damps the score for a quiet period after a detection, then asks for more evidence (alert fatigue)', () => {
    const f = new ScoreFusion(undefined, config);
    const first = f.fuse([ev('cpu', 5)]);
    assert.ok(first.isAnomaly);
    const during = f.fuse([ev('cpu', 5)]);
    assert.ok(during.score <= 0.5 && !during.isAnomaly);
    for (let i = 0; i < 10; i++) f.fuse([ev('cpu', 0)]);
    // 4.1 sigmas alone was a detection before; after one alert the bar is 1.5x higher.
    assert.equal(f.fuse([ev('cpu', 4.1)]).isAnomaly, false);
    assert.equal(f.fuse([ev('cpu', 6)]).isAnomaly, true);
  });

  it('lets rule and model evidence raise the score, with their reason and contributions', () => {
    const f = new ScoreFusion(undefined, config);
    const r = f.fuse([ev('error_ratio', 0.5)], [{ source: 'rule', score: 1, reason: 'error_ratio 0.12 > 0.05 for 1m', severity: 'critical', contributions: { error_ratio: 1 } }]);
    assert.equal(r.score, 1);
    assert.equal(r.severity, 'critical');
    assert.equal(r.reason, 'rule: error_ratio 0.12 > 0.05 for 1m');
    assert.deepEqual(r.contributions.map((c) => [c.signal, c.share]), [['error_ratio', 1]]);
    const low = f.fuse([ev('cpu', 5)], [{ source: 'model', score: 0.1, reason: 'multi-signal model' }]);
    assert.doesNotMatch(low.reason, /model/);
  });
});

describe('contextual novelty', () => {
  it('is surprised by a shape it has not seen once the signal has settled, not by a known one', () => {
    const s = newNovelty();
    const wave = (i: number) => [0, 1, 2, 1][i % 4];
    for (let i = 0; i < 4000; i++) noveltyStep(s, wave(i));
    const known = noveltyStep(s, wave(4000));
    assert.equal(known, 0);
    // A flat stretch at the top of the wave is a context never seen.
    const novel = Math.max(noveltyStep(s, 2), noveltyStep(s, 2), noveltyStep(s, 2));
    assert.ok(novel > 5, String(novel));
  });
});
