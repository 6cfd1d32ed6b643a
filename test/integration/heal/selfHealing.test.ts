import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runFaultDrill, sleep } from '../../../src/cli/faultDrill';
import type { LoggerPort } from '../../../src/core/ports';
import { DEFAULT_SETTINGS, withSettings } from '../../../src/core/settings';
import { submitDecision } from '../../../src/infra/control/controlClient';
import { VigilRuntime } from '../../../src/infra/runtime';
import { FileStore } from '../../../src/infra/store/fileStore';
import { startSandbox, type Sandbox } from '../../../src/sandbox/sandbox';

const silent: LoggerPort = { log: () => undefined, child: () => silent };

/**
 * The whole loop against the sandbox over real HTTP: sandbox API server, client-node informers,
 * direct scrape through the pod proxy, detectors, correlation, playbooks, gates, actions, verification.
 */
describe('self-healing against the sandbox (real HTTP)', function () {
  this.timeout(8 * 60_000);
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('auto mode: crash loop, bad release and memory leak are each diagnosed, remedied by the right playbook and verified', async () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-heal-'));
    dirs.push(stateDir);
    const { rows } = await runFaultDrill({
      seed: 11,
      faults: [
        { fault: 'crash-loop', target: 'shop/checkout', expected: 'crash-loop' },
        { fault: 'bad-release', target: 'shop/frontend', expected: 'bad-release' },
        { fault: 'memory-leak', target: 'shop/cart', expected: 'memory-leak' },
      ],
      intervalMs: 5000,
      warmupMs: 40_000,
      timeoutMs: 180_000,
      sequential: false,
      stateDir,
      quiet: true,
      onLine: (l) => process.env.VIGIL_DEBUG_HEAL && console.log(`      ${l}`),
    });
    for (const r of rows) {
      console.log(`      ${r.fault.fault.padEnd(12)} diagnosis ${r.diagnosis ?? '-'}  detect ${r.detectedAt ? Math.round((r.detectedAt - r.injectedAt) / 1000) : '-'} s  recover ${r.recoveredAt ? Math.round((r.recoveredAt - r.injectedAt) / 1000) : '-'} s  ${r.actions.join('; ')}`);
      assert.equal(r.diagnosis, r.fault.expected, `${r.fault.fault}: diagnosed ${r.diagnosis}`);
      assert.equal(r.outcome, 'recovered', `${r.fault.fault}: ${r.outcome}`);
    }
    const byFault = Object.fromEntries(rows.map((r) => [r.fault.fault, r.actions]));
    assert.match(byFault['bad-release'][0], /^rollout undo deployment shop\/frontend/);
    assert.match(byFault['memory-leak'][0], /^rollout restart deployment shop\/cart/);
    assert.match(byFault['crash-loop'][0], /^delete pod shop\/checkout-/);
    const store = new FileStore(stateDir);
    assert.equal((await store.verifyAudit()).ok, true);
    const actions = (await store.readAudit()).filter((e) => e.kind === 'action');
    assert.equal(actions.length, rows.reduce((n, r) => n + r.actions.length, 0), 'one audit entry per effective action');
  });

  describe('with one sandbox', () => {
    let sandbox: Sandbox;
    const runtimes: VigilRuntime[] = [];
    before(async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-heal-sbx-'));
      dirs.push(dir);
      sandbox = await startSandbox({ seed: 5, daySeconds: 600, kubeconfigPath: path.join(dir, 'kubeconfig') });
    });
    after(async () => {
      for (const r of runtimes) await r.dispose();
      await sandbox.stop();
    });

    async function runtime(mode: 'suggest' | 'auto', identity: string): Promise<{ rt: VigilRuntime; stateDir: string }> {
      const stateDir = mkdtempSync(path.join(os.tmpdir(), `vigil-${identity}-`));
      dirs.push(stateDir);
      const settings = withSettings(DEFAULT_SETTINGS, { kubernetes: { kubeconfig: sandbox.kubeconfig }, automation: { mode }, agent: { stateDir }, prometheus: { scrapeIntervalSeconds: 5 } });
      const rt = await VigilRuntime.create({ settings, logger: silent, identity });
      runtimes.push(rt);
      await rt.start();
      return { rt, stateDir };
    }

    function deployment(ns: string, name: string): { revision: string; image: string } {
      const d = sandbox.store.get('deployments', ns, name) as { metadata: { annotations?: Record<string, string> }; spec: { template: { spec: { containers: Array<{ image: string }> } } } };
      return { revision: d.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? '', image: d.spec.template.spec.containers[0].image };
    }

    it('suggest mode writes nothing until a human approves; two agents: only the Lease holder acts', async () => {
      const a = await runtime('suggest', 'agent-a');
      const b = await runtime('suggest', 'agent-b');
      assert.equal(a.rt.core.lease?.state?.held, true, 'the first agent holds the Lease');
      assert.equal(b.rt.core.lease?.state?.held, false, 'the second agent only observes');
      await sleep(40_000);
      const res = sandbox.simulation.handleControl('POST', '/sandbox/v1/faults', { fault: 'bad-release', target: 'shop/checkout', durationSeconds: 900 });
      assert.equal(res.status, 201);
      const bad = deployment('shop', 'checkout');
      // both agents see it; both propose; neither writes
      let proposedA: string | undefined;
      for (let i = 0; i < 120 && !proposedA; i++) {
        await sleep(1000);
        proposedA = a.rt.core.remediator.list().find((x) => x.state === 'awaiting-approval' && x.target.name === 'checkout')?.id;
      }
      assert.ok(proposedA, 'agent A proposes a remediation');
      await sleep(10_000);
      assert.deepEqual(deployment('shop', 'checkout'), bad, 'suggest mode changed nothing in the cluster');
      for (const s of [a, b]) {
        const audit = await new FileStore(s.stateDir).readAudit();
        assert.deepEqual(audit.filter((e) => e.kind === 'action'), [], 'no action in the audit log');
      }
      // B is not the Lease holder: approving there is refused by the lease gate, and still nothing is written
      const proposedB = b.rt.core.remediator.list().find((x) => x.state === 'awaiting-approval' && x.target.name === 'checkout')?.id;
      if (proposedB) {
        await b.rt.core.remediator.approve(proposedB, 'user:bob');
        await sleep(3000);
        const ib = b.rt.core.remediator.get(proposedB);
        const refusal = ib?.timeline.find((e) => e.kind === 'refused');
        assert.equal(refusal?.kind === 'refused' && refusal.gates.refusedBy?.gate, 'lease');
      }
      assert.deepEqual((await new FileStore(b.stateDir).readAudit()).filter((e) => e.kind === 'action'), []);
      // A human approves on A (through the control socket, as `vigil approve` does), and the rollback happens
      const sent = await submitDecision(a.stateDir, { id: randomUUID(), kind: 'approve', incidentId: proposedA, by: 'user:alice (test)', t: Date.now() });
      assert.deepEqual([sent.via, sent.verdict.applied], ['agent', true], sent.verdict.message);
      let recovered = false;
      for (let i = 0; i < 150 && !recovered; i++) {
        await sleep(1000);
        recovered = a.rt.core.remediator.get(proposedA)?.state === 'recovered';
      }
      assert.ok(recovered, `agent A: ${a.rt.core.remediator.get(proposedA)?.state}`);
      assert.notEqual(deployment('shop', 'checkout').image, bad.image, 'rolled back to the previous image');
      const audit = await new FileStore(a.stateDir).readAudit();
      assert.deepEqual(audit.map((e) => e.kind).filter((k) => k !== 'dry-run' && k !== 'decision'), ['approval', 'action']);
      assert.equal(audit.filter((e) => e.kind === 'decision').length, 1, 'the decision is audited once');
      assert.match(readFileSync(path.join(a.stateDir, 'audit.jsonl'), 'utf8'), /user:alice \(test\)/);
    });
  });
});
