import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SignalName } from '../../../src/core/model/signal';
import { injectRamp, STEPS_PER_DAY, syntheticService, windowsOf } from '../../../src/infra/tfjs/syntheticData';
import { TfjsModel } from '../../../src/infra/tfjs/tfjsModel';
import { MODEL_SIGNALS } from '../../../src/infra/tfjs/windowSpec';

/** The shipped base model (models/base), fine-tuned per service on synthetic history it never saw. */
describe('TfjsModel (ModelPort)', function () {
  this.timeout(120_000);
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-models-'));
  const baseModelDir = path.resolve('models/base');
  const service = syntheticService(90210, 3, 'shop/checkout');
  const history = windowsOf(service.rows, 2, 0, 2 * STEPS_PER_DAY);
  const heldOut = windowsOf(service.rows, 1, 2 * STEPS_PER_DAY);
  const model = new TfjsModel({ stateDir, baseModelDir });
  const latencyAndMemory: SignalName[] = ['memory', 'latency_p50', 'latency_p95', 'latency_p99'];

  before(async function () {
    const { loss } = await model.fineTune('shop/checkout', history);
    assert.ok(Number.isFinite(loss) && loss > 0, `fine-tune loss ${loss}`);
  });
  after(async () => {
    await model.dispose();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('exposes its signals and window size', () => {
    assert.deepEqual(model.signals, MODEL_SIGNALS);
    assert.equal(model.windowSize, 12);
  });

  it('scores held-out normal windows low (99% below 0.9) and injected anomalies high', async () => {
    const normal = await model.score('shop/checkout', heldOut);
    const low = normal.filter((s) => s.score < 0.9).length / normal.length;
    assert.ok(low >= 0.99, `only ${(low * 100).toFixed(2)}% of ${normal.length} held-out normal windows scored < 0.9`);
    const anomalies = heldOut.filter((_, i) => i % 10 === 0).map((w) => injectRamp(w, latencyAndMemory, 1.6));
    const scored = await model.score('shop/checkout', anomalies);
    const high = scored.filter((s) => s.score >= 0.9).length / scored.length;
    assert.ok(high >= 0.9, `only ${(high * 100).toFixed(1)}% of ${scored.length} injected anomalies scored >= 0.9`);
    const errorSpike = await model.score('shop/checkout', [injectRamp(heldOut[5], ['error_ratio'], 40)]);
    assert.ok(errorSpike[0].score >= 0.9, `an error-ratio spike scored ${errorSpike[0].score}`);
  });

  it('gives memory and latency most of the share when only they moved, and shares sum to 1', async () => {
    const windows = heldOut.filter((_, i) => i % 97 === 0).map((w) => injectRamp(w, latencyAndMemory, 1.6));
    const scores = await model.score('shop/checkout', windows);
    for (const s of scores) {
      const total = Object.values(s.contributions).reduce((a, b) => a + (b ?? 0), 0);
      assert.ok(Math.abs(total - 1) < 1e-4, `contributions sum to ${total}`);
      const moved = latencyAndMemory.reduce((a, name) => a + (s.contributions[name] ?? 0), 0);
      assert.ok(moved >= 0.7, `memory+latency got ${moved.toFixed(3)} of ${JSON.stringify(s.contributions)}`);
      const top = Object.entries(s.contributions).sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))[0][0];
      assert.ok(latencyAndMemory.includes(top as SignalName), `top contributor was ${top}`);
    }
  });

  it('leaves a missing signal out of the score and the contributions', async () => {
    const cpu = MODEL_SIGNALS.indexOf('cpu');
    const holed = heldOut.slice(0, 50).map((w) => w.map((row) => row.map((v, s) => (s === cpu ? NaN : v))));
    const scores = await model.score('shop/checkout', holed);
    assert.ok(scores.every((s) => Number.isFinite(s.score) && !('cpu' in s.contributions)));
    assert.ok(scores.filter((s) => s.score < 0.9).length >= 49, 'a missing signal alone is not an anomaly');
  });

  it('saves the service model (model.json + weights.bin) and a new instance loads it with the same scores', async () => {
    await model.save('shop/checkout');
    const dir = model.serviceDir('shop/checkout');
    assert.ok(dir.startsWith(path.join(stateDir, 'models')));
    assert.match(path.basename(dir), /^shop_checkout-[0-9a-f]{8}$/);
    assert.ok(existsSync(path.join(dir, 'model.json')) && existsSync(path.join(dir, 'weights.bin')));
    const probe = [...heldOut.slice(0, 20), injectRamp(heldOut[30], latencyAndMemory, 1.6)];
    const before = await model.score('shop/checkout', probe);

    const restarted = new TfjsModel({ stateDir, baseModelDir });
    try {
      assert.equal(await restarted.load('shop/checkout'), true);
      const after = await restarted.score('shop/checkout', probe);
      assert.deepEqual(after, before);
      assert.equal(await restarted.load('never/seen'), false);
    } finally {
      await restarted.dispose();
    }
  });

  it('keeps services apart: fine-tuning one does not change another', async () => {
    const other = syntheticService(4242, 2, 'shop/cart');
    const otherHistory = windowsOf(other.rows, 4, 0, STEPS_PER_DAY);
    const probe = heldOut.slice(0, 10);
    const before = await model.score('shop/checkout', probe);
    await model.fineTune('shop/cart', otherHistory);
    assert.deepEqual(await model.score('shop/checkout', probe), before);
  });

  it('learns online from small batches: the loss falls as a new service streams in', async () => {
    const fresh = syntheticService(777, 2, 'shop/search');
    const losses: number[] = [];
    for (let start = 0; start + 40 * 3 <= 20 * 40 * 3; start += 40 * 3) {
      const batch = windowsOf(fresh.rows, 3, start, start + 40 * 3 + 11);
      losses.push((await model.fineTune('shop/search', batch)).loss);
    }
    const head = (losses[0] + losses[1]) / 2;
    const tail = (losses[losses.length - 1] + losses[losses.length - 2]) / 2;
    assert.ok(tail < head * 0.8, `loss went from ${head.toFixed(3)} to ${tail.toFixed(3)} over ${losses.length} batches`);
    const later = await model.score('shop/search', windowsOf(fresh.rows, 5, 20 * 40 * 3));
    assert.ok(later.filter((s) => s.score < 0.9).length / later.length >= 0.97);
  });

  it('ignores a damaged saved model with a warning naming the folder, instead of failing', async () => {
    const warnings: string[] = [];
    const logger = { log: (level: string, m: string) => level === 'warn' && warnings.push(m), child: () => logger };
    const restarted = new TfjsModel({ stateDir, baseModelDir, logger });
    const dir = restarted.serviceDir('shop/broken');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'model.json'), '{"modelTopology": {"config": 1}, "weightsManifest": []}');
    try {
      assert.equal(await restarted.load('shop/broken'), false);
      assert.equal(warnings.length, 1);
      assert.ok(warnings[0].includes(dir), warnings[0]);
      const scores = await restarted.score('shop/broken', heldOut.slice(0, 3));
      assert.equal(scores.length, 3, 'it scores from the base model instead');
    } finally {
      await restarted.dispose();
    }
  });

  it('rejects windows of the wrong shape with a clear message', async () => {
    await assert.rejects(model.score('shop/checkout', [heldOut[0].slice(0, 5)]), /window 0 has 5 steps; the model needs 12/);
  });
});
