import assert from 'node:assert/strict';
import { applyQueryOverrides, DEFAULT_SIGNAL_QUERIES, renderQuery } from '../../../src/core/observe/signalCatalogue';
import { metricNames } from '../../../src/core/observe/metricDiscovery';
import { prometheusAuthFromEnv } from '../../../src/infra/prometheus/prometheusClient';

describe('Prometheus queries and credentials', () => {
  it('finds the metric names the default queries read', () => {
    const rendered = DEFAULT_SIGNAL_QUERIES.map((q) => renderQuery(q.query, '60s', ['shop']));
    assert.deepEqual(metricNames(rendered), ['http_request_duration_seconds_bucket', 'http_requests_total', 'kube_deployment_status_replicas_available', 'kube_pod_container_status_restarts_total', 'process_cpu_seconds_total', 'process_resident_memory_bytes']);
    assert.deepEqual(metricNames(['sum(rate(foo_total[5m])) / on() bar{job="a{b"}']), ['bar', 'foo_total']);
  });

  it('applies settings overrides keyed by signal or signal/kind, naming bad keys', () => {
    const q = applyQueryOverrides(DEFAULT_SIGNAL_QUERIES, { memory: 'sum by (namespace, deployment) (container_memory_working_set_bytes)', 'cpu/node': 'sum by (node) (rate(node_cpu_seconds_total{mode!="idle"}[{{window}}]))' });
    assert.match(q.find((x) => x.signal === 'memory' && x.kind === 'service')!.query, /container_memory_working_set_bytes/);
    assert.match(q.find((x) => x.signal === 'cpu' && x.kind === 'node')!.query, /node_cpu_seconds_total/);
    assert.equal(q.find((x) => x.signal === 'cpu' && x.kind === 'service')!.query, DEFAULT_SIGNAL_QUERIES.find((x) => x.signal === 'cpu' && x.kind === 'service')!.query);
    assert.throws(() => applyQueryOverrides(DEFAULT_SIGNAL_QUERIES, { 'cpu/cluster': 'x' }, 'vigil.prometheus.signalQueries'), /vigil\.prometheus\.signalQueries: signals\[0\]\.kind: "cluster" must be service, pod or node/);
  });

  it('reads credentials from the environment and names malformed headers', () => {
    assert.equal(prometheusAuthFromEnv({}), undefined);
    assert.deepEqual(prometheusAuthFromEnv({ VIGIL_PROMETHEUS_TOKEN: ' abc ' }), { bearerToken: 'abc', basic: undefined, headers: undefined });
    assert.deepEqual(prometheusAuthFromEnv({ VIGIL_PROMETHEUS_USERNAME: 'u', VIGIL_PROMETHEUS_PASSWORD: 'p', VIGIL_PROMETHEUS_HEADERS: '{"X-Scope-OrgID":"t"}' }), { bearerToken: undefined, basic: { username: 'u', password: 'p' }, headers: { 'X-Scope-OrgID': 't' } });
    assert.throws(() => prometheusAuthFromEnv({ VIGIL_PROMETHEUS_HEADERS: '[1]' }), /VIGIL_PROMETHEUS_HEADERS must be a JSON object/);
  });
});
