import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import YAML from 'yaml';
import { clearNotifications, describeInCodeServer, openVigilView, pickQuickInputItem, runCommand, userSettings, waitFor, waitForNotification, waitForWebviewText, webviewFrame, type E2eSession } from './harness';

/**
 * The healing story in a real VS Code, once per theme: start the sandbox from the command palette,
 * watch services healthy, inject a bad release, see the incident diagnosed "bad release" waiting
 * for approval (and the cluster untouched), click Approve, see "recovered", replay the incident;
 * then a second bad release whose proposal is Rejected: labelled, and nothing written.
 * Screenshots: artifacts/e2e/healing-<theme>-NN-<step>.png.
 *
 * VIGIL_E2E_SOAK_MINUTES=10 keeps the sandbox running that long before the memory step (dark theme only).
 */
const COPILOT = '#app.copilot';
const REPLAY = '#app.replay';
const TARGET = 'shop/frontend';
/** The second fault's target, whose proposal is rejected: not the first target, which is in its cooldown by then. */
const REJECT_TARGET = 'shop/cart';
/** The third fault's target, in auto mode with its namespace denied. */
const DENIED_TARGET = 'shop/checkout';
/** The assert of issue 8: the extension host with the sandbox's default topology. */
const MEMORY_LIMIT_MB = 200;
const WARMUP_MS = 45_000;

/** The state folder the extension uses for the sandbox (context.globalStorageUri). */
function sandboxStateDir(s: E2eSession): string {
  return path.join(s.server.userDataDir, 'User', 'globalStorage', 'vigil-oncall.vigil', 'sandbox');
}

/** The deployment as the sandbox's API server has it, read with a plain HTTP GET and the kubeconfig the extension wrote. */
async function readDeployment(s: E2eSession, target: string): Promise<{ revision: string; image: string; generation: number }> {
  const kubeconfig = YAML.parse(readFileSync(path.join(sandboxStateDir(s), 'sandbox.kubeconfig'), 'utf8')) as { clusters: Array<{ cluster: { server: string } }> };
  const [ns, name] = target.split('/');
  const res = await fetch(`${kubeconfig.clusters[0].cluster.server}/apis/apps/v1/namespaces/${ns}/deployments/${name}`);
  assert.equal(res.status, 200, `GET deployment ${target}`);
  const d = (await res.json()) as { metadata: { generation: number; annotations?: Record<string, string> }; spec: { template: { spec: { containers: Array<{ image: string }> } } } };
  return { revision: d.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? '?', image: d.spec.template.spec.containers[0].image, generation: d.metadata.generation };
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
    await waitForNotification(page, /sandbox cluster started/i);
    await waitForWebviewText(page, /Connected to the sandbox cluster .* suggest mode/, COPILOT);
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

  it('Approve runs the step and the view shows verification reach "recovered"', async () => {
    const { page } = session();
    await clearNotifications(page);
    const frame = await webviewFrame(page, COPILOT);
    const approve = frame.getByRole('button', { name: /^Approve:/ }).first();
    await approve.focus();
    await session().shot('approve-focused');
    await page.keyboard.press('Enter');
    await waitForWebviewText(page, /state: (acting|verifying|recovered)/, COPILOT, 60_000);
    await session().shot('verifying');
    await waitForWebviewText(page, new RegExp(`bad release — ${TARGET}[\\s\\S]*outcome: recovered`), COPILOT, 240_000);
    const after = await readDeployment(session(), TARGET);
    assert.notEqual(after.image, afterInjection?.image, 'the rollback changed the image back');
    assert.ok(auditKinds(session()).includes('action'), 'the approved action is in the audit log');
    await session().shot('recovered');
  });

  it('"Vigil: Replay Incident" shows its timeline, as recorded and replayed through today\'s detectors', async () => {
    const { page } = session();
    await runCommand(page, 'Vigil: Replay Incident', { opensPicker: true });
    await pickQuickInputItem(page, `bad-release — ${TARGET}`);
    const recorded = await waitForWebviewText(page, /proposed[\s\S]*approved[\s\S]*recovered/, REPLAY, 30_000);
    assert.match(recorded, new RegExp(`Replay of .* — ${TARGET}`));
    await session().shot('replay-recorded');
    const frame = await webviewFrame(page, REPLAY);
    await frame.getByRole('button', { name: /What if/ }).click();
    await waitForWebviewText(page, /Compared with what ran then/, REPLAY, 30_000);
    await session().shot('replay-what-if');
    await runCommand(page, 'View: Close All Editors');
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

  it('reports the extension host memory with the sandbox running', async function () {
    const { page } = session();
    const soakMs = theme === 'dark' ? Number(process.env.VIGIL_E2E_SOAK_MINUTES ?? 0) * 60_000 : 0;
    this.timeout(soakMs + 120_000);
    const left = soakMs - (Date.now() - startedAt);
    if (left > 0) {
      console.log(`      [${theme}] soaking ${Math.round(left / 1000)} s more with the sandbox running (VIGIL_E2E_SOAK_MINUTES)`);
      await page.waitForTimeout(left);
    }
    await clearNotifications(page);
    const { rss, text } = await debugStats(page);
    console.log(`      [${theme}] after ${Math.round((Date.now() - startedAt) / 1000)} s with the sandbox: ${text} (${(rss - baselineRss).toFixed(1)} MB more than before the sandbox started)`);
    assert.ok(rss > 0 && rss < MEMORY_LIMIT_MB, `extension host rss ${rss} MB, the limit is ${MEMORY_LIMIT_MB} MB`);
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
});
