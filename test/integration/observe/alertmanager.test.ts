import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { rankedFindings } from '../../../src/core/learn/incidentStory';
import type { Incident } from '../../../src/core/model/incident';
import type { LoggerPort, SourceStatus } from '../../../src/core/ports';
import { DEFAULT_SETTINGS, withSettings } from '../../../src/core/settings';
import { VigilRuntime } from '../../../src/infra/runtime';
import { startSandbox, type Sandbox } from '../../../src/sandbox/sandbox';
import { requireAlertmanager, startAlertmanager, type AlertmanagerProcess } from './alertmanagerProcess';

const silent: LoggerPort = { log: () => undefined, child: () => silent };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `probe` returns a value, within `timeoutMs`; fails naming what it waited for. */
async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined, everyMs = 1000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * Alertmanager as Vigil meets it in production: the real Debian `prometheus-alertmanager`, the sandbox cluster over
 * real HTTP and the whole loop (VigilRuntime) in auto mode.
 */
describe('Alertmanager: firing alerts as evidence, silences while Vigil remediates (real Alertmanager)', function () {
  this.timeout(7 * 60_000);
  let am: AlertmanagerProcess;
  let sandbox: Sandbox;
  let rt: VigilRuntime | undefined;
  let repost: NodeJS.Timeout | undefined;
  const statuses: SourceStatus[] = [];
  const dirs: string[] = [];

  before(async function () {
    requireAlertmanager(this);
    am = await startAlertmanager();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-am-'));
    dirs.push(dir);
    sandbox = await startSandbox({ seed: 5, daySeconds: 600, kubeconfigPath: path.join(dir, 'kubeconfig') });
  });
  after(async () => {
    if (repost) clearInterval(repost);
    await rt?.dispose();
    await sandbox?.stop();
    await am?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('a firing alert is evidence with its runbook link; a silence is held while the fix runs and expired when verified', async () => {
    const pod = sandbox.store.list('pods', 'shop').items.map((p) => p.metadata.name).find((n) => n.startsWith('checkout-'));
    assert.ok(pod, 'the sandbox runs checkout pods');
    const alerts: Array<{ labels: Record<string, string>; annotations: Record<string, string> }> = [
      { labels: { alertname: 'CheckoutHighErrorRate', namespace: 'shop', deployment: 'checkout', severity: 'critical' }, annotations: { summary: 'checkout answers 5xx to more than 5 % of requests', runbook_url: 'https://runbooks.example.com/checkout/errors' } },
      // labelled by pod only, as kube-state-metrics rules are: attached through the pod's owner references
      { labels: { alertname: 'KubePodCrashLooping', namespace: 'shop', pod: pod!, container: 'app', severity: 'warning' }, annotations: { description: 'Pod is crash looping', runbook_url: 'javascript:alert(1)' } },
      { labels: { alertname: 'DiskFilling', namespace: 'storage', instance: 'node-9' }, annotations: { summary: 'not about any workload' } },
    ];
    await am.postAlerts(alerts);
    // Alertmanager resolves an alert nobody re-sends within resolve_timeout (5 min); Prometheus re-sends, so do we
    repost = setInterval(() => void am.postAlerts(alerts).catch(() => undefined), 30_000);
    const human = await fetch(`${am.url}/api/v2/silences`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ matchers: [{ name: 'alertname', value: 'DiskFilling', isRegex: false, isEqual: true }], startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 3_600_000).toISOString(), createdBy: 'alice', comment: 'known, ticket OPS-1' }),
    });
    const humanId = ((await human.json()) as { silenceID: string }).silenceID;

    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-am-state-'));
    dirs.push(stateDir);
    const settings = withSettings(DEFAULT_SETTINGS, { kubernetes: { kubeconfig: sandbox.kubeconfig }, automation: { mode: 'auto' }, agent: { stateDir }, prometheus: { scrapeIntervalSeconds: 5 }, alertmanager: { url: am.url }, model: { enabled: false } });
    rt = await VigilRuntime.create({ settings, logger: silent, identity: 'vigil-am-test' });
    assert.ok(rt.core.external, 'alerts are read when alertmanager.url is set');
    rt.core.external.onStatus((s) => statuses.push(s));
    await rt.start();
    const ok = await until('the alerts status line', 30_000, () => statuses.find((s) => s.source === 'alerts' && s.state === 'ok'));
    assert.match(ok.message, /^3 firing alert\(s\) from Alertmanager at http:\/\/127\.0\.0\.1:\d+, 2 attached to a workload$/);
    assert.ok(ok.details?.some((d) => d.startsWith('DiskFilling (no namespace with deployment')), ok.details?.join('\n'));

    await sleep(40_000); // the detectors' warm-up
    const res = sandbox.simulation.handleControl('POST', '/sandbox/v1/faults', { fault: 'crash-loop', target: 'shop/checkout', durationSeconds: 900 });
    assert.equal(res.status, 201);

    const withAlerts = (i: Incident) => (i.diagnosis?.evidence ?? []).filter((e) => e.kind === 'alert').length >= 2;
    const incident = await until('an incident on shop/checkout with both alerts as evidence', 150_000, () => rt!.core.remediator.list().find((i) => i.target.name === 'checkout' && withAlerts(i)));
    const lines = rankedFindings(incident).filter((f) => f.kind === 'alert').map((f) => f.text);
    assert.ok(lines.includes('Alert CheckoutHighErrorRate (critical) firing: checkout answers 5xx to more than 5 % of requests — runbook https://runbooks.example.com/checkout/errors'), lines.join('\n'));
    assert.ok(lines.includes('Alert KubePodCrashLooping (warning) firing: Pod is crash looping — runbook javascript:alert(1)'), lines.join('\n'));

    // while the step runs: one silence per alert, exact matchers on every label, author vigil, naming the incident
    const created = Date.now();
    const held = await until('Vigil silences for both alerts', 120_000, async () => {
      const mine = (await am.silences()).filter((s) => s.createdBy === 'vigil' && s.status.state === 'active');
      return mine.length >= 2 ? mine : undefined;
    }, 500);
    const remediated = rt.core.remediator.get(incident.id)!;
    assert.ok(['acting', 'verifying', 'recovered'].includes(remediated.state), remediated.state);
    for (const a of alerts.slice(0, 2)) {
      const s = held.find((x) => x.matchers.some((m) => m.name === 'alertname' && m.value === a.labels.alertname));
      assert.ok(s, `a silence for ${a.labels.alertname}`);
      assert.deepEqual(
        s.matchers.map((m) => [m.name, m.value, m.isRegex, m.isEqual ?? true]).sort(),
        Object.entries(a.labels).map(([k, v]) => [k, v, false, true]).sort(),
      );
      assert.match(s.comment, new RegExp(`incident ${incident.id}\\b`));
      // the crash-loop step verifies within 45 s, at most 90 s for the next: ends at now + timeout + 5 min
      const left = Date.parse(s.endsAt) - created;
      assert.ok(left > 5 * 60_000 && left < 5 * 60_000 + 90_000 + 30_000, `endsAt ${s.endsAt} is ${Math.round(left / 1000)} s away`);
    }

    await until('the incident verified', 180_000, () => rt!.core.remediator.get(incident.id)?.state === 'recovered' || undefined);
    const after = await until('the silences expired', 30_000, async () => {
      const all = await am.silences();
      return held.every((h) => all.find((s) => s.id === h.id)?.status.state === 'expired') ? all : undefined;
    }, 500);
    assert.equal(after.find((s) => s.id === humanId)?.status.state, 'active', "alice's silence is not Vigil's to touch");
  });

  it('Alertmanager down: the alerts source reads down with a clear message, and the loop goes on', async function () {
    if (!rt) this.skip();
    const intervals: number[] = [];
    rt.core.pipeline.onInterval((t) => intervals.push(t));
    const from = statuses.length;
    await am.stop();
    const down = await until('a down status', 30_000, () => statuses.slice(from).find((s) => s.source === 'alerts' && s.state === 'down'));
    assert.match(down.message, /^Alertmanager at http:\/\/127\.0\.0\.1:\d+ is unreachable \(connection refused\); check alertmanager\.url and that Alertmanager is running$/);
    const n = intervals.length;
    await until('two more intervals of the loop', 30_000, () => intervals.length >= n + 2 || undefined);
    // evidence from a source that is down is not kept: stale alerts would mislead
    assert.equal(rt.core.external!.firing().length, 0);
  });
});
