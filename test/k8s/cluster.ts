/**
 * One real control plane (scripts/k8s/controlPlane.mjs) and one node agent (`vigil node-agent`) for the
 * whole k8s tier, both in the network namespace the control plane creates. Importing this module registers
 * root hooks: mocha runs them once, before the first and after the last test of the tier.
 *
 * Everything that talks to the cluster runs inside the namespace (`ip netns exec`): the apiserver
 * listens on 10.244.0.1, which exists only there. Commands use the kubectl built by `npm run k8s:build`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ControlPlane } from '../../scripts/k8s/controlPlane.mjs';
import { nodeSpecs, type NodeSpec } from '../../src/sandbox/node/nodeAgent';

const REPO_ROOT = path.resolve(__dirname, '../..');
/** Start of the control plane with 2 loaded cores: ~12 s measured, 4 min allowed. */
const START_BOUND_MS = 240_000;

export interface Cluster {
  readonly cp: ControlPlane;
  readonly kubectlPath: string;
  readonly nodes: ReadonlyArray<NodeSpec>;
  /** A scratch folder for manifests, removed after the tier. */
  readonly dir: string;
}

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let current: Cluster | undefined;
let agent: ChildProcess | undefined;
let agentLog = '';
let failed = false;
const tierStarted = Date.now();

export function cluster(): Cluster {
  if (!current) throw new Error('the k8s tier has no cluster: its root before hook failed (see above)');
  return current;
}

/** Runs a command inside the control plane's network namespace; never throws for a non-zero exit. */
export async function inNetns(args: string[], options: { readonly timeoutMs?: number; readonly input?: string } = {}): Promise<CommandResult> {
  const { cp } = cluster();
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', cp.netns, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d.toString()));
    child.stderr.on('data', (d) => (stderr += d.toString()));
    const timeoutMs = options.timeoutMs ?? 60_000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')} gave no answer within ${timeoutMs} ms\n${stdout}${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** The built kubectl with the admin kubeconfig (or another one), in the namespace. */
export async function kubectl(args: string[], options: { readonly kubeconfig?: string; readonly timeoutMs?: number; readonly input?: string } = {}): Promise<CommandResult> {
  const c = cluster();
  return inNetns([c.kubectlPath, '--kubeconfig', options.kubeconfig ?? c.cp.kubeconfig, ...args], options);
}

/** kubectl that must succeed; its stdout. */
export async function kubectlOk(args: string[], options: { readonly kubeconfig?: string; readonly timeoutMs?: number; readonly input?: string } = {}): Promise<string> {
  const r = await kubectl(args, options);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** Applies a manifest from a string. */
export function apply(manifest: string, extra: string[] = []): Promise<string> {
  return kubectlOk(['apply', '-f', '-', ...extra], { input: manifest });
}

/** Polls `test` every 500 ms until it returns a value; fails after `boundMs` naming what it waited for and the last state. */
export async function waitFor<T>(what: string, boundMs: number, test: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + boundMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await test();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${boundMs / 1000} s waiting for ${what}${last ? `; last error: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

export interface PodView {
  readonly metadata: { readonly name: string; readonly uid: string; readonly deletionTimestamp?: string };
  readonly spec: { readonly nodeName?: string; readonly containers: ReadonlyArray<{ readonly name: string; readonly image: string }> };
  readonly status: { readonly phase?: string; readonly podIP?: string; readonly conditions?: ReadonlyArray<{ readonly type: string; readonly status: string }> };
}

export async function pods(namespace: string, selector: string): Promise<PodView[]> {
  return (JSON.parse(await kubectlOk(['get', 'pods', '-n', namespace, '-l', selector, '-o', 'json'])) as { items: PodView[] }).items;
}

export const podReady = (p: PodView) => !p.metadata.deletionTimestamp && p.status.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

/** Waits until exactly `replicas` pods match, all Ready and none terminating. */
export function settled(namespace: string, selector: string, replicas: number, boundMs = 90_000): Promise<PodView[]> {
  return waitFor(`${replicas} ready pods ${selector} in ${namespace}`, boundMs, async () => {
    const ps = await pods(namespace, selector);
    return ps.length === replicas && ps.every(podReady) ? ps : undefined;
  });
}

/** Pods of this image run as a real process on the node agent: it asks the API server who it is, with its pod's token. */
export const WHOAMI_IMAGE = 'vigil/whoami';
const WHOAMI_COMMAND = [
  'SA=$VIGIL_SERVICEACCOUNT_ROOT;',
  'curl -s --cacert "$SA/ca.crt" -H "Authorization: Bearer $(cat "$SA/token")" -H "Content-Type: application/json" -X POST',
  `-d '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}'`,
  'https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT/apis/authentication.k8s.io/v1/selfsubjectreviews;',
  'echo; echo "namespace $(cat "$SA/namespace") pod $POD_NAME"; exec sleep 3600',
].join(' ');

async function startNodeAgentProcess(cp: ControlPlane): Promise<ChildProcess> {
  // single node process (no tsx wrapper), so SIGTERM reaches the agent itself
  const child = spawn('ip', ['netns', 'exec', cp.netns, process.execPath, '--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), 'node-agent', '--kubeconfig', cp.kubeconfig, '--run-image', `${WHOAMI_IMAGE}=${WHOAMI_COMMAND}`], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr!.on('data', (d) => (agentLog += d.toString()));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the node agent was not ready within 60 s:\n${agentLog}`)), 60_000);
    child.stdout!.on('data', (d) => {
      out += d.toString();
      if (out.includes('"ready":true')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the node agent exited (${code}) before it was ready:\n${agentLog}`));
    });
  });
  return child;
}

async function stopChild(child: ChildProcess | undefined, boundMs = 10_000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), boundMs);
  await exited;
  clearTimeout(timer);
}

before(async function () {
  this.timeout(START_BOUND_MS + 90_000);
  const { componentsDir, missingPrerequisite, startControlPlane } = await import('../../scripts/k8s/controlPlane.mjs');
  const why = missingPrerequisite();
  const comps = componentsDir();
  // scripts/tiers.mjs checks these before the tier; this is for a direct mocha run
  if (why || comps.reason) throw new Error(`the k8s tier cannot run: ${why ?? comps.reason}`);
  const t0 = Date.now();
  const cp = await startControlPlane({ binaries: comps.dir!, log: (line) => console.log(`    [control plane] ${line}`) });
  try {
    const nodes = nodeSpecs();
    for (const n of nodes) spawnSync('ip', ['-n', cp.netns, 'addr', 'add', `${n.internalIP}/32`, 'dev', 'lo'], { stdio: 'inherit' });
    agent = await startNodeAgentProcess(cp);
    current = { cp, nodes, kubectlPath: path.join(comps.dir!, 'kubectl'), dir: mkdtempSync(path.join(os.tmpdir(), 'vigil-k8s-tier-')) };
    await waitFor('every node Ready', 60_000, async () => {
      const out = await kubectlOk(['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}']);
      return nodes.every((n) => out.includes(`${n.name}=True`)) ? true : undefined;
    });
  } catch (err) {
    await stopChild(agent);
    await cp.stop();
    throw err;
  }
  console.log(`    k8s tier: control plane ready in ${cp.startSeconds.toFixed(1)} s, nodes ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (state in ${cp.dir})`);
});

/** Ctrl-C or a CI timeout mid-tier: stop what the tier started before exiting, so no namespace or component outlives it. */
let interrupted = false;
function stopOnSignal(signal: NodeJS.Signals): void {
  process.once(signal, () => {
    if (interrupted) return;
    interrupted = true;
    console.log(`    k8s tier: ${signal}: stopping the node agent and the control plane`);
    const cp = current?.cp;
    void stopChild(agent)
      .then(() => cp?.stop())
      .finally(() => process.exit(130));
  });
}
stopOnSignal('SIGINT');
stopOnSignal('SIGTERM');

afterEach(function () {
  if (this.currentTest?.state === 'failed') failed = true;
});

/** The node agent's rss and CPU time so far (Linux /proc; clock ticks of 10 ms), for the tier's closing line. */
function agentUsage(pid: number | undefined): string {
  try {
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    const cpu = (Number(stat[11]) + Number(stat[12])) / 100;
    return `rss ${rss.toFixed(0)} MiB, CPU ${cpu.toFixed(1)} s over ${((Date.now() - tierStarted) / 1000).toFixed(0)} s`;
  } catch (err) {
    return `usage unknown (${(err as Error).message})`;
  }
}

after(async function () {
  this.timeout(60_000);
  console.log(`    k8s tier: node agent ${agentUsage(agent?.pid)}`);
  await stopChild(agent);
  if (failed && agentLog) writeFileSync(path.join(current?.cp.dir ?? os.tmpdir(), 'node-agent.log'), agentLog);
  if (current) {
    await current.cp.stop();
    rmSync(current.dir, { recursive: true, force: true });
    // the state folder (certificates, etcd, component logs) is kept when a test failed
    if (failed) console.log(`    k8s tier: logs kept in ${current.cp.dir}/logs`);
    else rmSync(current.cp.dir, { recursive: true, force: true });
  }
  console.log(`    k8s tier: wall time ${((Date.now() - tierStarted) / 1000).toFixed(1)} s`);
});
