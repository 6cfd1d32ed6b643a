/**
 * Two `vigil agent` processes of one shard (`--namespace lease-test`) against the real API server share its
 * coordination.k8s.io Lease (default/vigil-copilot-shard-<hash>, 30 s, renewed every 10 s): only the holder acts — the other says it observes only and
 * its safety gate refuses every action (`lease`) — and when the holder is killed (SIGKILL: no release), the
 * other takes the Lease within 40 s (30 s for it to expire, at most one 10 s renewal period to notice).
 *
 * Acting on an incident needs workloads with metrics behind the pods (the simulated workloads of the node
 * agent); the gate itself is checked on the embedded sandbox (test/integration/heal/selfHealing.test.ts).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { shardLeaseName } from '../../src/core/model/automation';
import { apply, cluster, kubectlOk, stopChild, waitFor } from './cluster';

const REPO_ROOT = path.resolve(__dirname, '../..');
// the agents watch lease-test only: the Lease of that shard
const LEASE = shardLeaseName('vigil-copilot', ['lease-test']);
const HANDOVER_BOUND_S = 40;

interface Agent {
  readonly child: ChildProcess;
  readonly identity: string;
  readonly lines: string[];
}

function startAgent(name: string): Agent {
  const c = cluster();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), 'agent',
    '--kubeconfig', c.cp.kubeconfig, '--state-dir', path.join(c.dir, `agent-${name}`), '--mode', 'auto', '--namespace', 'lease-test'],
  { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr!.on('data', (d: Buffer) => lines.push(`stderr: ${d.toString()}`));
  // the agent names itself vigil-agent@<host>-<pid>; `node --import tsx` is one process, so this is its pid
  return { child, identity: `vigil-agent@${os.hostname()}-${child.pid}`, lines };
}

const logged = (a: Agent, re: RegExp) => a.lines.some((l) => re.test(l));
const holder = async () => (await kubectlOk(['-n', 'default', 'get', 'lease', LEASE, '-o', 'jsonpath={.spec.holderIdentity}'])).trim();
const transitions = async () => Number((await kubectlOk(['-n', 'default', 'get', 'lease', LEASE, '-o', 'jsonpath={.spec.leaseTransitions}'])).trim() || '0');

describe('two agents with the real Lease', function () {
  this.timeout(240_000);
  let a: Agent | undefined;
  let b: Agent | undefined;

  before(async () => {
    await apply('apiVersion: v1\nkind: Namespace\nmetadata: {name: lease-test}\n');
  });

  after(async () => {
    await stopChild(a?.child);
    await stopChild(b?.child);
    await kubectlOk(['delete', 'namespace', 'lease-test', '--wait=false']).catch(() => undefined);
  });

  it('only the holder acts; killing it hands the Lease over within 40 s; a stopped holder releases it', async () => {
    a = startAgent('a');
    // bound 90 s: the agent starts (client-node, the model) and takes the Lease nobody holds
    await waitFor(`agent A (${a.identity}) to hold the Lease`, 90_000, async () => ((await holder().catch(() => '')) === a!.identity ? true : undefined));
    await waitFor('agent A to say it acts', 10_000, async () => (logged(a!, new RegExp(`holding Lease default/${LEASE}: this instance acts`)) ? true : undefined));

    b = startAgent('b');
    await waitFor('agent B to say A holds the Lease and it only observes', 90_000, async () =>
      (logged(b!, new RegExp(`Lease default/${LEASE} is held by ${a!.identity.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: this instance observes only`)) ? true : undefined));
    // two renewal periods with both running: the holder keeps it, the other never takes it
    await new Promise((r) => setTimeout(r, 21_000));
    assert.equal(await holder(), a.identity);
    assert.ok(!logged(b, /holding Lease/), 'B never held the Lease while A ran');
    const before = await transitions();

    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    await waitFor(`agent B (${b.identity}) to take the Lease`, (HANDOVER_BOUND_S + 15) * 1000, async () => ((await holder()) === b!.identity ? true : undefined));
    const handover = (Date.now() - killedAt) / 1000;
    console.log(`      handover after SIGKILL of the holder: ${handover.toFixed(1)} s`);
    assert.ok(handover <= HANDOVER_BOUND_S, `handover took ${handover.toFixed(1)} s, more than ${HANDOVER_BOUND_S} s`);
    assert.equal(await transitions(), before + 1, 'one transition of the Lease');
    await waitFor('agent B to say it acts now', 15_000, async () => (logged(b!, new RegExp(`holding Lease default/${LEASE}: this instance acts`)) ? true : undefined));

    // a holder that stops cleanly gives the Lease back at once
    await stopChild(b.child);
    assert.equal(await holder(), '', 'B released the Lease when stopped');
  });
});
