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
  chromium: () => (existsSync('/usr/bin/chromium') ? undefined : aptInstall(['chromium'])),
};

/** The tiers, in the order they run. `needs` are checked (and installed where possible) before the tier. */
export const tiers = [
  { name: 'unit', dir: 'test/unit', needs: [] },
  { name: 'integration', dir: 'test/integration', needs: ['kubectl', 'prometheus'] },
  { name: 'e2e', dir: 'test/e2e', needs: ['chromium'], prepare: 'test/e2e/prepare.mjs' },
];

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
