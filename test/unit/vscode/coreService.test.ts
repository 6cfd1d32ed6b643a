import assert from 'node:assert/strict';
import type { LoopSnapshot } from '../../../src/core/loop/detectionPipeline';
import type { CoreEvent } from '../../../src/vscode/coreClient';
import { notifierToEvents, snapshotForViews } from '../../../src/vscode/coreService';
import { SeriesHistory, withoutRecording } from '../../../src/vscode/viewModel';
import { awaitingIncident } from './fixtures';

/** What crosses from the loop's process to the host: only what the views show. */
describe('the loop → host mapping (CoreService events)', () => {
  const frame = { t: 1_700_000_030_000, target: { kind: 'service' as const, namespace: 'shop', name: 'checkout' }, values: { error_ratio: 0.2 } };
  const recorded = awaitingIncident({ recording: { frames: [frame], facts: [], logs: [{ t: frame.t, pod: { kind: 'pod', namespace: 'shop', name: 'checkout-1' }, text: 'boom' }] } });

  it('incidents travel without their recordings; everything the cards show stays', () => {
    const light = withoutRecording(recorded);
    assert.deepEqual(light.recording, { frames: [], facts: [], logs: [] });
    assert.deepEqual({ ...light, recording: recorded.recording }, recorded);
    assert.equal(recorded.recording.frames.length, 1, 'the loop keeps its own copy whole');
  });

  it('notifications become events the host shows with their buttons', async () => {
    const events: CoreEvent[] = [];
    const notifier = notifierToEvents((e) => events.push(e));
    await notifier.approvalNeeded(recorded, 'rollback', 'roll back shop/checkout');
    await notifier.escalate({ incidentId: 'inc-1', target: recorded.target, reason: 'the rollback did not help' } as Parameters<typeof notifier.escalate>[0]);
    await notifier.resolved(recorded);
    assert.deepEqual(
      events.map((e) => e.kind),
      ['approvalNeeded', 'escalate', 'resolved'],
    );
    const approval = events[0] as Extract<CoreEvent, { kind: 'approvalNeeded' }>;
    assert.equal(approval.stepId, 'rollback');
    assert.equal(approval.summary, 'roll back shop/checkout');
    assert.equal(approval.incident.recording.frames.length, 0);
    assert.equal((events[1] as Extract<CoreEvent, { kind: 'escalate' }>).context.reason, 'the rollback did not help');
  });

  it('a snapshot carries the services with their sparkline signals only, and the host history reads it as the loop would', () => {
    const snapshot: LoopSnapshot = {
      t: 1_700_000_005_000,
      sources: [],
      targets: [
        {
          target: { kind: 'service', namespace: 'shop', name: 'checkout' },
          values: { error_ratio: 0.01, latency_p95: 0.12, latency_p50: 0.05, cpu: 0.3 },
          bands: { error_ratio: { lower: 0, upper: 0.02 }, latency_p50: { lower: 0.01, upper: 0.1 } },
          score: 0.1,
          isAnomaly: false,
          reason: 'within its expected band',
        },
        { target: { kind: 'pod', namespace: 'shop', name: 'checkout-1' }, values: { error_ratio: 0.5 }, bands: {}, score: 0, isAnomaly: false, reason: '' },
      ],
    } as unknown as LoopSnapshot;
    const sent = snapshotForViews(snapshot);
    assert.equal(sent.length, 1, 'pods stay in the loop');
    assert.deepEqual(sent[0].values, { error_ratio: 0.01, latency_p95: 0.12 });
    assert.deepEqual(sent[0].bands, { error_ratio: { lower: 0, upper: 0.02 } });
    const host = new SeriesHistory();
    const loop = new SeriesHistory();
    host.record(structuredClone(sent), snapshot.t);
    loop.record(snapshot.targets, snapshot.t);
    assert.deepEqual(host.services(new Set()), loop.services(new Set()));
  });
});
