/**
 * Pure builders of what the webviews show, from the engine's incidents and the loop's snapshots.
 * No 'vscode' import, so they are unit tested under plain mocha.
 */
import { sloUrgency } from '../core/detect/sloBurn';
import { describeAction } from '../core/model/action';
import { DIAGNOSIS_TITLES } from '../core/model/diagnosis';
import { describeTimelineEntry, isOpen, latestProposal, type Incident, type TimelineEntry } from '../core/model/incident';
import { rankedFindings } from '../core/learn/incidentStory';
import type { SignalName } from '../core/model/signal';
import { formatValue, SPARKLINE_SIGNALS } from '../core/observe/signalWording';
import { targetKey, targetLabel } from '../core/model/target';
import type { LoopSnapshot } from '../core/loop/detectionPipeline';
import type { ConnectionView, CopilotModel, IncidentView, ProposalView, SeriesView, ServiceView } from '../webview/protocol';

/** One target of the loop's snapshot, as the view reads it. */
export type SnapshotTarget = LoopSnapshot['targets'][number];

interface Point {
  /** The snapshot's time (0 when unknown). */
  readonly t: number;
  readonly v: number | null;
  readonly lo: number | null;
  readonly hi: number | null;
}

/**
 * The last `length` snapshots per service and key signal: sparklines show the last `sparkline` of them, the incident
 * room reads the expected bands of a live incident here instead of replaying it.
 */
export class SeriesHistory {
  private readonly series = new Map<string, Map<SignalName, Point[]>>();
  private readonly latest = new Map<string, SnapshotTarget>();

  constructor(
    private readonly sparkline = 60,
    private readonly length = Math.max(sparkline, 180),
  ) {}

  /** The expected band of a service's signal at each snapshot time recorded (only the sparkline signals are kept). */
  bands(key: string, signal: SignalName): Map<number, { readonly lower: number | null; readonly upper: number | null }> {
    const out = new Map<number, { lower: number | null; upper: number | null }>();
    for (const p of this.series.get(key)?.get(signal) ?? []) if (p.t > 0) out.set(p.t, { lower: p.lo, upper: p.hi });
    return out;
  }

  size(): number {
    return this.latest.size;
  }

  record(targets: ReadonlyArray<SnapshotTarget>, at = 0): void {
    for (const t of targets) {
      if (t.target.kind !== 'service') continue;
      const key = targetKey(t.target);
      this.latest.set(key, t);
      let bySignal = this.series.get(key);
      if (!bySignal) this.series.set(key, (bySignal = new Map()));
      for (const { signal } of SPARKLINE_SIGNALS) {
        const points = bySignal.get(signal) ?? [];
        const v = t.values[signal];
        const band = t.bands[signal];
        points.push({ t: at, v: finite(v), lo: finite(band?.lower), hi: finite(band?.upper) });
        if (points.length > this.length) points.splice(0, points.length - this.length);
        bySignal.set(signal, points);
      }
    }
  }

  services(openIncidentTargets: ReadonlySet<string>): ServiceView[] {
    return [...this.latest.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, t]) => {
        const bySignal = this.series.get(key) ?? new Map<SignalName, Point[]>();
        const series: SeriesView[] = SPARKLINE_SIGNALS.filter((k) => (bySignal.get(k.signal) ?? []).some((p) => p.v !== null)).map((k) => {
          const points = (bySignal.get(k.signal) ?? []).slice(-this.sparkline);
          const last = points[points.length - 1];
          const outside = !!last && last.v !== null && ((last.hi !== null && last.v > last.hi) || (last.lo !== null && last.v < last.lo));
          return { signal: k.signal, label: k.label, values: points.map((p) => p.v), lower: points.map((p) => p.lo), upper: points.map((p) => p.hi), latest: last?.v !== null && last ? formatValue(k.signal, last.v) : '—', outside };
        });
        const health = openIncidentTargets.has(key) ? 'incident' : t.isAnomaly ? 'degraded' : series.length ? 'healthy' : 'unknown';
        return { key, name: targetLabel(t.target), health, reason: t.isAnomaly ? t.reason : health === 'healthy' ? 'within its expected band' : t.reason, series } satisfies ServiceView;
      });
  }
}

function finite(v: number | undefined): number | null {
  return v !== undefined && Number.isFinite(v) ? v : null;
}

export function timeText(t: number, start: number): string {
  return `+${Math.max(0, Math.round((t - start) / 1000))}s`;
}

function show(v: unknown): string {
  return v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v);
}

/** The step in progress: its proposal (action, gates, dry run) and whether it waits for a human. */
function proposalOf(i: Incident): ProposalView | undefined {
  const proposed = latestProposal(i);
  if (!proposed) return undefined;
  return {
    stepId: proposed.stepId,
    action: describeAction(proposed.action),
    gates: proposed.gates.results.map((g) => ({ gate: g.gate, allowed: g.allowed, reason: g.reason })),
    dryRun: proposed.dryRun?.summary,
    diff: (proposed.dryRun?.diff ?? []).map((d) => ({ path: d.path, before: show(d.before), after: show(d.after) })),
    awaitingApproval: i.state === 'awaiting-approval',
  };
}

export function incidentView(i: Incident): IncidentView {
  const verified = [...i.timeline].reverse().find((e): e is Extract<TimelineEntry, { kind: 'verified' }> => e.kind === 'verified');
  const acted = i.timeline.some((e) => e.kind === 'acted');
  return {
    id: i.id,
    target: targetLabel(i.target),
    state: i.state,
    open: isOpen(i),
    diagnosis: i.diagnosis ? DIAGNOSIS_TITLES[i.diagnosis.kind] : undefined,
    confidence: i.diagnosis ? Math.round(i.diagnosis.confidence * 100) : undefined,
    summary: i.diagnosis?.summary,
    // one line per finding (a rule firing at every scrape is one line with its peak), not one per piece of evidence
    evidence: rankedFindings(i).slice(0, 8).map((f) => ({ kind: f.kind, text: f.text })),
    proposal: proposalOf(i),
    verification: verified
      ? { status: verified.verdict.status, summary: verified.verdict.summary, checks: verified.verdict.checks.map((c) => ({ status: c.status, detail: c.detail })) }
      : i.state === 'verifying' || (acted && i.state === 'acting')
        ? { status: 'pending', summary: 'verifying the fix…', checks: [] }
        : undefined,
    outcome: i.outcome ? `${i.outcome.kind}${i.outcome.label ? ` (labelled ${i.outcome.label})` : ''}` : undefined,
    timeline: i.timeline.map((e) => ({ at: timeText(e.t, i.openedAt), kind: e.kind, text: describeTimelineEntry(e) })),
  };
}

export interface ModelInputs {
  readonly connection: ConnectionView;
  readonly mode: string;
  readonly paused: boolean;
  readonly incidents: ReadonlyArray<Incident>;
  readonly history: SeriesHistory;
  readonly sources: ReadonlyArray<{ readonly source: string; readonly state: string; readonly message: string; readonly details?: ReadonlyArray<string> }>;
}

/** Keys of the services open incidents show on: their targets and the services their diagnosis says are affected. */
export function openIncidentTargets(incidents: ReadonlyArray<Incident>): Set<string> {
  const keys = new Set<string>();
  for (const i of incidents.filter(isOpen)) {
    keys.add(targetKey(i.target));
    for (const a of i.diagnosis?.details?.affected ?? []) keys.add(targetKey(a));
  }
  return keys;
}

/** Open incidents first (those burning an SLO fastest first, then newest first), then the last few closed ones. */
export function buildCopilotModel(input: ModelInputs): CopilotModel {
  const sorted = [...input.incidents].sort((a, b) => Number(isOpen(b)) - Number(isOpen(a)) || (isOpen(a) ? sloUrgency(b) - sloUrgency(a) : 0) || b.openedAt - a.openedAt);
  const open = sorted.filter(isOpen);
  const openTargets = openIncidentTargets(open);
  return {
    connection: input.connection,
    mode: input.mode,
    paused: input.paused,
    services: input.history.services(openTargets),
    incidents: [...open, ...sorted.filter((i) => !isOpen(i)).slice(0, 5)].map(incidentView),
    sources: input.sources.map((s) => ({ source: s.source, state: s.state, message: s.message, ...(s.details ? { details: s.details } : {}) })),
  };
}

/** Past incidents kept in memory for the views; older ones stay on disk (replay and export read them back). */
export const PAST_INCIDENTS_KEPT = 50;

/**
 * The newest past incidents, without their recordings (frames, facts, logs: most of an incident's size),
 * so a state folder with a long history does not grow the extension host. fullIncident() reads one back.
 */
export function pastForViews(all: ReadonlyArray<Incident>, keep = PAST_INCIDENTS_KEPT): Incident[] {
  return [...all]
    .sort((a, b) => b.openedAt - a.openedAt)
    .slice(0, keep)
    .map(withoutRecording);
}

/** An incident without its recording (frames, facts, logs, the replay's start state: most of its size), as the views and the loop's events carry it. */
export function withoutRecording(i: Incident): Incident {
  return { ...i, recording: { frames: [], facts: [], logs: [] } };
}
