// Test tiers and the system packages each needs. A tier whose needs cannot be met is skipped
// with a printed reason, unless VIGIL_REQUIRE_ALL_TIERS=1 (CI), where a skip is a failure.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
let aptUpdated = false;

export function has(cmd, args = ['--version']) {
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 30_000 });
  return r.status === 0;
}

/** apt-get install as root; returns an error text or undefined. */
export function aptInstall(packages) {
  if (!isRoot) return `not root, cannot apt-get install ${packages.join(' ')}`;
  if (!has('apt-get', ['--version'])) return 'apt-get not found';
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { stdio: 'inherit', env, timeout: 900_000 });
  let r = install();
  if (r.status !== 0 && !aptUpdated) {
    spawnSync('apt-get', ['update'], { stdio: 'inherit', env, timeout: 600_000 });
    aptUpdated = true;
    r = install();
  }
  return r.status === 0 ? undefined : `apt-get install ${packages.join(' ')} failed (exit ${r.status})`;
}

/** Finds test files below a folder. */
export function testFiles(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...testFiles(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

const need = {
  kubectl: () => (has('kubectl', ['version', '--client']) ? undefined : aptInstall(['kubernetes-client']) ?? (has('kubectl', ['version', '--client']) ? undefined : 'kubectl still missing after install')),
  prometheus: () => (has('prometheus', ['--version']) ? undefined : aptInstall(['prometheus']) ?? (has('prometheus', ['--version']) ? undefined : 'prometheus still missing after install')),
  alertmanager: () => (has('prometheus-alertmanager', ['--version']) ? undefined : aptInstall(['prometheus-alertmanager']) ?? (has('prometheus-alertmanager', ['--version']) ? undefined : 'prometheus-alertmanager still missing after install')),
  chromium: () => (existsSync('/usr/bin/chromium') ? undefined : aptInstall(['chromium'])),
  // the k8s tier: a network namespace of its own, certificates made with openssl, probes with curl
  root: () => (isRoot ? undefined : 'not root: the real control plane runs in a network namespace (ip netns add) of its own'),
  ip: () => (has('ip', ['-V']) ? undefined : aptInstall(['iproute2']) ?? (has('ip', ['-V']) ? undefined : 'ip (iproute2) still missing after install')),
  openssl: () => (has('openssl', ['version']) ? undefined : aptInstall(['openssl']) ?? (has('openssl', ['version']) ? undefined : 'openssl still missing after install')),
  curl: () => (has('curl', ['--version']) ? undefined : aptInstall(['curl']) ?? (has('curl', ['--version']) ? undefined : 'curl still missing after install')),
};

/**
 * The tiers, in the order they run. `needs` are checked (and installed where possible) before the tier;
 * then `prepare` runs, and its exit 3 means "cannot run here": the tier is skipped with the reason it printed.
 * `bundle: false`: the tier runs from source and needs no webpack build.
 */
export const tiers = [
  { name: 'unit', dir: 'test/unit', needs: [] },
  // two mocha processes at once: its long files mostly wait on real time (a sandbox, Prometheus, an agent at
  // its interval), so two of them share the 2 cores; `weights` (seconds, measured serially) balance the halves
  {
    name: 'integration',
    dir: 'test/integration',
    needs: ['kubectl', 'prometheus', 'alertmanager'],
    shards: 2,
    weights: {
      'observe/kubePrometheusNames': 213,
      'heal/demoReport': 199,
      'heal/selfHealing': 194,
      'observe/sloBurn': 191,
      'heal/resolvedWithoutAction': 156,
      'observe/prometheusSource': 127,
      'sandbox/faults': 81,
      'observe/alertmanager': 79,
      'heal/deniedNamespace': 49,
      'heal/escalationContext': 40,
      'sandbox/kubectl': 20,
      'console/severalClusters': 20,
      'sandbox/prometheus': 12,
    },
  },
  // the real control plane: Go builds its components (scripts/k8s/build.mjs; exit 3 without Go), or VIGIL_K8S_BIN has them;
  // its healing test runs the shipped agent (dist/cli.js), so the bundle is built first
  { name: 'k8s', dir: 'test/k8s', needs: ['root', 'ip', 'openssl', 'curl'], prepare: 'test/k8s/prepare.mjs' },
  { name: 'e2e', dir: 'test/e2e', needs: ['chromium'], prepare: 'test/e2e/prepare.mjs' },
];

/**
 * Splits a tier's files into `n` groups of about equal expected time (longest first, each to the lightest
 * group); a file without a weight counts 5 s. The order inside a group stays alphabetical.
 */
export function shardFiles(files, n, weights = {}) {
  const weight = (f) => {
    const key = Object.keys(weights).find((k) => f.replace(/\\/g, '/').endsWith(`${k}.test.ts`));
    return key ? weights[key] : 5;
  };
  const groups = Array.from({ length: n }, () => ({ files: [], total: 0 }));
  for (const f of [...files].sort((a, b) => weight(b) - weight(a) || a.localeCompare(b))) {
    const g = groups.reduce((lightest, x) => (x.total < lightest.total ? x : lightest));
    g.files.push(f);
    g.total += weight(f);
  }
  return groups.filter((g) => g.files.length > 0).map((g) => ({ files: g.files.sort(), seconds: g.total }));
}

/** Exit code of a tier's prepare step that means "cannot run on this machine" (the reason is its last stderr line). */
export const EXIT_CANNOT_RUN = 3;

export function ensureNeeds(tier) {
  for (const n of tier.needs) {
    const problem = need[n]();
    if (problem) return `${n}: ${problem}`;
  }
  return undefined;
}

export function gitRoot() {
  return execFileSync('git', ['rev-parse', '--show-toplevel'], { encoding: 'utf8' }).trim();
}
