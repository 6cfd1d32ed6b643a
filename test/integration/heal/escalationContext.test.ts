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

  it('a bad release on shop/frontend with shop denied: escalated with its log lines and the journey runs', async () => {
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
    const escalation = await waitFor('an escalation on shop/frontend', () => escalations.find((c) => c.target.name === 'frontend'), 180_000, 1000);
    const failedRuns = escalation.recentProbes.filter((p) => !p.success);
    console.log(`      escalated: ${escalation.reason}; ${escalation.recentLogs.length} log line(s) (${escalation.recentLogs.slice(-1).map((l) => l.text).join('')}), ${escalation.recentProbes.length} probe run(s) of which ${failedRuns.length} failed (${failedRuns.slice(-1).map((p) => p.reason).join('')})`);
    assert.match(escalation.reason, /namespace-policy|deniedNamespaces/);
    // the journey reports on shop/frontend: its runs up to the hand-over, each with its outcome
    assert.ok(escalation.recentProbes.length > 0, 'the escalation carries the journey probe runs of the target');
    assert.ok(escalation.recentProbes.every((p) => p.name === SHOP_JOURNEY.name), 'only the probes that report on the target');
    // the bad release answers 5xx and the frontend logs them: the tailer's matching lines up to the hand-over
    assert.ok(escalation.recentLogs.length > 0, 'the escalation carries the target\'s matching log lines');
    assert.ok(escalation.recentLogs.every((l) => typeof l.text === 'string' && l.text.length > 0 && l.pod.name.startsWith('frontend')), 'log lines of the target\'s pods, with text');
  });
});
