import type { Anomaly } from '../../../src/core/model/anomaly';
import type { ClusterFact } from '../../../src/core/model/fact';
import type { Incident, TimelineEntry } from '../../../src/core/model/incident';
import type { SampleFrame } from '../../../src/core/model/signal';
import type { TargetRef } from '../../../src/core/model/target';

export const HOSTILE = '<img src=x onerror=alert(1)>';
export const JS_URL = 'javascript:alert(document.cookie)';

const FRONTEND: TargetRef = { kind: 'service', namespace: 'shop', name: 'frontend' };
const pod = (name: string): TargetRef => ({ kind: 'pod', namespace: 'shop', name });

export interface BadReleaseTimes {
  /** When revision 2 rolled out. */
  readonly release: number;
  /** First frame with 5xx above normal. */
  readonly onset: number;
  readonly detection: number;
  readonly approved?: number;
  readonly acted: number;
  readonly recovered: number;
}

function ruleAnomaly(t: number, v: number): Anomaly {
  return { target: FRONTEND, t, detector: 'rule', score: 0.9, isAnomaly: true, severity: 'critical', contributions: [{ signal: 'error_ratio', share: 1, observed: v }], reason: `error_ratio ${v} > 0.05 for 15s`, rule: 'HighErrorRatio' };
}

/**
 * A bad release of shop/frontend as the live core records one: normal 5xx (0.2%) for 3 minutes, revision 2 at
 * `release`, 5xx at 9% from `onset`, the rule firing at every scrape from `detection` (six times), a rollback
 * (approved or not), recovery. The Kubernetes events of both rollouts are all there, 34 of them, plus strings
 * that carry HTML and a javascript: URL where the cluster puts text (event message, log line, annotation, flag).
 */
export function badRelease(id: string, t0: number, opts: { approved?: boolean; label?: 'false-alarm' | 'real'; detectAfterMs?: number; recoverAfterMs?: number } = {}): { incident: Incident; times: BadReleaseTimes } {
  const release = t0 + 180_000;
  const onset = release + 10_000;
  const detection = onset + (opts.detectAfterMs ?? 15_000);
  const approved = opts.approved ? detection + 20_000 : undefined;
  const acted = (approved ?? detection) + 1_000;
  const recovered = acted + (opts.recoverAfterMs ?? 30_000);
  const frames: SampleFrame[] = [];
  for (let t = t0; t <= recovered + 20_000; t += 5_000) {
    const bad = t >= onset && t < acted + 10_000;
    frames.push({ target: FRONTEND, t, values: { error_ratio: bad ? 0.09 + (t === detection + 10_000 ? 0.02 : 0) : 0.002, request_rate: 40, latency_p95: bad ? 0.4 : 0.12, probe_success: bad ? 0 : 1 } });
  }
  const facts: ClusterFact[] = [];
  const rollout = (at: number, rs: string, reason: string) => {
    facts.push({ kind: 'k8s-event', t: at, target: FRONTEND, reason: 'ScalingReplicaSet', message: `Scaled up replica set frontend-${rs} to 3 (${reason})`, severity: 'Normal' });
    for (let k = 0; k < 3; k++) {
      const p = `frontend-${rs}-p${k}x${k}z`;
      facts.push(
        { kind: 'k8s-event', t: at + 200 + k * 900, target: FRONTEND, reason: 'SuccessfulCreate', message: `Created pod: ${p}`, severity: 'Normal' },
        { kind: 'k8s-event', t: at + 300 + k * 900, target: pod(p), reason: 'Scheduled', message: `Successfully assigned shop/${p} to node-1`, severity: 'Normal' },
        { kind: 'k8s-event', t: at + 500 + k * 900, target: pod(p), reason: 'Pulled', message: `Container image "shop/frontend:x" already present on machine`, severity: 'Normal' },
        { kind: 'k8s-event', t: at + 600 + k * 900, target: pod(p), reason: 'Started', message: `Started container frontend`, severity: 'Normal' },
        { kind: 'k8s-event', t: at + 800 + k * 900, target: pod(`frontend-old${rs}-q${k}x${k}w`), reason: 'Killing', message: `Stopping container frontend ${HOSTILE}`, severity: 'Normal' },
      );
    }
  };
  const releaseFact: ClusterFact = { kind: 'revision-changed', t: release, target: FRONTEND, message: 'shop/frontend moved from revision 1 to 2', attributes: { from: 1, to: 2, image: `shop/frontend:2.3.2 ${HOSTILE}` } };
  facts.push(releaseFact);
  rollout(release - 500, 'r2abcd', 'release');
  facts.push({ kind: 'configmap-changed', t: release + 2000, target: FRONTEND, message: `feature flag checkout.v2 set to ${HOSTILE} (see ${JS_URL} and https://runbooks.example.com/frontend)`, attributes: { configMap: 'feature-flags', key: 'checkout.v2', value: HOSTILE } });
  facts.push({ kind: 'revision-changed', t: acted + 100, target: FRONTEND, message: 'shop/frontend moved from revision 2 to 3', attributes: { from: 2, to: 3, image: 'shop/frontend:2.3.1' } });
  rollout(acted + 50, 'r3efgh', 'rollback');
  facts.sort((a, b) => a.t - b.t);
  const anomalies = [0, 5_000, 10_000, 15_000, 20_000, 25_000].map((d) => ruleAnomaly(detection + d, d === 10_000 ? 0.11 : 0.09));
  const diagnosis = {
    kind: 'bad-release' as const,
    target: FRONTEND,
    confidence: 0.84,
    t: detection + 1000,
    summary: `shop/frontend 5xx rose from 0.2% to 9% 10 s after revision 2 rolled out. Annotation: ${HOSTILE}`,
    evidence: [
      ...anomalies.map((anomaly) => ({ kind: 'anomaly' as const, anomaly })),
      { kind: 'fact' as const, fact: releaseFact },
      { kind: 'log' as const, line: { t: detection, pod: pod('frontend-r2abcd-p0x0z'), text: `TypeError at checkout ${HOSTILE} ${JS_URL}`, pattern: 'exception' } },
      { kind: 'log' as const, line: { t: detection + 3000, pod: pod('frontend-r2abcd-p1x1z'), text: `TypeError at checkout ${HOSTILE}`, pattern: 'exception' } },
    ],
    alternatives: [{ kind: 'bad-feature-flag' as const, confidence: 0.31 }],
    details: { revision: 2, previousRevision: 1, image: 'shop/frontend:2.3.2' },
  };
  const rollbackAction = { kind: 'rollback' as const, namespace: 'shop', deployment: 'frontend' };
  const timeline: TimelineEntry[] = [
    ...anomalies.map((anomaly) => ({ t: anomaly.t, kind: 'detected' as const, anomaly })),
    { t: detection + 1000, kind: 'diagnosed', diagnosis },
    {
      t: detection + 1100,
      kind: 'proposed',
      stepId: 'roll-back',
      action: rollbackAction,
      gates: { allowed: !opts.approved, needsApproval: !!opts.approved, results: [{ gate: 'approval', allowed: !opts.approved, reason: opts.approved ? 'suggest mode: waiting for a human' : 'auto mode' }] },
      dryRun: { action: rollbackAction, dryRun: true, changed: true, summary: 'would roll back shop/frontend from revision 2 to 1', diff: [{ path: 'metadata.annotations.flag', before: 'off', after: HOSTILE }] },
    },
    ...(approved ? [{ t: approved, kind: 'approved' as const, stepId: 'roll-back', by: 'user:alice (vscode)' }] : []),
    { t: acted, kind: 'acted', stepId: 'roll-back', result: { action: rollbackAction, dryRun: false, changed: true, summary: 'rolled back deployment shop/frontend from revision 2 to the template of revision 1' } },
    { t: recovered, kind: 'verified', stepId: 'roll-back', verdict: { status: 'recovered', t: recovered, checks: [], summary: 'all 3 checks passed and held for 15 s' } },
    { t: recovered, kind: 'resolved', outcome: { kind: 'recovered', t: recovered, recoveredBy: 'roll-back', ...(opts.label ? { label: opts.label, labelledBy: 'user:alice' } : {}) } },
  ];
  timeline.sort((a, b) => a.t - b.t);
  const incident: Incident = {
    id,
    target: FRONTEND,
    openedAt: detection + 1000,
    updatedAt: recovered,
    state: 'recovered',
    diagnosis,
    playbook: 'bad-release',
    stepIndex: 0,
    timeline,
    recording: { frames, facts, logs: diagnosis.evidence.flatMap((e) => (e.kind === 'log' ? [e.line] : [])) },
    outcome: { kind: 'recovered', t: recovered, recoveredBy: 'roll-back', ...(opts.label ? { label: opts.label, labelledBy: 'user:alice' } : {}) },
    correlationKey: `k-${id}`,
  };
  return { incident, times: { release, onset, detection, approved, acted, recovered } };
}
