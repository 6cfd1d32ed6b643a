import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { HumanDecision } from '../../../src/core/model/decision';
import { AgentLock, LockHeldError, lockFile } from '../../../src/infra/control/agentLock';
import { sendDecision, submitDecision } from '../../../src/infra/control/controlClient';
import { controlSocketPath, ControlServer } from '../../../src/infra/control/controlServer';
import { MemoryLogger } from '../../fakes/nullLogger';

const label = (id: string): HumanDecision => ({ id, kind: 'label', incidentId: 'inc-1', label: 'real', by: 'user:a (cli)', t: 0 });

/** A pid that was alive a moment ago and is not any more. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('control socket and agent lock', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-control-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('answers each decision line with its verdict, owner-only, and names a malformed request', async () => {
    const server = await ControlServer.listen(dir, async (d) => ({ id: d.id, applied: true, message: `did ${d.kind}` }), new MemoryLogger());
    try {
      assert.equal(server.socketPath, path.join(dir, 'agent.sock'));
      assert.equal(statSync(server.socketPath).mode & 0o777, 0o600);
      assert.deepEqual(await sendDecision(dir, label('d-1'), 5000), { id: 'd-1', applied: true, message: 'did label' });
      await assert.rejects(sendDecision(dir, { ...label('d-2'), label: 'meh' } as unknown as HumanDecision, 5000), /not a decision: decision field "label" must be one of/);
    } finally {
      await server.close();
    }
    assert.equal(existsSync(path.join(dir, 'agent.sock')), false, 'the socket goes with the server');
    assert.equal(await sendDecision(dir, label('d-3'), 5000), 'no-agent');
  });

  it('a state directory with a long path gets its socket in the temp directory, the same for both sides', () => {
    const long = path.join(dir, 'x'.repeat(120));
    const p = controlSocketPath(long);
    assert.ok(p.startsWith(os.tmpdir()) && p.length < 100, p);
    assert.equal(controlSocketPath(`${long}/`), p);
  });

  it('one holder at a time; a lock of a dead pid is taken over; release leaves a lock that is not its own', async () => {
    const a = await AgentLock.acquire(dir, 'agent');
    const held = await AgentLock.acquire(dir, 'agent').then(
      () => assert.fail('a second holder'),
      (err: unknown) => err,
    );
    assert.ok(held instanceof LockHeldError);
    assert.match(held.message, new RegExp(`a Vigil agent \\(pid ${process.pid} on .*\\) holds .*agent\\.lock`));
    await a.release();

    writeFileSync(lockFile(dir), JSON.stringify({ pid: deadPid(), role: 'agent', host: os.hostname(), since: 0 }));
    const b = await AgentLock.acquire(dir, 'cli');
    assert.equal(b.holder.pid, process.pid);
    // someone removed b's lock and took it: b's release must not remove theirs
    rmSync(lockFile(dir));
    const c = await AgentLock.acquire(dir, 'agent');
    await b.release();
    assert.ok(existsSync(lockFile(dir)));
    await c.release();
    assert.equal(existsSync(lockFile(dir)), false);
  });

  it('with no agent, a decision waits for the lock of another command and then writes the files itself', async () => {
    const other = await AgentLock.acquire(dir, 'cli');
    setTimeout(() => void other.release(), 300);
    const { verdict, via } = await submitDecision(dir, label('d-4'));
    assert.equal(via, 'files');
    assert.deepEqual(verdict, { id: 'd-4', applied: false, message: 'no incident "inc-1" (list them with `vigil replay --list`)' });
    assert.equal(existsSync(lockFile(dir)), false, 'the command let go of the lock');
  });

  it('an agent that holds the lock but does not answer is named, and nothing is decided', async () => {
    const agent = await AgentLock.acquire(dir, 'agent');
    try {
      await assert.rejects(submitDecision(dir, label('d-5'), { lockWaitMs: 200 }), /a Vigil agent \(pid \d+ .*\) holds .* but does not answer on .*agent\.sock; nothing was decided/);
    } finally {
      await agent.release();
    }
  });
});
