/**
 * Vigil's informer (ResilientInformer over client-node's ListWatch) against the real API server: it sees adds,
 * updates and deletes; and when its connection is cut for longer than etcd keeps the history (the tier's
 * apiserver compacts every ETCD_COMPACTION_SECONDS and serves ConfigMap watches from etcd, with no watch cache),
 * while objects are written, it lists again and its cache equals a fresh list.
 *
 * The cut is a local TCP proxy between the informer and the apiserver (TLS passes through: the apiserver's
 * certificate names 127.0.0.1), which drops every connection and refuses new ones while cut.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { ResilientInformer } from '../../src/infra/kubernetes/informers';
import { connectKube, type KubeConnection } from '../../src/infra/kubernetes/kubeClient';
import { API_ADDRESS, API_PORT, clusterKubeconfig } from '../../src/sandbox/controlPlane/controlPlane';
import { ETCD_COMPACTION_SECONDS, apply, cluster, kubectlOk, waitFor } from './cluster';

const NS = 'informer';

/** A TCP proxy to the apiserver that can be cut: every open connection dropped, new ones refused until restored. */
class CuttableProxy {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private cut = false;
  connections = 0;

  constructor() {
    this.server = net.createServer((client) => {
      if (this.cut) {
        client.destroy();
        return;
      }
      this.connections++;
      const upstream = net.connect({ host: API_ADDRESS, port: API_PORT });
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  }

  listen(): Promise<number> {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => resolve((this.server.address() as net.AddressInfo).port)));
  }

  setCut(cut: boolean): void {
    this.cut = cut;
    if (cut) for (const s of this.sockets) s.destroy();
  }

  close(): Promise<void> {
    this.setCut(true);
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

interface Seen {
  readonly kind: 'add' | 'update' | 'delete';
  readonly name: string;
  readonly rv: string;
  readonly data?: Record<string, string>;
}

/** `watch=1` from a resource version, straight to the apiserver: 'gone' when it answers 410, 'ok' when it streams. */
async function watchFrom(conn: KubeConnection, rv: string): Promise<'gone' | 'ok'> {
  return new Promise((resolve, reject) => {
    let settledWith: 'gone' | 'ok' | undefined;
    const finish = (v: 'gone' | 'ok') => {
      if (settledWith) return;
      settledWith = v;
      clearTimeout(timer);
      void req.then((c) => c.abort());
      resolve(v);
    };
    // a watch that is not refused at once streams: the events since rv, or nothing
    const timer = setTimeout(() => finish('ok'), 3000);
    const req = new conn.lib.Watch(conn.kubeConfig).watch(
      `/api/v1/namespaces/${NS}/configmaps`,
      { resourceVersion: rv },
      (type, obj: { code?: number }) => {
        if (type === 'ERROR' && obj.code === 410) finish('gone');
        else if (type !== 'ERROR') finish('ok');
      },
      (err: { statusCode?: number } | null) => {
        if (err?.statusCode === 410) finish('gone');
        else if (err && !settledWith) {
          clearTimeout(timer);
          reject(err as Error);
        }
      },
    );
  });
}

describe('informers against the real API server', function () {
  this.timeout(150_000);
  const proxy = new CuttableProxy();
  let informer: ResilientInformer<k8s.V1ConfigMap>;
  let admin: KubeConnection;
  const seen: Seen[] = [];
  const lists: number[] = [];
  const states: string[] = [];

  before(async () => {
    const { cp } = cluster();
    await apply(`apiVersion: v1\nkind: Namespace\nmetadata: {name: ${NS}}\n`);
    const port = await proxy.listen();
    const kubeconfig = path.join(cluster().dir, 'informer-via-proxy.kubeconfig');
    writeFileSync(kubeconfig, clusterKubeconfig(cp.pki, 'admin', `https://127.0.0.1:${port}`));
    admin = await connectKube({ kubeconfig: cp.kubeconfig });
    const viaProxy = await connectKube({ kubeconfig });
    informer = new ResilientInformer<k8s.V1ConfigMap>(viaProxy, { path: `/api/v1/namespaces/${NS}/configmaps`, backoffBaseMs: 200, backoffMaxMs: 2000 }, {
      onChange: (prev, cur) => {
        const o = (cur ?? prev)!;
        seen.push({ kind: !prev ? 'add' : !cur ? 'delete' : 'update', name: o.metadata!.name!, rv: o.metadata!.resourceVersion!, data: cur?.data });
      },
      onState: (state, detail) => {
        states.push(`${state}: ${detail}`);
        if (state === 'synced') lists.push(Date.now());
      },
    });
    informer.start();
    await waitFor('the informer\'s first list', 30_000, async () => (lists.length > 0 ? true : undefined));
  });

  after(async () => {
    informer?.stop();
    await proxy.close();
    await kubectlOk(['delete', 'namespace', NS, '--wait=false']).catch(() => undefined);
  });

  const saw = (kind: Seen['kind'], name: string, test: (s: Seen) => boolean = () => true) =>
    waitFor(`the informer to see ${kind} of ${name}`, 30_000, async () => seen.find((s) => s.kind === kind && s.name === name && test(s)));

  it('sees add, update and delete', async () => {
    await kubectlOk(['-n', NS, 'create', 'configmap', 'a', '--from-literal=v=1']);
    await saw('add', 'a', (s) => s.data?.v === '1');
    await kubectlOk(['-n', NS, 'patch', 'configmap', 'a', '--type=merge', '-p', '{"data":{"v":"2"}}']);
    await saw('update', 'a', (s) => s.data?.v === '2');
    await kubectlOk(['-n', NS, 'delete', 'configmap', 'a']);
    await saw('delete', 'a');
    // the controller-manager's CA bundle is in every namespace
    assert.deepEqual(informer.list().map((o) => o.metadata?.name), ['kube-root-ca.crt']);
  });

  it('after a cut longer than etcd keeps history, while objects are written, it lists again and its cache equals a fresh list', async () => {
    for (const n of ['b', 'c', 'd']) await kubectlOk(['-n', NS, 'create', 'configmap', n, `--from-literal=v=${n}0`]);
    const last = await saw('add', 'd');
    const listsBefore = lists.length;
    const eventsBefore = seen.length;

    proxy.setCut(true);
    const cutAt = Date.now();
    await kubectlOk(['-n', NS, 'patch', 'configmap', 'b', '--type=merge', '-p', '{"data":{"v":"b1"}}']);
    await kubectlOk(['-n', NS, 'delete', 'configmap', 'c']);
    await kubectlOk(['-n', NS, 'create', 'configmap', 'e', '--from-literal=v=e0']);
    // the version the informer last saw is compacted away: a watch resumed from it gets 410 Gone
    // (bound: compaction every 5 s compacts what the previous run saw, so ~10 s; 60 s on a loaded machine)
    await waitFor(`a watch from resourceVersion ${last.rv} to get 410 Gone`, 60_000, async () => ((await watchFrom(admin, last.rv)) === 'gone' ? true : undefined));
    assert.ok(Date.now() - cutAt > ETCD_COMPACTION_SECONDS * 1000, 'the cut lasted longer than the compaction interval');
    assert.equal(seen.length, eventsBefore, 'nothing reached the informer while cut');
    const connectionsBefore = proxy.connections;
    proxy.setCut(false);

    // bound 30 s: backoff at most 2 s, then one list
    const fresh = async () => {
      const items = (JSON.parse(await kubectlOk(['-n', NS, 'get', 'configmaps', '-o', 'json'])) as { items: k8s.V1ConfigMap[] }).items;
      return items.filter((o) => o.metadata?.name !== 'kube-root-ca.crt');
    };
    const view = (os: ReadonlyArray<k8s.V1ConfigMap>) => os.filter((o) => o.metadata?.name !== 'kube-root-ca.crt').map((o) => `${o.metadata!.name}@${o.metadata!.resourceVersion}=${JSON.stringify(o.data)}`).sort();
    await waitFor('the informer to list again and hold what a fresh list holds', 30_000, async () => {
      if (lists.length === listsBefore) return undefined;
      return JSON.stringify(view(informer.list())) === JSON.stringify(view(await fresh())) ? true : undefined;
    });
    assert.ok(proxy.connections > connectionsBefore, 'it reconnected through the proxy');
    assert.deepEqual(view(informer.list()).map((s) => s.split('@')[0]), ['b', 'd', 'e']);
    // what changed while it was away reached the handlers: b's update, c's delete, e's add
    const after = seen.slice(eventsBefore);
    assert.ok(after.some((s) => s.kind === 'update' && s.name === 'b' && s.data?.v === 'b1'), `update of b after the relist; saw ${JSON.stringify(after)}`);
    assert.ok(after.some((s) => s.kind === 'delete' && s.name === 'c'), 'delete of c (gone during the cut) after the relist');
    assert.ok(after.some((s) => s.kind === 'add' && s.name === 'e'), 'add of e after the relist');
    assert.ok(!after.some((s) => s.name === 'd'), 'd did not change, so no event for it');
    assert.ok(states.some((s) => s.startsWith('failing')), 'the informer reported the cut as failing');

    // and it watches again: a write after the relist arrives as an event
    await kubectlOk(['-n', NS, 'patch', 'configmap', 'd', '--type=merge', '-p', '{"data":{"v":"d1"}}']);
    await saw('update', 'd', (s) => s.data?.v === 'd1');
  });
});
