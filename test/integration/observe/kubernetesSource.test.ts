import assert from 'node:assert/strict';
import type { ClusterFact } from '../../../src/core/model/fact';
import type { SourceStatus, WorkloadInventory } from '../../../src/core/ports';
import { connectKube, type KubeConnection } from '../../../src/infra/kubernetes/kubeClient';
import { KubernetesSource } from '../../../src/infra/kubernetes/kubernetesSource';
import { LogTailer, servicesFromInventory } from '../../../src/infra/kubernetes/logTail';
import { kubectlOk, startChildSandbox, startInProcessSandbox, waitFor, type ChildSandbox, type InProcessSandbox } from '../sandbox/sandboxProcess';
import { SystemClock } from '../../../src/infra/systemClock';

interface KDeployment {
  metadata: { namespace: string; name: string; annotations?: Record<string, string> };
  spec: { replicas: number; template: { spec: { containers: Array<{ name: string; image: string }> } } };
  status?: { availableReplicas?: number };
}

/** What kubectl, an outside client, says runs where: the reference the inventory must match. */
async function kubectlView(kubeconfig: string): Promise<Array<{ key: string; revision: number; image: string; replicas: number; pods: string[] }>> {
  const deps = JSON.parse(await kubectlOk(kubeconfig, ['get', 'deployments', '-A', '-o', 'json'])) as { items: KDeployment[] };
  const rs = JSON.parse(await kubectlOk(kubeconfig, ['get', 'replicasets', '-A', '-o', 'json'])) as { items: Array<{ metadata: { namespace: string; name: string; ownerReferences?: Array<{ kind: string; name: string }> } }> };
  const pods = JSON.parse(await kubectlOk(kubeconfig, ['get', 'pods', '-A', '-o', 'json'])) as { items: Array<{ metadata: { namespace: string; name: string; deletionTimestamp?: string; ownerReferences?: Array<{ kind: string; name: string }> } }> };
  const depOfRs = new Map(rs.items.map((r) => [`${r.metadata.namespace}/${r.metadata.name}`, r.metadata.ownerReferences?.find((o) => o.kind === 'Deployment')?.name]));
  return deps.items
    .map((d) => ({
      key: `${d.metadata.namespace}/${d.metadata.name}`,
      revision: Number(d.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0),
      image: d.spec.template.spec.containers[0].image,
      replicas: d.spec.replicas,
      pods: pods.items
        .filter((p) => !p.metadata.deletionTimestamp && p.metadata.namespace === d.metadata.namespace && depOfRs.get(`${p.metadata.namespace}/${p.metadata.ownerReferences?.find((o) => o.kind === 'ReplicaSet')?.name}`) === d.metadata.name)
        .map((p) => p.metadata.name)
        .sort(),
    }))
    .sort((a, b) => a.key.localeCompare(b.key));
}

function view(inv: WorkloadInventory) {
  return inv.services.map((s) => ({ key: `${s.target.namespace}/${s.target.name}`, revision: s.revision, image: s.image, replicas: s.replicas, pods: s.pods.map((p) => p.name) }));
}

/** The inventory matches kubectl's view (retried: both are snapshots of a moving cluster). */
async function inventoryMatchesKubectl(source: KubernetesSource, kubeconfig: string, timeoutMs = 15_000): Promise<void> {
  let last = '';
  await waitFor(
    'inventory equal to kubectl',
    async () => {
      const want = await kubectlView(kubeconfig);
      const got = view(source.inventory());
      last = `want ${JSON.stringify(want)}\n got ${JSON.stringify(got)}`;
      return JSON.stringify(want) === JSON.stringify(got) && want.length > 0 ? true : undefined;
    },
    timeoutMs,
    300,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${last}`);
  });
}

describe('observe: Kubernetes source against the sandbox', function () {
  this.timeout(120_000);
  const clock = new SystemClock();

  describe('inventory and facts', () => {
    let sandbox: InProcessSandbox;
    let source: KubernetesSource;
    let logs: LogTailer;
    let conn: KubeConnection;
    const facts: ClusterFact[] = [];

    before(async () => {
      sandbox = await startInProcessSandbox();
      conn = await connectKube({ kubeconfig: sandbox.kubeconfig });
      logs = new LogTailer(conn, { maxReadsPerSecond: 20, maxPodsPerService: 5 });
      source = new KubernetesSource({ conn, clock, logs });
      source.subscribe((f) => facts.push(f));
      await waitFor('informers synced', () => (source.ready ? true : undefined), 15_000);
    });
    after(async () => {
      source?.dispose();
      await sandbox?.stop();
    });

    it('lists every deployment with its revision, image, replicas and pods, as kubectl sees them', async () => {
      await inventoryMatchesKubectl(source, sandbox.kubeconfig);
      const inv = source.inventory();
      // built once per change: a read with no change between (nothing runs between two synchronous calls) is the same object
      assert.equal(source.inventory(), inv);
      assert.ok(inv.nodes.length >= 3 && inv.nodes.every((n) => n.ready));
      assert.equal(inv.nodes.reduce((n, x) => n + x.pods, 0), inv.services.reduce((n, s) => n + s.pods.length, 0));
      const targets = source.scrapeTargets();
      assert.equal(targets.length, inv.services.reduce((n, s) => n + s.pods.length, 0));
      assert.ok(targets.every((t) => t.port === '8080' && t.path === '/metrics' && t.deployment && t.node));
    });

    it('derives scaled, rollout and revision facts from kubectl changes', async () => {
      await kubectlOk(sandbox.kubeconfig, ['scale', 'deployment/cart', '-n', 'shop', '--replicas=3']);
      const scaled = await waitFor('scaled fact', () => facts.find((f) => f.kind === 'scaled' && f.target.name === 'cart'), 10_000);
      assert.deepEqual(scaled.target, { kind: 'service', namespace: 'shop', name: 'cart' });
      assert.deepEqual(scaled.attributes, { from: 2, to: 3 });
      const dep = JSON.parse(await kubectlOk(sandbox.kubeconfig, ['get', 'deployment/checkout', '-n', 'shop', '-o', 'json'])) as KDeployment;
      const container = dep.spec.template.spec.containers[0].name;
      await kubectlOk(sandbox.kubeconfig, ['set', 'image', 'deployment/checkout', '-n', 'shop', `${container}=registry.local/checkout:9.9.9`]);
      const rev = await waitFor('revision-changed fact', () => facts.find((f) => f.kind === 'revision-changed' && f.target.name === 'checkout'), 15_000);
      assert.equal(rev.attributes?.image, 'registry.local/checkout:9.9.9');
      assert.ok(facts.some((f) => f.kind === 'rollout-started' && f.target.name === 'checkout'));
      await waitFor('rollout-finished fact', () => facts.find((f) => f.kind === 'rollout-finished' && f.target.name === 'checkout'), 30_000);
      await inventoryMatchesKubectl(source, sandbox.kubeconfig);
      const checkout = source.inventory().services.find((s) => s.target.name === 'checkout')!;
      assert.equal(checkout.image, 'registry.local/checkout:9.9.9');
      assert.equal(checkout.rolloutInProgress, false);
      assert.ok(facts.some((f) => f.kind === 'k8s-event' && f.reason === 'ScalingReplicaSet'), `k8s events seen: ${facts.filter((f) => f.kind === 'k8s-event').map((f) => f.reason).join(', ')}`);
    });

    it('derives pod-restarted and crash-backoff facts from a crash-looping pod, and counts its error logs', async () => {
      const r = await fetch(`${sandbox.apiServer}/sandbox/v1/faults`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ fault: 'crash-loop', target: 'shop/frontend' }) });
      assert.equal(r.status < 300, true, `fault injected: HTTP ${r.status}`);
      const restarted = await waitFor('pod-restarted fact', () => facts.find((f) => f.kind === 'pod-restarted' && f.target.name === 'frontend'), 30_000, 200);
      assert.equal(restarted.target.kind, 'service');
      assert.match(String(restarted.attributes?.pod), /^frontend-/);
      await waitFor('crash-backoff fact', () => facts.find((f) => f.kind === 'crash-backoff' && f.target.name === 'frontend'), 30_000, 200);
      const frontendTarget = { kind: 'service' as const, namespace: 'shop', name: 'frontend' };
      // evidence on demand: the tailer has not read this workload yet
      const evidence = await source.recentLogs(frontendTarget, 5);
      assert.ok(evidence.length > 0 && evidence.every((l) => l.pattern && l.pod.name.startsWith('frontend-')), JSON.stringify(evidence));
      // the log_errors count of one round, on a tailer of its own
      const counter = new LogTailer(conn, { maxReadsPerSecond: 20, maxPodsPerService: 5 });
      const frontend = servicesFromInventory(source.inventory(), ['shop/frontend']);
      const round = await counter.round(frontend, 120, Date.now());
      assert.deepEqual(round.problems, []);
      assert.ok((round.counts.get('service:shop/frontend') ?? 0) > 0, 'the crash-looping service logged error lines');
      // a second round over the same 120 s counts only lines newer than the first round saw
      await logs.round(frontend, 120, Date.now());
      const all = await source.recentLogs(frontendTarget, 1000);
      const keys = all.map((l) => `${l.t} ${l.pod.name} ${l.text}`);
      assert.equal(new Set(keys).size, keys.length, 'no log line is counted twice');
    });
  });

  describe('API server outage', () => {
    let sandbox: ChildSandbox | undefined;
    let source: KubernetesSource | undefined;

    after(async () => {
      source?.dispose();
      await sandbox?.stop();
    });

    it('reports the API down while stopped, then relists and matches kubectl again after a restart on the same port', async () => {
      sandbox = await startChildSandbox();
      const port = new URL(sandbox.apiServer).port;
      const conn = await connectKube({ kubeconfig: sandbox.kubeconfig });
      const statuses: SourceStatus[] = [];
      source = new KubernetesSource({ conn, clock, backoffBaseMs: 200, backoffMaxMs: 2_000 });
      source.onStatus((s) => statuses.push(s));
      source.start();
      await inventoryMatchesKubectl(source, sandbox.kubeconfig, 30_000);
      // change the cluster, so that the restarted sandbox (fresh state) differs from the cached inventory
      await kubectlOk(sandbox.kubeconfig, ['scale', 'deployment/frontend', '-n', 'shop', '--replicas=5']);
      await waitFor('cache sees the scale', () => (source!.inventory().services.find((s) => s.target.name === 'frontend')?.replicas === 5 ? true : undefined), 10_000);
      await sandbox.stop();
      const down = await waitFor('down status', () => statuses.find((s) => s.state === 'down'), 15_000, 100);
      assert.match(down.message, new RegExp(`^Kubernetes API unreachable at http://127\\.0\\.0\\.1:${port}: `));
      sandbox = await startChildSandbox(['--port', port]);
      assert.equal(new URL(sandbox.apiServer).port, port);
      await waitFor('ok status after restart', () => (source!.status.state === 'ok' ? true : undefined), 20_000, 100);
      await inventoryMatchesKubectl(source, sandbox.kubeconfig, 30_000);
      assert.equal(source.inventory().services.find((s) => s.target.name === 'frontend')?.replicas, 3, 'the relist replaced the stale cached scale');
    });
  });
});
