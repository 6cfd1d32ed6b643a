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

/**
 * One Incident resource as a view: the card of the Copilot view and a row of the Incidents tree. Its `id` is
 * `<context>/<incident id>`: two clusters' agents may open incidents of the same id (same target names, same second),
 * and every decision must reach the cluster the card came from, so the views and the routing use this one key.
 */
export interface ConsoleIncident extends IncidentView {
  /** The kubeconfig context it was read from. */
  readonly cluster: string;
  /** The agent's incident id (spec.incidentId). */
  readonly incidentId: string;
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
  const incidentId = o.spec?.incidentId ?? name;
  return {
    id: consoleKey(cluster, incidentId),
    incidentId,
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

/** The views' key of an Incident resource: its cluster (kubeconfig context) and the agent's incident id. */
export function consoleKey(cluster: string, incidentId: string): string {
  return `${cluster}/${incidentId}`;
}

/** Open ones first, newest first, then the last few closed ones (as the local loop's view lists them). */
export function sortForViews(incidents: ReadonlyArray<ConsoleIncident>, closedKept = 5): ConsoleIncident[] {
  const sorted = [...incidents].sort((a, b) => Number(b.open) - Number(a.open) || b.openedAt - a.openedAt);
  return [...sorted.filter((i) => i.open), ...sorted.filter((i) => !i.open).slice(0, closedKept)];
}

const awaitingDecision = (i: ConsoleIncident): boolean => i.open && !!i.proposal?.awaitingApproval;

/**
 * Incidents that wait for a decision now and did not before (by id and step), to notify once per proposal; undefined
 * `before` (the first list) notifies nothing, so connecting does not replay what already waited.
 */
export function newlyAwaiting(before: ReadonlyArray<ConsoleIncident> | undefined, now: ReadonlyArray<ConsoleIncident>): ConsoleIncident[] {
  if (!before) return [];
  const key = (i: ConsoleIncident) => `${i.id}/${i.proposal?.stepId ?? ''}`;
  const waited = new Set(before.filter(awaitingDecision).map(key));
  return now.filter((i) => awaitingDecision(i) && !waited.has(key(i)));
}

/** One kubeconfig context the console watches: its agent (the Lease holder), the watch's state and its Incident resources. */
export interface ConsoleCluster {
  /** The kubeconfig context: the name an SRE knows the cluster by (prod-eu). */
  readonly cluster: string;
  readonly server: string;
  /** The agent's Lease holder, as the mode line says who acts. */
  readonly holder?: string;
  readonly watch: { readonly state: 'synced' | 'failing' | 'starting'; readonly detail: string };
  readonly incidents: ReadonlyArray<ConsoleIncident>;
}

/** A cluster's node of the Incidents tree: its name, counts and rows. */
export interface ConsoleClusterGroup {
  readonly cluster: string;
  readonly server: string;
  readonly holder?: string;
  readonly watch: ConsoleCluster['watch'];
  readonly open: number;
  readonly awaiting: number;
  readonly incidents: ReadonlyArray<ConsoleIncident>;
}

/** One node per cluster, in the order they were connected; its rows sorted as the views sort them. */
export function clusterGroups(clusters: ReadonlyArray<ConsoleCluster>, closedKept = 50): ConsoleClusterGroup[] {
  return clusters.map((c) => ({
    cluster: c.cluster,
    server: c.server,
    ...(c.holder ? { holder: c.holder } : {}),
    watch: c.watch,
    open: c.incidents.filter((i) => i.open).length,
    awaiting: c.incidents.filter(awaitingDecision).length,
    incidents: sortForViews(c.incidents, closedKept),
  }));
}

/** A cluster node's line: "2 open, 1 awaiting approval", and the watch's trouble when it has one. */
export function clusterGroupDescription(g: ConsoleClusterGroup): string {
  const counts = `${g.open} open${g.awaiting ? `, ${g.awaiting} awaiting approval` : ''}`;
  return g.watch.state === 'synced' ? counts : `${counts} · ${g.watch.state === 'failing' ? 'watch failing' : 'listing…'}`;
}

/** The status bar over every cluster watched: open incidents summed, how many clusters, and per cluster in the tooltip. */
export function consoleStatus(clusters: ReadonlyArray<ConsoleCluster>): { readonly open: number; readonly text: string; readonly tooltip: string } {
  const groups = clusterGroups(clusters);
  const open = groups.reduce((n, g) => n + g.open, 0);
  const awaiting = groups.reduce((n, g) => n + g.awaiting, 0);
  const where = groups.length === 1 ? groups[0].cluster : `${groups.length} clusters`;
  const lines = groups.map((g) => `${g.cluster}: ${clusterGroupDescription(g)}${g.holder ? ` (agent ${g.holder})` : ''}`);
  return {
    open,
    text: `Vigil: ${open} open${awaiting ? ` (${awaiting} awaiting approval)` : ''} · ${where}`,
    tooltip: `Console of the in-cluster agents; no local loop runs.\n${lines.join('\n')}`,
  };
}

/**
 * Where a decision on a card or row goes: the cluster whose context it was read from, and its resource. Unknown keys
 * (the incident went away, or its cluster was disconnected) are an error naming what to do.
 */
export function routeDecision(clusters: ReadonlyArray<ConsoleCluster>, key: string): { readonly cluster: string; readonly incident: ConsoleIncident } {
  for (const c of clusters) {
    const incident = c.incidents.find((i) => i.id === key);
    if (incident) return { cluster: c.cluster, incident };
  }
  const context = clusters.find((c) => key.startsWith(`${c.cluster}/`))?.cluster;
  if (context) throw new Error(`No Incident resource ${key.slice(context.length + 1)} in context ${context} now; list them with kubectl get incidents -A --context ${context}`);
  throw new Error(`${key} is not in a cluster this window watches (${clusters.map((c) => c.cluster).join(', ') || 'none'}); run "Vigil: Connect to Cluster" to add its context`);
}

/** What the sidebar says it watches: each context and its API server. */
export function consoleConnection(clusters: ReadonlyArray<ConsoleCluster>): ConnectionView {
  const each = clusters.map((c) => `context ${c.cluster} (${c.server})`);
  return {
    state: 'connected',
    message: clusters.length === 1 ? `Watching the in-cluster agent of ${each[0]}; no local loop runs.` : `Watching the in-cluster agents of ${clusters.length} clusters: ${each.join(', ')}; no local loop runs.`,
  };
}

export function consoleCopilotModel(clusters: ReadonlyArray<ConsoleCluster>): CopilotModel {
  const holders = clusters.filter((c) => c.holder);
  return {
    connection: consoleConnection(clusters),
    mode: clusters.length === 1 ? `in-cluster agent${clusters[0].holder ? ` (${clusters[0].holder})` : ''}` : `in-cluster agents${holders.length ? ` (${holders.map((c) => `${c.cluster}: ${c.holder}`).join('; ')})` : ''}`,
    paused: false,
    // the agents' series stay in the agents: the console shows what they wrote, their incidents
    services: [],
    incidents: sortForViews(clusters.flatMap((c) => c.incidents)),
    sources: clusters.map((c) => ({
      source: clusters.length === 1 ? 'incidents' : `incidents (${c.cluster})`,
      state: c.watch.state === 'failing' ? 'down' : c.watch.state === 'starting' ? 'connecting' : 'ok',
      message: c.watch.detail,
    })),
  };
}
