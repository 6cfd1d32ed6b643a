import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LogLevel, LoggerPort } from '../../../src/core/ports';
import { ModelProcess } from '../../../src/infra/tfjs/modelProcess';
import { injectRamp, STEPS_PER_DAY, syntheticService, windowsOf } from '../../../src/infra/tfjs/syntheticData';
import { TfjsModel } from '../../../src/infra/tfjs/tfjsModel';

function processRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The model in its own process answers as the model in this one does, logs through the parent, and comes back after it died. */
describe('ModelProcess (the model in a child process)', function () {
  this.timeout(180_000);
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-model-process-'));
  const ownDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-model-inproc-'));
  const baseModelDir = path.resolve('models/base');
  const service = syntheticService(4711, 3, 'shop/cart');
  const history = windowsOf(service.rows, 2, 0, 2 * STEPS_PER_DAY);
  const heldOut = windowsOf(service.rows, 1, 2 * STEPS_PER_DAY).filter((_, k) => k % 50 === 0);
  const windows = [...heldOut, injectRamp(heldOut[1], ['error_ratio'], 40)];
  const lines: Array<{ level: LogLevel; message: string }> = [];
  const logger: LoggerPort = { log: (level, message) => lines.push({ level, message }), child: () => logger };
  // the worker as TypeScript through tsx: the bundle (dist/modelWorker.js) is the same file built
  const child = new ModelProcess({ stateDir, baseModelDir, logger, worker: { path: path.resolve('src/infra/tfjs/modelWorker.ts'), execArgv: ['--import', 'tsx'] } });
  const own = new TfjsModel({ stateDir: ownDir, baseModelDir });
  after(async () => {
    await child.dispose();
    await own.dispose();
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(ownDir, { recursive: true, force: true });
  });

  it('starts on its first call and scores, fine-tunes and saves as the model in this process does', async () => {
    assert.equal(child.loaded, false);
    assert.equal(await child.backend(), 'not loaded');
    const [a, b] = await Promise.all([child.fineTune('shop/cart', history), own.fineTune('shop/cart', history)]);
    assert.ok(child.pid && child.pid !== process.pid && processRunning(child.pid), `a child process runs the model (pid ${child.pid})`);
    assert.ok(Math.abs(a.loss - b.loss) < 1e-6, `fine-tune loss ${a.loss} in the child, ${b.loss} here`);
    const [fromChild, fromHere] = await Promise.all([child.score('shop/cart', windows), own.score('shop/cart', windows)]);
    assert.equal(fromChild.length, windows.length);
    for (let k = 0; k < windows.length; k++) assert.ok(Math.abs(fromChild[k].score - fromHere[k].score) < 1e-6, `window ${k}: ${fromChild[k].score} vs ${fromHere[k].score}`);
    assert.ok(fromChild[windows.length - 1].score >= 0.9, 'the error spike scores high');
    assert.equal(await child.backend(), await own.backend());
    await child.save('shop/cart');
    assert.ok(lines.some((l) => /model process started \(pid \d+\)/.test(l.message)), lines.map((l) => l.message).join('\n'));
  });

  it('rejects the calls a dead model process leaves, and the next call starts it again', async () => {
    const pid = child.pid!;
    const inFlight = child.fineTune('shop/cart', history);
    process.kill(pid, 'SIGKILL');
    await assert.rejects(inFlight, /the model process exited \(signal SIGKILL\) during fineTune/);
    // loads the model the first process saved
    assert.equal(await child.load('shop/cart'), true);
    assert.notEqual(child.pid, pid);
    const again = await child.score('shop/cart', windows.slice(-1));
    assert.ok(again[0].score >= 0.9);
  });

  it('ends the process on dispose', async () => {
    const pid = child.pid!;
    await child.dispose();
    assert.equal(child.loaded, false);
    assert.equal(processRunning(pid), false);
  });
});

/** A model process that dies at once is restarted a bounded number of times, then paused, not forked for every frame. */
describe('ModelProcess restarts', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-model-dies-'));
  const script = path.join(dir, 'dies.js');
  writeFileSync(script, 'process.exit(3);\n');
  after(() => rmSync(dir, { recursive: true, force: true }));
  // the call is sent before the process exits, or the channel is already closed when it is sent
  const DIED = /the model process (exited \(code 3\) during score|did not take the score call)/;

  it('pauses after 3 exits within the window, says until when, and starts again after the pause', async () => {
    let now = Date.parse('2026-12-06T03:00:00Z');
    const lines: Array<{ level: LogLevel; message: string }> = [];
    const logger: LoggerPort = { log: (level, message) => lines.push({ level, message }), child: () => logger };
    const model = new ModelProcess({ stateDir: dir, logger, worker: { path: script }, restarts: { max: 3, windowMs: 600_000, pauseMs: 300_000 }, now: () => now });
    for (let k = 1; k <= 3; k++) {
      await assert.rejects(model.score('shop/cart', []), DIED);
      now += 60_000;
    }
    assert.ok(lines.some((l) => l.level === 'error' && /exited \(code 3\): 3 exits within 10 min, so the model is paused for 5 min/.test(l.message)), lines.map((l) => l.message).join('\n'));
    await assert.rejects(model.score('shop/cart', []), /exited 3 times within 10 min; the model is paused until 2026-12-06T03:07:00.000Z \(rules and baselines go on\)/);
    const started = () => lines.filter((l) => /model process started/.test(l.message)).length;
    assert.equal(started(), 3, 'no process was forked while paused');
    now += 300_000;
    await assert.rejects(model.score('shop/cart', []), DIED);
    assert.equal(started(), 4, 'started again after the pause');
    await model.dispose();
  });
});
