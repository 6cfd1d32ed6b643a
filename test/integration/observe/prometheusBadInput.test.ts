import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SampleFrame } from '../../../src/core/model/signal';
import type { SourceStatus } from '../../../src/core/ports';
import { parseSignalQueries } from '../../../src/core/observe/signalCatalogue';
import { PrometheusClient, PrometheusError } from '../../../src/infra/prometheus/prometheusClient';
import { PrometheusSource } from '../../../src/infra/prometheus/prometheusSource';
import { prometheusUnavailable, startPrometheus, type PrometheusProcess } from '../../../src/infra/prometheus/prometheusLauncher';
import { waitFor } from '../sandbox/sandboxProcess';
import { SystemClock } from '../../../src/infra/systemClock';

/** A small real HTTP server whose answer each test sets. */
async function server(handler: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const s = http.createServer(handler);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, close: () => new Promise((r) => s.close(() => r())) };
}

const clock = new SystemClock();

/** Streams from `url` until a status matching `re` shows; asserts nothing escaped. */
async function statusFor(client: PrometheusClient, re: RegExp, state: SourceStatus['state'] = 'down'): Promise<SourceStatus> {
  const source = new PrometheusSource({ client, clock, intervalMs: 500, lagMs: 0 });
  const statuses: SourceStatus[] = [];
  const s1 = source.onStatus((s) => statuses.push(s));
  const s2 = source.subscribe(() => undefined);
  try {
    return await waitFor(`status ${re} (saw: ${statuses.map((s) => s.message).join(' | ')})`, () => statuses.find((s) => s.state === state && re.test(s.message)), 8_000, 50);
  } finally {
    s2.dispose();
    s1.dispose();
    source.dispose();
  }
}

describe('observe: bad Prometheus input gives clear messages and never crashes the stream', function () {
  this.timeout(60_000);
  const escaped: unknown[] = [];
  const onUnhandled = (err: unknown) => escaped.push(err);
  before(() => process.on('unhandledRejection', onUnhandled));
  after(() => {
    process.off('unhandledRejection', onUnhandled);
    assert.deepEqual(escaped, [], 'no promise rejection escaped');
  });

  describe('with a real Prometheus', () => {
    let exporter: Awaited<ReturnType<typeof server>>;
    let prom: PrometheusProcess;
    let count = 0;
    before(async function () {
      const missing = prometheusUnavailable();
      if (missing) throw new Error(missing);
      exporter = await server((_req, res) => {
        count += 7;
        res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
        res.end(`# TYPE http_requests_total counter\nhttp_requests_total{namespace="shop",deployment="cart",pod="cart-1",code="200"} ${count}\n# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes{namespace="shop",deployment="cart",pod="cart-1"} 1234\n`);
      });
      prom = await startPrometheus({ targets: [{ target: new URL(exporter.url).host }], scrapeIntervalSeconds: 1 });
    });
    after(async () => {
      await prom?.stop();
      await exporter?.close();
    });

    it('an invalid PromQL in config names the signal and the query, and the other signals keep streaming', async () => {
      const queries = parseSignalQueries({ signals: [{ signal: 'cpu', query: 'sum by (namespace, deployment) (rate(process_cpu_seconds_total[{{window}}]' }] }, 'signals.yaml');
      const source = new PrometheusSource({ client: new PrometheusClient({ url: prom.url }), clock, intervalMs: 1000, windowMs: 10_000, lagMs: 0, queries });
      const statuses: SourceStatus[] = [];
      const frames: SampleFrame[] = [];
      source.onStatus((s) => statuses.push(s));
      source.subscribe((f) => frames.push(...f));
      try {
        const degraded = await waitFor('degraded status', () => statuses.find((s) => s.state === 'degraded' && /signal cpu/.test(s.message)), 10_000, 50);
        assert.match(degraded.message, /signal cpu \(service\): Prometheus rejected the query "sum by \(namespace, deployment\) \(rate\(process_cpu_seconds_total\[10s\]"/);
        assert.match(degraded.message, /fix the PromQL in the signals config/);
        await waitFor('request_rate still streams', () => frames.find((f) => f.target.name === 'cart' && (f.values.request_rate ?? 0) > 0), 15_000, 100);
        assert.ok(frames.some((f) => f.values.memory === 1234));
      } finally {
        source.dispose();
      }
    });

    it('a query that is not an instant vector is named', async () => {
      const client = new PrometheusClient({ url: prom.url });
      await assert.rejects(client.instant('time()', Date.now()), (err: unknown) => err instanceof PrometheusError && err.kind === 'bad-query' && /returned a scalar, not a vector/.test(err.message));
    });

    it('bearer token and custom headers reach the server, and are not in error messages', async () => {
      const seen: http.IncomingHttpHeaders[] = [];
      const guard = await server((req, res) => {
        seen.push(req.headers);
        if (req.headers.authorization !== 'Bearer s3cret-token') {
          res.writeHead(401, { 'Content-Type': 'text/plain' }).end('Unauthorized');
          return;
        }
        // forward to the real Prometheus: an auth proxy in front of it, as hosted Prometheus has
        http.get(`${prom.url}${req.url}`, (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        });
      });
      try {
        const good = new PrometheusClient({ url: guard.url, auth: { bearerToken: 's3cret-token', headers: { 'X-Scope-OrgID': 'team-a' } } });
        const v = await good.instant('vector(1)', Date.now());
        assert.equal(v[0].value[1], '1');
        assert.equal(seen[0]['x-scope-orgid'], 'team-a');
        const wrong = await statusFor(new PrometheusClient({ url: guard.url, auth: { bearerToken: 'wrong-token' } }), /401/);
        assert.match(wrong.message, new RegExp(`^Prometheus unreachable at ${guard.url}: HTTP 401 Unauthorized: the server refused the credentials; set VIGIL_PROMETHEUS_TOKEN`));
        assert.ok(!wrong.message.includes('wrong-token'), 'the token is never in a message');
      } finally {
        await guard.close();
      }
    });
  });

  describe('with servers that are not Prometheus', () => {
    const servers: Array<{ close(): Promise<void> }> = [];
    after(async () => {
      for (const s of servers) await s.close();
    });
    async function serve(handler: http.RequestListener): Promise<string> {
      const s = await server(handler);
      servers.push(s);
      return s.url;
    }

    it('a URL that is not Prometheus (JSON of something else, plain text) is named as such', async () => {
      const json = await serve((_q, r) => r.writeHead(200, { 'Content-Type': 'application/json' }).end('{"hello":"world"}'));
      const st = await statusFor(new PrometheusClient({ url: json, retries: 0 }), /does not look like a Prometheus server/);
      assert.match(st.message, new RegExp(`^Prometheus unreachable at ${json}: ${json} does not look like a Prometheus server: HTTP 200 from /api/v1/(query|label/__name__/values) is JSON without a Prometheus "status" field; set the URL of the Prometheus HTTP API`));
      const text = await serve((_q, r) => r.writeHead(404, { 'Content-Type': 'text/plain' }).end('404 page not found'));
      const st2 = await statusFor(new PrometheusClient({ url: text, retries: 0 }), /does not look like a Prometheus server/);
      assert.match(st2.message, /HTTP 404 from \/api\/v1\/(query|label\/__name__\/values) is not JSON \(404 page not found\)/);
    });

    it('an HTML error page is named with its status and title', async () => {
      const url = await serve((_q, r) => r.writeHead(502, { 'Content-Type': 'text/html' }).end('<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>'));
      const st = await statusFor(new PrometheusClient({ url, retries: 0 }), /HTML page/);
      assert.match(st.message, /it answered HTTP 502 with an HTML page titled "502 Bad Gateway", not the Prometheus API/);
    });

    it('a 403 is named as an auth problem', async () => {
      const url = await serve((_q, r) => r.writeHead(403).end('forbidden'));
      const st = await statusFor(new PrometheusClient({ url, retries: 0 }), /403/);
      assert.match(st.message, /HTTP 403 Forbidden: the server refused the credentials/);
    });

    it('a huge response is refused at the size cap', async () => {
      const big = `{"status":"success","data":{"resultType":"vector","result":[${Array.from({ length: 40_000 }, (_, i) => `{"metric":{"namespace":"n","deployment":"d${i}"},"value":[1,"1"]}`).join(',')}]}}`;
      const url = await serve((_q, r) => r.writeHead(200, { 'Content-Type': 'application/json' }).end(big));
      const st = await statusFor(new PrometheusClient({ url, retries: 0, maxResponseBytes: 1024 * 1024 }), /size cap/);
      assert.match(st.message, /the response exceeded the 1 MiB size cap; narrow the query \(fewer series\) or raise the cap/);
    });

    it('a closed port and a timeout are named', async () => {
      const closed = await server(() => undefined);
      await closed.close();
      const st = await statusFor(new PrometheusClient({ url: closed.url, retries: 0 }), /connection refused/);
      assert.equal(st.message, `Prometheus unreachable at ${closed.url}: connection refused; is Prometheus running and listening on that port?`);
      const slow = await serve(() => undefined);
      const st2 = await statusFor(new PrometheusClient({ url: slow, retries: 0, timeoutMs: 300 }), /timeout/);
      assert.match(st2.message, /no answer within 0.3s \(timeout\)/);
    });

    it('a malformed URL is named before any request', () => {
      assert.throws(() => new PrometheusClient({ url: 'prometheus:9090/x y' }), /Invalid Prometheus URL "prometheus:9090\/x y": only http and https/);
      assert.throws(() => new PrometheusClient({ url: 'not a url' }), /Invalid Prometheus URL "not a url": use e\.g\. http:\/\//);
    });
  });
});
