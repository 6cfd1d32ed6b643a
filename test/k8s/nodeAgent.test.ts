/**
 * The simulation as the nodes of the real control plane: the shop, applied as ordinary manifests, runs on the
 * node agent's simulated kubelets. Its pods serve their metrics and API on their own IPs (reached through the
 * API server's proxies), `kubectl logs` goes through the API server to the agent's kubelet port, a crash loop
 * injected with `vigil chaos` shows as the real pod status a kubelet reports, and cAdvisor series exist.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { stringify } from 'yaml';
import type { ClusterFact } from '../../src/core/model/fact';
import { connectKube } from '../../src/infra/kubernetes/kubeClient';
import { KubernetesSource } from '../../src/infra/kubernetes/kubernetesSource';
import { SystemClock } from '../../src/infra/systemClock';
import { shopManifests } from '../../src/sandbox/sim/topology';
import { apply, cluster, deploymentManifest, inNetns, kubectl, kubectlOk, pods, podReady, settled, waitFor, WHOAMI_IMAGE } from './cluster';

const REPO_ROOT = path.resolve(__dirname, '../..');
/** The shop's pods: frontend 3, cart 2, checkout 3 in shop; payments-api 2 in payments. */
const SHOP_PODS = { shop: 8, payments: 2 };
/** All ten pods Ready: ~15 s measured on the loaded 2-core machine; 3 min allowed. */
const SHOP_READY_BOUND_MS = 180_000;

interface ContainerStatusView {
  readonly restartCount: number;
  readonly ready: boolean;
  readonly state?: { readonly waiting?: { readonly reason?: string }; readonly running?: unknown };
  readonly lastState?: { readonly terminated?: { readonly reason?: string; readonly exitCode?: number } };
}

async function containerStatuses(namespace: string, selector: string): Promise<Array<{ name: string; status: ContainerStatusView }>> {
  const out = JSON.parse(await kubectlOk(['get', 'pods', '-n', namespace, '-l', selector, '-o', 'json'])) as { items: Array<{ metadata: { name: string; deletionTimestamp?: string }; status: { containerStatuses?: ContainerStatusView[] } }> };
  return out.items.filter((p) => !p.metadata.deletionTimestamp && p.status.containerStatuses?.[0]).map((p) => ({ name: p.metadata.name, status: p.status.containerStatuses![0] }));
}

/** `vigil chaos …` from source, inside the namespace (the fault API listens on a node address). */
function chaos(args: string[]) {
  return inNetns([process.execPath, '--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), 'chaos', ...args, '--kubeconfig', cluster().cp.kubeconfig], { timeoutMs: 60_000 });
}

describe('the node agent runs the shop on the real control plane', function () {
  this.timeout(240_000);

  before(async function () {
    this.timeout(SHOP_READY_BOUND_MS + 30_000);
    const t0 = Date.now();
    await apply(shopManifests().map((o) => stringify(o)).join('---\n'));
    await waitFor(`all ${SHOP_PODS.shop + SHOP_PODS.payments} shop pods Ready`, SHOP_READY_BOUND_MS, async () => {
      const shop = (await pods('shop', 'app')).filter(podReady);
      const payments = (await pods('payments', 'app')).filter(podReady);
      return shop.length === SHOP_PODS.shop && payments.length === SHOP_PODS.payments ? true : undefined;
    });
    console.log(`    shop Ready on the real control plane ${((Date.now() - t0) / 1000).toFixed(1)} s after kubectl apply`);
  });

  after(async function () {
    this.timeout(120_000);
    // the other files of the tier drain nodes: the shop's budgets must not hold them up
    await kubectl(['delete', 'namespace', 'shop', 'payments', '--wait=true', '--timeout=90s'], { timeoutMs: 100_000 });
  });

  it('spreads each workload over the nodes and gives every pod its own address on its node', async () => {
    const all = [...(await pods('shop', 'app')), ...(await pods('payments', 'app'))];
    const ips = all.map((p) => p.status.podIP);
    assert.equal(new Set(ips).size, all.length, `distinct pod IPs: ${ips.join(', ')}`);
    const nodeIP = new Map(cluster().nodes.map((n) => [n.name, n.internalIP]));
    for (const p of all) {
      const prefix = nodeIP.get(p.spec.nodeName ?? '')?.replace(/\.1$/, '.');
      assert.ok(prefix && p.status.podIP?.startsWith(prefix), `${p.metadata.name} on ${p.spec.nodeName} has ${p.status.podIP}`);
    }
    const frontends = await pods('shop', 'app=frontend');
    assert.equal(new Set(frontends.map((p) => p.spec.nodeName)).size, 3, 'three frontends on three nodes (topologySpreadConstraints)');
  });

  it("serves a pod's metrics through the API server's pod proxy, and the shop's API through the service proxy", async () => {
    const [pod] = await pods('shop', 'app=cart');
    const body = await waitFor('cart requests counted in the pod metrics', 30_000, async () => {
      const text = await kubectlOk(['get', '--raw', `/api/v1/namespaces/shop/pods/${pod.metadata.name}:8080/proxy/metrics`]);
      // as an application serves them: no namespace, pod or deployment label (Prometheus's relabeling adds the first two)
      const m = /^http_requests_total\{code="200",method="GET"\} (\d+)$/m.exec(text);
      return m && Number(m[1]) > 0 ? text : undefined;
    });
    assert.match(body, /^# TYPE http_request_duration_seconds histogram$/m);
    const products = await kubectlOk(['get', '--raw', '/api/v1/namespaces/shop/services/frontend:8080/proxy/products']);
    assert.deepEqual((JSON.parse(products) as { products: Array<{ id: string }> }).products.map((p) => p.id), ['sku-1001', 'sku-1002', 'sku-1003']);
  });

  it('kubectl logs reaches the pod through the kubelet port (tail and follow)', async () => {
    const [pod] = await pods('shop', 'app=frontend');
    const out = await waitFor('five access log lines', 30_000, async () => {
      const r = await kubectlOk(['logs', '-n', 'shop', pod.metadata.name, '--tail=5']);
      return r.trim().split('\n').length === 5 ? r : undefined;
    });
    assert.match(out, /(INFO |ERROR) (GET|POST) \/\S* \d{3} \d+ms/);
    // follow for 3 s: lines written meanwhile arrive (the pod logs one access line a second)
    const c = cluster();
    const followed = await inNetns(['timeout', '3', c.kubectlPath, '--kubeconfig', c.cp.kubeconfig, 'logs', '-n', 'shop', pod.metadata.name, '--tail=0', '-f'], { timeoutMs: 20_000 });
    assert.equal(followed.code, 124, `kubectl logs -f was still following when stopped: ${followed.stderr}`);
    assert.ok(followed.stdout.trim().split('\n').filter(Boolean).length >= 1, `followed lines: ${JSON.stringify(followed.stdout)} ${followed.stderr}`);
  });

  it('a crash loop injected with vigil chaos shows as restarts, Error, CrashLoopBackOff, BackOff events and --previous logs; a restart heals it', async () => {
    const injected = await chaos(['crash-loop', '--target', 'shop/cart']);
    assert.equal(injected.code, 0, injected.stderr);
    const fault = JSON.parse(injected.stdout.trim().split('\n').pop() as string) as { id: string };
    // the first crash ~1.5 s after injection, then back-off 2 s, 4 s, 8 s …: two restarts and a back-off within a minute
    const crashing = await waitFor('a cart pod with 2+ restarts, last terminated Error, waiting CrashLoopBackOff', 90_000, async () => {
      const s = await containerStatuses('shop', 'app=cart');
      return s.find((c) => c.status.restartCount >= 2 && c.status.lastState?.terminated?.reason === 'Error' && c.status.state?.waiting?.reason === 'CrashLoopBackOff');
    });
    assert.equal(crashing.status.lastState?.terminated?.exitCode, 1);
    assert.equal(crashing.status.ready, false);
    const previous = await kubectlOk(['logs', '-n', 'shop', crashing.name, '--previous']);
    assert.match(previous, /FATAL unhandled error, exiting with code 1/);
    const events = await kubectlOk(['get', 'events', '-n', 'shop', '--field-selector', `involvedObject.name=${crashing.name}`, '-o', 'jsonpath={range .items[*]}{.reason}/{.source.component}/{.count}{"\\n"}{end}']);
    assert.match(events, /^BackOff\/kubelet\/\d+$/m);
    assert.match(events, /^Started\/kubelet\/\d+$/m);
    // the ground truth is the sandbox's: symptoms once a container died, recovery once new pods serve
    const url = JSON.parse(await kubectlOk(['get', 'configmap', 'vigil-sandbox', '-n', 'kube-public', '-o', 'jsonpath={.data}'])) as { faultsUrl: string };
    const record = async () => JSON.parse((await inNetns(['curl', '-sf', `${url.faultsUrl}/faults/${fault.id}`])).stdout) as { symptomsAt?: string; recoveredAt?: string };
    assert.ok((await record()).symptomsAt, 'symptomsAt is set');
    await kubectlOk(['rollout', 'restart', 'deployment/cart', '-n', 'shop']);
    const healed = await waitFor('recoveredAt after the rollout restart', 120_000, async () => (await record()).recoveredAt);
    assert.ok(Date.parse(healed) > Date.parse((await record()).symptomsAt!));
    const fresh = await containerStatuses('shop', 'app=cart');
    assert.ok(fresh.every((c) => c.status.restartCount === 0), `fresh cart pods do not crash: ${JSON.stringify(fresh)}`);
  });

  it('node-failure silences a node: the real node lifecycle controller marks it Unknown, taints it and evicts; its pods return to service elsewhere', async function () {
    // grace 20 s to Unknown, 10 s toleration of the unreachable taint, then the ReplicaSets replace the pods
    this.timeout(300_000);
    const node = 'node-3';
    const victims = (await pods('shop', 'app')).filter((p) => p.spec.nodeName === node);
    assert.ok(victims.length > 0, `shop pods on ${node}`);
    // Vigil's Kubernetes source watching beside it: the kubelet's Lease names the node before NotReady does
    const source = new KubernetesSource({ conn: await connectKube({ kubeconfig: cluster().cp.kubeconfig }), clock: new SystemClock() });
    const facts: Array<{ fact: ClusterFact; at: number }> = [];
    source.subscribe((fact) => facts.push({ fact, at: Date.now() }));
    try {
      // a Lease listed at start counts as renewed then (the node's clock is not trusted), up to a renew interval late:
      // inject only once every node's renewal has come through the watch, as the controller-manager sees it
      const listed = await waitFor("every node's Lease listed", 60_000, async () => (source.nodeHeartbeats().length >= 3 ? new Map(source.nodeHeartbeats().map((h) => [h.node, h.renewedAt])) : undefined));
      await waitFor("every node's Lease seen renewed through the watch", 60_000, async () => {
        const beats = source.nodeHeartbeats();
        return beats.length >= 3 && beats.every((h) => h.renewedAt > (listed.get(h.node) ?? Infinity)) ? true : undefined;
      });
      const injectedAt = Date.now();
      const injected = await chaos(['node-failure', '--target', node, '--duration', '75']);
      assert.equal(injected.code, 0, injected.stderr);
      await waitFor(`${node} Ready=Unknown with the unreachable NoExecute taint`, 90_000, async () => {
        const n = JSON.parse(await kubectlOk(['get', 'node', node, '-o', 'json'])) as { spec: { taints?: Array<{ key: string; effect: string }> }; status: { conditions: Array<{ type: string; status: string }> } };
        const ready = n.status.conditions.find((c) => c.type === 'Ready')?.status;
        return ready === 'Unknown' && n.spec.taints?.some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute') ? true : undefined;
      });
      const ofNode = (reason: (r: string | undefined) => boolean) => facts.find((f) => f.fact.kind === 'node-not-ready' && f.fact.target.name === node && reason(f.fact.reason));
      const notReady = await waitFor(`Vigil's source to see ${node} NotReady`, 30_000, async () => ofNode((r) => r !== 'NodeLeaseExpired'));
      const lease = ofNode((r) => r === 'NodeLeaseExpired');
      assert.ok(lease, `a NodeLeaseExpired fact for ${node}: ${JSON.stringify(facts.map((f) => f.fact.message))}`);
      assert.ok(lease.at < notReady.at, `the Lease named ${node} ${(lease.at - injectedAt) / 1000} s after the injection, before NotReady at ${(notReady.at - injectedAt) / 1000} s`);
      assert.match(lease.fact.message, new RegExp(`^Node ${node} stopped renewing its Lease: last renewed 1[5-9] s ago \\(every 10 s; [2-9] other nodes renew theirs\\)`));
      assert.ok(facts.every((f) => f.fact.reason !== 'NodeLeaseExpired' || f.fact.target.name === node), 'no other node named');
    } finally {
      source.dispose();
    }
    await waitFor(`the pods of ${node} evicted and the shop Ready again on the other nodes`, 120_000, async () => {
      const all = await pods('shop', 'app');
      const evicted = victims.every((v) => all.find((p) => p.metadata.uid === v.metadata.uid)?.metadata.deletionTimestamp !== undefined || !all.some((p) => p.metadata.uid === v.metadata.uid));
      const serving = all.filter((p) => podReady(p) && p.spec.nodeName !== node);
      return evicted && serving.length === SHOP_PODS.shop ? true : undefined;
    });
    // the fault ends: heartbeats resume, the node is Ready, and its kubelet finishes the evicted pods
    await waitFor(`${node} Ready again and its evicted pods gone`, 120_000, async () => {
      const ready = await kubectlOk(['get', 'node', node, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
      const left = (await pods('shop', 'app')).filter((p) => victims.some((v) => v.metadata.uid === p.metadata.uid));
      return ready.trim() === 'True' && left.length === 0 ? true : undefined;
    });
  });

  it('serves cAdvisor series for every pod of a node: container, the pod cgroup (container="") and POD', async () => {
    const [pod] = await pods('shop', 'app=checkout');
    const node = pod.spec.nodeName!;
    const text = await kubectlOk(['get', '--raw', `/api/v1/nodes/${node}/proxy/metrics/cadvisor`]);
    for (const container of ['checkout', '', 'POD']) {
      for (const family of ['container_cpu_usage_seconds_total', 'container_memory_working_set_bytes']) {
        const m = new RegExp(`^${family}\\{container="${container}",[^}]*namespace="shop",pod="${pod.metadata.name}"\\} ([0-9.e+-]+)$`, 'm').exec(text);
        assert.ok(m, `${family} container="${container}" for ${pod.metadata.name} on ${node}`);
        if (family === 'container_memory_working_set_bytes') assert.ok(Number(m[1]) > 0);
      }
    }
    const onNode = (await pods('shop', 'app')).filter((p) => p.spec.nodeName === node && !p.metadata.deletionTimestamp);
    for (const p of onNode) assert.ok(text.includes(`pod="${p.metadata.name}"`), `${p.metadata.name} is on ${node}`);
  });
});

describe('the node agent runs pods of a --run-image image as real processes', function () {
  this.timeout(120_000);
  const NS = 'procs';

  after(async () => {
    await kubectl(['delete', 'namespace', NS, '--wait=true', '--timeout=60s'], { timeoutMs: 70_000 });
  });

  it('gives the process its pod\'s ServiceAccount token, ca.crt and namespace; its output is the pod log', async () => {
    await apply(deploymentManifest({ namespace: NS, name: 'whoami', container: 'whoami', image: `${WHOAMI_IMAGE}:1.0`, replicas: 1 }));
    const [pod] = await settled(NS, 'app=whoami', 1, 60_000);
    const log = await waitFor('the process output in kubectl logs', 30_000, async () => {
      const out = await kubectlOk(['logs', '-n', NS, pod.metadata.name]);
      return out.includes(`pod ${pod.metadata.name}`) ? out : undefined;
    });
    // authenticated by the API server as the pod's ServiceAccount, with the pod bound to the token
    const review = JSON.parse(log.slice(0, log.lastIndexOf('}') + 1)) as { status: { userInfo: { username: string; extra?: Record<string, string[]> } } };
    assert.equal(review.status.userInfo.username, `system:serviceaccount:${NS}:default`);
    assert.deepEqual(review.status.userInfo.extra?.['authentication.kubernetes.io/pod-name'], [pod.metadata.name]);
    // nothing but the process wrote the log: the simulated service does not run behind this pod
    assert.match(log, new RegExp(`\\}\\nnamespace ${NS} pod ${pod.metadata.name}\\n$`));
  });
});
