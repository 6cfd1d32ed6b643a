import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sleep } from '../../../src/cli/faultDrill';
import type { Incident } from '../../../src/core/model/incident';
import type { ObservedCall } from '../../../src/core/model/serviceCall';
import type { LoggerPort } from '../../../src/core/ports';
import { DEFAULT_SETTINGS, withSettings } from '../../../src/core/settings';
import { prometheusUnavailable, startPrometheus, type PrometheusProcess } from '../../../src/infra/prometheus/prometheusLauncher';
import { VigilRuntime } from '../../../src/infra/runtime';
import { startSandbox, type Sandbox } from '../../../src/sandbox/sandbox';
import { waitFor } from '../sandbox/sandboxProcess';

/** Keeps what the agent logs, as `vigil agent` prints it. */
function capturingLogger(lines: Array<{ level: string; message: string; fields?: Record<string, unknown> }>): LoggerPort {
  const l: LoggerPort = { log: (level, message, fields) => void lines.push({ level, message, fields: fields as Record<string, unknown> | undefined }), child: () => l };
  return l;
}

/**
 * The agent with no signals file against a real Prometheus scraping the sandbox in kube-prometheus shapes:
 * Istio's request metrics (by destination workload) or OpenTelemetry's (per pod), cAdvisor CPU and memory,
 * kube-state-metrics per pod, and no `deployment` label on any application, cAdvisor or kube_pod_* series.
 * It finds those names, says so, maps the pods to their Deployments from its own inventory and detects the fault. The
 * Istio case declares no dependencies: the agent infers the shop's calls from source_workload and diagnoses a
 * dependency outage with them.
 */
const CASES = [
  // no vigil.dev/depends-on either: a dependency outage is diagnosed only if the callers the agent inferred from
  // Istio's source_workload are right, since the diagnosis names the callee's symptomatic callers
  { application: 'istio', fault: 'dependency-outage', target: 'payments/payments-api', stack: 'Istio', requests: 'istio_requests_total', latency: 'istio_request_duration_milliseconds_bucket', declareDependencies: false, callers: ['shop/checkout'] },
  { application: 'opentelemetry', fault: 'crash-loop', target: 'shop/checkout', stack: 'OpenTelemetry', requests: 'http_server_request_duration_seconds_count', latency: 'http_server_request_duration_seconds_bucket', declareDependencies: true, callers: [] },
] as const;

for (const c of CASES) describe(`kube-prometheus names, ${c.stack} application metrics: no signals file, no deployment label (sandbox, real Prometheus)`, function () {
  this.timeout(8 * 60_000);
  let dir: string;
  let sandbox: Sandbox | undefined;
  let prom: PrometheusProcess | undefined;
  let rt: VigilRuntime | undefined;
  let promStartedAt = 0;

  before(async () => {
    const missing = prometheusUnavailable();
    if (missing) throw new Error(missing);
    dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-kp-'));
    sandbox = await startSandbox({ seed: 5, daySeconds: 600, kubeconfigPath: path.join(dir, 'kubeconfig'), metricShape: { application: c.application, deploymentLabel: false }, declareDependencies: c.declareDependencies });
    const target = new URL(sandbox.metrics);
    prom = await startPrometheus({ targets: [{ target: target.host, jobName: 'sandbox', metricsPath: target.pathname }], scrapeIntervalSeconds: 1 });
    promStartedAt = Date.now();
  });
  after(async () => {
    await rt?.dispose();
    await prom?.stop();
    await sandbox?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`reports per signal the metric it found, and detects and diagnoses a ${c.fault} on ${c.target}`, async () => {
    const body = await (await fetch(sandbox!.metrics)).text();
    assert.ok(!/deployment="/.test(body.split('\n').filter((l) => /^(istio_|http_|container_|kube_pod_)/.test(l)).join('\n')), 'no deployment label on application, cAdvisor or kube_pod_* series');
    const lines: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = [];
    const settings = withSettings(DEFAULT_SETTINGS, {
      kubernetes: { kubeconfig: sandbox!.kubeconfig },
      prometheus: { url: prom!.url, scrapeIntervalSeconds: 5 },
      automation: { mode: 'suggest' },
      agent: { stateDir: path.join(dir, 'state') },
    });
    // a user's Prometheus holds more than a rate window of history; one just started reads rates climbing from 0, which the
    // baselines would learn as normal (as the drills, the agent starts once Prometheus holds one 60 s window)
    await sleep(Math.max(0, promStartedAt + 60_000 - Date.now()));
    rt = await VigilRuntime.create({ settings, logger: capturingLogger(lines), identity: 'agent-kp' });
    await rt.start();
    const runtime = rt;

    // a Prometheus just started may have scraped nothing at the first look: the agent asks again each minute until it has
    const report = await waitFor('a signal report with every signal found', () => lines.find((l) => /^signals: (\d+) of \1 have a metric$/.test(l.message)), 150_000, 500);
    const found = (report.fields?.signals as string[]).join('\n');
    console.log(`      ${report.message}:\n        ${found.split('\n').join('\n        ')}`);
    assert.ok(found.includes(`request_rate (service): ${c.requests} (${c.stack})`), found);
    assert.ok(found.includes(`latency_p99 (service): ${c.latency} (${c.stack})`), found);
    assert.match(found, /cpu \(service\): container_cpu_usage_seconds_total \(kube-prometheus-stack \(cAdvisor\)\)/);
    assert.match(found, /restarts \(service\): kube_pod_container_status_restarts_total \(kube-state-metrics\)/);

    // every service of the sandbox gets its signals through pod → workload mapping or Istio's workload labels
    const services = ['shop/frontend', 'shop/checkout', 'shop/cart', 'payments/payments-api'];
    const signals = await waitFor(
      'every default signal for every service',
      async () => {
        const found = await runtime.metrics.discoverTargets();
        const per = services.map((s) => found.find((d) => d.target.kind === 'service' && `${d.target.namespace}/${d.target.name}` === s)?.signals ?? []);
        return per.every((sig) => ['request_rate', 'error_ratio', 'latency_p99', 'cpu', 'memory', 'restarts', 'available_replicas'].every((x) => sig.includes(x as never))) ? per : undefined;
      },
      90_000,
      2_000,
    );
    assert.equal(signals.length, services.length);

    if (!c.declareDependencies) {
      assert.ok(runtime.events.inventory().services.every((s) => !s.annotations?.['vigil.dev/depends-on']), 'no depends-on declared');
      const edge = (x: ObservedCall) => `${x.caller.namespace}/${x.caller.name} -> ${x.callee.namespace}/${x.callee.name} (${x.source})`;
      // the agent reads the calls at start and, while it has seen none, every 30 s
      const calls = await waitFor('the shop\'s three calls, inferred', () => {
        const seen = runtime.core.observedCalls().map(edge).sort();
        return seen.length === 3 ? seen : undefined;
      }, 120_000, 1_000);
      assert.deepEqual(calls, ['shop/checkout -> payments/payments-api (istio)', 'shop/frontend -> shop/cart (istio)', 'shop/frontend -> shop/checkout (istio)']);
    }

    await sleep(40_000); // the detectors' warm-up, as in the other heal tests
    const res = sandbox!.simulation.handleControl('POST', '/sandbox/v1/faults', { fault: c.fault, target: c.target, durationSeconds: 600 });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const injectedAt = Date.now();
    const at = (t: { namespace?: string; name: string } | undefined) => (t ? `${t.namespace}/${t.name}` : '');
    const onTarget = (i: Incident) => (at(i.target) === c.target || at(i.diagnosis?.target) === c.target) && i.openedAt >= injectedAt - 5_000;
    const incident = await waitFor(`a diagnosed incident on ${c.target}`, () => runtime.core.remediator.list().find((i) => onTarget(i) && i.diagnosis), 180_000, 1_000);
    console.log(`      ${incident.id}: ${incident.diagnosis?.kind} ${Math.round((incident.openedAt - injectedAt) / 1000)} s after the injection: ${incident.diagnosis?.summary}`);
    assert.equal(incident.diagnosis?.kind, c.fault);
    const affected = (incident.diagnosis?.details?.affected ?? []).map(at);
    for (const caller of c.callers) assert.ok(affected.includes(caller), `the inferred caller ${caller} is named: ${affected.join(', ')}`);
  });
});
