import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LoggerPort, LogLevel } from '../../../src/core/ports';
import { DEFAULT_SETTINGS, withSettings } from '../../../src/core/settings';
import type { CoreEvent, CoreStarted } from '../../../src/vscode/coreClient';
import { CoreProcess } from '../../../src/vscode/coreProcess';
import { FAKE_CORE_WORKER, until } from './fakeCoreWorker';

describe('CoreProcess (the healing loop in a child process)', function () {
  this.timeout(30_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-core-process-'));
  const script = path.join(dir, 'fakeCoreWorker.js');
  writeFileSync(script, FAKE_CORE_WORKER);
  after(() => rmSync(dir, { recursive: true, force: true }));
  const settings = (mode: 'suggest' | 'auto') => withSettings(DEFAULT_SETTINGS, { automation: { mode, namespaceModes: {} }, agent: { stateDir: dir } });

  function harness(restarts = { max: 2, windowMs: 600_000 }) {
    const events: CoreEvent[] = [];
    const lost: Array<{ reason: string; restarting: boolean }> = [];
    const restarted: CoreStarted[] = [];
    const lines: Array<{ level: LogLevel; message: string }> = [];
    const logger: LoggerPort = { log: (level, message) => lines.push({ level, message }), child: () => logger };
    const core = new CoreProcess({
      logger,
      worker: { path: script },
      restarts,
      listener: { event: (e) => events.push(e), lost: (reason, restarting) => lost.push({ reason, restarting }), restarted: (s) => restarted.push(s) },
    });
    return { core, events, lost, restarted, lines };
  }

  it('maps calls to replies and rejections, and streams events to the listener', async () => {
    const { core, events } = harness();
    const started = await core.start({ settings: settings('suggest'), identity: 'test' });
    assert.equal(started.state.mode, 'suggest');
    assert.equal(started.server, `http://fake:${core.pid}`);
    await until(() => events.length > 0, 5_000, 'the start event');
    assert.deepEqual(events[0], { kind: 'log', component: 'engine', level: 'info', message: 'started in suggest mode' });
    await until(() => events.length === 3, 5_000, 'the incident and the approval request');
    assert.deepEqual(events.slice(1).map((e) => e.kind), ['incident', 'approvalNeeded']);
    const stats = await core.call('stats');
    assert.equal(stats.pid, core.pid);
    assert.ok(stats.pid !== process.pid, 'the loop runs in another process');
    await assert.rejects(core.call('approve', 'inc-1', 'user:me'), /^Error: no incident "inc-1"$/);
    assert.equal((await core.call('applySettings', settings('auto'))).mode, 'auto');
    const pid = core.pid as number;
    await core.dispose();
    assert.equal(core.pid, undefined);
    assert.throws(() => process.kill(pid, 0), 'the process exited on dispose');
    await assert.rejects(core.call('stats'), /the healing loop is not running/);
  });

  it('starts a process that died again with the latest settings, within its budget, then stays down and says so', async () => {
    const { core, lost, restarted, lines } = harness({ max: 2, windowMs: 600_000 });
    await core.start({ settings: settings('suggest'), identity: 'test' });
    // settings applied while running are what a restarted process starts with
    await core.call('applySettings', settings('auto'));
    for (let k = 1; k <= 2; k++) {
      const pid = core.pid as number;
      process.kill(pid, 'SIGKILL');
      await until(() => restarted.length === k, 10_000, `restart ${k}`);
      assert.notEqual(core.pid, pid, 'a new process');
      assert.equal(restarted[k - 1].state.mode, 'auto', 'restarted with the settings applied last');
      assert.deepEqual(lost[k - 1], { reason: "the healing loop's process exited (signal SIGKILL)", restarting: true });
      assert.equal((await core.call('stats')).pid, core.pid, 'answers again');
    }
    process.kill(core.pid as number, 'SIGKILL');
    await until(() => lost.length === 3, 10_000, 'the third exit');
    assert.deepEqual(lost[2], { reason: "the healing loop's process exited (signal SIGKILL), 3 times within 10 min", restarting: false });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(restarted.length, 2, 'not started a third time');
    assert.equal(core.pid, undefined);
    await assert.rejects(core.call('stats'), /the healing loop is not running/);
    assert.ok(lines.some((l) => l.level === 'error' && /exited 3 times within 10 min, so it is not started again/.test(l.message)), lines.map((l) => l.message).join('\n'));
    await core.dispose();
  });

  it('a missing worker script fails the start with the fix', async () => {
    const core = new CoreProcess({ worker: { path: path.join(dir, 'missing.js') }, listener: { event: () => undefined } });
    await assert.rejects(core.start({ settings: settings('suggest'), identity: 'test' }), /healing loop's script .*missing\.js is missing; rebuild the extension \(npm run build\)/);
  });
});
