/**
 * The reliability report: what the seed's "Measuring success" asks, computed from incident files, the release log
 * and the learned thresholds alone. `vigil report` and "Vigil: Show Reliability Report" both call this; the
 * renderers (reportRendering.ts) only format it.
 */
import { windowBurn, type SloPoint } from '../detect/sloBurn';
import type { Incident } from '../model/incident';
import { targetLabel } from '../model/target';
import type { SloDefinition } from '../observe/sloDefinitions';
import { blamedChanges, incidentTimes } from './incidentStory';
import type { ReleaseLog, ReleaseRecord } from './releaseLog';
import { describeChange, type LearningState } from './thresholdTuning';

export type ResolutionKind = 'automatically' | 'by approval' | 'without action' | 'escalated' | 'rejected' | 'false alarm' | 'open';

export interface Quantiles {
  readonly n: number;
  readonly median?: number;
  readonly p90?: number;
}

export interface ReportIncident {
  readonly id: string;
  readonly target: string;
  readonly diagnosis?: string;
  readonly openedAt: number;
  readonly resolution: ResolutionKind;
  /** Symptom onset → detection, ms. */
  readonly timeToDetectMs: number;
  /** Symptom onset → verified recovery, ms (recovered incidents only). */
  readonly timeToRecoverMs?: number;
  readonly label?: string;
}

export interface WeekRow {
  /** Monday 00:00 UTC of the week. */
  readonly weekStart: number;
  readonly incidents: number;
  readonly byResolution: Readonly<Partial<Record<ResolutionKind, number>>>;
  readonly mttr: Quantiles;
  readonly releases: number;
  readonly failedReleases: number;
}

export interface ReliabilityReport {
  readonly since: number;
  readonly until: number;
  readonly incidents: ReadonlyArray<ReportIncident>;
  readonly mttr: Quantiles;
  readonly timeToDetect: Quantiles;
  readonly byResolution: Readonly<Record<ResolutionKind, number>>;
  /** Incidents labelled false alarm / incidents labelled at all; undefined without labels. */
  readonly falseAlarms: { readonly falseAlarms: number; readonly labelled: number; readonly rate?: number };
  /** Releases Vigil saw that an incident blamed / all releases it saw (not counting its own rollbacks and restarts). */
  readonly changeFailure: { readonly releases: number; readonly failed: number; readonly rate?: number; readonly recorded: boolean };
  /** Per action kind: how its runs ended. */
  readonly actions: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly thresholdChanges: ReadonlyArray<{ readonly t: number; readonly text: string; readonly status: string }>;
  readonly weeks: ReadonlyArray<WeekRow>;
  /** One row per SLO defined (`slos.paths`); empty when none is. */
  readonly slos: ReadonlyArray<ReportSlo>;
  /** SLO definitions that did not load (`file:line: field …; fix`). */
  readonly sloProblems: ReadonlyArray<string>;
}

/** An SLO over the report's period: its objective, the budget the period's errors left, and the incidents that burned it. */
export interface ReportSlo {
  readonly id: string;
  readonly objective: number;
  /** The SLO's own rolling window (its budget is counted over it; the figures here are over the report's period). */
  readonly periodMs: number;
  readonly origin: string;
  /** Error ratio over the report's period / (1 − objective): 1 spends exactly the period's budget. Undefined without enough data. */
  readonly burnRate?: number;
  /** 1 − burnRate: share of the period's error budget left; negative when overspent. */
  readonly budgetLeft?: number;
  /** Share of the period's steps with data. */
  readonly coverage: number;
  /** Why the SLI could not be read, when it could not. */
  readonly unread?: string;
  /** Incidents in the period whose evidence says this SLO burned, with the fastest burn seen and its alert factor. */
  readonly incidents: ReadonlyArray<{ readonly id: string; readonly target: string; readonly openedAt: number; readonly burn: number; readonly factor: number }>;
}

/** An SLO and its SLI over the report's period, as read (from Prometheus) by the caller. */
export interface SloReportInput {
  readonly slo: SloDefinition;
  /** Bad and all events per second, one point per `stepMs` step over the period (each the rate over its step). */
  readonly points: ReadonlyArray<SloPoint>;
  readonly stepMs: number;
  /** Why there are no points ("set prometheus.url", a query error). */
  readonly unread?: string;
}

export interface ReportInputs {
  readonly incidents: ReadonlyArray<Incident>;
  /** Undefined when no release log exists (an older state directory): the change failure rate is then unknown. */
  readonly releases?: ReleaseLog;
  readonly learning?: LearningState;
  readonly since: number;
  readonly until: number;
  readonly slos?: ReadonlyArray<SloReportInput>;
  readonly sloProblems?: ReadonlyArray<string>;
}

/** Nearest-rank quantile of sorted values. */
export function quantile(sorted: ReadonlyArray<number>, q: number): number | undefined {
  if (!sorted.length) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function quantiles(xs: ReadonlyArray<number>): Quantiles {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, median: quantile(s, 0.5), p90: quantile(s, 0.9) };
}

export function resolutionOf(i: Incident): ResolutionKind {
  if (i.outcome?.label === 'false-alarm' || i.outcome?.kind === 'false-alarm') return 'false alarm';
  switch (i.outcome?.kind) {
    case 'recovered':
      return i.timeline.some((e) => e.kind === 'approved') ? 'by approval' : 'automatically';
    case 'resolved-without-action':
      return 'without action';
    case 'escalated':
      return 'escalated';
    case 'rejected':
      return 'rejected';
    default:
      return i.state === 'escalated' ? 'escalated' : 'open';
  }
}

/** Monday 00:00 UTC of the week of `t`. */
export function weekStart(t: number): number {
  const d = new Date(t);
  const day = (d.getUTCDay() + 6) % 7;
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - day);
}

/** A release made by Vigil's own step (a rollback or restart writes a new revision): not a release of the team's. */
function ownRelease(r: ReleaseRecord, incidents: ReadonlyArray<Incident>): boolean {
  return incidents.some((i) => i.timeline.some((e) => e.kind === 'acted' && 'deployment' in e.result.action && `${e.result.action.namespace}/${e.result.action.deployment}` === r.target && r.t >= e.t - 1000 && r.t - e.t < 10_000));
}

/** Was this release the change an incident blamed? */
function blamed(r: ReleaseRecord, incidents: ReadonlyArray<Incident>): boolean {
  return incidents.some((i) =>
    blamedChanges(i).some((f) => f.kind === 'revision-changed' && targetLabel(f.target) === r.target && (Math.abs(f.t - r.t) < 1000 || (r.revision !== undefined && Number(f.attributes?.to ?? f.attributes?.revision) === r.revision && Math.abs(f.t - r.t) < 600_000))),
  );
}

export function reliabilityReport(input: ReportInputs): ReliabilityReport {
  // an incident merged into another before any step was one problem counted twice: the other carries it
  const inWindow = input.incidents.filter((i) => i.openedAt >= input.since && i.openedAt <= input.until && i.outcome?.kind !== 'merged').sort((a, b) => a.openedAt - b.openedAt);
  const rows: ReportIncident[] = inWindow.map((i) => {
    const times = incidentTimes(i);
    return {
      id: i.id,
      target: targetLabel(i.target),
      diagnosis: i.diagnosis?.kind,
      openedAt: i.openedAt,
      resolution: resolutionOf(i),
      timeToDetectMs: Math.max(0, times.detection - times.onset),
      timeToRecoverMs: times.recovery !== undefined ? Math.max(0, times.recovery - times.onset) : undefined,
      label: i.outcome?.label,
    };
  });
  const real = rows.filter((r) => r.resolution !== 'false alarm');
  const byResolution = { automatically: 0, 'by approval': 0, 'without action': 0, escalated: 0, rejected: 0, 'false alarm': 0, open: 0 } as Record<ResolutionKind, number>;
  for (const r of rows) byResolution[r.resolution]++;
  const labelled = inWindow.filter((i) => i.outcome?.label !== undefined || i.outcome?.kind === 'false-alarm');
  const fa = labelled.filter((i) => resolutionOf(i) === 'false alarm').length;

  const releases = (input.releases?.releases ?? []).filter((r) => r.t >= input.since && r.t <= input.until && !ownRelease(r, input.incidents));
  // a false alarm blamed nothing
  const failed = releases.filter((r) => blamed(r, input.incidents.filter((i) => resolutionOf(i) !== 'false alarm')));

  const actions: Record<string, Record<string, number>> = {};
  for (const i of inWindow) {
    for (const e of i.timeline) {
      let kind: string | undefined;
      let outcome: string | undefined;
      if (e.kind === 'acted') {
        kind = e.result.action.kind;
        const verdict = i.timeline.find((v) => v.kind === 'verified' && v.stepId === e.stepId && v.t >= e.t);
        outcome = verdict && verdict.kind === 'verified' ? verdict.verdict.status : 'not verified';
      } else if (e.kind === 'action-failed') {
        kind = e.action.kind;
        outcome = 'failed';
      }
      if (!kind || !outcome) continue;
      const k = (actions[kind] ??= {});
      k[outcome] = (k[outcome] ?? 0) + 1;
    }
  }

  const weeks = new Map<number, { incidents: ReportIncident[]; releases: number; failed: number }>();
  const week = (t: number) => {
    const w = weekStart(t);
    let x = weeks.get(w);
    if (!x) weeks.set(w, (x = { incidents: [], releases: 0, failed: 0 }));
    return x;
  };
  for (const r of rows) week(r.openedAt).incidents.push(r);
  for (const r of releases) week(r.t).releases++;
  for (const r of failed) week(r.t).failed++;

  return {
    since: input.since,
    until: input.until,
    incidents: rows,
    mttr: quantiles(real.flatMap((r) => (r.timeToRecoverMs !== undefined ? [r.timeToRecoverMs] : []))),
    timeToDetect: quantiles(real.map((r) => r.timeToDetectMs)),
    byResolution,
    falseAlarms: { falseAlarms: fa, labelled: labelled.length, rate: labelled.length ? fa / labelled.length : undefined },
    changeFailure: { releases: releases.length, failed: failed.length, rate: releases.length ? failed.length / releases.length : undefined, recorded: input.releases !== undefined },
    actions,
    thresholdChanges: (input.learning?.changes ?? []).filter((c) => c.t >= input.since && c.t <= input.until).map((c) => ({ t: c.t, text: describeChange(c), status: c.status })),
    weeks: [...weeks.entries()]
      .sort(([a], [b]) => a - b)
      .map(([weekStartT, w]) => {
        const by: Partial<Record<ResolutionKind, number>> = {};
        for (const r of w.incidents) by[r.resolution] = (by[r.resolution] ?? 0) + 1;
        return { weekStart: weekStartT, incidents: w.incidents.length, byResolution: by, mttr: quantiles(w.incidents.flatMap((r) => (r.timeToRecoverMs !== undefined && r.resolution !== 'false alarm' ? [r.timeToRecoverMs] : []))), releases: w.releases, failedReleases: w.failed };
      }),
    slos: (input.slos ?? []).map((x) => sloRow(x, inWindow, input.since, input.until)),
    sloProblems: input.sloProblems ?? [],
  };
}

function sloRow(x: SloReportInput, incidents: ReadonlyArray<Incident>, since: number, until: number): ReportSlo {
  // the same burn as the live multi-window alerts, over one window: the report's period
  const w = windowBurn(x.points, until, until - since, x.stepMs, x.slo.objective);
  const burned = incidents.flatMap((i) => {
    const burns = (i.diagnosis?.evidence ?? []).flatMap((e) => (e.kind === 'slo-burn' && e.slo === x.slo.id ? [e] : []));
    if (!burns.length) return [];
    return [{ id: i.id, target: targetLabel(i.target), openedAt: i.openedAt, burn: Math.max(...burns.map((e) => e.burn)), factor: Math.max(...burns.map((e) => e.factor)) }];
  });
  return {
    id: x.slo.id,
    objective: x.slo.objective,
    periodMs: x.slo.periodMs,
    origin: x.slo.origin,
    ...(w.burn !== undefined ? { burnRate: w.burn, budgetLeft: 1 - w.burn } : {}),
    coverage: w.coverage,
    ...(x.unread ? { unread: x.unread } : {}),
    incidents: burned,
  };
}
