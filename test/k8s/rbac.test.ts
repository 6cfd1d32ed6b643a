/** Real RBAC: a ServiceAccount's TokenRequest token with read-only rights on deployments gets 403 on a write. */
import assert from 'node:assert/strict';
import { apply, deploymentManifest, kubectl, kubectlOk, settled, tokenKubeconfig, waitFor } from './cluster';

const NS = 'rbac';

describe('RBAC with a ServiceAccount token', function () {
  this.timeout(90_000);
  let kubeconfig: string;

  before(async () => {
    await apply(`${deploymentManifest({ namespace: NS, name: 'target', replicas: 1 })}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: reader, namespace: ${NS}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: vigil-test-deployment-reader}
rules:
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: vigil-test-deployment-reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: vigil-test-deployment-reader}
subjects:
- {kind: ServiceAccount, name: reader, namespace: ${NS}}
`);
    await settled(NS, 'app=target', 1);
    kubeconfig = await tokenKubeconfig(NS, 'reader');
  });

  it('the token reads deployments', async () => {
    // the apiserver's RBAC cache sees the new binding within moments (bound 20 s)
    const out = await waitFor('the reader to be allowed to get deployments', 20_000, async () => {
      const r = await kubectl(['get', 'deploy/target', '-n', NS, '-o', 'name'], { kubeconfig });
      return r.code === 0 ? r.stdout : undefined;
    });
    assert.equal(out.trim(), 'deployment.apps/target');
    assert.match(await kubectlOk(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], { kubeconfig }), /^system:serviceaccount:rbac:reader$/);
  });

  it('kubectl scale is forbidden (403) with a message naming the verb and the resource', async () => {
    const r = await kubectl(['scale', 'deploy/target', '-n', NS, '--replicas=3'], { kubeconfig });
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /Error from server \(Forbidden\)/);
    assert.match(r.stderr, /User "system:serviceaccount:rbac:reader" cannot (patch|update) resource "deployments\/scale" in API group "apps" in the namespace "rbac"/);
    assert.equal((await kubectlOk(['get', 'deploy/target', '-n', NS, '-o', 'jsonpath={.spec.replicas}'])).trim(), '1');
  });

  after(async () => {
    await kubectl(['delete', 'namespace', NS, '--wait=false']).catch(() => undefined);
    await kubectl(['delete', 'clusterrolebinding,clusterrole', 'vigil-test-deployment-reader']).catch(() => undefined);
  });
});
