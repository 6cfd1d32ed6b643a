import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run as approve } from '../../src/cli/approve';
import { run as reject } from '../../src/cli/reject';
import type { HumanDecision } from '../../src/core/model/decision';
import type { GateDecision } from '../../src/core/model/gate';
import type { Incident } from '../../src/core/model/incident';
import { ControlServer } from '../../src/infra/control/controlServer';
import { FileStore } from '../../src/infra/store/fileStore';
import { MemoryLogger } from '../fakes/nullLogger';

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

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, output: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

describe('vigil approve / reject', () => {
  let dir: string;
  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-approve-'));
    await new FileStore(dir).saveIncident(incident);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('hands the running agent the step as proposed when the human looked, and prints its verdict', async () => {
    const seen: HumanDecision[] = [];
    const server = await ControlServer.listen(dir, async (d) => (seen.push(d), { id: d.id, applied: true, message: 'approved step "roll-back" (rollout undo deployment shop/checkout --to-revision=4) of inc-1; the agent runs it now and verifies it' }), new MemoryLogger());
    try {
      const o = io();
      assert.equal(await approve(['inc-1', '--state-dir', dir, '--by', 'alice'], o.output), 0, o.err.join('\n'));
      assert.match(o.out.join('\n'), /^approved step "roll-back" \(rollout undo deployment shop\/checkout --to-revision=4\) of inc-1; the agent runs it now and verifies it\n\(applied by the running agent; decision [0-9a-f-]{36} by user:alice \(cli\), audited/);
      assert.equal(seen.length, 1);
      assert.deepEqual({ ...seen[0], id: undefined, t: undefined }, { kind: 'approve', incidentId: 'inc-1', stepId: 'roll-back', by: 'user:alice (cli)', id: undefined, t: undefined });
    } finally {
      await server.close();
    }
  });

  it('a refusal exits 1 with the reason', async () => {
    const server = await ControlServer.listen(dir, async (d) => ({ id: d.id, applied: false, message: 'incident inc-1 was recovered at 2026-11-24T03:05:00.000Z, nothing to reject' }), new MemoryLogger());
    try {
      const o = io();
      assert.equal(await reject(['inc-1', '--state-dir', dir, '--note', 'known job', '--decision-id', 'd-1'], o.output), 1);
      assert.match(o.err[0], /^vigil reject: refused — incident inc-1 was recovered at 2026-11-24T03:05:00.000Z, nothing to reject \(decision d-1 by /);
    } finally {
      await server.close();
    }
  });

  it('with no agent running, an approval is refused and nothing is recorded: only the agent can run the step', async () => {
    const o = io();
    assert.equal(await approve(['inc-1', '--state-dir', dir], o.output), 1);
    assert.match(o.err[0], /^vigil approve: refused — no Vigil agent is running on .*; only the agent that proposed a step can approve it, so nothing was recorded\. Incident inc-1 stays waiting for approval: start `vigil agent --state-dir /);
    assert.equal((await new FileStore(dir).loadIncident('inc-1'))?.state, 'awaiting-approval');
  });
});
