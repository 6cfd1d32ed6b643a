import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SampleFrame } from '../../../src/core/model/signal';
import { parseProbeSpecs } from '../../../src/core/observe/probeSpec';
import { createObserveSources, type ObserveSources } from '../../../src/infra/prometheus/observeSources';
import { startInProcessSandbox, waitFor, type InProcessSandbox } from '../sandbox/sandboxProcess';
import { SystemClock } from '../../../src/infra/systemClock';

describe('observe: sources wired from config (no Prometheus: direct scrape + logs + probes, merged)', function () {
  this.timeout(60_000);
  let sandbox: InProcessSandbox;
  let health: http.Server;
  let observe: ObserveSources | undefined;

  before(async () => {
    sandbox = await startInProcessSandbox();
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
    observe = await createObserveSources(
      { kubeconfig: sandbox.kubeconfig, intervalSeconds: 1, rateWindow: '10s', logServices: ['shop/cart'], probes: parseProbeSpecs({ probes: [{ service: 'shop/cart', url, intervalSeconds: 1 }] }, 'test') },
      new SystemClock(),
    );
    assert.match(observe.description, /^direct scrape of annotated pods through the API server at http:\/\/127\.0\.0\.1:\d+$/);
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
    assert.ok(observe.events.inventory().services.length === 4);
  });

  it('names a bad kubeconfig and a bad context', async () => {
    await assert.rejects(createObserveSources({ kubeconfig: '/nonexistent/kubeconfig' }, new SystemClock()), /Cannot load kubeconfig \/nonexistent\/kubeconfig/);
    await assert.rejects(createObserveSources({ kubeconfig: sandbox.kubeconfig, context: 'prod' }, new SystemClock()), /Kubeconfig has no context "prod"; known: /);
  });
});
