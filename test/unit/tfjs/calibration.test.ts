import assert from 'node:assert/strict';
import { CALIBRATION_CAPACITY, ErrorCalibration } from '../../../src/infra/tfjs/calibration';
import { SeededRandom } from '../../../src/infra/tfjs/random';

describe('error calibration', () => {
  const rng = new SeededRandom(7);
  const normalErrors = (n: number) => Array.from({ length: n }, () => Math.abs(1 + 0.2 * rng.gaussian()));

  it('scores fresh errors from the same distribution low, and errors far beyond it high', () => {
    const c = new ErrorCalibration();
    c.add(normalErrors(2000));
    const scores = normalErrors(5000).map((e) => c.score(e));
    const high = scores.filter((s) => s >= 0.9).length / scores.length;
    assert.ok(high <= 0.002, `${(high * 100).toFixed(2)}% of normal errors scored >= 0.9`);
    assert.ok(scores.filter((s) => s < 0.1).length / scores.length > 0.95);
    assert.ok(c.score(3) > 0.99, `an error 10 sigmas out scored ${c.score(3)}`);
  });

  it('is monotonic in the error and ranks errors beyond every recorded one (tail fit)', () => {
    const c = new ErrorCalibration();
    c.add(normalErrors(1000));
    const max = c.quantile(1);
    const probes = [0.5, 1, 1.2, 1.4, max, max * 1.1, max * 1.3];
    const scores = probes.map((e) => c.score(e));
    for (let i = 1; i < scores.length; i++) assert.ok(scores[i] >= scores[i - 1], `score(${probes[i]}) < score(${probes[i - 1]})`);
    assert.ok(c.tailProbability(max * 1.3) < c.tailProbability(max * 1.1), 'the tail keeps ranking past the largest seen error');
  });

  it('keeps only the newest errors and survives a JSON round trip', () => {
    const c = new ErrorCalibration();
    c.add(Array.from({ length: CALIBRATION_CAPACITY + 500 }, (_, i) => i));
    assert.equal(c.size, CALIBRATION_CAPACITY);
    assert.equal(c.quantile(0), 500);
    const copy = new ErrorCalibration(JSON.parse(JSON.stringify(c)));
    assert.equal(copy.score(1800), c.score(1800));
    c.add([NaN, Infinity]);
    assert.equal(c.size, CALIBRATION_CAPACITY, 'non-finite errors are not recorded');
    assert.equal(c.score(NaN), 1);
  });
});
