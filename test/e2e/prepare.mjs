#!/usr/bin/env node
/* global process, console */
// Makes the e2e tier ready, or exits non-zero with the reason: system packages, code-server
// (installed once into .cache/code-server, outside the project's node_modules), and a fresh vigil.vsix.
// Writes .cache/code-server/e2e.json, which test/e2e/harness.ts reads.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { aptInstall } from '../../scripts/tiers.mjs';

const CODE_SERVER_VERSION = '4.100.3';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cacheDir = path.join(root, '.cache', 'code-server');
const pkgDir = path.join(cacheDir, 'node_modules', 'code-server');
const vscodeDir = path.join(pkgDir, 'lib', 'vscode');
const entry = path.join(pkgDir, 'out', 'node', 'entry.js');
const marker = path.join(cacheDir, 'installed.json');
const readyFile = path.join(cacheDir, 'e2e.json');
const vsix = path.join(root, 'vigil.vsix');
const chromium = '/usr/bin/chromium';
// Debian packages: the browser, the ripgrep binary VS Code's search needs, and what code-server's native modules build against.
const APT = ['chromium', 'ripgrep', 'libkrb5-dev', 'libx11-dev', 'libxkbfile-dev', 'libsecret-1-dev', 'make', 'g++', 'python3'];

function fail(reason) {
  console.error(`e2e prepare: ${reason}`);
  process.exit(1);
}

function log(text) {
  console.log(`e2e prepare: ${text}`);
}

/** Runs a command in `cwd`; on failure exits with its tail so the reason is on screen. */
function run(cmd, args, cwd, what, extraEnv = {}) {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, npm_config_yes: 'true', npm_config_audit: 'false', npm_config_fund: 'false', ...extraEnv },
    maxBuffer: 256 * 1024 * 1024,
    timeout: 20 * 60_000,
  });
  if (r.status !== 0) {
    const out = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.trim().split('\n').slice(-25).join('\n');
    fail(`${what} failed (${cmd} ${args.join(' ')} in ${cwd}, exit ${r.status ?? r.signal ?? r.error?.message}):\n${out}`);
  }
  return r.stdout;
}

// Two test runs at once must not install into the same folder: serialise under flock.
if (!process.env.VIGIL_E2E_PREPARE_LOCKED && spawnSync('flock', ['--version'], { stdio: 'ignore' }).status === 0) {
  mkdirSync(path.dirname(cacheDir), { recursive: true });
  const r = spawnSync('flock', [path.join(root, '.cache', 'code-server.lock'), process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, VIGIL_E2E_PREPARE_LOCKED: '1' },
  });
  process.exit(r.status ?? 1);
}

const t0 = Date.now();
if (process.versions.node.split('.')[0] !== '20') fail(`code-server ${CODE_SERVER_VERSION} needs Node 20; this is Node ${process.versions.node}.`);

const missing = APT.filter((p) => spawnSync('dpkg', ['-s', p], { stdio: 'ignore' }).status !== 0);
if (missing.length) {
  log(`installing Debian packages ${missing.join(' ')}`);
  const problem = aptInstall(missing);
  if (problem) fail(`${problem}. Install them yourself: apt-get install -y ${missing.join(' ')}`);
}
if (!existsSync(chromium)) fail(`${chromium} is missing after installing the Debian package chromium.`);
const rg = spawnSync('which', ['rg'], { encoding: 'utf8' }).stdout.trim();
if (!rg) fail('ripgrep (rg) is missing after installing the Debian package ripgrep.');

/** True when the cached code-server is the right version, built for this Node, and starts. */
function installedOk() {
  if (!existsSync(marker) || !existsSync(entry)) return false;
  const m = JSON.parse(readFileSync(marker, 'utf8'));
  if (m.version !== CODE_SERVER_VERSION || m.modules !== process.versions.modules) return false;
  const v = spawnSync(process.execPath, [entry, '--version'], {
    encoding: 'utf8',
    env: { ...process.env, XDG_CONFIG_HOME: path.join(cacheDir, 'xdg-config'), XDG_DATA_HOME: path.join(cacheDir, 'xdg-data') },
    timeout: 60_000,
  });
  return v.status === 0 && v.stdout.includes(CODE_SERVER_VERSION);
}

/**
 * What code-server's own postinstall.sh does, in steps we control: its nested `npm install` would
 * download ripgrep from GitHub (unreachable here) and npx may refuse to fetch node-gyp, so install
 * without scripts, put Debian's rg where @vscode/ripgrep looks first (its bin/, which makes its
 * postinstall exit early), then run the remaining install scripts (native builds) with `npm rebuild`.
 */
function installCodeServer() {
  rmSync(cacheDir, { recursive: true, force: true });
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(path.join(cacheDir, 'package.json'), JSON.stringify({ name: 'vigil-e2e-code-server', private: true }, null, 2));
  log(`installing code-server@${CODE_SERVER_VERSION} into ${path.relative(root, cacheDir)} (takes a few minutes the first time)`);
  run('npm', ['install', '--ignore-scripts', '--no-package-lock', `code-server@${CODE_SERVER_VERSION}`], cacheDir, 'npm install code-server');
  run('npm', ['rebuild', '--foreground-scripts', 'argon2'], cacheDir, 'building argon2 (native module of code-server)');

  log('installing VS Code server dependencies (native modules are built with node-gyp)');
  run('npm', ['install', '--ignore-scripts', '--omit=dev'], vscodeDir, 'npm install in code-server/lib/vscode');
  const rgBin = path.join(vscodeDir, 'node_modules', '@vscode', 'ripgrep', 'bin');
  mkdirSync(rgBin, { recursive: true });
  copyFileSync(rg, path.join(rgBin, 'rg'));
  run('npm', ['rebuild', '--foreground-scripts'], vscodeDir, 'building VS Code native modules (needs libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev, make, g++, python3)');
  for (const [target, link] of [
    ['node_modules', path.join(vscodeDir, 'node_modules.asar')],
    ['code-linux.sh', path.join(vscodeDir, 'bin', 'remote-cli', 'code-server')],
    ['browser-linux.sh', path.join(vscodeDir, 'bin', 'helpers', 'browser.sh')],
  ]) {
    rmSync(link, { force: true });
    symlinkSync(target, link);
  }
  run('npm', ['install', '--omit=dev', '--foreground-scripts'], path.join(vscodeDir, 'extensions'), 'npm install in code-server/lib/vscode/extensions');
  writeFileSync(marker, JSON.stringify({ version: CODE_SERVER_VERSION, modules: process.versions.modules, node: process.versions.node, installedAt: new Date().toISOString() }, null, 2));
}

if (installedOk()) {
  log(`code-server ${CODE_SERVER_VERSION} already installed in ${path.relative(root, cacheDir)}`);
} else {
  const t = Date.now();
  installCodeServer();
  if (!installedOk()) fail(`code-server ${CODE_SERVER_VERSION} was installed but \`node ${path.relative(root, entry)} --version\` does not work.`);
  log(`installed code-server ${CODE_SERVER_VERSION} in ${((Date.now() - t) / 1000).toFixed(0)} s`);
}

/** The newest file below `p` (a file or a folder): its modification time (0 when there is none) and path. */
function newestFile(p) {
  if (!existsSync(p)) return { at: 0, file: p };
  const s = statSync(p);
  if (!s.isDirectory()) return { at: s.mtimeMs, file: p };
  return readdirSync(p).reduce((best, name) => {
    const n = newestFile(path.join(p, name));
    return n.at > best.at ? n : best;
  }, { at: 0, file: p });
}
const newest = (p) => newestFile(p).at;

// The packaged extension must be what the sources say now; rebuild only what is stale.
const source = ['src', 'package.json', 'webpack.config.js'].map((p) => newestFile(path.join(root, p))).reduce((a, b) => (b.at > a.at ? b : a));
const bundleAt = Math.min(newest(path.join(root, 'dist', 'extension.js')), newest(path.join(root, 'media', 'dist', 'webview.js')));
const vsixAt = newest(vsix);
if (bundleAt === 0 || bundleAt < source.at) {
  const why = bundleAt === 0 ? 'dist/ is not built' : `${path.relative(root, source.file)} is newer than dist/`;
  log(`${why}: npm run package (webpack + vsce)`);
  run('npm', ['run', 'package', '--silent'], root, 'npm run package');
} else if (vsixAt < Math.max(bundleAt, newest(path.join(root, 'media')), newest(path.join(root, 'package.json')))) {
  log('vigil.vsix is missing or older than dist/: vsce package');
  run(process.execPath, [path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--no-dependencies', '--out', vsix], root, 'vsce package');
} else {
  log('vigil.vsix is up to date');
}
if (!existsSync(vsix)) fail('vigil.vsix was not written by `npm run package`.');

writeFileSync(
  readyFile,
  JSON.stringify({ codeServerVersion: CODE_SERVER_VERSION, codeServerEntry: entry, vsix, chromium, preparedAt: new Date().toISOString() }, null, 2),
);
log(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (${os.cpus().length} cores)`);
