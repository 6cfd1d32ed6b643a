import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { findWasmDir, loadTf } from '../../../src/infra/tfjs/backend';

describe('tfjs backend selection', () => {
  it('uses the wasm backend from node_modules when tfjs-node is absent, and says why', async () => {
    const r = await loadTf();
    assert.equal(r.backend, 'wasm');
    assert.equal(r.tf.getBackend(), 'wasm');
    assert.match(r.reason, /tfjs-node is not installed; wasm files from .*tfjs-backend-wasm/);
    const sum = r.tf.tidy(() => r.tf.add(r.tf.tensor1d([1, 2]), r.tf.tensor1d([3, 4])).dataSync());
    assert.deepEqual(Array.from(sum), [4, 6]);
  });

  it('finds the directory holding the .wasm files', () => {
    const dir = findWasmDir();
    assert.ok(dir);
    assert.ok(existsSync(path.join(dir, 'tfjs-backend-wasm-simd.wasm')));
  });
});
