/**
 * Where the official Kubernetes components built by `npm run k8s:build` are, found without Go: the shipped
 * CLI only looks for the cached binaries (scripts/k8s/goEnv.mjs builds them into the same folder).
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pins from '../../../scripts/k8s/pins.json';

export const KUBERNETES_VERSION: string = pins.kubernetes;
const BINARIES: ReadonlyArray<string> = pins.commands.map((c) => c.binary);
const BUILD_HINT = 'run `npm run k8s:build` in a clone of Vigil (it needs Go; see scripts/k8s/README.md), or point VIGIL_K8S_BIN at a folder holding them';

/** `${XDG_CACHE_HOME:-~/.cache}/vigil-k8s`, the folder scripts/k8s/goEnv.mjs builds into (cacheRoot there). */
export function componentsCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'vigil-k8s');
}

/** Why a folder does not hold the pinned components, or undefined when it does. */
export function componentsProblem(dir: string): string | undefined {
  let built: { kubernetes?: string; kubeStateMetrics?: string };
  try {
    built = JSON.parse(readFileSync(path.join(dir, 'build.json'), 'utf8')) as typeof built;
  } catch {
    return `${dir} has no build.json (not made by npm run k8s:build)`;
  }
  if (built.kubernetes !== pins.kubernetes || built.kubeStateMetrics !== pins.kubeStateMetrics) {
    return `${dir} holds Kubernetes ${built.kubernetes} / kube-state-metrics ${built.kubeStateMetrics}, not the pinned ${pins.kubernetes} / ${pins.kubeStateMetrics}`;
  }
  for (const b of BINARIES) {
    try {
      accessSync(path.join(dir, b), constants.X_OK);
    } catch {
      return `${dir} has no executable ${b}`;
    }
  }
  return undefined;
}

/**
 * The folder of the built components: VIGIL_K8S_BIN when set, else the newest `<k8s>-<go>` folder of the
 * cache whose build.json names the pinned versions. A reason naming the fix when there is none.
 */
export function findComponents(env: NodeJS.ProcessEnv = process.env): { readonly dir: string } | { readonly reason: string } {
  const given = env.VIGIL_K8S_BIN;
  if (given) {
    const problem = componentsProblem(given);
    return problem ? { reason: `VIGIL_K8S_BIN: ${problem}; ${BUILD_HINT}` } : { dir: given };
  }
  const root = componentsCacheRoot(env);
  let names: string[] = [];
  try {
    names = readdirSync(root).filter((n) => n.startsWith(`${pins.kubernetes}-`));
  } catch {
    // no cache yet
  }
  const usable = names
    .map((n) => path.join(root, n))
    .filter((d) => !componentsProblem(d))
    .sort()
    .reverse();
  if (usable.length > 0) return { dir: usable[0] };
  return { reason: `the Kubernetes ${pins.kubernetes} components are not built (nothing usable in ${root}/${pins.kubernetes}-<go version>): ${BUILD_HINT}` };
}

/**
 * The Prometheus `npm run k8s:build` built beside the components (with Kubernetes service discovery, which
 * Debian's package lacks), or a reason naming the fix.
 */
export function builtPrometheus(dir: string): { readonly binary: string } | { readonly reason: string } {
  const binary = path.join(dir, 'prometheus');
  const r = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 20_000 });
  const line = `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n')[0];
  if (r.status !== 0) return { reason: `no Prometheus in ${dir}: run \`npm run k8s:build\` (it builds Prometheus ${pins.prometheus.release} with kubernetes_sd_configs)` };
  if (!line.includes(`version ${pins.prometheus.release} `)) return { reason: `${binary} is not Prometheus ${pins.prometheus.release} (${line}): run \`npm run k8s:build\`` };
  return { binary };
}

/** The helm `npm run k8s:build` built beside the components (for `helm lint` and `helm template` of deploy/helm/vigil), or a reason naming the fix. */
export function builtHelm(dir: string): { readonly binary: string } | { readonly reason: string } {
  const binary = path.join(dir, 'helm');
  const r = spawnSync(binary, ['version', '--short'], { encoding: 'utf8', timeout: 20_000 });
  const line = (r.stdout ?? '').trim().split('\n')[0];
  if (r.status !== 0) return { reason: `no helm in ${dir}: run \`npm run k8s:build\` (it builds helm ${pins.helm.release})` };
  if (!line.startsWith(pins.helm.release)) return { reason: `${binary} is not helm ${pins.helm.release} (${line}): run \`npm run k8s:build\`` };
  return { binary };
}

/** Why this machine cannot run the control plane (root, iproute2, openssl, curl), or undefined. */
export function controlPlanePrerequisiteProblem(): string | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'not root: the control plane runs in a network namespace of its own (ip netns add), which needs root; run it as root (e.g. sudo)';
  const has = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'ignore', timeout: 20_000 }).status === 0;
  if (!has('ip', ['-V'])) return 'no `ip` on PATH: install iproute2 (apt-get install iproute2)';
  if (!has('openssl', ['version'])) return 'no `openssl` on PATH (it makes the cluster certificates): apt-get install openssl';
  if (!has('curl', ['--version'])) return 'no `curl` on PATH (it probes etcd inside the namespace): apt-get install curl';
  return undefined;
}
