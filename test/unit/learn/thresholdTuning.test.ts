import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_RULES } from '../../../src/core/detect/defaultRules';
import { ThresholdLearner } from '../../../src/core/learn/learningStore';
import {
  alertStands,
  emptyLearningState,
  evidenceOfAnomaly,
  revertChange,
  acceptChange,
  thresholdKey,
  tuneThresholds,
  type LabeledAlert,
} from '../../../src/core/learn/thresholdTuning';
import { VirtualClock } from '../../../src/core/loop/virtualClock';
import type { Anomaly } from '../../../src/core/model/anomaly';
import type { Incident } from '../../../src/core/model/incident';
import { FileStore } from '../../../src/infra/store/fileStore';
import { MemoryStore } from '../../fakes/memoryStore';
import { MemoryLogger } from '../../fakes/nullLogger';

const T = 'service:shop/cart';
const NOW = Date.UTC(2026, 10, 23, 12);
const dev = (id: string, real: boolean, value: number): LabeledAlert => ({ incidentId: id, target: T, real, evidence: [{ detector: 'deviation', signal: 'cpu', value }] });
const key = thresholdKey(T, 'deviation', 'cpu');

function statAnomaly(observed: number, expected: number, half: number, t = NOW): Anomaly {
  return {
    target: { kind: 'service', namespace: 'shop', name: 'cart' },
    t,
    detector: 'fusion',
    score: 1,
    isAnomaly: true,
    severity: 'critical',
    reason: `cpu ${observed} above its seasonal band`,
    contributions: [{ signal: 'cpu', share: 1, observed, band: { lower: expected - half, expected, upper: expected + half } }],
  };
}

describe('threshold tuning', () => {
  it('moves nothing on too few labels: the prior holds it at the default', () => {
    const alerts = [dev('a', false, 0.3), dev('b', false, 0.5), dev('c', false, 0.8)];
    const r = tuneThresholds(emptyLearningState(), alerts, DEFAULT_RULES, { mode: 'auto', now: NOW });
    assert.deepEqual(r.changes, []);
    assert.deepEqual(r.state.thresholds, {});
  });

  it('raises the deviation threshold past many false alarms, by bounded steps, and never past a real incident', () => {
    const alerts = [0.2, 0.3, 0.4, 0.6, 0.9, 1.1, 1.5, 2.5, 3.1, 3.6].map((v, k) => dev(`fa${k}`, false, v));
    alerts.push(dev('real1', true, 4.2), dev('real2', true, 60));
    let state = emptyLearningState();
    const seen: number[] = [];
    for (let round = 0; round < 5; round++) {
      const r = tuneThresholds(state, alerts, DEFAULT_RULES, { mode: 'auto', now: NOW + round });
      state = r.state;
      for (const c of r.changes) {
        assert.ok(Math.abs(c.to - c.from) <= 2 + 1e-9, `step ${c.from} → ${c.to} is bounded by 2`);
        assert.equal(c.status, 'applied');
        assert.ok(c.incidents.length > 0 && c.incidents.every((id) => id.startsWith('fa')), 'the change names the false alarms that justified it');
        seen.push(c.to);
      }
    }
    assert.deepEqual(seen.length, 2, `two steps: ${seen.join(', ')}`);
    const final = state.thresholds[key].value;
    assert.ok(final > 3.6 && final < 3.61, `ends just above the last false alarm, well below the first real incident, got ${final}`);
    assert.equal(state.changes.length, 2);
    assert.equal(state.changes[0].from, 0);
    // the gate now holds back the small deviation and lets the real one through
    assert.equal(alertStands(state, T, evidenceOfAnomaly(statAnomaly(0.56, 0.5, 0.2), DEFAULT_RULES)), false);
    assert.equal(alertStands(state, T, evidenceOfAnomaly(statAnomaly(2.5, 0.5, 0.2), DEFAULT_RULES)), true);
    // another target is untouched
    assert.equal(alertStands(state, 'service:shop/checkout', [{ detector: 'deviation', signal: 'cpu', value: 0.1 }, { detector: 'fusion-score', value: 1 }]), true);
  });

  it('a missed cost outweighs false alarms: one real incident in the band keeps the threshold down', () => {
    const alerts = [0.2, 0.3, 0.4, 0.5, 0.6].map((v, k) => dev(`fa${k}`, false, v));
    alerts.push(dev('real', true, 0.25));
    const r = tuneThresholds(emptyLearningState(), alerts, DEFAULT_RULES, { mode: 'auto', now: NOW });
    const v = r.state.thresholds[key]?.value ?? 0;
    assert.ok(v <= 0.25, `must not hold back the real incident at 0.25, got ${v}`);
  });

  it('rule thresholds learn in the rule unit (error_ratio), and a firing rule passes the learned level', () => {
    const alerts: LabeledAlert[] = [0.06, 0.07, 0.065, 0.08, 0.07, 0.075].map((v, k) => ({ incidentId: `fa${k}`, target: T, real: false, evidence: [{ detector: 'rule:HighErrorRatio', signal: 'error_ratio', value: v }] }));
    alerts.push({ incidentId: 'real', target: T, real: true, evidence: [{ detector: 'rule:HighErrorRatio', signal: 'error_ratio', value: 0.5 }] });
    const r = tuneThresholds(emptyLearningState(), alerts, DEFAULT_RULES, { mode: 'auto', now: NOW });
    const t = r.state.thresholds[thresholdKey(T, 'rule:HighErrorRatio', 'error_ratio')];
    assert.equal(t?.value, 0.075, 'one bounded step (half the default, 0.025) toward the highest false alarm');
    assert.equal(alertStands(r.state, T, [{ detector: 'rule:HighErrorRatio', signal: 'error_ratio', value: 0.07 }]), false);
    const next = tuneThresholds(r.state, alerts, DEFAULT_RULES, { mode: 'auto', now: NOW + 1 });
    assert.equal(next.state.thresholds[thresholdKey(T, 'rule:HighErrorRatio', 'error_ratio')].value, 0.08008, 'the next update stops just above the highest false alarm');
    assert.equal(alertStands(r.state, T, [{ detector: 'rule:HighErrorRatio', signal: 'error_ratio', value: 0.3 }]), true);
  });

  it('suggest mode proposes; accept applies; revert restores the old value; every step is recorded', () => {
    const alerts = [0.2, 0.3, 0.4, 0.6, 0.9, 1.1].map((v, k) => dev(`fa${k}`, false, v));
    const proposed = tuneThresholds(emptyLearningState(), alerts, DEFAULT_RULES, { mode: 'suggest', now: NOW });
    assert.equal(proposed.changes.length, 1);
    assert.equal(proposed.changes[0].status, 'proposed');
    assert.deepEqual(proposed.state.thresholds, {}, 'a proposal changes nothing');
    // a pending proposal is not proposed twice
    assert.equal(tuneThresholds(proposed.state, alerts, DEFAULT_RULES, { mode: 'suggest', now: NOW + 1 }).changes.length, 0);
    const accepted = acceptChange(proposed.state, proposed.changes[0].id, 'user:alice', NOW + 2);
    assert.equal(accepted.state.thresholds[key].value, proposed.changes[0].to);
    assert.equal(accepted.change.decidedBy, 'user:alice');
    const reverted = revertChange(accepted.state, proposed.changes[0].id, 'user:bob', NOW + 3);
    assert.equal(reverted.state.thresholds[key], undefined, 'back to the default');
    assert.deepEqual(reverted.state.changes.map((c) => c.status), ['reverted']);
    assert.throws(() => revertChange(reverted.state, proposed.changes[0].id, 'user:bob', NOW + 4), /is reverted; only a applied change/);
    assert.throws(() => acceptChange(reverted.state, 'thr-99', 'user:bob', NOW), /no threshold change "thr-99"/);
  });
});

describe('ThresholdLearner (persistence)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-learn-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function incident(id: string, label: 'false-alarm' | 'real', observed: number): Incident {
    const a = statAnomaly(observed, 0.5, 0.2);
    return {
      id,
      target: a.target,
      openedAt: NOW,
      updatedAt: NOW,
      state: 'closed',
      stepIndex: 0,
      timeline: [{ t: NOW, kind: 'detected', anomaly: a }],
      recording: { frames: [], facts: [], logs: [] },
      outcome: { kind: label === 'false-alarm' ? 'false-alarm' : 'resolved-without-action', t: NOW, label },
    };
  }

  it('learns from labeled incidents, saves, audits each change, and reloads; revert is audited too', async () => {
    const store = new FileStore(dir);
    const clock = new VirtualClock(NOW);
    const learner = new ThresholdLearner(store, clock);
    await learner.load();
    const incidents = [0.55, 0.6, 0.62, 0.7, 0.75, 0.8].map((o, k) => incident(`fa${k}`, 'false-alarm', o));
    incidents.push(incident('real', 'real', 5));
    const changes = await learner.learn(incidents, DEFAULT_RULES, 'auto');
    assert.equal(changes.length, 1);
    const again = new ThresholdLearner(store, clock);
    const state = await again.load();
    assert.equal(again.problem, undefined);
    assert.equal(state.thresholds[key].value, changes[0].to);
    await again.revert(changes[0].id, 'user:carol');
    const audit = await store.readAudit();
    assert.deepEqual(audit.map((e) => e.kind), ['threshold-change', 'threshold-change']);
    assert.match(audit[1].summary, /reverted: deviation\/cpu on service:shop\/cart/);
    assert.equal(audit[1].actor, 'user:carol');
    assert.equal((await new ThresholdLearner(store, clock).load()).thresholds[key], undefined);
  });

  it('a corrupted learning file is reported, naming the file, and the defaults are used', async () => {
    mkdirSync(path.join(dir, 'state'), { recursive: true });
    const file = path.join(dir, 'state', 'learning.json');
    writeFileSync(file, '{"version": 1, "thresholds": {');
    const logger = new MemoryLogger();
    const learner = new ThresholdLearner(new FileStore(dir), new VirtualClock(NOW), logger);
    const state = await learner.load();
    assert.deepEqual(state.thresholds, {});
    assert.ok(learner.problem?.includes(file), learner.problem);
    assert.match(learner.problem ?? '', /using default thresholds/);
    assert.equal(alertStands(state, T, [{ detector: 'deviation', signal: 'cpu', value: 0.01 }, { detector: 'fusion-score', value: 0.95 }]), true);
  });

  it('valid JSON of the wrong shape is reported and the defaults are used', async () => {
    const store = new MemoryStore();
    await store.writeState('learning', { version: 1, thresholds: { x: { value: 'high' } }, changes: [] });
    const learner = new ThresholdLearner(store, new VirtualClock(NOW));
    const state = await learner.load();
    assert.deepEqual(state.thresholds, {});
    assert.match(learner.problem ?? '', /learning\.json.*not a valid learning file \(threshold "x" is malformed\)/);
    // learning still works afterwards and clears the problem
    await learner.learn([0.55, 0.6, 0.62, 0.7, 0.75, 0.8].map((o, k) => incident(`fa${k}`, 'false-alarm', o)), DEFAULT_RULES, 'auto');
    assert.equal(learner.problem, undefined);
  });
});
