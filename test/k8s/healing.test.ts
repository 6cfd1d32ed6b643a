/**
 * The shipped agent (`node dist/cli.js agent`, auto mode, 5 s interval) heals the shop on the real control plane
 * with **no signals file**: its only metrics source is a Prometheus configured like kube-prometheus-stack
 * (src/sandbox/controlPlane/prometheusConfig.ts: kubernetes_sd pods, kubelet/cAdvisor and kube-state-metrics with
 * their standard relabeling), whose application, cAdvisor and kube_pod_* series carry namespace, pod and container,
 * never `deployment`. The agent finds its signals in what that Prometheus has and maps pods to their Deployments
 * from its own informers (issue 14).
 *
 * A bad release and a crash loop are injected through the node agent's fault API (what `vigil chaos` uses); the
 * ground truth — when the service showed symptoms and when it was healthy again — is the fault API's. Each test
 * polls the agent's incident files until the verdict, within a stated bound. Needs the bundle
 * (`node node_modules/webpack/bin/webpack.js --mode production`); `npm run test:k8s` builds it.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { faultApiRequest, faultApiUrl } from '../../src/cli/chaos';
import { diagnosisActedOn, type Incident } from '../../src/core/model/incident';
import { startPrometheus, type PrometheusProcess } from '../../src/infra/prometheus/prometheusLauncher';
import { FileStore } from '../../src/infra/store/fileStore';
import { builtPrometheus } from '../../src/sandbox/controlPlane/components';
import { controlPlanePrometheusConfig } from '../../src/sandbox/controlPlane/prometheusConfig';
import { shopManifests } from '../../src/sandbox/sim/topology';
import { apply, cluster, kubectl, kubectlOk, pods, podReady, stopChild, waitFor } from './cluster';

const REPO_ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(REPO_ROOT, 'dist/cli.js');
const INTERVAL_S = 5;
/** The shop's ten pods Ready after the apply: ~15 s measured on the loaded 2-core machine. */
const SHOP_READY_BOUND_MS = 180_000;
/** The agent learns the services' normal behaviour this long before a fault, as bench:heal does. */
const WARMUP_MS = 40_000;
/**
 * Injection to the recovered verdict: bench:heal on the real control plane measured ~30-40 s for both faults;
 * 4 minutes allowed (the machine is shared by seven sessions).
 */
const HEAL_BOUND_MS = 240_000;

interface FaultRecord {
  readonly id: string;
  readonly symptomsAt?: string;
  readonly recoveredAt?: string;
  readonly healthyNow?: boolean;
}

describe('the agent heals the shop on the real control plane from a kube-prometheus-stack Prometheus, with no signals file', function () {
  this.timeout(HEAL_BOUND_MS + 60_000);
  let prom: PrometheusProcess | undefined;
  let agent: ChildProcess | undefined;
  let output = '';
  let stateDir: string;
  let faults: string;

  const fault = async (method: string, p: string, body?: unknown) => {
    const r = await faultApiRequest(faults, method, p, body);
    assert.ok(r.status < 300, `fault API ${method} ${p}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as unknown as FaultRecord;
  };

  /** Injects `name` on `target`, waits for the agent's verdict on it, ends the fault; the incident and the ground truth. */
  const heal = async (name: string, target: string): Promise<{ incident: Incident; truth: FaultRecord; injectedAt: number }> => {
    const [namespace, workload] = target.split('/');
    const injectedAt = Date.now();
    const { id } = await fault('POST', '/faults', { fault: name, target, durationSeconds: 900 });
    try {
      const incident = await waitFor(`the agent's verdict on ${target} after ${name}`, HEAL_BOUND_MS, async () => {
        const all = await new FileStore(stateDir).listIncidents();
        const mine = all.find((i) => i.openedAt >= injectedAt - 1000 && i.target.namespace === namespace && i.target.name === workload);
        if (!mine) throw new Error(`no incident on ${target} yet (${all.length} in all); agent output: ${output.slice(-1500)}`);
        if (mine.state !== 'recovered' && mine.state !== 'escalated') throw new Error(`incident ${mine.id} is ${mine.state}: ${mine.timeline.map((e) => e.kind).join(', ')}`);
        return mine;
      });
      const truth = await fault('GET', `/faults/${id}`);
      return { incident, truth, injectedAt };
    } finally {
      await faultApiRequest(faults, 'DELETE', `/faults/${id}`).catch(() => undefined);
    }
  };

  before(async function () {
    this.timeout(SHOP_READY_BOUND_MS + WARMUP_MS + 120_000);
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build it with \`node node_modules/webpack/bin/webpack.js --mode production\` (npm run test:k8s does)`);
    const { cp, dir } = cluster();
    const built = builtPrometheus(cp.binaries);
    if ('reason' in built) throw new Error(`the k8s tier needs Prometheus with Kubernetes service discovery: ${built.reason}`);
    await apply(shopManifests().map((o) => stringify(o)).join('---\n'));
    await waitFor('all 10 shop pods Ready', SHOP_READY_BOUND_MS, async () => {
      const ready = [...(await pods('shop', 'app')), ...(await pods('payments', 'app'))].filter(podReady);
      return ready.length === 10 ? true : undefined;
    });
    prom = await startPrometheus({
      binary: built.binary,
      targets: [],
      config: controlPlanePrometheusConfig(cp, 1),
    });
    // what the agent will see: application series by pod, without a deployment label (bound 60 s: discovery and first scrapes)
    const series = await waitFor('http_requests_total of the shop\'s pods in Prometheus', 60_000, async () => {
      const r = await prom!.query('count by (namespace, pod, deployment) (http_requests_total{namespace="shop"})');
      return r.length === 8 ? r : undefined;
    });
    assert.ok(series.every((s) => s.metric.pod && s.metric.deployment === undefined), `no deployment label: ${JSON.stringify(series.map((s) => s.metric))}`);
    faults = await faultApiUrl(cp.kubeconfig);
    stateDir = path.join(dir, 'healing-agent');
    mkdirSync(stateDir, { recursive: true });
    // the sandbox compresses time: rates over six intervals (30 s), as bench:heal
    agent = spawn(process.execPath, [CLI, 'agent', '--kubeconfig', cp.kubeconfig, '--prometheus', prom.url, '--mode', 'auto', '--interval-seconds', String(INTERVAL_S), '--state-dir', stateDir], {
      cwd: REPO_ROOT,
      env: { ...process.env, VIGIL_RATE_WINDOW_SECONDS: String(6 * INTERVAL_S) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    agent.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    agent.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    // the agent holds the Lease (default/vigil-copilot) before it acts (bound 90 s: the bundle, client-node, the model)
    await waitFor('the agent to hold the Lease and act', 90_000, async () => {
      if (agent!.exitCode !== null) throw new Error(`the agent exited (${agent!.exitCode}): ${output.slice(-2000)}`);
      return /holding Lease default\/vigil-copilot: this instance acts/.test(output) ? true : undefined;
    });
    await new Promise((r) => setTimeout(r, WARMUP_MS));
  });

  after(async function () {
    this.timeout(150_000);
    await stopChild(agent);
    await prom?.stop();
    await kubectl(['delete', 'lease', 'vigil-copilot', '-n', 'default', '--ignore-not-found']).catch(() => undefined);
    // the node agent test applies the shop again; the drains of other files must not wait on its budgets
    await kubectl(['delete', 'namespace', 'shop', 'payments', '--wait=true', '--timeout=120s'], { timeoutMs: 130_000 });
  });

  it('a bad release of shop/frontend: diagnosed as a bad release, rolled back, healed by ground truth before the verdict', async () => {
    const { incident, truth, injectedAt } = await heal('bad-release', 'shop/frontend');
    const acted = incident.timeline.flatMap((e) => (e.kind === 'acted' ? [e.result.action] : []));
    console.log(`      bad release: detected ${((incident.openedAt - injectedAt) / 1000).toFixed(0)} s, verified ${(((incident.outcome?.t ?? NaN) - injectedAt) / 1000).toFixed(0)} s after injection; healed ${truth.recoveredAt ? ((Date.parse(truth.recoveredAt) - injectedAt) / 1000).toFixed(0) : '—'} s`);
    assert.equal(incident.state, 'recovered', `outcome ${incident.state}: ${output.slice(-1500)}`);
    assert.equal(diagnosisActedOn(incident), 'bad-release');
    assert.equal(acted[0]?.kind, 'rollback', `actions: ${JSON.stringify(acted)}`);
    assert.ok(truth.symptomsAt, 'the fault API saw symptoms');
    assert.ok(truth.recoveredAt, 'the fault API saw the service healthy again');
    assert.ok(Date.parse(truth.recoveredAt) <= incident.outcome!.t, `healed ${truth.recoveredAt} before the verdict ${new Date(incident.outcome!.t).toISOString()}`);
    // the real Deployment controller rolled the template back: the release's image is gone
    const image = (await kubectlOk(['get', 'deploy/frontend', '-n', 'shop', '-o', 'jsonpath={.spec.template.spec.containers[0].image}'])).trim();
    assert.equal(image, 'shop/frontend:2.3.1');
  });

  it('a crash loop of shop/checkout: diagnosed as a crash loop, remedied, healed by ground truth before the verdict', async () => {
    const { incident, truth, injectedAt } = await heal('crash-loop', 'shop/checkout');
    const acted = incident.timeline.flatMap((e) => (e.kind === 'acted' ? [e.result.action] : []));
    console.log(`      crash loop: detected ${((incident.openedAt - injectedAt) / 1000).toFixed(0)} s, verified ${(((incident.outcome?.t ?? NaN) - injectedAt) / 1000).toFixed(0)} s after injection; healed ${truth.recoveredAt ? ((Date.parse(truth.recoveredAt) - injectedAt) / 1000).toFixed(0) : '—'} s; ${acted.map((a) => a.kind).join(', ')}`);
    assert.equal(incident.state, 'recovered', `outcome ${incident.state}: ${output.slice(-1500)}`);
    assert.equal(diagnosisActedOn(incident), 'crash-loop');
    assert.ok(acted.length > 0, 'at least one action');
    assert.ok(truth.symptomsAt, 'the fault API saw symptoms');
    assert.ok(truth.recoveredAt, 'the fault API saw the service healthy again');
    assert.ok(Date.parse(truth.recoveredAt) <= incident.outcome!.t, `healed ${truth.recoveredAt} before the verdict ${new Date(incident.outcome!.t).toISOString()}`);
  });
});
