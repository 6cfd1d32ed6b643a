import assert from 'node:assert/strict';
import { NAB_PROFILES, breakdown, scoreAtThreshold, type NabFile } from '../../../scripts/bench/nabScorer';

/** 1000 rows (probation 150), windows at rows 400–499 and 700–799. */
function file(name: string, hits: ReadonlyArray<number>): NabFile {
  return { name, scores: Array.from({ length: 1000 }, (_, i) => (hits.includes(i) ? 1 : 0)), windows: [[400, 499], [700, 799]] };
}

describe('NAB per-file breakdown', () => {
  it('splits a file raw score into window rewards, misses and false positives, and agrees with the scorer', () => {
    // 100 is in probation (ignored), 200 is before the first window, 410 detects the first window, 900 is after the second.
    const files = [file('a/one.csv', [100, 200, 410, 900]), file('a/two.csv', [])];
    const p = NAB_PROFILES.standard;
    const [one, two] = breakdown(files, p, 0.5);
    assert.equal(one.tp, 1);
    assert.equal(one.fn, 1);
    assert.equal(one.fp, 2);
    assert.equal(one.fpBeforeFirst, -p.fpWeight);
    assert.ok(one.fpCost < one.fpBeforeFirst, 'the detection after the second window costs too');
    assert.ok(one.tpReward > 0.9 && one.tpReward < 1, `early detection reward ${one.tpReward}`);
    assert.deepEqual([two.tp, two.fn, two.fp, two.raw], [0, 2, 0, -2]);
    const total = scoreAtThreshold(files, p, 0.5);
    assert.ok(Math.abs(one.raw + two.raw - total.raw) < 1e-12, `${one.raw + two.raw} vs ${total.raw}`);
  });
});
