import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs';
import { loadTf, type Tf } from '../../../src/infra/tfjs/backend';
import { trainBaseModel } from '../../../src/infra/tfjs/baseModel';
import { directoryIoHandler } from '../../../src/infra/tfjs/directoryIoHandler';
import { MODEL_METADATA_KEY } from '../../../src/infra/tfjs/modelMetadata';

describe('base model training', function () {
  this.timeout(60_000);
  let tf: Tf;
  const dirs: string[] = [];
  const small = { epochs: 1, services: 2, days: 2 };
  const weightsOf = (m: LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));

  before(async () => {
    tf = (await loadTf()).tf;
  });
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('gives the same weights for the same seed, and different ones for another seed', () => {
    const a = trainBaseModel(tf, { seed: 11, ...small });
    const b = trainBaseModel(tf, { seed: 11, ...small });
    const c = trainBaseModel(tf, { seed: 12, ...small });
    try {
      assert.deepEqual(weightsOf(a.model), weightsOf(b.model));
      assert.equal(a.report.finalLoss, b.report.finalLoss);
      assert.notDeepEqual(weightsOf(a.model), weightsOf(c.model));
      assert.ok(Number.isFinite(a.report.finalLoss) && a.report.finalLoss > 0);
      assert.ok(a.report.parameters < 50_000, 'the model stays small');
    } finally {
      for (const r of [a, b, c]) r.model.dispose();
    }
  });

  it('saves model.json + weights.bin to a directory and loads the same model back', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-model-'));
    dirs.push(dir);
    const { model } = trainBaseModel(tf, { seed: 3, ...small });
    await model.save(directoryIoHandler(dir));
    const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8'));
    assert.deepEqual(json.weightsManifest[0].paths, ['weights.bin']);
    assert.equal(statSync(path.join(dir, 'weights.bin')).size, model.countParams() * 4);
    const loaded = await tf.loadLayersModel(directoryIoHandler(dir));
    const x = tf.randomNormal([5, 96], 0, 1, 'float32', 1);
    try {
      assert.deepEqual(Array.from((loaded.predict(x) as ReturnType<Tf['zeros']>).dataSync()), Array.from((model.predict(x) as ReturnType<Tf['zeros']>).dataSync()));
      const meta = loaded.getUserDefinedMetadata() as Record<string, { kind: string; calibration: { errors: number[] } }>;
      assert.equal(meta[MODEL_METADATA_KEY].kind, 'base');
      assert.ok(meta[MODEL_METADATA_KEY].calibration.errors.length > 100, 'calibration rides along in model.json');
    } finally {
      x.dispose();
      model.dispose();
      loaded.dispose();
    }
  });

  it('names the directory when there is no model to load', async () => {
    await assert.rejects(tf.loadLayersModel(directoryIoHandler('/nonexistent/vigil-model')), /cannot read the model at \/nonexistent\/vigil-model\/model\.json/);
  });
});
