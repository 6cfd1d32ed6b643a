import assert from 'node:assert/strict';
import { BUILTIN_PLAYBOOKS_SOURCE, BUILTIN_PLAYBOOKS_YAML } from '../../../src/core/decide/builtinPlaybooks';
import { parsePlaybooks } from '../../../src/core/decide/playbookLoader';
import { formatReplay, replayIncident } from '../../../src/core/learn/replay';
import type { ClusterFact } from '../../../src/core/model/fact';
import type { Incident } from '../../../src/core/model/incident';
import type { SampleFrame } from '../../../src/core/model/signal';

const playbooks = parsePlaybooks(BUILTIN_PLAYBOOKS_YAML, BUILTIN_PLAYBOOKS_SOURCE).playbooks;
const target = { kind: 'service' as const, namespace: 'shop', name: 'checkout' };
const T0 = Date.UTC(2026, 10, 23, 10, 0, 0);
const STEP = 5000;

/** A recorded bad release: 10 minutes of normal traffic, then revision 5 and 5xx at 12%. */
function recordedBadRelease(): Incident {
  let seed = 42;
  const noise = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31 - 0.5;
  };
  const releaseAt = T0 + 120 * STEP;
  const frames: SampleFrame[] = [];
  for (let i = 0; i < 160; i++) {
    const t = T0 + i * STEP;
    const bad = t >= releaseAt + 2 * STEP;
    frames.push({ target, t, values: { request_rate: 50 + 5 * noise(), error_ratio: bad ? 0.12 + 0.01 * noise() : 0.004 + 0.002 * noise(), latency_p99: 0.25 + 0.02 * noise(), cpu: 0.4 + 0.02 * noise(), memory: 2.6e8 + 1e6 * noise() } });
  }
  const facts: ClusterFact[] = [
    { kind: 'revision-changed', t: releaseAt, target, message: 'shop/checkout moved from revision 4 to 5 (image shop/checkout:1.4.2 → shop/checkout:1.5.0)', attributes: { from: 4, to: 5, revision: 5, previousRevision: 4, image: 'shop/checkout:1.5.0' } },
    { kind: 'rollout-started', t: releaseAt, target, message: 'Rollout of shop/checkout started (image shop/checkout:1.5.0)', attributes: { revision: 5, image: 'shop/checkout:1.5.0' } },
  ];
  return {
    id: 'inc-test-bad-release',
    target,
    openedAt: releaseAt + 4 * STEP,
    updatedAt: releaseAt + 30 * STEP,
    state: 'recovered',
    stepIndex: 0,
    diagnosis: { kind: 'bad-release', target, confidence: 0.85, t: releaseAt + 4 * STEP, summary: 'recorded', evidence: [] },
    timeline: [
      { t: releaseAt + 4 * STEP, kind: 'diagnosed', diagnosis: { kind: 'bad-release', target, confidence: 0.85, t: releaseAt + 4 * STEP, summary: 'recorded', evidence: [] } },
      { t: releaseAt + 5 * STEP, kind: 'acted', stepId: 'roll-back', result: { action: { kind: 'rollback', namespace: 'shop', deployment: 'checkout', toRevision: 4 }, dryRun: false, changed: true, summary: 'rolled back' } },
    ],
    recording: { frames, facts, logs: [] },
  };
}

describe('replay', () => {
  it('re-runs a recorded incident to the same diagnosis and action, and says how it compares', () => {
    const r = replayIncident(recordedBadRelease(), { playbooks });
    assert.equal(r.replayed.diagnosis, 'bad-release');
    assert.equal(r.replayed.firstAction, 'rollout undo deployment shop/checkout --to-revision=4');
    assert.ok(r.comparison.includes('same diagnosis (bad release)'), r.comparison.join('; '));
    assert.ok(r.comparison.some((c) => c.startsWith('same first action')), r.comparison.join('; '));
    assert.ok(r.events.some((e) => e.kind === 'decided' && /playbook bad-release/.test(e.text)));
  });

  it('gives a byte-identical timeline on two runs', () => {
    const a = formatReplay(replayIncident(recordedBadRelease(), { playbooks }), T0);
    const b = formatReplay(replayIncident(recordedBadRelease(), { playbooks }), T0);
    assert.equal(a, b);
    assert.ok(a.length > 200);
    assert.equal(JSON.stringify(replayIncident(recordedBadRelease(), { playbooks })), JSON.stringify(replayIncident(recordedBadRelease(), { playbooks })));
  });

  it('a what-if without the playbook reports a different action', () => {
    const r = replayIncident(recordedBadRelease(), { playbooks: playbooks.filter((p) => p.name !== 'bad-release') });
    assert.ok(r.comparison.some((c) => /different first action/.test(c)), r.comparison.join('; '));
  });
});
