import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SampleFrame } from '../../../src/core/model/signal';
import { parseProbeSpecs } from '../../../src/core/observe/probeSpec';
import { ProbeSource, runProbe } from '../../../src/infra/probes/httpProbe';
import { waitFor } from '../sandbox/sandboxProcess';
import { SystemClock } from '../../../src/infra/systemClock';

describe('observe: synthetic HTTP probes', function () {
  this.timeout(30_000);
  let server: http.Server;
  let base = '';
  let closedUrl = '';

  before(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/ok') res.writeHead(200).end('ok');
      else if (req.url === '/fail') res.writeHead(503).end('down');
      else if (req.url === '/slow') setTimeout(() => res.writeHead(200).end('late'), 300);
      else if (req.url === '/created' && req.method === 'POST') res.writeHead(201).end();
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const spare = http.createServer();
    await new Promise<void>((r) => spare.listen(0, '127.0.0.1', r));
    closedUrl = `http://127.0.0.1:${(spare.address() as AddressInfo).port}/`;
    await new Promise<void>((r) => spare.close(() => r()));
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const spec = (o: Record<string, unknown>) => parseProbeSpecs({ probes: [{ service: 'shop/cart', ...o }] }, 'test')[0];

  it('passes on the expected status within budget and names each failure', async () => {
    assert.equal((await runProbe(spec({ url: `${base}/ok` }))).success, true);
    assert.equal((await runProbe(spec({ url: `${base}/created`, method: 'POST', expectStatus: 201 }))).success, true);
    const fail = await runProbe(spec({ url: `${base}/fail` }));
    assert.equal(fail.reason, `GET ${base}/fail answered 503, expected 200`);
    const slow = await runProbe(spec({ url: `${base}/slow`, latencyBudgetMs: 100 }));
    assert.equal(slow.success, false);
    assert.ok(slow.latencyMs >= 250, `latency ${slow.latencyMs}`);
    assert.match(slow.reason!, /took \d+ ms, over the 100 ms budget/);
    const timeout = await runProbe(spec({ url: `${base}/slow`, timeoutMs: 50 }));
    assert.match(timeout.reason!, /no answer within 50 ms/);
    const refused = await runProbe(spec({ url: closedUrl }));
    assert.equal(refused.reason, `GET ${closedUrl}: connection refused`);
  });

  it('streams probe_success and probe_latency per service', async () => {
    const probes = parseProbeSpecs({ probes: [{ service: 'shop/cart', url: `${base}/ok`, intervalSeconds: 1 }, { service: 'shop/checkout', url: `${base}/fail`, intervalSeconds: 1 }] }, 'test');
    const source = new ProbeSource(probes, { clock: new SystemClock() });
    const frames: SampleFrame[] = [];
    const sub = source.subscribe((f) => frames.push(...f));
    try {
      await waitFor('two rounds', () => (new Set(frames.map((f) => f.t)).size >= 2 ? true : undefined), 10_000, 50);
      const cart = frames.filter((f) => f.target.name === 'cart');
      const checkout = frames.filter((f) => f.target.name === 'checkout');
      assert.ok(cart.every((f) => f.values.probe_success === 1 && f.values.probe_latency! > 0 && f.values.probe_latency! < 1));
      assert.ok(checkout.length > 0 && checkout.every((f) => f.values.probe_success === 0));
      assert.match(source.lastFailure.get(`${base}/fail`) ?? '', /answered 503/);
    } finally {
      sub.dispose();
      source.dispose();
    }
  });
});
