/**
 * The real kubectl (KUBECONFIG = the sandbox's kubeconfig) drives the sandbox, and the tests assert
 * the resulting state in the store: gets, scale, rollouts, undo, cordon, drain, pod replacement,
 * logs, event watches, PDB-guarded evictions, the pod metrics proxy, patches and server dry runs.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { sandboxKubeconfig } from '../../../src/sandbox/kubeconfig';
import type { KubeObject } from '../../../src/sandbox/store';
import { kubectl, kubectlOk, startChildSandbox, startInProcessSandbox, waitFor, type ChildSandbox, type InProcessSandbox } from './sandboxProcess';

interface PodLike extends KubeObject {
  spec: { nodeName?: string; containers: Array<{ name: string; image: string }> };
  status: { phase?: string; conditions?: Array<{ type: string; status: string }> };
}
interface DeploymentLike extends KubeObject {
  spec: { replicas: number; template: { metadata?: { annotations?: Record<string, string> }; spec: { containers: Array<{ name: string; image: string }> } } };
  status?: { readyReplicas?: number; updatedReplicas?: number; replicas?: number };
}

describe('sandbox with the real kubectl', function () {
  this.timeout(120_000);
  let sb: InProcessSandbox;
  let kc: string;
  const k = (...args: string[]) => kubectlOk(kc, args, { timeoutMs: 90_000 });

  const store = () => sb.sandbox.store;
  const deployment = (ns: string, name: string) => store().mustGet('deployments', ns, name) as DeploymentLike;
  const pods = (ns: string, app?: string) => store().list('pods', ns).items.filter((p) => !app || p.metadata.labels?.app === app) as PodLike[];
  const ready = (p: PodLike) => p.status.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
  /** Waits until a deployment has exactly its desired number of pods, all ready and of the current template. */
  const settled = (ns: string, name: string) =>
    waitFor(`${ns}/${name} to settle`, () => {
      const d = deployment(ns, name);
      const ps = pods(ns, name);
      const image = d.spec.template.spec.containers[0].image;
      return ps.length === d.spec.replicas && ps.every((p) => ready(p) && p.spec.containers[0].image === image) && d.status?.readyReplicas === d.spec.replicas ? ps : undefined;
    }, 45_000);

  before(async () => {
    sb = await startInProcessSandbox();
    kc = sb.kubeconfig;
    await settled('shop', 'checkout');
  });
  after(async () => {
    await sb?.stop();
  });

  it('get pods -A lists every pod of every namespace with the standard columns', async () => {
    const out = await k('get', 'pods', '-A');
    const [header, ...rows] = out.trim().split('\n');
    assert.match(header, /^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE/);
    const listed = rows.map((r) => r.split(/\s+/).slice(0, 2).join('/')).sort();
    const stored = store().list('pods').items.map((p) => `${p.metadata.namespace}/${p.metadata.name}`).sort();
    assert.deepEqual(listed, stored);
    assert.ok(listed.some((n) => n.startsWith('shop/')) && listed.some((n) => n.startsWith('payments/')));
  });

  it('get incidents -A shows an Incident resource with the CRD\'s printer columns; auth whoami names the sandbox user', async () => {
    store().create('incidents', { apiVersion: 'vigil.dev/v1alpha1', kind: 'Incident', metadata: { name: 'inc-k', namespace: 'shop' }, spec: { incidentId: 'inc-K', target: 'service/checkout' }, status: { state: 'awaiting-approval', diagnosis: { kind: 'bad-release', confidence: '84%', summary: 's' } } });
    const [header, row] = (await k('get', 'incidents', '-A')).trim().split('\n');
    assert.match(header, /^NAMESPACE\s+NAME\s+TARGET\s+DIAGNOSIS\s+CONFIDENCE\s+STATE\s+AGE/);
    assert.match(row, /^shop\s+inc-k\s+service\/checkout\s+bad-release\s+84%\s+awaiting-approval\s+\d+s/);
    assert.match(await k('auth', 'whoami'), /Username\s+vigil-sandbox-admin/);
  });

  it('get deploy -n shop -o json returns the stored deployments', async () => {
    const list = JSON.parse(await k('get', 'deploy', '-n', 'shop', '-o', 'json')) as { items: DeploymentLike[] };
    const names = list.items.map((d) => d.metadata.name).sort();
    assert.deepEqual(names, store().list('deployments', 'shop').items.map((d) => d.metadata.name).sort());
    const checkout = list.items.find((d) => d.metadata.name === 'checkout');
    assert.equal(checkout?.metadata.resourceVersion, deployment('shop', 'checkout').metadata.resourceVersion);
    assert.equal(checkout?.metadata.annotations?.['deployment.kubernetes.io/revision'], '1');
  });

  it('scale changes the replica count and the ReplicaSet brings the pods', async () => {
    await settled('shop', 'cart');
    assert.match(await k('scale', 'deploy/cart', '-n', 'shop', '--replicas=4'), /deployment.apps\/cart scaled/);
    assert.equal(deployment('shop', 'cart').spec.replicas, 4);
    const ps = await settled('shop', 'cart');
    assert.equal(ps.length, 4);
    const scale = JSON.parse(await k('get', '--raw', '/apis/apps/v1/namespaces/shop/deployments/cart/scale'));
    assert.equal(scale.kind, 'Scale');
    assert.equal(scale.spec.replicas, 4);
    await k('scale', 'deploy/cart', '-n', 'shop', '--replicas=2');
    await settled('shop', 'cart');
  });

  it('rollout restart then rollout status completes with all pods replaced', async () => {
    await settled('shop', 'frontend');
    const before = new Set(pods('shop', 'frontend').map((p) => p.metadata.name));
    await k('rollout', 'restart', 'deploy/frontend', '-n', 'shop');
    assert.ok(deployment('shop', 'frontend').spec.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt']);
    const status = await k('rollout', 'status', 'deploy/frontend', '-n', 'shop', '--timeout=60s');
    assert.match(status, /successfully rolled out/);
    const after = await settled('shop', 'frontend');
    assert.ok(after.every((p) => !before.has(p.metadata.name)), 'every pod is new after the restart');
    assert.equal(deployment('shop', 'frontend').metadata.annotations?.['deployment.kubernetes.io/revision'], '2');
  });

  it('set image then rollout undo returns to the previous template', async () => {
    await settled('shop', 'checkout');
    const previous = structuredClone(deployment('shop', 'checkout').spec.template);
    const container = previous.spec.containers[0].name;
    await k('set', 'image', 'deploy/checkout', '-n', 'shop', `${container}=shop/checkout:9.9.9`);
    assert.equal(deployment('shop', 'checkout').spec.template.spec.containers[0].image, 'shop/checkout:9.9.9');
    assert.match(await k('rollout', 'status', 'deploy/checkout', '-n', 'shop', '--timeout=60s'), /successfully rolled out/);
    assert.ok(pods('shop', 'checkout').every((p) => p.spec.containers[0].image === 'shop/checkout:9.9.9'));
    assert.match(await k('rollout', 'undo', 'deploy/checkout', '-n', 'shop'), /rolled back/);
    assert.match(await k('rollout', 'status', 'deploy/checkout', '-n', 'shop', '--timeout=60s'), /successfully rolled out/);
    const restored = deployment('shop', 'checkout').spec.template;
    assert.deepEqual(restored.spec, previous.spec);
    assert.deepEqual(restored.metadata?.annotations ?? {}, previous.metadata?.annotations ?? {});
    const ps = await settled('shop', 'checkout');
    assert.ok(ps.every((p) => p.spec.containers[0].image === previous.spec.containers[0].image));
  });

  it('cordon and uncordon set spec.unschedulable', async () => {
    await k('cordon', 'node-1');
    assert.equal((store().mustGet('nodes', undefined, 'node-1').spec as { unschedulable?: boolean }).unschedulable, true);
    assert.match(await k('get', 'nodes'), /node-1\s+Ready,SchedulingDisabled/);
    await k('uncordon', 'node-1');
    assert.notEqual((store().mustGet('nodes', undefined, 'node-1').spec as { unschedulable?: boolean }).unschedulable, true);
  });

  it('drain --ignore-daemonsets --delete-emptydir-data evicts every pod from the node', async () => {
    for (const d of ['cart', 'checkout', 'frontend']) await settled('shop', d);
    const node = 'node-3';
    const onNode = () => store().list('pods').items.filter((p) => (p as PodLike).spec.nodeName === node);
    assert.ok(onNode().length > 0, 'the node runs pods before the drain');
    const out = await k('drain', node, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=60s');
    assert.match(out, new RegExp(`node/${node} drained`));
    assert.deepEqual(onNode().map((p) => p.metadata.name), []);
    for (const d of ['cart', 'checkout', 'frontend']) {
      const ps = await settled('shop', d);
      assert.ok(ps.every((p) => p.spec.nodeName !== node), `${d} pods were not rescheduled onto the cordoned node`);
    }
    await k('uncordon', node);
  });

  it('delete pod: the ReplicaSet replaces it', async () => {
    const [victim, ...others] = await settled('payments', 'payments-api');
    const want = others.length + 1;
    assert.match(await k('delete', 'pod', '-n', 'payments', victim.metadata.name), /deleted/);
    assert.equal(store().get('pods', 'payments', victim.metadata.name), undefined);
    const ps = await settled('payments', 'payments-api');
    assert.equal(ps.length, want);
    assert.ok(!ps.some((p) => p.metadata.name === victim.metadata.name));
  });

  it('logs prints the pod log, honouring --tail', async () => {
    const [pod] = await settled('shop', 'cart');
    await waitFor('the pod to have logged a few lines', () => {
      const log = sb.sandbox.simulation.podLogs('shop', pod.metadata.name, {}, () => undefined);
      log?.stop();
      return log && log.lines.length >= 5 ? true : undefined;
    });
    const out = await k('logs', '-n', 'shop', pod.metadata.name, '--tail=3');
    const lines = out.trim().split('\n');
    assert.equal(lines.length, 3, out);
    assert.ok(lines.every((l) => l.length > 0));
    const r = await kubectl(kc, ['logs', '-n', 'shop', pod.metadata.name, '-c', 'nope']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /container nope is not valid/);
  });

  it('get events --watch receives an event', async () => {
    const child = spawn('kubectl', ['get', 'events', '-n', 'payments', '--watch-only', '-o', 'json'], { env: { ...process.env, KUBECONFIG: kc } });
    let out = '';
    child.stdout.on('data', (d) => (out += d.toString()));
    try {
      await new Promise((r) => setTimeout(r, 1000));
      const [pod] = await settled('payments', 'payments-api');
      await k('delete', 'pod', '-n', 'payments', pod.metadata.name);
      const event = await waitFor('an event on the watch', () => {
        const m = /"kind": "Event"/.test(out) ? out : undefined;
        return m;
      });
      assert.match(event, /"involvedObject"/);
    } finally {
      child.kill();
    }
  });

  it('an eviction that would break a PodDisruptionBudget gets 429 TooManyRequests', async () => {
    const ps = await settled('shop', 'checkout');
    const pdb = store().list('poddisruptionbudgets', 'shop').items.find((p) => (p.spec as { selector?: { matchLabels?: Record<string, string> } }).selector?.matchLabels?.app === 'checkout');
    assert.ok(pdb, 'the topology has a PDB for checkout');
    // all at once, so no replacement pod becomes ready in between and restores the budget
    const results = await Promise.all(
      ps.map((p) => {
        const file = path.join(sb.dir, `eviction-${p.metadata.name}.json`);
        writeFileSync(file, JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: p.metadata.name, namespace: 'shop' } }));
        return kubectl(kc, ['create', '--raw', `/api/v1/namespaces/shop/pods/${p.metadata.name}/eviction`, '-f', file]);
      }),
    );
    const refused = results.filter((r) => r.code !== 0);
    assert.ok(results.some((r) => r.code === 0), `one eviction is allowed: ${results.map((r) => r.stderr).join(' | ')}`);
    assert.ok(refused.length > 0, 'the evictions that would break the budget are refused');
    assert.match(refused[0].stderr, /TooManyRequests|Cannot evict pod as it would violate the pod's disruption budget/);
    await settled('shop', 'checkout');
  });

  it('the pod proxy serves the pod metrics', async () => {
    const [pod] = await settled('shop', 'cart');
    const text = await k('get', '--raw', `/api/v1/namespaces/shop/pods/${pod.metadata.name}:8080/proxy/metrics`);
    assert.match(text, /^# (HELP|TYPE) /m);
    assert.ok(text.includes(`pod="${pod.metadata.name}"`));
  });

  it('patch with --type merge, json and strategic, and --dry-run=server changes nothing', async () => {
    await k('create', 'configmap', 'kubectl-cm', '-n', 'shop', '--from-literal=a=1');
    await k('patch', 'configmap', 'kubectl-cm', '-n', 'shop', '--type', 'merge', '-p', '{"data":{"b":"2"}}');
    await k('patch', 'configmap', 'kubectl-cm', '-n', 'shop', '--type', 'json', '-p', '[{"op":"remove","path":"/data/a"}]');
    await k('patch', 'configmap', 'kubectl-cm', '-n', 'shop', '-p', '{"metadata":{"labels":{"x":"y"}}}');
    const cm = store().mustGet('configmaps', 'shop', 'kubectl-cm') as KubeObject & { data: Record<string, string> };
    assert.deepEqual(cm.data, { b: '2' });
    assert.equal(cm.metadata.labels?.x, 'y');
    const rv = cm.metadata.resourceVersion;
    await k('patch', 'configmap', 'kubectl-cm', '-n', 'shop', '--type', 'merge', '-p', '{"data":{"b":"dry"}}', '--dry-run=server');
    await k('delete', 'configmap', 'kubectl-cm', '-n', 'shop', '--dry-run=server');
    await k('scale', 'deploy/cart', '-n', 'shop', '--replicas=7', '--dry-run=server');
    assert.equal(store().mustGet('configmaps', 'shop', 'kubectl-cm').metadata.resourceVersion, rv);
    assert.equal(deployment('shop', 'cart').spec.replicas, 2);
  });

  it('apply -f (client- and server-side) creates and then updates a deployment; typos are refused', async () => {
    const manifest = (image: string) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'applied', namespace: 'shop' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'applied' } }, template: { metadata: { labels: { app: 'applied' } }, spec: { containers: [{ name: 'applied', image }] } } },
    });
    const file = path.join(sb.dir, 'applied.json');
    writeFileSync(file, JSON.stringify(manifest('applied:1')));
    assert.match(await k('apply', '-f', file), /created/);
    writeFileSync(file, JSON.stringify(manifest('applied:2')));
    assert.match(await k('apply', '-f', file), /configured/);
    assert.equal(deployment('shop', 'applied').spec.template.spec.containers[0].image, 'applied:2');
    assert.match(await k('delete', '-f', file), /deleted/);
    writeFileSync(file, JSON.stringify(manifest('applied:ssa-1')));
    assert.match(await k('apply', '--server-side', '-f', file), /serverside-applied/);
    writeFileSync(file, JSON.stringify(manifest('applied:ssa-2')));
    assert.match(await k('apply', '--server-side', '-f', file), /serverside-applied/);
    assert.equal(deployment('shop', 'applied').spec.template.spec.containers[0].image, 'applied:ssa-2');
    await k('delete', '-f', file);
    const typo = manifest('applied:3') as ReturnType<typeof manifest> & { spec: Record<string, unknown> };
    typo.spec.replica = 2;
    writeFileSync(file, JSON.stringify(typo));
    const refused = await kubectl(kc, ['apply', '-f', file]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /strict decoding error: unknown field "spec.replica"/);
    await waitFor('the applied deployment and its pods to be gone', () => (!store().get('deployments', 'shop', 'applied') && pods('shop', 'applied').length === 0 ? true : undefined));
  });
});

describe('vigil sandbox and vigil chaos (child processes)', function () {
  this.timeout(120_000);
  let child: ChildSandbox;

  /** Runs `vigil chaos ...` from source and collects its output. */
  const chaos = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const root = path.resolve(__dirname, '../../..');
      const p = spawn(process.execPath, [path.join(root, 'node_modules/tsx/dist/cli.mjs'), path.join(root, 'src/cli/main.ts'), 'chaos', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => (stdout += d.toString()));
      p.stderr.on('data', (d) => (stderr += d.toString()));
      p.on('close', (code) => resolve({ code, stdout, stderr }));
    });

  before(async () => {
    child = await startChildSandbox();
  });
  after(async () => {
    await child?.stop();
  });

  it('prints one JSON ready line and serves kubectl and the metrics port', async () => {
    assert.match(child.apiServer, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(child.metrics, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const nodes = await kubectlOk(child.kubeconfig, ['get', 'nodes', '-o', 'name']);
    assert.deepEqual(nodes.trim().split('\n').sort(), ['node/node-1', 'node/node-2', 'node/node-3']);
    const ctx = await kubectlOk(child.kubeconfig, ['config', 'current-context']);
    assert.equal(ctx.trim(), 'vigil-sandbox');
    const metrics = await fetch(child.metrics).then((r) => r.text());
    assert.match(metrics, /^# (HELP|TYPE) /m);
  });

  it('vigil chaos injects a fault the sandbox then lists', async () => {
    const r = await chaos(['crash-loop', '--kubeconfig', child.kubeconfig, '--target', 'shop/cart', '--duration', '30']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /injected crash-loop on shop\/cart: id \S+, started \S+, ends \S+/);
    const injected = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { id: string };
    const list = (await fetch(`${child.apiServer}/sandbox/v1/faults`).then((x) => x.json())) as { items: Array<{ id: string; fault: string; target: string }> };
    assert.ok(list.items.some((f) => f.id === injected.id && f.fault === 'crash-loop' && f.target === 'shop/cart'));
  });

  it('vigil chaos fails clearly on an unknown target, an unknown fault, and a server that is not a sandbox', async () => {
    const missing = await chaos(['bad-release', '--kubeconfig', child.kubeconfig, '--target', 'shop/nope']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /refused bad-release on shop\/nope \(HTTP 404\).*not found/);
    const unknown = await chaos(['meteor-strike', '--kubeconfig', child.kubeconfig, '--target', 'shop/cart']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown fault "meteor-strike"/);

    const impostor = http.createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ major: '1', minor: '30', gitVersion: 'v1.30.0' })));
    await new Promise<void>((r) => impostor.listen(0, '127.0.0.1', () => r()));
    try {
      const kc = path.join(child.dir, 'impostor.kubeconfig');
      writeFileSync(kc, sandboxKubeconfig(`http://127.0.0.1:${(impostor.address() as AddressInfo).port}`));
      const r = await chaos(['crash-loop', '--kubeconfig', kc, '--target', 'shop/cart']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /is not a Vigil sandbox/);
    } finally {
      impostor.close();
    }
  });

  it('exits 0 on SIGTERM', async () => {
    const exited = new Promise<number | null>((r) => child.child.once('exit', (code) => r(code)));
    child.child.kill('SIGTERM');
    assert.equal(await exited, 0, `stderr: ${child.stderr()}`);
  });
});
