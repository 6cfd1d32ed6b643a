import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LoggerPort } from '../../../src/core/ports';
import { SandboxProcess } from '../../../src/vscode/sandboxProcess';

/** Stand-ins for `vigil sandbox` (no sockets): each prints what the real one would, or fails the way it could. */
const FAKES = {
  ready: `
    const args = process.argv.slice(2);
    process.stderr.write('sandbox args: ' + args.join(' ') + '\\n');
    process.stdout.write('starting\\n');
    process.stdout.write(JSON.stringify({ apiServer: 'http://127.0.0.1:1', metrics: 'http://127.0.0.1:2/metrics', kubeconfig: args[args.indexOf('--kubeconfig') + 1] }) + '\\n');
    process.on('SIGTERM', () => { process.stderr.write('SIGTERM: stopping the sandbox\\n'); process.exit(0); });
    setInterval(() => undefined, 1000);
  `,
  crashes: `process.stderr.write('sandbox could not listen on 127.0.0.1: EADDRINUSE\\n'); process.exit(3);`,
  silent: `setInterval(() => undefined, 1000);`,
  ignoresTerm: `
    process.on('SIGTERM', () => undefined);
    process.stdout.write(JSON.stringify({ apiServer: 'http://127.0.0.1:1', metrics: '', kubeconfig: 'k' }) + '\\n');
    setInterval(() => undefined, 1000);
  `,
};

describe('SandboxProcess (the sandbox as a child process of the extension host)', () => {
  let dir: string;
  const lines: string[] = [];
  const logger: LoggerPort = { log: (level: string, message: string) => void lines.push(`${level} ${message}`) } as unknown as LoggerPort;
  const started: SandboxProcess[] = [];
  const command = (fake: keyof typeof FAKES) => {
    const file = path.join(dir, `${fake}.js`);
    writeFileSync(file, FAKES[fake]);
    return { program: process.execPath, args: [file] };
  };
  const alive = (pid: number | undefined): boolean => {
    try {
      process.kill(pid!, 0);
      return true;
    } catch {
      return false;
    }
  };

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-sandbox-process-'));
  });
  afterEach(() => {
    lines.length = 0;
  });
  after(async () => {
    await Promise.all(started.map((s) => s.stop(100)));
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the ready line, passes seed, day length, kubeconfig and --stop-with-stdin, and logs its stderr', async () => {
    const kubeconfig = path.join(dir, 'sandbox.kubeconfig');
    const sb = await SandboxProcess.start({ command: command('ready'), kubeconfigPath: kubeconfig, seed: 7, daySeconds: 600, logger });
    started.push(sb);
    assert.equal(sb.apiServer, 'http://127.0.0.1:1');
    assert.equal(sb.kubeconfig, kubeconfig);
    assert.ok(alive(sb.pid));
    assert.ok(lines.some((l) => l === `info [sandbox] sandbox args: sandbox --seed 7 --day-seconds 600 --kubeconfig ${kubeconfig} --stop-with-stdin`), lines.join('\n'));
    assert.ok(lines.some((l) => l === 'info [sandbox] starting'), 'a non-JSON stdout line is logged, not taken for the ready line');
    await sb.stop();
    assert.equal(alive(sb.pid), false);
    assert.ok(lines.some((l) => /stopped/.test(l)));
  });

  it('a sandbox that exits before it is ready: the error names the command and what it said', async () => {
    await assert.rejects(SandboxProcess.start({ command: command('crashes'), kubeconfigPath: path.join(dir, 'k'), logger }), (err: Error) => {
      assert.match(err.message, /crashes\.js sandbox .*exited before it was ready \(exit 3\)/);
      assert.match(err.message, /EADDRINUSE/);
      return true;
    });
  });

  it('a sandbox that never prints its ready line is killed after the timeout', async () => {
    await assert.rejects(SandboxProcess.start({ command: command('silent'), kubeconfigPath: path.join(dir, 'k'), logger, readyTimeoutMs: 300 }), /was not ready after 0 s/);
  });

  it('a program that does not exist: says so', async () => {
    await assert.rejects(SandboxProcess.start({ command: { program: path.join(dir, 'no-such-node'), args: [] }, kubeconfigPath: path.join(dir, 'k'), logger }), /could not start: .*ENOENT/);
  });

  it('stop() kills a sandbox that ignores SIGTERM after the grace time, and says when it exits on its own', async () => {
    const sb = await SandboxProcess.start({ command: command('ignoresTerm'), kubeconfigPath: path.join(dir, 'k'), logger });
    started.push(sb);
    const t = Date.now();
    await sb.stop(200);
    assert.ok(Date.now() - t >= 150, 'waited for the grace time');
    assert.equal(alive(sb.pid), false);

    const other = await SandboxProcess.start({ command: command('ready'), kubeconfigPath: path.join(dir, 'k'), logger });
    started.push(other);
    process.kill(other.pid!, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(lines.some((l) => /^warn the sandbox process exited on its own \(SIGKILL\); run "Vigil: Start Sandbox Cluster" again/.test(l)), lines.join('\n'));
  });
});
