// Where the Kubernetes test components and their Go caches live, and how Go is run for them.
// Everything is kept outside the clone, so a fresh clone on the same machine (CI) reuses it.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const moduleDir = path.dirname(fileURLToPath(import.meta.url));
export const pins = JSON.parse(readFileSync(path.join(moduleDir, 'pins.json'), 'utf8'));

/** Exit code when Go is missing or too old, so a test tier can skip with the printed reason. */
export const EXIT_NO_GO = 3;

export function cacheRoot() {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'vigil-k8s');
}

/**
 * A private module and build cache: the multi-GB component build never mixes with (or is evicted by)
 * the developer's own Go work, and "cold" is measurable by deleting one folder.
 */
export function goEnv() {
  const go = path.join(cacheRoot(), 'go');
  return {
    ...process.env,
    GOTOOLCHAIN: 'local',
    GOMODCACHE: path.join(go, 'mod'),
    GOCACHE: path.join(go, 'build'),
    // no VCS stamp: the main module is this clone, whose state says nothing about the components
    GOFLAGS: '-modcacherw -buildvcs=false',
    CGO_ENABLED: '0',
  };
}

/** Runs go at the lowest CPU priority when `nice` exists: the build takes both cores for many minutes. */
export function runGo(args, { capture = false, cwd = moduleDir, env = {} } = {}) {
  const nice = spawnSync('nice', ['--version'], { stdio: 'ignore' }).status === 0;
  const [cmd, argv] = nice ? ['nice', ['-n', '19', 'go', ...args]] : ['go', args];
  const r = spawnSync(cmd, argv, {
    cwd,
    env: { ...goEnv(), ...env },
    stdio: capture ? ['ignore', 'pipe', 'inherit'] : 'inherit',
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`go ${args.join(' ')} failed with exit ${r.status}`);
  return r.stdout;
}

/** The local Go version ("go1.26.8"), or a reason why Go cannot build the pinned components. */
export function goVersion() {
  const r = spawnSync('go', ['env', 'GOVERSION'], { env: goEnv(), encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    return { reason: 'Go is not installed (no `go` on PATH); the Kubernetes components for the k8s test tier are built from their Go modules' };
  }
  const version = r.stdout.trim();
  const need = requiredGo();
  if (need && compareGo(version.replace(/^go/, ''), need) < 0) {
    return { reason: `${version} is older than go ${need}, which the pinned components need (scripts/k8s/go.mod)` };
  }
  return { version };
}

function requiredGo() {
  try {
    const m = /^go (\S+)$/m.exec(readFileSync(path.join(moduleDir, 'go.mod'), 'utf8'));
    return m?.[1];
  } catch {
    return undefined;
  }
}

function compareGo(a, b) {
  const pa = a.split(/[.a-z]/).map(Number);
  const pb = b.split(/[.a-z]/).map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] || 0) - (pb[i] || 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The folder of the built binaries for the pinned Kubernetes version and this Go. */
export function binDir(goVer) {
  return path.join(cacheRoot(), `${pins.kubernetes}-${goVer}`);
}

/** The etcd version scripts/k8s/go.mod builds (the one the pinned Kubernetes requires). */
export function pinnedEtcdVersion() {
  try {
    return /go\.etcd\.io\/etcd\/server\/v3 (\S+)/.exec(readFileSync(path.join(moduleDir, 'go.mod'), 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/**
 * Each binary's first version line, or undefined when one is missing or does not run, or when the
 * build.json beside them records other versions than the pins (the folder is named by Kubernetes' alone).
 */
export function checkBinaries(dir) {
  try {
    const built = JSON.parse(readFileSync(path.join(dir, 'build.json'), 'utf8'));
    if (built.kubernetes !== pins.kubernetes || built.kubeStateMetrics !== pins.kubeStateMetrics || built.etcd !== pinnedEtcdVersion()) return undefined;
  } catch {
    return undefined;
  }
  const lines = {};
  for (const c of pins.commands) {
    const file = path.join(dir, c.binary);
    if (!existsSync(file)) return undefined;
    const r = spawnSync(file, c.versionArgs, { encoding: 'utf8', timeout: 30_000 });
    if (r.status !== 0) return undefined;
    lines[c.binary] = `${r.stdout}${r.stderr}`.trim().split('\n')[0];
  }
  return lines;
}
