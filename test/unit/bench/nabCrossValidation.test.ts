import assert from 'node:assert/strict';
import { CV_GRID, crossValidate } from '../../../scripts/bench/nab';
import { NAB_PROFILES, type NabFile } from '../../../scripts/bench/nabScorer';

const standard = NAB_PROFILES.standard;

/** 1000 rows (probation 150), one window at rows 400–499; `hit` puts a detection at its start. */
function file(k: number, hit: boolean): NabFile {
  return { name: `f${k}.csv`, scores: Array.from({ length: 1000 }, (_, i) => (hit && i === 400 ? 1 : 0)), windows: [[400, 499]] };
}

/** Four files numbered 1-4; `pattern(k)` says whether the setting detects file k's window. */
function corpus(pattern: (k: number) => boolean): NabFile[] {
  return [1, 2, 3, 4].map((k) => file(k, pattern(k)));
}

describe('bench:nab cross-validation', () => {
  it('scores each half with the setting and threshold chosen on the other half only', () => {
    // Setting A finds the windows of the odd-numbered files only, B those of the even-numbered ones: each is
    // chosen on the half it fits and scores nothing on the half it did not see.
    const a = corpus((k) => k % 2 === 1);
    const b = corpus((k) => k % 2 === 0);
    const cv = crossValidate([a, b], ['A', 'B'], standard);
    assert.deepEqual(cv.folds.map((f) => [f.train, f.chosen]), [['odd', 'A'], ['even', 'B']]);
    assert.deepEqual(cv.folds.map((f) => f.trainNormalised), [100, 100]);
    assert.deepEqual(cv.folds.map((f) => [f.test.tp, f.test.fn]), [[0, 2], [0, 2]]);
    assert.equal(cv.normalised, 0);
  });

  it('gives a setting that fits every file its full score', () => {
    const all = corpus(() => true);
    const none = corpus(() => false);
    const cv = crossValidate([none, all], ['none', 'all'], standard);
    assert.deepEqual(cv.folds.map((f) => f.chosen), ['all', 'all']);
    assert.ok(Math.abs(cv.normalised - 100) < 1e-9, String(cv.normalised));
  });

  it('has a grid that contains the frozen CSV profile', () => {
    const frozen = CV_GRID.filter((g) => g.overrides.baseline?.historyLength === 4096 && g.overrides.baseline.periodEvery === 1024 && g.overrides.signal?.rangeGain === 24);
    assert.equal(frozen.length, 1);
    assert.equal(new Set(CV_GRID.map((g) => g.label)).size, CV_GRID.length, 'labels are distinct');
  });
});
