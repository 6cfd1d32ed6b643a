import type { Anomaly } from '../../../src/core/model/anomaly';
import type { Incident, TimelineEntry } from '../../../src/core/model/incident';

export const EVIL = '<img src=x onerror="alert(1)"><script>alert(2)</script>';

const T0 = 1_700_000_000_000;

export function anomaly(reason: string): Anomaly {
  return { target: { kind: 'service', namespace: 'shop', name: 'checkout' }, t: T0, detector: 'rule', score: 0.9, isAnomaly: true, severity: 'critical', contributions: [], reason };
}

/** A bad-release incident awaiting approval, with cluster strings that carry HTML. */
export function awaitingIncident(extra: Partial<Incident> = {}): Incident {
  const proposed: TimelineEntry = {
    t: T0 + 20_000,
    kind: 'proposed',
    stepId: 'rollback',
    action: { kind: 'rollback', namespace: 'shop', deployment: 'checkout' },
    gates: {
      allowed: false,
      needsApproval: true,
      results: [
        { gate: 'namespace-policy', allowed: true, reason: 'shop is allowed' },
        { gate: 'approval', allowed: false, reason: 'suggest mode: waiting for a human' },
      ],
    },
    dryRun: { action: { kind: 'rollback', namespace: 'shop', deployment: 'checkout' }, dryRun: true, changed: true, summary: 'would roll back shop/checkout from revision 2 to 1', diff: [{ path: 'spec.template.spec.containers[0].image', before: 'shop/checkout:1.1-bad', after: 'shop/checkout:1.0' }] },
  };
  return {
    id: 'inc-1',
    target: { kind: 'service', namespace: 'shop', name: 'checkout' },
    openedAt: T0,
    updatedAt: T0 + 20_000,
    state: 'awaiting-approval',
    stepIndex: 0,
    playbook: 'bad-release',
    diagnosis: {
      kind: 'bad-release',
      target: { kind: 'service', namespace: 'shop', name: 'checkout' },
      confidence: 0.87,
      t: T0 + 10_000,
      summary: 'errors rose right after revision 2 rolled out',
      evidence: [
        { kind: 'anomaly', anomaly: anomaly('error_ratio 0.12 > 0.05 for 15s') },
        { kind: 'log', line: { t: T0, pod: { kind: 'pod', namespace: 'shop', name: `checkout-7f${EVIL}` }, text: `NullPointerException ${EVIL}` } },
        { kind: 'fact', fact: { kind: 'revision-changed', t: T0 - 5000, target: { kind: 'service', namespace: 'shop', name: 'checkout' }, message: 'revision 1 → 2' } },
      ],
    },
    timeline: [{ t: T0, kind: 'detected', anomaly: anomaly('error_ratio 0.12 > 0.05 for 15s') }, proposed],
    recording: { frames: [], facts: [], logs: [] },
    ...extra,
  };
}
