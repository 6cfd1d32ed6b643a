import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../../../src/cli/thresholds';
import { DEFAULT_RULES } from '../../../src/core/detect/defaultRules';
import { ThresholdLearner } from '../../../src/core/learn/learningStore';
import { thresholdKey } from '../../../src/core/learn/thresholdTuning';
import { VirtualClock } from '../../../src/core/loop/virtualClock';
import type { Incident } from '../../../src/core/model/incident';
import { FileStore } from '../../../src/infra/store/fileStore';

const NOW = Date.UTC(2026, 10, 23, 12);
const target = { kind: 'service' as const, namespace: 'shop', name: 'cart' };

function falseAlarm(id: string, observed: number): Incident {
  const anomaly = { target, t: NOW, detector: 'fusion' as const, score: 1, isAnomaly: true, severity: 'critical' as const, reason: 'rule: error_ratio 0.07 > 0.05 for 15s', contributions: [{ signal: 'error_ratio' as const, share: 1, observed }] };
  return { id, target, openedAt: NOW, updatedAt: NOW, state: 'closed', stepIndex: 0, timeline: [{ t: NOW, kind: 'detected', anomaly }], recording: { frames: [], facts: [], logs: [] }, outcome: { kind: 'false-alarm', t: NOW, label: 'false-alarm' } };
}

describe('vigil thresholds', () => {
  let dir: string;
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, output: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
  };
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-thresholds-cli-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lists nothing learned yet', async () => {
    const o = io();
    assert.equal(await run(['--state-dir', dir], o.output), 0);
    assert.match(o.out.join('\n'), /No threshold changes in .*every detector uses its default/);
  });

  it('lists a proposal with the incidents behind it; accept applies it, revert restores the default; each decision is audited', async () => {
    const store = new FileStore(dir);
    const learner = new ThresholdLearner(store, new VirtualClock(NOW));
    await learner.load();
    const [proposal] = await learner.learn([0.06, 0.062, 0.065, 0.068, 0.07].map((v, k) => falseAlarm(`inc-${k + 1}`, v)), DEFAULT_RULES, 'suggest');
    assert.equal(proposal.status, 'proposed');

    let o = io();
    assert.equal(await run(['--state-dir', dir], o.output), 0);
    const listing = o.out.join('\n');
    assert.match(listing, new RegExp(`${proposal.id} proposed: rule:HighErrorRatio/error_ratio on service:shop/cart 0\\.05 → ${proposal.to}`));
    assert.match(listing, /incidents inc-1, inc-2, inc-3, inc-4, inc-5/);
    assert.match(listing, /In force: defaults only\./);
    assert.match(listing, new RegExp(`vigil thresholds accept\\|reject ${proposal.id}`));

    o = io();
    assert.equal(await run(['accept', proposal.id, '--state-dir', dir, '--by', 'alice'], o.output), 0, o.err.join('\n'));
    assert.match(o.out[0], new RegExp(`^${proposal.id} applied:`));
    assert.match(o.out[1], /no agent runs on .*: written to its files under the agent's lock/);
    const key = thresholdKey('service:shop/cart', 'rule:HighErrorRatio', 'error_ratio');
    assert.equal((await new ThresholdLearner(store, new VirtualClock(NOW)).load()).thresholds[key].value, proposal.to);

    o = io();
    assert.equal(await run(['accept', proposal.id, '--state-dir', dir], o.output), 1);
    assert.match(o.err[0], /^vigil thresholds: refused — threshold change thr-\d+ is applied; only a proposed change can become applied \(decision \S+ by /);

    // the same decision id again: its first verdict, nothing applied twice
    o = io();
    assert.equal(await run(['revert', proposal.id, '--state-dir', dir, '--by', 'bob', '--decision-id', 'd-revert-1'], o.output), 0);
    const again = io();
    assert.equal(await run(['revert', proposal.id, '--state-dir', dir, '--by', 'bob', '--decision-id', 'd-revert-1'], again.output), 0);
    assert.deepEqual(again.out, o.out);

    assert.equal((await new ThresholdLearner(store, new VirtualClock(NOW)).load()).thresholds[key], undefined);
    o = io();
    await run(['--state-dir', dir], o.output);
    assert.match(o.out.join('\n'), /reverted: .*\[reverted by user:bob \(cli\)/);

    const audit = await store.readAudit();
    assert.deepEqual(audit.map((e) => [e.kind, e.actor]), [
      ['threshold-change', 'vigil-learn'],
      ['threshold-change', 'user:alice (cli)'],
      ['decision', 'user:alice (cli)'],
      ['decision', `user:${os.userInfo().username} (cli)`],
      ['threshold-change', 'user:bob (cli)'],
      ['decision', 'user:bob (cli)'],
    ]);
    assert.match(audit[3].summary, /^accept threshold change thr-\d+: refused — threshold change thr-\d+ is applied/, 'a refused decision is audited too');
    assert.equal((await store.verifyAudit()).ok, true);
  });

  it('names a bad action or a missing id, and reports a corrupted learning file without touching it', async () => {
    let o = io();
    assert.equal(await run(['frobnicate', 'thr-1', '--state-dir', dir], o.output), 2);
    assert.match(o.err[0], /unknown action "frobnicate"; use accept, reject or revert/);
    o = io();
    assert.equal(await run(['revert', '--state-dir', dir], o.output), 2);
    assert.match(o.err[0], /name the change, e\.g\. `vigil thresholds revert thr-1/);
    o = io();
    assert.equal(await run(['revert', 'thr-9', '--state-dir', dir], o.output), 1);
    assert.match(o.err[0], /no threshold change "thr-9"/);
    mkdirSync(path.join(dir, 'state'), { recursive: true });
    writeFileSync(path.join(dir, 'state', 'learning.json'), '{"version": 1, "thresh');
    o = io();
    assert.equal(await run(['--state-dir', dir], o.output), 1);
    assert.match(o.err[0], /learning\.json.*using default thresholds/);
  });
});
