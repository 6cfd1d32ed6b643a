import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { blamedChanges, FOCUSED_LINES, focusedTimeline, incidentTimes, rankedFindings, symptomOnset } from '../../../src/core/learn/incidentStory';
import type { Incident } from '../../../src/core/model/incident';
import { badRelease } from './storyFixtures';

const T0 = Date.UTC(2026, 11, 1, 10, 0, 0);

describe('incident story', () => {
  it('finds the symptom onset on the detected signal, before the detection', () => {
    const { incident, times } = badRelease('inc-a', T0);
    assert.equal(symptomOnset(incident).t, times.onset);
    const t = incidentTimes(incident);
    assert.equal(t.detection, times.detection);
    assert.equal(t.recovery, times.recovered);
    assert.deepEqual(
      t.markers.map((m) => m.kind),
      ['change', 'coincident-change', 'onset', 'detection', 'action', 'recovery'],
    );
    assert.equal(t.markers[0].label, 'revision 2');
  });

  it('on the demo\'s bad release, the onset is the release\'s errors, not the callee\'s earlier ones nor the 0.2 % background', () => {
    // `vigil demo`'s incident file as written (crash loop on checkout, then a bad release on frontend, its caller):
    // frontend's 5xx sat at 0.18 % for a minute, rose to 5 % with checkout's crash loop (−50 s to −20 s), fell back, and
    // rose again with revision 2 (released 16 s before the detection; the demo printed "detected 17 s after injection,
    // symptoms 1 s after"). The background was once "off" a median of 0 and carried the onset back to −65 s: a 65 s
    // time to detect and 101 s to recover against the demo's own 17 s and 52 s.
    const file = path.join(__dirname, '../../fixtures/incidents/demo-bad-release-frontend.json');
    const incident = JSON.parse(readFileSync(file, 'utf8')) as Incident;
    const t = incidentTimes(incident);
    const [release] = blamedChanges(incident);
    assert.equal(`${release.target.name} ${release.kind} to ${release.attributes?.to}`, 'frontend revision-changed to 2');
    assert.equal(t.signal, 'error_ratio');
    assert.equal(t.detection - release.t, 15_962);
    // the first frame showing the release's errors (each frame is the last 5 s interval): after the release, before the detection
    assert.equal(t.onset - t.detection, -10_000);
    assert.ok(t.onset > release.t);
    assert.ok(t.recovery! - t.onset <= 52_000, `time to recover ${t.recovery! - t.onset} ms, the demo's verified 52 s from injection`);
  });

  it('says each finding once, with its peak and how long it held (the rule fired six times)', () => {
    const { incident } = badRelease('inc-a', T0);
    const findings = rankedFindings(incident);
    const rule = findings.filter((f) => f.kind === 'signal');
    assert.equal(rule.length, 1, JSON.stringify(findings));
    assert.equal(rule[0].text, '5xx over its alert threshold (rule HighErrorRatio), peak 11% over 25 s (6 readings)');
    assert.equal(findings[0], rule[0], 'the signal ranks first');
    const logs = findings.filter((f) => f.kind === 'log');
    assert.equal(logs.length, 1);
    assert.match(logs[0].text, /^2 log lines matching exception over 3 s \(2 readings\), e\.g\. /);
    assert.equal(findings.filter((f) => f.kind === 'change').length, 1);
  });

  it('focuses the timeline: at most 12 lines with the release, the detection, the action and the recovery; bursts folded', () => {
    const { incident, times } = badRelease('inc-a', T0, { approved: true });
    const { focused, all } = focusedTimeline(incident);
    assert.ok(focused.length <= FOCUSED_LINES, `${focused.length} lines`);
    assert.ok(all.length > 40, `all events are kept: ${all.length}`);
    const text = focused.map((l) => `${l.kind}: ${l.text}`);
    assert.ok(text.some((l) => l.startsWith('release: blamed change: release of shop/frontend: revision 1 → 2')), text.join('\n'));
    assert.equal(text.filter((l) => l.startsWith('detected:')).length, 1, 'the repeated detection is one line');
    assert.ok(focused.some((l) => l.kind === 'approved' && l.t === times.approved));
    assert.ok(focused.some((l) => l.kind === 'acted' && l.t === times.acted));
    assert.ok(focused.some((l) => l.kind === 'verified' && /recovered/.test(l.text)));
    const rollouts = text.filter((l) => l.startsWith('events: rollout of shop/frontend'));
    assert.deepEqual(rollouts.map((l) => l.replace(/ \(\d+ events\)$/, '')), ['events: rollout of shop/frontend: 3 pods replaced in 3 s', 'events: rollout of shop/frontend: 3 pods replaced in 3 s']);
    // the rollback's own new revision is the action's line, not a second release
    assert.ok(!text.some((l) => /revision 2 → 3/.test(l)), text.join('\n'));
    // lines are in time order
    assert.deepEqual(focused.map((l) => l.t), [...focused.map((l) => l.t)].sort((a, b) => a - b));
  });

  it('keeps the key lines when there are more than 12, dropping folded bursts first', () => {
    const { incident } = badRelease('inc-a', T0, { approved: true });
    const { focused } = focusedTimeline(incident, 6);
    assert.equal(focused.length, 6);
    assert.ok(!focused.some((l) => l.kind === 'events'), focused.map((l) => l.text).join('\n'));
    assert.ok(focused.some((l) => l.kind === 'acted'));
  });
});
