/**
 * A real Prometheus, configured as kube-prometheus-stack scrapes (src/sandbox/controlPlane/prometheusConfig.ts):
 * every target comes from kubernetes_sd_configs against the real API server, with the tier's read-only
 * `vigil:prometheus` identity. Prometheus runs on this host and reaches the cluster over its veth. It is the
 * upstream Prometheus `npm run k8s:build` builds: Debian's package (bookworm, 2.42) is built without
 * Kubernetes service discovery ("field kubernetes_sd_configs not found").
 *
 * The pod and cAdvisor scrapes need the node agent to serve the workloads on the pod IPs and the kubelet port
 * :10250 (issue 13, the simulation as the nodes). Their discovery is checked always; their scrape (`up`, the
 * series' labels) is checked once that port answers, and skipped — saying so — while it does not.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import type { ClusterFact } from '../../src/core/model/fact';
import { controlPlanePrometheusConfig } from '../../src/sandbox/controlPlane/prometheusConfig';
import { connectKube } from '../../src/infra/kubernetes/kubeClient';
import { KubernetesSource } from '../../src/infra/kubernetes/kubernetesSource';
import { PrometheusClient } from '../../src/infra/prometheus/prometheusClient';
import { startPrometheus, type PrometheusProcess } from '../../src/infra/prometheus/prometheusLauncher';
import { ScrapeFailureWatch } from '../../src/infra/prometheus/scrapeFailures';
import { SystemClock } from '../../src/infra/systemClock';
import { builtPrometheus } from '../../src/sandbox/controlPlane/components';
import { apply, cluster, deploymentManifest, inNetns, kubectlOk, settled, waitFor, type PodView } from './cluster';

const REPO_ROOT = path.resolve(__dirname, '../..');

const NS = 'scrape';
const SCRAPE_SECONDS = 2;

interface ActiveTarget {
  readonly labels: Record<string, string>;
  readonly discoveredLabels: Record<string, string>;
  readonly scrapeUrl: string;
  readonly health: 'up' | 'down' | 'unknown';
  readonly lastError: string;
}

/** Whether something accepts TCP connections on host:port (over the veth), within 2 s. */
function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: 2000 });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.once('timeout', () => done(false));
  });
}

describe('Prometheus with kubernetes_sd_configs, as kube-prometheus-stack scrapes', function () {
  this.timeout(150_000);
  let prom: PrometheusProcess;
  let podsNow: PodView[] = [];

  const targets = async (job: string): Promise<ActiveTarget[]> => {
    const r = (await (await fetch(`${prom.url}/api/v1/targets?state=active`)).json()) as { data: { activeTargets: ActiveTarget[] } };
    return r.data.activeTargets.filter((t) => t.labels.job === job);
  };
  const targetsText = (ts: ReadonlyArray<ActiveTarget>) => ts.map((t) => `${t.scrapeUrl} ${t.health} ${t.lastError}`).join('; ');

  before(async function () {
    const { cp } = cluster();
    const built = builtPrometheus(cp.binaries);
    if ('reason' in built) throw new Error(`the k8s tier needs Prometheus with Kubernetes service discovery: ${built.reason}`);
    await apply(deploymentManifest({ namespace: NS, name: 'api', container: 'api', replicas: 2, port: 8080, scrape: true }));
    podsNow = await settled(NS, 'app=api', 2);
    prom = await startPrometheus({
      binary: built.binary,
      targets: [],
      config: controlPlanePrometheusConfig(cp, SCRAPE_SECONDS),
    });
  });

  after(async () => {
    await prom?.stop();
    await kubectlOk(['delete', 'namespace', NS, '--wait=false']).catch(() => undefined);
  });

  it('discovers the API server (default/kubernetes, port https) and scrapes it with the cluster CA and its client certificate', async () => {
    const { cp } = cluster();
    // bound 60 s: discovery, then a first scrape of the apiserver (every 15 s)
    const t = await waitFor('the apiserver target to be up', 60_000, async () => {
      const ts = await targets('apiserver');
      if (ts.length !== 1 || ts[0].health !== 'up') throw new Error(`apiserver targets: ${targetsText(ts) || 'none'}`);
      return ts[0];
    });
    assert.equal(t.scrapeUrl, `${cp.server}/metrics`);
    assert.equal(t.labels.namespace, 'default');
    assert.equal(t.labels.service, 'kubernetes');
    // the apiserver's own metrics, e.g. its request counter (bound 30 s: one more scrape)
    const names = await waitFor('apiserver_* series from the apiserver job', 30_000, async () => {
      const r = await prom.query('count by (__name__) ({job="apiserver", __name__=~"apiserver_.+"})');
      if (r.length === 0) throw new Error(`no apiserver_* series; the job has ${JSON.stringify(await prom.query('count({job="apiserver"})'))} series`);
      return r.map((s) => s.metric.__name__);
    });
    assert.ok(names.includes('apiserver_request_total'), `apiserver_request_total among ${names.length} apiserver_* names`);
  });

  it('discovers kube-state-metrics (kube-system/kube-state-metrics, port http) and keeps its series\' own labels', async () => {
    const t = await waitFor('the kube-state-metrics target to be up', 45_000, async () => {
      const ts = await targets('kube-state-metrics');
      if (ts.length !== 1 || ts[0].health !== 'up') throw new Error(`kube-state-metrics targets: ${targetsText(ts) || 'none'}`);
      return ts[0];
    });
    assert.equal(t.scrapeUrl, `${cluster().cp.kubeStateMetricsUrl}`);
    assert.equal(t.labels.service, 'kube-state-metrics');
    // honor_labels: the pod's namespace, not the target's kube-system; pod and container as kube-state-metrics says
    const info = await waitFor('kube_pod_container_info of both pods', 45_000, async () => {
      const r = await prom.query(`kube_pod_container_info{namespace="${NS}"}`);
      return r.length === 2 ? r : undefined;
    });
    assert.deepEqual(info.map((s) => s.metric.pod).sort(), podsNow.map((p) => p.metadata.name).sort());
    for (const s of info) {
      assert.equal(s.metric.namespace, NS);
      assert.equal(s.metric.container, 'api');
      assert.equal(s.metric.deployment, undefined, 'no deployment label: the series say namespace, pod, container');
    }
    const phase = await prom.query(`kube_pod_status_phase{namespace="${NS}", phase="Running"} == 1`);
    assert.deepEqual(phase.map((s) => s.metric.pod).sort(), podsNow.map((p) => p.metadata.name).sort());
    const nodes = await prom.query('kube_node_info');
    assert.deepEqual(nodes.map((s) => s.metric.node).sort(), cluster().nodes.map((n) => n.name).sort());
  });

  it('discovers each annotated pod at podIP:prometheus.io/port, labelled namespace, pod, container and node', async function () {
    const ts = await waitFor('one kubernetes-pods target per pod', 45_000, async () => {
      const all = (await targets('kubernetes-pods')).filter((t) => t.labels.namespace === NS);
      return all.length === 2 ? all : undefined;
    });
    for (const p of podsNow) {
      const t = ts.find((x) => x.labels.pod === p.metadata.name);
      assert.ok(t, `a target for pod ${p.metadata.name}`);
      assert.equal(t.scrapeUrl, `http://${p.status.podIP}:8080/metrics`);
      assert.equal(t.labels.container, 'api');
      assert.equal(t.labels.node, p.spec.nodeName);
      assert.equal(t.labels.deployment, undefined);
    }
    if (!(await answers(podsNow[0].status.podIP!, 8080))) {
      console.log(`      (nothing serves ${podsNow[0].status.podIP}:8080 yet: the node agent runs no workload behind a pod; the scrape of the pods is not checked)`);
      this.skip();
    }
    await waitFor('both pod targets up', 45_000, async () => {
      const all = (await targets('kubernetes-pods')).filter((t) => t.labels.namespace === NS);
      if (!all.every((t) => t.health === 'up')) throw new Error(targetsText(all));
      return true;
    });
    const up = await prom.query(`up{job="kubernetes-pods", namespace="${NS}"}`);
    assert.deepEqual(up.map((s) => s.metric.pod).sort(), podsNow.map((p) => p.metadata.name).sort());
  });

  it('discovers every node\'s kubelet at InternalIP:10250/metrics/cadvisor; cAdvisor series carry namespace, pod and container', async function () {
    const { nodes } = cluster();
    const ts = await waitFor('one kubelet target per node', 45_000, async () => {
      const all = await targets('kubelet');
      return all.length === nodes.length ? all : undefined;
    });
    for (const n of nodes) {
      const t = ts.find((x) => x.labels.node === n.name);
      assert.ok(t, `a kubelet target for ${n.name}`);
      assert.equal(t.scrapeUrl, `https://${n.internalIP}:10250/metrics/cadvisor`);
      assert.equal(t.labels.metrics_path, '/metrics/cadvisor');
    }
    if (!(await answers(nodes[0].internalIP, 10250))) {
      console.log(`      (nothing serves ${nodes[0].internalIP}:10250 yet: the node agent serves no kubelet port; the cAdvisor scrape is not checked)`);
      this.skip();
    }
    await waitFor('every kubelet target up', 45_000, async () => {
      const all = await targets('kubelet');
      if (!all.every((t) => t.health === 'up')) throw new Error(targetsText(all));
      return true;
    });
    const cpu = await waitFor('container_cpu_usage_seconds_total of the pods', 45_000, async () => {
      const r = await prom.query(`container_cpu_usage_seconds_total{namespace="${NS}"}`);
      return r.some((s) => s.metric.container === 'api') ? r : undefined;
    });
    const named = cpu.filter((s) => s.metric.container === 'api');
    assert.deepEqual([...new Set(named.map((s) => s.metric.pod))].sort(), podsNow.map((p) => p.metadata.name).sort());
    for (const s of cpu) assert.equal(s.metric.deployment, undefined);
    const memory = await prom.query(`container_memory_working_set_bytes{namespace="${NS}", container="api"}`);
    assert.equal(memory.length, 2);
    // real cAdvisor also has each pod's own cgroup, container=""
    const podLevel = await prom.query(`container_cpu_usage_seconds_total{namespace="${NS}", container=""}`);
    assert.ok(podLevel.length > 0, 'the container="" series of each pod');
  });

  it('a failed node: its kubelet and pods read up == 0 within scrapes, and Vigil names it NodeUnreachable long before its Lease lapses', async function () {
    // grace 20 s to Unknown, then the pods are evicted; the fault lasts 45 s and the node is Ready again after it
    this.timeout(240_000);
    const node = podsNow[0].spec.nodeName!;
    if (!(await answers(podsNow[0].status.podIP!, 8080))) this.skip();
    const source = new KubernetesSource({ conn: await connectKube({ kubeconfig: cluster().cp.kubeconfig }), clock: new SystemClock() });
    const facts: Array<{ fact: ClusterFact; at: number }> = [];
    source.subscribe((fact) => facts.push({ fact, at: Date.now() }));
    const watch = new ScrapeFailureWatch({ client: new PrometheusClient({ url: prom.url }), clock: new SystemClock(), onRead: (read) => source.noteScrapeFailures(read) });
    watch.start();
    try {
      await waitFor('every kubelet and pod target up', 45_000, async () => {
        const down = await prom.query('up == 0');
        return down.length === 0 && (await prom.query(`up{node="${node}"}`)).length >= 2 ? true : undefined;
      });
      // inject just after the node's renewal came through the watch, so its Lease lapses a renew interval and a half later
      const listed = await waitFor("every node's Lease listed", 60_000, async () => (source.nodeHeartbeats().length === cluster().nodes.length ? source.nodeHeartbeats().find((h) => h.node === node)?.renewedAt : undefined));
      await waitFor(`${node}'s Lease renewed through the watch`, 30_000, async () => ((source.nodeHeartbeats().find((h) => h.node === node)?.renewedAt ?? 0) > listed ? true : undefined));
      const injectedAt = Date.now();
      const injected = await inNetns([process.execPath, '--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), 'chaos', 'node-failure', '--target', node, '--duration', '45', '--kubeconfig', cluster().cp.kubeconfig], { timeoutMs: 60_000 });
      assert.equal(injected.code, 0, injected.stderr);
      const unreachable = await waitFor(`a NodeUnreachable fact for ${node}`, 30_000, async () => facts.find((f) => f.fact.reason === 'NodeUnreachable'));
      const lease = await waitFor(`the NodeLeaseExpired fact for ${node}`, 30_000, async () => facts.find((f) => f.fact.reason === 'NodeLeaseExpired'));
      const s = (at: number) => `${((at - injectedAt) / 1000).toFixed(1)} s`;
      console.log(`      ${node} named from its scrapes ${s(unreachable.at)} after the injection, from its Lease ${s(lease.at)} (scrapes every ${SCRAPE_SECONDS} s, Lease every 10 s)`);
      assert.equal(unreachable.fact.target.name, node);
      assert.match(unreachable.fact.message, new RegExp(`^Node ${node} stopped answering: its kubelet and [1-9] pod\\(s\\) on it \\(.*${NS}/api-.*\\) fail their scrapes \\(Prometheus up == 0\\) while the other nodes answer; its Lease was last renewed [0-9]+ s ago \\(every 10 s\\)`));
      assert.ok(unreachable.at < lease.at, `named from its scrapes (${s(unreachable.at)}) before its Lease (${s(lease.at)})`);
      assert.ok(unreachable.at - injectedAt <= 12_000, `named ${s(unreachable.at)} after the injection: within 12 s of scrapes every ${SCRAPE_SECONDS} s`);
      assert.ok(facts.filter((f) => f.fact.kind === 'node-not-ready').every((f) => f.fact.target.name === node), `no other node named: ${JSON.stringify(facts.map((f) => f.fact.message))}`);
      // the fault ends: its kubelet answers again, and the node is Ready
      await waitFor(`${node} reachable and Ready again`, 150_000, async () => {
        const ready = await kubectlOk(['get', 'node', node, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
        return ready.trim() === 'True' && facts.some((f) => f.fact.reason === 'NodeReachable' && f.fact.target.name === node) ? true : undefined;
      });
    } finally {
      watch.dispose();
      source.dispose();
    }
  });
});
