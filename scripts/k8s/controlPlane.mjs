// A real Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
// kube-state-metrics) from the binaries `npm run k8s:build` made, inside a network namespace of its own.
//
// The apiserver will not proxy to loopback pod IPs and EndpointSlices reject 127/8, so the cluster uses
// ordinary private addresses (10.244.0.0/16) — on the namespace's own loopback device. The namespace has
// no other link, so nothing it does is routed anywhere off this machine. Needs root (ip netns).
//
//   node scripts/k8s/controlPlane.mjs            start, print one JSON ready line, run until SIGINT/SIGTERM
//   node scripts/k8s/controlPlane.mjs --verify   start, check with kubectl, print start time and rss, stop
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { binDir, checkBinaries, goVersion, pins } from './goEnv.mjs';

export const NETNS = 'vigil-k8s-test';
/** The apiserver's advertise address; nodes and pods take others from 10.244.0.0/16. */
export const API_ADDRESS = '10.244.0.1';
export const API_PORT = 6443;
/** Nodes and pods: the node agent's addresses, all local to the namespace. */
export const POD_RANGE = '10.244.0.0/16';
const SERVICE_CIDR = '10.96.0.0/16';
const SERVICE_API_IP = '10.96.0.1';
const KSM_PORT = 8080;
const KSM_TELEMETRY_PORT = 8081;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}): ${(r.stderr || '').trim()}`);
  return r.stdout;
}

/** Why this machine cannot run the control plane, or undefined. */
export function missingPrerequisite() {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'not root: a network namespace (ip netns add) needs root';
  if (spawnSync('ip', ['-V'], { stdio: 'ignore' }).status !== 0) return 'no `ip` (iproute2) on PATH';
  if (spawnSync('openssl', ['version'], { stdio: 'ignore' }).status !== 0) return 'no `openssl` on PATH (it makes the cluster certificates)';
  if (spawnSync('curl', ['--version'], { stdio: 'ignore' }).status !== 0) return 'no `curl` on PATH (it probes kube-state-metrics inside the namespace)';
  return undefined;
}

/** The folder of the built binaries (VIGIL_K8S_BIN overrides), or a reason they are not there. */
export function componentsDir() {
  let dir = process.env.VIGIL_K8S_BIN;
  if (!dir) {
    const go = goVersion();
    if (go.reason) return { reason: go.reason };
    dir = binDir(go.version);
  }
  if (!checkBinaries(dir)) return { reason: `the Kubernetes components are not built in ${dir}: run npm run k8s:build` };
  return { dir };
}

// ---- network namespace --------------------------------------------------------------------------

/** Kills what runs in a namespace left by an earlier run of this script, and deletes it. */
function deleteNetns(name) {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout || '';
  if (!list.split('\n').some((l) => l.split(' ')[0] === name)) return;
  const pids = (spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).stdout || '').split('\n').filter(Boolean);
  for (const pid of pids) {
    try { process.kill(Number(pid), 'SIGKILL'); } catch { /* already gone */ }
  }
  run('ip', ['netns', 'delete', name]);
}

function createNetns(name, addresses) {
  deleteNetns(name);
  run('ip', ['netns', 'add', name]);
  run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  for (const a of addresses) run('ip', ['-n', name, 'addr', 'add', `${a}/32`, 'dev', 'lo']);
  // AnyIP: every address of the range is local, so the node agent binds each pod's IP without adding it
  run('ip', ['-n', name, 'route', 'add', 'local', POD_RANGE, 'dev', 'lo']);
}

// ---- certificates -------------------------------------------------------------------------------

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function makeCa(pki, name = 'ca') {
  run('openssl', ['req', '-x509', ...EC, '-keyout', `${pki}/${name}.key`, '-out', `${pki}/${name}.crt`, '-days', '3650',
    '-subj', `/CN=vigil-k8s-${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
}

/** A leaf certificate signed by the cluster CA; `o` becomes the RBAC group of a client certificate. */
function makeCert(pki, name, { cn, o, sans, server = false, ca = 'ca' }) {
  const subj = `/CN=${cn}${o ? `/O=${o}` : ''}`;
  const ext = ['-addext', 'basicConstraints=critical,CA:FALSE', '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment',
    '-addext', `extendedKeyUsage=${server ? 'serverAuth' : 'clientAuth'}`];
  if (sans) ext.push('-addext', `subjectAltName=${sans.join(',')}`);
  run('openssl', ['req', '-x509', ...EC, '-keyout', `${pki}/${name}.key`, '-out', `${pki}/${name}.crt`, '-days', '3650',
    '-subj', subj, '-CA', `${pki}/${ca}.crt`, '-CAkey', `${pki}/${ca}.key`, ...ext]);
}

function makePki(pki) {
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
  // service-account token signing key pair
  run('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', `${pki}/sa.key`]);
  run('openssl', ['pkey', '-in', `${pki}/sa.key`, '-pubout', '-out', `${pki}/sa.pub`]);
}

function kubeconfig(pki, user, server = `https://${API_ADDRESS}:${API_PORT}`) {
  const b64 = (f) => readFileSync(`${pki}/${f}`).toString('base64');
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

// ---- processes ----------------------------------------------------------------------------------

// kube-state-metrics reads every kind it reports on, secrets included; nothing else.
const KSM_RBAC = `apiVersion: rbac.authorization.k8s.io/v1
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
`;

function rssKiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts the control plane. Resolves once the apiserver is ready, the controller-manager's controllers run, the
 * scheduler holds its lease and kube-state-metrics reports the namespaces. `stop()` ends every process it
 * started and deletes the namespace.
 */
export async function startControlPlane({ binaries, dir, netns = NETNS, extraApiserverArgs = [], log = () => {}, signal } = {}) {
  const started = Date.now();
  const bin = (name) => path.join(binaries, name);
  dir ??= mkdtempSync(path.join(os.tmpdir(), 'vigil-k8s-'));
  const pki = path.join(dir, 'pki');
  const logs = path.join(dir, 'logs');
  mkdirSync(logs, { recursive: true });
  makePki(pki);
  for (const user of ['admin', 'controller-manager', 'scheduler', 'kube-state-metrics']) {
    writeFileSync(path.join(dir, `${user}.kubeconfig`), kubeconfig(pki, user), { mode: 0o600 });
  }
  const adminKubeconfig = path.join(dir, 'admin.kubeconfig');
  createNetns(netns, [API_ADDRESS]);

  const procs = [];
  let stopping = false;
  const spawnIn = (name, file, args) => {
    const out = createWriteStream(path.join(logs, `${name}.log`));
    // `ip netns exec` execs the command, so the child's pid is the component's
    const child = spawn('ip', ['netns', 'exec', netns, file, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(out);
    child.stderr.pipe(out);
    const entry = { name, child, exited: undefined };
    child.on('exit', (code, signal) => {
      entry.exited = { code, signal };
      if (!stopping) log(`${name} exited (${signal ?? code}); see ${path.join(logs, `${name}.log`)}`);
    });
    procs.push(entry);
    return entry;
  };
  const nsRun = (args) => spawnSync('ip', ['netns', 'exec', netns, ...args], { encoding: 'utf8', timeout: 30_000, maxBuffer: 64 * 1024 * 1024 });
  const kubectl = (args) => nsRun([bin('kubectl'), '--kubeconfig', adminKubeconfig, ...args]);
  const waitFor = async (what, test, timeoutMs = 90_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (signal?.aborted) throw new Error(`interrupted while waiting for ${what}`);
      const dead = procs.find((p) => p.exited);
      if (dead) throw new Error(`${dead.name} exited (${dead.exited.signal ?? dead.exited.code}) while waiting for ${what}; see ${path.join(logs, `${dead.name}.log`)}`);
      if (test()) return;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; logs in ${logs}`);
      await sleep(250);
    }
  };

  const stop = async () => {
    stopping = true;
    for (const p of [...procs].reverse()) {
      if (!p.exited) p.child.kill('SIGTERM');
      const deadline = Date.now() + 10_000;
      while (!p.exited && Date.now() < deadline) await sleep(100);
      if (!p.exited) p.child.kill('SIGKILL');
    }
    deleteNetns(netns);
  };

  try {
    const etcdDir = path.join(dir, 'etcd');
    spawnIn('etcd', bin('etcd'), [
      '--name=vigil', `--data-dir=${etcdDir}`,
      '--listen-client-urls=http://127.0.0.1:2379', '--advertise-client-urls=http://127.0.0.1:2379',
      '--listen-peer-urls=http://127.0.0.1:2380', '--initial-advertise-peer-urls=http://127.0.0.1:2380',
      '--initial-cluster=vigil=http://127.0.0.1:2380', '--listen-metrics-urls=http://127.0.0.1:2381',
      // a throwaway test store: durability is not worth an fsync per write on a shared disk
      '--unsafe-no-fsync', '--log-level=warn',
    ]);
    await waitFor('etcd /health', () => /"health":"true"/.test(nsRun(['curl', '-sf', 'http://127.0.0.1:2379/health']).stdout || ''));
    spawnIn('kube-apiserver', bin('kube-apiserver'), [
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
      '--default-not-ready-toleration-seconds=10', '--default-unreachable-toleration-seconds=10',
      '--allow-privileged=true', '--profiling=false',
      ...extraApiserverArgs,
    ]);
    await waitFor('kube-apiserver /readyz', () => kubectl(['get', '--raw', '/readyz']).stdout?.trim() === 'ok');
    const apiserverReadyAt = Date.now();

    const delegated = (kc) => [`--kubeconfig=${kc}`, `--authentication-kubeconfig=${kc}`, `--authorization-kubeconfig=${kc}`];
    spawnIn('kube-controller-manager', bin('kube-controller-manager'), [
      ...delegated(path.join(dir, 'controller-manager.kubeconfig')),
      '--bind-address=127.0.0.1', '--secure-port=10257',
      `--service-account-private-key-file=${pki}/sa.key`, `--root-ca-file=${pki}/ca.crt`,
      `--cluster-signing-cert-file=${pki}/ca.crt`, `--cluster-signing-key-file=${pki}/ca.key`,
      '--use-service-account-credentials=true', `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--allocate-node-cidrs=false', '--node-monitor-grace-period=20s', '--profiling=false',
      // its default is a host path (/usr/libexec/kubernetes/...), which it would create
      `--flex-volume-plugin-dir=${path.join(dir, 'flexvolume')}`,
    ]);
    spawnIn('kube-scheduler', bin('kube-scheduler'), [
      ...delegated(path.join(dir, 'scheduler.kubeconfig')),
      '--bind-address=127.0.0.1', '--secure-port=10259', '--profiling=false',
    ]);
    const rbacFile = path.join(dir, 'kube-state-metrics-rbac.yaml');
    writeFileSync(rbacFile, KSM_RBAC);
    const applied = kubectl(['apply', '-f', rbacFile]);
    if (applied.status !== 0) throw new Error(`applying kube-state-metrics RBAC failed: ${applied.stderr}`);
    spawnIn('kube-state-metrics', bin('kube-state-metrics'), [
      `--kubeconfig=${path.join(dir, 'kube-state-metrics.kubeconfig')}`,
      `--host=${API_ADDRESS}`, `--port=${KSM_PORT}`, `--telemetry-host=${API_ADDRESS}`, `--telemetry-port=${KSM_TELEMETRY_PORT}`,
    ]);

    const holds = (lease) => {
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
    const readyAt = Date.now();

    return {
      dir,
      netns,
      kubeconfig: adminKubeconfig,
      server: `https://${API_ADDRESS}:${API_PORT}`,
      kubeStateMetricsUrl: `http://${API_ADDRESS}:${KSM_PORT}/metrics`,
      startSeconds: (readyAt - started) / 1000,
      apiserverReadySeconds: (apiserverReadyAt - started) / 1000,
      kubectl,
      rss: () => Object.fromEntries(procs.map((p) => [p.name, rssKiB(p.child.pid)])),
      stop,
    };
  } catch (err) {
    await stop();
    err.message += ` (certificates, etcd data and logs kept in ${dir})`;
    throw err;
  }
}

async function main() {
  const verify = process.argv.includes('--verify');
  const keep = process.argv.includes('--keep');
  const why = missingPrerequisite();
  const comps = componentsDir();
  if (why || comps.reason) {
    console.error(`k8s control plane: skipped: ${why ?? comps.reason}`);
    process.exit(3);
  }
  const log = (m) => console.error(`k8s control plane: ${m}`);
  // a signal while starting aborts the start (which stops what it started); after it, stops
  let cp;
  const starting = { aborted: false };
  const done = async (code) => {
    await cp.stop();
    if (!keep) rmSync(cp.dir, { recursive: true, force: true });
    process.exit(code);
  };
  const onSignal = () => (cp ? done(verify ? 1 : 0) : (starting.aborted = true));
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  cp = await startControlPlane({ binaries: comps.dir, log, signal: starting });
  if (!verify) {
    console.log(JSON.stringify({ ready: true, kubeconfig: cp.kubeconfig, server: cp.server, netns: cp.netns,
      kubeStateMetrics: cp.kubeStateMetricsUrl, startSeconds: cp.startSeconds }));
    return;
  }
  let ok = true;
  const version = cp.kubectl(['version']);
  console.log(`$ ip netns exec ${cp.netns} kubectl version\n${version.stdout}${version.stderr}`);
  if (!version.stdout.includes(`Server Version: ${pins.kubernetes}`)) ok = false;
  const readyz = cp.kubectl(['get', '--raw', '/readyz?verbose']);
  console.log(`$ ip netns exec ${cp.netns} kubectl get --raw '/readyz?verbose'\n${readyz.stdout}${readyz.stderr}`);
  if (!/\[\+\]etcd ok/.test(readyz.stdout)) ok = false;
  const nodes = cp.kubectl(['get', 'namespaces']);
  console.log(`$ kubectl get namespaces\n${nodes.stdout}${nodes.stderr}`);
  await sleep(5000); // rss after the first informer syncs settle
  const rss = cp.rss();
  console.log(`start: apiserver ready ${cp.apiserverReadySeconds.toFixed(1)} s, all components ready ${cp.startSeconds.toFixed(1)} s`);
  for (const [name, kib] of Object.entries(rss)) console.log(`  rss ${name.padEnd(24)} ${(kib / 1024).toFixed(0).padStart(5)} MiB`);
  console.log(ok ? 'verify: ok' : 'verify: FAILED');
  await done(ok ? 0 : 1);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(`k8s control plane: ${err.message}`);
    process.exit(1);
  });
}
