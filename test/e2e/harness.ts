import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Frame, type Page } from 'playwright-core';

/**
 * The e2e harness: the packaged extension (vigil.vsix) in a real VS Code (code-server) driven by
 * Debian's Chromium through playwright-core. test/e2e/prepare.mjs installs everything first.
 *
 * A test file is one story, run once per theme on a fresh session; each `it` is a step that ends
 * with a screenshot (artifacts/e2e/<name>-<theme>-NN-<step>.png):
 *
 *   describeInCodeServer('recovery', (session) => {
 *     it('starts the sandbox', async () => {
 *       await openVigilView(session().page);
 *       await runCommand(session().page, 'Vigil: Start Sandbox Cluster');
 *       await waitForNotification(session().page, /sandbox .* started/i);
 *       await waitForWebviewText(session().page, /Connected/);
 *       await session().shot('sandbox-started');
 *     });
 *   });
 */

export type Theme = 'dark' | 'light';
export const THEMES: Readonly<Record<Theme, string>> = { dark: 'Default Dark Modern', light: 'Default Light Modern' };

const root = path.resolve(__dirname, '../..');
export const ARTIFACTS_DIR = path.join(root, 'artifacts', 'e2e');
const READY_FILE = path.join(root, '.cache', 'code-server', 'e2e.json');
const STEP_TIMEOUT_MS = 60_000;

interface Ready {
  codeServerVersion: string;
  codeServerEntry: string;
  vsix: string;
  chromium: string;
}

/** What prepare.mjs found; a clear error when it has not run. */
export function readReady(): Ready {
  if (!existsSync(READY_FILE)) throw new Error(`${READY_FILE} is missing: run \`node test/e2e/prepare.mjs\` (npm run test:e2e does) before the e2e tests.`);
  const ready = JSON.parse(readFileSync(READY_FILE, 'utf8')) as Ready;
  for (const p of [ready.codeServerEntry, ready.vsix, ready.chromium]) {
    if (!existsSync(p)) throw new Error(`${p} (listed in ${READY_FILE}) is missing: run \`node test/e2e/prepare.mjs\` again.`);
  }
  return ready;
}

/** User settings of the test profile: no welcome page, walkthroughs, trust prompt, telemetry or update checks. */
export function userSettings(theme: Theme): Record<string, unknown> {
  return {
    'workbench.colorTheme': THEMES[theme],
    'workbench.startupEditor': 'none',
    'workbench.welcomePage.walkthroughs.openOnInstall': false,
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'security.workspace.trust.enabled': false,
    'security.workspace.trust.startupPrompt': 'never',
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'chat.commandCenter.enabled': false,
    'window.commandCenter': false,
    'git.enabled': false,
  };
}

/** A running code-server with vigil.vsix installed, in its own temp folders. */
export class CodeServer {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  readonly dir: string;
  readonly userDataDir: string;
  readonly extensionsDir: string;
  readonly workspace: string;
  readonly logFile: string;
  url = '';

  /** The code-server process (the leader of its process group), while it runs. */
  get pid(): number | undefined {
    return this.child?.exitCode === null ? this.child.pid : undefined;
  }

  constructor(private readonly ready: Ready) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-e2e-'));
    this.userDataDir = path.join(this.dir, 'user-data');
    this.extensionsDir = path.join(this.dir, 'extensions');
    this.workspace = path.join(this.dir, 'workspace');
    this.logFile = path.join(this.dir, 'code-server.log');
    for (const d of [this.userDataDir, this.extensionsDir, this.workspace]) mkdirSync(d, { recursive: true });
  }

  private get env(): NodeJS.ProcessEnv {
    // code-server writes its config and state under XDG dirs; keep them in the temp folder, not in $HOME
    return { ...process.env, XDG_CONFIG_HOME: path.join(this.dir, 'xdg-config'), XDG_DATA_HOME: path.join(this.dir, 'xdg-data') };
  }

  private args(): string[] {
    return ['--config', path.join(this.dir, 'config.yaml'), '--user-data-dir', this.userDataDir, '--extensions-dir', this.extensionsDir];
  }

  writeSettings(settings: Record<string, unknown>): void {
    mkdirSync(path.join(this.userDataDir, 'User'), { recursive: true });
    writeFileSync(path.join(this.userDataDir, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  }

  installExtension(): void {
    writeFileSync(path.join(this.dir, 'config.yaml'), 'auth: none\ndisable-telemetry: true\ndisable-update-check: true\n');
    const r = spawnSync(process.execPath, [this.ready.codeServerEntry, ...this.args(), '--install-extension', this.ready.vsix, '--force'], {
      encoding: 'utf8',
      env: this.env,
      timeout: 120_000,
    });
    const out = `${r.stdout}\n${r.stderr}`;
    if (r.status !== 0 || !/successfully installed/i.test(out)) throw new Error(`installing ${this.ready.vsix} into code-server failed (exit ${r.status}):\n${out}`);
  }

  /** Starts on 127.0.0.1 with a port the OS picks, and resolves once the workbench page is served. */
  async start(): Promise<void> {
    const log = createWriteStream(this.logFile);
    const child = spawn(
      process.execPath,
      [
        this.ready.codeServerEntry,
        ...this.args(),
        '--bind-addr',
        '127.0.0.1:0',
        '--auth',
        'none',
        '--disable-telemetry',
        '--disable-update-check',
        '--disable-workspace-trust',
        '--disable-getting-started-override',
        '--ignore-last-opened',
        this.workspace,
      ],
      // its own process group, so stop() also ends the extension host and pty host it forks
      { env: this.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    this.child = child;
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        log.end();
        resolve();
      }),
    );
    let output = '';
    const url = new Promise<string>((resolve, reject) => {
      const onData = (d: Buffer): void => {
        log.write(d);
        output += d.toString();
        const m = /HTTP server listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (m) resolve(m[1]);
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => reject(new Error(`code-server exited (code ${code}) before listening:\n${output.slice(-3000)}`)));
      setTimeout(() => reject(new Error(`code-server did not listen within 60 s:\n${output.slice(-3000)}`)), 60_000).unref();
    });
    this.url = await url;
    await waitFor(async () => (await fetch(`${this.url}/healthz`)).ok, 30_000, `code-server at ${this.url} to answer /healthz`);
  }

  /** Synchronous last resort for process exit: ends the server's whole process group. */
  killNow(): void {
    if (this.child?.pid !== undefined && this.child.exitCode === null) killGroup(this.child.pid, 'SIGKILL');
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child?.pid !== undefined && child.exitCode === null) {
      killGroup(child.pid, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child.pid as number, 'SIGKILL'), 5_000);
      await this.exited;
      clearTimeout(timer);
      killGroup(child.pid, 'SIGKILL'); // children that outlived the server
    }
    this.child = undefined;
  }

  /** Every file below the user-data-dir's logs/ whose name matches. */
  logFiles(name: RegExp): string[] {
    return listFiles(path.join(this.userDataDir, 'logs')).filter((f) => name.test(path.basename(f)));
  }

  removeTempFiles(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? listFiles(p) : [p];
  });
}

/** Polls `check` until it is true; `what` (a text, or a function for the latest state) names it in the timeout error. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string | (() => string)): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      if (await check()) return;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}${last ? ` (last error: ${String(last)})` : ''}`);
}

/** Chromium from Debian, headless, with a fresh profile. Never a downloaded browser. */
export async function launchBrowser(executablePath: string, profileDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, {
    executablePath,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export interface E2eSession {
  readonly name: string;
  readonly theme: Theme;
  readonly page: Page;
  readonly server: CodeServer;
  /** Browser console errors so far, with the URL that logged them (webviews log from their own frames). */
  readonly consoleErrors: ReadonlyArray<{ text: string; url: string }>;
  /** Saves a screenshot as artifacts/e2e/<name>-<theme>-<NN>-<step>.png and returns its path. */
  shot(step: string): Promise<string>;
  close(): Promise<void>;
}

// Sessions still running when mocha exits abruptly; their process groups are ended on exit.
const running = new Set<CodeServer>();
process.once('exit', () => {
  for (const server of running) server.killNow();
});

/**
 * Fresh code-server (vsix installed, `theme` set) and a fresh Chromium showing the workbench.
 * `name` prefixes the screenshots; earlier screenshots with that prefix and theme are removed.
 * On failure everything started so far is stopped.
 */
export async function startSession(name: string, theme: Theme): Promise<E2eSession> {
  const ready = readReady();
  const server = new CodeServer(ready);
  running.add(server);
  let context: BrowserContext | undefined;
  try {
    server.writeSettings(userSettings(theme));
    server.installExtension();
    await server.start();
    context = await launchBrowser(ready.chromium, path.join(server.dir, 'chromium-profile'));
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    const consoleErrors: Array<{ text: string; url: string }> = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push({ text: m.text(), url: m.location().url });
    });
    await openWorkbench(page, `${server.url}/?folder=${encodeURIComponent(server.workspace)}`);
    await waitFor(async () => (await workbenchTheme(page)) === theme, STEP_TIMEOUT_MS, `the workbench to open in ${THEMES[theme]} (user settings)`);
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    const prefix = `${name}-${theme}-`;
    for (const f of readdirSync(ARTIFACTS_DIR)) if (f.startsWith(prefix) && f.endsWith('.png')) rmSync(path.join(ARTIFACTS_DIR, f));
    let step = 0;
    const ctx = context;
    return {
      name,
      theme,
      page,
      server,
      consoleErrors,
      async shot(label: string): Promise<string> {
        step += 1;
        const file = path.join(ARTIFACTS_DIR, `${prefix}${String(step).padStart(2, '0')}-${label.replace(/[^\w.-]+/g, '-').slice(0, 80)}.png`);
        await page.screenshot({ path: file });
        return file;
      },
      async close(): Promise<void> {
        await ctx.close().catch(() => undefined);
        await server.stop();
        running.delete(server);
        if (process.env.VIGIL_E2E_KEEP === '1') console.log(`      kept ${server.dir} (VIGIL_E2E_KEEP=1)`);
        else server.removeTempFiles();
      },
    };
  } catch (e) {
    await context?.close().catch(() => undefined);
    await server.stop();
    running.delete(server);
    const tail = existsSync(server.logFile) ? readFileSync(server.logFile, 'utf8').slice(-2000) : '';
    throw new Error(`${(e as Error).message}${tail ? `\n--- code-server log (${server.logFile}) ---\n${tail}` : ''}`);
  }
}

/** Loads the workbench and waits until it is interactive (activity bar drawn, no blocking dialog). */
export async function openWorkbench(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.locator('.monaco-workbench .activitybar').waitFor({ state: 'visible' });
  await page.locator('.monaco-workbench .statusbar').waitFor({ state: 'visible' });
}

/**
 * Runs a command through the command palette by its full title, e.g. "Vigil: Start Sandbox Cluster".
 * With `opensPicker` the command's own quick pick stays open for `pickQuickInputItem`.
 */
export async function runCommand(page: Page, title: string, options: { opensPicker?: boolean } = {}): Promise<void> {
  await page.locator('.monaco-workbench').click({ position: { x: 700, y: 5 } }).catch(() => undefined);
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible' });
  await input.fill(`>${title}`);
  const row = page.locator('.quick-input-widget .quick-input-list .monaco-list-row').filter({ hasText: title }).first();
  await row.waitFor({ state: 'visible' });
  await row.click();
  if (options.opensPicker) await waitFor(async () => !(await input.inputValue()).startsWith('>'), STEP_TIMEOUT_MS, `the picker of "${title}" to open`);
  else await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
}

/** Filters the open quick pick by `label` and chooses the first item showing it (in its label or description). */
export async function pickQuickInputItem(page: Page, label: string): Promise<void> {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.fill(label);
  const row = page.locator('.quick-input-widget .quick-input-list .monaco-list-row').filter({ hasText: label }).first();
  await row.waitFor({ state: 'visible' });
  await row.click();
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
}

/** Clicks the Vigil icon in the activity bar and waits for both of its views. */
export async function openVigilView(page: Page): Promise<void> {
  await page.locator('.activitybar .action-item[role="tab"]:has(a.action-label[aria-label^="Vigil"])').click();
  await page.locator('.sidebar .composite.title').filter({ hasText: /vigil/i }).waitFor({ state: 'visible' });
}

/** The header of one view in the side bar, e.g. "Incidents". */
export function viewPane(page: Page, name: string) {
  return page.locator('.sidebar .pane-header').filter({ hasText: new RegExp(`^\\s*${name}`, 'i') }).first();
}

/** Waits for a notification toast whose message matches and returns its text. */
export async function waitForNotification(page: Page, text: RegExp, timeoutMs = STEP_TIMEOUT_MS): Promise<string> {
  // the toast slides in; 'notification-fade-in-done' marks it fully shown, so a screenshot catches it
  const message = page.locator('.notifications-toasts .notification-toast.notification-fade-in-done .notification-list-item-message').filter({ hasText: text }).first();
  try {
    await message.waitFor({ state: 'visible', timeout: timeoutMs });
  } catch {
    const shown = await page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts();
    throw new Error(`no notification matching ${text} within ${timeoutMs} ms; shown: ${shown.length ? shown.map((t) => JSON.stringify(t)).join(', ') : 'none'}`);
  }
  return (await message.innerText()).trim();
}

/** Closes every notification toast, so the next step's screenshot shows the views. */
export async function clearNotifications(page: Page): Promise<void> {
  await runCommand(page, 'Notifications: Clear All Notifications');
}

/** The frame of a webview whose document has `selector` (the Copilot view's root is `#app`). */
export async function webviewFrame(page: Page, selector = '#app', timeoutMs = STEP_TIMEOUT_MS): Promise<Frame> {
  let found: Frame | undefined;
  await waitFor(
    async () => {
      for (const frame of page.frames()) {
        if (frame === page.mainFrame()) continue;
        const has = await frame.evaluate((s) => document.querySelector(s) !== null, selector).catch(() => false);
        if (has) {
          found = frame;
          return true;
        }
      }
      return false;
    },
    timeoutMs,
    `a webview frame containing ${selector}`,
  );
  return found as Frame;
}

/**
 * Waits until the text inside the webview's `selector` matches, and returns it. The frame is looked
 * up again on every try: VS Code recreates a webview's frames when its view is hidden and shown.
 * To click inside the webview: `(await webviewFrame(page)).getByRole('button', { name: 'Approve' }).click()`.
 */
export async function waitForWebviewText(page: Page, text: RegExp, selector = '#app', timeoutMs = STEP_TIMEOUT_MS): Promise<string> {
  let last = '';
  await waitFor(
    async () => {
      const frame = await webviewFrame(page, selector, timeoutMs);
      last = await frame.locator(selector).innerText({ timeout: 5_000 });
      return text.test(last);
    },
    timeoutMs,
    () => `webview ${selector} to show ${text} (it shows "${last}")`,
  );
  return last.trim();
}

/** Switches the colour theme of a running session the way a user does: "Preferences: Color Theme". */
export async function setTheme(session: E2eSession, theme: Theme): Promise<void> {
  const { page } = session;
  await runCommand(page, 'Preferences: Color Theme', { opensPicker: true });
  await pickQuickInputItem(page, THEMES[theme]);
  await waitFor(async () => (await workbenchTheme(page)) === theme, STEP_TIMEOUT_MS, `the workbench to switch to ${THEMES[theme]}`);
}

/** Dark or light, from the editor background colour the workbench's theme sets. */
export async function workbenchTheme(page: Page): Promise<Theme> {
  const rgb = await page.locator('.monaco-workbench').evaluate((el) => {
    const probe = document.createElement('div');
    probe.style.color = 'var(--vscode-editor-background)';
    el.append(probe);
    const color = getComputedStyle(probe).color;
    probe.remove();
    return color;
  });
  const [r, g, b] = (rgb.match(/\d+(\.\d+)?/g) ?? ['0', '0', '0']).map(Number);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b < 128 ? 'dark' : 'light';
}

/** The extension's "activated in N ms" from its log in the server's user-data-dir, once written. */
export async function readActivationMs(server: CodeServer, timeoutMs = 30_000): Promise<{ ms: number; file: string }> {
  let found: { ms: number; file: string } | undefined;
  await waitFor(
    () => {
      for (const file of server.logFiles(/vigil|exthost/i)) {
        const m = /activated in (\d+) ms/.exec(readFileSync(file, 'utf8'));
        if (m) {
          found = { ms: Number(m[1]), file };
          return true;
        }
      }
      return false;
    },
    timeoutMs,
    `"activated in N ms" in ${path.join(server.userDataDir, 'logs')}`,
  );
  return found as { ms: number; file: string };
}

/**
 * VS Code's own activation time of an extension (code loading + activate()), as "Developer: Show
 * Running Extensions" shows it. Leaves that editor open; close it with "View: Close All Editors".
 */
export async function readRunningExtensionActivationMs(page: Page, displayName: RegExp): Promise<number> {
  await runCommand(page, 'Developer: Show Running Extensions');
  const row = page.locator('.monaco-list-row').filter({ has: page.locator('.name', { hasText: displayName }) }).first();
  const time = row.locator('.activation-time');
  await time.waitFor({ state: 'visible' });
  const text = await time.innerText();
  const m = /Activation:\s*([\d.]+)\s*ms/.exec(text);
  if (!m) throw new Error(`Running Extensions shows "${text}" for ${displayName}, not "Activation: N ms"`);
  return Number(m[1]);
}

/**
 * A mocha suite run once per theme on a fresh session. Tests in `body` run in order, as steps of
 * one story; `session()` gives the running session. A failing test leaves a FAILED screenshot.
 */
export function describeInCodeServer(name: string, body: (session: () => E2eSession, theme: Theme) => void, themes: readonly Theme[] = ['dark', 'light']): void {
  for (const theme of themes) {
    describe(`${name} (code-server, ${theme} theme)`, function () {
      this.timeout(5 * 60_000);
      let current: E2eSession | undefined;
      const session = (): E2eSession => {
        if (!current) throw new Error('the code-server session did not start (see the "before all" hook error)');
        return current;
      };
      before(async () => {
        current = await startSession(name, theme);
      });
      afterEach(async function () {
        if (this.currentTest?.state === 'failed' && current) {
          const file = await current.shot(`FAILED-${this.currentTest.title}`).catch(() => undefined);
          if (file) console.log(`      screenshot of the failure: ${file}`);
          for (const log of current.server.logFiles(/^Vigil\.log$/)) console.log(`      --- ${log} ---\n${readFileSync(log, 'utf8').slice(-3000)}`);
        }
      });
      after(async () => {
        await current?.close();
      });
      body(session, theme);
    });
  }
}

/** Resident memory (MB) of the extension host of a code-server: the process of its group started with --type=extensionHost. */
export function extensionHostRssMb(server: CodeServer): number | undefined {
  return groupProcessRssMb(server, 'extensionHost');
}

/** Resident memory (MB) of the model process (dist/modelWorker.js, forked by the healing loop's process); undefined while none runs. */
export function modelProcessRssMb(server: CodeServer): number | undefined {
  return groupProcessRssMb(server, 'modelWorker.js');
}

/** Resident memory (MB) of the healing loop's process the extension forks (dist/coreWorker.js); undefined while none runs. */
export function loopProcessRssMb(server: CodeServer): number | undefined {
  return groupProcessRssMb(server, 'coreWorker.js');
}

/** Resident memory (MB) of the console's process the extension forks (dist/clusterConsoleWorker.js) while it watches in-cluster agents. */
export function consoleProcessRssMb(server: CodeServer): number | undefined {
  return groupProcessRssMb(server, 'clusterConsoleWorker.js');
}

/** Resident memory (MB) of the process of the code-server's group whose command line has `marker`. */
function groupProcessRssMb(server: CodeServer, marker: string): number | undefined {
  const group = server.pid;
  if (group === undefined) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // pgrp is the 5th field of /proc/PID/stat, after "pid (comm) state ppid"; comm may contain spaces
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) !== group) continue;
      if (!readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker)) continue;
      const kb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1]);
      if (kb > 0) return kb / 1024;
    } catch {
      // the process ended while we read it
    }
  }
  return undefined;
}
