import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sleep } from '../../../src/cli/faultDrill';
import type { Incident } from '../../../src/core/model/incident';
import type { LoggerPort } from '../../../src/core/ports';
import { DEFAULT_SETTINGS, withSettings } from '../../../src/core/settings';
import { VigilRuntime } from '../../../src/infra/runtime';
import { startSandbox, type Sandbox } from '../../../src/sandbox/sandbox';
import { REVISION } from '../../../src/sandbox/sim/deploymentController';
import { waitFor } from '../sandbox/sandboxProcess';
import { cli } from './agentProcess';

const silent: LoggerPort = { log: () => undefined, child: () => silent };

/**
 * A fault that heals itself while Vigil (suggest mode) waits for a human: the incident closes as
 * resolved-without-action once its symptoms stay back in band, and approving it afterwards is refused.
 */
describe('a fault that heals itself ends resolved-without-action (sandbox, real HTTP)', function () {
  this.timeout(10 * 60_000);
  let dir: string;
  let sandbox: Sandbox | undefined;
  let rt: VigilRuntime | undefined;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-rwa-'));
    sandbox = await startSandbox({ seed: 5, daySeconds: 600, kubeconfigPath: path.join(dir, 'kubeconfig') });
  });
  after(async () => {
    await rt?.dispose();
    await sandbox?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function deployment(ns: string, name: string): { revision: string; image: string } {
    const d = sandbox!.store.get('deployments', ns, name) as { metadata: { annotations?: Record<string, string> }; spec: { template: { spec: { containers: Array<{ image: string }> } } } };
    return { revision: d.metadata.annotations?.[REVISION] ?? '', image: d.spec.template.spec.containers[0].image };
  }

  it('a 30 s latency spike on shop/checkout: proposed, then closed without action; approving it is refused', async () => {
    const stateDir = path.join(dir, 'state');
    // a 30 s rate window, as the drills use: the hold before closing is max(2 × window, 60 s) = 60 s
    const settings = withSettings(DEFAULT_SETTINGS, { kubernetes: { kubeconfig: sandbox!.kubeconfig }, automation: { mode: 'suggest' }, agent: { stateDir }, prometheus: { scrapeIntervalSeconds: 5, rateWindowSeconds: 30 } });
    rt = await VigilRuntime.create({ settings, logger: silent, identity: 'agent-rwa' });
    await rt.start();
    const runtime = rt;
    await sleep(40_000); // the detectors' warm-up, as in the other heal tests
    const before = deployment('shop', 'checkout');

    const res = sandbox!.simulation.handleControl('POST', '/sandbox/v1/faults', { fault: 'latency-spike', target: 'shop/checkout', durationSeconds: 30 });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const injectedAt = Date.now();

    const onCheckout = (i: Incident) => i.target.namespace === 'shop' && i.target.name === 'checkout' && i.openedAt >= injectedAt - 5_000;
    const proposed = await waitFor('an incident on shop/checkout awaiting approval', () => runtime.core.remediator.list().find((i) => onCheckout(i) && i.state === 'awaiting-approval'), 150_000, 1000);
    const proposedAt = Date.now();
    console.log(`      ${proposed.id}: ${proposed.diagnosis?.kind} awaiting approval ${Math.round((proposedAt - injectedAt) / 1000)} s after the injection`);

    // expected about 100 s after the proposal: the spike's rest, one rate window (30 s) and the hold (60 s)
    const closed = await waitFor('the incident to close', () => {
      const i = runtime.core.remediator.get(proposed.id);
      return i?.outcome ? i : undefined;
    }, 300_000, 1000);
    console.log(`      closed ${Math.round((Date.now() - injectedAt) / 1000)} s after the injection: ${closed.outcome?.kind} (${closed.outcome?.note ?? ''})`);
    assert.equal(closed.outcome?.kind, 'resolved-without-action', JSON.stringify(closed.outcome));
    assert.equal(closed.state, 'closed');
    assert.ok(!closed.timeline.some((e) => e.kind === 'acted' || e.kind === 'approved'), 'no step ran');
    assert.match(closed.outcome?.note ?? '', /back in band for \d+ s before any step ran/);

    // nothing was written; the closing is audited
    assert.deepEqual(deployment('shop', 'checkout'), before, 'the deployment is as it was');
    const audit = await runtime.store.readAudit();
    assert.deepEqual(audit.filter((e) => e.kind === 'action'), []);
    assert.ok(audit.some((e) => e.kind === 'resolution' && e.incidentId === proposed.id), audit.map((e) => e.kind).join(', '));

    // approving it now is refused: by the CLI (non-zero exit) and by the running core
    // (the CLI reaches the running runtime over its control socket in the state directory)
    const approve = await cli(['approve', proposed.id, '--state-dir', stateDir, '--by', 'alice']);
    assert.equal(approve.status, 1, approve.stdout + approve.stderr);
    assert.match(approve.stderr, new RegExp(`refused — incident ${proposed.id} resolved at \\S+ without action .*; nothing to approve`));
    await assert.rejects(runtime.core.remediator.approve(proposed.id, 'user:alice'), /resolved at \S+ without action .*; nothing to approve/);
    await sleep(2_000);
    assert.equal(runtime.core.remediator.get(proposed.id)?.outcome?.kind, 'resolved-without-action');
    assert.deepEqual((await runtime.store.readAudit()).filter((e) => e.kind === 'action' || e.kind === 'approval'), []);
  });
});
