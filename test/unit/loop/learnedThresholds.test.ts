import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_RULES } from '../../../src/core/detect/defaultRules';
import { RuleEngine } from '../../../src/core/detect/rules';
import { StreamingDetector, stepFrame, toAnomaly } from '../../../src/core/detect/streamingDetector';
import { ThresholdLearner } from '../../../src/core/learn/learningStore';
import { thresholdKey } from '../../../src/core/learn/thresholdTuning';
import { badDirectionOnly } from '../../../src/core/loop/detectionPipeline';
import type { Anomaly } from '../../../src/core/model/anomaly';
import type { Incident } from '../../../src/core/model/incident';
import { SIGNAL_DEFINITIONS } from '../../../src/core/observe/signalCatalogue';
import { FileStore } from '../../../src/infra/store/fileStore';
import { SERVICE, T0, loopRig, normalValues } from './loopRig';

const TARGET = 'service:shop/cart';
const DIRECTIONS = Object.fromEntries(SIGNAL_DEFINITIONS.map((d) => [d.name, d.bad]));

/** A false alarm as the engine records it: closed, labelled by a human, with the anomaly it was raised on. */
function falseAlarm(id: string, anomaly: Anomaly): Incident {
  return {
    id,
    target: SERVICE,
    openedAt: anomaly.t,
    updatedAt: anomaly.t + 60_000,
    state: 'closed',
    stepIndex: 0,
    timeline: [{ t: anomaly.t, kind: 'detected', anomaly }],
    recording: { frames: [], facts: [], logs: [] },
    outcome: { kind: 'false-alarm', t: anomaly.t + 60_000, label: 'false-alarm', labelledBy: 'user:alice (cli)' },
  };
}

describe('learned thresholds in the live loop', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-live-learn-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a labelled false alarm (auto mode) raises the threshold and the same anomaly is no longer raised; revert raises it again', async () => {
    const store = new FileStore(dir);
    const rig = loopRig({ store });
    const learner = new ThresholdLearner(store, rig.clock);
    await learner.load();
    const live = loopRig({ store, thresholds: () => learner.state });
    // the same frames through the detectors the loop runs, to record what each alert rested on
    const detector = new StreamingDetector(DIRECTIONS);
    const rules = new RuleEngine(DEFAULT_RULES, {});
    let k = 0;
    /** 30 calm frames, then an error burst of 0.07 (rule HighErrorRatio: > 0.05 for 15 s); returns the loop's verdicts in the burst. */
    const episode = () => {
      const verdicts: Array<ReturnType<typeof live.frame>> = [];
      let raised: Anomaly | undefined;
      for (let i = 0; i < 40; i++, k++) {
        const values = i >= 30 && i < 36 ? { ...normalValues(k), error_ratio: 0.07 } : normalValues(k);
        const v = live.frame(values);
        const a = badDirectionOnly(toAnomaly(SERVICE, stepFrame(detector, v.frame, undefined, rules.step(v.frame))));
        if (i >= 30) verdicts.push(v);
        if (a.isAnomaly && !raised) raised = a;
      }
      return { verdicts, raised };
    };

    const first = episode();
    assert.ok(first.verdicts.some((v) => v.isAnomaly && /^rule: error_ratio/.test(v.reason)), `the burst is raised at the defaults: ${first.verdicts.map((v) => v.reason).join(' | ')}`);
    assert.ok(first.raised, 'the recorded detector saw it too');

    // five such bursts, each labelled a false alarm by a human (the prior needs a few before it moves)
    const incidents = [falseAlarm('inc-1', first.raised)];
    for (let n = 2; n <= 5; n++) incidents.push(falseAlarm(`inc-${n}`, episode().raised!));
    const changes = await learner.learn(incidents, DEFAULT_RULES, 'auto');
    const change = changes.find((c) => c.detector === 'rule:HighErrorRatio');
    assert.ok(change, `a change of the error-ratio rule: ${JSON.stringify(changes)}`);
    assert.equal(change.status, 'applied');
    assert.ok(change.to > 0.07 && change.from === 0.05, `${change.from} → ${change.to}`);
    assert.deepEqual([...change.incidents].sort(), ['inc-1', 'inc-2', 'inc-3', 'inc-4', 'inc-5']);
    assert.equal(learner.state.thresholds[thresholdKey(TARGET, 'rule:HighErrorRatio', 'error_ratio')].value, change.to);

    const held = episode();
    assert.ok(!held.verdicts.some((v) => v.isAnomaly), `not raised once learned: ${held.verdicts.map((v) => v.reason).join(' | ')}`);
    assert.ok(held.verdicts.some((v) => /held back by learned thresholds: rule:HighErrorRatio\/error_ratio 0\.07 < learned 0\.07/.test(v.reason)), held.verdicts.map((v) => v.reason).join(' | '));
    // a worse burst still stands: the learned level only holds back what the labels covered
    const worse = [0, 1, 2, 3].map(() => live.frame({ ...normalValues(k++), error_ratio: 0.3 }));
    assert.ok(worse.some((v) => v.isAnomaly), worse.map((v) => v.reason).join(' | '));
    for (let i = 0; i < 20; i++) live.frame(normalValues(k++));

    await learner.revert(change.id, 'user:bob (cli)');
    const again = episode();
    assert.ok(again.verdicts.some((v) => v.isAnomaly && /^rule: error_ratio/.test(v.reason)), 'raised again after the revert');
    const audit = await store.readAudit();
    assert.deepEqual(audit.map((e) => e.kind), ['threshold-change', 'threshold-change']);
    assert.match(audit[1].summary, /reverted: rule:HighErrorRatio\/error_ratio on service:shop\/cart 0\.05 → 0\.07/);
    assert.equal(rig.loop.snapshot().targets.length, 0, 'the unused rig saw nothing');
  });

  it('suggest mode only proposes: the anomaly is still raised until a human accepts', async () => {
    const store = new FileStore(dir);
    const probe = loopRig({ store });
    const learner = new ThresholdLearner(store, probe.clock);
    await learner.load();
    const live = loopRig({ store, thresholds: () => learner.state });
    const burst = (k0: number) => {
      let raised = false;
      for (let i = 0; i < 40; i++) raised = live.frame(i >= 30 && i < 36 ? { ...normalValues(k0 + i), error_ratio: 0.07 } : normalValues(k0 + i)).isAnomaly || raised;
      return raised;
    };
    const anomaly: Anomaly = {
      target: SERVICE,
      t: T0,
      detector: 'fusion',
      score: 1,
      isAnomaly: true,
      severity: 'critical',
      reason: 'rule: error_ratio 0.07 > 0.05 for 15s',
      rule: 'HighErrorRatio',
      contributions: [{ signal: 'error_ratio', share: 1, observed: 0.07 }],
    };
    const [proposal] = await learner.learn([1, 2, 3, 4, 5].map((n) => falseAlarm(`inc-${n}`, anomaly)), DEFAULT_RULES, 'suggest');
    assert.equal(proposal.status, 'proposed');
    assert.ok(burst(0), 'a proposal changes nothing live');
    await learner.accept(proposal.id, 'user:alice (cli)');
    assert.ok(!burst(40), 'accepted: held back');
  });
});
