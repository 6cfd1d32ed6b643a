import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AGENT_FLAGS, run } from '../../../src/cli/agent';

describe('vigil agent settings', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-agent-settings-'));
  const file = path.join(dir, 'vigil.yaml');
  writeFileSync(file, 'automation:\n  mode: auto\nsafety:\n  deniedNamespaces: [shop]\n');

  it('keeps today’s flags and adds --config, --dry-run, --deny/--allow-namespace, --print-config', () => {
    for (const f of ['kubeconfig', 'context', 'prometheus', 'mode', 'state-dir', 'interval-seconds', 'namespace', 'playbooks', 'log-level', 'config', 'dry-run', 'deny-namespace', 'allow-namespace', 'print-config']) assert.ok(f in AGENT_FLAGS, f);
    assert.equal(AGENT_FLAGS.namespace.multiple, true);
  });

  it('--print-config prints every effective value and its source, and exits 0 without connecting', async () => {
    let out = '';
    const code = await run(['--print-config', '--mode', 'suggest', '--kubeconfig', '/nonexistent/kubeconfig'], { env: { VIGIL_CONFIG: file, VIGIL_STATE_DIR: '/var/lib/vigil' }, write: (t) => (out += t) });
    assert.equal(code, 0);
    assert.match(out, new RegExp(`^safety\\.deniedNamespaces = \\["shop"\\] +\\(file ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:4\\)$`, 'm'));
    assert.match(out, /^automation\.mode = "suggest" +\(flag --mode\)$/m);
    assert.match(out, /^agent\.stateDir = "\/var\/lib\/vigil" +\(env VIGIL_STATE_DIR\)$/m);
  });

  it('a bad setting stops the agent before it connects, naming the key and the fix', async () => {
    await assert.rejects(run(['--mode', 'yolo', '--state-dir', dir], { env: {}, write: () => undefined }), /automation\.mode is "yolo"; use one of "off", "suggest", "auto" \(from flag --mode\)/);
    await assert.rejects(run([], { env: {}, write: () => undefined }), /a state directory is required: --state-dir DIR, VIGIL_STATE_DIR or agent\.stateDir/);
  });
});
