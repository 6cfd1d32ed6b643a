/**
 * An incident as the cluster shows it: the Incident resource (incidents.vigil.dev/v1alpha1) the acting replica
 * writes, so `kubectl get incidents -A` is an on-call view by itself. Pure: the adapter in
 * infra/kubernetes/incidentResources.ts only sends what this returns.
 */
import { describeAction } from './action';
import type { Diagnosis } from './diagnosis';
import type { Incident } from './incident';
import type { TargetKind, TargetRef } from './target';

export interface IncidentResource {
  /** The resource's name: the incident id, lower-cased to a DNS label. */
  readonly name: string;
  /** The target's namespace; a node's incident lives in `nodeNamespace`. */
  readonly namespace: string;
  readonly spec: { readonly incidentId: string; readonly target: string };
  readonly status: IncidentResourceStatus;
}

export interface IncidentResourceStatus {
  readonly state: Incident['state'];
  readonly openedAt: string;
  readonly updatedAt: string;
  readonly diagnosis?: { readonly kind: string; readonly confidence: string; readonly summary: string };
  readonly evidence?: ReadonlyArray<string>;
  readonly proposedStep?: { readonly stepId: string; readonly action: string; readonly dryRun?: string; readonly diff?: ReadonlyArray<{ readonly path: string; readonly before?: string; readonly after?: string }> };
  readonly gates?: ReadonlyArray<{ readonly gate: string; readonly allowed: boolean; readonly reason: string }>;
  readonly verification?: { readonly stepId: string; readonly status: string; readonly summary: string };
  readonly outcome?: { readonly kind: string; readonly at: string; readonly note?: string };
}

/** Lines of evidence shown in status: the strongest first, as the diagnosis lists them. */
const EVIDENCE_LINES = 5;

export function incidentResourceName(id: string): string {
  return id.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63) || 'incident';
}

export function incidentResource(i: Incident, nodeNamespace: string): IncidentResource {
  const t = i.target;
  const target = t.kind === 'service' ? `service/${t.name}` : `${t.kind}/${t.name}`;
  return {
    name: incidentResourceName(i.id),
    namespace: t.namespace ?? nodeNamespace,
    spec: { incidentId: i.id, target },
    status: incidentStatus(i),
  };
}

/** Inverse of the resource's `spec.target` (service/NAME, pod/NAME, node/NAME) in its namespace; undefined when malformed. */
export function incidentResourceTarget(target: string | undefined, namespace: string | undefined): TargetRef | undefined {
  const [kind, name, ...rest] = (target ?? '').split('/');
  if (!name || rest.length || !['service', 'pod', 'node'].includes(kind)) return undefined;
  return kind === 'node' ? { kind: 'node', name } : { kind: kind as TargetKind, namespace, name };
}

export function incidentStatus(i: Incident): IncidentResourceStatus {
  const iso = (ms: number) => new Date(ms).toISOString();
  let proposed: IncidentResourceStatus['proposedStep'];
  let gates: IncidentResourceStatus['gates'];
  let verification: IncidentResourceStatus['verification'];
  for (const e of i.timeline) {
    if (e.kind === 'proposed') {
      proposed = {
        stepId: e.stepId,
        action: describeAction(e.action),
        ...(e.dryRun ? { dryRun: e.dryRun.summary } : {}),
        ...(e.dryRun?.diff?.length ? { diff: e.dryRun.diff.map((d) => ({ path: d.path, before: text(d.before), after: text(d.after) })) } : {}),
      };
      gates = e.gates.results.map((g) => ({ gate: g.gate, allowed: g.allowed, reason: g.reason }));
    } else if (e.kind === 'refused') {
      gates = e.gates.results.map((g) => ({ gate: g.gate, allowed: g.allowed, reason: g.reason }));
    } else if (e.kind === 'verified') {
      verification = { stepId: e.stepId, status: e.verdict.status, summary: e.verdict.summary };
    }
  }
  return {
    state: i.state,
    openedAt: iso(i.openedAt),
    updatedAt: iso(i.updatedAt),
    ...(i.diagnosis ? { diagnosis: { kind: i.diagnosis.kind, confidence: `${Math.round(i.diagnosis.confidence * 100)}%`, summary: i.diagnosis.summary } } : {}),
    ...(i.diagnosis?.evidence.length ? { evidence: evidenceLines(i.diagnosis) } : {}),
    ...(proposed ? { proposedStep: proposed } : {}),
    ...(gates ? { gates } : {}),
    ...(verification ? { verification } : {}),
    ...(i.outcome ? { outcome: { kind: i.outcome.kind, at: iso(i.outcome.t), ...(i.outcome.note ? { note: i.outcome.note } : {}) } } : {}),
  };
}

function evidenceLines(d: Diagnosis): string[] {
  return d.evidence.slice(0, EVIDENCE_LINES).map((e) => {
    switch (e.kind) {
      case 'anomaly':
        return e.anomaly.reason;
      case 'fact':
        return e.fact.message;
      case 'log':
        return `log ${e.line.pod.name}: ${e.line.text.slice(0, 200)}`;
      case 'signal-trend':
      case 'coincident-change':
        return e.note;
      case 'alert':
        return `alert ${e.alert.name}${e.alert.summary ? `: ${e.alert.summary}` : ''}`;
      case 'slo-burn':
        return e.text;
    }
  });
}

function text(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** The cluster has no Incident resources (the CRD incidents.vigil.dev is not installed): nothing to write to. */
export class IncidentResourcesAbsentError extends Error {
  constructor(detail: string) {
    super(`no Incident resources on this cluster (${detail}); install the CRD: kubectl apply -f deploy/helm/vigil/crds/incidents.vigil.dev.yaml (or the chart, deploy/helm/vigil)`);
    this.name = 'IncidentResourcesAbsentError';
  }
}
