import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import YAML from 'yaml';
import { clearNotifications, consoleProcessRssMb, describeInCodeServer, extensionHostRssMb, loopProcessRssMb, modelProcessRssMb, openVigilView, pickQuickInputItem, runCommand, userSettings, waitFor, waitForNotification, waitForWebviewText, webviewFrame, type E2eSession } from './harness';
import { writeContextsKubeconfig } from '../fixtures/contextsKubeconfig';

/**
 * The healing story in a real VS Code, once per theme: start the sandbox from the command palette,
 * watch services healthy, inject a bad release, see the incident diagnosed "bad release" waiting
 * for approval (and the cluster untouched), open its incident room (charts, markers, the focused timeline),
 * click Approve there, see "recovered", replay it in the same view, open the reliability report;
 * then a second bad release whose proposal is Rejected: labelled, and nothing written.
 * Screenshots: artifacts/e2e/healing-<theme>-NN-<step>.png.
 *
 * The memory step of the dark run keeps the sandbox running until MEMORY_WINDOW_MS after it started, with the incident
 * room open (VIGIL_E2E_SOAK_MINUTES=10: that long); the light run samples over its story. The extension host's rss is sampled from /proc every
 * RSS_SAMPLE_MS over the whole story, printed as a curve with the step each sample fell in and, beside it, the rss of
 * the healing loop's process (the host forks it and keeps only the UI) and of the model's (the loop's child); every
 * host sample must be below issue 18's MEMORY_LIMIT_MB.
 */
const COPILOT = '#app.copilot';
/** The incident room in the editor area (live, and replay: the same view). */
const ROOM = '#app.room';
const TARGET = 'shop/frontend';
/** The second fault's target, whose proposal is rejected: not the first target, which is in its cooldown by then. */
const REJECT_TARGET = 'shop/cart';
/** The third fault's target, in auto mode with its namespace denied. */
const DENIED_TARGET = 'shop/checkout';
/**
 * Issue 18's bound for the extension host with the sandbox's default topology, asserted on every sample: the healing
 * loop runs in its own process (dist/coreWorker.js), the host keeps the UI (dark, load 8-11: peak 148 MB).
 */
const MEMORY_LIMIT_MB = 200;
const WARMUP_MS = 45_000;
/** Issue 18's CI window: the sandbox runs at least this long, the last part of it with the room open. */
const MEMORY_WINDOW_MS = 180_000;
const RSS_SAMPLE_MS = 15_000;
/** The fourth fault's target (dark run), which the in-cluster agent diagnoses and the sidebar, as its console, approves: a leaf the story left alone. */
const CONSOLE_TARGET = 'payments/payments-api';
/** Where the in-cluster agent of the console step keeps its Lease, as the chart puts it in its release namespace. */
const AGENT_NAMESPACE = 'vigil';
/** The console step's two clusters, as contexts of one kubeconfig: the e2e's sandbox, and a second sandbox with its own agent. */
const EU = 'prod-eu';
const US = 'prod-us';
const CLI = path.resolve(__dirname, '../../dist/cli.js');

/** The state folder the extension uses for the sandbox (context.globalStorageUri). */
function sandboxStateDir(s: E2eSession): string {
  return path.join(s.server.userDataDir, 'User', 'globalStorage', 'vigil-oncall.vigil', 'sandbox');
}

/** The deployment as the sandbox's API server has it, read with a plain HTTP GET and the kubeconfig the extension wrote. */
async function readDeployment(s: E2eSession, target: string): Promise<{ revision: string; image: string; generation: number }> {
  return readDeploymentAt(sandboxServer(s), target);
}

async function readDeploymentAt(server: string, target: string): Promise<{ revision: string; image: string; generation: number }> {
  const [ns, name] = target.split('/');
  const res = await fetch(`${server}/apis/apps/v1/namespaces/${ns}/deployments/${name}`);
  assert.equal(res.status, 200, `GET deployment ${target}`);
  const d = (await res.json()) as { metadata: { generation: number; annotations?: Record<string, string> }; spec: { template: { spec: { containers: Array<{ image: string }> } } } };
  return { revision: d.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? '?', image: d.spec.template.spec.containers[0].image, generation: d.metadata.generation };
}

function sandboxServer(s: E2eSession): string {
  return (YAML.parse(readFileSync(path.join(sandboxStateDir(s), 'sandbox.kubeconfig'), 'utf8')) as { clusters: Array<{ cluster: { server: string } }> }).clusters[0].cluster.server;
}

/** What the agent wrote to the cluster: Incident resources (incidents.vigil.dev), read with a plain HTTP GET. */
interface IncidentResourceLike {
  metadata: { name: string; namespace: string };
  spec: { incidentId: string; target: string; decision?: { action: string; stepId: string; by: string } };
  status?: { state?: string; diagnosis?: { kind: string }; proposedStep?: { stepId: string; action: string } };
}

async function incidentResources(server: string): Promise<IncidentResourceLike[]> {
  const res = await fetch(`${server}/apis/vigil.dev/v1alpha1/incidents`);
  assert.equal(res.status, 200, 'GET incidents.vigil.dev');
  return ((await res.json()) as { items: IncidentResourceLike[] }).items;
}

/**
 * `vigil agent` (dist/cli.js, one replica) against the e2e's sandbox, as it runs in a cluster: suggest mode, its Lease
 * in its own namespace (the window's loop keeps its own in "default"), Incident resources on. Started with the sandbox
 * so its detectors have their baseline by the console step.
 */
async function startInClusterAgent(server: string, kubeconfig: string): Promise<{ child: ChildProcess; output: () => string; stop: () => Promise<void> }> {
  const ns = await fetch(`${server}/api/v1/namespaces`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: AGENT_NAMESPACE } }) });
  assert.ok(ns.status === 201 || ns.status === 409, `create namespace ${AGENT_NAMESPACE}: HTTP ${ns.status}`);
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-e2e-agent-'));
  const child = spawn(process.execPath, [CLI, 'agent', '--kubeconfig', kubeconfig, '--mode', 'suggest', '--interval-seconds', '5', '--state-dir', stateDir], {
    env: { ...process.env, VIGIL_LEASE_NAMESPACE: AGENT_NAMESPACE },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-20_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000).unref())]);
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/**
 * The console step's second cluster: `vigil sandbox` (dist/cli.js) on free ports with another seed, and its own
 * in-cluster agent, started with the first so that agent too has its baseline by the console step.
 */
async function startSecondCluster(): Promise<{ server: string; kubeconfig: string; agent: Awaited<ReturnType<typeof startInClusterAgent>>; stop: () => Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-e2e-us-'));
  const kubeconfig = path.join(dir, 'sandbox.kubeconfig');
  const child = spawn(process.execPath, [CLI, 'sandbox', '--seed', '11', '--day-seconds', '600', '--port', '0', '--metrics-port', '0', '--kubeconfig', kubeconfig], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const server = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the second sandbox printed no ready line in 60 s: ${err}`)), 60_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (!out.includes('\n')) return;
      clearTimeout(timer);
      resolve((JSON.parse(out.slice(0, out.indexOf('\n'))) as { apiServer: string }).apiServer);
    });
    child.once('exit', (code) => reject(new Error(`the second sandbox exited with ${code}: ${err}`)));
  });
  const agent = await startInClusterAgent(server, kubeconfig);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    server,
    kubeconfig,
    agent,
    stop: async () => {
      await agent.stop();
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000).unref())]);
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}


interface AuditLine {
  kind: string;
  incidentId?: string;
  actor: string;
}

function auditEntries(s: E2eSession): AuditLine[] {
  const file = path.join(sandboxStateDir(s), 'audit.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as AuditLine);
}

function auditKinds(s: E2eSession): string[] {
  return auditEntries(s).map((e) => e.kind);
}

/** The incident as the extension's store wrote it (incidents/<id>.json in the state folder). */
function storedIncident(s: E2eSession, id: string): { state: string; outcome?: { kind: string; labelledBy?: string } } {
  return JSON.parse(readFileSync(path.join(sandboxStateDir(s), 'incidents', `${id}.json`), 'utf8')) as { state: string; outcome?: { kind: string; labelledBy?: string } };
}

/** Replaces the user settings as a user does: the settings JSON editor, select all, the new text, save, close. */
async function editUserSettings(page: Page, settings: Record<string, unknown>): Promise<void> {
  await runCommand(page, 'Preferences: Open User Settings (JSON)');
  const editor = page.locator('.editor-instance .monaco-editor .view-lines').first();
  await editor.waitFor({ state: 'visible' });
  await editor.click();
  await page.keyboard.press('Control+A');
  // one line: no auto-indent or auto-closing gets between the text and the file
  await page.keyboard.insertText(JSON.stringify(settings));
  await page.keyboard.press('Control+S');
  await page.waitForTimeout(500);
  await runCommand(page, 'View: Close All Editors');
}

/** Lines of the extension's log saying the webview reported a Content-Security-Policy violation. */
function cspViolations(s: E2eSession): string[] {
  return s.server
    .logFiles(/^Vigil\.log$/)
    .flatMap((f) => readFileSync(f, 'utf8').split('\n'))
    .filter((l) => /content security policy violation/.test(l));
}

/** The room's error chart: how many points and band points it drew, and its markers. */
async function errorChart(page: Page): Promise<{ points: number; band: number; markers: string[]; canvases: number }> {
  const room = await webviewFrame(page, ROOM);
  const host = room.locator('figure.room-chart[data-signal="error_ratio"] .uplot-host');
  return {
    points: Number((await host.getAttribute('data-points', { timeout: 5_000 })) ?? 0),
    band: Number((await host.getAttribute('data-band-points', { timeout: 5_000 })) ?? 0),
    markers: ((await host.getAttribute('data-markers', { timeout: 5_000 })) ?? '').split(' ').filter(Boolean),
    canvases: await host.locator('canvas').count(),
  };
}

/** The focused timeline's lines, as their kinds (data-kind) and texts. */
async function focusedLines(page: Page): Promise<Array<{ kind: string; text: string }>> {
  const room = await webviewFrame(page, ROOM);
  const items = room.locator('ol[aria-label="Focused timeline"] > li');
  const out: Array<{ kind: string; text: string }> = [];
  for (let k = 0; k < (await items.count()); k++) out.push({ kind: (await items.nth(k).getAttribute('data-kind')) ?? '', text: (await items.nth(k).innerText()).trim() });
  return out;
}

/** Picks `label` in a quick pick that is followed by another one (the harness's helper waits for the widget to close). */
async function pickThenNext(page: Page, label: string, nextPlaceholder: RegExp): Promise<void> {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.fill(label);
  await page.locator('.quick-input-widget .quick-input-list .monaco-list-row').filter({ hasText: label }).first().click();
  await waitFor(async () => nextPlaceholder.test((await input.getAttribute('placeholder')) ?? '') && (await input.inputValue()) === '', 30_000, `the quick pick "${nextPlaceholder}"`);
}

/** The extension host's resident memory, from "Vigil: Show Debug Stats" (process.memoryUsage() in that process), and the whole line. */
async function debugStats(page: Page): Promise<{ rss: number; text: string }> {
  await runCommand(page, 'Vigil: Show Debug Stats');
  const text = await waitForNotification(page, /Vigil stats: rss/);
  return { rss: Number(/rss ([\d.]+) MB/.exec(text)?.[1]), text: text.replace(/^[\s\S]*?(Vigil stats:)/, '$1').split('\n')[0] };
}

describeInCodeServer('healing', (session, theme) => {
  let startedAt = 0;
  let baselineRss = 0;
  let step = '';
  const rssCurve: Array<{ s: number; mb: number; loop?: number; model?: number; console?: number; load: number; step: string }> = [];
  let sampler: ReturnType<typeof setInterval> | undefined;
  const sample = (): void => {
    const mb = extensionHostRssMb(session().server);
    const loop = loopProcessRssMb(session().server);
    const model = modelProcessRssMb(session().server);
    const consoleMb = consoleProcessRssMb(session().server);
    if (mb !== undefined) rssCurve.push({ s: Math.round((Date.now() - startedAt) / 1000), mb, ...(loop !== undefined ? { loop } : {}), ...(model !== undefined ? { model } : {}), ...(consoleMb !== undefined ? { console: consoleMb } : {}), load: os.loadavg()[0], step });
  };
  const printCurve = (): void => {
    const peak = Math.max(...rssCurve.map((p) => p.mb));
    const loopPeak = Math.max(0, ...rssCurve.map((p) => p.loop ?? 0));
    const modelPeak = Math.max(0, ...rssCurve.map((p) => p.model ?? 0));
    console.log(`      [${theme}] extension host rss (MB) every ${RSS_SAMPLE_MS / 1000} s since the sandbox started, peak ${peak.toFixed(1)}; beside it the healing loop's process, peak ${loopPeak.toFixed(1)}, and the model's, peak ${modelPeak.toFixed(1)} :\n        ${rssCurve.map((p) => `${p.s}s host ${p.mb.toFixed(1)}, loop ${p.loop?.toFixed(1) ?? '—'}, model ${p.model?.toFixed(1) ?? '—'}${p.console !== undefined ? `, console ${p.console.toFixed(1)}` : ''}, load ${p.load.toFixed(1)} (${p.step})`).join('\n        ')}`);
  };
  beforeEach(function () {
    step = (this.currentTest?.title ?? '').split(/[:,(]/)[0].slice(0, 48);
  });
  let agent: Awaited<ReturnType<typeof startInClusterAgent>> | undefined;
  let second: Awaited<ReturnType<typeof startSecondCluster>> | undefined;
  after(async () => {
    if (sampler) clearInterval(sampler);
    if (rssCurve.length) printCurve();
    await agent?.stop();
    await second?.stop();
  });
  let afterInjection: { revision: string; image: string; generation: number } | undefined;

  it('starts the sandbox from the command palette and connects', async () => {
    const { page } = session();
    await openVigilView(page);
    await waitForWebviewText(page, /Not connected/, COPILOT);
    const before = await debugStats(page);
    baselineRss = before.rss;
    console.log(`      [${theme}] extension host before the sandbox (code-server's own baseline + Vigil activated): ${before.text}`);
    await clearNotifications(page);
    await runCommand(page, 'Vigil: Start Sandbox Cluster');
    startedAt = Date.now();
    sampler = setInterval(sample, RSS_SAMPLE_MS);
    await waitForNotification(page, /sandbox cluster started/i);
    await waitForWebviewText(page, /Connected to the sandbox cluster .* suggest mode/, COPILOT);
    if (theme === 'dark') {
      agent = await startInClusterAgent(sandboxServer(session()), path.join(sandboxStateDir(session()), 'sandbox.kubeconfig'));
      second = await startSecondCluster();
    }
    await session().shot('sandbox-started');
    await clearNotifications(page);
  });

  it('shows every service healthy, with sparklines and their expected band', async () => {
    const { page } = session();
    // "0 of 0" until the informers list the pods: wait for real services, all healthy
    const text = await waitForWebviewText(page, /Services \(([1-9]\d*) of \1 healthy\)/, COPILOT, 90_000);
    const n = Number(/Services \((\d+) of/.exec(text)?.[1]);
    assert.ok(n >= 3, `expected the sandbox's services, saw ${n}`);
    // a few scrapes in, every service has its error ratio and latency next to the sparkline
    await waitForWebviewText(page, /errors [\d.]+%[\s\S]*p95 \d+ ms/, COPILOT, 60_000);
    const frame = await webviewFrame(page, COPILOT);
    assert.ok((await frame.locator('svg.spark polyline').count()) >= 2 * n, 'sparklines per service');
    assert.ok((await frame.locator('svg.spark polygon.band').count()) >= n, 'expected bands drawn');
    // the detectors need a baseline before a fault means anything
    const left = WARMUP_MS - (Date.now() - startedAt);
    if (left > 0) await page.waitForTimeout(left);
    await waitForWebviewText(page, /Services \(([1-9]\d*) of \1 healthy\)/, COPILOT, 30_000);
    await session().shot('services-healthy');
  });

  it('injects a bad release with "Vigil: Run Chaos Experiment"', async () => {
    const { page } = session();
    await runCommand(page, 'Vigil: Run Chaos Experiment', { opensPicker: true });
    await pickThenNext(page, 'bad-release', /Target of bad-release/);
    await pickQuickInputItem(page, TARGET);
    await waitForNotification(page, new RegExp(`bad-release injected on ${TARGET}`));
    afterInjection = await readDeployment(session(), TARGET);
    await session().shot('bad-release-injected');
    await clearNotifications(page);
  });

  it('shows the incident diagnosed "bad release", its evidence, dry-run diff and gates, waiting for approval', async () => {
    const { page } = session();
    const text = await waitForWebviewText(page, new RegExp(`bad release — ${TARGET}[\\s\\S]*Approve`), COPILOT, 180_000);
    assert.match(text, /state: awaiting-approval/);
    assert.match(text, /confidence \d+%/);
    assert.match(text, /Proposed remediation/i);
    assert.match(text, /Safety gates: \d+ of \d+ passed; waiting on approval/);
    await waitForNotification(page, /needs your approval/, 30_000);
    await session().shot('incident-awaiting-approval');
  });

  it('has written nothing to the cluster before Approve (suggest mode)', async () => {
    const now = await readDeployment(session(), TARGET);
    assert.deepEqual(now, afterInjection, 'the deployment changed before Approve');
    const kinds = auditKinds(session());
    assert.ok(!kinds.includes('action'), `audit log has an action before Approve: ${kinds.join(', ')}`);
  });

  it('opens the incident room from the card: header, the error chart with its band and markers, the focused timeline', async () => {
    const { page } = session();
    const frame = await webviewFrame(page, COPILOT);
    await frame.locator('article.incident.open').filter({ hasText: `bad release — ${TARGET}` }).first().getByRole('button', { name: /^Open the incident room/ }).click();
    const text = await waitForWebviewText(page, new RegExp(`bad release — ${TARGET}[\\s\\S]*Signals`), ROOM, 60_000);
    assert.match(text, /cluster\s+the sandbox cluster/);
    assert.match(text, /confidence\s+\d+%/);
    assert.match(text, /state\s+awaiting-approval/);
    // the error series over the incident, its expected band (from the replayed core) and the release and detection markers
    let chart = await errorChart(page);
    await waitFor(async () => {
      chart = await errorChart(page);
      return chart.points >= 5 && chart.band >= 5 && chart.markers.includes('change') && chart.markers.includes('detection');
    }, 60_000, () => `the error chart with its band and the release and detection markers (${JSON.stringify(chart)})`);
    assert.ok(chart.canvases >= 1, 'uPlot drew on a canvas');
    console.log(`      [${theme}] room chart: ${chart.points} points, ${chart.band} with a band, markers ${chart.markers.join(', ')}`);
    const lines = await focusedLines(page);
    assert.ok(lines.length <= 12, `focused timeline has ${lines.length} lines`);
    assert.ok(lines.some((l) => l.kind === 'release'), `the release is in the focused timeline: ${lines.map((l) => l.text).join(' | ')}`);
    assert.ok(lines.some((l) => l.kind === 'detected'), 'the detection is in the focused timeline');
    // the keyboard moves the cursor and the readout says time and value
    const room = await webviewFrame(page, ROOM);
    const host = room.locator('figure.room-chart[data-signal="error_ratio"] .uplot-host');
    await host.focus();
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    const readout = await room.locator('figure.room-chart[data-signal="error_ratio"] .readout').innerText();
    assert.match(readout, /^\d\d:\d\d:\d\d UTC: 5xx (\d+(\.\d+)?%|<0\.01%)/);
    assert.doesNotMatch(readout, /\d[eE][+-]?\d/);
    await session().shot('room-awaiting-approval');
    // the service map: the incident's service highlighted, the calls the sandbox declares, its signals on Enter
    const mapNode = room.locator(`svg.service-map g.map-node[data-key="service:${TARGET}"]`);
    await waitFor(async () => (await mapNode.count()) === 1, 30_000, `${TARGET} on the service map`);
    assert.equal(await mapNode.getAttribute('data-health'), 'incident', 'the incident\'s service is marked as having an open incident');
    assert.match((await mapNode.getAttribute('data-focus')) ?? '', /^(target|cause)$/, 'the room\'s incident is highlighted on the map');
    const mapNodes = await room.locator('svg.service-map g.map-node').count();
    const calls = await room.locator('svg.service-map path.map-edge').count();
    assert.ok(mapNodes >= 3 && calls >= 1, `the map has the sandbox's services (${mapNodes}) and their declared calls (${calls})`);
    await mapNode.scrollIntoViewIfNeeded();
    await mapNode.focus();
    await page.keyboard.press('Enter');
    await waitForWebviewText(page, new RegExp(`${TARGET}: open incident[^\\n]*\\n[\\s\\S]*errors: [\\d.<]+%`, 'i'), ROOM, 10_000);
    console.log(`      [${theme}] service map: ${mapNodes} services, ${calls} calls; ${TARGET} ${await mapNode.getAttribute('data-focus')}`);
    await session().shot('room-service-map');
    await host.focus();
    // the text alternative
    await room.getByRole('button', { name: 'Show as tables' }).click();
    await waitFor(async () => (await (await webviewFrame(page, ROOM)).locator('table.chart-table tbody tr').count()) >= 5, 10_000, 'the chart as a table');
    await session().shot('room-as-tables');
    await (await webviewFrame(page, ROOM)).getByRole('button', { name: 'Show charts' }).click();
    await waitFor(async () => (await errorChart(page)).canvases >= 1, 10_000, 'the charts again');
  });

  it('has written nothing to the cluster while the room is open', async () => {
    assert.deepEqual(await readDeployment(session(), TARGET), afterInjection, 'the deployment changed before Approve');
  });

  if (theme === 'dark') {
    it('redraws the charts in the high-contrast theme\'s colours', async () => {
      const { page } = session();
      const room = await webviewFrame(page, ROOM);
      const paintsBefore = Number(await room.locator(ROOM).getAttribute('data-paint'));
      await runCommand(page, 'Preferences: Color Theme', { opensPicker: true });
      await pickQuickInputItem(page, 'Dark High Contrast');
      let colour = '';
      let expected = '?';
      await waitFor(async () => {
        const f = await webviewFrame(page, ROOM);
        const hc = await f.evaluate(() => document.body.classList.contains('vscode-high-contrast'));
        expected = await f.evaluate(() => getComputedStyle(document.body).getPropertyValue('--vscode-charts-blue').trim());
        colour = (await f.locator('figure.room-chart[data-signal="error_ratio"] .uplot-host').getAttribute('data-line-colour', { timeout: 5_000 })) ?? '';
        const paints = Number(await f.locator(ROOM).getAttribute('data-paint'));
        return hc && paints > paintsBefore && colour === expected && colour !== '';
      }, 30_000, () => `the chart redrawn in the high-contrast colours (drawn with ${colour}, theme says ${expected})`);
      await session().shot('room-high-contrast');
      await runCommand(page, 'Preferences: Color Theme', { opensPicker: true });
      await pickQuickInputItem(page, 'Default Dark Modern');
      await waitFor(async () => !(await (await webviewFrame(page, ROOM)).evaluate(() => document.body.classList.contains('vscode-high-contrast'))), 30_000, 'the dark theme again');
    });
  }

  it('Approve from the room runs the step; the room follows it to "recovered" with the action and recovery markers', async () => {
    const { page } = session();
    await clearNotifications(page);
    const room = await webviewFrame(page, ROOM);
    const approve = room.getByRole('button', { name: /^Approve:/ }).first();
    await approve.focus();
    await session().shot('room-approve-focused');
    await page.keyboard.press('Enter');
    await waitForWebviewText(page, /state\s+(acting|verifying|recovered)/, ROOM, 60_000);
    await waitForWebviewText(page, /state\s+recovered/, ROOM, 240_000);
    const after = await readDeployment(session(), TARGET);
    assert.notEqual(after.image, afterInjection?.image, 'the rollback changed the image back');
    assert.ok(auditKinds(session()).includes('action'), 'the approved action is in the audit log');
    // the sidebar agrees
    await waitForWebviewText(page, new RegExp(`bad release — ${TARGET}[\\s\\S]*outcome: recovered`), COPILOT, 30_000);
    let chart = await errorChart(page);
    await waitFor(async () => {
      chart = await errorChart(page);
      return ['change', 'detection', 'action', 'recovery'].every((k) => chart.markers.includes(k)) && chart.band >= 5;
    }, 30_000, () => `markers for the release, detection, action and recovery (${JSON.stringify(chart)})`);
    const lines = await focusedLines(page);
    console.log(`      [${theme}] focused timeline (${lines.length} lines):\n        ${lines.map((l) => l.text.replace(/\s+/g, ' ')).join('\n        ')}`);
    assert.ok(lines.length <= 12, `focused timeline has ${lines.length} lines`);
    for (const kind of ['release', 'detected', 'approved', 'acted']) assert.ok(lines.some((l) => l.kind === kind), `${kind} is in the focused timeline`);
    assert.ok(lines.some((l) => l.kind === 'verified' && /recovered/.test(l.text)), 'the recovery is in the focused timeline');
    const room2 = await webviewFrame(page, ROOM);
    assert.ok(await room2.getByRole('button', { name: /^Show all events/ }).count(), '"show all events" unfolds the rest');
    await session().shot('room-recovered');
  });

  it('the room had no Content-Security-Policy violation, and the listener reports one', async () => {
    const { page } = session();
    assert.deepEqual(cspViolations(session()), [], 'CSP violations reported by the webviews');
    assert.deepEqual(session().consoleErrors.filter((e) => /Content Security Policy/i.test(e.text)), [], 'CSP errors in the console');
    // the listener is live: an inline script injected into the room is refused and reported to the extension's log
    const room = await webviewFrame(page, ROOM);
    await room.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = 'document.title = "injected"';
      document.body.append(s);
    });
    await waitFor(() => cspViolations(session()).some((l) => /script-src/.test(l)), 15_000, 'the provoked violation in the Vigil log');
    assert.equal(await room.evaluate(() => document.title === 'injected'), false, 'the inline script did not run');
  });

  it('"Vigil: Replay Incident" opens the same view: a time scrubber, as recorded and with today\'s detectors', async () => {
    const { page } = session();
    await runCommand(page, 'Vigil: Replay Incident', { opensPicker: true });
    await pickQuickInputItem(page, `bad-release — ${TARGET}`);
    const recorded = await waitForWebviewText(page, /Replay[\s\S]*As recorded[\s\S]*Signals/, ROOM, 30_000);
    assert.match(recorded, new RegExp(`bad release — ${TARGET}`));
    const room = await webviewFrame(page, ROOM);
    assert.equal(await room.getByRole('slider', { name: 'Replay time' }).count(), 1, 'the time scrubber');
    await waitFor(async () => (await errorChart(page)).band >= 5, 30_000, 'the replayed chart with its band');
    await session().shot('replay-recorded');
    await room.getByRole('button', { name: /What if/ }).click();
    await waitForWebviewText(page, /Compared with what ran then/, ROOM, 60_000);
    await session().shot('replay-what-if');
  });

  it('"Vigil: Show Reliability Report" shows MTTR for the incidents of the run', async () => {
    const { page } = session();
    await runCommand(page, 'Vigil: Show Reliability Report');
    const text = await waitForWebviewText(page, /MTTR \(symptom onset → verified recovery\)\s+median [^\n]+ \(\d+ incidents?\)/, 'table.headline', 60_000);
    console.log(`      [${theme}] report: ${text.replace(/\s+/g, ' ').slice(0, 400)}`);
    assert.match(text, /Time to detect \(symptom onset → detection\)\s+median/);
    const report = await webviewFrame(page, 'table.headline');
    assert.ok((await report.locator('svg').count()) >= 2, 'server-rendered SVG charts');
    assert.match(await report.locator('body').innerText(), new RegExp(`${TARGET}[\\s\\S]*bad-release[\\s\\S]*by approval`));
    await session().shot('reliability-report');
  });

  it('a second incident: Reject in the view writes nothing to the cluster and records the label', async () => {
    const { page } = session();
    await clearNotifications(page);
    await runCommand(page, 'Vigil: Run Chaos Experiment', { opensPicker: true });
    await pickThenNext(page, 'bad-release', /Target of bad-release/);
    await pickQuickInputItem(page, REJECT_TARGET);
    await waitForNotification(page, new RegExp(`bad-release injected on ${REJECT_TARGET}`));
    const injected = await readDeployment(session(), REJECT_TARGET);
    await clearNotifications(page);

    const frame = await webviewFrame(page, COPILOT);
    const waiting = frame.locator('article.incident.open').filter({ hasText: 'state: awaiting-approval' }).first();
    await waitForWebviewText(page, /state: awaiting-approval[\s\S]*Reject/, COPILOT, 180_000);
    const id = (await waiting.getAttribute('data-incident')) ?? '';
    assert.match(id, /\S/, 'the waiting incident has an id');
    const title = (await waiting.locator('h3').first().textContent()) ?? '';
    console.log(`      [${theme}] second incident ${id}: ${title.trim()}`);
    assert.match(title, /shop\/(cart|frontend)/, 'the incident is about the faulted service or its caller');
    // suggest mode: proposed, not done
    assert.deepEqual(await readDeployment(session(), REJECT_TARGET), injected, 'the deployment changed before any decision');
    assert.deepEqual(auditEntries(session()).filter((e) => e.incidentId === id && e.kind === 'action'), [], 'an action was audited before any decision');

    const reject = waiting.getByRole('button', { name: /^Reject:/ });
    await reject.focus();
    await session().shot('reject-focused');
    await page.keyboard.press('Enter');
    await waitForWebviewText(page, new RegExp(`outcome: rejected · ${id}`), COPILOT, 30_000);
    await frame.locator(`article[data-incident="${id}"]`).scrollIntoViewIfNeeded();
    await session().shot('rejected');

    const stored = storedIncident(session(), id);
    assert.equal(stored.outcome?.kind, 'rejected', 'the stored incident is labelled rejected');
    assert.match(stored.outcome?.labelledBy ?? '', /^user:.* \(vscode\)$/, 'the label names who rejected it');
    const audit = auditEntries(session()).filter((e) => e.incidentId === id);
    assert.ok(audit.some((e) => e.kind === 'rejection' && /\(vscode\)/.test(e.actor)), `the rejection is audited: ${audit.map((e) => e.kind).join(', ')}`);
    assert.ok(!audit.some((e) => e.kind === 'action'), 'nothing was run for the rejected incident');
    // a few scrapes later the engine has still not touched it
    await page.waitForTimeout(10_000);
    assert.deepEqual(await readDeployment(session(), REJECT_TARGET), injected, 'the deployment changed after Reject');
    assert.equal(storedIncident(session(), id).outcome?.kind, 'rejected');
  });

  it('reports the extension host memory with the sandbox running and the incident room open', async function () {
    const { page } = session();
    // issue 18's 3-minute CI window in the dark run (and the soak, when asked); the light run samples over its story (~90 s)
    const soakMs = theme === 'dark' ? Math.max(MEMORY_WINDOW_MS, Number(process.env.VIGIL_E2E_SOAK_MINUTES ?? 0) * 60_000) : 0;
    this.timeout(soakMs + 180_000);
    // the live room of the first incident in front (the report and the replay were opened over it)
    await runCommand(page, 'Vigil: Open Incident', { opensPicker: true });
    await pickQuickInputItem(page, `bad-release — ${TARGET}`);
    await waitForWebviewText(page, new RegExp(`bad release — ${TARGET}[\\s\\S]*Signals`), ROOM, 60_000);
    await waitFor(async () => (await errorChart(page)).canvases >= 1, 30_000, 'the room\'s charts');
    const left = soakMs - (Date.now() - startedAt);
    if (left > 0) {
      console.log(`      [${theme}] ${Math.round(left / 1000)} s more with the sandbox running and the room open (until ${soakMs / 1000} s)`);
      // what the rss is made of as it grows: Debug Stats once a minute (heap, compiled code, external, anonymous vs mapped files)
      for (let end = Date.now() + left; Date.now() < end; ) {
        await page.waitForTimeout(Math.min(60_000, end - Date.now()));
        await clearNotifications(page);
        console.log(`      [${theme}] soak ${Math.round((Date.now() - startedAt) / 1000)} s: ${(await debugStats(page)).text}`);
      }
      await waitForWebviewText(page, new RegExp(`bad release — ${TARGET}[\\s\\S]*Signals`), ROOM, 30_000);
    }
    sample();
    await clearNotifications(page);
    const { rss, text } = await debugStats(page);
    console.log(`      [${theme}] after ${Math.round((Date.now() - startedAt) / 1000)} s with the sandbox: ${text} (${(rss - baselineRss).toFixed(1)} MB more than before the sandbox started)`);
    printCurve();
    assert.ok(rss > 0 && rss < MEMORY_LIMIT_MB, `extension host rss ${rss} MB, the limit is ${MEMORY_LIMIT_MB} MB`);
    // "stays below": every sample since the sandbox started (Approve, Replay, the report, the room open)
    const over = rssCurve.filter((p) => p.mb >= MEMORY_LIMIT_MB);
    assert.deepEqual(over.map((p) => `${p.s}s ${p.mb.toFixed(1)} MB (${p.step})`), [], `extension host rss samples at or over ${MEMORY_LIMIT_MB} MB`);
    assert.ok(rssCurve.length >= soakMs / RSS_SAMPLE_MS - 2, `rss sampled ${rssCurve.length} times over ${soakMs / 1000} s (is the extension host found under /proc?)`);
    // the loop and the model run in processes of their own: both must have run, and their rss is printed above
    assert.ok(rssCurve.some((p) => p.loop !== undefined), "no healing loop process was seen beside the extension host");
    assert.ok(rssCurve.some((p) => p.model !== undefined), 'no model process was seen beside the extension host');
    assert.match(text, /healing loop process \(pid \d+\) rss [\d.]+ MB/, 'Debug Stats states the healing loop process\'s rss beside the host\'s');
    await session().shot('debug-stats');
  });

  it('settings apply while connected: auto mode with shop denied diagnoses a third bad release, writes nothing and says which gate refused', async () => {
    const { page } = session();
    await clearNotifications(page);
    // what a user does: "Preferences: Open User Settings (JSON)", edit, save; the extension re-reads the settings
    // and the engine takes them at its next decision
    await editUserSettings(page, { ...userSettings(theme), 'vigil.automation.mode': 'auto', 'vigil.safety.deniedNamespaces': ['kube-system', 'shop'] });
    await waitForWebviewText(page, /mode: auto/, COPILOT, 30_000);
    await runCommand(page, 'Vigil: Run Chaos Experiment', { opensPicker: true });
    await pickThenNext(page, 'bad-release', /Target of bad-release/);
    await pickQuickInputItem(page, DENIED_TARGET);
    await waitForNotification(page, new RegExp(`bad-release injected on ${DENIED_TARGET}`));
    const injected = await readDeployment(session(), DENIED_TARGET);
    await clearNotifications(page);
    // poll the stored incidents until one about the target carries the gate's refusal (bounded: 180 s)
    let refusal: { gate: string; reason: string } | undefined;
    let id = '';
    await waitFor(async () => {
      for (const name of readdirSync(path.join(sandboxStateDir(session()), 'incidents'))) {
        const i = JSON.parse(readFileSync(path.join(sandboxStateDir(session()), 'incidents', name), 'utf8')) as { id: string; target: { namespace?: string; name: string }; diagnosis?: { kind: string }; timeline: Array<{ kind: string; gates?: { refusedBy?: { gate: string; reason: string } } }> };
        if (`${i.target.namespace}/${i.target.name}` !== DENIED_TARGET || i.diagnosis?.kind !== 'bad-release') continue;
        const refused = i.timeline.find((e) => e.kind === 'refused')?.gates?.refusedBy;
        if (refused) {
          refusal = refused;
          id = i.id;
          return true;
        }
      }
      return false;
    }, 180_000, `an incident on ${DENIED_TARGET} diagnosed a bad release and refused by a gate`);
    console.log(`      [${theme}] ${id}: refused by ${refusal?.gate}: ${refusal?.reason}`);
    assert.equal(refusal?.gate, 'namespace-policy');
    assert.match(refusal?.reason ?? '', /namespace "shop" is in vigil\.safety\.deniedNamespaces/);
    await session().shot('denied-namespace');
    assert.deepEqual(await readDeployment(session(), DENIED_TARGET), injected, 'the deployment changed in a denied namespace');
    assert.deepEqual(auditEntries(session()).filter((e) => e.incidentId === id && e.kind === 'action'), [], 'an action was audited in a denied namespace');
    await editUserSettings(page, userSettings(theme));
    await waitForWebviewText(page, /mode: suggest/, COPILOT, 30_000);
  });

  if (theme === 'dark') {
    it('the sidebar as the console of two clusters\' in-cluster agents: grouped by cluster, summed, Approve in prod-eu and Reject in prod-us each written to its own cluster', async () => {
      const { page } = session();
      const started = Date.now();
      await clearNotifications(page);
      const a = agent;
      const b = second;
      assert.ok(a && a.child.exitCode === null, `the in-cluster agent of ${EU} is running${a ? `; its output:\n${a.output().slice(-2000)}` : ''}`);
      assert.ok(b && b.agent.child.exitCode === null, `the in-cluster agent of ${US} is running${b ? `; its output:\n${b.agent.output().slice(-2000)}` : ''}`);
      const servers: Record<string, string> = { [EU]: sandboxServer(session()), [US]: b.server };
      // what "Connect to Cluster" reads: the kubeconfig setting, then the context; it finds each agent's CRD and Lease
      const kubeconfig = path.join(sandboxStateDir(session()), 'console.kubeconfig');
      writeContextsKubeconfig(kubeconfig, servers);
      await editUserSettings(page, { ...userSettings(theme), 'vigil.kubernetes.kubeconfig': kubeconfig });
      for (const context of [EU, US]) {
        await runCommand(page, 'Vigil: Connect to Cluster', { opensPicker: true });
        const input = page.locator('.quick-input-widget .quick-input-box input');
        assert.match((await input.getAttribute('placeholder')) ?? '', new RegExp(`from ${kubeconfig.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), 'the context picker reads the kubeconfig setting');
        await pickThenNext(page, context, new RegExp(`An in-cluster Vigil runs in ${context}`));
        await pickQuickInputItem(page, 'Watch the in-cluster agent');
        if (context === EU) await waitForWebviewText(page, new RegExp(`Watching the in-cluster agent of context ${EU}[\\s\\S]*mode: in-cluster agent`), COPILOT, 30_000);
      }
      // the second context is added beside the first, not instead of it
      await waitForWebviewText(page, new RegExp(`Watching the in-cluster agents of 2 clusters: context ${EU} \\(${servers[EU]}\\), context ${US} \\(${servers[US]}\\)[\\s\\S]*mode: in-cluster agents`), COPILOT, 30_000);
      // the same fault in both clusters: two proposals on the same target name, one per cluster
      const injected: Record<string, Awaited<ReturnType<typeof readDeploymentAt>>> = {};
      for (const context of [EU, US]) {
        const inject = await fetch(`${servers[context]}/sandbox/v1/faults`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ fault: 'bad-release', target: CONSOLE_TARGET, durationSeconds: 600 }) });
        assert.equal(inject.status, 201, `inject bad-release on ${CONSOLE_TARGET} in ${context}`);
        injected[context] = await readDeploymentAt(servers[context], CONSOLE_TARGET);
      }
      // each agent's Incident resource, diagnosed and waiting for a decision (polled, bounded)
      const incidents: Record<string, IncidentResourceLike> = {};
      await waitFor(async () => {
        for (const context of [EU, US]) {
          const found = (await incidentResources(servers[context])).find((o) => o.status?.state === 'awaiting-approval' && o.status.diagnosis?.kind === 'bad-release' && (o.status.proposedStep?.action ?? '').includes(CONSOLE_TARGET));
          if (found) incidents[context] = found;
        }
        return !!incidents[EU] && !!incidents[US];
      }, 150_000, () => `an Incident resource awaiting approval of a step on ${CONSOLE_TARGET} in each cluster (found in ${Object.keys(incidents).join(', ') || 'none'}); ${EU}'s agent said:\n${a.output().slice(-1500)}\n${US}'s agent said:\n${b.agent.output().slice(-1500)}`);
      const key = (context: string) => `${context}/${incidents[context].spec.incidentId}`;
      const esc = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      for (const context of [EU, US]) console.log(`      [${theme}] ${context}'s agent's Incident ${incidents[context].metadata.namespace}/${incidents[context].metadata.name}: ${incidents[context].status?.proposedStep?.action} (step ${incidents[context].status?.proposedStep?.stepId}), ${Math.round((Date.now() - started) / 1000)} s into the step`);
      // the sidebar shows both, each card naming its cluster, from the resources
      const frame = await webviewFrame(page, COPILOT);
      const card = (context: string) => frame.locator(`article.incident.open[data-incident="${key(context)}"]`);
      for (const context of [EU, US]) await waitFor(async () => (await card(context).getByRole('button', { name: /^Approve:/ }).count()) === 1, 30_000, `the card of ${key(context)} with Approve`);
      // the view re-renders on every change: read its text as a whole; case aside, as CSS upper-cases the section headings
      for (const context of [EU, US]) await waitForWebviewText(page, new RegExp(`\\[${context}\\] bad release — ${CONSOLE_TARGET}[\\s\\S]*state: awaiting-approval[^\\n]*${esc(key(context))}[\\s\\S]*Proposed remediation`, 'i'), COPILOT, 15_000);
      // the Incidents tree: one node per cluster with its own counts, each as that cluster's API server has them (the
      // e2e's sandbox has the story's incidents too), and the status bar sums them and says how many clusters
      const incidentsHeader = page.locator('.sidebar .pane-header').filter({ hasText: /^\s*Incidents/i }).first();
      if ((await incidentsHeader.getAttribute('aria-expanded')) === 'false') await incidentsHeader.click();
      // `has` is queried inside each pane: a locator of the header relative to it, not the page-rooted one above
      const treeRows = page.locator('.sidebar .pane').filter({ has: page.locator('.pane-header', { hasText: /^\s*Incidents/i }) }).locator('.monaco-list-row');
      let seen = '';
      await waitFor(async () => {
        const rows = await treeRows.allInnerTexts();
        const status = await page.locator('.statusbar').innerText();
        const counts: Record<string, { open: number; awaiting: number }> = {};
        seen = `tree rows ${JSON.stringify(rows)}, status bar "${status.replace(/\s+/g, ' ')}"`;
        for (const context of [EU, US]) {
          const m = rows.map((t) => new RegExp(`^\\s*${context}\\s*(\\d+) open(?:, (\\d+) awaiting approval)?`).exec(t)).find(Boolean);
          if (!m) return false;
          counts[context] = { open: Number(m[1]), awaiting: Number(m[2] ?? 0) };
        }
        const awaitingInApi = await Promise.all([EU, US].map(async (context) => (await incidentResources(servers[context])).filter((o) => o.status?.state === 'awaiting-approval').length));
        const sum = /Vigil: (\d+) open(?: \((\d+) awaiting approval\))? · 2 clusters/.exec(status);
        seen = `tree ${JSON.stringify(counts)}, awaiting per the API servers ${awaitingInApi.join(', ')}, status bar "${status.replace(/\s+/g, ' ')}"`;
        return (
          !!sum &&
          counts[EU].awaiting === awaitingInApi[0] &&
          counts[US].awaiting === awaitingInApi[1] &&
          Number(sum[1]) === counts[EU].open + counts[US].open &&
          Number(sum[2] ?? 0) === counts[EU].awaiting + counts[US].awaiting
        );
      }, 20_000, () => `the tree's node per cluster with that cluster's counts, summed in the status bar: ${seen}`);
      console.log(`      [${theme}] ${seen}`);
      await session().shot('console-two-clusters-awaiting');
      for (const context of [EU, US]) assert.deepEqual(await readDeploymentAt(servers[context], CONSOLE_TARGET), injected[context], `the deployment in ${context} changed before a decision`);
      const stepOf = (context: string) => incidents[context].status?.proposedStep?.stepId ?? '';
      const decisionIn = async (context: string) => (await incidentResources(servers[context])).find((o) => o.spec.incidentId === incidents[context].spec.incidentId)?.spec.decision;
      // Approve on prod-eu's card, Reject on prod-us's: each lands in its own cluster (SelfSubjectReview names the user)
      await card(EU).getByRole('button', { name: /^Approve:/ }).click();
      await waitFor(async () => !!(await decisionIn(EU)), 15_000, `spec.decision on ${key(EU)}`);
      assert.deepEqual(await decisionIn(EU), { action: 'approve', stepId: stepOf(EU), by: 'vigil-sandbox-admin' });
      assert.equal(await decisionIn(US), undefined, `approving ${key(EU)} wrote a decision in ${US}`);
      await card(US).getByRole('button', { name: /^Reject:/ }).click();
      await waitFor(async () => !!(await decisionIn(US)), 15_000, `spec.decision on ${key(US)}`);
      assert.deepEqual(await decisionIn(US), { action: 'reject', stepId: stepOf(US), by: 'vigil-sandbox-admin' });
      // and each agent acts on its own: prod-eu's rolls back, prod-us's closes its incident and writes nothing
      let now = injected[EU];
      await waitFor(async () => {
        now = await readDeploymentAt(servers[EU], CONSOLE_TARGET);
        return now.image !== injected[EU].image;
      }, 60_000, () => `${EU}'s agent to roll ${CONSOLE_TARGET} back (image still ${now.image}); it said:\n${a.output().slice(-2000)}`);
      await waitForWebviewText(page, new RegExp(`state: (acting|verifying|recovered)[^\\n]*${esc(key(EU))}`), COPILOT, 30_000);
      await waitFor(async () => (await incidentResources(servers[US])).some((o) => o.spec.incidentId === incidents[US].spec.incidentId && o.status?.state !== 'awaiting-approval'), 30_000, `${US}'s agent to close ${key(US)} after the rejection`);
      assert.deepEqual(await readDeploymentAt(servers[US], CONSOLE_TARGET), injected[US], `the deployment in ${US} changed though its step was rejected`);
      await session().shot('console-two-clusters-decided');
      // the list+watch ran in the console's own process, not in the extension host: its rss is beside the host's
      const consoleMb = consoleProcessRssMb(session().server);
      const hostMb = extensionHostRssMb(session().server);
      assert.ok(consoleMb !== undefined, 'no console process (dist/clusterConsoleWorker.js) beside the extension host');
      console.log(`      [${theme}] console step: ${EU} rolled back ${injected[EU].image} → ${now.image}, ${US} rejected and unchanged; host rss ${hostMb?.toFixed(1)} MB, console process ${consoleMb.toFixed(1)} MB; ${Math.round((Date.now() - started) / 1000)} s`);
    });
  }
});
