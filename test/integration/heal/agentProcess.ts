/**
 * The real `vigil agent` (dist/cli.js, built by webpack) as a child process, for tests that check what the
 * shipped agent does with its settings file. Build first: `node node_modules/webpack/bin/webpack.js --mode production`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '../../..');
export const CLI = path.join(REPO_ROOT, 'dist/cli.js');

export function requireBuiltCli(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build it first with \`node node_modules/webpack/bin/webpack.js --mode production\``);
}

export interface AgentProcess {
  readonly child: ChildProcess;
  output(): string;
  /** Sends SIGTERM and waits (bounded) for the exit; returns its code. */
  stop(timeoutMs?: number): Promise<number | null>;
}

export function startAgent(args: string[]): AgentProcess {
  requireBuiltCli();
  const child = spawn(process.execPath, [CLI, 'agent', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d) => (out += d.toString()));
  child.stderr?.on('data', (d) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    async stop(timeoutMs = 30_000) {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref());
      const r = await Promise.race([exited, timer]);
      if (r === 'timeout') {
        child.kill('SIGKILL');
        throw new Error(`the agent did not stop within ${timeoutMs} ms of SIGTERM; output:\n${out.slice(-3000)}`);
      }
      return r;
    },
  };
}

/**
 * Runs `node dist/cli.js ARGS` to completion, without blocking this process: a decision command talks to an agent
 * that may run in this very process (its control socket must be able to answer).
 */
export function cli(args: string[], timeoutMs = 60_000): Promise<{ status: number | null; stdout: string; stderr: string }> {
  requireBuiltCli();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => (stdout += d.toString()));
    child.stderr?.on('data', (d) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
