import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { findWasmDir, loadTf, selectBackend } from '../../../src/infra/tfjs/backend';

describe('tfjs backend selection', () => {
  it('uses the wasm backend from node_modules when tfjs-node is absent, and says why', async () => {
    const r = await loadTf();
    assert.equal(r.backend, 'wasm');
    assert.equal(r.tf.getBackend(), 'wasm');
    assert.match(r.reason, /tfjs-node is not installed; wasm files from .*tfjs-backend-wasm/);
    const sum = r.tf.tidy(() => r.tf.add(r.tf.tensor1d([1, 2]), r.tf.tensor1d([3, 4])).dataSync());
    assert.deepEqual(Array.from(sum), [4, 6]);
  });

  /** A stand-in `require` where tfjs-node resolves; loading it does what `load` says. */
  function requireWithTfjsNode(load: () => unknown) {
    const fake = (id: string) => (id === '@tensorflow/tfjs-node' ? load() : require(id));
    fake.resolve = (id: string) => (id === '@tensorflow/tfjs-node' ? '/fake/node_modules/@tensorflow/tfjs-node/index.js' : require.resolve(id));
    return fake;
  }

  it('tries tfjs-node when it resolves, and falls back to wasm with the reason when it fails to load', async () => {
    const r = await selectBackend(
      requireWithTfjsNode(() => {
        throw new Error('util.isNullOrUndefined is not a function\n    at stack');
      }),
    );
    assert.equal(r.backend, 'wasm');
    assert.match(r.reason, /^@tensorflow\/tfjs-node failed to load: util\.isNullOrUndefined is not a function; wasm files from /);
  });

  it('falls back when tfjs-node loads but registers no backend with this copy of tfjs', async () => {
    let loaded = 0;
    const r = await selectBackend(requireWithTfjsNode(() => ({ loaded: ++loaded })));
    assert.equal(loaded, 1);
    assert.equal(r.backend, 'wasm');
    assert.match(r.reason, /tfjs-node loaded but registered no backend/);
  });

  it('loads tfjs only on first use, not when the model class is imported or constructed', function () {
    this.timeout(60_000);
    const script = [
      "const { TfjsModel } = require('./src/infra/tfjs/tfjsModel.ts');",
      "new TfjsModel({ stateDir: require('os').tmpdir() });",
      "const early = Object.keys(require.cache).filter((k) => k.includes('@tensorflow'));",
      "require('./src/infra/tfjs/backend.ts').loadTf().then((r) => {",
      "  const late = Object.keys(require.cache).filter((k) => k.includes('@tensorflow'));",
      "  console.log(JSON.stringify({ early: early.length, late: late.length, backend: r.backend }));",
      '});',
    ].join('\n');
    const r = spawnSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { early: number; late: number; backend: string };
    assert.equal(out.early, 0, 'no @tensorflow module loaded before first use');
    assert.ok(out.late > 0, 'tfjs is loaded on first use');
    assert.equal(out.backend, 'wasm');
  });

  it('finds the directory holding the .wasm files', () => {
    const dir = findWasmDir();
    assert.ok(dir);
    assert.ok(existsSync(path.join(dir, 'tfjs-backend-wasm-simd.wasm')));
  });
});
