import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { COMMANDS } from '../../src/cli/commands';

describe('vigil --help', function () {
  this.timeout(60_000);
  const expected = ['agent', 'sandbox', 'node-agent', 'chaos', 'detect', 'replay', 'approve', 'reject', 'snooze', 'feedback', 'audit', 'demo', 'report', 'train-model', 'retrain-model', 'thresholds'];

  it('lists every subcommand with one line each', () => {
    const r = spawnSync(process.execPath, ['dist/cli.js', '--help'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    for (const name of expected) {
      const lines = r.stdout.split('\n').filter((l) => new RegExp(`^  ${name}\\s{2,}\\S`).test(l));
      assert.equal(lines.length, 1, `one help line for ${name}`);
    }
    assert.deepEqual(COMMANDS.map((c) => c.name).sort(), [...expected].sort());
  });

  it('rejects an unknown command with exit 2 and the help', () => {
    const r = spawnSync(process.execPath, ['dist/cli.js', 'frobnicate'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown command "frobnicate"/);
  });
});
