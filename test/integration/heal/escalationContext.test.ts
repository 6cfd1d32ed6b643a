import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sleep } from '../../../src/cli/faultDrill';
import type { EscalationContext } from '../../../src/core/model/incident';
import type { LoggerPort, NotifierPort } from '../../../src/core/ports';
import { DEFAULT_SETTINGS, withSettings } from '../../../src/core/settings';
import { VigilRuntime } from '../../../src/infra/runtime';
import { startSandbox, type Sandbox } from '../../../src/sandbox/sandbox';
import { SHOP_JOURNEY } from '../../../src/sandbox/sim/shopApi';
import { waitFor } from '../sandbox/sandboxProcess';

const silent: LoggerPort = { log: () => undefined, child: () => silent };

/**
 * What a human gets when Vigil cannot heal: a bad release in a namespace Vigil may not touch escalates at once, and the
 * hand-over carries the target's last matching log lines and the journey probe's failing runs, through the product's
 * own composition (logs and probes from the settings, as the agent and the extension build them).
 */
describe('an escalation carries the target\'s log lines and probe results (sandbox, real HTTP)', function () {
  this.timeout(8 * 60_000);
  let dir: string;
  let sandbox: Sandbox | undefined;
  let rt: VigilRuntime | undefined;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-esc-'));
    sandbox = await startSandbox({ seed: 9, daySeconds: 600, kubeconfigPath: path.join(dir, 'kubeconfig') });
  });
  after(async () => {
    await rt?.dispose();
    await sandbox?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a bad release on shop/frontend with shop denied: escalated with log lines and the failing journey', async () => {
    const escalations: EscalationContext[] = [];
    const capture: NotifierPort = { escalate: async (c) => void escalations.push(c), approvalNeeded: async () => undefined, resolved: async () => undefined };
    const settings = withSettings(DEFAULT_SETTINGS, {
      kubernetes: { kubeconfig: sandbox!.kubeconfig },
      automation: { mode: 'auto' },
      safety: { deniedNamespaces: ['kube-system', 'shop'] },
      agent: { stateDir: path.join(dir, 'state') },
      prometheus: { scrapeIntervalSeconds: 5 },
      logs: { services: ['shop/frontend'] },
      probes: [{ ...SHOP_JOURNEY, intervalSeconds: 5 }],
      model: { enabled: false },
    });
    rt = await VigilRuntime.create({ settings, logger: silent, identity: 'agent-esc', notifiers: [capture] });
    await rt.start();
    // the journey passes before the fault (bounded: the sandbox's pods become ready within a minute)
    await waitFor('the journey passing', () => rt!.observe.probes.latest(SHOP_JOURNEY.name)?.success === true || undefined, 60_000, 1000);
    await sleep(30_000); // the detectors' warm-up, as in the other heal tests

    const res = sandbox!.simulation.handleControl('POST', '/sandbox/v1/faults', { fault: 'bad-release', target: 'shop/frontend', durationSeconds: 600 });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const escalation = await waitFor('an escalation on shop/frontend with a failing probe run', () => escalations.find((c) => c.target.name === 'frontend' && c.recentProbes.some((p) => !p.success)), 180_000, 1000);
    console.log(`      escalated: ${escalation.reason}; ${escalation.recentLogs.length} log line(s), ${escalation.recentProbes.length} probe run(s)`);
    assert.match(escalation.reason, /namespace-policy|deniedNamespaces/);
    const failed = escalation.recentProbes.filter((p) => !p.success);
    assert.ok(failed.length > 0, 'a failing run of the journey');
    assert.match(failed[failed.length - 1].reason ?? '', /list products/, 'the failing step is named');
    // the bad release answers 5xx, and the frontend logs them (bounded: the log tailer reads once an interval)
    const withLogs = await waitFor('log lines in an escalation of shop/frontend', () => escalations.find((c) => c.target.name === 'frontend' && c.recentLogs.length > 0) ?? (escalation.recentLogs.length > 0 ? escalation : undefined), 60_000, 1000);
    assert.ok(withLogs.recentLogs.every((l) => typeof l.text === 'string' && l.text.length > 0), 'log lines have text');
  });
});
