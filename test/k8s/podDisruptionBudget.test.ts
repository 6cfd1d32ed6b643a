/** The real eviction API with a PodDisruptionBudget: an eviction that would break the budget is refused with 429. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { apply, cluster, deploymentManifest, inNetns, kubectl, kubectlOk, settled, waitFor } from './cluster';

const NS = 'pdb';
const SELECTOR = 'app=guarded';

describe('a PodDisruptionBudget against the eviction API', function () {
  this.timeout(120_000);

  before(async () => {
    await apply(`${deploymentManifest({ namespace: NS, name: 'guarded', replicas: 2 })}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: guarded-pdb, namespace: ${NS}}
spec:
  minAvailable: 2
  selector: {matchLabels: {app: guarded}}
`);
    await settled(NS, SELECTOR, 2);
    // the disruption controller must have counted the healthy pods, or the budget is not yet in force (bound 60 s)
    await waitFor('the PDB to count 2 healthy pods and allow 0 disruptions', 60_000, async () => {
      const s = JSON.parse(await kubectlOk(['get', 'pdb/guarded-pdb', '-n', NS, '-o', 'jsonpath={.status}'])) as { currentHealthy?: number; disruptionsAllowed?: number };
      return s.currentHealthy === 2 && s.disruptionsAllowed === 0 ? true : undefined;
    });
  });

  it('POST pods/eviction answers 429 naming the budget', async () => {
    const [pod] = await settled(NS, SELECTOR, 2);
    const { cp } = cluster();
    const pki = path.join(cp.dir, 'pki');
    const body = JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod.metadata.name, namespace: NS } });
    const r = await inNetns(['curl', '-sS', '-o', '-', '-w', '\n%{http_code}', '--cacert', `${pki}/ca.crt`, '--cert', `${pki}/admin.crt`, '--key', `${pki}/admin.key`,
      '-X', 'POST', '-H', 'Content-Type: application/json', '--data-binary', '@-', `${cp.server}/api/v1/namespaces/${NS}/pods/${pod.metadata.name}/eviction`], { input: body });
    const lines = r.stdout.trimEnd().split('\n');
    const code = lines.pop();
    assert.equal(code, '429', r.stdout + r.stderr);
    const status = JSON.parse(lines.join('\n')) as { reason: string; message: string; details?: { causes?: Array<{ reason: string; message: string }> } };
    assert.equal(status.reason, 'TooManyRequests');
    assert.match(status.message, /Cannot evict pod as it would violate the pod's disruption budget/);
    assert.ok(status.details?.causes?.some((c) => c.reason === 'DisruptionBudget' && /guarded-pdb/.test(c.message)), JSON.stringify(status.details));
  });

  it('kubectl drain --timeout=10s fails on the budget and leaves the pods running', async () => {
    const [pod] = await settled(NS, SELECTOR, 2);
    const node = pod.spec.nodeName!;
    try {
      const r = await kubectl(['drain', node, '--ignore-daemonsets', '--delete-emptydir-data', '--pod-selector', SELECTOR, '--timeout=10s'], { timeoutMs: 60_000 });
      assert.notEqual(r.code, 0, r.stdout);
      assert.match(r.stderr, /Cannot evict pod as it would violate the pod's disruption budget/);
      assert.match(r.stderr, new RegExp(`error when evicting pods/"${pod.metadata.name}" -n "${NS}"`));
      const after = await settled(NS, SELECTOR, 2);
      assert.ok(after.some((p) => p.metadata.name === pod.metadata.name), 'the pod the budget protects was not evicted');
    } finally {
      await kubectlOk(['uncordon', node]);
    }
  });

  after(async () => {
    await kubectl(['delete', 'namespace', NS, '--wait=false']).catch(() => undefined);
  });
});
