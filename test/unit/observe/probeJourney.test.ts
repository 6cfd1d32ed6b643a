import assert from 'node:assert/strict';
import { VirtualClock } from '../../../src/core/loop/virtualClock';
import type { SampleFrame } from '../../../src/core/model/signal';
import { PROBE_STEP_DEFAULTS, probeJourneys } from '../../../src/core/observe/probeSpec';
import type { ProbeSettings, ProbeStepSettings } from '../../../src/core/settings';
import { ProbeSource, runJourney, type ProbeTransport } from '../../../src/infra/probes/httpProbe';
import { KubeRequestError } from '../../../src/infra/kubernetes/kubeClient';

type Answer = { status: number; body: string } | Error;

/** A KubeConnection that answers service-proxy requests from a table, and records them. */
function fakeConn(answer: (method: string, path: string, body?: string) => Answer): ProbeTransport & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    conn: {
      server: 'https://api.test:6443',
      async request(method, path, o) {
        calls.push(`${method} ${path}${o?.body ? ` ${o.body}` : ''}`);
        const a = answer(method, path, o?.body);
        if (a instanceof Error) throw a;
        return a;
      },
    },
  };
}

const step = (name: string, service: string, path: string, over: Partial<ProbeStepSettings> = {}): ProbeStepSettings => ({ ...PROBE_STEP_DEFAULTS, name, service, path, ...over });
const shop = (over: Partial<ProbeSettings> = {}): ProbeSettings => ({
  name: 'shop journey',
  target: 'shop/frontend',
  intervalSeconds: 1,
  timeoutMs: 1000,
  steps: [
    step('list products', 'shop/frontend:8080', '/products', { expectBody: '"products"' }),
    step('add to cart', 'shop/cart:8080', '/cart', { method: 'POST', body: '{"productId":"p1","quantity":1}', expectStatus: [200, 201] }),
    step('check out', 'shop/checkout:8080', '/checkout', { method: 'POST', body: '{}', expectBody: '"orderId"' }),
  ],
  ...over,
});
const journey = (over: Partial<ProbeSettings> = {}) => probeJourneys([shop(over)])[0];
const healthy = (_m: string, path: string): Answer => (path.includes('/products') ? { status: 200, body: '{"products":[{"id":"p1"}]}' } : path.includes('/cart') ? { status: 201, body: '{"items":1}' } : { status: 200, body: '{"orderId":"o-1"}' });

describe('probe journeys: running the steps', () => {
  it('runs every step in order through the service proxy and passes', async () => {
    const t = fakeConn(healthy);
    const run = await runJourney(journey(), t, () => 42);
    assert.equal(run.success, true, run.reason);
    assert.equal(run.t, 42);
    assert.deepEqual(t.calls, [
      'GET /api/v1/namespaces/shop/services/frontend:8080/proxy/products',
      'POST /api/v1/namespaces/shop/services/cart:8080/proxy/cart {"productId":"p1","quantity":1}',
      'POST /api/v1/namespaces/shop/services/checkout:8080/proxy/checkout {}',
    ]);
  });

  it('stops at the first failing step and names it: status, with what the service said', async () => {
    const t = fakeConn((m, p) => (p.includes('/cart') ? { status: 503, body: '{"message":"no endpoints available for service \\"cart\\""}' } : healthy(m, p)));
    const run = await runJourney(journey(), t);
    assert.equal(run.success, false);
    assert.equal(run.failedStep, 'add to cart');
    assert.equal(run.reason, 'step "add to cart": POST shop/cart:8080/cart answered 503, expected 200 or 201: {"message":"no endpoints available for service \\"cart\\""}');
    assert.equal(t.calls.length, 2, 'check out never ran');
  });

  it('fails on a body not matching expectBody', async () => {
    const t = fakeConn((m, p) => (p.includes('/checkout') ? { status: 200, body: '{"error":"payment declined"}' } : healthy(m, p)));
    const run = await runJourney(journey(), t);
    assert.equal(run.failedStep, 'check out');
    assert.equal(run.reason, 'step "check out": POST shop/checkout:8080/checkout answered 200 without /"orderId"/ in the body: {"error":"payment declined"}');
  });

  it('fails on an answer over the latency budget', async () => {
    const slow: ProbeTransport = {
      conn: {
        server: 'https://api.test:6443',
        request: (m, p) => new Promise((resolve) => setTimeout(() => resolve(healthy(m, p) as { status: number; body: string }), p.includes('/products') ? 60 : 0)),
      },
    };
    const run = await runJourney(journey({ steps: [step('list products', 'shop/frontend:8080', '/products', { latencyBudgetMs: 20 })] }), slow);
    assert.equal(run.failedStep, 'list products');
    assert.match(run.reason!, /^step "list products": GET shop\/frontend:8080\/products took \d+ ms, over the 20 ms budget$/);
    assert.ok(run.latencyMs >= 50, `latency ${run.latencyMs}`);
  });

  it('fails when no answer comes, and without a cluster connection', async () => {
    const down = fakeConn(() => new KubeRequestError('POST /api/v1/namespaces/shop/services/cart:8080/proxy/cart on https://api.test:6443: no answer within 1000 ms'));
    const run = await runJourney(journey(), down);
    assert.match(run.reason!, /^step "list products": GET shop\/frontend:8080\/products got no answer: .*no answer within 1000 ms$/);
    const none = await runJourney(journey(), {});
    assert.equal(none.reason, 'step "list products": GET shop/frontend:8080/products got no answer: no cluster connection to reach the service proxy');
  });
});

describe('probe source: frames and results', () => {
  it('reports probe_success of the target (1 only while all its probes pass) and keeps the runs', async () => {
    const clock = new VirtualClock(Date.UTC(2026, 0, 1));
    let cartDown = false;
    const t = fakeConn((m, p) => (cartDown && p.includes('/cart') ? { status: 502, body: 'bad gateway' } : healthy(m, p)));
    const journeys = probeJourneys([shop(), { ...shop({ name: 'home page' }), steps: [step('home', 'shop/frontend:8080', '/products')] }]);
    const source = new ProbeSource(journeys, { clock, intervalMs: 1000, ...t });
    const frames: SampleFrame[] = [];
    const sub = source.subscribe((f) => frames.push(...f));
    try {
      await clock.advance(3000);
      assert.ok(frames.length >= 2, `${frames.length} frames`);
      assert.ok(frames.every((f) => f.target.name === 'frontend' && f.values.probe_success === 1 && f.values.probe_latency! >= 0));
      assert.equal(new Set(frames.map((f) => f.t)).size, frames.length, 'one frame per target per interval');
      cartDown = true;
      await clock.advance(3000);
      assert.equal(frames.at(-1)?.values.probe_success, 0, 'one failing probe makes the target fail');
      assert.equal(source.latest('home page')?.success, true);
      assert.equal(source.latest('shop journey')?.failedStep, 'add to cart');
      assert.deepEqual(source.targetOf('shop journey'), { kind: 'service', namespace: 'shop', name: 'frontend' });
      const recent = source.recent({ kind: 'service', namespace: 'shop', name: 'frontend' }, 3);
      assert.equal(recent.length, 3);
      assert.ok(recent.every((r, i) => i === 0 || recent[i - 1].t <= r.t), 'oldest first');
      assert.deepEqual(source.recent({ kind: 'service', namespace: 'shop', name: 'cart' }, 3), []);
      assert.deepEqual(await source.discoverTargets(), [{ target: { kind: 'service', namespace: 'shop', name: 'frontend' }, signals: ['probe_success', 'probe_latency'] }]);
    } finally {
      sub.dispose();
      source.dispose();
    }
  });
});
