import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sleep } from '../../../src/cli/faultDrill';
import type { Incident, TimelineEntry } from '../../../src/core/model/incident';
import { FileStore } from '../../../src/infra/store/fileStore';
import { startSandbox, type Sandbox } from '../../../src/sandbox/sandbox';
import { REVISION } from '../../../src/sandbox/sim/deploymentController';
import { waitFor } from '../sandbox/sandboxProcess';
import { cli, startAgent, type AgentProcess } from './agentProcess';

/**
 * The shipped agent (dist/cli.js) in auto mode with `deniedNamespaces: [shop]` in its settings file: a bad release
 * on shop/frontend is diagnosed, nothing is written to the cluster, and the incident says which gate refused.
 */
describe('agent process: a denied namespace is never acted on', function () {
  this.timeout(6 * 60_000);
  let dir: string;
  let sandbox: Sandbox | undefined;
  let agent: AgentProcess | undefined;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-denied-'));
    sandbox = await startSandbox({ seed: 5, daySeconds: 600, kubeconfigPath: path.join(dir, 'kubeconfig') });
  });
  after(async () => {
    await agent?.stop().catch(() => undefined);
    await sandbox?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function deployment(ns: string, name: string): { revision: string; image: string } {
    const d = sandbox!.store.get('deployments', ns, name) as { metadata: { annotations?: Record<string, string> }; spec: { template: { spec: { containers: Array<{ image: string }> } } } };
    return { revision: d.metadata.annotations?.[REVISION] ?? '', image: d.spec.template.spec.containers[0].image };
  }

  it('auto mode, deniedNamespaces: [shop]: a bad release on shop/frontend is diagnosed, refused by the namespace gate, nothing written', async () => {
    const stateDir = path.join(dir, 'state');
    const config = path.join(dir, 'vigil.yaml');
    writeFileSync(config, 'automation: {mode: auto}\nsafety: {deniedNamespaces: [shop]}\n');
    agent = startAgent(['--config', config, '--state-dir', stateDir, '--kubeconfig', sandbox!.kubeconfig, '--interval-seconds', '5']);
    const a = agent;
    await waitFor('the agent to hold the Lease and watch the sandbox', () => (/holding Lease/.test(a.output()) && /watching /.test(a.output()) ? true : undefined), 90_000, 500);
    assert.match(a.output(), /"safety\.deniedNamespaces":"file /, 'the denied namespaces come from the file');
    await sleep(40_000); // the detectors' warm-up, as in the other heal tests

    const res = sandbox!.simulation.handleControl('POST', '/sandbox/v1/faults', { fault: 'bad-release', target: 'shop/frontend', durationSeconds: 900 });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const bad = deployment('shop', 'frontend');
    const injectedAt = Date.now();

    const store = new FileStore(stateDir);
    type Refusal = Extract<TimelineEntry, { kind: 'refused' }>;
    const { incident, refusal } = await waitFor(
      'an incident diagnosed as a bad release of shop/frontend, with the gate that refused its step',
      async () => {
        const all = await store.listIncidents();
        const i = all.find((x: Incident) => x.diagnosis?.kind === 'bad-release' && x.target.namespace === 'shop' && x.target.name === 'frontend');
        const r = i?.timeline.find((e): e is Refusal => e.kind === 'refused');
        return i && r ? { incident: i, refusal: r } : undefined;
      },
      150_000,
      1000,
    );
    console.log(`      diagnosed as a bad release and refused ${Math.round((refusal.t - injectedAt) / 1000)} s after the injection; incident ${incident.id} is ${incident.state}`);
    assert.equal(refusal.gates.refusedBy?.gate, 'namespace-policy');
    assert.match(refusal.gates.refusedBy!.reason, /namespace "shop" is in vigil\.safety\.deniedNamespaces/);
    const escalated = await waitFor('the refusal handed to a human', async () => {
      const i = await store.loadIncident(incident.id);
      return i?.timeline.find((e) => e.kind === 'escalated') as Extract<TimelineEntry, { kind: 'escalated' }> | undefined;
    }, 30_000, 500);
    assert.match(escalated.reason, /safety gate "namespace-policy" refused step "roll-back": namespace "shop" is in vigil\.safety\.deniedNamespaces/);

    // nothing written: the bad release still runs, no action (nor its dry run) in the audit log, and the log verifies
    await sleep(5_000);
    assert.deepEqual(deployment('shop', 'frontend'), bad, 'the deployment keeps the bad image and revision');
    const audit = await store.readAudit();
    assert.deepEqual(audit.filter((e) => e.kind === 'action' || e.kind === 'dry-run'), []);
    assert.ok(audit.some((e) => e.kind === 'escalation' && e.incidentId === incident.id));
    const verify = await cli(['audit', 'verify', '--state-dir', stateDir]);
    assert.equal(verify.status, 0, verify.stderr + verify.stdout);
    assert.match(verify.stdout, /audit log OK/);

    assert.equal(await a.stop(), 0, a.output().slice(-2000));
    assert.match(a.output(), /stopped cleanly/);
  });
});
