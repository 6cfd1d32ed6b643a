import { ACTION_RISK, type RiskLevel } from '../model/action';
import type { DiagnosisKind } from '../model/diagnosis';
import type { Incident } from '../model/incident';
import type { Playbook, PlaybookStep } from '../model/playbook';
import { targetKey } from '../model/target';

export interface RankingOptions {
  /** A step tried at least this often whose success rate stays at or below maxFailingRate is disabled. */
  readonly minTriesToDisable: number;
  readonly maxFailingRate: number;
  /** Success rates closer than this count as "equally well": then the faster, then the less risky step wins. */
  readonly rateTolerance: number;
  /** Recover times within this share of each other count as equal. */
  readonly timeTolerance: number;
  /** Tries of a step on the service itself before the service's own record replaces the diagnosis-wide one. */
  readonly minServiceTries: number;
}

export const DEFAULT_RANKING_OPTIONS: RankingOptions = { minTriesToDisable: 3, maxFailingRate: 0.2, rateTolerance: 0.1, timeTolerance: 0.25, minServiceTries: 2 };

/** What history says about one step of one playbook, for one diagnosis. */
export interface StepRecord {
  readonly stepId: string;
  readonly tries: number;
  readonly successes: number;
  /** Laplace-smoothed success rate: (successes + 1) / (tries + 2); 0.5 with no history. */
  readonly rate: number;
  /** Mean ms from the action to the verified recovery, over successes. */
  readonly meanRecoverMs?: number;
  readonly scope: 'service' | 'diagnosis' | 'none';
  readonly disabled: boolean;
}

export interface RankedPlaybook {
  readonly playbook: Playbook;
  readonly records: ReadonlyArray<StepRecord>;
  /** One line per decision the ranking took, with the numbers. */
  readonly explanations: ReadonlyArray<string>;
  readonly changed: boolean;
}

const RISK_ORDER: Readonly<Record<RiskLevel, number>> = { low: 0, medium: 1, high: 2 };

interface Attempt {
  readonly stepId: string;
  readonly ok: boolean;
  readonly recoverMs?: number;
}

/**
 * Tries of each step in an incident's timeline: an 'acted' entry followed by its 'verified' verdict
 * (recovered or not), or an 'action-failed'. An outcome recoveredBy counts the step as a success.
 */
export function attemptsOf(i: Incident): Attempt[] {
  const out: Attempt[] = [];
  const actedAt = new Map<string, number>();
  for (const e of i.timeline) {
    if (e.kind === 'acted' && !e.result.dryRun) actedAt.set(e.stepId, e.t);
    else if (e.kind === 'action-failed') out.push({ stepId: e.stepId, ok: false });
    else if (e.kind === 'verified' && actedAt.has(e.stepId) && e.verdict.status !== 'inconclusive') {
      const ok = e.verdict.status === 'recovered';
      out.push({ stepId: e.stepId, ok, ...(ok ? { recoverMs: e.t - actedAt.get(e.stepId)! } : {}) });
      actedAt.delete(e.stepId);
    }
  }
  const by = i.outcome?.kind === 'recovered' ? i.outcome.recoveredBy : undefined;
  if (by && !out.some((a) => a.stepId === by && a.ok)) out.push({ stepId: by, ok: true });
  return out;
}

function record(stepId: string, attempts: ReadonlyArray<Attempt>, scope: StepRecord['scope'], o: RankingOptions): StepRecord {
  const mine = attempts.filter((a) => a.stepId === stepId);
  const ok = mine.filter((a) => a.ok);
  const times = ok.map((a) => a.recoverMs).filter((x): x is number => x !== undefined);
  const rate = (ok.length + 1) / (mine.length + 2);
  return {
    stepId,
    tries: mine.length,
    successes: ok.length,
    rate,
    ...(times.length ? { meanRecoverMs: times.reduce((s, x) => s + x, 0) / times.length } : {}),
    scope: mine.length ? scope : 'none',
    disabled: mine.length >= o.minTriesToDisable && ok.length / mine.length <= o.maxFailingRate,
  };
}

function riskOf(step: PlaybookStep): number {
  return Math.max(RISK_ORDER[ACTION_RISK[step.action]], step.risk ? RISK_ORDER[step.risk] : 0);
}

/**
 * Orders a playbook's steps for a diagnosis on a service from the incidents recorded so far: higher
 * verified success first, then faster recovery, then lower risk, then the author's order. A step that
 * keeps failing is dropped, and said so with its numbers, unless every step would go.
 */
export function rankPlaybook(
  playbook: Playbook,
  history: ReadonlyArray<Incident>,
  scope: { readonly diagnosis: DiagnosisKind; readonly target: string; readonly excludeIncident?: string },
  options: RankingOptions = DEFAULT_RANKING_OPTIONS,
): RankedPlaybook {
  const relevant = history.filter((i) => i.id !== scope.excludeIncident && i.playbook === playbook.name && i.diagnosis?.kind === scope.diagnosis);
  const all = relevant.flatMap(attemptsOf);
  const service = relevant.filter((i) => targetKey(i.target) === scope.target).flatMap(attemptsOf);
  const records = playbook.steps.map((s) => {
    const own = record(s.id, service, 'service', options);
    return own.tries >= options.minServiceTries ? own : record(s.id, all, 'diagnosis', options);
  });
  const byId = new Map(records.map((r) => [r.stepId, r]));
  const explanations: string[] = [];
  let kept = playbook.steps.filter((s) => !byId.get(s.id)!.disabled);
  for (const s of playbook.steps) {
    const r = byId.get(s.id)!;
    if (r.disabled) explanations.push(`step "${s.id}" disabled: it recovered ${r.successes} of ${r.tries} tries ${where(r, scope)}`);
  }
  if (kept.length === 0) {
    kept = [...playbook.steps];
    explanations.push(`every step keeps failing ${where(records[0], scope)}; kept them all in the author's order so the last one escalates`);
  }
  const index = new Map(playbook.steps.map((s, k) => [s.id, k]));
  const ordered = [...kept].sort((a, b) => compare(a, b, byId, index, options));
  for (let k = 0; k < ordered.length; k++) {
    const s = ordered[k];
    // only a step that overtook one the author put before it has moved; closing a gap is not a move
    const overtaken = ordered.slice(k + 1).filter((o) => index.get(o.id)! < index.get(s.id)!);
    if (overtaken.length) explanations.push(`step "${s.id}" moved to position ${k + 1}, ahead of ${overtaken.map((o) => `"${o.id}" (${summary(byId.get(o.id)!)})`).join(', ')}: ${summary(byId.get(s.id)!)}`);
  }
  const changed = ordered.length !== playbook.steps.length || ordered.some((s, k) => s !== playbook.steps[k]);
  return { playbook: changed ? { ...playbook, steps: ordered } : playbook, records, explanations, changed };
}

function compare(a: PlaybookStep, b: PlaybookStep, byId: Map<string, StepRecord>, index: Map<string, number>, o: RankingOptions): number {
  const ra = byId.get(a.id)!;
  const rb = byId.get(b.id)!;
  if (Math.abs(ra.rate - rb.rate) > o.rateTolerance) return rb.rate - ra.rate;
  const ta = ra.meanRecoverMs;
  const tb = rb.meanRecoverMs;
  if (ta !== undefined && tb !== undefined && Math.abs(ta - tb) > o.timeTolerance * Math.max(ta, tb)) return ta - tb;
  if (riskOf(a) !== riskOf(b)) return riskOf(a) - riskOf(b);
  return index.get(a.id)! - index.get(b.id)!;
}

function summary(r: StepRecord): string {
  if (r.tries === 0) return 'no history';
  return `${r.successes}/${r.tries} recovered${r.meanRecoverMs !== undefined ? `, ${Math.round(r.meanRecoverMs / 1000)} s to recover` : ''}`;
}

function where(r: StepRecord, scope: { diagnosis: DiagnosisKind; target: string }): string {
  return r.scope === 'service' ? `for ${scope.diagnosis} on ${scope.target}` : `for ${scope.diagnosis} across services`;
}

/** The engine's hook: reorders the playbook an incident runs, from the history it is given. */
export function stepRanker(history: () => ReadonlyArray<Incident>, options?: RankingOptions): (playbook: Playbook, incident: Incident) => Playbook {
  return (playbook, incident) => {
    if (!incident.diagnosis) return playbook;
    return rankPlaybook(playbook, history(), { diagnosis: incident.diagnosis.kind, target: targetKey(incident.target), excludeIncident: incident.id }, options).playbook;
  };
}
