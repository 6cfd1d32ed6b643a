/** The tier's cluster is the real one: the official apiserver at the pinned version, backed by etcd. */
import assert from 'node:assert/strict';
import pins from '../../scripts/k8s/pins.json';
import { kubectlOk, waitFor } from './cluster';

describe('the real control plane', function () {
  this.timeout(60_000);

  it('kubectl version shows the real server version', async () => {
    const out = await kubectlOk(['version']);
    assert.match(out, new RegExp(`Client Version: ${pins.kubernetes.replace(/\./g, '\\.')}\\b`));
    assert.match(out, new RegExp(`Server Version: ${pins.kubernetes.replace(/\./g, '\\.')}\\b`));
  });

  it('/readyz?verbose lists etcd and passes', async () => {
    // bound 30 s: readyz is already ok at start; a loaded machine may answer a check late
    const out = await waitFor('/readyz?verbose to pass', 30_000, async () => {
      const text = await kubectlOk(['get', '--raw', '/readyz?verbose']);
      return /readyz check passed/.test(text) ? text : undefined;
    });
    assert.match(out, /^\[\+\]etcd ok$/m);
  });

  it('the node agent registered 3 Ready nodes with InternalIPs in 10.244.0.0/16 and renews their Leases', async () => {
    const nodes = JSON.parse(await kubectlOk(['get', 'nodes', '-o', 'json'])) as {
      items: Array<{ metadata: { name: string }; status: { addresses: Array<{ type: string; address: string }> } }>;
    };
    assert.deepEqual(nodes.items.map((n) => n.metadata.name).sort(), ['node-1', 'node-2', 'node-3']);
    for (const n of nodes.items) assert.match(n.status.addresses.find((a) => a.type === 'InternalIP')?.address ?? '', /^10\.244\.\d+\.1$/);
    const renewTimes = async () =>
      (await kubectlOk(['-n', 'kube-node-lease', 'get', 'lease', 'node-1', 'node-2', 'node-3', '-o', 'jsonpath={.items[*].spec.renewTime}'])).trim().split(/\s+/);
    const first = await renewTimes();
    assert.equal(first.length, 3);
    // renewed every 10 s; bound 35 s on a loaded machine
    await waitFor('the node Leases to be renewed', 35_000, async () => {
      const now = await renewTimes();
      return now.every((t, i) => t !== first[i]) ? true : undefined;
    });
  });
});
