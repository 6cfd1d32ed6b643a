import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ObservedCall } from '../../../src/core/model/serviceCall';
import { PrometheusClient } from '../../../src/infra/prometheus/prometheusClient';
import { prometheusUnavailable, startPrometheus, type PrometheusProcess } from '../../../src/infra/prometheus/prometheusLauncher';
import { PrometheusServiceGraph } from '../../../src/infra/prometheus/serviceGraph';
import { shopInventory } from '../../fixtures/correlation/scenario';
import { waitFor } from '../sandbox/sandboxProcess';

/**
 * The service-graph queries against a real Prometheus: an exporter serves, with counters that grow at each scrape,
 * the three shapes Vigil reads calls from — Istio's `istio_requests_total` as a sidecar reports it (both reporters,
 * one caller outside the mesh), Linkerd's proxy `response_total` (inbound and outbound) and Tempo's
 * `traces_service_graph_request_total`. Only what rate() over real scrapes gives back becomes an edge. The sandbox's
 * Istio shape with no depends-on declared, diagnosed from the inferred calls: kubePrometheusNames.test.ts.
 */
describe('the service graph inferred from mesh and trace metrics (real Prometheus)', function () {
  this.timeout(120_000);
  let server: http.Server;
  let prom: PrometheusProcess | undefined;
  let scrapes = 0;

  const series = [
    // Istio: each call is reported by the source and the destination sidecar
    ...['source', 'destination'].map((reporter) => `istio_requests_total{reporter="${reporter}",source_workload="frontend",source_workload_namespace="shop",destination_workload="checkout",destination_workload_namespace="shop",response_code="200"}`),
    'istio_requests_total{reporter="destination",source_workload="unknown",source_workload_namespace="unknown",destination_workload="frontend",destination_workload_namespace="shop",response_code="200"}',
    'istio_requests_total{reporter="source",source_workload="checkout",source_workload_namespace="shop",destination_workload="payments-api",destination_workload_namespace="payments",response_code="503"}',
    // Linkerd: outbound from the caller's proxy names the destination; inbound does not count as a call made
    'response_total{direction="outbound",namespace="shop",deployment="frontend",dst_namespace="shop",dst_deployment="cart",classification="success"}',
    'response_total{direction="inbound",namespace="shop",deployment="cart",classification="success"}',
    // Tempo's metrics generator: service.name values, no namespace
    'traces_service_graph_request_total{client="frontend",server="search",connection_type=""}',
  ];
  /** A counter that has not moved in the window is no call: this one stays at 7. */
  const idle = 'traces_service_graph_request_total{client="orders",server="checkout",connection_type=""}';

  before(async () => {
    const missing = prometheusUnavailable();
    if (missing) throw new Error(missing);
    server = http.createServer((_req, res) => {
      scrapes++;
      const lines = ['# TYPE istio_requests_total counter', '# TYPE response_total counter', '# TYPE traces_service_graph_request_total counter'];
      for (const s of series) lines.push(`${s} ${scrapes * 10}`);
      lines.push(`${idle} 7`);
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(lines.join('\n') + '\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    prom = await startPrometheus({ targets: [{ target: `127.0.0.1:${port}`, jobName: 'mesh' }], scrapeIntervalSeconds: 1 });
  });
  after(async () => {
    await prom?.stop();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
  });

  it('turns what Prometheus has into calls between workloads of the inventory, each with its source', async () => {
    const graph = new PrometheusServiceGraph(new PrometheusClient({ url: prom!.url }));
    const edge = (c: ObservedCall) => `${c.caller.namespace}/${c.caller.name} -> ${c.callee.namespace}/${c.callee.name} (${c.source})`;
    // rate() needs two scrapes of a series in the window; a loaded machine may take a while for the first ones
    const reading = await waitFor('calls from all three sources', async () => {
      const r = await graph.calls(Date.now(), shopInventory());
      return new Set(r.calls.map((c) => c.source)).size === 3 ? r : undefined;
    }, 60_000, 1000);
    assert.deepEqual(reading.calls.map(edge).sort(), [
      'shop/checkout -> payments/payments-api (istio)',
      'shop/frontend -> shop/cart (linkerd)',
      'shop/frontend -> shop/checkout (istio)',
      'shop/frontend -> shop/search (tracing)',
    ]);
    assert.deepEqual(reading.unresolved, []);
    for (const c of reading.calls) assert.ok(c.perSecond > 0, `${edge(c)} has a rate`);
    // both Istio reporters of the same call are one edge, at their summed rate
    const checkout = reading.calls.find((c) => c.callee.name === 'checkout')!;
    const cart = reading.calls.find((c) => c.callee.name === 'cart')!;
    assert.ok(checkout.perSecond > 1.5 * cart.perSecond, `two reporters summed: ${checkout.perSecond} vs one ${cart.perSecond}`);
  });
});

