import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { SampleFrame } from '../../../src/core/model/signal';
import type { TargetRef } from '../../../src/core/model/target';
import { VirtualClock } from '../../../src/core/loop/virtualClock';
import { candidateMetricNames, chooseSignalQueries, SIGNAL_CANDIDATES } from '../../../src/core/observe/metricDiscovery';
import { applyQueryOverrides, DEFAULT_SIGNAL_QUERIES } from '../../../src/core/observe/signalCatalogue';
import type { SourceStatus } from '../../../src/core/ports';
import type { InstantVectorSample, PrometheusClient } from '../../../src/infra/prometheus/prometheusClient';
import { PrometheusSource } from '../../../src/infra/prometheus/prometheusSource';

/**
 * Prometheus API answers (the `/api/v1/label/__name__/values` list and the instant vectors) with the metric names
 * and label sets each stack exports under its usual scrape configuration; see each file's `comment`.
 */
interface StackAnswers {
  readonly comment: string;
  readonly labelValues: { readonly status: string; readonly data: string[] };
  readonly responses: Record<string, InstantVectorSample[]>;
  /** Answers to the kube_pod_owner / kube_replicaset_owner queries. */
  readonly owners?: { readonly pods: InstantVectorSample[]; readonly replicaSets: InstantVectorSample[] };
}

function load(stack: string): StackAnswers {
  return JSON.parse(readFileSync(path.join(__dirname, 'stacks', `${stack}.json`), 'utf8')) as StackAnswers;
}

const T = 1765011600_000;
const PODS: Record<string, string> = { 'cart-6d8f9c7b5-x7k2p': 'cart', 'cart-6d8f9c7b5-q9w4z': 'cart' };
const resolvePod = (ns: string, pod: string): TargetRef | undefined => (ns === 'shop' && PODS[pod] ? { kind: 'service', namespace: ns, name: PODS[pod] } : undefined);

/** A PrometheusClient answering from a stack's answers; the label-values call honours its match[] regex. */
class AnsweringPrometheus {
  readonly url = 'http://prometheus.monitoring:9090';
  readonly discoveryMatches: string[][] = [];
  readonly queries: string[] = [];
  source!: PrometheusSource;
  constructor(public answers: StackAnswers) {}

  async labelValues(label: string, match: ReadonlyArray<string> = []): Promise<string[]> {
    assert.equal(label, '__name__');
    this.discoveryMatches.push([...match]);
    const re = /^\{__name__=~"(.*)"\}$/.exec(match[0] ?? '');
    assert.ok(re, `discovery asks with a name regex, got ${match[0]}`);
    const rx = new RegExp(`^(?:${re[1]})$`);
    return this.answers.labelValues.data.filter((n) => rx.test(n));
  }

  async instant(query: string): Promise<InstantVectorSample[]> {
    this.queries.push(query);
    if (query.includes('kube_pod_owner')) return this.answers.owners?.pods ?? [];
    if (query.includes('kube_replicaset_owner')) return this.answers.owners?.replicaSets ?? [];
    const q = this.source.queries.find((x) => x.query === query);
    assert.ok(q, `query not among the source's: ${query}`);
    const key = `${q.signal.startsWith('latency_') ? 'latency' : q.signal}/${q.kind}`;
    return this.answers.responses[key] ?? [];
  }

  async series(): Promise<Array<Record<string, string>>> {
    return [];
  }
}

async function run(stack: string | StackAnswers, extra: Partial<ConstructorParameters<typeof PrometheusSource>[0]> = {}) {
  const answers = typeof stack === 'string' ? load(stack) : stack;
  const client = new AnsweringPrometheus(answers);
  const clock = new VirtualClock(T);
  const source = new PrometheusSource({ client: client as unknown as PrometheusClient, clock, intervalMs: 15_000, resolvePod, ...extra });
  client.source = source;
  const statuses: SourceStatus[] = [];
  source.onStatus((s) => statuses.push(s));
  const frames: SampleFrame[] = [];
  source.subscribe((f) => frames.push(...f));
  await clock.advance(5_000);
  source.dispose();
  const stackOf = (signal: string, kind = 'service') => source.choices.find((c) => c.signal === signal && c.kind === kind);
  const cart = frames.find((f) => f.target.kind === 'service' && f.target.name === 'cart');
  return { client, source, statuses, frames, cart, stackOf, status: statuses[statuses.length - 1] };
}

describe('default signals chosen by what the Prometheus has, per stack', () => {
  it('asks only for the candidate metric names', async () => {
    const { client } = await run('spring');
    assert.equal(client.discoveryMatches.length, 1);
    const names = /^\{__name__=~"(.*)"\}$/.exec(client.discoveryMatches[0][0])![1].split('|');
    assert.deepEqual(names, candidateMetricNames());
    assert.ok(!names.includes('up') && names.includes('kube_pod_container_status_restarts_total'));
  });

  it('Spring Boot under kube-prometheus-stack: Micrometer RED metrics, cAdvisor CPU and memory without the pause container, kube-state-metrics restarts; no deployment label needed', async () => {
    const { source, cart, stackOf, status } = await run('spring');
    assert.equal(stackOf('request_rate')?.metric, 'http_server_requests_seconds_count');
    assert.equal(stackOf('latency_p99')?.metric, 'http_server_requests_seconds_bucket');
    assert.equal(stackOf('cpu')?.stack, 'kube-prometheus-stack (cAdvisor)');
    assert.equal(stackOf('memory')?.metric, 'container_memory_working_set_bytes');
    assert.equal(stackOf('restarts')?.stack, 'kube-state-metrics');
    const cpu = source.queries.find((q) => q.signal === 'cpu' && q.kind === 'service')!.query;
    assert.match(cpu, /container_cpu_usage_seconds_total\{container!="",container!="POD"\}/);
    assert.match(source.queries.find((q) => q.signal === 'error_ratio')!.query, /http_server_requests_seconds_count\{status=~"5\.\."\}/);
    assert.ok(cart, 'cart has a frame');
    assert.equal(cart.values.request_rate, 100);
    assert.equal(cart.values.error_ratio, 0.04);
    assert.equal(cart.values.cpu, 0.2);
    assert.equal(cart.values.memory, 280e6);
    assert.equal(cart.values.restarts, 3);
    assert.equal(cart.values.available_replicas, 2);
    // 80 requests/s in total, 60 under 0.05 s, 72 under 0.1: the median lies in the first bucket (40/60 of 0.05)
    assert.ok(Math.abs(cart.values.latency_p50! - (0.05 * 40) / 60) < 1e-12, String(cart.values.latency_p50));
    assert.equal(status.state, 'ok', status.message);
  });

  it('ingress-nginx: the backend Service and exported_namespace name the workload; quantiles computed in PromQL', async () => {
    const { source, cart, stackOf, status } = await run('ingress-nginx');
    assert.equal(stackOf('request_rate')?.stack, 'ingress-nginx');
    assert.equal(stackOf('latency_p95')?.metric, 'nginx_ingress_controller_request_duration_seconds_bucket');
    const rate = source.queries.find((q) => q.signal === 'request_rate')!.query;
    assert.match(rate, /label_replace\(label_replace\(sum by \(namespace, exported_namespace, service\) \(rate\(nginx_ingress_controller_requests\{\}\[60s\]\)\), "namespace", "\$1", "exported_namespace", "\(\.\+\)"\), "deployment", "\$1", "service", "\(\.\+\)"\)/);
    assert.match(source.queries.find((q) => q.signal === 'latency_p95')!.query, /^label_replace\(label_replace\(histogram_quantile\(0\.95, sum by \(namespace, exported_namespace, service, le\)/);
    assert.deepEqual([cart?.values.request_rate, cart?.values.error_ratio, cart?.values.latency_p95], [100, 0.1, 0.25]);
    assert.equal(status.state, 'ok', status.message);
  });

  it('Linkerd: response_total and response_latency_ms (ms → s); without kube-state-metrics the status is degraded and names the missing signals with a signals-file entry', async () => {
    const { source, cart, stackOf, status } = await run('linkerd');
    assert.equal(stackOf('request_rate')?.stack, 'Linkerd');
    assert.match(source.queries.find((q) => q.signal === 'request_rate')!.query, /response_total\{direction="inbound"\}/);
    assert.match(source.queries.find((q) => q.signal === 'error_ratio')!.query, /classification="failure"/);
    assert.match(source.queries.find((q) => q.signal === 'latency_p99')!.query, /histogram_quantile\(0\.99, sum by \(namespace, deployment, le\) \(rate\(response_latency_ms_bucket\{direction="inbound"\}\[60s\]\)\)\) \/ 1000/);
    assert.deepEqual([cart?.values.request_rate, cart?.values.error_ratio, cart?.values.latency_p50], [12, 0.25, 0.031]);
    assert.equal(stackOf('cpu')?.metric, 'process_cpu_seconds_total');
    assert.equal(cart?.values.cpu, 0.03);
    assert.equal(stackOf('restarts')?.status, 'missing');
    assert.equal(status.state, 'degraded');
    assert.match(status.message, /signal restarts \(service\): no metric found \(looked for kube_pod_container_status_restarts_total\); put its PromQL in the signals file \(prometheus\.signalsFile\), e\.g\. - signal: restarts kind: service query: 'sum by \(namespace, deployment, pod\) \(increase\(YOUR_KUBE_POD_CONTAINER_STATUS_RESTARTS_TOTAL/);
    assert.match(status.message, /signal available_replicas \(service\): no metric found/);
    // the node queries found process metrics, but no series carries a node label: not "ok" either
    assert.match(status.message, /signal cpu \(node\): process_cpu_seconds_total matched no series/);
  });

  it('OpenTelemetry before Istio for the app\'s own RED metrics, Istio when it is the only one', async () => {
    const { stackOf, cart } = await run('opentelemetry-istio');
    assert.equal(stackOf('request_rate')?.stack, 'OpenTelemetry');
    assert.equal(stackOf('latency_p50')?.metric, 'http_server_request_duration_seconds_bucket');
    assert.deepEqual([cart?.values.request_rate, cart?.values.error_ratio], [10, 0.1]);
    const istioOnly = chooseSignalQueries(new Set(['istio_requests_total', 'istio_request_duration_milliseconds_bucket']));
    const rate = istioOnly.choices.find((c) => c.signal === 'request_rate')!;
    assert.equal(rate.stack, 'Istio');
    const p99 = istioOnly.queries.find((q) => q.signal === 'latency_p99')!.query;
    assert.match(p99, /istio_request_duration_milliseconds_bucket\{reporter="destination"\}/);
    assert.match(p99, /\)\) \/ 1000, "namespace", "\$1", "destination_workload_namespace", "\(\.\+\)"\), "deployment", "\$1", "destination_workload"/);
  });

  it('never ok while a default signal matches only pods Vigil cannot place', async () => {
    const answers = load('spring');
    const { status, frames } = await run(answers, { resolvePod: () => undefined });
    assert.equal(frames.filter((f) => f.target.kind === 'service' && f.values.request_rate !== undefined).length, 0);
    assert.equal(status.state, 'degraded');
    assert.match(status.message, /signal request_rate \(service\): http_server_requests_seconds_count 2 series name no workload Vigil knows/);
  });

  it('places pods the informers never listed by kube-state-metrics\' kube_pod_owner and kube_replicaset_owner (last hour)', async () => {
    const base = load('spring');
    const at = (metric: Record<string, string>): InstantVectorSample => ({ metric, value: [T / 1000, '1'] });
    const answers: StackAnswers = {
      ...base,
      responses: { ...base.responses, 'request_rate/service': [...base.responses['request_rate/service'], { metric: { namespace: 'shop', pod: 'db-0' }, value: [T / 1000, '7'] }] },
      owners: {
        pods: [
          at({ namespace: 'shop', pod: 'cart-6d8f9c7b5-x7k2p', owner_kind: 'ReplicaSet', owner_name: 'cart-6d8f9c7b5' }),
          at({ namespace: 'shop', pod: 'cart-6d8f9c7b5-q9w4z', owner_kind: 'ReplicaSet', owner_name: 'cart-6d8f9c7b5' }),
          at({ namespace: 'shop', pod: 'db-0', owner_kind: 'StatefulSet', owner_name: 'db' }),
        ],
        replicaSets: [at({ namespace: 'shop', replicaset: 'cart-6d8f9c7b5', owner_kind: 'Deployment', owner_name: 'cart' })],
      },
    };
    const { client, frames, status } = await run(answers, { resolvePod: () => undefined });
    assert.ok(client.queries.some((q) => q === 'max by (namespace, pod, owner_kind, owner_name) (last_over_time(kube_pod_owner{owner_kind!="<none>",owner_kind!=""}[1h]))'), client.queries.join('\n'));
    const rate = (name: string) => frames.find((f) => f.target.kind === 'service' && f.target.name === name)?.values.request_rate;
    assert.equal(rate('cart'), 100);
    assert.equal(rate('db'), 7);
    assert.equal(status.state, 'ok', status.message);
  });

  it('keeps a configured query as it is and reports it as configured; discovery runs again every interval in the first two minutes and every minute after while a signal has no metric, then every 10 minutes', async () => {
    const answers = load('linkerd');
    const configured = applyQueryOverrides(DEFAULT_SIGNAL_QUERIES, { restarts: 'sum by (namespace, deployment) (increase(my_restarts_total[{{window}}]))' });
    const client = new AnsweringPrometheus(answers);
    const clock = new VirtualClock(T);
    const source = new PrometheusSource({ client: client as unknown as PrometheusClient, clock, intervalMs: 15_000, resolvePod, queries: configured });
    client.source = source;
    const sub = source.subscribe(() => undefined);
    await clock.advance(5_000);
    assert.deepEqual(source.choices.find((c) => c.signal === 'restarts'), { signal: 'restarts', kind: 'service', status: 'configured', metric: 'my_restarts_total' });
    assert.equal(source.choices.find((c) => c.signal === 'available_replicas')?.status, 'missing');
    assert.equal(client.discoveryMatches.length, 1);
    await clock.advance(15_000);
    assert.equal(client.discoveryMatches.length, 2, 'in the first two minutes (a Prometheus that has not scraped yet): again at the next interval');
    await clock.advance(2 * 60_000 + 15_000);
    const afterEarly = client.discoveryMatches.length;
    assert.ok(afterEarly >= 8, `every interval in the first two minutes: ${afterEarly}`);
    await clock.advance(60_000);
    assert.equal(client.discoveryMatches.length, afterEarly + 1, 'then once a minute (not every interval) while available_replicas has no metric');
    const data = [...answers.labelValues.data, 'kube_deployment_status_replicas_available', 'container_cpu_usage_seconds_total', 'container_memory_working_set_bytes'];
    client.answers = { ...answers, labelValues: { ...answers.labelValues, data }, responses: { ...answers.responses, 'cpu/node': load('spring').responses['cpu/node'], 'memory/node': load('spring').responses['memory/node'] } };
    await clock.advance(60_000);
    assert.equal(client.discoveryMatches.length, afterEarly + 2);
    assert.equal(source.choices.find((c) => c.signal === 'available_replicas')?.status, 'found');
    assert.ok(source.choices.every((c) => c.status !== 'missing'), JSON.stringify(source.choices));
    await clock.advance(9 * 60_000);
    assert.equal(client.discoveryMatches.length, afterEarly + 2, 'every signal has a metric: not again before 10 minutes');
    await clock.advance(2 * 60_000);
    assert.equal(client.discoveryMatches.length, afterEarly + 3);
    sub.dispose();
    source.dispose();
  });

  it('every candidate reads the metric it is chosen by', () => {
    for (const c of SIGNAL_CANDIDATES) assert.ok(c.query.query.includes(c.metric), `${c.stack} ${c.query.signal}: ${c.metric}`);
  });
});
