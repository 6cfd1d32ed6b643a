/**
 * What the views show when the sidebar is the console of an in-cluster agent: the Incident resources it writes,
 * mapped to the same view model the local loop feeds (IncidentView, CopilotModel). Pure, no 'vscode' import.
 */
import { DIAGNOSIS_TITLES, type DiagnosisKind } from '../core/model/diagnosis';
import { isOpen, type IncidentState } from '../core/model/incident';
import { incidentResourceTarget } from '../core/model/incidentResource';
import { targetLabel } from '../core/model/target';
import type { IncidentObject } from '../infra/kubernetes/incidentResources';
import type { ConnectionView, CopilotModel, IncidentView, TimelineView } from '../webview/protocol';
import { timeText } from './viewModel';

/** One Incident resource as a view: the card of the Copilot view and a row of the Incidents tree. */
export interface ConsoleIncident extends IncidentView {
  /** The kubeconfig context it was read from. */
  readonly cluster: string;
  /** The resource, to write its decision: namespace and name. */
  readonly namespace: string;
  readonly name: string;
  readonly openedAt: number;
}

export function incidentResourceView(o: IncidentObject, cluster: string): ConsoleIncident {
  const s = o.status ?? {};
  const namespace = o.metadata?.namespace ?? '';
  const name = o.metadata?.name ?? '';
  const target = incidentResourceTarget(o.spec?.target, namespace);
  const state = s.state ?? 'diagnosed';
  const openedAt = Date.parse(s.openedAt ?? String(o.metadata?.creationTimestamp ?? '')) || 0;
  const kind = s.diagnosis?.kind;
  const confidence = Number.parseInt(s.diagnosis?.confidence ?? '', 10);
  const p = s.proposedStep;
  return {
    id: o.spec?.incidentId ?? name,
    cluster,
    namespace,
    name,
    openedAt,
    target: target ? targetLabel(target) : `${namespace}/${o.spec?.target ?? '?'}`,
    state,
    open: isOpen({ state: state as IncidentState }),
    diagnosis: kind ? (DIAGNOSIS_TITLES[kind as DiagnosisKind] ?? kind) : undefined,
    confidence: Number.isFinite(confidence) ? confidence : undefined,
    summary: s.diagnosis?.summary,
    evidence: (s.evidence ?? []).map((text) => ({ kind: 'evidence', text })),
    proposal: p
      ? {
          stepId: p.stepId,
          action: p.action,
          gates: (s.gates ?? []).map((g) => ({ gate: g.gate, allowed: g.allowed, reason: g.reason })),
          dryRun: p.dryRun,
          // '—' for a side that is absent, as the local loop's view says it
          diff: (p.diff ?? []).map((d) => ({ path: d.path, before: d.before ?? '—', after: d.after ?? '—' })),
          awaitingApproval: state === 'awaiting-approval',
        }
      : undefined,
    verification: s.verification ? { status: s.verification.status, summary: s.verification.summary, checks: [] } : undefined,
    outcome: s.outcome ? `${s.outcome.kind}${s.outcome.note ? ` (${s.outcome.note})` : ''}` : undefined,
    timeline: timelineOf(o, openedAt),
  };
}

/** The resource keeps no timeline; what it records, in order: diagnosis, proposal, a human's decision, verification, outcome. */
function timelineOf(o: IncidentObject, openedAt: number): TimelineView[] {
  const s = o.status ?? {};
  const at = (iso: string | undefined) => (iso ? timeText(Date.parse(iso) || openedAt, openedAt) : '');
  const out: TimelineView[] = [];
  if (s.diagnosis) out.push({ at: at(s.openedAt), kind: 'diagnosed', text: `${DIAGNOSIS_TITLES[s.diagnosis.kind as DiagnosisKind] ?? s.diagnosis.kind} (${s.diagnosis.confidence}): ${s.diagnosis.summary}` });
  if (s.proposedStep) out.push({ at: '', kind: 'proposed', text: `proposed ${s.proposedStep.action} (step ${s.proposedStep.stepId})` });
  const d = o.spec?.decision;
  if (d?.action && d.stepId) out.push({ at: '', kind: d.action === 'approve' ? 'approved' : 'rejected', text: `${d.action === 'approve' ? 'approved' : 'rejected'} step ${d.stepId} by ${d.by ?? '?'} (spec.decision)` });
  if (s.verification) out.push({ at: '', kind: 'verified', text: `${s.verification.status}: ${s.verification.summary}` });
  if (s.outcome) out.push({ at: at(s.outcome.at), kind: 'resolved', text: `${s.outcome.kind}${s.outcome.note ? `: ${s.outcome.note}` : ''}` });
  return out;
}

/** Open ones first, newest first, then the last few closed ones (as the local loop's view lists them). */
export function sortForViews(incidents: ReadonlyArray<ConsoleIncident>, closedKept = 5): ConsoleIncident[] {
  const sorted = [...incidents].sort((a, b) => Number(b.open) - Number(a.open) || b.openedAt - a.openedAt);
  return [...sorted.filter((i) => i.open), ...sorted.filter((i) => !i.open).slice(0, closedKept)];
}

/**
 * Incidents that wait for a decision now and did not before (by id and step), to notify once per proposal; undefined
 * `before` (the first list) notifies nothing, so connecting does not replay what already waited.
 */
export function newlyAwaiting(before: ReadonlyArray<ConsoleIncident> | undefined, now: ReadonlyArray<ConsoleIncident>): ConsoleIncident[] {
  if (!before) return [];
  const key = (i: ConsoleIncident) => `${i.cluster}/${i.id}/${i.proposal?.stepId ?? ''}`;
  const waited = new Set(before.filter((i) => i.open && i.proposal?.awaitingApproval).map(key));
  return now.filter((i) => i.open && i.proposal?.awaitingApproval && !waited.has(key(i)));
}

export interface ConsoleInputs {
  readonly connection: ConnectionView;
  readonly incidents: ReadonlyArray<ConsoleIncident>;
  /** The agent's Lease holder, as the mode line says who acts. */
  readonly holder?: string;
  readonly watch: { readonly state: 'synced' | 'failing' | 'starting'; readonly detail: string };
}

export function consoleCopilotModel(input: ConsoleInputs): CopilotModel {
  return {
    connection: input.connection,
    mode: `in-cluster agent${input.holder ? ` (${input.holder})` : ''}`,
    paused: false,
    // the agent's series stay in the agent: the console shows what it wrote, its incidents
    services: [],
    incidents: sortForViews(input.incidents),
    sources: [{ source: 'incidents', state: input.watch.state === 'failing' ? 'down' : input.watch.state === 'starting' ? 'connecting' : 'ok', message: input.watch.detail }],
  };
}
