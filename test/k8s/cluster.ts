/**
 * One real control plane with one node agent (`vigil node-agent`, 3 nodes) for the whole k8s tier, started by
 * src/sandbox/controlPlane (the code behind `vigil sandbox --control-plane kubernetes`). Importing this module
 * registers root hooks: mocha runs them once, before the first and after the last test of the tier.
 *
 * The cluster's addresses (10.244.0.0/16) live in the control plane's network namespace; this process reaches
 * them over the namespace's veth pair. Commands run inside the namespace (`ip netns exec`) with the kubectl
 * built by `npm run k8s:build`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ControlPlane } from '../../src/sandbox/controlPlane/controlPlane';
import type { NodeSpec } from '../../src/sandbox/node/nodeAgent';
import { AGENT_COMMAND, AGENT_IMAGE } from './agentImage';

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

export interface TestDeployment {
  readonly namespace: string;
  readonly name: string;
  readonly replicas: number;
  /** Default `registry.invalid/NAME:1.0` (the node agent simulates it; nothing is pulled). */
  readonly image?: string;
  /** Default `app`. */
  readonly container?: string;
  /** The container's port (named `http`), when it has one. */
  readonly port?: number;
  /** prometheus.io/scrape annotations on the pod template for `port`. */
  readonly scrape?: boolean;
}

/**
 * The Namespace and a Deployment (pods labelled `app: NAME`) as one YAML stream, for `apply`: the one home of
 * the small workloads the tier's files run (the shop itself is `shopManifests()`).
 */
export function deploymentManifest(d: TestDeployment): string {
  const container = { name: d.container ?? 'app', image: d.image ?? `registry.invalid/${d.name}:1.0`, ...(d.port ? { ports: [{ containerPort: d.port, name: 'http' }] } : {}) };
  const annotations = d.scrape && d.port ? { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(d.port), 'prometheus.io/path': '/metrics' } : undefined;
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: d.namespace } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: d.name, namespace: d.namespace },
      spec: {
        replicas: d.replicas,
        selector: { matchLabels: { app: d.name } },
        template: { metadata: { labels: { app: d.name }, ...(annotations ? { annotations } : {}) }, spec: { containers: [container] } },
      },
    },
  ].map((o) => JSON.stringify(o)).join('\n---\n');
}

/** Applies a manifest from a string. */
export function apply(manifest: string, extra: string[] = []): Promise<string> {
  return kubectlOk(['apply', '-f', '-', ...extra], { input: manifest });
}

/** `vigil …` from this checkout, inside the namespace (cluster addresses are only reachable there). */
export function vigilCli(args: string[], timeoutMs = 60_000): Promise<CommandResult> {
  return inNetns([process.execPath, '--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), ...args], { timeoutMs });
}

/**
 * Namespace `oncall` with one ServiceAccount per name, and a RoleBinding in `shop` granting `vigil-approver` (the chart's
 * ClusterRole) to the ones in `approvers`: the on-call users of the approval tests.
 */
export function oncallUsersManifest(accounts: ReadonlyArray<string>, approvers: ReadonlyArray<string>): string {
  return `
apiVersion: v1
kind: Namespace
metadata: {name: oncall}
${accounts.map((a) => `---
apiVersion: v1
kind: ServiceAccount
metadata: {name: ${a}, namespace: oncall}
`).join('')}---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: oncall-approvers, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: vigil-approver}
subjects:
${approvers.map((a) => `- {kind: ServiceAccount, name: ${a}, namespace: oncall}
`).join('')}`;
}

/** A kubeconfig for a ServiceAccount's TokenRequest token. */
export async function tokenKubeconfig(namespace: string, sa: string): Promise<string> {
  const token = (await kubectlOk(['create', 'token', sa, '-n', namespace, '--duration=10m'])).trim();
  const { cp, dir } = cluster();
  const file = path.join(dir, `${namespace}-${sa}.kubeconfig`);
  writeFileSync(file, `apiVersion: v1
kind: Config
clusters:
- name: vigil-k8s
  cluster: {server: "${cp.server}", certificate-authority: "${path.join(cp.dir, 'pki', 'ca.crt')}"}
users:
- name: ${sa}
  user: {token: "${token}"}
contexts:
- name: ${sa}
  context: {cluster: vigil-k8s, user: ${sa}}
current-context: ${sa}
`, { mode: 0o600 });
  return file;
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

/** SIGTERM, SIGKILL after `boundMs`; resolves once the child exited. */
export async function stopChild(child: ChildProcess | undefined, boundMs = 10_000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), boundMs);
  await exited;
  clearTimeout(timer);
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

/**
 * The API server's audit log (kube-apiserver --audit-policy-file/--audit-log-path): writes (create, update, patch,
 * delete) to the objects Vigil acts on and to its Incidents, at Metadata level (who, verb, object, response code;
 * no bodies). Everything else, the node agent's status updates included, is not logged.
 */
const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  verbs: [create, update, patch, delete]
  resources:
  - {group: apps, resources: [deployments, deployments/scale]}
  - {group: "", resources: [pods, pods/eviction, nodes, configmaps]}
  - {group: vigil.dev, resources: [incidents, incidents/status]}
- level: None
`;
const auditDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-k8s-audit-'));
const AUDIT_LOG = path.join(auditDir, 'audit.log');

/** One line of the audit log, as far as the tests read it. */
export interface AuditEvent {
  readonly stage: string;
  readonly verb: string;
  readonly requestURI: string;
  readonly user: { readonly username: string };
  readonly objectRef?: { readonly resource?: string; readonly subresource?: string; readonly namespace?: string; readonly name?: string; readonly apiGroup?: string };
  readonly responseStatus?: { readonly code?: number };
  readonly requestReceivedTimestamp: string;
}

/** The audit log so far (ResponseComplete events). */
export function auditEvents(): AuditEvent[] {
  if (!existsSync(AUDIT_LOG)) return [];
  return readFileSync(AUDIT_LOG, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditEvent).filter((e) => e.stage === 'ResponseComplete');
}

/** etcd compaction every 5 s and no watch cache for ConfigMaps: a watch resumed from a version older than two compactions gets 410 Gone (informers.test.ts). */
export const ETCD_COMPACTION_SECONDS = 5;

before(async function () {
  this.timeout(START_BOUND_MS + 90_000);
  const { controlPlanePrerequisiteProblem, findComponents } = await import('../../src/sandbox/controlPlane/components');
  const { startControlPlane } = await import('../../src/sandbox/controlPlane/controlPlane');
  const why = controlPlanePrerequisiteProblem();
  const comps = findComponents();
  // scripts/tiers.mjs checks these before the tier; this is for a direct mocha run
  if (why || 'reason' in comps) throw new Error(`the k8s tier cannot run: ${why ?? ('reason' in comps ? comps.reason : '')}`);
  const cp = await startControlPlane({
    binaries: comps.dir,
    // single node process (no tsx wrapper), so SIGTERM reaches the agent itself
    nodeAgent: { command: [process.execPath, '--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts')], nodes: 3, args: ['--run-image', `${WHOAMI_IMAGE}=${WHOAMI_COMMAND}`, '--run-image', `${AGENT_IMAGE}=${AGENT_COMMAND}`] },
    extraApiserverArgs: [`--etcd-compaction-interval=${ETCD_COMPACTION_SECONDS}s`, '--watch-cache-sizes=configmaps#0', `--audit-policy-file=${policyFile()}`, `--audit-log-path=${AUDIT_LOG}`],
    log: (line) => console.log(`    [control plane] ${line}`),
  });
  current = { cp, nodes: cp.nodes, kubectlPath: cp.kubectlPath, dir: mkdtempSync(path.join(os.tmpdir(), 'vigil-k8s-tier-')) };
  console.log(`    k8s tier: control plane and nodes ready in ${cp.startSeconds.toFixed(1)} s (apiserver ${cp.apiserverReadySeconds.toFixed(1)} s; state in ${cp.dir})`);
});

function policyFile(): string {
  const file = path.join(auditDir, 'policy.yaml');
  writeFileSync(file, AUDIT_POLICY);
  return file;
}

/** Ctrl-C or a CI timeout mid-tier: stop what the tier started before exiting, so no namespace or component outlives it. */
let interrupted = false;
function stopOnSignal(signal: NodeJS.Signals): void {
  process.once(signal, () => {
    if (interrupted) return;
    interrupted = true;
    console.log(`    k8s tier: ${signal}: stopping the node agent and the control plane`);
    void (current?.cp.stop() ?? Promise.resolve()).finally(() => process.exit(130));
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
  console.log(`    k8s tier: node agent ${agentUsage(current?.cp.pid('node-agent'))}`);
  if (current) {
    await current.cp.stop();
    rmSync(current.dir, { recursive: true, force: true });
    rmSync(auditDir, { recursive: true, force: true });
    // the state folder (certificates, etcd, component logs) is kept when a test failed
    if (failed) console.log(`    k8s tier: logs kept in ${current.cp.dir}/logs`);
    else rmSync(current.cp.dir, { recursive: true, force: true });
  }
  console.log(`    k8s tier: wall time ${((Date.now() - tierStarted) / 1000).toFixed(1)} s`);
});
