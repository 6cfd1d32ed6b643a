import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_RULES } from '../../../src/core/detect/defaultRules';
import { ThresholdLearner } from '../../../src/core/learn/learningStore';
import { VirtualClock } from '../../../src/core/loop/virtualClock';
import type { Incident } from '../../../src/core/model/incident';
import { FileStore } from '../../../src/infra/store/fileStore';
import { MemoryLogger } from '../../fakes/nullLogger';

const NOW = Date.UTC(2026, 10, 23, 12);
const target = { kind: 'service' as const, namespace: 'shop', name: 'cart' };

function incident(id: string, observed: number, outcome: Incident['outcome'], state: Incident['state'] = 'closed'): Incident {
  const anomaly = { target, t: NOW, detector: 'fusion' as const, score: 1, isAnomaly: true, severity: 'critical' as const, reason: 'rule: error_ratio 0.07 > 0.05 for 15s', contributions: [{ signal: 'error_ratio' as const, share: 1, observed }] };
  return { id, target, openedAt: NOW, updatedAt: NOW, state, stepIndex: 0, timeline: [{ t: NOW, kind: 'detected', anomaly }], recording: { frames: [], facts: [], logs: [] }, outcome };
}
const falseAlarm = (id: string, v: number) => incident(id, v, { kind: 'false-alarm', t: NOW, label: 'false-alarm' });

describe('learning from outcomes as they arrive (the agent)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-outcomes-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('learns once per new label or verified outcome, not on open or unlabelled incidents', async () => {
    const store = new FileStore(dir);
    const learner = new ThresholdLearner(store, new VirtualClock(NOW));
    await learner.load();
    const incidents = [0.06, 0.062, 0.065, 0.068].map((v, k) => falseAlarm(`fa-${k}`, v));
    incidents.push(incident('open', 0.07, undefined, 'verifying'), incident('unlabelled', 0.07, { kind: 'resolved-without-action', t: NOW }));
    assert.deepEqual(await learner.learnFromOutcomes(incidents, DEFAULT_RULES, 'auto'), [], 'four labels: the prior holds');
    assert.deepEqual(await learner.learnFromOutcomes(incidents, DEFAULT_RULES, 'auto'), [], 'nothing new');
    // a fifth false alarm is labelled: it moves
    incidents.push(falseAlarm('fa-4', 0.069));
    const changes = await learner.learnFromOutcomes(incidents, DEFAULT_RULES, 'auto');
    assert.equal(changes.length, 1);
    assert.equal(changes[0].status, 'applied');
    assert.deepEqual(changes[0].incidents, ['fa-0', 'fa-1', 'fa-2', 'fa-3', 'fa-4']);
    // a verified recovery is an outcome too: it is learned from (a real incident above the level changes nothing here)
    incidents.push(incident('real-1', 0.4, { kind: 'recovered', t: NOW, recoveredBy: 'rollback' }));
    assert.deepEqual(await learner.learnFromOutcomes(incidents, DEFAULT_RULES, 'auto'), []);
    assert.equal((await store.readAudit()).length, 1, 'one change, audited once');
  });

  it('re-reads the file first, so a revert made meanwhile (vigil thresholds) is not overwritten', async () => {
    const store = new FileStore(dir);
    const agent = new ThresholdLearner(store, new VirtualClock(NOW));
    await agent.load();
    const incidents = [0.06, 0.062, 0.065, 0.068, 0.069].map((v, k) => falseAlarm(`fa-${k}`, v));
    const [change] = await agent.learnFromOutcomes(incidents, DEFAULT_RULES, 'auto');
    const cli = new ThresholdLearner(store, new VirtualClock(NOW + 1));
    await cli.load();
    await cli.revert(change.id, 'user:bob (cli)');
    incidents.push(incident('real-1', 0.4, { kind: 'recovered', t: NOW }));
    assert.deepEqual(await agent.learnFromOutcomes(incidents, DEFAULT_RULES, 'auto'), [], 'the same labels do not undo a human revert');
    assert.equal(agent.state.changes.find((c) => c.id === change.id)?.status, 'reverted');
    assert.deepEqual(agent.state.thresholds, {});
    // a new false alarm is new evidence: learning may move it again
    incidents.push(falseAlarm('fa-5', 0.066));
    const again = await agent.learnFromOutcomes(incidents, DEFAULT_RULES, 'auto');
    assert.equal(again.length, 1);
    assert.ok(again[0].incidents.includes('fa-5'));
  });

  it('leaves a corrupted learning file alone, says so once, and learns once it is fixed', async () => {
    mkdirSync(path.join(dir, 'state'), { recursive: true });
    const file = path.join(dir, 'state', 'learning.json');
    writeFileSync(file, '{"version": 1, "thr');
    const logger = new MemoryLogger();
    const learner = new ThresholdLearner(new FileStore(dir), new VirtualClock(NOW), logger);
    await learner.load();
    const incidents = [0.06, 0.062, 0.065, 0.068, 0.069].map((v, k) => falseAlarm(`fa-${k}`, v));
    assert.deepEqual(await learner.learnFromOutcomes(incidents, DEFAULT_RULES, 'auto'), []);
    assert.deepEqual(await learner.learnFromOutcomes(incidents, DEFAULT_RULES, 'auto'), []);
    assert.equal(readFileSync(file, 'utf8'), '{"version": 1, "thr', 'untouched');
    assert.equal(logger.lines.filter((l) => l.level === 'error').length, 1, 'reported once');
    rmSync(file);
    assert.equal((await learner.learnFromOutcomes(incidents, DEFAULT_RULES, 'auto')).length, 1);
  });
});
