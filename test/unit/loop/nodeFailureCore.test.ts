import assert from 'node:assert/strict';
import { coreRig } from './coreRig';

describe('the composed core on a node whose kubelet stopped renewing its Lease', () => {
  it('reads the Leases live (not through the recording wrapper): the cordon hands on to the drain at once', async () => {
    let now = 0;
    const rig = await coreRig({ automation: { mode: 'auto' } }, { heartbeats: () => [{ node: 'node-0', renewedAt: now - 2_000, everyMs: 10_000 }, { node: 'node-1', renewedAt: now - 13_000, everyMs: 10_000 }, { node: 'node-2', renewedAt: now - 4_000, everyMs: 10_000 }] });
    try {
      now = rig.clock.now();
      const node = { kind: 'node' as const, name: 'node-1' };
      assert.equal(rig.core.evidence.rescheduled(node)?.stalled, 'node-1 has not renewed its Lease for 13 s and none of its pods is being evicted');
      await rig.core.remediator.onDiagnosis({ incidentKey: 'node:node-1', diagnosis: { kind: 'node-failure', target: node, confidence: 0.8, t: now, summary: 'node-1 has not renewed its Lease', evidence: [], details: { node: 'node-1' } } });
      for (let k = 0; k < 20; k++) await rig.clock.advance(100);
      await rig.core.remediator.idle();
      const [i] = rig.core.remediator.list();
      const kinds = i.timeline.map((e) => (e.kind === 'acted' ? `acted ${e.result.action.kind}` : e.kind === 'proposed' ? `proposed ${e.action.kind}` : e.kind));
      assert.ok(kinds.includes('acted cordon') && kinds.includes('proposed drain'), kinds.join(', '));
      const verified = i.timeline.find((e) => e.kind === 'verified');
      assert.ok(verified?.kind === 'verified' && /a cordon moves no pod/.test(verified.verdict.summary), JSON.stringify(verified));
    } finally {
      await rig.dispose();
    }
  });
});
