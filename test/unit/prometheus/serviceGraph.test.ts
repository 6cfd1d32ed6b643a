import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DependencyGraph } from '../../../src/core/diagnose/dependencyGraph';
import { InferredCalls } from '../../../src/core/loop/inferredCalls';
import { VirtualClock } from '../../../src/core/loop/virtualClock';
import type { ObservedCall } from '../../../src/core/model/serviceCall';
import { CALL_QUERIES, callsFromSeries } from '../../../src/core/observe/serviceGraphQueries';
import type { ServiceGraphPort, WorkloadInventory } from '../../../src/core/ports';
import type { InstantVectorSample, PrometheusClient } from '../../../src/infra/prometheus/prometheusClient';
import { PrometheusServiceGraph } from '../../../src/infra/prometheus/serviceGraph';
import { MemoryLogger } from '../../fakes/nullLogger';
import { shopInventory, svc } from '../../fixtures/correlation/scenario';

type Recorded = Record<'istio' | 'linkerd' | 'tracing', InstantVectorSample[]>;
const recorded = JSON.parse(readFileSync(path.join(__dirname, 'stacks', 'service-graph.json'), 'utf8')) as Recorded & { comment: string };

/** A PrometheusClient that answers each service-graph query with its recorded vector, by the metric it names. */
function recordedClient(answers: Partial<Recorded>, queries: string[] = []): PrometheusClient {
  return {
    url: 'http://prometheus.monitoring:9090',
    instant: async (q: string) => {
      queries.push(q);
      if (q.includes('istio_requests_total')) return answers.istio ?? [];
      if (q.includes('response_total')) return answers.linkerd ?? [];
      if (q.includes('traces_service_graph_request_total')) return answers.tracing ?? [];
      throw new Error(`unexpected query ${q}`);
    },
  } as unknown as PrometheusClient;
}

const edge = (c: ObservedCall) => `${c.caller.namespace}/${c.caller.name} -> ${c.callee.namespace}/${c.callee.name} (${c.source})`;

describe('the service graph inferred from mesh and trace-derived metrics', () => {
  const inventory = shopInventory();

  it('reads Istio source → destination workloads; a caller outside the mesh ("unknown") and a callee outside the inventory are left out', () => {
    const q = CALL_QUERIES.find((x) => x.source === 'istio')!;
    const r = callsFromSeries(q, recorded.istio.map((v) => ({ metric: v.metric, value: Number(v.value[1]) })), inventory);
    assert.deepEqual(r.calls.map(edge), ['shop/frontend -> shop/checkout (istio)', 'shop/checkout -> payments/payments-api (istio)']);
    assert.equal(r.calls[0].perSecond, 41.2);
    assert.deepEqual(r.unresolved, []);
  });

  it('reads Linkerd outbound responses by deployment → dst_deployment', () => {
    const q = CALL_QUERIES.find((x) => x.source === 'linkerd')!;
    const r = callsFromSeries(q, recorded.linkerd.map((v) => ({ metric: v.metric, value: Number(v.value[1]) })), inventory);
    assert.deepEqual(r.calls.map(edge), ['shop/frontend -> shop/cart (linkerd)', 'shop/orders -> payments/payments-api (linkerd)']);
  });

  it('resolves trace service names without a namespace only when one workload has the name, and says which it could not', () => {
    const q = CALL_QUERIES.find((x) => x.source === 'tracing')!;
    const twoCheckouts: WorkloadInventory = { ...inventory, services: [...inventory.services, { ...inventory.services.find((s) => s.target.name === 'checkout')!, target: svc('staging', 'checkout') }] };
    const series = recorded.tracing.map((v) => ({ metric: v.metric, value: Number(v.value[1]) }));
    const one = callsFromSeries(q, series, inventory);
    // redis is not a workload of the inventory: no edge, and no complaint (external or unwatched)
    assert.deepEqual(one.calls.map(edge), ['shop/frontend -> shop/search (tracing)', 'shop/frontend -> shop/checkout (tracing)', 'shop/orders -> shop/checkout (tracing)']);
    const two = callsFromSeries(q, series, twoCheckouts);
    // with two workloads named checkout, the bare name is not guessed; the series with namespace dimensions still resolves
    assert.deepEqual(two.calls.map(edge), ['shop/frontend -> shop/search (tracing)', 'shop/orders -> shop/checkout (tracing)']);
    assert.deepEqual(two.unresolved, ['checkout (tracing: 2 workloads have this name; add the namespace as a dimension)']);
  });

  it('asks Prometheus one instant query per source over a 10-minute window, and joins their answers', async () => {
    const queries: string[] = [];
    const port = new PrometheusServiceGraph(recordedClient(recorded, queries));
    const r = await port.calls(1765011600_000, inventory);
    assert.equal(queries.length, 3);
    for (const q of queries) assert.match(q, /\[10m\]\)\) > 0$/);
    assert.equal(r.calls.length, 7);
    assert.equal(port.description, 'service graph from Prometheus at http://prometheus.monitoring:9090');
  });

  it('a stack without any of the metrics answers empty vectors: no edge, no error', async () => {
    const r = await new PrometheusServiceGraph(recordedClient({})).calls(0, inventory);
    assert.deepEqual(r, { calls: [], unresolved: [] });
  });
});

describe('DependencyGraph with observed calls', () => {
  it('is the union of annotations and telemetry, each edge with where it came from, and keeps observed edges across inventory updates', () => {
    const g = DependencyGraph.fromInventory(shopInventory());
    g.setObservedCalls([
      { caller: svc('shop', 'checkout'), callee: svc('payments', 'payments-api'), source: 'istio', perSecond: 12 },
      { caller: svc('shop', 'cart'), callee: svc('shop', 'search'), source: 'tracing', perSecond: 3 },
    ]);
    assert.deepEqual(g.sourcesOf('service:shop/checkout', 'service:payments/payments-api'), ['annotation', 'istio']);
    assert.deepEqual(g.sourcesOf('service:shop/cart', 'service:shop/search'), ['tracing']);
    assert.deepEqual(g.callers('service:shop/search'), ['service:shop/cart', 'service:shop/frontend']);
    g.applyInventory(shopInventory(), 60_000);
    assert.deepEqual(g.callees('service:shop/cart'), ['service:shop/search'], 'an inventory update keeps the observed edge');
    assert.deepEqual(g.sourcesOf('service:shop/cart', 'service:shop/search'), ['tracing']);
    g.setObservedCalls([]);
    g.applyInventory(shopInventory(), 120_000);
    assert.deepEqual(g.callees('service:shop/cart'), []);
    assert.deepEqual(g.sourcesOf('service:shop/checkout', 'service:payments/payments-api'), ['annotation']);
  });
});

describe('InferredCalls', () => {
  const cart = svc('shop', 'cart');
  const search = svc('shop', 'search');
  const call: ObservedCall = { caller: cart, callee: search, source: 'istio', perSecond: 5 };

  function rig(answers: Array<ObservedCall[] | Error>, inventory: () => WorkloadInventory = () => shopInventory()) {
    const clock = new VirtualClock(0);
    const logger = new MemoryLogger();
    const applied: Array<ReadonlyArray<ObservedCall>> = [];
    let reads = 0;
    const source: ServiceGraphPort = {
      description: 'service graph from Prometheus at http://prom:9090',
      calls: async () => {
        const a = answers[Math.min(reads++, answers.length - 1)];
        if (a instanceof Error) throw a;
        return { calls: a, unresolved: [] };
      },
    };
    const inferred = new InferredCalls({ clock, logger, source, inventory, apply: (c) => applied.push(c), everyMs: 10 * 60_000, keepMs: 60 * 60_000 });
    return { clock, logger, applied, inferred, reads: () => reads };
  }

  it('keeps an edge for keepMs after it was last seen (a callee that stops answering during an outage keeps its callers)', async () => {
    const r = rig([[call], [], []]);
    await r.inferred.refresh();
    assert.deepEqual(r.applied.at(-1)?.map(edge), ['shop/cart -> shop/search (istio)']);
    await r.clock.advanceTo(30 * 60_000);
    await r.inferred.refresh();
    assert.deepEqual(r.applied.at(-1)?.map(edge), ['shop/cart -> shop/search (istio)'], 'not seen for 30 min: still kept');
    await r.clock.advanceTo(61 * 60_000);
    await r.inferred.refresh();
    assert.deepEqual(r.applied.at(-1), [], 'not seen for over an hour: dropped');
  });

  it('a failed read is one warning per cause and keeps the edges it has', async () => {
    const r = rig([[call], new Error('HTTP 503'), new Error('HTTP 503'), new Error('connection refused')]);
    await r.inferred.refresh();
    await r.inferred.refresh();
    await r.inferred.refresh();
    await r.inferred.refresh();
    const warnings = r.logger.lines.filter((l) => l.level === 'warn').map((l) => l.message);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0], /could not read service graph from Prometheus at http:\/\/prom:9090: HTTP 503; diagnosis uses the edges it has/);
    assert.deepEqual(r.applied.at(-1)?.map(edge), ['shop/cart -> shop/search (istio)']);
  });

  it('reads again after 30 s, not 10 min, while the inventory is still empty or, in the first 10 min, nothing is seen', async () => {
    let inv: WorkloadInventory = { services: [], nodes: [] };
    const r = rig([[], [call]], () => inv);
    r.inferred.start();
    await r.clock.advanceTo(r.clock.now() + 1);
    assert.equal(r.reads(), 1);
    inv = shopInventory();
    await r.clock.advanceTo(r.clock.now() + 30_000);
    assert.equal(r.reads(), 2);
    assert.deepEqual(r.applied.at(-1)?.map(edge), ['shop/cart -> shop/search (istio)']);
    await r.clock.advanceTo(r.clock.now() + 30_000);
    assert.equal(r.reads(), 2, 'with an inventory, the next read is 10 minutes later');
    await r.clock.advanceTo(r.clock.now() + 10 * 60_000);
    assert.equal(r.reads(), 3);
    r.inferred.dispose();
    // an inventory but no calls yet (Prometheus has not scraped twice): every 30 s for the first 10 minutes, then every 10
    const quiet = rig([[]]);
    quiet.inferred.start();
    await quiet.clock.advanceTo(9 * 60_000 + 1);
    assert.equal(quiet.reads(), 19);
    await quiet.clock.advanceTo(30 * 60_000);
    assert.equal(quiet.reads(), 23, 'after the first 10 minutes with nothing seen, every 10 minutes: at 20 and 30 min');
    quiet.inferred.dispose();
  });
});
