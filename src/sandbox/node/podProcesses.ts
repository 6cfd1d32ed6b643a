/**
 * Pods of chosen images run as real processes (`vigil node-agent --run-image IMAGE=COMMAND`), so a program
 * meant for a cluster — Vigil's own agent — runs "in" it: each pod gets a directory with a TokenRequest token
 * of its ServiceAccount (bound to the pod), the cluster CA (`ca.crt`) and its `namespace`, and the process
 * sees KUBERNETES_SERVICE_HOST/PORT and VIGIL_SERVICEACCOUNT_ROOT (client-node's loadFromCluster(pathPrefix)
 * reads that directory). Its stdout and stderr are the container's log; its exit is the container's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type * as k8s from '@kubernetes/client-node';
import type { KubeConnection } from '../../infra/kubernetes/kubeClient';
import type { PodRuntime, ProcessContainers } from '../sim/containerLifecycle';

export interface RunImage {
  readonly image: string;
  readonly command: string;
}

/** `IMAGE=COMMAND`; the image matches with or without its tag (`vigil/agent` matches `vigil/agent:1.2`). */
export function parseRunImage(spec: string): RunImage {
  const at = spec.indexOf('=');
  const image = at > 0 ? spec.slice(0, at).trim() : '';
  const command = at > 0 ? spec.slice(at + 1).trim() : '';
  if (!image || !command) throw new Error(`vigil node-agent: --run-image must be IMAGE=COMMAND, e.g. --run-image "vigil/agent=node dist/cli.js agent", got "${spec}"`);
  return { image, command };
}

export function imageMatches(pattern: string, image: string): boolean {
  if (pattern === image) return true;
  const at = image.lastIndexOf(':');
  return at > image.lastIndexOf('/') && image.slice(0, at) === pattern;
}

/** How long a pod's token lasts; a process that runs longer must re-read the file (not refreshed yet). */
const TOKEN_SECONDS = 3600;
const KILL_GRACE_MS = 5_000;

interface Running {
  child: ChildProcess;
  exit?: number;
}

export class PodProcesses implements ProcessContainers {
  private readonly commands = new Map<string, string>();
  private readonly running = new Map<string, Running>();

  constructor(
    private readonly runImages: ReadonlyArray<RunImage>,
    private readonly conn: KubeConnection,
    private readonly dir: string,
    private readonly log: (line: string) => void,
  ) {}

  /** The command of a pod whose image is one of --run-image's, else undefined. */
  commandFor(image: string): string | undefined {
    return this.runImages.find((r) => imageMatches(r.image, image))?.command;
  }

  private podDir(uid: string): string {
    return path.join(this.dir, 'pods', uid, 'serviceaccount');
  }

  /** Writes the pod's token, CA and namespace; the pod runs `command` once this resolved. */
  async prepare(pod: k8s.V1Pod, command: string): Promise<void> {
    const uid = pod.metadata!.uid!;
    const name = pod.metadata!.name!;
    const namespace = pod.metadata!.namespace!;
    const sa = pod.spec?.serviceAccountName ?? 'default';
    const r = await this.conn.request('POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${sa}/token`, {
      body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: TOKEN_SECONDS, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name, uid } } }),
    });
    if (r.status >= 300) throw new Error(`node agent: TokenRequest for serviceaccount ${namespace}/${sa} (pod ${name}) failed: HTTP ${r.status} ${r.body.slice(0, 300)}`);
    const token = (JSON.parse(r.body) as { status?: { token?: string } }).status?.token;
    if (!token) throw new Error(`node agent: TokenRequest for serviceaccount ${namespace}/${sa} returned no token`);
    const cluster = this.conn.kubeConfig.getCurrentCluster();
    const ca = cluster?.caData ? Buffer.from(cluster.caData, 'base64').toString('utf8') : cluster?.caFile ? readFileSync(cluster.caFile, 'utf8') : '';
    const dir = this.podDir(uid);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(path.join(dir, 'token'), token, { mode: 0o600 });
    writeFileSync(path.join(dir, 'ca.crt'), ca);
    writeFileSync(path.join(dir, 'namespace'), namespace);
    this.commands.set(uid, command);
  }

  runs(rt: PodRuntime): boolean {
    return this.commands.has(rt.uid);
  }

  start(rt: PodRuntime): void {
    const command = this.commands.get(rt.uid);
    if (!command) return;
    const api = new URL(this.conn.server);
    const child = spawn('sh', ['-c', command], {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/',
        KUBERNETES_SERVICE_HOST: api.hostname,
        KUBERNETES_SERVICE_PORT: api.port || '443',
        VIGIL_SERVICEACCOUNT_ROOT: this.podDir(rt.uid),
        POD_NAME: rt.name,
        POD_NAMESPACE: rt.namespace,
        POD_IP: rt.podIP ?? '',
        HOSTNAME: rt.name,
      },
    });
    const entry: Running = { child };
    this.running.set(rt.uid, entry);
    for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream }).on('line', (line) => rt.service.log(line));
    child.on('error', (err) => {
      rt.service.log(`node agent: cannot start "${command}": ${err.message}`);
      entry.exit = 127;
    });
    child.on('exit', (code, signal) => {
      entry.exit = code ?? (signal ? 128 + 15 : 1);
      this.log(`node agent: pod ${rt.namespace}/${rt.name}: "${command}" exited (${signal ?? code})`);
    });
  }

  exitCode(rt: PodRuntime): number | undefined {
    const r = this.running.get(rt.uid);
    if (!r || r.exit === undefined) return undefined;
    this.running.delete(rt.uid);
    return r.exit;
  }

  /** Stops the pod's process (SIGTERM, SIGKILL after 5 s) and removes its directory. */
  async stop(uid: string): Promise<void> {
    const r = this.running.get(uid);
    this.running.delete(uid);
    this.commands.delete(uid);
    if (r && r.exit === undefined && r.child.exitCode === null && r.child.signalCode === null) {
      const exited = new Promise<void>((resolve) => r.child.once('exit', () => resolve()));
      r.child.kill('SIGTERM');
      const timer = setTimeout(() => r.child.kill('SIGKILL'), KILL_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    rmSync(path.join(this.dir, 'pods', uid), { recursive: true, force: true });
  }

  async stopAll(): Promise<void> {
    await Promise.all([...new Set([...this.running.keys(), ...this.commands.keys()])].map((uid) => this.stop(uid)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
