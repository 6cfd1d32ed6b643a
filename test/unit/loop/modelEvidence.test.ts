import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { explainModelAnomaly, normalWindowsOf } from '../../../src/core/loop/modelEvidence';
import type { SignalName } from '../../../src/core/model/signal';
import type { ModelPort, ModelScore } from '../../../src/core/ports';
import { FileStore } from '../../../src/infra/store/fileStore';
import { TfjsModel } from '../../../src/infra/tfjs/tfjsModel';
import { MODEL_SIGNALS } from '../../../src/infra/tfjs/windowSpec';
import { MemoryLogger } from '../../fakes/nullLogger';
import { loopRig, normalValues, STEP_MS } from './loopRig';

type Window = ReadonlyArray<ReadonlyArray<number>>;

/** A ModelPort that records what the loop asks of it and answers what the test says. */
class RecordingModel implements ModelPort {
  readonly signals: ReadonlyArray<SignalName> = MODEL_SIGNALS;
  readonly windowSize = 12;
  scored: Window[] = [];
  tuned: Window[][] = [];
  saved: string[] = [];
  answer: (w: Window) => ModelScore | Promise<ModelScore> = () => ({ score: 0.01, contributions: { request_rate: 1 } });
  async score(_key: string, windows: ReadonlyArray<Window>): Promise<ReadonlyArray<ModelScore>> {
    this.scored.push(...windows);
    return Promise.all(windows.map((w) => this.answer(w)));
  }
  async fineTune(_key: string, windows: ReadonlyArray<Window>) {
    this.tuned.push([...windows]);
    return { loss: 0.1 };
  }
  async save(key: string) {
    this.saved.push(key);
  }
  async load() {
    return false;
  }
}

describe('the multi-signal model in the live loop', function () {
  this.timeout(120_000);

  it('scores only once fine-tuned on normal windows, asynchronously, fusing the score of window t at frame t+1', async () => {
    const model = new RecordingModel();
    const rig = loopRig({ model, modelOptions: { firstFineTuneWindows: 30, fineTuneEveryMs: 600_000, matureAfterWindows: 0, persistWindows: 1 } });
    const ev = rig.loop.modelEvidence!;
    let k = 0;
    // an anomalous stretch (a rule fires on it) must never be trained on
    for (; k < 100; k++) {
      rig.frame(k >= 20 && k < 26 ? { ...normalValues(k), error_ratio: 0.3 } : normalValues(k));
      await ev.idle();
    }
    assert.equal(model.tuned.length, 1, 'one first fine-tune');
    assert.ok(model.tuned[0].length >= 30);
    for (const w of model.tuned[0]) assert.ok(w.every((row) => row[MODEL_SIGNALS.indexOf('error_ratio')] < 0.05), 'no window of the error burst, or just before it, is trained on');
    const scoredBefore = model.scored.length;
    // the first 30 normal windows after the burst end at frame 67 and are settled 12 frames later
    assert.ok(scoredBefore > 0 && scoredBefore <= 100 - 79, `scored ${scoredBefore} windows, none before the fine-tune`);
    // the window is the service's values in the model's signal order, newest row last, each the median of its last three
    const last = model.scored[model.scored.length - 1];
    assert.equal(last.length, 12);
    assert.deepEqual(last[11], MODEL_SIGNALS.map((s) => [k - 3, k - 2, k - 1].map((j) => normalValues(j)[s]!).sort((a, b) => a - b)[1]));

    // a high model score on the window ending at frame t raises frame t+1, naming the signals that moved together
    model.answer = () => ({ score: 0.99, contributions: { latency_p99: 0.55, cpu: 0.35, request_rate: 0.1 } });
    rig.frame(normalValues(k++));
    await ev.idle();
    // ... but only when a signal it blames is outside its expected band: a shape alone does not page
    const inBand = rig.frame(normalValues(k++));
    assert.equal(inBand.isAnomaly, false, inBand.reason);
    await ev.idle();
    const next = rig.frame({ ...normalValues(k++), latency_p99: 0.25 });
    assert.equal(next.isAnomaly, true, next.reason);
    assert.match(next.reason, /^model: signals moved together unlike this service's normal windows \(score 0\.99\): latency_p99 55% \(250 ms vs [\d.]+ ms\), cpu 35%/);
    model.answer = () => ({ score: 0.01, contributions: { request_rate: 1 } });
  });

  it("gives no evidence the latency quantiles carry alone (the relationship model's gate, LATENCY_ALONE); latency beside other signals counts", async () => {
    /** What the loop makes of a p99 out of its band once the model scores every window `score` with these contributions. */
    const p99Raised = async (contributions: ModelScore['contributions']) => {
      const model = new RecordingModel();
      const rig = loopRig({ model, modelOptions: { firstFineTuneWindows: 30, fineTuneEveryMs: 600_000, matureAfterWindows: 0, persistWindows: 1 } });
      const ev = rig.loop.modelEvidence!;
      let k = 0;
      for (; k < 100; k++) {
        rig.frame(normalValues(k));
        await ev.idle();
      }
      assert.ok(ev.isReady('service:shop/cart'));
      model.answer = () => ({ score: 0.99, contributions });
      // the score of the window ending at this frame is fused at the next one
      rig.frame(normalValues(k++));
      await ev.idle();
      return rig.frame({ ...normalValues(k++), latency_p99: 0.25 });
    };
    const alone = await p99Raised({ latency_p99: 0.8, latency_p95: 0.15, cpu: 0.05 });
    assert.equal(alone.isAnomaly, false, `p99 and p95 carry 95 % of the score: the model adds no evidence (${alone.reason})`);
    const beside = await p99Raised({ latency_p99: 0.55, cpu: 0.35, request_rate: 0.1 });
    assert.equal(beside.isAnomaly, true, 'p99 55 % beside CPU 35 %: the model speaks');
    assert.match(beside.reason, /^model: .*latency_p99 55%.*cpu 35%/);
  });

  it('fine-tunes online on new normal windows only, bounded, and saves periodically', async () => {
    const model = new RecordingModel();
    const rig = loopRig({ model, modelOptions: { firstFineTuneWindows: 30, fineTuneEveryMs: 120_000, fineTuneMaxWindows: 20, saveEveryMs: 300_000 } });
    const ev = rig.loop.modelEvidence!;
    const rate = MODEL_SIGNALS.indexOf('request_rate');
    // request_rate carries the step number, so each window names its last row
    for (let k = 0; k < 200; k++) {
      rig.frame({ ...normalValues(k), request_rate: 1000 + k });
      await ev.idle();
    }
    assert.ok(model.tuned.length >= 4, `${model.tuned.length} fine-tunes`);
    const lastRows = model.tuned.map((batch) => batch.map((w) => w[11][rate]));
    for (let i = 0; i < lastRows.length; i++) {
      assert.ok(lastRows[i].length <= 20, 'bounded by fineTuneMaxWindows');
      if (i > 0) assert.ok(Math.min(...lastRows[i]) > Math.max(...lastRows[i - 1]), `fine-tune ${i} repeats no window: ${lastRows[i - 1]} then ${lastRows[i]}`);
    }
    // the first fine-tune saves at once (its model now scores); later ones at most every 5 minutes of frames
    assert.ok(model.saved.length >= 2 && model.saved.length <= 1 + Math.ceil((200 * 5_000) / 300_000), `${model.saved.length} saves`);
  });

  it('never makes a frame wait, and never uses a score older than one interval', async () => {
    const model = new RecordingModel();
    const rig = loopRig({ model, modelOptions: { firstFineTuneWindows: 20, matureAfterWindows: 0, persistWindows: 1 } });
    const ev = rig.loop.modelEvidence!;
    let k = 0;
    for (; k < 60; k++) {
      rig.frame(normalValues(k));
      await ev.idle();
    }
    assert.ok(ev.isReady('service:shop/cart'));
    // the model hangs: frames go on, one window in flight, no pile-up
    let release: (s: ModelScore) => void = () => undefined;
    model.answer = () => new Promise<ModelScore>((resolve) => (release = resolve));
    const before = model.scored.length;
    for (let i = 0; i < 5; i++) rig.frame(normalValues(k++));
    assert.equal(model.scored.length, before + 1, 'only one window in flight');
    // its late answer (for a window 5 frames old) is not fused
    release({ score: 0.99, contributions: { cpu: 1 } });
    await ev.idle();
    const after = rig.frame(normalValues(k++));
    assert.equal(after.isAnomaly, false, `a stale score raised: ${after.reason}`);
  });

  it('raises only once the model is mature, and only on consecutive surprising windows; a one-sample spike does not echo', async () => {
    const model = new RecordingModel();
    const rig = loopRig({ model, modelOptions: { firstFineTuneWindows: 20, fineTuneEveryMs: 60_000, matureAfterWindows: 60, persistWindows: 3 } });
    const ev = rig.loop.modelEvidence!;
    // the model is surprised by every window while its calibration is young: nothing is fused
    model.answer = () => ({ score: 0.99, contributions: { cpu: 1 } });
    let k = 0;
    let raisedYoung = 0;
    for (; k < 60; k++) {
      raisedYoung += Number(rig.frame(normalValues(k)).isAnomaly);
      await ev.idle();
    }
    assert.ok(ev.isReady('service:shop/cart') && model.tuned.flat().length < 60, `tuned on ${model.tuned.flat().length}`);
    assert.equal(raisedYoung, 0, 'a young model raises nothing');
    for (; model.tuned.flat().length < 60; k++) {
      rig.frame(normalValues(k));
      await ev.idle();
    }
    // mature now; a surprise raises only from the third consecutive surprising window on
    const verdicts: boolean[] = [];
    model.answer = () => ({ score: 0.01, contributions: { cpu: 1 } });
    for (let i = 0; i < 4; i++, k++) {
      rig.frame(normalValues(k));
      await ev.idle();
    }
    model.answer = () => ({ score: 0.99, contributions: { cpu: 1 } });
    for (let i = 0; i < 4; i++, k++) {
      verdicts.push(rig.frame({ ...normalValues(k), cpu: 0.6 }).isAnomaly); // cpu out of its band: the baselines corroborate
      await ev.idle();
    }
    assert.deepEqual(verdicts, [false, false, false, true], 'windows t-3..t-1 all surprised the model');
    // a single wild cpu sample is smoothed away: no window the model sees carries it
    const seen = model.scored.length;
    rig.frame({ ...normalValues(k++), cpu: 50 });
    await ev.idle();
    for (let i = 0; i < 12; i++, k++) {
      rig.frame(normalValues(k));
      await ev.idle();
    }
    const cpu = MODEL_SIGNALS.indexOf('cpu');
    assert.ok(model.scored.slice(seen).every((w) => w.every((row) => row[cpu] < 1)), 'the spike never reached the model');
  });

  it('a model failure is logged once and detection goes on without it', async () => {
    const model = new RecordingModel();
    const rig = loopRig({ model, modelOptions: { firstFineTuneWindows: 20 } });
    const ev = rig.loop.modelEvidence!;
    model.answer = () => Promise.reject(new Error('wasm backend unavailable: missing tfjs-backend-wasm-simd.wasm'));
    let k = 0;
    for (; k < 60; k++) {
      rig.frame(normalValues(k));
      await ev.idle();
    }
    const errors = rig.logger.lines.filter((l) => l.level === 'error');
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.match(errors[0].message, /multi-signal model failed \(wasm backend unavailable.*\); detection goes on with rules and baselines only/);
    assert.equal(ev.failure, 'wasm backend unavailable: missing tfjs-backend-wasm-simd.wasm');
    const scoredAfterFailure = model.scored.length;
    const burst = [0, 1, 2, 3, 4].map(() => rig.frame({ ...normalValues(k++), error_ratio: 0.3 }));
    assert.ok(burst.some((v) => v.isAnomaly && v.reason.startsWith('rule:')), 'rules still raise');
    assert.equal(model.scored.length, scoredAfterFailure, 'the failed model is left out');
  });

  it('normal windows exclude gaps, anomalies and, once settled, the window before an anomaly', () => {
    // 60 rows every 5 s, an anomaly at row 15, a minute's gap before row 45
    const t = Array.from({ length: 60 }, (_, i) => i * STEP_MS + (i >= 45 ? 60_000 : 0));
    const rows = t.map((_, i) => [i, 0, 0, 0, 0, 0, 0, 0]);
    const anomalous = t.map((_, i) => i === 15);
    const ends = (settled: boolean) => normalWindowsOf({ t, rows, anomalous }, 12, -Infinity, settled).ends.map((x) => t.indexOf(x));
    const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
    // a window ending at e reads rows e-13..e (its medians reach two rows back)
    assert.deepEqual(ends(false), [...range(13, 14), ...range(29, 44), ...range(58, 59)]);
    // settled: the next 12 rows must be clean too, and present
    assert.deepEqual(ends(true), range(29, 32));
    assert.deepEqual(normalWindowsOf({ t, rows, anomalous }, 12, t[30], true).ends.map((x) => t.indexOf(x)), range(31, 32), 'only windows ending after `after`');
  });

  it('explains only anomalies the model raised', () => {
    const base = { target: { kind: 'service' as const, namespace: 'shop', name: 'cart' }, t: 0, detector: 'fusion' as const, score: 0.95, isAnomaly: true, severity: 'warning' as const };
    const stat = { ...base, reason: 'cpu 0.9 above its seasonal band', contributions: [{ signal: 'cpu' as const, share: 1 }] };
    assert.equal(explainModelAnomaly(stat), stat);
    const m = explainModelAnomaly({ ...base, reason: 'model: multi-signal model', contributions: [{ signal: 'memory' as const, share: 0.7, observed: 3e8, band: { lower: 1e8, expected: 2e8, upper: 2.2e8 } }, { signal: 'latency_p95' as const, share: 0.25 }, { signal: 'cpu' as const, share: 0.05 }] });
    assert.equal(m.reason, "model: signals moved together unlike this service's normal windows (score 0.95): memory 70% (286 MiB vs 191 MiB), latency_p95 25%");
  });
});

describe('the live model with TensorFlow.js (wasm)', function () {
  this.timeout(180_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-live-model-'));
  });
  // a model's save may still be writing its files when the last case ends: rmSync retries ENOTEMPTY (seen once, a unit run at 1312a6c)
  after(() => rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }));

  it('a damaged saved model is reported once; the service starts from the base model and detection goes on', async () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-live-model-bad-'));
    try {
      const logger = new MemoryLogger();
      const model = new TfjsModel({ stateDir, baseModelDir: path.resolve('models/base'), logger });
      mkdirSync(model.serviceDir('service:shop/cart'), { recursive: true });
      writeFileSync(path.join(model.serviceDir('service:shop/cart'), 'model.json'), '{"modelTopology": ');
      const rig = loopRig({ model, modelOptions: { firstFineTuneWindows: 40 } });
      const ev = rig.loop.modelEvidence!;
      let raised = 0;
      for (let k = 0; k < 80; k++) {
        raised += Number(rig.frame(k >= 70 && k < 75 ? { ...normalValues(k), error_ratio: 0.3 } : normalValues(k)).isAnomaly);
        await ev.idle();
      }
      const warnings = logger.lines.filter((l) => /cannot load the saved model of service:shop\/cart/.test(l.message));
      assert.equal(warnings.length, 1, JSON.stringify(logger.lines));
      assert.ok(ev.isReady('service:shop/cart') && ev.failure === undefined, 'fine-tuned from the base model');
      assert.ok(raised > 0, 'the rules still raise the error burst');
      await model.dispose();
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it('fine-tunes per service on live normal frames, saves on flush, and a restart loads it and scores at once', async () => {
    const store = new FileStore(dir);
    const model = new TfjsModel({ stateDir: dir, baseModelDir: path.resolve('models/base') });
    const rig = loopRig({ store, model, modelOptions: { firstFineTuneWindows: 150 } });
    const ev = rig.loop.modelEvidence!;
    let k = 0;
    for (; k < 200; k++) {
      rig.frame(normalValues(k));
      await ev.idle();
    }
    assert.ok(ev.isReady('service:shop/cart'), 'fine-tuned and scoring');
    assert.ok(ev.stats.scored > 0 && ev.stats.fineTunes === 1, JSON.stringify(ev.stats));
    await ev.flush();
    await model.dispose();

    const model2 = new TfjsModel({ stateDir: dir, baseModelDir: path.resolve('models/base') });
    const rig2 = loopRig({ store, model: model2 });
    const ev2 = rig2.loop.modelEvidence!;
    rig2.frame(normalValues(k++));
    await ev2.idle();
    assert.ok(ev2.isReady('service:shop/cart'), 'loaded from the saved model: no new warm-up');
    for (let i = 0; i < 13; i++) {
      rig2.frame(normalValues(k++));
      await ev2.idle();
    }
    assert.ok(ev2.stats.scored >= 1, 'scores from the restored history at once');
    // memory and latency climbing together on a calm service: the model scores it high, naming them
    const scores: ModelScore[] = [];
    const real = model2.score.bind(model2);
    model2.score = async (key, windows) => {
      const s = await real(key, windows);
      scores.push(...s);
      return s;
    };
    for (let i = 1; i <= 8; i++) {
      const v = normalValues(k++);
      rig2.frame({ ...v, memory: v.memory! * (1 + 0.25 * i), latency_p99: v.latency_p99! * (1 + 0.3 * i), latency_p95: v.latency_p95! * (1 + 0.3 * i) });
      await ev2.idle();
    }
    const top = scores[scores.length - 1];
    assert.ok(top.score >= 0.9, `model score ${top.score}`);
    const moved = ['memory', 'latency_p95', 'latency_p99'].reduce((a, s) => a + (top.contributions[s as SignalName] ?? 0), 0);
    assert.ok(moved >= 0.7, JSON.stringify(top.contributions));
    await model2.dispose();
    // both loops save their detector state into `dir` in the background (every 12 frames): wait for the last write,
    // or the after hook's rm races it (ENOTEMPTY on dir/state, a unit run at f78b23b)
    await Promise.all([rig.loop.persist(), rig2.loop.persist()]);
  });
});
