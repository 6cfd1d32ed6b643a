/**
 * The sandbox API server answers malformed input with Kubernetes Status errors and keeps serving:
 * specific cases with their codes, then 1,000 random bad requests.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { startInProcessSandbox, type InProcessSandbox } from './sandboxProcess';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json?: Record<string, unknown>;
}

function request(base: string, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method, headers: { ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers }, timeout: 10_000 }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d.toString()));
      res.on('end', () => {
        let json: Record<string, unknown> | undefined;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`timeout on ${method} ${path}`)));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function assertStatus(r: Reply, code: number, reason: string): void {
  assert.equal(r.status, code, `expected ${code} ${reason}, got ${r.status}: ${r.text.slice(0, 300)}`);
  assert.ok(r.json, `body is not JSON: ${r.text.slice(0, 200)}`);
  assert.equal(r.json.kind, 'Status');
  assert.equal(r.json.apiVersion, 'v1');
  assert.equal(r.json.status, 'Failure');
  assert.equal(r.json.code, code);
  assert.equal(r.json.reason, reason);
  assert.equal(typeof r.json.message, 'string');
}

describe('sandbox API server: malformed requests', function () {
  this.timeout(120_000);
  let sb: InProcessSandbox;
  let base: string;
  const cm = (name: string, extra: Record<string, unknown> = {}) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...extra }, data: { k: 'v' } });

  before(async () => {
    sb = await startInProcessSandbox();
    base = sb.apiServer;
    const ns = await request(base, 'POST', '/api/v1/namespaces', JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fuzz' } }));
    assert.ok(ns.status === 201 || ns.status === 409, ns.text);
    assert.equal((await request(base, 'POST', '/api/v1/namespaces/fuzz/configmaps', cm('base'))).status, 201);
  });
  after(async () => {
    await sb?.stop();
  });

  it('answers each kind of bad request with the Kubernetes Status and code', async () => {
    assertStatus(await request(base, 'POST', '/api/v1/namespaces/fuzz/configmaps', '{"metadata": '), 400, 'BadRequest');
    assertStatus(await request(base, 'POST', '/api/v1/namespaces/fuzz/configmaps', '[1,2]'), 400, 'BadRequest');
    assertStatus(await request(base, 'POST', '/api/v1/namespaces/fuzz/configmaps', cm('base')), 409, 'AlreadyExists');
    assertStatus(await request(base, 'POST', '/api/v1/namespaces/fuzz/configmaps', cm('Bad_Name')), 422, 'Invalid');
    assertStatus(await request(base, 'POST', '/api/v1/namespaces/fuzz/configmaps', cm('other', { namespace: 'elsewhere' })), 400, 'BadRequest');
    assertStatus(await request(base, 'POST', '/api/v1/namespaces/nope/configmaps', cm('x')), 404, 'NotFound');
    assertStatus(await request(base, 'POST', '/apis/apps/v1/namespaces/fuzz/deployments', JSON.stringify({ apiVersion: 'v1', kind: 'Deployment', metadata: { name: 'd' } })), 400, 'BadRequest');
    assertStatus(await request(base, 'GET', '/api/v1/namespaces/fuzz/frobnicators'), 404, 'NotFound');
    assertStatus(await request(base, 'GET', '/apis/unknown.example.com/v1/things'), 404, 'NotFound');
    assertStatus(await request(base, 'GET', '/api/v1/namespaces/fuzz/configmaps/missing'), 404, 'NotFound');
    assertStatus(await request(base, 'POST', '/version'), 405, 'MethodNotAllowed');
    assertStatus(await request(base, 'OPTIONS', '/api/v1/namespaces/fuzz/configmaps/base'), 405, 'MethodNotAllowed');
    assertStatus(await request(base, 'PATCH', '/api/v1/namespaces/fuzz/configmaps/base', '{"data":{"k":"w"}}', { 'Content-Type': 'application/json' }), 415, 'UnsupportedMediaType');
    assertStatus(await request(base, 'PATCH', '/api/v1/namespaces/fuzz/configmaps/base', '{"data":', { 'Content-Type': 'application/merge-patch+json' }), 400, 'BadRequest');
    assertStatus(await request(base, 'PATCH', '/api/v1/namespaces/fuzz/configmaps/base', 'apiVersion: v1\nkind: ConfigMap\n', { 'Content-Type': 'application/apply-patch+yaml' }), 422, 'Invalid');
    assertStatus(await request(base, 'PATCH', '/api/v1/namespaces/fuzz/configmaps/base?fieldManager=t', 'data: {k: v}\n', { 'Content-Type': 'application/apply-patch+yaml' }), 400, 'BadRequest');
    assertStatus(await request(base, 'PATCH', '/api/v1/namespaces/fuzz/configmaps/base', '[{"op":"test","path":"/data/k","value":"zzz"}]', { 'Content-Type': 'application/json-patch+json' }), 422, 'Invalid');
    assertStatus(await request(base, 'GET', '/api/v1/namespaces/fuzz/configmaps?labelSelector=a%20in%20(b'), 400, 'BadRequest');
    assertStatus(await request(base, 'GET', '/api/v1/namespaces/fuzz/configmaps?fieldSelector=spec.nodeName%3Dx'), 400, 'BadRequest');
    assertStatus(await request(base, 'GET', '/api/v1/namespaces/fuzz/configmaps?watch=true&resourceVersion=abc'), 400, 'BadRequest');
    assertStatus(await request(base, 'POST', '/api/v1/namespaces/fuzz/configmaps?dryRun=Some', cm('dry')), 400, 'BadRequest');
    const current = (await request(base, 'GET', '/api/v1/namespaces/fuzz/configmaps/base')).json as { metadata: { resourceVersion: string } };
    const stale = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'base', resourceVersion: String(Number(current.metadata.resourceVersion) - 1) }, data: { k: 'stale' } });
    assertStatus(await request(base, 'PUT', '/api/v1/namespaces/fuzz/configmaps/base', stale), 409, 'Conflict');
    assertStatus(await request(base, 'PUT', '/api/v1/namespaces/fuzz/configmaps/other-name', cm('base')), 400, 'BadRequest');
    assertStatus(await request(base, 'POST', '/api/v1/namespaces/fuzz/configmaps', cm('typed'), { 'Content-Type': 'text/plain' }), 415, 'UnsupportedMediaType');
    assertStatus(await request(base, 'POST', '/api/v1/namespaces/fuzz/configmaps', 'metadata: [unclosed', { 'Content-Type': 'application/yaml' }), 400, 'BadRequest');
    const fromYaml = await request(base, 'POST', '/api/v1/namespaces/fuzz/configmaps', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  k: v\n', { 'Content-Type': 'application/yaml' });
    assert.equal(fromYaml.status, 201, fromYaml.text);
    const huge = Buffer.alloc(4 * 1024 * 1024, 'a');
    const big = await request(base, 'POST', '/api/v1/namespaces/fuzz/configmaps', huge);
    assertStatus(big, 413, 'RequestEntityTooLarge');
  });

  it('survives 1,000 random malformed requests and still serves /version and lists', async () => {
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const pick = <T>(xs: ReadonlyArray<T>): T => xs[rnd(xs.length)];
    const paths = [
      '/api/v1/namespaces/fuzz/configmaps',
      '/api/v1/namespaces/fuzz/configmaps/base',
      '/api/v1/namespaces/fuzz/pods/nope/log?tailLines=-3',
      '/api/v1/namespaces/fuzz/pods/nope/eviction',
      '/api/v1/namespaces/fuzz/pods/x:9/proxy/metrics',
      '/apis/apps/v1/namespaces/fuzz/deployments/d/scale',
      '/apis/apps/v1/namespaces/fuzz/deployments',
      '/apis/coordination.k8s.io/v1/namespaces/fuzz/leases',
      '/api/v1/nodes/%E0%A4%A',
      '/api/v1/namespaces/%zz/pods',
      '/apis/policy/v1/namespaces/fuzz/poddisruptionbudgets?watch=1&resourceVersion=-1',
      '/api/v1/watch/namespaces/fuzz/configmaps?timeoutSeconds=abc',
      '/api/v1/namespaces/fuzz/configmaps?limit=-1&labelSelector=!!',
      '/api//v1///namespaces',
      '/apis/apps/v1/namespaces/fuzz/deployments/d/status',
      '/sandbox/v1/faults',
      '/' + 'x/'.repeat(200),
    ];
    const bodies = ['{', '}', 'null', '[]', '"str"', '42', '{"apiVersion":7}', '{"metadata":"x"}', '{"metadata":{"name":[]}}', '{"kind":"Pod","metadata":{"name":"p"},"spec":{"containers":"no"}}', '[{"op":"move","from":"/a","path":"/a/b"}]', '\u0000\u0001\u0002', 'k8s\u0000garbage', '{"spec":{"replicas":"many"}}'];
    const types = ['application/json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/json-patch+json', 'application/apply-patch+yaml', 'text/plain', 'application/vnd.kubernetes.protobuf', ''];
    const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'HEAD'];
    let statusBodies = 0;
    const codes = new Map<number, number>();
    const one = async (i: number) => {
      if (i % 50 === 0) {
        // garbage on the socket, not even HTTP
        await new Promise<void>((resolve) => {
          const s = net.connect(Number(new URL(base).port), '127.0.0.1', () => s.end('GARBAGE \u0000\r\n\r\n'));
          s.on('data', () => undefined);
          s.on('close', () => resolve());
          s.on('error', () => resolve());
        });
        return;
      }
      const method = pick(methods);
      const hasBody = method !== 'GET' && method !== 'HEAD' && method !== 'TRACE';
      const r = await request(base, method, pick(paths), hasBody ? pick(bodies) : undefined, hasBody ? { 'Content-Type': pick(types) } : {});
      codes.set(r.status, (codes.get(r.status) ?? 0) + 1);
      assert.ok(r.status < 500 || r.status === 503, `${method} got ${r.status}: ${r.text.slice(0, 300)}`);
      if (r.status >= 400 && method !== 'HEAD') {
        assert.equal(r.json?.kind, 'Status', `${method} ${r.status} body: ${r.text.slice(0, 200)}`);
        statusBodies++;
      }
    };
    const total = 1000;
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < total) await one(next++);
      }),
    );
    console.log(`      random requests by status code: ${JSON.stringify(Object.fromEntries([...codes].sort((a, b) => a[0] - b[0])))}`);
    assert.ok(statusBodies > 500, `expected most random requests to fail with a Status, got ${statusBodies} (${JSON.stringify([...codes])})`);
    const version = await request(base, 'GET', '/version');
    assert.equal(version.status, 200);
    assert.equal(version.json?.major, '1');
    // the random DELETEs may have removed "base"; a fresh object must show up in the list
    assert.equal((await request(base, 'POST', '/api/v1/namespaces/fuzz/configmaps', cm('after-fuzz'))).status, 201);
    const list = await request(base, 'GET', '/api/v1/namespaces/fuzz/configmaps');
    assert.equal(list.status, 200);
    assert.equal(list.json?.kind, 'ConfigMapList');
    assert.ok((list.json?.items as Array<{ metadata: { name: string } }>).some((i) => i.metadata.name === 'after-fuzz'));
  });
});
