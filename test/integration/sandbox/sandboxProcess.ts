/**
 * Starts a sandbox for integration tests, in-process (fast, gives access to the store and the
 * simulation) or as a `vigil sandbox` child process (the real CLI), on free ports with a
 * kubeconfig in a temp dir; and runs the real kubectl against it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../../src/sandbox/sandbox';

const REPO_ROOT = path.resolve(__dirname, '../../..');

export interface TestSandbox {
  readonly apiServer: string;
  readonly metrics: string;
  readonly kubeconfig: string;
  readonly dir: string;
  stop(): Promise<void>;
}

export interface InProcessSandbox extends TestSandbox {
  readonly sandbox: Sandbox;
}

/** Fast controller ticks and pod start-up, so rollouts finish within a test. */
export const FAST_SANDBOX: SandboxOptions = { seed: 7, daySeconds: 120, tickMs: 100, podStartDelayMs: 300 };

export async function startInProcessSandbox(options: SandboxOptions = {}): Promise<InProcessSandbox> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-sandbox-'));
  const sandbox = await startSandbox({ ...FAST_SANDBOX, ...options, port: 0, metricsPort: 0, kubeconfigPath: path.join(dir, 'kubeconfig') });
  return {
    sandbox,
    apiServer: sandbox.apiServer,
    metrics: sandbox.metrics,
    kubeconfig: sandbox.kubeconfig,
    dir,
    async stop() {
      await sandbox.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ChildSandbox extends TestSandbox {
  readonly child: ChildProcess;
  /** Everything the child wrote to stderr so far. */
  stderr(): string;
}

/** Runs `vigil sandbox` from source (tsx) and waits for its ready line. */
export async function startChildSandbox(extraArgs: string[] = [], timeoutMs = 60_000): Promise<ChildSandbox> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-sandbox-'));
  const kubeconfig = path.join(dir, 'kubeconfig');
  const tsx = path.join(REPO_ROOT, 'node_modules/tsx/dist/cli.mjs');
  const child = spawn(process.execPath, [tsx, path.join(REPO_ROOT, 'src/cli/main.ts'), 'sandbox', '--port', '0', '--metrics-port', '0', '--kubeconfig', kubeconfig, ...extraArgs], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d) => (err += d.toString()));
  const ready = await new Promise<{ apiServer: string; metrics: string; kubeconfig: string }>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`sandbox did not print its ready line in ${timeoutMs} ms; stderr: ${err}`)), timeoutMs);
    child.stdout?.on('data', (d) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(out.slice(0, nl)));
        } catch (e) {
          reject(new Error(`sandbox ready line is not JSON: ${out.slice(0, nl)} (${(e as Error).message})`));
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sandbox exited with ${code} before it was ready; stderr: ${err}`));
    });
  });
  return {
    ...ready,
    dir,
    child,
    stderr: () => err,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real kubectl with KUBECONFIG pointing at the sandbox. Never throws on a non-zero exit. */
export function kubectl(kubeconfig: string, args: string[], options: { timeoutMs?: number; input?: string } = {}): Promise<KubectlResult> {
  return new Promise((resolve) => {
    const child = spawn('kubectl', args, { env: { ...process.env, KUBECONFIG: kubeconfig, HOME: path.dirname(kubeconfig) }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d.toString()));
    child.stderr.on('data', (d) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Like kubectl(), but fails with kubectl's own stderr when the exit code is not 0. */
export async function kubectlOk(kubeconfig: string, args: string[], options: { timeoutMs?: number; input?: string } = {}): Promise<string> {
  const r = await kubectl(kubeconfig, args, options);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** Polls until `check` returns a value other than undefined, or fails naming what it waited for. */
export async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
