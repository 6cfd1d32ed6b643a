import assert from 'node:assert/strict';
import { NAB_PROFILES, optimiseThreshold, probationLength, scaledSigmoid, scoreAtThreshold, windowsToRows, type NabFile } from '../../../scripts/bench/nabScorer';

const standard = NAB_PROFILES.standard;

/** 1000 rows (probation 150), windows at rows 400–499 and 700–799. */
function file(scores: (i: number) => number): NabFile {
  return { name: 'f.csv', scores: Array.from({ length: 1000 }, (_, i) => scores(i)), windows: [[400, 499], [700, 799]] };
}

describe('NAB scorer', () => {
  it('matches the published sigmoid values and probation length', () => {
    assert.ok(Math.abs(scaledSigmoid(-1) - 0.98661) < 1e-5);
    assert.ok(Math.abs(scaledSigmoid(-0.5) - 0.84828) < 1e-5);
    assert.equal(scaledSigmoid(0), 0);
    assert.equal(scaledSigmoid(3), -1);
    assert.equal(probationLength(1000), 150);
    assert.equal(probationLength(22695), 750);
  });

  it('scores a perfect detector 100 and the null detector 0 on every profile', () => {
    const perfect = file((i) => (i === 400 || i === 700 ? 1 : 0));
    const nothing = file(() => 0);
    for (const [name, p] of Object.entries(NAB_PROFILES)) {
      assert.ok(Math.abs(optimiseThreshold([perfect], p, name).normalised - 100) < 1e-9, name);
      const n = optimiseThreshold([nothing], p, name);
      assert.equal(n.normalised, 0, name);
      assert.equal(n.raw, -2 * p.fnWeight);
    }
  });

  it('rewards an early detection more than a late one', () => {
    const early = scoreAtThreshold([file((i) => (i === 410 ? 1 : 0))], standard, 0.5);
    const late = scoreAtThreshold([file((i) => (i === 490 ? 1 : 0))], standard, 0.5);
    assert.ok(early.raw > late.raw, `${early.raw} > ${late.raw}`);
    assert.equal(early.tp, 1);
    assert.equal(early.fn, 1);
  });

  it('counts only the first detection in a window', () => {
    const once = scoreAtThreshold([file((i) => (i === 420 ? 1 : 0))], standard, 0.5);
    const many = scoreAtThreshold([file((i) => (i >= 420 && i < 480 ? 1 : 0))], standard, 0.5);
    assert.equal(many.raw, once.raw);
  });

  it('charges -fpWeight for a false positive before the first window, less right after a window', () => {
    const before = scoreAtThreshold([file((i) => (i === 300 ? 1 : 0))], standard, 0.5);
    assert.ok(Math.abs(before.raw - (-2 - standard.fpWeight)) < 1e-12);
    assert.equal(before.fp, 1);
    const justAfter = scoreAtThreshold([file((i) => (i === 505 ? 1 : 0))], standard, 0.5);
    assert.ok(justAfter.raw > before.raw && justAfter.raw < -2);
    const lowFp = scoreAtThreshold([file((i) => (i === 300 ? 1 : 0))], NAB_PROFILES.reward_low_FP_rate, 0.5);
    assert.ok(Math.abs(lowFp.raw - (-2.22)) < 1e-12);
  });

  it('ignores detections in the probationary rows', () => {
    const r = scoreAtThreshold([file((i) => (i === 100 ? 1 : 0))], standard, 0.5);
    assert.equal(r.fp, 0);
    assert.equal(r.raw, -2);
  });

  it('picks one corpus-wide threshold that maximises the raw score', () => {
    // Scores 0.8 in the windows' first rows, 0.6 on scattered false positives: 0.8 is the best threshold.
    const a = file((i) => (i === 405 || i === 705 ? 0.8 : i % 97 === 0 ? 0.6 : 0.1));
    const r = optimiseThreshold([a, a], standard, 'standard');
    assert.equal(r.threshold, 0.8);
    assert.equal(r.tp, 4);
    assert.equal(r.fp, 0);
    assert.ok(r.normalised > 95 && r.normalised < 100);
    const fixed = scoreAtThreshold([a, a], standard, r.threshold);
    assert.ok(Math.abs(fixed.raw - r.raw) < 1e-9);
  });

  it('maps timestamp windows to inclusive row ranges', () => {
    assert.deepEqual(windowsToRows([0, 10, 20, 30, 40], [[10, 30], [35, 36], [40, 99]]), [[1, 3], [4, 4]]);
  });
});
