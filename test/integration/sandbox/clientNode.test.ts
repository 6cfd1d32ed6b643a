/**
 * @kubernetes/client-node 1.4 (unmodified, over real HTTP) against the sandbox: informers,
 * watch resumption with 410 Gone and relist, the three patch content types, dryRun=All.
 */
import assert from 'node:assert/strict';
import type * as K8s from '@kubernetes/client-node';
import { startInProcessSandbox, waitFor, type InProcessSandbox } from './sandboxProcess';

const NS = 'client-node';

describe('sandbox with @kubernetes/client-node', function () {
  this.timeout(60_000);
  let sb: InProcessSandbox;
  let k8s: typeof K8s;
  let kc: K8s.KubeConfig;
  let core: K8s.CoreV1Api;
  let apps: K8s.AppsV1Api;
  const informers: Array<{ stop(): Promise<void> }> = [];

  const configMap = (name: string, data: Record<string, string> = { k: 'v' }): K8s.V1ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NS }, data });

  before(async () => {
    k8s = await import('@kubernetes/client-node');
    sb = await startInProcessSandbox();
    kc = new k8s.KubeConfig();
    kc.loadFromFile(sb.kubeconfig);
    core = kc.makeApiClient(k8s.CoreV1Api);
    apps = kc.makeApiClient(k8s.AppsV1Api);
    await core.createNamespace({ body: { metadata: { name: NS } } });
  });
  after(async () => {
    for (const i of informers) await i.stop();
    await sb?.stop();
  });

  it('reads discovery and version through the client', async () => {
    const version = await kc.makeApiClient(k8s.VersionApi).getCode();
    assert.equal(version.major, '1');
    const groups = await kc.makeApiClient(k8s.ApisApi).getAPIVersions();
    assert.ok(groups.groups.some((g) => g.name === 'apps'));
  });

  it('an informer sees add, update and delete', async () => {
    const seen: string[] = [];
    const informer = k8s.makeInformer(kc, `/api/v1/namespaces/${NS}/configmaps`, () => core.listNamespacedConfigMap({ namespace: NS }));
    informers.push(informer);
    informer.on('add', (o) => seen.push(`add:${o.metadata?.name}`));
    informer.on('update', (o) => seen.push(`update:${o.metadata?.name}:${o.data?.k}`));
    informer.on('delete', (o) => seen.push(`delete:${o.metadata?.name}`));
    informer.on('error', (err) => seen.push(`error:${String(err)}`));
    await informer.start();
    await core.createNamespacedConfigMap({ namespace: NS, body: configMap('inf-1') });
    await waitFor('informer add', () => (seen.includes('add:inf-1') ? true : undefined));
    await core.replaceNamespacedConfigMap({ name: 'inf-1', namespace: NS, body: configMap('inf-1', { k: 'v2' }) });
    await waitFor('informer update', () => (seen.includes('update:inf-1:v2') ? true : undefined));
    await core.deleteNamespacedConfigMap({ name: 'inf-1', namespace: NS });
    await waitFor('informer delete', () => (seen.includes('delete:inf-1') ? true : undefined));
    assert.deepEqual(seen.filter((s) => s.includes('inf-1')), ['add:inf-1', 'update:inf-1:v2', 'delete:inf-1']);
    assert.equal(informer.list(NS).length, 0);
    await informer.stop();
  });

  it('a watch resumed from a compacted resourceVersion gets a 410 ERROR event and ends', async () => {
    await core.createNamespacedConfigMap({ namespace: NS, body: configMap('old-rv') });
    const list = await core.listNamespacedConfigMap({ namespace: NS });
    const oldRv = list.metadata?.resourceVersion as string;
    await core.createNamespacedConfigMap({ namespace: NS, body: configMap('after-old-rv') });
    sb.sandbox.store.compact();
    const events: Array<{ phase: string; code?: number }> = [];
    const done = await new Promise<unknown>((resolve) => {
      void new k8s.Watch(kc).watch(`/api/v1/namespaces/${NS}/configmaps`, { resourceVersion: oldRv }, (phase, obj: { code?: number }) => events.push({ phase, code: obj.code }), resolve);
    });
    assert.equal(done, null, 'the stream should end cleanly after the ERROR event');
    assert.deepEqual(events, [{ phase: 'ERROR', code: 410 }]);
  });

  it('an informer whose resourceVersion expired relists and catches up (including deletes)', async () => {
    await core.createNamespacedConfigMap({ namespace: NS, body: configMap('keep') });
    await core.createNamespacedConfigMap({ namespace: NS, body: configMap('goes-away') });
    const events: string[] = [];
    const informer = k8s.makeInformer(kc, `/api/v1/namespaces/${NS}/configmaps`, () => core.listNamespacedConfigMap({ namespace: NS }));
    informers.push(informer);
    informer.on('add', (o) => events.push(`add:${o.metadata?.name}`));
    informer.on('delete', (o) => events.push(`delete:${o.metadata?.name}`));
    await informer.start();
    await waitFor('initial list', () => (informer.get('goes-away', NS) ? true : undefined));
    await informer.stop();
    const lists: number[] = [];
    // while it is away: a delete and an add, then the history it would resume from is compacted
    await core.deleteNamespacedConfigMap({ name: 'goes-away', namespace: NS });
    await core.createNamespacedConfigMap({ namespace: NS, body: configMap('arrived') });
    sb.sandbox.store.compact();
    const listCount = { n: 0 };
    informer.on('connect', () => lists.push(++listCount.n));
    await informer.start();
    await waitFor('relist after 410', () => (informer.get('arrived', NS) && !informer.get('goes-away', NS) ? true : undefined));
    assert.ok(events.includes('delete:goes-away'), `events: ${events.join(', ')}`);
    assert.ok(events.includes('add:arrived'), `events: ${events.join(', ')}`);
    assert.ok(lists.length >= 2, 'the informer reconnected after the 410 (one connect for start, one for the relist)');
    assert.ok(informer.get('keep', NS));
    await informer.stop();
  });

  it('patches with merge, JSON and strategic merge patch content types', async () => {
    await core.createNamespacedConfigMap({ namespace: NS, body: configMap('patched', { a: '1', b: '2' }) });
    const merged = await core.patchNamespacedConfigMap({ name: 'patched', namespace: NS, body: { data: { a: '10', b: null } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    assert.deepEqual(merged.data, { a: '10' });
    const jsonPatched = await core.patchNamespacedConfigMap(
      { name: 'patched', namespace: NS, body: [{ op: 'test', path: '/data/a', value: '10' }, { op: 'add', path: '/data/c', value: '3' }] },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
    );
    assert.deepEqual(jsonPatched.data, { a: '10', c: '3' });

    await apps.createNamespacedDeployment({
      namespace: NS,
      body: {
        metadata: { name: 'patch-me', namespace: NS },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'patch-me' } },
          template: { metadata: { labels: { app: 'patch-me' } }, spec: { containers: [{ name: 'app', image: 'app:1', env: [{ name: 'A', value: '1' }] }, { name: 'sidecar', image: 'proxy:1' }] } },
        },
      },
    });
    const strategic = await apps.patchNamespacedDeployment(
      { name: 'patch-me', namespace: NS, body: { spec: { template: { spec: { containers: [{ name: 'app', image: 'app:2', env: [{ name: 'B', value: '2' }] }] } } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
    );
    const containers = strategic.spec?.template.spec?.containers ?? [];
    assert.deepEqual(containers.map((c) => `${c.name}=${c.image}`), ['app=app:2', 'sidecar=proxy:1']);
    assert.deepEqual(containers[0].env?.map((e) => e.name), ['A', 'B']);
    assert.equal(strategic.metadata?.generation, 2);
  });

  it('refuses an unsupported patch content type with 415', async () => {
    await assert.rejects(
      core.patchNamespacedConfigMap({ name: 'patched', namespace: NS, body: { data: { a: 'x' } } }, k8s.setHeaderOptions('Content-Type', 'text/plain')),
      (err: { code?: number }) => err.code === 415,
    );
  });

  it('dryRun=All validates a write and changes nothing', async () => {
    const before = await core.readNamespacedConfigMap({ name: 'patched', namespace: NS });
    const dry = await core.patchNamespacedConfigMap({ name: 'patched', namespace: NS, body: { data: { a: 'dry' } }, dryRun: 'All' }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    assert.equal(dry.data?.a, 'dry');
    const created = await core.createNamespacedConfigMap({ namespace: NS, body: configMap('dry-only'), dryRun: 'All' });
    assert.equal(created.metadata?.name, 'dry-only');
    await core.deleteNamespacedConfigMap({ name: 'patched', namespace: NS, dryRun: 'All' });
    await assert.rejects(core.createNamespacedConfigMap({ namespace: NS, body: configMap('Invalid_Name'), dryRun: 'All' }), (err: { code?: number }) => err.code === 422);
    const after = await core.readNamespacedConfigMap({ name: 'patched', namespace: NS });
    assert.deepEqual(after.data, before.data);
    assert.equal(after.metadata?.resourceVersion, before.metadata?.resourceVersion);
    const names = (await core.listNamespacedConfigMap({ namespace: NS })).items.map((i) => i.metadata?.name);
    assert.ok(!names.includes('dry-only'));
  });

  it('reports 409 Conflict for a stale resourceVersion and 404 for a missing object', async () => {
    const cm = await core.readNamespacedConfigMap({ name: 'patched', namespace: NS });
    await core.replaceNamespacedConfigMap({ name: 'patched', namespace: NS, body: { ...cm, data: { a: 'fresh' } } });
    await assert.rejects(core.replaceNamespacedConfigMap({ name: 'patched', namespace: NS, body: { ...cm, data: { a: 'stale' } } }), (err: { code?: number; body?: string }) => err.code === 409 && /the object has been modified/.test(String(err.body)));
    await assert.rejects(core.readNamespacedConfigMap({ name: 'nope', namespace: NS }), (err: { code?: number }) => err.code === 404);
  });

  it('takes and renews a Lease (leader election objects)', async () => {
    const coord = kc.makeApiClient(k8s.CoordinationV1Api);
    const now = new Date();
    const lease = await coord.createNamespacedLease({ namespace: NS, body: { metadata: { name: 'vigil-copilot', namespace: NS }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: now, renewTime: now } } });
    lease.spec = { ...lease.spec, holderIdentity: 'a', renewTime: new Date(now.getTime() + 1000) };
    const renewed = await coord.replaceNamespacedLease({ name: 'vigil-copilot', namespace: NS, body: lease });
    assert.equal(renewed.spec?.holderIdentity, 'a');
    await assert.rejects(coord.replaceNamespacedLease({ name: 'vigil-copilot', namespace: NS, body: { ...lease, spec: { ...lease.spec, holderIdentity: 'b' } } }), (err: { code?: number }) => err.code === 409);
  });
});
