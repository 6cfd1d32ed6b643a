/**
 * API-server semantics over real HTTP that kubectl and client-node rely on without showing them:
 * watch streams (initial state, selectors, bookmarks, timeouts, legacy paths), discovery,
 * subresources (scale, status, eviction), cascading deletes and field selectors.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { KubeObject } from '../../../src/sandbox/store';
import { startInProcessSandbox, waitFor, type InProcessSandbox } from './sandboxProcess';

interface WatchEvent {
  type: string;
  object: KubeObject & { code?: number };
}

function call(base: string, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; json: Record<string, unknown>; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers = payload === undefined ? {} : { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(payload) };
    const req = http.request(`${base}${path}`, { method, headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : {}, headers: res.headers }));
    });
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** Opens a watch and collects its events until closed. */
function openWatch(base: string, path: string): { events: WatchEvent[]; ended: Promise<void>; close(): void } {
  const events: WatchEvent[] = [];
  let req: http.ClientRequest;
  const ended = new Promise<void>((resolve, reject) => {
    req = http.get(`${base}${path}`, (res) => {
      assert.equal(res.statusCode, 200);
      let buf = '';
      res.on('data', (d) => {
        buf += d.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          events.push(JSON.parse(buf.slice(0, nl)));
          buf = buf.slice(nl + 1);
        }
      });
      res.on('end', () => resolve());
      res.on('close', () => resolve());
    });
    req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve() : reject(err)));
  });
  return { events, ended, close: () => req.destroy() };
}

const NS = 'api-test';
const cm = (name: string, labels: Record<string, string> = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data: { k: name } });

describe('sandbox API server semantics', function () {
  this.timeout(60_000);
  let sb: InProcessSandbox;
  let base: string;

  before(async () => {
    sb = await startInProcessSandbox({ watchBookmarkMs: 200 });
    base = sb.apiServer;
    assert.equal((await call(base, 'POST', '/api/v1/namespaces', { metadata: { name: NS } })).status, 201);
  });
  after(async () => {
    await sb?.stop();
  });

  it('a watch without resourceVersion starts with ADDED for what exists, then streams changes', async () => {
    await call(base, 'POST', `/api/v1/namespaces/${NS}/configmaps`, cm('w-existing'));
    const w = openWatch(base, `/api/v1/namespaces/${NS}/configmaps?watch=1`);
    try {
      await waitFor('initial ADDED', () => (w.events.some((e) => e.type === 'ADDED' && e.object.metadata.name === 'w-existing') ? true : undefined));
      await call(base, 'POST', `/api/v1/namespaces/${NS}/configmaps`, cm('w-new'));
      await call(base, 'PATCH', `/api/v1/namespaces/${NS}/configmaps/w-new`, { data: { k: 'changed' } }, 'application/merge-patch+json');
      await call(base, 'DELETE', `/api/v1/namespaces/${NS}/configmaps/w-new`);
      await waitFor('ADDED, MODIFIED, DELETED of w-new', () => (w.events.filter((e) => e.object.metadata.name === 'w-new').length === 3 ? true : undefined));
      assert.deepEqual(w.events.filter((e) => e.object.metadata.name === 'w-new').map((e) => e.type), ['ADDED', 'MODIFIED', 'DELETED']);
      const rvs = w.events.map((e) => Number(e.object.metadata.resourceVersion));
      assert.deepEqual(rvs, [...rvs].sort((a, b) => a - b), 'events arrive in resourceVersion order');
    } finally {
      w.close();
    }
  });

  it('a watch resumed from a resourceVersion replays only later changes', async () => {
    const list = await call(base, 'GET', `/api/v1/namespaces/${NS}/configmaps`);
    const rv = (list.json.metadata as { resourceVersion: string }).resourceVersion;
    await call(base, 'POST', `/api/v1/namespaces/${NS}/configmaps`, cm('w-after'));
    const w = openWatch(base, `/api/v1/watch/namespaces/${NS}/configmaps?resourceVersion=${rv}`);
    try {
      await waitFor('the replayed change', () => (w.events.length > 0 ? true : undefined));
      assert.deepEqual(w.events.map((e) => `${e.type}:${e.object.metadata.name}`), ['ADDED:w-after']);
    } finally {
      w.close();
    }
  });

  it('a label-selected watch reports objects that stop matching as DELETED and that start matching as ADDED', async () => {
    await call(base, 'POST', `/api/v1/namespaces/${NS}/configmaps`, cm('sel', { tier: 'front' }));
    const w = openWatch(base, `/api/v1/namespaces/${NS}/configmaps?watch=true&labelSelector=${encodeURIComponent('tier in (front)')}`);
    try {
      await waitFor('initial ADDED', () => (w.events.length === 1 ? true : undefined));
      await call(base, 'PATCH', `/api/v1/namespaces/${NS}/configmaps/sel`, { metadata: { labels: { tier: 'back' } } }, 'application/merge-patch+json');
      await call(base, 'PATCH', `/api/v1/namespaces/${NS}/configmaps/sel`, { metadata: { labels: { tier: 'front' } } }, 'application/merge-patch+json');
      await call(base, 'POST', `/api/v1/namespaces/${NS}/configmaps`, cm('other', { tier: 'back' }));
      await waitFor('three events', () => (w.events.length >= 3 ? true : undefined));
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(w.events.map((e) => `${e.type}:${e.object.metadata.name}`), ['ADDED:sel', 'DELETED:sel', 'ADDED:sel']);
    } finally {
      w.close();
    }
  });

  it('honours timeoutSeconds and sends BOOKMARK events when allowed', async () => {
    const started = Date.now();
    const w = openWatch(base, `/api/v1/namespaces/${NS}/configmaps?watch=true&timeoutSeconds=1&allowWatchBookmarks=true`);
    await w.ended;
    const took = Date.now() - started;
    assert.ok(took >= 900 && took < 5000, `the watch ended after ${took} ms`);
    const bookmarks = w.events.filter((e) => e.type === 'BOOKMARK');
    assert.ok(bookmarks.length >= 2, `bookmarks: ${bookmarks.length}`);
    assert.equal(bookmarks[0].object.kind, 'ConfigMap');
    assert.match(String(bookmarks[0].object.metadata.resourceVersion), /^\d+$/);
  });

  it('sendInitialEvents=true streams the current state and ends it with the initial-events-end bookmark', async () => {
    const w = openWatch(base, `/api/v1/namespaces/${NS}/configmaps?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true`);
    try {
      const end = await waitFor('the initial-events-end bookmark', () => w.events.findIndex((e) => e.type === 'BOOKMARK' && e.object.metadata.annotations?.['k8s.io/initial-events-end'] === 'true') + 1 || undefined);
      const initial = w.events.slice(0, end - 1);
      assert.ok(initial.length > 0 && initial.every((e) => e.type === 'ADDED'));
      assert.deepEqual(initial.map((e) => e.object.metadata.name).sort(), sb.sandbox.store.list('configmaps', NS).items.map((o) => o.metadata.name).sort());
    } finally {
      w.close();
    }
  });

  it('serves discovery with the subresources kubectl looks for', async () => {
    const core = (await call(base, 'GET', '/api/v1')).json as { resources: Array<{ name: string; group?: string; version?: string; kind: string }> };
    const eviction = core.resources.find((r) => r.name === 'pods/eviction');
    assert.deepEqual([eviction?.group, eviction?.version, eviction?.kind], ['policy', 'v1', 'Eviction']);
    for (const sub of ['pods/log', 'pods/proxy', 'pods/status']) assert.ok(core.resources.some((r) => r.name === sub), sub);
    const apps = (await call(base, 'GET', '/apis/apps/v1')).json as { resources: Array<{ name: string; group?: string; kind: string }> };
    assert.deepEqual(apps.resources.find((r) => r.name === 'deployments/scale')?.group, 'autoscaling');
    assert.ok(apps.resources.some((r) => r.name === 'deployments/status'));
    const groups = (await call(base, 'GET', '/apis')).json as { groups: Array<{ name: string }> };
    assert.deepEqual(groups.groups.map((g) => g.name).sort(), ['apps', 'authentication.k8s.io', 'coordination.k8s.io', 'policy', 'vigil.dev']);
    assert.equal((await call(base, 'GET', '/openapi/v2')).status, 404);
    assert.ok(((await call(base, 'GET', '/openapi/v3')).json.paths as Record<string, unknown>)['apis/apps/v1']);
  });

  it('scale and status subresources write only their part, with resourceVersion preconditions', async () => {
    const dep = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'sub' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'sub' } }, template: { metadata: { labels: { app: 'sub' } }, spec: { containers: [{ name: 'sub', image: 'sub:1' }] } } },
    };
    assert.equal((await call(base, 'POST', `/apis/apps/v1/namespaces/${NS}/deployments`, dep)).status, 201);
    const scale = (await call(base, 'GET', `/apis/apps/v1/namespaces/${NS}/deployments/sub/scale`)).json as { apiVersion: string; metadata: { resourceVersion: string }; spec: { replicas: number }; status: { selector: string } };
    assert.equal(scale.apiVersion, 'autoscaling/v1');
    assert.equal(scale.status.selector, 'app=sub');
    const put = await call(base, 'PUT', `/apis/apps/v1/namespaces/${NS}/deployments/sub/scale`, { ...scale, spec: { replicas: 3 } });
    assert.equal(put.status, 200);
    assert.equal((sb.sandbox.store.mustGet('deployments', NS, 'sub').spec as { replicas: number }).replicas, 3);
    const stale = await call(base, 'PUT', `/apis/apps/v1/namespaces/${NS}/deployments/sub/scale`, { ...scale, spec: { replicas: 5 } });
    assert.equal(stale.status, 409);
    const negative = await call(base, 'PATCH', `/apis/apps/v1/namespaces/${NS}/deployments/sub/scale`, { spec: { replicas: -1 } }, 'application/merge-patch+json');
    assert.equal(negative.status, 422);

    const main = await call(base, 'PATCH', `/apis/apps/v1/namespaces/${NS}/deployments/sub`, { status: { replicas: 99 }, metadata: { labels: { patched: 'yes' } } }, 'application/merge-patch+json');
    assert.equal(main.status, 200);
    assert.notEqual((main.json.status as { replicas?: number } | undefined)?.replicas, 99, 'the main resource ignores status');
    assert.equal(sb.sandbox.store.mustGet('deployments', NS, 'sub').metadata.labels?.patched, 'yes');
    // a namespace, because no controller rewrites its status while the test looks
    await call(base, 'POST', '/api/v1/namespaces', { metadata: { name: 'status-ns' } });
    const status = await call(base, 'PATCH', '/api/v1/namespaces/status-ns/status', { status: { phase: 'Terminating' }, metadata: { labels: { sneaky: 'yes' } } }, 'application/merge-patch+json');
    assert.equal(status.status, 200);
    const stored = sb.sandbox.store.mustGet('namespaces', undefined, 'status-ns');
    assert.equal((stored.status as { phase?: string }).phase, 'Terminating');
    assert.equal(stored.metadata.labels?.sneaky, undefined, 'the status subresource ignores metadata');
  });

  it('deleting a deployment removes its ReplicaSets and pods unless orphaned', async () => {
    await waitFor('sub to have pods', () => (sb.sandbox.store.list('pods', NS).items.some((p) => p.metadata.labels?.app === 'sub') ? true : undefined));
    const del = await call(base, 'DELETE', `/apis/apps/v1/namespaces/${NS}/deployments/sub`, { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' });
    assert.equal(del.status, 200, JSON.stringify(del.json));
    assert.equal(del.json.status, 'Success');
    await waitFor('replicasets and pods of sub to be gone', () => {
      const left = [...sb.sandbox.store.list('replicasets', NS).items, ...sb.sandbox.store.list('pods', NS).items].filter((o) => o.metadata.labels?.app === 'sub');
      return left.length === 0 ? true : undefined;
    });

    const orphanMe = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'orphan' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'orphan' } }, template: { metadata: { labels: { app: 'orphan' } }, spec: { containers: [{ name: 'o', image: 'o:1' }] } } },
    };
    const created = await call(base, 'POST', `/apis/apps/v1/namespaces/${NS}/deployments`, orphanMe);
    const uid = (created.json.metadata as { uid: string }).uid;
    const rs = await waitFor('the orphan ReplicaSet', () => sb.sandbox.store.list('replicasets', NS).items.find((o) => o.metadata.labels?.app === 'orphan'));
    assert.equal((await call(base, 'DELETE', `/apis/apps/v1/namespaces/${NS}/deployments/orphan?propagationPolicy=Orphan`)).status, 200);
    const kept = sb.sandbox.store.get('replicasets', NS, rs.metadata.name);
    assert.ok(kept, 'an orphaned ReplicaSet survives its deployment');
    assert.ok(!kept.metadata.ownerReferences?.some((r) => r.uid === uid), 'and no longer names it as owner');
  });

  it('eviction with dryRun deletes nothing; lists filter by field selectors', async () => {
    const [pod] = sb.sandbox.store.list('pods', 'shop').items;
    const node = (pod.spec as { nodeName: string }).nodeName;
    const r = await call(base, 'POST', `/api/v1/namespaces/shop/pods/${pod.metadata.name}/eviction?dryRun=All`, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod.metadata.name, namespace: 'shop' } });
    assert.equal(r.status, 201);
    assert.ok(sb.sandbox.store.get('pods', 'shop', pod.metadata.name), 'the pod is still there');
    const onNode = (await call(base, 'GET', `/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${node}`)}`)).json as { items: KubeObject[] };
    assert.ok(onNode.items.length > 0);
    assert.ok(onNode.items.every((p) => (p.spec as { nodeName: string }).nodeName === node));
    const named = (await call(base, 'GET', `/api/v1/namespaces/shop/pods?fieldSelector=${encodeURIComponent(`metadata.name=${pod.metadata.name},status.phase!=Failed`)}`)).json as { items: KubeObject[] };
    assert.deepEqual(named.items.map((p) => p.metadata.name), [pod.metadata.name]);
  });

  it('fieldValidation: Strict refuses unknown fields, Warn and Ignore drop them (Warn says so)', async () => {
    const typo = { ...cm('fv'), dataa: { x: 'y' }, metadata: { name: 'fv', labelz: { a: 'b' } } };
    const strict = await call(base, 'POST', `/api/v1/namespaces/${NS}/configmaps?fieldValidation=Strict`, typo);
    assert.equal(strict.status, 400);
    assert.equal(strict.json.message, 'strict decoding error: unknown field "dataa", unknown field "metadata.labelz"');
    assert.equal(sb.sandbox.store.get('configmaps', NS, 'fv'), undefined);
    const warn = await call(base, 'POST', `/api/v1/namespaces/${NS}/configmaps`, typo);
    assert.equal(warn.status, 201);
    assert.deepEqual(warn.headers.warning, '299 - "unknown field \\"dataa\\"", 299 - "unknown field \\"metadata.labelz\\""');
    const stored = sb.sandbox.store.mustGet('configmaps', NS, 'fv') as KubeObject & Record<string, unknown>;
    assert.equal(stored.dataa, undefined);
    assert.equal(stored.metadata.labelz, undefined);
    const patch = await call(base, 'PATCH', `/api/v1/namespaces/${NS}/configmaps/fv?fieldValidation=Ignore`, { dataa: { z: '1' }, data: { k: 'patched' } }, 'application/merge-patch+json');
    assert.equal(patch.status, 200);
    assert.equal(patch.headers.warning, undefined);
    assert.deepEqual((sb.sandbox.store.mustGet('configmaps', NS, 'fv') as KubeObject & { data: unknown; dataa?: unknown }).data, { k: 'patched' });
    assert.equal((sb.sandbox.store.mustGet('configmaps', NS, 'fv') as KubeObject & { dataa?: unknown }).dataa, undefined);
    assert.equal((await call(base, 'POST', `/api/v1/namespaces/${NS}/configmaps?fieldValidation=Loose`, cm('fv2'))).status, 400);
  });

  it('deleting a namespace deletes what is in it', async () => {
    await call(base, 'POST', '/api/v1/namespaces', { metadata: { name: 'doomed' } });
    await call(base, 'POST', '/api/v1/namespaces/doomed/configmaps', cm('inside'));
    const r = await call(base, 'DELETE', '/api/v1/namespaces/doomed');
    assert.equal(r.status, 200);
    assert.equal(sb.sandbox.store.get('configmaps', 'doomed', 'inside'), undefined);
    assert.equal((await call(base, 'POST', '/api/v1/namespaces/doomed/configmaps', cm('again'))).status, 404);
  });
});
