import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../../../src/cli/trainModel';

describe('vigil train-model', function () {
  this.timeout(60_000);
  const root = mkdtempSync(path.join(os.tmpdir(), 'vigil-train-'));
  const small = ['--epochs', '1', '--services', '2', '--days', '2'];
  const lines: string[] = [];
  const output = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
  after(() => rmSync(root, { recursive: true, force: true }));

  it('writes model.json, weights.bin and training.json, byte-identical weights for the same seed', async () => {
    const a = path.join(root, 'a');
    const b = path.join(root, 'b');
    const c = path.join(root, 'c');
    assert.equal(await run(['--out', a, '--seed', '5', ...small], output), 0);
    assert.equal(await run(['--out', b, '--seed', '5', ...small], output), 0);
    assert.equal(await run(['--out', c, '--seed', '6', ...small], output), 0);
    const weights = (dir: string) => readFileSync(path.join(dir, 'weights.bin'));
    assert.ok(weights(a).equals(weights(b)), 'same seed, same weights');
    assert.ok(!weights(a).equals(weights(c)), 'another seed, other weights');
    const training = JSON.parse(readFileSync(path.join(a, 'training.json'), 'utf8'));
    assert.equal(training.seed, 5);
    assert.equal(training.epochs, 1);
    assert.equal(training.command, 'vigil train-model --seed 5 --epochs 1 --services 2 --days 2');
    assert.ok(training.finalLoss > 0 && Number.isFinite(training.calibration.heldOutErrorP99));
    const model = JSON.parse(readFileSync(path.join(a, 'model.json'), 'utf8'));
    assert.equal(model.userDefinedMetadata.vigil.kind, 'base');
    assert.ok(lines.some((l) => /^\[model\] epoch 1\/1 loss \d/.test(l)), 'progress per epoch');
    assert.ok(lines.some((l) => l.startsWith('trained the base model on wasm')), lines.join('\n'));
  });

  it('names the flag when an option is wrong', async () => {
    await assert.rejects(run(['--epochs', 'many']), /--epochs must be a whole number, got "many"/);
    await assert.rejects(run(['--days', '1']), /--days must be at least 2/);
    await assert.rejects(run(['--frobnicate']), /train-model: .*--frobnicate.*Run `vigil train-model --help`/);
    const file = path.join(root, 'plain-file');
    writeFileSync(file, 'not a directory');
    await assert.rejects(run(['--out', path.join(file, 'sub'), ...small], output), new RegExp(`cannot write to --out ${file}/sub: .*Pass a writable directory`));
  });
});
