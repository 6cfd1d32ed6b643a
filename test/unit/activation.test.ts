import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { installVscodeStub } from '../fakes/vscodeStub';

/**
 * Loads the built bundle (dist/extension.js) with a recording stub of 'vscode' and times
 * require + activate. The heavy libraries live in lazily loaded chunks; none may load here.
 */
describe('extension activation', () => {
  const dist = path.resolve('dist');

  it('activates in well under 100 ms and loads neither tfjs nor the Kubernetes client', () => {
    const record = installVscodeStub();
    const before = new Set(Object.keys(require.cache));
    const t0 = process.hrtime.bigint();
    const ext = require(path.join(dist, 'extension.js')) as { activate(ctx: unknown): void };
    const subscriptions: unknown[] = [];
    ext.activate({ subscriptions, extensionUri: { path: dist }, extensionPath: dist });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    console.log(`      activation (require + activate) took ${ms.toFixed(1)} ms`);
    assert.ok(ms < 100, `activation took ${ms} ms`);

    const loaded = Object.keys(require.cache).filter((k) => !before.has(k));
    const heavy = loaded.filter((k) => /tfjs|tensorflow|client-node|chunks[\\/]/.test(k));
    assert.deepEqual(heavy, [], `activation loaded ${heavy.join(', ')}`);
    const bundle = readFileSync(path.join(dist, 'extension.js'), 'utf8');
    assert.doesNotMatch(bundle, /class KubeConfig|registerBackend\(/, 'extension.js must not inline tfjs or client-node');

    assert.ok(record.commands.includes('vigil.startSandbox'));
    assert.deepEqual(record.webviewViews, ['vigil.copilot']);
    assert.deepEqual(record.treeViews, ['vigil.incidents']);
    assert.ok(subscriptions.length >= 5, 'everything registered is a subscription');
  });

  it('every contributed command is registered, and every registered command is contributed', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { contributes: { commands: Array<{ command: string; category: string }> } };
    const record = installVscodeStub();
    delete require.cache[path.join(dist, 'extension.js')];
    const ext = require(path.join(dist, 'extension.js')) as { activate(ctx: unknown): void };
    ext.activate({ subscriptions: [], extensionUri: { path: dist }, extensionPath: dist });
    const contributed = pkg.contributes.commands.map((c) => c.command).sort();
    assert.deepEqual([...new Set(record.commands)].sort(), contributed);
    assert.ok(pkg.contributes.commands.every((c) => c.category === 'Vigil'));
    assert.ok(readdirSync(dist).some((f) => f.endsWith('.wasm')), 'tfjs wasm files are copied to dist/');
  });
});
