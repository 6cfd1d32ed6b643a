import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../../../src/cli/feedback';
import { applyLabel, parseLabel } from '../../../src/core/learn/feedback';
import type { Incident } from '../../../src/core/model/incident';
import { FileStore } from '../../../src/infra/store/fileStore';

const T0 = Date.UTC(2026, 10, 23, 12);
const target = { kind: 'service' as const, namespace: 'shop', name: 'cart' };

function incident(over: Partial<Incident> = {}): Incident {
  return { id: 'inc-1', target, openedAt: T0, updatedAt: T0, state: 'recovered', stepIndex: 0, timeline: [], recording: { frames: [], facts: [], logs: [] }, outcome: { kind: 'recovered', t: T0, recoveredBy: 'rollout-restart' }, ...over };
}

async function quietly<T>(fn: (output: { out(l: string): void; err(l: string): void }) => Promise<T>): Promise<{ result: T; out: string; err: string }> {
  let out = '';
  let err = '';
  const result = await fn({ out: (l) => (out += `${l}\n`), err: (l) => (err += `${l}\n`) });
  return { result, out, err };
}

describe('vigil feedback', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-feedback-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('labels the stored incident, keeps its outcome, notes it on the timeline and audits it', async () => {
    const store = new FileStore(dir);
    await store.saveIncident(incident());
    const { result, out } = await quietly((o) => run(['inc-1', '--label', 'right-diagnosis-wrong-fix', '--note', 'restart only hid it', '--by', 'alice', '--state-dir', dir], o));
    assert.equal(result, 0);
    assert.match(out, /^labelled inc-1 as right-diagnosis-wrong-fix; threshold tuning and remediation ranking learn from it\n/);
    const i = (await store.loadIncident('inc-1'))!;
    assert.equal(i.outcome?.kind, 'recovered');
    assert.equal(i.outcome?.recoveredBy, 'rollout-restart');
    assert.equal(i.outcome?.label, 'right-diagnosis-wrong-fix');
    assert.equal(i.outcome?.labelledBy, 'user:alice (cli)');
    assert.equal(i.outcome?.note, 'restart only hid it');
    assert.deepEqual(i.timeline.map((e) => (e.kind === 'note' ? e.text : e.kind)), ['labelled right-diagnosis-wrong-fix by user:alice (cli): restart only hid it']);
    const audit = await store.readAudit();
    assert.equal(audit.length, 1);
    assert.equal(audit[0].kind, 'decision');
    assert.equal(audit[0].incidentId, 'inc-1');
    assert.equal(audit[0].actor, 'user:alice (cli)');
    assert.match(audit[0].summary, /^label inc-1 right-diagnosis-wrong-fix: restart only hid it: applied — labelled inc-1/);
    assert.equal((await store.verifyAudit()).ok, true);
  });

  it('a second label replaces the first and says so; an incident without outcome gets one', async () => {
    const store = new FileStore(dir);
    await store.saveIncident(incident({ id: 'inc-2', state: 'closed', outcome: undefined }));
    await quietly((o) => run(['inc-2', '--label', 'real', '--state-dir', dir], o));
    const { out } = await quietly((o) => run(['inc-2', '--label', 'false-alarm', '--state-dir', dir], o));
    assert.match(out, /\(was real\)/);
    const i = (await store.loadIncident('inc-2'))!;
    assert.equal(i.outcome?.kind, 'resolved-without-action', 'the outcome the first label created stays');
    assert.equal(i.outcome?.label, 'false-alarm');
    assert.equal(i.timeline.length, 2);
  });

  it('names the mistake: unknown label, missing incident, no id', async () => {
    await new FileStore(dir).saveIncident(incident());
    await assert.rejects(run(['inc-1', '--label', 'bogus', '--state-dir', dir]), /--label must be one of false-alarm, real, right-diagnosis-wrong-fix, got "bogus"/);
    await assert.rejects(run(['inc-1', '--state-dir', dir]), /--label must be one of .* got nothing/);
    const missing = await quietly((o) => run(['inc-9', '--label', 'real', '--state-dir', dir], o));
    assert.equal(missing.result, 1);
    assert.match(missing.err, /^vigil feedback: refused — no incident "inc-9" \(list them with `vigil replay --list`\)/);
    await assert.rejects(run(['--label', 'real', '--state-dir', dir]), /name the incident/);
    assert.deepEqual((await new FileStore(dir).readAudit()).map((e) => e.kind), ['decision'], 'a malformed command sends nothing; a refused decision is audited');
  });

  it('applyLabel without a note drops an earlier note', () => {
    const first = applyLabel(incident(), parseLabel('real'), 'user:a', T0 + 1, 'first');
    const second = applyLabel(first, 'false-alarm', 'user:b', T0 + 2);
    assert.equal(second.outcome?.note, undefined);
    assert.equal(second.updatedAt, T0 + 2);
  });
});
