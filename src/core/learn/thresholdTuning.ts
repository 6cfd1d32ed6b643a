import { DEFAULT_FUSION_CONFIG } from '../detect/fusion';
import type { Rule } from '../detect/rules';
import type { Anomaly } from '../model/anomaly';
import type { AutomationMode } from '../model/automation';
import type { Incident } from '../model/incident';
import { targetKey } from '../model/target';

/**
 * Learned alerting thresholds, per target and detector (and signal). A learned threshold is a gate
 * behind the detectors: it can only hold back what they raise (or, once raised, let it through again),
 * so a target with nothing learned behaves exactly as the defaults.
 *
 * Detectors:
 *   fusion-score   the fused score (default: the fusion threshold, 0.9)
 *   deviation      distance of the top signal from its expected value, in band half-widths (default 0: no gate)
 *   rule:<name>    the observed value of a firing rule (default: the rule's own threshold)
 */
export type ThresholdDirection = 'above' | 'below';

export interface AlertEvidence {
  readonly detector: string;
  readonly signal?: string;
  readonly value: number;
}

export interface LearnedThreshold {
  readonly target: string;
  readonly detector: string;
  readonly signal?: string;
  readonly value: number;
  readonly defaultValue: number;
  /** 'above': the alert stands when value ≥ threshold; 'below': when value ≤ threshold. */
  readonly direction: ThresholdDirection;
}

export type ChangeStatus = 'proposed' | 'applied' | 'rejected' | 'reverted';

/** One threshold change, with the evidence that justified it. */
export interface ThresholdChange {
  readonly id: string;
  readonly key: string;
  readonly target: string;
  readonly detector: string;
  readonly signal?: string;
  readonly from: number;
  readonly to: number;
  readonly direction: ThresholdDirection;
  readonly defaultValue: number;
  readonly t: number;
  /** Incidents whose labels moved it. */
  readonly incidents: ReadonlyArray<string>;
  readonly reason: string;
  readonly status: ChangeStatus;
  readonly decidedBy?: string;
  readonly decidedAt?: number;
}

export interface LearningState {
  readonly version: 1;
  readonly thresholds: Readonly<Record<string, LearnedThreshold>>;
  readonly changes: ReadonlyArray<ThresholdChange>;
  readonly seq: number;
}

export interface TuningOptions {
  /** Cost of holding back a real incident, against 1 for a false alarm raised. */
  readonly missCost: number;
  /** Pseudo-counts of the Beta prior on "an alert in the moved band is real" (keeps few labels from swinging it). */
  readonly priorReal: number;
  readonly priorFalse: number;
  /** Labeled incidents with this detector's evidence needed before it moves at all. */
  readonly minLabels: number;
}

export const DEFAULT_TUNING_OPTIONS: TuningOptions = { missCost: 5, priorReal: 1, priorFalse: 1, minLabels: 5 };

export const LEARNING_STATE = 'learning';

export function emptyLearningState(): LearningState {
  return { version: 1, thresholds: {}, changes: [], seq: 0 };
}

export function thresholdKey(target: string, detector: string, signal?: string): string {
  return `${target}|${detector}|${signal ?? '*'}`;
}

/** Default and largest step per update of a detector's threshold. */
export function detectorDefaults(detector: string, rules: ReadonlyArray<Rule>): { value: number; direction: ThresholdDirection; step: number } | undefined {
  if (detector === 'fusion-score') return { value: DEFAULT_FUSION_CONFIG.threshold, direction: 'above', step: 0.03 };
  if (detector === 'deviation') return { value: 0, direction: 'above', step: 2 };
  const rule = detector.startsWith('rule:') ? rules.find((r) => r.name === detector.slice(5)) : undefined;
  if (!rule) return undefined;
  return { value: rule.value, direction: rule.op === '>' ? 'above' : 'below', step: Math.max(Math.abs(rule.value) * 0.5, 0.01) };
}

/**
 * What an alert rests on, in each detector's own unit: the firing rule's observed value, or the fused
 * score and the top signal's distance from its band. Works on the anomaly an incident recorded.
 */
export function evidenceOfAnomaly(a: Anomaly, rules: ReadonlyArray<Rule>): AlertEvidence[] {
  if (!a.isAnomaly) return [];
  const rule = a.rule ? rules.find((r) => r.name === a.rule) : a.reason.startsWith('rule: ') ? rules.find((r) => a.reason.startsWith(`rule: ${r.signal} `) && a.reason.includes(` ${r.op} ${r.value}`)) : undefined;
  if (rule) {
    const observed = a.contributions.find((c) => c.signal === rule.signal)?.observed;
    return observed === undefined ? [] : [{ detector: `rule:${rule.name}`, signal: rule.signal, value: observed }];
  }
  const out: AlertEvidence[] = [{ detector: 'fusion-score', value: a.score }];
  if (a.reason.startsWith('model:') || a.reason.startsWith('rule:')) return out;
  const top = [...a.contributions].sort((x, y) => y.share - x.share)[0];
  if (top?.band && top.observed !== undefined) {
    const half = Math.max((top.band.upper - top.band.lower) / 2, 1e-12);
    out.push({ detector: 'deviation', signal: top.signal, value: Math.abs(top.observed - top.band.expected) / half });
  }
  return out;
}

function passes(t: LearnedThreshold | undefined, value: number): boolean {
  if (!t) return true;
  return t.direction === 'above' ? value >= t.value : value <= t.value;
}

/**
 * Whether an alert stands under the learned thresholds: a firing rule that clears its learned level,
 * or statistical evidence that clears both the score and the deviation level. Nothing learned: it stands.
 */
export function alertStands(state: LearningState, target: string, evidence: ReadonlyArray<AlertEvidence>): boolean {
  const get = (e: AlertEvidence) => state.thresholds[thresholdKey(target, e.detector, e.signal)];
  const rules = evidence.filter((e) => e.detector.startsWith('rule:'));
  if (rules.some((e) => passes(get(e), e.value))) return true;
  const stat = evidence.filter((e) => !e.detector.startsWith('rule:'));
  return stat.length > 0 && stat.every((e) => passes(get(e), e.value));
}

/**
 * The live loop's gate: an alert the learned thresholds say does not stand is kept as a score but not
 * raised, and its reason says which learned level held it back. The evidence is the fused anomaly's, the
 * same an incident records and `labeledAlerts` learns from. Nothing learned for the target: it passes unchanged.
 */
export function holdBackByLearnedThresholds(state: LearningState, anomaly: Anomaly, rules: ReadonlyArray<Rule>): Anomaly {
  if (!anomaly.isAnomaly) return anomaly;
  const target = targetKey(anomaly.target);
  const prefix = `${target}|`;
  if (!Object.keys(state.thresholds).some((k) => k.startsWith(prefix))) return anomaly;
  const evidence = evidenceOfAnomaly(anomaly, rules);
  if (evidence.length === 0 || alertStands(state, target, evidence)) return anomaly;
  const held = evidence
    .map((e) => ({ e, t: state.thresholds[thresholdKey(target, e.detector, e.signal)] }))
    .filter((x) => x.t && !passes(x.t, x.e.value))
    .map((x) => `${x.e.detector}${x.e.signal && !x.e.detector.endsWith(x.e.signal) ? `/${x.e.signal}` : ''} ${fmt(x.e.value)} ${x.t!.direction === 'above' ? '<' : '>'} learned ${fmt(x.t!.value)}`);
  return { ...anomaly, isAnomaly: false, reason: `${anomaly.reason} (held back by learned thresholds: ${held.join(', ') || 'no evidence clears them'}; \`vigil thresholds\` lists and reverts them)` };
}

/** A labeled incident reduced to what tuning needs: per detector, its strongest evidence. */
export interface LabeledAlert {
  readonly incidentId: string;
  readonly target: string;
  readonly real: boolean;
  readonly evidence: ReadonlyArray<AlertEvidence>;
}

/** Human label first; else a verified recovery counts as real and an outcome of false-alarm as false. */
export function isReal(i: Pick<Incident, 'outcome'>): boolean | undefined {
  const o = i.outcome;
  if (!o) return undefined;
  if (o.label) return o.label !== 'false-alarm';
  if (o.kind === 'false-alarm') return false;
  if (o.kind === 'recovered') return true;
  return undefined;
}

/** Labeled alerts from recorded incidents: the 'detected' entries of each, strongest per detector and target. */
export function labeledAlerts(incidents: ReadonlyArray<Incident>, rules: ReadonlyArray<Rule>): LabeledAlert[] {
  const out: LabeledAlert[] = [];
  for (const i of incidents) {
    const real = isReal(i);
    if (real === undefined) continue;
    const byTarget = new Map<string, AlertEvidence[]>();
    for (const e of i.timeline) {
      if (e.kind !== 'detected') continue;
      const key = targetKey(e.anomaly.target);
      byTarget.set(key, [...(byTarget.get(key) ?? []), ...evidenceOfAnomaly(e.anomaly, rules)]);
    }
    for (const [target, ev] of byTarget) out.push({ incidentId: i.id, target, real, evidence: strongest(ev, rules) });
  }
  return out;
}

/** Per detector and signal, the evidence farthest past its threshold (max for 'above', min for 'below'). */
export function strongest(evidence: ReadonlyArray<AlertEvidence>, rules: ReadonlyArray<Rule>): AlertEvidence[] {
  const best = new Map<string, AlertEvidence>();
  for (const e of evidence) {
    const k = `${e.detector}|${e.signal ?? '*'}`;
    const below = detectorDefaults(e.detector, rules)?.direction === 'below';
    const prev = best.get(k);
    if (!prev || (below ? e.value < prev.value : e.value > prev.value)) best.set(k, e);
  }
  return [...best.values()];
}

/**
 * Learns thresholds from labeled alerts. For each target and detector, every candidate level between the
 * observed values is scored against the default: the alerts that would change side form a band, and
 * a Beta prior (pseudo-counts) on "an alert in that band is real" weighs the labels in it: moving pays
 * only when the expected false alarms saved outweigh missCost per real incident expected to be lost.
 * A threshold is never raised past an alert labeled real, unless another firing rule raises that incident anyway.
 * The winner is approached by at most one step per update. Suggest mode records proposals; auto applies.
 */
export function tuneThresholds(
  state: LearningState,
  alerts: ReadonlyArray<LabeledAlert>,
  rules: ReadonlyArray<Rule>,
  context: { readonly mode: AutomationMode; readonly now: number },
  options: TuningOptions = DEFAULT_TUNING_OPTIONS,
): { state: LearningState; changes: ThresholdChange[] } {
  if (context.mode === 'off') return { state, changes: [] };
  const groups = new Map<string, Array<{ incidentId: string; real: boolean; value: number }>>();
  const meta = new Map<string, { target: string; detector: string; signal?: string }>();
  const standsAlone = (a: LabeledAlert, e: AlertEvidence) => e.detector.startsWith('rule:') && passes(state.thresholds[thresholdKey(a.target, e.detector, e.signal)], e.value);
  const byIncident = new Map<string, LabeledAlert[]>();
  for (const a of alerts) byIncident.set(a.incidentId, [...(byIncident.get(a.incidentId) ?? []), a]);
  for (const a of alerts) {
    for (const e of a.evidence) {
      // a real incident that another firing rule (on this or another of its targets) raises anyway is not
      // lost by moving this threshold; a false alarm always counts, as holding back each of its alerts is needed
      const covered = a.real && byIncident.get(a.incidentId)!.some((b) => b.evidence.some((o) => !(b.target === a.target && o.detector === e.detector && o.signal === e.signal) && standsAlone(b, o)));
      if (covered) continue;
      const key = thresholdKey(a.target, e.detector, e.signal);
      meta.set(key, { target: a.target, detector: e.detector, signal: e.signal });
      groups.set(key, [...(groups.get(key) ?? []), { incidentId: a.incidentId, real: a.real, value: e.value }]);
    }
  }
  let thresholds = { ...state.thresholds };
  let seq = state.seq;
  const changes: ThresholdChange[] = [];
  const pending = new Set(state.changes.filter((c) => c.status === 'proposed').map((c) => c.key));
  for (const [key, points] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const m = meta.get(key)!;
    const defaults = detectorDefaults(m.detector, rules);
    if (!defaults || points.length < options.minLabels || pending.has(key)) continue;
    const current = thresholds[key]?.value ?? defaults.value;
    // the target is scored against the default, so the prior always pulls toward the default
    const best = bestLevel(points, defaults.value, defaults.direction, options) ?? { level: defaults.value, band: [] };
    const to = round(clamp(best.level, current - defaults.step, current + defaults.step));
    if (to === current) continue;
    // a human reverted or rejected this threshold's last change: the same labels do not move it again
    const last = [...state.changes].reverse().find((c) => c.key === key);
    if (last && (last.status === 'reverted' || last.status === 'rejected') && best.band.every((p) => last.incidents.includes(p.incidentId))) continue;
    const change: ThresholdChange = {
      id: `thr-${++seq}`,
      key,
      ...m,
      from: current,
      to,
      direction: defaults.direction,
      defaultValue: defaults.value,
      t: context.now,
      incidents: [...new Set(best.band.map((p) => p.incidentId))].sort(),
      reason: `${best.band.length ? `${best.band.filter((p) => !p.real).length} false alarm(s) and ${best.band.filter((p) => p.real).length} real incident(s) lie between the default ${fmt(defaults.value)} and ${fmt(best.level)}` : `the labels no longer justify moving away from the default ${fmt(defaults.value)}`}${to !== round(best.level) ? ` (moved one step of at most ${fmt(defaults.step)} toward ${fmt(best.level)})` : ''}`,
      status: context.mode === 'auto' ? 'applied' : 'proposed',
    };
    changes.push(change);
    if (context.mode === 'auto') thresholds = withValue(thresholds, change, to);
  }
  return { state: { version: 1, thresholds, changes: [...state.changes, ...changes], seq }, changes };
}

function bestLevel(points: ReadonlyArray<{ incidentId: string; real: boolean; value: number }>, reference: number, direction: ThresholdDirection, o: TuningOptions) {
  // 'below' detectors mirror 'above' ones: work on negated values
  const sign = direction === 'above' ? 1 : -1;
  // values equal but for float noise are one value, so a level never lands between them
  const xs = [...new Set(points.map((p) => Number((p.value * sign).toPrecision(9))))].sort((a, b) => a - b);
  // just above a value (raising past it) or at it (lowering to it): the smallest move that changes its side,
  // so a level never strays into the unlabeled gap where the next real incident may fall
  const candidates = new Set<number>();
  for (const x of xs) {
    candidates.add(x);
    candidates.add(x + Math.max(Math.abs(x), 1e-3) * 1e-3);
  }
  const cur = reference * sign;
  let best: { level: number; gain: number; band: typeof points } | undefined;
  for (const c of candidates) {
    if (Math.abs(c - cur) < 1e-12) continue;
    const lo = Math.min(c, cur);
    const hi = Math.max(c, cur);
    const band = points.filter((p) => p.value * sign >= lo && p.value * sign < hi);
    if (band.length === 0) continue;
    const real = band.filter((p) => p.real).length;
    const raising = c > cur;
    // never learn to hide an incident that was labeled real
    if (raising && real > 0) continue;
    // the pseudo-counts always argue against the move: real when raising, false alarms when lowering
    const pReal = (real + (raising ? o.priorReal : 0)) / (band.length + o.priorReal + o.priorFalse);
    // raising holds back the band; lowering lets it through
    const perAlert = raising ? (1 - pReal) - pReal * o.missCost : pReal * o.missCost - (1 - pReal);
    const gain = band.length * perAlert;
    if (gain > 1e-9 && (!best || gain > best.gain + 1e-9 || (Math.abs(gain - best.gain) <= 1e-9 && Math.abs(c - cur) < Math.abs(best.level - cur)))) best = { level: c, gain, band };
  }
  return best && { level: best.level * sign, band: best.band };
}

function withValue(thresholds: Record<string, LearnedThreshold>, c: ThresholdChange, value: number): Record<string, LearnedThreshold> {
  const next = { ...thresholds };
  if (value === c.defaultValue) delete next[c.key];
  else next[c.key] = { target: c.target, detector: c.detector, ...(c.signal ? { signal: c.signal } : {}), value, defaultValue: c.defaultValue, direction: c.direction };
  return next;
}

function decide(state: LearningState, id: string, by: string, now: number, from: ChangeStatus[], status: ChangeStatus, value: (c: ThresholdChange) => number | undefined): { state: LearningState; change: ThresholdChange } {
  const c = state.changes.find((x) => x.id === id);
  if (!c) throw new Error(`no threshold change "${id}"; list them with \`vigil thresholds\` or in the Learn view`);
  if (!from.includes(c.status)) throw new Error(`threshold change ${id} is ${c.status}; only a ${from.join(' or ')} change can become ${status}`);
  const v = value(c);
  const thresholds = v === undefined ? state.thresholds : withValue({ ...state.thresholds }, c, v);
  const change = { ...c, status, decidedBy: by, decidedAt: now };
  return { state: { ...state, thresholds, changes: state.changes.map((x) => (x.id === id ? change : x)) }, change };
}

/** A human accepts a proposal (suggest mode): the threshold takes its new value. */
export function acceptChange(state: LearningState, id: string, by: string, now: number) {
  return decide(state, id, by, now, ['proposed'], 'applied', (c) => c.to);
}

export function rejectChange(state: LearningState, id: string, by: string, now: number) {
  return decide(state, id, by, now, ['proposed'], 'rejected', () => undefined);
}

/** Undoes an applied change: the threshold goes back to the value it had before. */
export function revertChange(state: LearningState, id: string, by: string, now: number) {
  return decide(state, id, by, now, ['applied'], 'reverted', (c) => c.from);
}

/**
 * Validates a learning document read from disk. Anything malformed gives defaults and a message naming
 * the file and the fix; it never throws.
 */
export function parseLearningState(raw: unknown, source: string): { state: LearningState; problem?: string } {
  const bad = (why: string) => ({ state: emptyLearningState(), problem: `${source} is not a valid learning file (${why}); using default thresholds. Move it aside or delete it to start learning afresh.` });
  if (raw === undefined) return { state: emptyLearningState() };
  if (!raw || typeof raw !== 'object') return bad('not a JSON object');
  const doc = raw as Partial<LearningState>;
  if (doc.version !== 1) return bad(`unknown version ${JSON.stringify(doc.version)}`);
  if (!doc.thresholds || typeof doc.thresholds !== 'object' || !Array.isArray(doc.changes)) return bad('missing thresholds or changes');
  for (const [key, t] of Object.entries(doc.thresholds)) {
    if (!t || typeof t.value !== 'number' || !Number.isFinite(t.value) || (t.direction !== 'above' && t.direction !== 'below') || typeof t.target !== 'string' || typeof t.detector !== 'string') return bad(`threshold "${key}" is malformed`);
  }
  for (const c of doc.changes) {
    if (!c || typeof c.id !== 'string' || typeof c.from !== 'number' || typeof c.to !== 'number' || typeof c.key !== 'string') return bad('a change record is malformed');
  }
  return { state: { version: 1, thresholds: doc.thresholds, changes: doc.changes, seq: typeof doc.seq === 'number' ? doc.seq : doc.changes.length } };
}

/** One line for the UI, the audit log and `vigil replay --with current`. */
export function describeChange(c: ThresholdChange): string {
  const what = `${c.detector}${c.signal && !c.detector.endsWith(c.signal) ? `/${c.signal}` : ''} on ${c.target}`;
  return `${c.id} ${c.status}: ${what} ${fmt(c.from)} → ${fmt(c.to)} (default ${fmt(c.defaultValue)}); ${c.reason}; incidents ${c.incidents.join(', ') || '—'}`;
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

function round(x: number): number {
  return Number(x.toPrecision(6));
}

function fmt(x: number): string {
  return String(Number(x.toPrecision(4)));
}
