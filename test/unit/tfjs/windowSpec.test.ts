import assert from 'node:assert/strict';
import { MODEL_SIGNALS, WINDOW_SIZE, checkWindows, fitScaler, scaleWindows } from '../../../src/infra/tfjs/windowSpec';
import { syntheticService, windowsOf } from '../../../src/infra/tfjs/syntheticData';

describe('model input: robust scaling and masks', () => {
  const rows = syntheticService(3, 1).rows;
  const windows = windowsOf(rows, 4);
  const memory = MODEL_SIGNALS.indexOf('memory');
  const replicas = MODEL_SIGNALS.indexOf('available_replicas');

  it('centres each signal on its median with a floor on flat signals', () => {
    const scaler = fitScaler(windows);
    const { values } = scaleWindows(windows, scaler);
    const column = (s: number) => Array.from(values).filter((_, k) => k % MODEL_SIGNALS.length === s).sort((a, b) => a - b);
    const mem = column(memory);
    assert.ok(Math.abs(mem[Math.floor(mem.length / 2)]) < 0.05, 'memory median scales to ~0');
    assert.ok(scaler.scale[replicas] >= 0.25, 'constant replicas keep a scale floor');
    assert.ok(column(replicas).every((v) => v === 0));
  });

  it('fills missing values with 0 and masks them out', () => {
    const holed = windows.slice(0, 2).map((w) => w.map((row) => row.map((v, s) => (s === memory ? NaN : v))));
    const scaler = fitScaler(windows);
    const { values, mask } = scaleWindows(holed, scaler);
    for (let k = memory; k < values.length; k += MODEL_SIGNALS.length) {
      assert.equal(values[k], 0);
      assert.equal(mask[k], 0);
    }
    assert.equal(mask[0], 1);
    // a signal missing from all fit data still gets a usable scaler
    const blind = fitScaler(holed);
    assert.ok(Number.isFinite(blind.scale[memory]) && blind.scale[memory] > 0);
  });

  it('names the bad window and the expected shape', () => {
    assert.throws(() => checkWindows([windows[0], windows[0].slice(1)]), /window 1 has 11 steps; the model needs 12/);
    assert.throws(() => checkWindows([windows[0].map((r, t) => (t === 3 ? r.slice(2) : r))]), new RegExp(`window 0, step 3 has ${MODEL_SIGNALS.length - 2} values`));
    assert.equal(windows[0].length, WINDOW_SIZE);
  });
});
