import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run as retrainCli } from '../../../src/cli/retrainModel';
import { MODEL_HISTORY_STATE, type ModelHistoryDocument } from '../../../src/core/loop/modelEvidence';
import { FileStore } from '../../../src/infra/store/fileStore';
import { SeededRandom } from '../../../src/infra/tfjs/random';
import { STEPS_PER_DAY, syntheticService, windowsOf } from '../../../src/infra/tfjs/syntheticData';
import { RETRAIN_RECORDS_FILE, TfjsModel } from '../../../src/infra/tfjs/tfjsModel';
import { MODEL_SIGNALS, type RawWindow } from '../../../src/infra/tfjs/windowSpec';

const KEY = 'service:shop/checkout';
const baseModelDir = path.resolve('models/base');

/** Windows of the same service with traffic tripled and latency doubled: a different regime. */
function shifted(windows: ReadonlyArray<RawWindow>): RawWindow[] {
  const rate = MODEL_SIGNALS.indexOf('request_rate');
  const lat = ['latency_p50', 'latency_p95', 'latency_p99'].map((s) => MODEL_SIGNALS.indexOf(s as (typeof MODEL_SIGNALS)[number]));
  return windows.map((w) => w.map((row) => row.map((v, s) => (s === rate ? v * 3 : lat.includes(s) ? v * 2 : v))));
}

function garbage(n: number, seed: number): RawWindow[] {
  const rng = new SeededRandom(seed);
  return Array.from({ length: n }, () => Array.from({ length: 12 }, () => MODEL_SIGNALS.map(() => rng.next() * 1e4 - 5e3)));
}

describe('model retraining (keep the better model on held-out recent data)', function () {
  this.timeout(180_000);
  const service = syntheticService(4242, 3, 'shop/checkout');
  const history = windowsOf(service.rows, 3, 0, 2 * STEPS_PER_DAY);
  const recent = windowsOf(service.rows, 6, 2 * STEPS_PER_DAY);
  let dir: string;
  let model: TfjsModel;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-retrain-'));
    model = new TfjsModel({ stateDir: dir, baseModelDir, now: () => Date.UTC(2026, 10, 23, 12) });
  });
  afterEach(async () => {
    await model.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('rejects a candidate trained on garbage or on a shifted regime, and keeps the previous model unchanged', async () => {
    await model.fineTune(KEY, history);
    const held = recent.slice(0, 120);
    const before = await model.score(KEY, held);
    for (const [what, train] of [
      ['garbage', garbage(400, 7)],
      ['shifted', shifted(history.slice(0, 400))],
    ] as const) {
      const r = await model.retrain(KEY, [...train, ...held], { holdout: held.length });
      assert.equal(r.kept, 'previous', `${what}: ${r.reason}`);
      assert.ok(r.newLoss > r.oldLoss, `${what}: new ${r.newLoss} vs old ${r.oldLoss}`);
      assert.equal(r.windows, 400);
      assert.equal(r.holdout, held.length);
      assert.match(r.reason, /the previous model is kept/);
    }
    const after = await model.score(KEY, held);
    assert.deepEqual(after.map((s) => s.score), before.map((s) => s.score), 'the previous model scores exactly as before');
    const records = await model.retrainRecords(KEY);
    assert.deepEqual(records.map((r) => r.kept), ['previous', 'previous']);
    assert.ok(existsSync(path.join(model.serviceDir(KEY), RETRAIN_RECORDS_FILE)));
  });

  it('keeps a better candidate, saves it, and a reload gets the new model', async () => {
    // the current model went wrong: it was fine-tuned on a shifted regime
    await model.fineTune(KEY, shifted(history.slice(0, 300)));
    const r = await model.retrain(KEY, [...history.slice(0, 400), ...recent.slice(0, 120)], { holdout: 120 });
    assert.equal(r.kept, 'new', r.reason);
    assert.ok(r.newLoss < r.oldLoss, `new ${r.newLoss} vs old ${r.oldLoss}`);
    assert.ok(r.newFalsePositiveRate <= r.oldFalsePositiveRate, `false-positive rate ${r.newFalsePositiveRate} vs ${r.oldFalsePositiveRate}`);
    const scores = await model.score(KEY, recent.slice(120, 300));
    const low = scores.filter((s) => s.score < 0.9).length / scores.length;
    assert.ok(low >= 0.97, `the new model scores ${(low * 100).toFixed(1)}% of later normal windows below 0.9`);
    const reloaded = new TfjsModel({ stateDir: dir, baseModelDir });
    try {
      assert.equal(await reloaded.load(KEY), true);
      const again = await reloaded.score(KEY, recent.slice(120, 130));
      assert.deepEqual(again.map((s) => s.score.toFixed(6)), scores.slice(0, 10).map((s) => s.score.toFixed(6)), 'the saved model is the kept one');
    } finally {
      await reloaded.dispose();
    }
  });

  it('keeps the previous model when the candidate reconstructs better but would flag more of the recent normal windows', async () => {
    // no base model: the current model is an uncalibrated copy (lenient); the candidate learns the morning and meets the afternoon
    const bare = new TfjsModel({ stateDir: dir, baseModelDir: path.join(dir, 'no-base-model') });
    try {
      const windows = windowsOf(syntheticService(5, 1).rows.slice(0, 500), 1);
      const r = await bare.retrain(KEY, windows, { holdout: 243 });
      assert.ok(r.newLoss < r.oldLoss, `new ${r.newLoss} vs old ${r.oldLoss}`);
      assert.ok(r.newFalsePositiveRate > r.oldFalsePositiveRate + 0.01, `false-positive rate ${r.newFalsePositiveRate} vs ${r.oldFalsePositiveRate}`);
      assert.equal(r.kept, 'previous');
      assert.match(r.reason, /reconstructs the 243 held-out recent windows better .* but would flag [\d.]+% of them as anomalous against [\d.]+%; the previous model is kept/);
    } finally {
      await bare.dispose();
    }
  });

  it('says clearly when there is too little normal data', async () => {
    await assert.rejects(model.retrain(KEY, history.slice(0, 40), { holdout: 10 }), /needs at least 50 normal windows besides the 10 held out; it has 30/);
  });

  it('`vigil retrain-model` retrains from the recorded history and audits each record', async () => {
    const rows = service.rows.slice(0, 400);
    const doc: ModelHistoryDocument = {
      version: 1,
      signals: [...MODEL_SIGNALS],
      windowSize: 12,
      services: { [KEY]: { t: rows.map((_, i) => Date.UTC(2026, 10, 23) + i * 60_000), rows: rows.map((r) => r.map((v) => (Number.isFinite(v) ? v : null))), anomalous: rows.map((_, i) => i >= 200 && i < 210) } },
    };
    const store = new FileStore(dir);
    await store.writeState(MODEL_HISTORY_STATE, doc);
    const out: string[] = [];
    const err: string[] = [];
    const code = await retrainCli(['--state-dir', dir, '--base-model', baseModelDir], { out: (l) => out.push(l), err: (l) => err.push(l) });
    assert.equal(code, 0, err.join('\n'));
    assert.match(out[0], /^service:shop\/checkout: kept the (new|previous) model — held-out mean error [\d.]+ \(previous\) vs [\d.]+ \(new\)/);
    const audit = await store.readAudit();
    assert.equal(audit.length, 1);
    assert.equal(audit[0].kind, 'model-retrain');
    assert.equal(audit[0].object, KEY);
    assert.match(audit[0].summary, /model of service:shop\/checkout retrained: kept the/);
    const detail = audit[0].detail as { windows: number; holdout: number };
    // 400 rows, 10 anomalous: a window ending at e reads rows e-13..e (medians of three), so ends 13..399 minus the 23 that touch rows 200..209
    assert.equal(detail.windows + detail.holdout, 400 - 13 - (10 + 13));
    assert.ok((await store.verifyAudit()).ok);
    const saved = JSON.parse(readFileSync(path.join(model.serviceDir(KEY), RETRAIN_RECORDS_FILE), 'utf8')) as unknown[];
    assert.equal(saved.length, 1);
  });

  it('`vigil retrain-model` without recorded history says what to do', async () => {
    const err: string[] = [];
    const code = await retrainCli(['--state-dir', dir], { out: () => undefined, err: (l) => err.push(l) });
    assert.equal(code, 1);
    assert.match(err[0], /no recorded model history in .*state\/model-history\.json.*run the agent with the model on/);
  });
});
