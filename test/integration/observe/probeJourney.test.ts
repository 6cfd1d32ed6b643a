/**
 * The shop's user journey against the sandbox through the API server's service proxy: it passes while
 * the shop is healthy, fails at the step whose service (or dependency) is out, and passes again once the
 * fault is cleared. Each condition is polled within a stated bound: the machine may be loaded.
 */
import assert from 'node:assert/strict';
import { probeJourneys, type ProbeRun } from '../../../src/core/observe/probeSpec';
import { connectKube, type KubeConnection } from '../../../src/infra/kubernetes/kubeClient';
import type { SampleFrame } from '../../../src/core/model/signal';
import { DEFAULT_SETTINGS } from '../../../src/core/settings';
import { createObserveAdapters } from '../../../src/infra/observeAdapters';
import { runJourney } from '../../../src/infra/probes/httpProbe';
import { SystemClock } from '../../../src/infra/systemClock';
import { MemoryLogger } from '../../fakes/nullLogger';
import { SHOP_JOURNEY } from '../../../src/sandbox/sim/shopApi';
import { kubectlOk, startInProcessSandbox, waitFor, type InProcessSandbox } from '../sandbox/sandboxProcess';

/** How long each condition may take to show up. */
const BOUND_MS = 45_000;

describe('observe: the shop journey probe through the service proxy', function () {
  this.timeout(4 * BOUND_MS);
  let sandbox: InProcessSandbox;
  let conn: KubeConnection;
  const journey = probeJourneys([SHOP_JOURNEY])[0];
  const run = () => runJourney(journey, { conn });
  /** Polls the journey until `ok` holds for a run; returns that run, or fails with the last one. */
  const until = async (what: string, ok: (r: ProbeRun) => boolean): Promise<ProbeRun> => {
    let last: ProbeRun | undefined;
    try {
      return await waitFor(what, async () => {
        last = await run();
        return ok(last) ? last : undefined;
      }, BOUND_MS, 250);
    } catch (err) {
      throw new Error(`${(err as Error).message}; last run: ${JSON.stringify(last)}`);
    }
  };
  const fault = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${sandbox.apiServer}${path}`, { method, headers: body === undefined ? {} : { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const json = (await r.json()) as { id: string };
    assert.ok(r.status < 300, JSON.stringify(json));
    return json;
  };

  before(async () => {
    sandbox = await startInProcessSandbox();
    conn = await connectKube({ kubeconfig: sandbox.kubeconfig });
  });
  after(async () => {
    await sandbox?.stop();
  });

  it('passes while the shop is healthy', async () => {
    const ok = await until('the journey to pass', (r) => r.success);
    assert.equal(ok.failedStep, undefined);
    assert.ok(ok.latencyMs > 0);
  });

  it('fails at check out during an outage of payments-api, and passes again after the fault is cleared', async () => {
    const f = await fault('POST', '/sandbox/v1/faults', { fault: 'dependency-outage', target: 'payments/payments-api' });
    const failed = await until('the journey to fail at check out', (r) => !r.success);
    assert.equal(failed.failedStep, 'check out');
    assert.match(failed.reason!, /^step "check out": POST shop\/checkout:8080\/checkout answered 502, expected 200: .*call to payments\/payments-api failed: 503/);
    await fault('DELETE', `/sandbox/v1/faults/${f.id}`);
    await until('the journey to pass after the fault is cleared', (r) => r.success);
  });

  it('fails at add to cart during an outage of cart itself', async () => {
    const f = await fault('POST', '/sandbox/v1/faults', { fault: 'dependency-outage', target: 'shop/cart' });
    const failed = await until('the journey to fail at add to cart', (r) => !r.success);
    assert.equal(failed.failedStep, 'add to cart');
    assert.match(failed.reason!, /answered 503, expected 201/);
    await fault('DELETE', `/sandbox/v1/faults/${f.id}`);
    await until('the journey to pass after the fault is cleared', (r) => r.success);
  });

  it('addresses a service port by number or name; an unknown service is 404, an unknown port 503', async () => {
    const r = await conn.request('GET', '/api/v1/namespaces/shop/services/nope:8080/proxy/products');
    assert.equal(r.status, 404);
    const pod = await conn.request('GET', '/api/v1/namespaces/shop/services/frontend:http/proxy/healthz');
    assert.deepEqual(pod, { status: 200, body: 'ok' });
    const unknownPort = await conn.request('GET', '/api/v1/namespaces/shop/services/frontend:9999/proxy/products');
    assert.equal(unknownPort.status, 503);
    assert.match(unknownPort.body, /no endpoints available for service \\"frontend:9999\\"/);
    assert.match(await kubectlOk(sandbox.kubeconfig, ['get', 'services', '-n', 'shop']), /^frontend\s+ClusterIP\s+\S+\s+<none>\s+8080\/TCP/m);
    assert.match(await kubectlOk(sandbox.kubeconfig, ['get', '--raw', '/api/v1/namespaces/shop/services/frontend:8080/proxy/products']), /"sku-1001"/);
  });

  it('in the product composition: probe_success of shop/frontend goes 1 → 0 → 1 and the run says which step failed', async () => {
    const observe = await createObserveAdapters(
      { ...DEFAULT_SETTINGS, prometheus: { ...DEFAULT_SETTINGS.prometheus, scrapeIntervalSeconds: 1 }, probes: [{ ...SHOP_JOURNEY, intervalSeconds: 1 }] },
      conn,
      new SystemClock(),
      new MemoryLogger(),
      {},
    );
    const frames: SampleFrame[] = [];
    const sub = observe.metrics.subscribe((f) => frames.push(...f.filter((x) => x.target.name === 'frontend' && x.values.probe_success !== undefined)));
    observe.events.start();
    const since = (t: number) => frames.filter((f) => f.t >= t);
    try {
      await waitFor('probe_success 1', () => (frames.at(-1)?.values.probe_success === 1 ? true : undefined), BOUND_MS, 100);
      const f = await fault('POST', '/sandbox/v1/faults', { fault: 'dependency-outage', target: 'payments/payments-api' });
      const injected = Date.now();
      await waitFor('probe_success 0', () => (since(injected).some((x) => x.values.probe_success === 0) ? true : undefined), BOUND_MS, 100);
      const failing = observe.probes.recent({ kind: 'service', namespace: 'shop', name: 'frontend' }, 20).filter((r) => !r.success);
      assert.ok(failing.length > 0 && failing.every((r) => r.name === SHOP_JOURNEY.name && r.failedStep === 'check out'), JSON.stringify(failing));
      await fault('DELETE', `/sandbox/v1/faults/${f.id}`);
      const cleared = Date.now();
      await waitFor('probe_success 1 after the fault is cleared', () => (since(cleared).some((x) => x.values.probe_success === 1) ? true : undefined), BOUND_MS, 100);
    } finally {
      sub.dispose();
      observe.dispose();
    }
  });
});
