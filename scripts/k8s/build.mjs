// npm run k8s:build — builds the official Kubernetes components for the k8s test tier (see README.md).
// Idempotent: when every binary is present and answers its version command, it only says so.
// Exit 3 (EXIT_NO_GO) when Go is missing or too old, so a test tier can skip with the printed reason.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EXIT_NO_GO, binDir, checkBinaries, goEnv, goVersion, moduleDir, pinnedEtcdVersion, pins, runGo } from './goEnv.mjs';

const force = process.argv.includes('--force');

/** What `go build -o DIR/` names a main package's binary: its last path element, skipping a /vN suffix. */
function goBinaryName(pkg) {
  const parts = pkg.split('/');
  const last = parts.at(-1);
  return /^v\d+$/.test(last) && parts.length > 1 ? parts.at(-2) : last;
}

/** Version stamps the upstream release builds set with -X, so `kubectl version` shows the real version. */
function versionLdflags() {
  const k8s = pins.kubernetes;
  const [major, minor] = k8s.replace(/^v/, '').split('.');
  const buildDate = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const flags = [];
  for (const pkg of ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']) {
    flags.push(`-X ${pkg}.gitVersion=${k8s}`, `-X ${pkg}.gitMajor=${major}`, `-X ${pkg}.gitMinor=${minor}`,
      `-X ${pkg}.gitTreeState=clean`, `-X ${pkg}.gitCommit=`, `-X ${pkg}.buildDate=${buildDate}`);
  }
  flags.push(`-X github.com/prometheus/common/version.Version=${pins.kubeStateMetrics.replace(/^v/, '')}`,
    `-X github.com/prometheus/common/version.BuildDate=${buildDate}`,
    `-X k8s.io/kube-state-metrics/v2/pkg/app.ClientGoVersion=${k8s.replace(/^v1\./, 'v0.')}`);
  return flags.join(' ');
}

function main() {
  const go = goVersion();
  if (go.reason) {
    console.error(`k8s:build: cannot build the Kubernetes components: ${go.reason}.`);
    process.exit(EXIT_NO_GO);
  }
  const dir = binDir(go.version);
  const present = checkBinaries(dir);
  if (present && !force) {
    console.log(`k8s:build: up to date in ${dir}`);
    for (const [bin, line] of Object.entries(present)) console.log(`  ${bin.padEnd(24)} ${line}`);
    buildPrometheus(dir);
    buildHelm(dir);
    return;
  }

  const goMod = readFileSync(path.join(moduleDir, 'go.mod'), 'utf8');
  const etcdVersion = pinnedEtcdVersion();
  if (!goMod.includes(`k8s.io/kubernetes ${pins.kubernetes}\n`) || !goMod.includes(`k8s.io/kube-state-metrics/v2 ${pins.kubeStateMetrics}\n`) || !etcdVersion) {
    console.error('k8s:build: scripts/k8s/go.mod does not match pins.json; run `node scripts/k8s/generateGoMod.mjs` and commit go.mod and go.sum.');
    process.exit(1);
  }

  console.log(`k8s:build: Kubernetes ${pins.kubernetes}, etcd ${etcdVersion}, kube-state-metrics ${pins.kubeStateMetrics} with ${go.version} into ${dir}`);
  console.log(`  Go caches: ${goEnv().GOMODCACHE}, ${goEnv().GOCACHE}`);
  const t0 = Date.now();
  runGo(['mod', 'download']);
  const t1 = Date.now();
  console.log(`  modules downloaded in ${((t1 - t0) / 1000).toFixed(1)} s`);

  const partial = `${dir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  runGo(['build', '-trimpath', `-ldflags=-s -w ${versionLdflags()}`, '-o', `${partial}/`, ...pins.commands.map((c) => c.package)]);
  const t2 = Date.now();

  // build.json is what marks the folder complete (checkBinaries): gone while binaries are swapped
  const record = path.join(dir, 'build.json');
  mkdirSync(dir, { recursive: true });
  rmSync(record, { force: true });
  for (const c of pins.commands) renameSync(path.join(partial, goBinaryName(c.package)), path.join(dir, c.binary));
  rmSync(partial, { recursive: true, force: true });

  const summary = { kubernetes: pins.kubernetes, etcd: etcdVersion, kubeStateMetrics: pins.kubeStateMetrics, go: go.version,
    downloadSeconds: (t1 - t0) / 1000, buildSeconds: (t2 - t1) / 1000, builtAt: new Date().toISOString(), binaries: {} };
  writeFileSync(record, `${JSON.stringify(summary, null, 2)}\n`);
  const built = checkBinaries(dir);
  if (!built) {
    rmSync(record, { force: true });
    console.error(`k8s:build: built, but a binary in ${dir} does not answer its version command`);
    process.exit(1);
  }
  console.log(`k8s:build: built in ${((t2 - t1) / 1000).toFixed(1)} s (download ${((t1 - t0) / 1000).toFixed(1)} s):`);
  for (const c of pins.commands) {
    const size = statSync(path.join(dir, c.binary)).size;
    summary.binaries[c.binary] = { bytes: size, version: built[c.binary] };
    console.log(`  ${c.binary.padEnd(24)} ${(size / 1048576).toFixed(1).padStart(6)} MiB  ${built[c.binary]}`);
  }
  writeFileSync(record, `${JSON.stringify(summary, null, 2)}\n`);
  buildPrometheus(dir);
  buildHelm(dir);
}

/**
 * Prometheus with kubernetes_sd_configs for the tier (Debian's prometheus package is built without Kubernetes
 * service discovery). Its own module at its own versions (`go install pkg@version`, which honors its go.mod, so
 * its client-go never meets Kubernetes' pins), with only the kubernetes discovery plugin compiled in.
 */
function buildPrometheus(dir) {
  const p = pins.prometheus;
  const file = path.join(dir, 'prometheus');
  if (!force && prometheusVersionLine(file)?.includes(`version ${p.release} `)) {
    console.log(`  ${'prometheus'.padEnd(24)} ${prometheusVersionLine(file)}`);
    return;
  }
  const partial = `${dir}.prometheus.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  console.log(`k8s:build: Prometheus ${p.release} (${p.package}@${p.module}, -tags ${p.tags})`);
  const t0 = Date.now();
  runGo(['install', '-trimpath', `-tags=${p.tags}`, `-ldflags=-s -w -X github.com/prometheus/common/version.Version=${p.release} -X github.com/prometheus/common/version.Branch=release`, `${p.package}@${p.module}`], { env: { GOBIN: partial } });
  renameSync(path.join(partial, 'prometheus'), file);
  rmSync(partial, { recursive: true, force: true });
  const line = prometheusVersionLine(file);
  if (!line?.includes(`version ${p.release} `)) {
    console.error(`k8s:build: built ${file}, but its --version says ${line ?? 'nothing'}`);
    process.exit(1);
  }
  console.log(`  ${'prometheus'.padEnd(24)} ${(statSync(file).size / 1048576).toFixed(1).padStart(6)} MiB  ${line} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

/**
 * helm, for `helm lint` and `helm template` of deploy/helm/vigil. Helm v4 requires the k8s.io modules at v0.37,
 * one minor above the components' v0.36 pins, so it cannot join their consumer module; it has no replace
 * directives either, so (like Prometheus) `go install pkg@version` builds it from its own go.mod, into the same
 * folder and with the same private Go caches. The -X flag stamps the version as helm's Makefile does for a tag.
 */
function buildHelm(dir) {
  const h = pins.helm;
  const file = path.join(dir, 'helm');
  if (!force && helmVersionLine(file)?.startsWith(h.release)) {
    console.log(`  ${'helm'.padEnd(24)} ${helmVersionLine(file)}`);
    return;
  }
  const partial = `${dir}.helm.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  console.log(`k8s:build: helm ${h.release} (${h.package}@${h.release})`);
  const t0 = Date.now();
  runGo(['install', '-trimpath', `-ldflags=-s -w -X ${h.module}/internal/version.version=${h.release} -X ${h.module}/internal/version.metadata= -X ${h.module}/internal/version.gitTreeState=clean`, `${h.package}@${h.release}`], { env: { GOBIN: partial } });
  renameSync(path.join(partial, 'helm'), file);
  rmSync(partial, { recursive: true, force: true });
  const line = helmVersionLine(file);
  if (!line?.startsWith(h.release)) {
    console.error(`k8s:build: built ${file}, but its version --short says ${line ?? 'nothing'}`);
    process.exit(1);
  }
  console.log(`  ${'helm'.padEnd(24)} ${(statSync(file).size / 1048576).toFixed(1).padStart(6)} MiB  ${line} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

function helmVersionLine(file) {
  const r = spawnSync(file, ['version', '--short'], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, HELM_CONFIG_HOME: '/nonexistent', HELM_CACHE_HOME: '/nonexistent', HELM_DATA_HOME: '/nonexistent' } });
  return r.status === 0 ? r.stdout.trim().split('\n')[0] : undefined;
}

function prometheusVersionLine(file) {
  const r = spawnSync(file, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 ? `${r.stdout}${r.stderr}`.trim().split('\n')[0] : undefined;
}

main();
