import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SampleFrame } from '../../../src/core/model/signal';
import { PROBE_STEP_DEFAULTS } from '../../../src/core/observe/probeSpec';
import { DEFAULT_SETTINGS, type VigilSettings } from '../../../src/core/settings';
import { connectKube, type KubeConnection } from '../../../src/infra/kubernetes/kubeClient';
import { createObserveAdapters, type ObserveAdapters } from '../../../src/infra/observeAdapters';
import { SystemClock } from '../../../src/infra/systemClock';
import { MemoryLogger } from '../../fakes/nullLogger';
import { startInProcessSandbox, waitFor, type InProcessSandbox } from '../sandbox/sandboxProcess';

describe('observe: adapters built from the settings (no Prometheus: direct scrape + logs + probes, merged)', function () {
  this.timeout(60_000);
  let sandbox: InProcessSandbox;
  let health: http.Server;
  let conn: KubeConnection;
  let observe: ObserveAdapters | undefined;

  const settings = (over: Partial<VigilSettings>): VigilSettings => ({ ...DEFAULT_SETTINGS, ...over });

  before(async () => {
    sandbox = await startInProcessSandbox();
    conn = await connectKube({ kubeconfig: sandbox.kubeconfig });
    health = http.createServer((_q, r) => r.writeHead(200).end('ok'));
    await new Promise<void>((r) => health.listen(0, '127.0.0.1', r));
  });
  after(async () => {
    observe?.dispose();
    await new Promise<void>((r) => health.close(() => r()));
    await sandbox?.stop();
  });

  it('emits one merged frame per service with metric, log and probe signals', async () => {
    const url = `http://127.0.0.1:${(health.address() as AddressInfo).port}/healthz`;
    observe = await createObserveAdapters(
      settings({
        prometheus: { ...DEFAULT_SETTINGS.prometheus, scrapeIntervalSeconds: 1, rateWindowSeconds: 10 },
        logs: { services: ['shop/cart'], patterns: [] },
        probes: [{ name: 'cart health', target: 'shop/cart', intervalSeconds: 1, timeoutMs: 2000, steps: [{ ...PROBE_STEP_DEFAULTS, name: 'healthz', url }] }],
      }),
      conn,
      new SystemClock(),
      new MemoryLogger(),
      {},
    );
    observe.events.start();
    assert.match(observe.description, /^direct scrape of annotated pods through the API server at http:\/\/127\.0\.0\.1:\d+; error lines in the logs of shop\/cart; 1 probe\(s\): cart health$/);
    const batches: SampleFrame[][] = [];
    observe.metrics.subscribe((f) => batches.push([...f]));
    const cart = await waitFor(
      'a merged cart frame',
      () => batches.flat().find((f) => f.target.name === 'cart' && f.values.request_rate !== undefined && f.values.log_errors !== undefined && f.values.probe_success === 1),
      30_000,
      100,
    );
    assert.ok(cart.values.probe_latency! > 0);
    for (const b of batches) {
      assert.equal(new Set(b.map((f) => f.t)).size, 1, 'one aligned time per call');
      assert.equal(new Set(b.map((f) => `${f.target.kind}:${f.target.namespace}/${f.target.name}`)).size, b.length, 'one frame per target per call');
    }
    const ts = batches.map((b) => b[0].t);
    assert.deepEqual(ts, [...ts].sort((a, b) => a - b), 'oldest first');
    assert.equal(observe.events.inventory().services.length, 4);
    assert.equal(observe.probes.latest('cart health')?.success, true);
    assert.equal(observe.probes.recent({ kind: 'service', namespace: 'shop', name: 'cart' }, 5).at(-1)?.name, 'cart health');
  });

  it('reads the logs of every watched workload with `*`', async () => {
    const all = await createObserveAdapters(settings({ logs: { services: ['*'], patterns: [] } }), conn, new SystemClock(), new MemoryLogger(), {});
    try {
      assert.match(all.description, /; error lines in the logs of every workload$/);
      all.events.start();
      await waitFor('the inventory', () => (all.events.inventory().services.length === 4 ? true : undefined), 30_000, 100);
      const targets = await all.metrics.discoverTargets();
      assert.deepEqual(targets.filter((t) => t.signals.includes('log_errors')).map((t) => t.target.name).sort(), ['cart', 'checkout', 'frontend', 'payments-api']);
    } finally {
      all.dispose();
    }
  });

  it('names a bad setting before anything starts', async () => {
    await assert.rejects(createObserveAdapters(settings({ prometheus: { ...DEFAULT_SETTINGS.prometheus, scrapeIntervalSeconds: 0 } }), conn, new SystemClock(), new MemoryLogger(), {}), /prometheus\.scrapeIntervalSeconds must be at least 1, got 0/);
    const badProbe = settings({ probes: [{ name: 'x', target: 'shop/cart', intervalSeconds: 15, timeoutMs: 1000, steps: [{ ...PROBE_STEP_DEFAULTS, name: 's', service: 'cart' }] }] });
    await assert.rejects(createObserveAdapters(badProbe, conn, new SystemClock(), new MemoryLogger(), {}), /probes\[0\]\.steps\[0\]\.service: "cart" is not namespace\/name:port/);
    await assert.rejects(
      createObserveAdapters(settings({ prometheus: { ...DEFAULT_SETTINGS.prometheus, url: 'http://127.0.0.1:39101', signalsFile: '/nonexistent/signals.yaml' } }), conn, new SystemClock(), new MemoryLogger(), {}),
      /Cannot read signals file \/nonexistent\/signals\.yaml: ENOENT/,
    );
  });
});
