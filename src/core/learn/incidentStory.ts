/**
 * An incident told for people, from its record alone: its key times (symptom onset, detection, actions,
 * verifications, recovery), its evidence ranked with one line per finding, and its timeline focused on what
 * matters, with bursts of Kubernetes events folded into one line. The incident room, the reliability report
 * and the CLI read it here; nothing in it depends on when or where it is shown.
 */
import type { FiringAlert } from '../model/alert';
import type { Anomaly } from '../model/anomaly';
import type { Evidence } from '../model/diagnosis';
import type { ClusterFact } from '../model/fact';
import { describeTimelineEntry, type Incident, type TimelineEntry } from '../model/incident';
import type { SignalName } from '../model/signal';
import { targetKey, targetLabel, type TargetRef } from '../model/target';
import { isSignalName, signalDefinition } from '../observe/signalCatalogue';
import { formatDurationMs, formatValue, signalWords } from '../observe/signalWording';

/** Facts that are changes someone made: each is its own line and a marker, never folded into a burst. */
const CHANGE_FACTS: ReadonlySet<ClusterFact['kind']> = new Set(['revision-changed', 'configmap-changed', 'scaled']);
/** Facts that matter on their own (a node down, an OOMKill). */
const KEY_FACTS: ReadonlySet<ClusterFact['kind']> = new Set([...CHANGE_FACTS, 'node-not-ready', 'node-ready', 'oom-killed', 'pod-evicted']);

export type MarkerKind = 'change' | 'coincident-change' | 'onset' | 'detection' | 'action' | 'verification' | 'recovery' | 'escalation';

export interface StoryMarker {
  readonly t: number;
  readonly kind: MarkerKind;
  /** Short, for the chart: "revision 2", "rollback", "recovered". */
  readonly label: string;
}

/** The key times of an incident, as the report and the charts use them. */
export interface IncidentTimes {
  readonly onset: number;
  readonly detection: number;
  readonly recovery?: number;
  /** When it ended (any outcome), if it did. */
  readonly end?: number;
  readonly markers: ReadonlyArray<StoryMarker>;
  /** The signal whose departure was detected first (onset is measured on it). */
  readonly signal?: SignalName;
}

export interface Finding {
  readonly kind: 'signal' | 'event' | 'change' | 'log' | 'trend' | 'alert' | 'slo';
  /** One line: what was found, with its peak and how long it lasted. */
  readonly text: string;
  /** How many pieces of evidence it stands for. */
  readonly count: number;
  readonly firstT: number;
  readonly lastT: number;
  readonly signal?: SignalName;
}

export interface StoryLine {
  readonly t: number;
  readonly kind: string;
  readonly text: string;
  /** Raw events folded into this line (a burst); 1 for a single fact or step. */
  readonly folded: number;
}

export interface FocusedTimeline {
  /** At most `limit` lines: the change, the detection, the diagnosis, each step and its verification, the outcome, folded bursts. */
  readonly focused: ReadonlyArray<StoryLine>;
  /** Every fact and step, unfolded ("show all events"). */
  readonly all: ReadonlyArray<StoryLine>;
}

export const FOCUSED_LINES = 12;

const firstDetection = (i: Incident) => i.timeline.find((e): e is Extract<TimelineEntry, { kind: 'detected' }> => e.kind === 'detected');

/** The changes the diagnosis blames (a release, a flag): facts in its evidence. */
export function blamedChanges(i: Incident): ClusterFact[] {
  return (i.diagnosis?.evidence ?? []).filter((e): e is Extract<Evidence, { kind: 'fact' }> => e.kind === 'fact' && CHANGE_FACTS.has(e.fact.kind)).map((e) => e.fact);
}

function topSignal(a: Anomaly | undefined): SignalName | undefined {
  const c = [...(a?.contributions ?? [])].sort((x, y) => y.share - x.share)[0];
  return c && isSignalName(c.signal) ? c.signal : undefined;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * When the symptom began: walking back from the first detection over the target's recorded frames, the start of the
 * unbroken run in which the detected signal was off its earlier normal (median ± 3 robust deviations, at least 5% of
 * the median) on its bad side; or, for a diagnosis from facts, the first symptom fact in its evidence (a restart,
 * a BackOff). The detection itself when nothing earlier was off, or the record is too short to say.
 */
export function symptomOnset(i: Incident): { t: number; signal?: SignalName } {
  const det = firstDetection(i);
  const detection = det?.t ?? i.openedAt;
  const signal = topSignal(det?.anomaly);
  // a diagnosis from Kubernetes facts (restarts, BackOff, OOMKills) began with the first of them
  const symptomFacts = (i.diagnosis?.evidence ?? []).flatMap((e) => (e.kind === 'fact' && !CHANGE_FACTS.has(e.fact.kind) && e.fact.t <= detection ? [e.fact.t] : []));
  const fromFacts = Math.min(detection, ...symptomFacts);
  const fromSignal = onsetOnSignal(i, signal, detection);
  return { t: Math.min(fromFacts, fromSignal), signal };
}

function onsetOnSignal(i: Incident, signal: SignalName | undefined, detection: number): number {
  if (!signal) return detection;
  const key = targetKey(i.target);
  const series = i.recording.frames
    .filter((f) => targetKey(f.target) === key && f.values[signal] !== undefined && Number.isFinite(f.values[signal]))
    .map((f) => ({ t: f.t, v: f.values[signal] as number }))
    .sort((a, b) => a.t - b.t);
  const before = series.filter((p) => p.t <= detection);
  // the normal is what came well before the run (not the last minute, which may already be the symptom)
  const reference = before.filter((p) => p.t < detection - 60_000).map((p) => p.v);
  if (reference.length < 5) return detection;
  const med = median(reference);
  const mad = median(reference.map((v) => Math.abs(v - med))) * 1.4826;
  const margin = Math.max(3 * mad, 0.05 * Math.abs(med), 1e-9);
  // and a tenth of the way to what was detected: a signal flat at 0 has no spread, and without this its background
  // (a 5xx ratio of 0.15 % from a callee) read as the symptom and carried the onset back a minute before the release
  const detected = before.length ? before[before.length - 1].v : med;
  const departure = Math.max(margin, 0.1 * Math.abs(detected - med));
  const bad = signalDefinition(signal).bad;
  const off = (v: number) => (bad === 'down' ? v < med - departure : bad === 'up' ? v > med + departure : Math.abs(v - med) > departure);
  let onset = detection;
  for (let k = before.length - 1; k >= 0 && off(before[k].v); k--) onset = before[k].t;
  return Math.min(onset, detection);
}

/** Onset, detection, every action and verification, recovery, and the blamed (or coincident) change, in time order. */
export function incidentTimes(i: Incident): IncidentTimes {
  const { t: onset, signal } = symptomOnset(i);
  const detection = firstDetection(i)?.t ?? i.openedAt;
  const markers: StoryMarker[] = [];
  const blamed = blamedChanges(i);
  for (const f of blamed) markers.push({ t: f.t, kind: 'change', label: changeLabel(f) });
  // other changes of the target shortly before the detection: shown as coincident, not as the cause
  const key = targetKey(i.target);
  for (const f of i.recording.facts) {
    if (!CHANGE_FACTS.has(f.kind) || targetKey(f.target) !== key || blamed.some((b) => b.t === f.t && b.kind === f.kind)) continue;
    if (f.t >= detection - 10 * 60_000 && f.t <= (i.outcome?.t ?? Infinity) && !i.timeline.some((e) => e.kind === 'acted' && Math.abs(e.t - f.t) < 5000)) markers.push({ t: f.t, kind: 'coincident-change', label: changeLabel(f) });
  }
  markers.push({ t: onset, kind: 'onset', label: 'symptom onset' }, { t: detection, kind: 'detection', label: 'detected' });
  for (const e of i.timeline) {
    if (e.kind === 'acted') markers.push({ t: e.t, kind: 'action', label: e.result.action.kind });
    else if (e.kind === 'verified') markers.push({ t: e.t, kind: e.verdict.status === 'recovered' ? 'recovery' : 'verification', label: e.verdict.status });
    else if (e.kind === 'escalated') markers.push({ t: e.t, kind: 'escalation', label: 'escalated' });
  }
  const recovery = i.outcome?.kind === 'recovered' ? i.outcome.t : undefined;
  if (recovery !== undefined && !markers.some((m) => m.kind === 'recovery')) markers.push({ t: recovery, kind: 'recovery', label: 'recovered' });
  markers.sort((a, b) => a.t - b.t);
  return { onset, detection, recovery, end: i.outcome?.t, markers, signal };
}

function changeLabel(f: ClusterFact): string {
  if (f.kind === 'revision-changed') return `revision ${f.attributes?.to ?? f.attributes?.revision ?? '?'}`;
  if (f.kind === 'configmap-changed') return `${f.attributes?.key ?? 'config'} changed`;
  return f.reason ?? f.kind;
}

/** The signals the evidence names, the detected one first (at most `limit`). */
export function evidenceSignals(i: Incident, limit = 4): SignalName[] {
  const out: SignalName[] = [];
  const add = (s: string | undefined) => {
    if (s && isSignalName(s) && !out.includes(s)) out.push(s);
  };
  add(topSignal(firstDetection(i)?.anomaly));
  for (const e of i.diagnosis?.evidence ?? []) {
    if (e.kind === 'anomaly') for (const c of [...e.anomaly.contributions].sort((x, y) => y.share - x.share)) if (c.share >= 0.1) add(c.signal);
    if (e.kind === 'signal-trend') add(e.signal);
  }
  return out.slice(0, limit);
}

/**
 * The evidence, one line per finding: the same rule firing at every scrape is one line with its peak and how long
 * it held, the same event on several pods is one line with a count. Ranked: signals by severity and score, then
 * changes, trends, events, logs.
 */
export function rankedFindings(i: Incident): Finding[] {
  interface Group {
    kind: Finding['kind'];
    rank: number;
    count: number;
    firstT: number;
    lastT: number;
    text: (g: Group) => string;
    signal?: SignalName;
    peak?: number;
  }
  const groups = new Map<string, Group>();
  const add = (key: string, t: number, make: () => Omit<Group, 'count' | 'firstT' | 'lastT'>, update?: (g: Group) => void) => {
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ...make(), count: 0, firstT: t, lastT: t }));
    g.count++;
    g.firstT = Math.min(g.firstT, t);
    g.lastT = Math.max(g.lastT, t);
    update?.(g);
  };
  const SEVERITY = { critical: 3, warning: 2, info: 1 } as const;
  for (const e of i.diagnosis?.evidence ?? []) {
    switch (e.kind) {
      case 'anomaly': {
        const a = e.anomaly;
        const signal = topSignal(a);
        const observed = a.contributions.find((c) => c.signal === signal)?.observed;
        const bad = signal ? signalDefinition(signal).bad : 'up';
        const what = a.rule ? `rule ${a.rule}` : a.reason.startsWith('rule:') ? 'rule' : a.detector === 'model' || a.reason.startsWith('model:') ? 'model' : 'baseline';
        add(
          `anomaly|${what}|${signal ?? a.reason}`,
          a.t,
          () => ({
            kind: 'signal',
            rank: 100 + SEVERITY[a.severity] * 10 + a.score,
            signal,
            text: (g) => {
              const subject = signal ? signalWords(signal) : a.reason;
              const source = what === 'baseline' ? 'outside its expected band' : what === 'model' ? 'flagged by the model' : what === 'rule' ? 'over its alert threshold' : `over its alert threshold (${what})`;
              const peak = signal && g.peak !== undefined ? `, ${bad === 'down' ? 'lowest' : 'peak'} ${formatValue(signal, g.peak)}` : '';
              return `${subject} ${source}${peak}${span(g)}`;
            },
          }),
          (g) => {
            if (observed === undefined) return;
            g.peak = g.peak === undefined ? observed : bad === 'down' ? Math.min(g.peak, observed) : Math.max(g.peak, observed);
          },
        );
        break;
      }
      case 'fact': {
        const f = e.fact;
        const change = CHANGE_FACTS.has(f.kind);
        const owner = workloadOf(f.target);
        add(change ? `change|${f.t}|${f.kind}` : `fact|${f.kind}|${f.reason ?? ''}|${owner}`, f.t, () => ({
          kind: change ? 'change' : 'event',
          rank: change ? 90 : 50,
          text: (g) => (g.count > 1 ? `${f.reason ?? f.kind} ×${g.count} on ${owner}${span(g)}, e.g. ${f.message}` : `${f.reason ? `${f.reason}: ` : ''}${f.message}`),
        }));
        break;
      }
      case 'log':
        add(`log|${e.line.pattern ?? e.line.text}`, e.line.t, () => ({
          kind: 'log',
          rank: 30,
          text: (g) => (g.count > 1 ? `${g.count} log lines${e.line.pattern ? ` matching ${e.line.pattern}` : ''}${span(g)}, e.g. ${e.line.pod.name}: ${e.line.text}` : `${e.line.pod.name}: ${e.line.text}`),
        }));
        break;
      case 'signal-trend':
        add(`trend|${e.signal}`, i.diagnosis?.t ?? i.openedAt, () => ({ kind: 'trend', rank: 70, signal: e.signal, text: () => `${signalWords(e.signal)}: ${e.note}` }));
        break;
      case 'coincident-change':
        // a change the rules of blame looked at and acquitted: said once, next to the changes, with why
        add(`coincident|${e.fact.t}|${e.fact.kind}`, e.fact.t, () => ({ kind: 'event', rank: 85, text: () => `${e.fact.message}: ${e.note}` }));
        break;
      case 'alert':
        // the runbook stays plain text here; the room turns only http(s) URLs into links
        add(`alert|${e.alert.fingerprint}`, e.alert.startsAt, () => ({ kind: 'alert', rank: 95, text: () => alertLine(e.alert) }));
        break;
      case 'slo-burn':
        add(`slo|${e.slo}`, e.t, () => ({ kind: 'slo', rank: 98, text: () => e.text }));
        break;
    }
  }
  return [...groups.values()]
    .sort((a, b) => b.rank - a.rank || a.firstT - b.firstT)
    .map((g) => ({ kind: g.kind, text: g.text(g), count: g.count, firstT: g.firstT, lastT: g.lastT, signal: g.signal }));
}

/** `Alert KubePodCrashLooping (critical) firing: summary — runbook https://…`. */
export function alertLine(a: FiringAlert): string {
  const summary = a.summary ? `: ${a.summary}` : '';
  const runbook = a.runbookUrl ? ` — runbook ${a.runbookUrl}` : '';
  return `Alert ${a.name}${a.severity ? ` (${a.severity})` : ''} firing${summary}${runbook}`;
}

function span(g: { count: number; firstT: number; lastT: number }): string {
  if (g.count <= 1) return '';
  return g.lastT > g.firstT ? ` over ${formatDurationMs(g.lastT - g.firstT)} (${g.count} readings)` : ` (${g.count} readings)`;
}

/** The workload a pod belongs to (`frontend-7d9f8c6b5-x2x9q` → `shop/frontend`), else the target itself. */
export function workloadOf(t: TargetRef): string {
  if (t.kind !== 'pod') return targetLabel(t);
  const m = /^(.+?)-[a-z0-9]{5,10}-[a-z0-9]{5}$/.exec(t.name) ?? /^(.+?)-[a-z0-9]{5}$/.exec(t.name);
  return `${t.namespace}/${m ? m[1] : t.name}`;
}

/** Events in one burst are at most this far apart. */
const BURST_GAP_MS = 15_000;

interface Item {
  readonly t: number;
  readonly kind: string;
  readonly text: string;
  /** 3: the outcome and steps; 2: detection, diagnosis, changes, key facts; 1: a folded burst; 0: later repeats. */
  readonly weight: number;
}

/**
 * The timeline of what mattered: the blamed change and other key facts, the first detection, each diagnosis that
 * changed the verdict, each proposal, decision, action and verification, the outcome; the Kubernetes events
 * around them folded per workload and burst ("rollout of shop/frontend: 3 pods replaced in 4 s"). At most
 * `limit` lines, bursts dropped first; `all` keeps every line.
 */
export function focusedTimeline(i: Incident, limit = FOCUSED_LINES): FocusedTimeline {
  const times = incidentTimes(i);
  const related = new Set([i.target, i.diagnosis?.target, ...(i.diagnosis?.details?.affected ?? [])].filter((t): t is TargetRef => !!t).map((t) => workloadOf(t)));
  const from = Math.min(times.onset, ...times.markers.filter((m) => m.kind === 'change').map((m) => m.t)) - 60_000;
  const to = i.outcome?.t ?? Infinity;
  const facts = i.recording.facts.filter((f) => f.t >= from && f.t <= to + 30_000 && (related.has(workloadOf(f.target)) || f.target.kind === 'node')).sort((a, b) => a.t - b.t);
  const steps = i.timeline;
  const all: StoryLine[] = [
    ...facts.map((f) => ({ t: f.t, kind: factKind(f), text: `${workloadOf(f.target)}: ${f.reason ? `${f.reason}: ` : ''}${f.message}`, folded: 1 })),
    ...steps.map((e) => ({ t: e.t, kind: e.kind, text: describeTimelineEntry(e), folded: 1 })),
  ].sort((a, b) => a.t - b.t);

  const items: Item[] = [];
  const blamed = new Set(blamedChanges(i).map((f) => `${f.kind}|${f.t}`));
  // key facts each on a line; the others in bursts per workload
  const rest: ClusterFact[] = [];
  const actedAt = steps.filter((e) => e.kind === 'acted').map((e) => e.t);
  for (const f of facts) {
    const isBlamed = blamed.has(`${f.kind}|${f.t}`);
    // the new revision a rollback or restart makes is the action's own line already
    const ownChange = !isBlamed && CHANGE_FACTS.has(f.kind) && actedAt.some((t) => f.t >= t && f.t - t < 5000);
    if (KEY_FACTS.has(f.kind)) items.push({ t: f.t, kind: factKind(f), text: `${isBlamed ? 'blamed change: ' : ''}${factText(f)}`, weight: isBlamed ? 3 : ownChange ? 0 : 2 });
    else rest.push(f);
  }
  for (const burst of bursts(rest, actedAt)) items.push({ t: burst[0].t, kind: 'events', text: burstText(burst), weight: 1 });
  let detected = false;
  let diagnosed: string | undefined;
  for (const e of steps) {
    if (e.kind === 'detected') {
      items.push({ t: e.t, kind: e.kind, text: `detected: ${describeTimelineEntry(e)}`, weight: detected ? 0 : 2 });
      detected = true;
    } else if (e.kind === 'diagnosed') {
      items.push({ t: e.t, kind: e.kind, text: describeTimelineEntry(e), weight: diagnosed === e.diagnosis.kind ? 0 : 2 });
      diagnosed = e.diagnosis.kind;
    } else if (e.kind === 'note') items.push({ t: e.t, kind: e.kind, text: e.text, weight: 1 });
    else items.push({ t: e.t, kind: e.kind, text: describeTimelineEntry(e), weight: 3 });
  }
  // repeats (the same detection again) are in "all" only; then the lightest lines go until the rest fits
  let kept = items.filter((x) => x.weight > 0);
  for (let w = 1; kept.length > limit && w <= 2; w++) {
    const over = kept.length - limit;
    const drop = new Set(kept.filter((x) => x.weight === w).slice(-over));
    kept = kept.filter((x) => !drop.has(x));
  }
  if (kept.length > limit) kept = kept.slice(0, limit);
  const focused = kept.sort((a, b) => a.t - b.t).map((x) => ({ t: x.t, kind: x.kind, text: x.text, folded: x.kind === 'events' ? Number(/(\d+) events?/.exec(x.text)?.[1] ?? 1) : 1 }));
  return { focused, all };
}

function factKind(f: ClusterFact): string {
  if (f.kind === 'revision-changed') return 'release';
  if (CHANGE_FACTS.has(f.kind)) return 'change';
  return f.kind === 'k8s-event' ? 'event' : f.kind;
}

function factText(f: ClusterFact): string {
  if (f.kind === 'revision-changed') {
    const image = f.attributes?.image !== undefined ? ` (image ${String(f.attributes.image)})` : '';
    return `release of ${workloadOf(f.target)}: revision ${f.attributes?.from ?? f.attributes?.previousRevision ?? '?'} → ${f.attributes?.to ?? f.attributes?.revision ?? '?'}${image}`;
  }
  return `${workloadOf(f.target)}: ${f.reason ? `${f.reason}: ` : ''}${f.message}`;
}

/** Facts grouped per workload into runs whose neighbours are at most BURST_GAP_MS apart; an action starts a new run. */
function bursts(facts: ReadonlyArray<ClusterFact>, breaks: ReadonlyArray<number>): ClusterFact[][] {
  const open = new Map<string, ClusterFact[]>();
  const out: ClusterFact[][] = [];
  for (const f of facts) {
    const w = workloadOf(f.target);
    const cur = open.get(w);
    const last = cur?.[cur.length - 1].t;
    if (cur && last !== undefined && f.t - last <= BURST_GAP_MS && !breaks.some((b) => b > last && b <= f.t)) cur.push(f);
    else {
      const next = [f];
      open.set(w, next);
      out.push(next);
    }
  }
  return out;
}

/** One line for a burst: a rollout says how many pods were replaced, restarts how many pods, others count reasons. */
function burstText(burst: ReadonlyArray<ClusterFact>): string {
  const w = workloadOf(burst[0].target);
  const secs = formatDurationMs(burst[burst.length - 1].t - burst[0].t);
  const reasons = (r: string) => burst.filter((f) => f.reason === r);
  const podsIn = (fs: ReadonlyArray<ClusterFact>) => new Set(fs.map((f) => /(?:pod:? |Pod )([a-z0-9][-a-z0-9.]*)/i.exec(f.message)?.[1] ?? f.target.name)).size;
  if (burst.length === 1) return `${w}: ${burst[0].reason ? `${burst[0].reason}: ` : ''}${burst[0].message}`;
  const created = reasons('SuccessfulCreate').length || reasons('Scheduled').length;
  const count = `${burst.length} events`;
  const restarts = burst.filter((f) => f.kind === 'pod-restarted' || f.kind === 'crash-backoff' || f.reason === 'BackOff');
  if (restarts.length > created) return `${w}: ${podsIn(restarts)} pod${podsIn(restarts) === 1 ? '' : 's'} restarting (${[...new Set(restarts.map((f) => f.reason ?? f.kind))].join(', ')}) over ${secs} (${count})`;
  if (created > 0 && (reasons('Killing').length > 0 || reasons('SuccessfulDelete').length > 0 || burst.some((f) => f.kind === 'rollout-started' || f.reason === 'ScalingReplicaSet'))) {
    return `rollout of ${w}: ${created} pod${created === 1 ? '' : 's'} replaced in ${secs} (${count})`;
  }
  if (restarts.length) return `${w}: ${podsIn(restarts)} pod${podsIn(restarts) === 1 ? '' : 's'} restarting (${[...new Set(restarts.map((f) => f.reason ?? f.kind))].join(', ')}) over ${secs} (${count})`;
  const names = [...new Set(burst.map((f) => f.reason ?? f.kind))];
  return `${w}: ${names.slice(0, 4).join(', ')}${names.length > 4 ? ', …' : ''} in ${secs} (${count})`;
}
