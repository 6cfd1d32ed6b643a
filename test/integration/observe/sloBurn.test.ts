import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { rankedFindings } from '../../../src/core/learn/incidentStory';
import type { Incident } from '../../../src/core/model/incident';
import type { LoggerPort, SourceStatus } from '../../../src/core/ports';
import { DEFAULT_SETTINGS, withSettings } from '../../../src/core/settings';
import { prometheusUnavailable, startPrometheus, type PrometheusProcess } from '../../../src/infra/prometheus/prometheusLauncher';
import { VigilRuntime } from '../../../src/infra/runtime';
import { startSandbox, type Sandbox } from '../../../src/sandbox/sandbox';

const silent: LoggerPort = { log: () => undefined, child: () => silent };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SHOP_SLOS = path.resolve(__dirname, '../../../config/slos');

async function until<T>(what: string, timeoutMs: number, probe: () => T | undefined | false, seen?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${seen ? `; seen: ${seen()}` : ''}`);
    await sleep(1000);
  }
}

/** The shop's SLOs (config/slos, short windows) read from a real Prometheus scraping the sandbox; a bad release burns one. */
describe('SLOs as code: a fault burns an SLO and it is evidence (sandbox, real Prometheus)', function () {
  this.timeout(9 * 60_000);
  let dir: string;
  let sandbox: Sandbox | undefined;
  let prom: PrometheusProcess | undefined;
  let rt: VigilRuntime | undefined;

  before(async () => {
    const missing = prometheusUnavailable();
    if (missing) throw new Error(missing);
    dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-slo-'));
    sandbox = await startSandbox({ seed: 5, daySeconds: 600, kubeconfigPath: path.join(dir, 'kubeconfig') });
    const target = new URL(sandbox.metrics);
    prom = await startPrometheus({ targets: [{ target: target.host, jobName: 'sandbox', metricsPath: target.pathname }], scrapeIntervalSeconds: 1 });
  });
  after(async () => {
    await rt?.dispose();
    await prom?.stop();
    await sandbox?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a bad release on shop/checkout burns its availability SLO (14.4× over 2 min and 30 s), which joins the incident', async () => {
    const statuses: SourceStatus[] = [];
    const settings = withSettings(DEFAULT_SETTINGS, {
      kubernetes: { kubeconfig: sandbox!.kubeconfig },
      prometheus: { url: prom!.url, scrapeIntervalSeconds: 5 },
      automation: { mode: 'suggest' },
      agent: { stateDir: path.join(dir, 'state') },
      model: { enabled: false },
      slos: { paths: [SHOP_SLOS] },
    });
    rt = await VigilRuntime.create({ settings, logger: silent, identity: 'vigil-slo-test' });
    const external = rt.core.external;
    assert.ok(external, 'SLOs are read when slos.paths is set');
    external.onStatus((s) => statuses.push(s));
    await rt.start();
    // the 2 min window needs 90 % of its samples before it reads anything but "not enough data"
    const checkout = () => external.slos().find((r) => r.slo.id === 'checkout/requests-availability');
    const calm = await until('2 min of SLI data for checkout', 240_000, () => checkout()?.pairs[0].state !== 'not enough data' && checkout());
    assert.equal(calm.pairs[0].state, 'ok', calm.text);
    assert.deepEqual(calm.target, { kind: 'service', namespace: 'shop', name: 'checkout' });
    const status = statuses.filter((s) => s.source === 'slos').at(-1)!;
    assert.equal(status.state, 'ok', status.message);
    assert.match(status.message, /^2 SLO\(s\) loaded, 0 burning$/);
    assert.ok(status.details?.some((d) => /^SLO checkout\/requests-availability \(99 % over 60 min\) ok; [\d.]+ % of the error budget left$/.test(d)), status.details?.join('\n'));

    const injectedAt = Date.now();
    const res = sandbox!.simulation.handleControl('POST', '/sandbox/v1/faults', { fault: 'bad-release', target: 'shop/checkout', durationSeconds: 900 });
    assert.equal(res.status, 201);
    const burningEvidence = (i: Incident) => i.diagnosis?.evidence.find((e) => e.kind === 'slo-burn' && e.slo === 'checkout/requests-availability');
    // what there was instead, if it times out: every incident and the SLO's reading
    const seen = () =>
      [
        ...rt!.core.remediator.list().map((i) => {
          const first = i.timeline.find((e) => e.kind === 'detected');
          const opened = first ? `${((first.t - injectedAt) / 1000).toFixed(0)} s after injection on "${first.kind === 'detected' ? first.anomaly.reason : ''}"` : 'no detection';
          return `${i.id} ${i.state} ${i.diagnosis?.kind ?? '-'} on ${i.target.namespace}/${i.target.name} [${(i.diagnosis?.evidence ?? []).map((e) => e.kind).join(',')}], ${opened}`;
        }),
        `SLO: ${checkout()?.text ?? 'none'}`,
      ].join('; ');
    const incident = await until('an incident on shop/checkout with its SLO burning as evidence', 240_000, () => rt!.core.remediator.list().find((i) => i.target.name === 'checkout' && burningEvidence(i)), seen);
    const ev = burningEvidence(incident)!;
    assert.ok(ev.kind === 'slo-burn' && ev.factor === 14.4 && ev.burn >= 14.4, JSON.stringify(ev));
    const line = rankedFindings(incident).find((f) => f.kind === 'slo');
    assert.match(line?.text ?? '', /^SLO checkout\/requests-availability \(99 % over 60 min\) burning: [\d.]+× over 2 min and [\d.]+× over 30 s \(alert at 14\.4× over 2 min\/30 s\); -?[\d.]+ % of the error budget left$/);
    const burning = checkout()!;
    assert.ok(burning.budgetRemaining !== undefined && burning.budgetRemaining < calm.budgetRemaining!, `the budget shrinks: ${calm.budgetRemaining} → ${burning.budgetRemaining}`);
  });
});
