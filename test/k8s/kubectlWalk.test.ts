/**
 * The kubectl walk of the sandbox tier, against the real control plane: the real Deployment and ReplicaSet
 * controllers, the scheduler and the eviction API do the work; the node agent only makes bound pods Ready
 * and deletes terminating ones. The steps share one Deployment and run in order.
 */
import assert from 'node:assert/strict';
import { apply, deploymentManifest, kubectl, kubectlOk, pods, settled, waitFor } from './cluster';

const NS = 'walk';
const SELECTOR = 'app=web';

const manifest = (replicas: number) => `${deploymentManifest({ namespace: NS, name: 'web', container: 'web', replicas, port: 8080 })}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ${NS}}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`;

interface DeploymentView {
  metadata: { generation: number; annotations?: Record<string, string> };
  spec: { replicas: number; template: { spec: { containers: Array<{ image: string }> } } };
  status: { readyReplicas?: number };
}

const deployment = async () => JSON.parse(await kubectlOk(['get', 'deploy/web', '-n', NS, '-o', 'json'])) as DeploymentView;
/** rollout status with its own bound (90 s: pods become Ready within a second or two each). */
const rolledOut = async () => assert.match(await kubectlOk(['rollout', 'status', 'deploy/web', '-n', NS, '--timeout=90s'], { timeoutMs: 100_000 }), /successfully rolled out/);

describe('the kubectl walk against the real control plane', function () {
  this.timeout(150_000);

  it('apply a Deployment (3 replicas) and a Service; rollout status completes', async () => {
    const out = await apply(manifest(3));
    assert.match(out, /deployment.apps\/web created/);
    assert.match(out, /service\/web created/);
    await rolledOut();
    const ps = await settled(NS, SELECTOR, 3);
    for (const p of ps) assert.match(p.status.podIP ?? '', /^10\.244\.[1-3]\.\d+$/, `${p.metadata.name} has a pod IP of its node's range`);
    // the real EndpointSlice controller publishes the node agent's pod IPs (bound 30 s)
    await waitFor('the Service to have 3 ready endpoints', 30_000, async () => {
      const out = await kubectlOk(['get', 'endpointslices', '-n', NS, '-l', 'kubernetes.io/service-name=web', '-o', 'jsonpath={.items[*].endpoints[?(@.conditions.ready==true)].addresses[0]}']);
      const addresses = out.trim().split(/\s+/).filter(Boolean).sort();
      return addresses.length === 3 && addresses.join() === ps.map((p) => p.status.podIP).sort().join() ? true : undefined;
    });
  });

  it('get shows the deployment and its pods Running', async () => {
    assert.match(await kubectlOk(['get', 'deploy', '-n', NS]), /^web\s+3\/3\s+3\s+3\s/m);
    const rows = (await kubectlOk(['get', 'pods', '-n', NS, '-o', 'wide'])).trim().split('\n').slice(1);
    assert.equal(rows.length, 3);
    for (const r of rows) assert.match(r, /^web-\S+\s+1\/1\s+Running\s+0\s+\S+\s+10\.244\.\d+\.\d+\s+node-\d/);
  });

  it('scale to 2: one pod goes', async () => {
    assert.match(await kubectlOk(['scale', 'deploy/web', '-n', NS, '--replicas=2']), /deployment.apps\/web scaled/);
    await settled(NS, SELECTOR, 2);
    assert.equal((await deployment()).spec.replicas, 2);
  });

  it('rollout restart replaces every pod', async () => {
    const before = new Set((await pods(NS, SELECTOR)).map((p) => p.metadata.name));
    await kubectlOk(['rollout', 'restart', 'deploy/web', '-n', NS]);
    await rolledOut();
    const after = await settled(NS, SELECTOR, 2);
    assert.ok(after.every((p) => !before.has(p.metadata.name)), 'every pod is new after the restart');
    assert.ok((await deployment()).metadata.annotations?.['deployment.kubernetes.io/revision'] === '2');
  });

  it('set image rolls out the new image; rollout undo brings the previous one back', async () => {
    await kubectlOk(['set', 'image', 'deploy/web', '-n', NS, 'web=registry.invalid/web:2.0']);
    await rolledOut();
    assert.ok((await settled(NS, SELECTOR, 2)).every((p) => p.spec.containers[0].image === 'registry.invalid/web:2.0'));
    assert.match(await kubectlOk(['rollout', 'undo', 'deploy/web', '-n', NS]), /rolled back/);
    await rolledOut();
    assert.equal((await deployment()).spec.template.spec.containers[0].image, 'registry.invalid/web:1.0');
    assert.ok((await settled(NS, SELECTOR, 2)).every((p) => p.spec.containers[0].image === 'registry.invalid/web:1.0'));
  });

  it('cordon and uncordon a node', async () => {
    await kubectlOk(['cordon', 'node-1']);
    assert.match(await kubectlOk(['get', 'nodes']), /^node-1\s+Ready,SchedulingDisabled\s/m);
    await kubectlOk(['uncordon', 'node-1']);
    assert.match(await kubectlOk(['get', 'nodes']), /^node-1\s+Ready\s/m);
  });

  it('drain evicts the pods of a node; they are rescheduled on the others', async () => {
    const ps = await settled(NS, SELECTOR, 2);
    const node = ps[0].spec.nodeName!;
    const out = await kubectlOk(['drain', node, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=90s'], { timeoutMs: 100_000 });
    assert.match(out, new RegExp(`evicting pod ${NS}/${ps[0].metadata.name}`));
    assert.match(out, new RegExp(`node/${node} drained`));
    try {
      const after = await settled(NS, SELECTOR, 2);
      assert.ok(after.every((p) => p.spec.nodeName !== node), `no pod on the drained ${node}: ${after.map((p) => p.spec.nodeName).join(', ')}`);
      assert.ok(!after.some((p) => p.metadata.name === ps[0].metadata.name), 'the evicted pod is gone');
    } finally {
      await kubectlOk(['uncordon', node]);
    }
  });

  it('get events shows the scheduler, the controllers and the node agent at work', async () => {
    const out = await kubectlOk(['get', 'events', '-n', NS]);
    for (const reason of ['Scheduled', 'Pulled', 'Started', 'SuccessfulCreate', 'SuccessfulDelete', 'ScalingReplicaSet']) {
      assert.match(out, new RegExp(`\\s${reason}\\s`), `an event with reason ${reason}`);
    }
    assert.match(out, /Successfully assigned walk\/web-\S+ to node-\d/);
  });

  it('apply --dry-run=server changes nothing', async () => {
    const before = await deployment();
    const out = await apply(manifest(5), ['--dry-run=server']);
    assert.match(out, /deployment.apps\/web configured \(server dry run\)/);
    const after = await deployment();
    assert.equal(after.spec.replicas, 2);
    assert.equal(after.metadata.generation, before.metadata.generation);
    assert.equal((await pods(NS, SELECTOR)).length, 2);
  });

  it('get of a missing deployment is NotFound with exit 1', async () => {
    const r = await kubectl(['get', 'deploy/missing', '-n', NS]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Error from server \(NotFound\): deployments.apps "missing" not found/);
  });

  after(async () => {
    // the namespace goes with the tier's control plane; deleting it here only frees the nodes for later files
    await kubectl(['delete', 'namespace', NS, '--wait=false']).catch(() => undefined);
  });
});
