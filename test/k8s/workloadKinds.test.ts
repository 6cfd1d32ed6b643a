/**
 * Remedies on a StatefulSet and a DaemonSet through the agent's ClusterPort, on the real controllers and with a
 * ServiceAccount token bound to exactly deploy/rbac/clusterrole.yaml: a rollback goes to the previous
 * ControllerRevision, a restart is `restartedAt` on the pod template (the controllers replace the pods), a
 * StatefulSet scales through its scale subresource, and a DaemonSet is never scaled.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { ClusterError } from '../../src/core/act/clusterError';
import type { ActionSpec } from '../../src/core/model/action';
import { KubernetesCluster } from '../../src/infra/kubernetes/clusterActions';
import { apply, cluster, kubectl, kubectlOk, pods, settled, waitFor } from './cluster';

const NS = 'kinds';
const ROLE = 'vigil-test-kinds-role';
/** Pods replaced and Ready after a rollout on the loaded 2-core machine: seconds measured; 2 min allowed. */
const ROLLOUT_BOUND_MS = 120_000;

const image = (name: string, tag: string) => `registry.invalid/${name}:${tag}`;

describe('StatefulSet and DaemonSet remedies on the real control plane, with the ClusterRole of deploy/rbac/clusterrole.yaml', function () {
  this.timeout(ROLLOUT_BOUND_MS * 4);
  let port: KubernetesCluster;
  let nodes: number;

  before(async function () {
    this.timeout(ROLLOUT_BOUND_MS + 60_000);
    const role = parse(readFileSync(path.resolve(__dirname, '../../deploy/rbac/clusterrole.yaml'), 'utf8')) as { metadata: { name: string } };
    const workload = (kind: 'StatefulSet' | 'DaemonSet', name: string, extra: object) => ({
      apiVersion: 'apps/v1',
      kind,
      metadata: { name, namespace: NS },
      spec: { ...extra, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: image(name, '1.0') }] } } },
    });
    await apply(
      [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
        { ...role, metadata: { ...role.metadata, name: ROLE } },
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'agent', namespace: NS } },
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: ROLE }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: ROLE }, subjects: [{ kind: 'ServiceAccount', name: 'agent', namespace: NS }] },
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'orders-db', namespace: NS }, spec: { clusterIP: 'None', selector: { app: 'orders-db' }, ports: [{ port: 5432 }] } },
        // a database the shop would call, and a node log agent
        workload('StatefulSet', 'orders-db', { serviceName: 'orders-db', replicas: 2 }),
        workload('DaemonSet', 'log-agent', {}),
      ].map((o) => stringify(o)).join('---\n'),
    );
    nodes = cluster().nodes.length;
    await settled(NS, 'app=orders-db', 2, ROLLOUT_BOUND_MS);
    await settled(NS, 'app=log-agent', nodes, ROLLOUT_BOUND_MS);
    const token = (await kubectlOk(['create', 'token', 'agent', '-n', NS, '--duration=20m'])).trim();
    const { cp, dir } = cluster();
    const kubeconfig = path.join(dir, 'kinds-agent.kubeconfig');
    writeFileSync(kubeconfig, stringify({ apiVersion: 'v1', kind: 'Config', clusters: [{ name: 'c', cluster: { server: cp.server, 'certificate-authority': path.join(cp.dir, 'pki', 'ca.crt') } }], users: [{ name: 'agent', user: { token } }], contexts: [{ name: 'agent', context: { cluster: 'c', user: 'agent' } }], 'current-context': 'agent' }), { mode: 0o600 });
    port = await KubernetesCluster.connect({ kubeconfig });
    // the binding reaches the apiserver's RBAC cache within moments
    await waitFor('the agent token to read statefulsets', 20_000, async () => ((await kubectl(['get', 'sts/orders-db', '-n', NS, '-o', 'name'], { kubeconfig })).code === 0 ? true : undefined));
  });

  after(async () => {
    await kubectl(['delete', 'namespace', NS, '--wait=false']).catch(() => undefined);
    await kubectl(['delete', 'clusterrolebinding,clusterrole', ROLE]).catch(() => undefined);
  });

  const run = (action: ActionSpec, dryRun = false) => port.execute(action, { dryRun, actionId: `test-${action.kind}-${Date.now()}` });
  const templateImage = async (kind: string, name: string) => (await kubectlOk(['get', kind, name, '-n', NS, '-o', 'jsonpath={.spec.template.spec.containers[0].image}'])).trim();
  const rolledOut = (name: string) => waitFor(`the rollout of ${NS}/${name} to complete`, ROLLOUT_BOUND_MS, async () => ((await port.rolloutStatus(NS, name)).complete ? true : undefined));
  const podImages = async (name: string) => (await pods(NS, `app=${name}`)).filter((p) => !p.metadata.deletionTimestamp).map((p) => p.spec.containers[0].image);

  for (const { kind, name } of [
    { kind: 'statefulset', name: 'orders-db' },
    { kind: 'daemonset', name: 'log-agent' },
  ]) {
    it(`rolls a bad release of the ${kind} back to its previous ControllerRevision (dry run first, then for real)`, async () => {
      await kubectlOk(['set', 'image', `${kind}/${name}`, `app=${image(name, '2.0-bad')}`, '-n', NS]);
      await rolledOut(name);
      assert.deepEqual([...new Set(await podImages(name))], [image(name, '2.0-bad')]);

      const dry = await run({ kind: 'rollback', namespace: NS, deployment: name }, true);
      assert.match(dry.summary, new RegExp(`^dry run: rolled back ${kind} ${NS}/${name} from revision 2 to the template of revision 1 \\(ControllerRevision ${name}-`));
      assert.equal(await templateImage(kind, name), image(name, '2.0-bad'), 'a dry run writes nothing');

      const done = await run({ kind: 'rollback', namespace: NS, deployment: name });
      assert.equal(done.changed, true);
      assert.deepEqual(done.diff, [{ path: 'spec.template.spec.containers[0].image', before: image(name, '2.0-bad'), after: image(name, '1.0') }]);
      assert.equal(await templateImage(kind, name), image(name, '1.0'));
      await rolledOut(name);
      const images = await waitFor(`every ${name} pod on the old image`, ROLLOUT_BOUND_MS, async () => {
        const imgs = await podImages(name);
        return imgs.length > 0 && imgs.every((i) => i === image(name, '1.0')) ? imgs : undefined;
      });
      console.log(`      ${kind} ${name}: ${done.summary}; ${images.length} pod(s) back on ${image(name, '1.0')}`);
      // the same step again finds the template already there
      assert.equal((await run({ kind: 'rollback', namespace: NS, deployment: name, toRevision: 3 })).changed, false);
    });

    it(`restarts the ${kind}: restartedAt on its pod template, every pod replaced`, async () => {
      const before = (await pods(NS, `app=${name}`)).map((p) => p.metadata.uid);
      const done = await run({ kind: 'rollout-restart', namespace: NS, deployment: name });
      assert.equal(done.summary, `rollout restart of ${kind} ${NS}/${name}`);
      assert.match(await kubectlOk(['get', kind, name, '-n', NS, '-o', 'jsonpath={.spec.template.metadata.annotations.kubectl\\.kubernetes\\.io/restartedAt}']), /^\d{4}-\d\d-\d\dT/);
      await rolledOut(name);
      const replaced = await waitFor(`every ${name} pod replaced`, ROLLOUT_BOUND_MS, async () => {
        const now = (await pods(NS, `app=${name}`)).filter((p) => !p.metadata.deletionTimestamp);
        return now.length === before.length && now.every((p) => !before.includes(p.metadata.uid)) ? now : undefined;
      });
      assert.equal(replaced.length, before.length);
    });
  }

  it('scales the StatefulSet (its action marker in the same write) and refuses to scale the DaemonSet, naming why', async () => {
    const scaleId = `test-scale-${Date.now()}`;
    const done = await port.execute({ kind: 'scale', namespace: NS, deployment: 'orders-db', replicas: 3 }, { dryRun: false, actionId: scaleId });
    assert.equal(done.summary, `scaled statefulset ${NS}/orders-db from 2 to 3 replicas`);
    await settled(NS, 'app=orders-db', 3, ROLLOUT_BOUND_MS);
    assert.equal(await port.landed({ kind: 'scale', namespace: NS, deployment: 'orders-db', replicas: 3 }, scaleId), true, 'the marker rides on the StatefulSet');
    await assert.rejects(run({ kind: 'scale', namespace: NS, deployment: 'log-agent', replicas: 5 }), (err: unknown) => err instanceof ClusterError && /cannot scale daemonset kinds\/log-agent: a DaemonSet runs one pod per eligible node/.test(err.message));
    assert.equal((await pods(NS, 'app=log-agent')).filter((p) => !p.metadata.deletionTimestamp).length, nodes);
  });
});
