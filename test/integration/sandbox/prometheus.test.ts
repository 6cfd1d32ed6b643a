import assert from 'node:assert/strict';
import { startPrometheus, prometheusUnavailable, type PrometheusProcess } from '../../../src/infra/prometheus/prometheusLauncher';
import { startInProcessSandbox, waitFor, type InProcessSandbox } from './sandboxProcess';

describe('sandbox metrics scraped by a real Prometheus', function () {
  this.timeout(90_000);
  let sandbox: InProcessSandbox;
  let prom: PrometheusProcess;

  before(async function () {
    const missing = prometheusUnavailable();
    if (missing) throw new Error(missing);
    sandbox = await startInProcessSandbox();
    const target = new URL(sandbox.metrics);
    prom = await startPrometheus({ targets: [{ target: target.host, jobName: 'vigil-sandbox', metricsPath: target.pathname }], scrapeIntervalSeconds: 1 });
  });

  after(async () => {
    await prom?.stop();
    await sandbox?.stop();
  });

  it('serves a valid exposition body on the metrics port', async () => {
    const r = await fetch(sandbox.metrics);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /text\/plain/);
    const body = await r.text();
    assert.match(body, /^# HELP http_requests_total /m);
    assert.match(body, /^# TYPE http_request_duration_seconds histogram$/m);
  });

  it('answers rate() and histogram_quantile() over the scraped series within 30 s', async () => {
    const started = Date.now();
    const rates = await waitFor(
      'rate(http_requests_total[1m]) with samples',
      async () => {
        const r = await prom.query('sum by (deployment) (rate(http_requests_total[1m]))');
        return r.length >= 4 && r.every((s) => Number(s.value[1]) > 0) ? r : undefined;
      },
      30_000,
      500,
    );
    const deployments = rates.map((r) => r.metric.deployment).sort();
    assert.deepEqual(deployments, ['cart', 'checkout', 'frontend', 'payments-api']);
    const p99 = await waitFor(
      'p99 latency per deployment',
      async () => {
        const r = await prom.query('histogram_quantile(0.99, sum by (le, deployment) (rate(http_request_duration_seconds_bucket[1m])))');
        return r.length >= 4 && r.every((s) => Number.isFinite(Number(s.value[1])) && Number(s.value[1]) > 0) ? r : undefined;
      },
      Math.max(1000, 30_000 - (Date.now() - started)),
      500,
    );
    for (const s of p99) assert.ok(Number(s.value[1]) < 5, `p99 of ${s.metric.deployment} is ${s.value[1]} s`);
    const raw = await prom.query('rate(http_requests_total[1m])');
    assert.ok(raw.length > 0);
    assert.ok(raw.every((s) => s.metric.namespace && s.metric.pod && s.metric.deployment && s.metric.node), 'every series has namespace, pod, deployment and node labels');
  });

  it('shows an injected dependency outage in PromQL: 5xx ratio of the callers rises', async () => {
    const r = await fetch(`${sandbox.apiServer}/sandbox/v1/faults`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ fault: 'dependency-outage', target: 'payments/payments-api', durationSeconds: 60 }),
    });
    assert.equal(r.status, 201);
    const ratio = (deployment: string) =>
      `sum(rate(http_requests_total{deployment="${deployment}",code=~"5.."}[5s])) / sum(rate(http_requests_total{deployment="${deployment}"}[5s]))`;
    const seen = await waitFor(
      'checkout 5xx ratio above 30%',
      async () => {
        const [checkout] = await prom.query(ratio('checkout'));
        return checkout && Number(checkout.value[1]) > 0.3 ? Number(checkout.value[1]) : undefined;
      },
      20_000,
      500,
    );
    assert.ok(seen > 0.3);
    const [payments] = await prom.query(ratio('payments-api'));
    assert.ok(Number(payments.value[1]) > 0.6, `payments-api 5xx ratio ${payments.value[1]}`);
    const [cart] = await prom.query(ratio('cart'));
    assert.ok(Number(cart.value[1]) < 0.05, `cart is not a caller of payments (${cart.value[1]})`);
  });

  it('scrapes kube-state-style series: available replicas and restarts', async () => {
    const avail = await waitFor('kube_deployment_status_replicas_available', async () => {
      const r = await prom.query('kube_deployment_status_replicas_available{deployment="checkout"}');
      return r.length === 1 && Number(r[0].value[1]) === 3 ? r : undefined;
    }, 15_000, 500);
    assert.equal(avail[0].metric.namespace, 'shop');
    const restarts = await prom.query('sum(kube_pod_container_status_restarts_total)');
    assert.equal(Number(restarts[0].value[1]), 0);
    const up = await prom.query('up{job="vigil-sandbox"}');
    assert.equal(up[0]?.value[1], '1', `scrape is up (prometheus log tail: ${prom.log().slice(-500)})`);
  });
});
