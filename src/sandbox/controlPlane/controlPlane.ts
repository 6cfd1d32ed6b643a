/**
 * A real Kubernetes control plane — etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
 * kube-state-metrics, the binaries `npm run k8s:build` made — with the node agent as its nodes, inside a
 * network namespace of its own. The one implementation behind `vigil sandbox --control-plane kubernetes`,
 * the k8s test tier and scripts/k8s/verify.ts.
 *
 * The apiserver will not proxy to loopback pod IPs and EndpointSlices reject 127/8, so the cluster uses
 * ordinary private addresses (10.244.0.0/16) on the namespace's own loopback device. A veth pair of its own
 * (host 10.243.255.1 — namespace 10.243.255.2) and one host route for 10.244.0.0/16 into it let processes
 * on the host (the agent, Prometheus, kubectl) reach the cluster; the namespace has no other link and no
 * default route, so nothing it does is routed anywhere else. Deleting the namespace deletes the pair and
 * the route with it. Needs root.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nodeSpecs, type NodeSpec } from '../node/nodeAgent';

export const NETNS = 'vigil-k8s-test';
/** The apiserver's advertise address; nodes and pods take others from 10.244.0.0/16. */
export const API_ADDRESS = '10.244.0.1';
export const API_PORT = 6443;
/** Nodes and pods: the node agent's addresses, all local to the namespace. */
export const POD_RANGE = '10.244.0.0/16';
const HOST_LINK = 'vigil-k8s0';
const HOST_LINK_ADDRESS = '10.243.255.1';
const NETNS_LINK_ADDRESS = '10.243.255.2';
const SERVICE_CIDR = '10.96.0.0/16';
const SERVICE_API_IP = '10.96.0.1';
export const KSM_PORT = 8080;
const KSM_TELEMETRY_PORT = 8081;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}): ${(r.stderr || '').trim()}`);
  return r.stdout;
}

// ---- network namespace --------------------------------------------------------------------------

/** Kills what runs in a namespace left by an earlier run, and deletes it (its veth and route go with it). */
export function deleteNetns(name: string): void {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout || '';
  if (list.split('\n').some((l) => l.split(' ')[0] === name)) {
    const pids = (spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).stdout || '').split('\n').filter(Boolean);
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    run('ip', ['netns', 'delete', name]);
  }
  // the namespace lives on until its last process has exited; the host end goes with it, but not at once
  spawnSync('ip', ['link', 'delete', HOST_LINK], { stdio: 'ignore' });
}

function createNetns(name: string, addresses: ReadonlyArray<string>): void {
  deleteNetns(name);
  run('ip', ['netns', 'add', name]);
  run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  for (const a of addresses) run('ip', ['-n', name, 'addr', 'add', `${a}/32`, 'dev', 'lo']);
  // AnyIP: every address of the range is local, so the node agent binds each pod's IP without adding it
  run('ip', ['-n', name, 'route', 'add', 'local', POD_RANGE, 'dev', 'lo']);
  run('ip', ['link', 'add', HOST_LINK, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', name]);
  run('ip', ['addr', 'add', `${HOST_LINK_ADDRESS}/30`, 'dev', HOST_LINK]);
  run('ip', ['link', 'set', HOST_LINK, 'up']);
  run('ip', ['-n', name, 'addr', 'add', `${NETNS_LINK_ADDRESS}/30`, 'dev', 'eth0']);
  run('ip', ['-n', name, 'link', 'set', 'eth0', 'up']);
  try {
    run('ip', ['route', 'add', POD_RANGE, 'via', NETNS_LINK_ADDRESS, 'dev', HOST_LINK]);
  } catch (err) {
    deleteNetns(name);
    throw new Error(`cannot route ${POD_RANGE} to the control plane's namespace (${(err as Error).message}); does this host already use ${POD_RANGE}? (ip route get 10.244.0.1)`);
  }
}

// ---- certificates -------------------------------------------------------------------------------

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function makeCa(pki: string, name = 'ca'): void {
  run('openssl', ['req', '-x509', ...EC, '-keyout', `${pki}/${name}.key`, '-out', `${pki}/${name}.crt`, '-days', '3650',
    '-subj', `/CN=vigil-k8s-${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
}

/** A leaf certificate signed by the cluster CA; `o` becomes the RBAC group of a client certificate. */
function makeCert(pki: string, name: string, o: { cn: string; o?: string; sans?: string[]; server?: boolean; ca?: string }): void {
  const subj = `/CN=${o.cn}${o.o ? `/O=${o.o}` : ''}`;
  const ext = ['-addext', 'basicConstraints=critical,CA:FALSE', '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment',
    '-addext', `extendedKeyUsage=${o.server ? 'serverAuth' : 'clientAuth'}`];
  if (o.sans) ext.push('-addext', `subjectAltName=${o.sans.join(',')}`);
  const ca = o.ca ?? 'ca';
  run('openssl', ['req', '-x509', ...EC, '-keyout', `${pki}/${name}.key`, '-out', `${pki}/${name}.crt`, '-days', '3650',
    '-subj', subj, '-CA', `${pki}/${ca}.crt`, '-CAkey', `${pki}/${ca}.key`, ...ext]);
}

function makePki(pki: string): void {
  mkdirSync(pki, { recursive: true });
  makeCa(pki);
  makeCert(pki, 'apiserver', {
    cn: 'kube-apiserver',
    server: true,
    sans: [`IP:${API_ADDRESS}`, `IP:${SERVICE_API_IP}`, 'IP:127.0.0.1', 'DNS:localhost', 'DNS:kubernetes', 'DNS:kubernetes.default',
      'DNS:kubernetes.default.svc', 'DNS:kubernetes.default.svc.cluster.local'],
  });
  // the aggregation layer's request-header authentication, as kubeadm sets it up; without it the
  // controller-manager and the scheduler log a missing requestheader CA bundle every few seconds
  makeCa(pki, 'front-proxy-ca');
  makeCert(pki, 'front-proxy-client', { cn: 'front-proxy-client', ca: 'front-proxy-ca' });
  makeCert(pki, 'apiserver-kubelet-client', { cn: 'kube-apiserver-kubelet-client', o: 'system:masters' });
  makeCert(pki, 'admin', { cn: 'kubernetes-admin', o: 'system:masters' });
  makeCert(pki, 'controller-manager', { cn: 'system:kube-controller-manager' });
  makeCert(pki, 'scheduler', { cn: 'system:kube-scheduler' });
  makeCert(pki, 'kube-state-metrics', { cn: 'vigil:kube-state-metrics' });
  makeCert(pki, 'prometheus', { cn: 'vigil:prometheus' });
  // service-account token signing key pair
  run('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', `${pki}/sa.key`]);
  run('openssl', ['pkey', '-in', `${pki}/sa.key`, '-pubout', '-out', `${pki}/sa.pub`]);
}

/** A kubeconfig of one identity of `pki`, for `server` (the apiserver, or a proxy in front of it). */
export function clusterKubeconfig(pki: string, user: string, server = `https://${API_ADDRESS}:${API_PORT}`): string {
  const b64 = (f: string) => readFileSync(path.join(pki, f)).toString('base64');
  return `apiVersion: v1
kind: Config
clusters:
- name: vigil-k8s
  cluster:
    server: ${server}
    certificate-authority-data: ${b64('ca.crt')}
users:
- name: ${user}
  user:
    client-certificate-data: ${b64(`${user}.crt`)}
    client-key-data: ${b64(`${user}.key`)}
contexts:
- name: ${user}@vigil-k8s
  context:
    cluster: vigil-k8s
    user: ${user}
current-context: ${user}@vigil-k8s
`;
}

// ---- objects the control plane needs ------------------------------------------------------------

// kube-state-metrics reads every kind it reports on, secrets included; Prometheus what kube-prometheus-stack's
// Prometheus may read (service discovery, the kubelets' metrics, /metrics)
const BOOTSTRAP_OBJECTS = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "vigil:kube-state-metrics"}
rules:
- apiGroups: ["*"]
  resources: ["*"]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "vigil:kube-state-metrics"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "vigil:kube-state-metrics"}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: "vigil:kube-state-metrics"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "vigil:prometheus"}
rules:
- apiGroups: [""]
  resources: [nodes, nodes/metrics, services, endpoints, pods]
  verbs: [get, list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [get, list, watch]
- nonResourceURLs: [/metrics, /metrics/cadvisor]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "vigil:prometheus"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "vigil:prometheus"}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: "vigil:prometheus"}
---
# --endpoint-reconciler-type=none: the apiserver does not write its own Endpoints, so they are written once
# here (one apiserver, one address), as service discovery of default/kubernetes expects them
apiVersion: v1
kind: Endpoints
metadata: {name: kubernetes, namespace: default}
subsets:
- addresses: [{ip: "${API_ADDRESS}"}]
  ports: [{name: https, port: ${API_PORT}, protocol: TCP}]
---
# kube-state-metrics runs beside the control plane, not as a pod: a selector-less Service with its address,
# so it is discovered like the kube-state-metrics of kube-prometheus-stack
apiVersion: v1
kind: Service
metadata:
  name: kube-state-metrics
  namespace: kube-system
  labels: {app.kubernetes.io/name: kube-state-metrics}
spec:
  clusterIP: None
  ports:
  - {name: http, port: ${KSM_PORT}, targetPort: ${KSM_PORT}, protocol: TCP}
  - {name: telemetry, port: ${KSM_TELEMETRY_PORT}, targetPort: ${KSM_TELEMETRY_PORT}, protocol: TCP}
---
apiVersion: v1
kind: Endpoints
metadata:
  name: kube-state-metrics
  namespace: kube-system
  labels: {app.kubernetes.io/name: kube-state-metrics}
subsets:
- addresses: [{ip: "${API_ADDRESS}"}]
  ports:
  - {name: http, port: ${KSM_PORT}, protocol: TCP}
  - {name: telemetry, port: ${KSM_TELEMETRY_PORT}, protocol: TCP}
`;

function rssKiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

// ---- the control plane --------------------------------------------------------------------------

export interface ControlPlaneOptions {
  /** Folder of the built components (findComponents()). */
  readonly binaries: string;
  /** State folder (certificates, kubeconfigs, etcd data, logs/); a fresh temp folder by default. */
  readonly dir?: string;
  readonly netns?: string;
  /** The node agent to start once the control plane is ready: how to run `vigil` (`node-agent …` is appended), and how many nodes. */
  readonly nodeAgent?: { readonly command: ReadonlyArray<string>; readonly nodes?: number; readonly args?: ReadonlyArray<string> };
  readonly extraApiserverArgs?: ReadonlyArray<string>;
  readonly log?: (line: string) => void;
  /** Set `aborted` to stop waiting (a signal during the start); the start then stops what it started. */
  readonly signal?: { aborted: boolean };
}

export interface ControlPlane {
  readonly dir: string;
  readonly pki: string;
  readonly netns: string;
  /** The admin kubeconfig (system:masters). */
  readonly kubeconfig: string;
  /** A kubeconfig of the read-only `vigil:prometheus` identity (service discovery, /metrics). */
  readonly prometheusKubeconfig: string;
  readonly server: string;
  readonly kubeStateMetricsUrl: string;
  /** The folder of the built components. */
  readonly binaries: string;
  readonly kubectlPath: string;
  readonly nodes: ReadonlyArray<NodeSpec>;
  /** Seconds from the call to ready: the apiserver's /readyz, and everything (node agent included). */
  readonly apiserverReadySeconds: number;
  readonly startSeconds: number;
  /** kubectl with the admin kubeconfig, synchronously (it reaches the apiserver over the veth). */
  kubectl(args: string[]): SpawnSyncReturns<string>;
  /** rss in KiB of every process started, by name. */
  rss(): Record<string, number | undefined>;
  /** The pid of a process it started (etcd, kube-apiserver, …, node-agent). */
  pid(name: string): number | undefined;
  /** Stops the node agent and every component (SIGTERM, SIGKILL after 10 s), and deletes the namespace. */
  stop(): Promise<void>;
}

interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  exited?: { code: number | null; signal: NodeJS.Signals | null };
}

/**
 * Starts the control plane. Resolves once the apiserver is ready, the controller-manager's controllers run,
 * the scheduler holds its lease, kube-state-metrics reports the namespaces and (when asked for) the node
 * agent's nodes are Ready. On failure it stops what it started and keeps the state folder for its logs.
 */
export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const started = Date.now();
  const netns = options.netns ?? NETNS;
  const log = options.log ?? (() => {});
  const bin = (name: string) => path.join(options.binaries, name);
  const dir = options.dir ?? mkdtempSync(path.join(os.tmpdir(), 'vigil-k8s-'));
  const pki = path.join(dir, 'pki');
  const logs = path.join(dir, 'logs');
  mkdirSync(logs, { recursive: true });
  makePki(pki);
  for (const user of ['admin', 'controller-manager', 'scheduler', 'kube-state-metrics', 'prometheus']) {
    writeFileSync(path.join(dir, `${user}.kubeconfig`), clusterKubeconfig(pki, user), { mode: 0o600 });
  }
  const adminKubeconfig = path.join(dir, 'admin.kubeconfig');
  const nodes = options.nodeAgent ? nodeSpecs(options.nodeAgent.nodes ?? 3) : [];
  createNetns(netns, [API_ADDRESS, ...nodes.map((n) => n.internalIP)]);

  const procs: Proc[] = [];
  let stopping = false;
  const spawnIn = (name: string, argv: ReadonlyArray<string>): Proc => {
    const out = createWriteStream(path.join(logs, `${name}.log`));
    // `ip netns exec` execs the command, so the child's pid is the component's
    const child = spawn('ip', ['netns', 'exec', netns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.pipe(out);
    child.stderr!.pipe(out);
    const entry: Proc = { name, child };
    child.on('exit', (code, signal) => {
      entry.exited = { code, signal };
      if (!stopping) log(`${name} exited (${signal ?? code}); see ${path.join(logs, `${name}.log`)}`);
    });
    procs.push(entry);
    return entry;
  };
  const nsRun = (args: string[]) => spawnSync('ip', ['netns', 'exec', netns, ...args], { encoding: 'utf8', timeout: 30_000, maxBuffer: 64 * 1024 * 1024 });
  const kubectl = (args: string[]) => spawnSync(bin('kubectl'), ['--kubeconfig', adminKubeconfig, ...args], { encoding: 'utf8', timeout: 30_000, maxBuffer: 64 * 1024 * 1024 });
  const waitFor = async (what: string, test: () => boolean, timeoutMs = 90_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (options.signal?.aborted) throw new Error(`interrupted while waiting for ${what}`);
      const dead = procs.find((p) => p.exited);
      if (dead) throw new Error(`${dead.name} exited (${dead.exited!.signal ?? dead.exited!.code}) while waiting for ${what}; see ${path.join(logs, `${dead.name}.log`)}`);
      if (test()) return;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}; logs in ${logs}`);
      await sleep(250);
    }
  };

  const stop = async () => {
    stopping = true;
    // reverse order: the node agent first, etcd last
    for (const p of [...procs].reverse()) {
      if (!p.exited) p.child.kill('SIGTERM');
      const deadline = Date.now() + 10_000;
      while (!p.exited && Date.now() < deadline) await sleep(100);
      if (!p.exited) p.child.kill('SIGKILL');
    }
    deleteNetns(netns);
  };

  try {
    spawnIn('etcd', [bin('etcd'),
      '--name=vigil', `--data-dir=${path.join(dir, 'etcd')}`,
      '--listen-client-urls=http://127.0.0.1:2379', '--advertise-client-urls=http://127.0.0.1:2379',
      '--listen-peer-urls=http://127.0.0.1:2380', '--initial-advertise-peer-urls=http://127.0.0.1:2380',
      '--initial-cluster=vigil=http://127.0.0.1:2380', '--listen-metrics-urls=http://127.0.0.1:2381',
      // a throwaway test store: durability is not worth an fsync per write on a shared disk
      '--unsafe-no-fsync', '--log-level=warn',
    ]);
    await waitFor('etcd /health', () => /"health":"true"/.test(nsRun(['curl', '-sf', 'http://127.0.0.1:2379/health']).stdout || ''));
    spawnIn('kube-apiserver', [bin('kube-apiserver'),
      `--advertise-address=${API_ADDRESS}`, `--bind-address=${API_ADDRESS}`, `--secure-port=${API_PORT}`,
      '--etcd-servers=http://127.0.0.1:2379',
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      `--client-ca-file=${pki}/ca.crt`, `--tls-cert-file=${pki}/apiserver.crt`, `--tls-private-key-file=${pki}/apiserver.key`,
      `--kubelet-client-certificate=${pki}/apiserver-kubelet-client.crt`, `--kubelet-client-key=${pki}/apiserver-kubelet-client.key`,
      '--kubelet-preferred-address-types=InternalIP',
      `--requestheader-client-ca-file=${pki}/front-proxy-ca.crt`, '--requestheader-allowed-names=front-proxy-client',
      '--requestheader-username-headers=X-Remote-User', '--requestheader-group-headers=X-Remote-Group',
      '--requestheader-extra-headers-prefix=X-Remote-Extra-',
      `--proxy-client-cert-file=${pki}/front-proxy-client.crt`, `--proxy-client-key-file=${pki}/front-proxy-client.key`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${pki}/sa.pub`, `--service-account-signing-key-file=${pki}/sa.key`,
      // RBAC with the default admission plugins (none disabled), NodeRestriction as kubeadm adds it
      '--authorization-mode=Node,RBAC', '--enable-admission-plugins=NodeRestriction',
      '--endpoint-reconciler-type=none',
      // a node failure plays out in under a minute: Unknown after 20 s (controller-manager), evicted 10 s later
      '--default-not-ready-toleration-seconds=10', '--default-unreachable-toleration-seconds=10',
      '--allow-privileged=true', '--profiling=false',
      ...(options.extraApiserverArgs ?? []),
    ]);
    await waitFor('kube-apiserver /readyz', () => kubectl(['get', '--raw', '/readyz']).stdout?.trim() === 'ok');
    const apiserverReadyAt = Date.now();

    const delegated = (kc: string) => [`--kubeconfig=${kc}`, `--authentication-kubeconfig=${kc}`, `--authorization-kubeconfig=${kc}`];
    spawnIn('kube-controller-manager', [bin('kube-controller-manager'),
      ...delegated(path.join(dir, 'controller-manager.kubeconfig')),
      '--bind-address=127.0.0.1', '--secure-port=10257',
      `--service-account-private-key-file=${pki}/sa.key`, `--root-ca-file=${pki}/ca.crt`,
      `--cluster-signing-cert-file=${pki}/ca.crt`, `--cluster-signing-key-file=${pki}/ca.key`,
      '--use-service-account-credentials=true', `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--allocate-node-cidrs=false', '--node-monitor-grace-period=20s', '--profiling=false',
      // its default is a host path (/usr/libexec/kubernetes/...), which it would create
      `--flex-volume-plugin-dir=${path.join(dir, 'flexvolume')}`,
    ]);
    spawnIn('kube-scheduler', [bin('kube-scheduler'),
      ...delegated(path.join(dir, 'scheduler.kubeconfig')),
      '--bind-address=127.0.0.1', '--secure-port=10259', '--profiling=false',
    ]);
    const bootstrap = path.join(dir, 'bootstrap.yaml');
    writeFileSync(bootstrap, BOOTSTRAP_OBJECTS);
    const applied = kubectl(['apply', '-f', bootstrap]);
    if (applied.status !== 0) throw new Error(`applying ${bootstrap} failed: ${applied.stderr}`);
    spawnIn('kube-state-metrics', [bin('kube-state-metrics'),
      `--kubeconfig=${path.join(dir, 'kube-state-metrics.kubeconfig')}`,
      `--host=${API_ADDRESS}`, `--port=${KSM_PORT}`, `--telemetry-host=${API_ADDRESS}`, `--telemetry-port=${KSM_TELEMETRY_PORT}`,
    ]);

    const holds = (lease: string) => {
      const r = kubectl(['-n', 'kube-system', 'get', 'lease', lease, '-o', 'jsonpath={.spec.holderIdentity}']);
      return r.status === 0 && r.stdout.trim() !== '';
    };
    await waitFor('the kube-controller-manager lease', () => holds('kube-controller-manager'));
    // its controllers start a few seconds after the lease, all at once; the first visible work of two of
    // them is the default namespace's ServiceAccount (which pods need to be admitted) and CA ConfigMap
    await waitFor('the controllers (default ServiceAccount, kube-root-ca.crt)', () =>
      kubectl(['-n', 'default', 'get', 'serviceaccount/default', 'configmap/kube-root-ca.crt', '-o', 'name']).status === 0);
    await waitFor('the kube-scheduler lease', () => holds('kube-scheduler'));
    // ready once its stores have listed: the namespaces the apiserver created show up as series
    await waitFor('kube-state-metrics to report kube_namespace_created', () =>
      (nsRun(['curl', '-sf', `http://${API_ADDRESS}:${KSM_PORT}/metrics`]).stdout || '').includes('kube_namespace_created{namespace="kube-system"'));

    if (options.nodeAgent) {
      const agent = spawnIn('node-agent', [...options.nodeAgent.command, 'node-agent', '--kubeconfig', adminKubeconfig, '--nodes', String(nodes.length), ...(options.nodeAgent.args ?? [])]);
      let said = '';
      agent.child.stdout!.on('data', (d: Buffer) => (said += d.toString()));
      await waitFor('the node agent\'s ready line', () => said.includes('"ready":true'), 60_000);
      await waitFor('every node Ready', () => {
        const out = kubectl(['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}']).stdout || '';
        return nodes.every((n) => out.includes(`${n.name}=True`));
      }, 60_000);
    }
    const readyAt = Date.now();

    return {
      dir,
      pki,
      netns,
      kubeconfig: adminKubeconfig,
      prometheusKubeconfig: path.join(dir, 'prometheus.kubeconfig'),
      server: `https://${API_ADDRESS}:${API_PORT}`,
      kubeStateMetricsUrl: `http://${API_ADDRESS}:${KSM_PORT}/metrics`,
      binaries: options.binaries,
      kubectlPath: bin('kubectl'),
      nodes,
      startSeconds: (readyAt - started) / 1000,
      apiserverReadySeconds: (apiserverReadyAt - started) / 1000,
      kubectl,
      rss: () => Object.fromEntries(procs.map((p) => [p.name, rssKiB(p.child.pid)])),
      pid: (name) => procs.find((p) => p.name === name)?.child.pid,
      stop,
    };
  } catch (err) {
    await stop();
    (err as Error).message += ` (certificates, etcd data and logs kept in ${dir})`;
    throw err;
  }
}

/**
 * `kubectl apply` of many objects in batches (files in the control plane's folder): one kubectl runs under a 30 s
 * bound, which an apply of 400 objects overran on the loaded machine. Throws naming the file that failed.
 */
export function applyInBatches(cp: Pick<ControlPlane, 'dir' | 'kubectl'>, objects: ReadonlyArray<{ readonly kind?: string }>, name: string, batch = 50): void {
  for (let i = 0; i < objects.length; i += batch) {
    const file = path.join(cp.dir, `${name}-${i / batch}.yaml`);
    writeFileSync(file, objects.slice(i, i + batch).map((o) => JSON.stringify(o)).join('\n'));
    const applied = cp.kubectl(['apply', '-f', file]);
    if (applied.status !== 0) throw new Error(`kubectl apply -f ${file} failed (${applied.status ?? applied.signal ?? applied.error?.message}): ${applied.stderr}`);
  }
}
