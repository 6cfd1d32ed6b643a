import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run as approve } from '../../src/cli/approve';
import type { GateDecision } from '../../src/core/model/gate';
import type { Incident } from '../../src/core/model/incident';
import { ApprovalInbox } from '../../src/infra/approvalInbox';
import { FileStore } from '../../src/infra/store/fileStore';

describe('vigil approve', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-approve-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('hands the agent the step as proposed when the human looked, and says which step and action it approved', async () => {
    const t = Date.UTC(2026, 10, 24, 3);
    const incident: Incident = {
      id: 'inc-1',
      correlationKey: 'k',
      target: { kind: 'service', namespace: 'shop', name: 'checkout' },
      openedAt: t,
      updatedAt: t,
      state: 'awaiting-approval',
      stepIndex: 0,
      playbook: 'bad-release',
      timeline: [{ t, kind: 'proposed', stepId: 'roll-back', action: { kind: 'rollback', namespace: 'shop', deployment: 'checkout', toRevision: 4 }, gates: { allowed: false, needsApproval: true, results: [] } as unknown as GateDecision }],
      recording: { frames: [], facts: [], logs: [] },
    };
    await new FileStore(dir).saveIncident(incident);
    const lines: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => lines.push(a.join(' '));
    try {
      assert.equal(await approve(['inc-1', '--state-dir', dir, '--by', 'alice']), 0);
    } finally {
      console.log = log;
    }
    assert.match(lines.join('\n'), /^Approved step "roll-back" \(rollout undo deployment shop\/checkout --to-revision=4\) of inc-1 as user:alice \(cli\)/);
    const [d] = await new ApprovalInbox(dir).take(() => undefined);
    assert.equal(d.decision, 'approve');
    assert.equal(d.stepId, 'roll-back');
    assert.equal(d.by, 'user:alice (cli)');
  });
});
