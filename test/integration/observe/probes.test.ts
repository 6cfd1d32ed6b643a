import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PROBE_STEP_DEFAULTS, probeJourneys } from '../../../src/core/observe/probeSpec';
import type { ProbeStepSettings } from '../../../src/core/settings';
import { runJourney } from '../../../src/infra/probes/httpProbe';

describe('observe: synthetic HTTP probes against a URL', function () {
  this.timeout(30_000);
  let server: http.Server;
  let base = '';
  let closedUrl = '';
  const received: string[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push(`${req.method} ${req.url} ${req.headers['content-type'] ?? ''} ${body}`.trim());
        if (req.url === '/ok') res.writeHead(200).end('{"products":[]}');
        else if (req.url === '/fail') res.writeHead(503).end('upstream down');
        else if (req.url === '/slow') setTimeout(() => res.writeHead(200).end('late'), 300);
        else if (req.url === '/cart' && req.method === 'POST') res.writeHead(201).end(body);
        else res.writeHead(404).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const spare = http.createServer();
    await new Promise<void>((r) => spare.listen(0, '127.0.0.1', r));
    closedUrl = `http://127.0.0.1:${(spare.address() as AddressInfo).port}/`;
    await new Promise<void>((r) => spare.close(() => r()));
  });
  after(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => (received.length = 0));

  const step = (name: string, url: string, over: Partial<ProbeStepSettings> = {}): ProbeStepSettings => ({ ...PROBE_STEP_DEFAULTS, name, url, ...over });
  const run = (steps: ProbeStepSettings[], timeoutMs = 2000) => runJourney(probeJourneys([{ name: 'p', target: 'shop/frontend', intervalSeconds: 15, timeoutMs, steps }])[0], {});

  it('passes a journey of URL steps, sending each method and body', async () => {
    const r = await run([step('list', `${base}/ok`, { expectBody: 'products' }), step('add', `${base}/cart`, { method: 'POST', body: '{"id":1}', expectStatus: [201], expectBody: '"id"' })]);
    assert.equal(r.success, true, r.reason);
    assert.deepEqual(received, ['GET /ok', 'POST /cart application/json {"id":1}']);
  });

  it('names the failing step and why: status, body, latency, timeout, refused', async () => {
    const fail = await run([step('list', `${base}/ok`), step('check out', `${base}/fail`), step('never', `${base}/ok`)]);
    assert.equal(fail.failedStep, 'check out');
    assert.equal(fail.reason, `step "check out": GET ${base}/fail answered 503, expected 200: upstream down`);
    assert.deepEqual(received, ['GET /ok', 'GET /fail'], 'stops at the first failing step');
    const body = await run([step('list', `${base}/ok`, { expectBody: '"orders"' })]);
    assert.equal(body.reason, `step "list": GET ${base}/ok answered 200 without /"orders"/ in the body: {"products":[]}`);
    const slow = await run([step('slow', `${base}/slow`, { latencyBudgetMs: 100 })]);
    assert.ok(slow.latencyMs >= 250, `latency ${slow.latencyMs}`);
    assert.match(slow.reason!, /^step "slow": GET .*\/slow took \d+ ms, over the 100 ms budget$/);
    const timeout = await run([step('slow', `${base}/slow`)], 50);
    assert.equal(timeout.reason, `step "slow": GET ${base}/slow got no answer: no answer within 50 ms`);
    const refused = await run([step('gone', closedUrl)]);
    assert.equal(refused.reason, `step "gone": GET ${closedUrl} got no answer: connection refused`);
  });
});
