import { DEFAULT_FRESH_EVIDENCE, steadyLevel } from '../detect/freshEvidence';
import { robustSummary } from '../detect/robustStats';
import type { Anomaly } from '../model/anomaly';
import type { DiagnosisDetails, DiagnosisKind, Evidence } from '../model/diagnosis';
import type { ClusterFact } from '../model/fact';
import type { PodInterval, SampleFrame, SignalName } from '../model/signal';
import type { TargetRef } from '../model/target';
import { parseTargetKey, targetLabel } from '../model/target';
import { formatValue, pct, round, signalWords } from '../observe/signalWording';
import type { CorrelationConfig } from './correlationConfig';
import type { DependencyGraph } from './dependencyGraph';

/** The symptoms of one target since they started (anomalies closer than `episodeGapMs` form one episode). */
export interface Episode {
  readonly onset: number;
  readonly last: number;
  readonly count: number;
  readonly maxScore: number;
  readonly signals: ReadonlySet<SignalName>;
  /** Most recent anomalies, bounded. */
  readonly anomalies: ReadonlyArray<Anomaly>;
  /**
   * When its latest run of errors or latency began: the first error or latency anomaly of the latest run of anomalies
   * (no more than the onset tolerance apart) that has one. Undefined: not kept (see callerSymptomsSince).
   */
  readonly symptomsSince?: number;
}

/** What the rules may read: the correlator's windowed state. Keys are `targetKey`s. */
export interface EvidenceView {
  readonly now: number;
  readonly config: CorrelationConfig;
  readonly graph: DependencyGraph;
  /** Active episode (last anomaly within `episodeGapMs` of now), if any. */
  episode(key: string): Episode | undefined;
  /** Facts about a service (its pods included) or a node (pods on it included), t in [from, to]. */
  facts(key: string, from: number, to: number): ReadonlyArray<ClusterFact>;
  /** configmap-changed facts of a namespace, t in [from, to]. */
  configChanges(namespace: string, from: number, to: number): ReadonlyArray<ClusterFact>;
  frames(key: string): ReadonlyArray<SampleFrame>;
  /** The detectors' seasonal expectation of a signal at the last frame at or before `at`, if they gave one. */
  expected?(key: string, signal: SignalName, at: number): number | undefined;
  inventory(key: string): { readonly replicas: number; readonly availableReplicas: number; readonly revision: number; readonly image: string } | undefined;
  /** Caches a derived value while the state is unchanged (within one input). */
  memo<T>(key: string, compute: () => T): T;
  /** The open incident rooted at this target with a named cause (not "unknown") that has been reported, if any. */
  namedIncident?(key: string): { readonly kind: DiagnosisKind; readonly openedAt: number } | undefined;
}

/** One candidate cause with its evidence; `members` are the targets whose symptoms it explains. */
export interface Hypothesis {
  readonly kind: DiagnosisKind;
  readonly target: TargetRef;
  readonly confidence: number;
  readonly summary: string;
  readonly evidence: ReadonlyArray<Evidence>;
  readonly members: ReadonlyArray<string>;
  readonly details?: DiagnosisDetails;
}

export const ERROR_SIGNALS: ReadonlySet<SignalName> = new Set(['error_ratio', 'log_errors', 'probe_success']);
export const LATENCY_SIGNALS: ReadonlySet<SignalName> = new Set(['latency_p50', 'latency_p95', 'latency_p99', 'probe_latency']);
const AVAILABILITY_SIGNALS: ReadonlySet<SignalName> = new Set(['available_replicas', 'restarts']);

/** Fixed order for ties, so equal confidences rank the same way on every run. */
export const KIND_ORDER: ReadonlyArray<DiagnosisKind> = [
  'node-failure', 'bad-release', 'bad-feature-flag', 'memory-leak', 'crash-loop', 'dependency-outage', 'traffic-surge', 'cpu-hog', 'latency-spike', 'unknown',
];

const MAX_CONFIDENCE = 0.97;
const MAX_ANOMALY_EVIDENCE = 6;

// --- fact classification (observe may emit a typed fact or the raw Kubernetes event) ---

const reasonIs = (f: ClusterFact, ...reasons: string[]) => f.kind === 'k8s-event' && !!f.reason && reasons.includes(f.reason);
export const isOom = (f: ClusterFact) =>
  f.kind === 'oom-killed' || reasonIs(f, 'OOMKilling', 'OOMKilled') || (f.kind === 'pod-restarted' && (f.reason === 'OOMKilled' || f.attributes?.reason === 'OOMKilled'));
/** Image pulls that fail: the new revision cannot even start (BackOff is also the reason of pull back-offs). */
export const isPullFailure = (f: ClusterFact) =>
  reasonIs(f, 'ErrImagePull', 'ImagePullBackOff', 'InvalidImageName') || ((reasonIs(f, 'BackOff', 'Failed') || f.kind === 'crash-backoff') && /pull(ing)? image|ImagePull/i.test(f.message));
export const isBackoff = (f: ClusterFact) => (f.kind === 'crash-backoff' || reasonIs(f, 'BackOff', 'CrashLoopBackOff')) && !isPullFailure(f);
export const isRestart = (f: ClusterFact) => f.kind === 'pod-restarted';
export const isNotReady = (f: ClusterFact) => f.kind === 'node-not-ready' || reasonIs(f, 'NodeNotReady');
export const isNodeReady = (f: ClusterFact) => f.kind === 'node-ready' || reasonIs(f, 'NodeReady');
export const isEviction = (f: ClusterFact) => f.kind === 'pod-evicted' || reasonIs(f, 'Evicted', 'TaintManagerEviction');
export const isRelease = (f: ClusterFact) => f.kind === 'revision-changed' || f.kind === 'rollout-started';
const isUnhealthy = (f: ClusterFact) => reasonIs(f, 'Unhealthy', 'Killing');

function attr(f: ClusterFact, ...names: string[]): string | number | undefined {
  for (const n of names) {
    const v = f.attributes?.[n];
    if (v !== undefined && typeof v !== 'boolean') return v;
  }
  return undefined;
}

function numAttr(f: ClusterFact, ...names: string[]): number | undefined {
  const v = attr(f, ...names);
  const n = typeof v === 'number' ? v : v !== undefined ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** Name of the configmap a configmap-changed fact is about (attribute, else the fact's target name). */
export function configMapOf(f: ClusterFact): string {
  return String(attr(f, 'configMap', 'configmap') ?? f.target.name);
}

// --- anomaly and series helpers ---

/** Signals that carry at least `minShare` of an anomaly's score (the top one if none does). */
export function symptomSignals(a: Anomaly, minShare: number): SignalName[] {
  const strong = a.contributions.filter((c) => c.share >= minShare).map((c) => c.signal);
  if (strong.length || !a.contributions.length) return strong;
  const top = [...a.contributions].sort((x, y) => y.share - x.share)[0];
  return [top.signal];
}

const hasAny = (signals: ReadonlySet<SignalName>, group: ReadonlySet<SignalName>) => [...signals].some((s) => group.has(s));

/** Samples of one signal in [from, to]; frames are in time order, so the start is found by bisection. */
function values(frames: ReadonlyArray<SampleFrame>, signal: SignalName, from: number, to: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let lo = 0;
  let hi = frames.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (frames[mid].t < from) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < frames.length; i++) {
    const f = frames[i];
    if (f.t > to) break;
    const v = f.values[signal];
    if (v !== undefined && Number.isFinite(v)) out.push([f.t, v]);
  }
  return out;
}

function median(xs: ReadonlyArray<number>): number | undefined {
  if (!xs.length) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Value before the onset (median) and now (max of the last few samples), from frames or the anomalies. */
export function shift(view: EvidenceView, key: string, signal: SignalName, onset: number): { before?: number; after?: number } {
  return view.memo(`shift|${key}|${signal}|${onset}`, () => computeShift(view, key, signal, onset));
}

function computeShift(view: EvidenceView, key: string, signal: SignalName, onset: number): { before?: number; after?: number } {
  const frames = view.frames(key);
  const before = median(values(frames, signal, onset - view.config.baselineMs, onset - 1).map((p) => p[1]));
  const recent = values(frames, signal, onset, view.now).slice(-3).map((p) => p[1]);
  let after = recent.length ? Math.max(...recent) : undefined;
  let expected = before;
  if (after === undefined || expected === undefined) {
    const ep = view.episode(key);
    for (const a of ep?.anomalies ?? []) {
      const c = a.contributions.find((x) => x.signal === signal);
      if (c?.observed !== undefined && after === undefined) after = c.observed;
      if (c?.band && expected === undefined) expected = c.band.expected;
    }
  }
  return { before: expected, after };
}

/**
 * The request rate before an onset and now. Before is the higher of the last ten minutes' median before the onset and,
 * where the detectors have found the season, what they expect for now: a surge is more than both what the service
 * just served and what is usual at this hour (a daily peak after a quiet night and weekend is twice that median,
 * and no surge; a baseline still learning its season can sit far below the level), or, when the requests stepped up
 * before the onset, the level before that step. Now is the higher of the rate window and the last intervals alone (SampleFrame.fresh):
 * a surge fills a 30 s window only slowly, while its first interval already shows it whole.
 */
export function requestShift(view: EvidenceView, key: string, onset: number): { before?: number; after?: number } {
  return view.memo(`requests|${key}|${onset}`, () => {
    // now, not at the onset: a symptom that began minutes ago began at another hour of the day
    const seasonal = view.expected?.(key, 'request_rate', view.now);
    const { before: median, after } = shift(view, key, 'request_rate', onset);
    const frames = view.frames(key);
    // a rise the pods absorbed before they saturated (a surge at a weekend night, the symptoms as the day climbs) began
    // before the onset: measured from the level before its step, one interval's requests a multiple of the window before,
    // where that window's reading was a steady level (the frame before it agreed): the agent's first readings are not
    // (see freshEvidence's SETTLED_RATE_RATIO; a cold start's 1.16 req/s made a dependency outage 3.6x "above baseline")
    let stepBase: number | undefined;
    // The level before the step is never below that interval's own requests: a window younger than itself (pods or a
    // Prometheus that started within it) reads a fraction of them while the last interval reads all (bench:heal 651ccf5:
    // a dependency outage 49 s after the pods started read "2.39x above baseline" from a window still filling)
    for (let i = frames.length - 1; i > 1 && frames[i].t >= onset - view.config.baselineMs; i--) {
      if (frames[i].t >= onset) continue;
      const windowed = frames[i - 1].values.request_rate;
      const prev = windowed === undefined ? undefined : Math.max(windowed, frames[i - 1].fresh?.request_rate ?? 0);
      const cur = frames[i].fresh?.request_rate;
      if (prev !== undefined && prev > 0 && cur !== undefined && cur >= view.config.surgeRatio * prev && steadyLevel(frames[i - 2].values.request_rate, windowed)) stepBase = Math.min(stepBase ?? prev, prev);
    }
    const base = stepBase !== undefined && median !== undefined ? Math.min(median, stepBase) : median;
    const before = seasonal !== undefined && Number.isFinite(seasonal) && seasonal > 0 ? Math.max(seasonal, base ?? 0) : base;
    let fresh: number | undefined;
    for (let i = frames.length - 1; i >= 0 && i >= frames.length - 3 && frames[i].t >= onset; i--) {
      const v = frames[i].fresh?.request_rate;
      if (v !== undefined && Number.isFinite(v)) fresh = Math.max(fresh ?? -Infinity, v);
    }
    return { before, after: after === undefined ? fresh : Math.max(after, fresh ?? -Infinity) };
  });
}

export interface Trend {
  readonly slopePerMinute: number;
  readonly relativePerMinute: number;
  readonly r2: number;
  readonly from: number;
  readonly to: number;
  readonly start: number;
  readonly end: number;
}

function memoryClimb(view: EvidenceView, key: string): Trend | undefined {
  const cfg = view.config;
  return view.memo(`climb|${key}`, () => climb(view.frames(key), 'memory', view.now - cfg.trendWindowMs, view.now, cfg.minTrendSpanMs));
}

/**
 * The biggest steady climb of a signal in the window (a straight-line fit with r² ≥ 0.8), or undefined.
 * The series is cut where it drops by a quarter (a pod restarted after an OOMKill), so a saw-tooth
 * leak still shows its slope; within a piece the climb may start late (flat, then rising).
 */
export function climb(frames: ReadonlyArray<SampleFrame>, signal: SignalName, from: number, to: number, minSpanMs: number): Trend | undefined {
  const pts = values(frames, signal, from, to);
  const segments: Array<Array<[number, number]>> = [[]];
  for (let i = 0; i < pts.length; i++) {
    if (i > 0 && pts[i][1] < pts[i - 1][1] * 0.75) segments.push([]);
    segments[segments.length - 1].push(pts[i]);
  }
  let best: Trend | undefined;
  let bestMerit = 0;
  for (const seg of segments) {
    const n = seg.length;
    if (n < 5) continue;
    // Fits of every suffix from running sums, newest point first: O(n) per piece.
    const t0 = seg[0][0];
    const y0 = seg[0][1];
    let sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0;
    for (let i = n - 1; i >= 0; i--) {
      const x = seg[i][0] - t0;
      const y = seg[i][1] - y0;
      sx += x; sy += y; sxx += x * x; sxy += x * y; syy += y * y;
      const m = n - i;
      const span = seg[n - 1][0] - seg[i][0];
      if (m < 5 || span < minSpanMs) continue;
      const vx = sxx - (sx * sx) / m;
      const vy = syy - (sy * sy) / m;
      const cov = sxy - (sx * sy) / m;
      if (vx <= 0 || vy <= 0 || cov <= 0) continue;
      const slope = cov / vx;
      const r2 = (cov * cov) / (vx * vy);
      const mean = sy / m + y0;
      if (r2 < 0.8 || mean <= 0) continue;
      // A flat stretch before the climb lowers r², so the fit starts where the climb does.
      const merit = slope * span * r2 ** 4;
      if (best && merit <= bestMerit) continue;
      bestMerit = merit;
      best = {
        slopePerMinute: slope * 60_000,
        relativePerMinute: (slope * 60_000) / mean,
        r2,
        from: seg[i][0],
        to: seg[n - 1][0],
        start: seg[i][1],
        end: seg[n - 1][1],
      };
    }
  }
  return best;
}

export function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s} s`;
  return `${Math.round(s / 60)} min`;
}

export function clock(t: number): string {
  return `${new Date(t).toISOString().slice(11, 19)} UTC`;
}

const label = (key: string) => targetLabel(parseTargetKey(key));
const clamp = (x: number) => Math.max(0, Math.min(MAX_CONFIDENCE, x));
const factEvidence = (fs: ReadonlyArray<ClusterFact>): Evidence[] => fs.map((fact) => ({ kind: 'fact', fact }));

/** The latest anomalies of an episode touching one of `signals` (any signal when omitted), newest last. */
function anomalyEvidence(ep: Episode | undefined, config: CorrelationConfig, signals?: ReadonlySet<SignalName>): Evidence[] {
  if (!ep) return [];
  const picked = ep.anomalies.filter((a) => !signals || symptomSignals(a, config.minContributionShare).some((s) => signals.has(s)));
  return picked.slice(-MAX_ANOMALY_EVIDENCE).map((anomaly) => ({ kind: 'anomaly', anomaly }));
}

/** The signal that moved most for a sentence: errors first, then latency, then whatever the episode saw. */
function headlineSignal(ep: Episode): SignalName {
  for (const s of ['error_ratio', 'latency_p99', 'latency_p95', 'latency_p50', 'probe_success', 'log_errors'] as SignalName[]) if (ep.signals.has(s)) return s;
  return [...ep.signals].sort()[0] ?? 'error_ratio';
}

function rose(view: EvidenceView, key: string, signal: SignalName, onset: number): string {
  const { before, after } = shift(view, key, signal, onset);
  const verb = signal === 'probe_success' || signal === 'available_replicas' ? 'fell' : 'rose';
  if (before === undefined || after === undefined) return `${signalWords(signal)} ${verb}`;
  return `${signalWords(signal)} ${verb} from ${formatValue(signal, before)} to ${formatValue(signal, after)}`;
}

/** One OOMKill shows up as several facts (oom-killed, OOMKilling event, restart); count kills per pod 30 s apart. */
export function distinctKills(facts: ReadonlyArray<ClusterFact>): number {
  const last = new Map<string, number>();
  let n = 0;
  for (const f of [...facts].sort((a, b) => a.t - b.t)) {
    const k = f.target.name;
    const prev = last.get(k);
    if (prev === undefined || f.t - prev > 30_000) n++;
    last.set(k, f.t);
  }
  return n;
}

function worstPod(facts: ReadonlyArray<ClusterFact>): string | undefined {
  const counts = new Map<string, number>();
  for (const f of facts) if (f.target.kind === 'pod') counts.set(f.target.name, (counts.get(f.target.name) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0];
}

// --- the rules: each returns a hypothesis or undefined when its evidence is absent ---

/** Every cause rooted at a service, best first. `dependency-outage` treats the service as the callee. */
export function diagnoseService(view: EvidenceView, key: string): Hypothesis[] {
  const crash = crashLoop(view, key);
  const outage = dependencyOutage(view, key);
  const out = [
    badRelease(view, key),
    badFeatureFlag(view, key),
    memoryLeak(view, key),
    crash,
    // A service down because its pods crash is its crash loop's outage: the mechanism ranks over the generic reading,
    // which stays an alternative. Otherwise a crash loop's incident swung to "dependency outage" while its pods were all
    // down and back (bench:scale on the real control plane: crash loop, dependency outage, crash loop again within a
    // minute), and the step proposed for approval changed with it.
    outage && crash && crash.confidence >= view.config.openConfidence && outage.confidence >= crash.confidence ? { ...outage, confidence: crash.confidence - CRASH_OVER_OUTAGE } : outage,
    trafficSurge(view, key),
    cpuHog(view, key),
    latencySpike(view, key),
    unknown(view, key),
  ].filter((h): h is Hypothesis => !!h && h.confidence > 0);
  return rank(out);
}

/** How far under a confident crash loop its own service's outage ranks. */
const CRASH_OVER_OUTAGE = 0.05;

export function rank(hs: ReadonlyArray<Hypothesis>): Hypothesis[] {
  return [...hs].sort((a, b) => b.confidence - a.confidence || KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind));
}

// --- the rules of blame: when a change (release, configmap) is the cause of a workload's symptoms ---

/** Signals a change must have made worse on the changed workload itself, and the smallest step that counts. */
const OWN_SIGNALS: ReadonlyArray<readonly [SignalName, number]> = [['error_ratio', 0.01], ['latency_p95', 0.05], ['latency_p99', 0.1]];
/** How far before a change its workload's last sample may be to stand for its level at the change. */
const BEFORE_CHANGE_MS = 60_000;
/** A coincident change still ranks as an alternative, below any cause with its own evidence. */
const COINCIDENT_CONFIDENCE = 0.2;

export interface ChangeVerdict {
  readonly blamed: boolean;
  /** Why, in words: what made it the cause, or why it is coincident. */
  readonly reason: string;
  /** The workload's own signals worse after the change than just before it (or its pods crash since). */
  readonly worse: boolean;
}

/** The signal that got worse after `t` on `key`, with its level just before and now; undefined when none did. */
function worseAfter(view: EvidenceView, key: string, t: number): { signal: SignalName; before: number; after: number } | undefined {
  const frames = view.frames(key);
  for (const [signal, step] of OWN_SIGNALS) {
    // the level at the change (a rate window's value then), not the worst before it: trailing symptoms fade
    const pre = values(frames, signal, t - BEFORE_CHANGE_MS, t).map((p) => p[1]);
    const post = values(frames, signal, t + 1, view.now).slice(-3).map((p) => p[1]);
    if (!pre.length || !post.length) continue;
    const before = pre[pre.length - 1];
    const after = Math.max(...post);
    if (after > before * 1.5 && after - before > step) return { signal, before, after };
  }
  return undefined;
}

/** Requests each side needs over the intervals new and old pods served together before they are compared. */
const MIN_SIDE_BY_SIDE_REQUESTS = 20;
/** New pods are worse than old ones when they fail this many times their share and this much more (5 points)... */
const NEW_PODS_WORSE_FACTOR = 1.5;
const NEW_PODS_WORSE_STEP = 0.05;
/** ...and no worse when within this much of it (a healthy release during a failing dependency: both fail alike). */
const NEW_PODS_ALIKE_STEP = 0.02;

/**
 * A change's new pods (started at or after it) against its old ones, over the intervals in which both served
 * (SampleFrame.freshPods): the share of requests each failed. A failing dependency fails old and new pods alike; a bad
 * release fails only its own. The old pods' share is taken interval by interval, weighted by the new pods' requests
 * in each: while a rollout replaces pods, the new ones serve the later intervals, and an outage still growing would
 * otherwise look like theirs. Undefined when they never served side by side with enough requests.
 */
export function newPodsAgainstOld(frames: ReadonlyArray<SampleFrame>, t: number, now: number): { newer: number; older: number; intervals: number } | undefined {
  let newReq = 0;
  let newErr = 0;
  let oldReq = 0;
  let oldLikeNew = 0;
  let intervals = 0;
  for (const f of frames) {
    if (f.t <= t || f.t > now || !f.freshPods) continue;
    const sum = (pods: ReadonlyArray<PodInterval>) => pods.reduce((a, p) => ({ requests: a.requests + p.requests, errors: a.errors + p.errors }), { requests: 0, errors: 0 });
    const newer = sum(f.freshPods.filter((p) => p.since !== undefined && p.since >= t));
    const older = sum(f.freshPods.filter((p) => p.since !== undefined && p.since < t));
    if (!newer.requests || !older.requests) continue;
    intervals++;
    newReq += newer.requests;
    newErr += newer.errors;
    oldReq += older.requests;
    oldLikeNew += newer.requests * (older.errors / older.requests);
  }
  if (!intervals || newReq < MIN_SIDE_BY_SIDE_REQUESTS || oldReq < MIN_SIDE_BY_SIDE_REQUESTS) return undefined;
  return { newer: newErr / newReq, older: oldLikeNew / newReq, intervals };
}

/** Callees of `key` failing since `from` (errors or no replica available), with their error ratio now. */
function failingCallees(view: EvidenceView, key: string, from: number): Array<{ key: string; errors: number }> {
  const out: Array<{ key: string; errors: number }> = [];
  for (const c of view.graph.callees(key)) {
    const ep = view.episode(c);
    const failing = (!!ep && ep.last >= from && (hasAny(ep.signals, ERROR_SIGNALS) || hasAny(ep.signals, AVAILABILITY_SIGNALS))) || isDown(view, c);
    if (!failing) continue;
    const recent = values(view.frames(c), 'error_ratio', view.now - BEFORE_CHANGE_MS, view.now).map((p) => p[1]);
    out.push({ key: c, errors: isDown(view, c) ? 1 : recent.length ? Math.max(...recent) : 1 });
  }
  return out;
}

/**
 * The rules of blame for a change at `t` on workload `key`:
 * 1. its own behaviour got worse after the change than just before it (errors or latency, or its pods crash since);
 * 2. and its dependencies were healthy over the same time — or its new pods are worse than what a failing dependency
 *    explains: they crash (a failing callee makes 5xx, never a crash), they fail more of their requests than its old
 *    pods over the same intervals while both serve, or the workload fails a larger share of its requests than its
 *    failing dependency fails of its own (every failed call could not explain them).
 * New pods that fail no more than the old ones beside them clear the change, even with healthy dependencies (one the
 * graph does not know may be failing). Otherwise the change is coincident and is not blamed.
 */
export function judgeChange(view: EvidenceView, key: string, t: number, what: string): ChangeVerdict {
  const crashes = view.facts(key, t, view.now).filter((f) => isBackoff(f) || isRestart(f) || isPullFailure(f));
  const moved = worseAfter(view, key, t);
  // No frames on either side: the symptoms' onset decides (they began after the change).
  const noFrames = !values(view.frames(key), 'error_ratio', t - BEFORE_CHANGE_MS, view.now).length;
  const ep = view.episode(key);
  const worse = !!moved || crashes.length > 0 || (noFrames && !!ep && ep.onset >= t - view.config.factLagMs);
  const callees = failingCallees(view, key, t - view.config.onsetToleranceMs);
  const failing = `coincident, not blamed: ${label(key)}'s dependency ${callees.map((c) => label(c.key)).join(', ')} was failing over the same time`;
  if (!worse) return { blamed: false, worse, reason: callees.length ? failing : `coincident, not blamed: ${label(key)}'s own signals did not get worse after ${what}` };
  if (crashes.length && callees.length) return { blamed: true, worse, reason: `pods of ${label(key)} crash since ${what}, which a failing dependency does not cause` };
  // side by side, whatever its dependencies do: they fail the old pods as much as the new ones
  const sides = newPodsAgainstOld(view.frames(key), t, view.now);
  const share = (v: number) => formatValue('error_ratio', v);
  if (sides && sides.newer > sides.older * NEW_PODS_WORSE_FACTOR + NEW_PODS_WORSE_STEP) {
    return { blamed: true, worse, reason: `${label(key)}'s new pods since ${what} fail ${share(sides.newer)} of their requests, its old pods ${share(sides.older)} over the same ${sides.intervals} interval${sides.intervals === 1 ? '' : 's'}` };
  }
  if (sides && !crashes.length && sides.newer <= sides.older + NEW_PODS_ALIKE_STEP) {
    return { blamed: false, worse, reason: `coincident, not blamed: ${label(key)}'s new pods since ${what} fail ${share(sides.newer)} of their requests, no more than its old pods (${share(sides.older)}) over the same ${sides.intervals} interval${sides.intervals === 1 ? '' : 's'}${callees.length ? `; its dependency ${callees.map((c) => label(c.key)).join(', ')} was failing` : ''}` };
  }
  if (!callees.length) return { blamed: true, worse, reason: `${label(key)} got worse after ${what} while its dependencies stayed healthy` };
  const own = moved?.signal === 'error_ratio' ? moved.after : undefined;
  const worst = Math.max(...callees.map((c) => c.errors));
  if (own !== undefined && own > worst * 1.2 + 0.05) {
    return { blamed: true, worse, reason: `${label(key)} fails ${formatValue('error_ratio', own)} of its requests, more than its failing dependency ${callees.map((c) => label(c.key)).join(', ')} (${formatValue('error_ratio', worst)}) explains` };
  }
  return { blamed: false, worse, reason: failing };
}

function badRelease(view: EvidenceView, key: string): Hypothesis | undefined {
  const ep = view.episode(key);
  const cfg = view.config;
  // Symptoms are anomalies, or pods of the new revision that crash or cannot pull their image.
  const trouble = (from: number) => view.facts(key, from, view.now).filter((f) => isBackoff(f) || isRestart(f) || isPullFailure(f));
  const window = ep ? view.facts(key, ep.onset - cfg.releaseWindowMs, ep.onset + cfg.factLagMs) : view.facts(key, view.now - cfg.releaseWindowMs, view.now);
  const releases = window.filter(isRelease);
  if (!releases.length) return undefined;
  // One rollout may yield both rollout-started and revision-changed; the revision carries the numbers.
  const revisions = releases.filter((f) => f.kind === 'revision-changed');
  const rel = (revisions.length ? revisions : releases)[(revisions.length ? revisions : releases).length - 1];
  const crashes = trouble(rel.t);
  const pullFailures = crashes.filter(isPullFailure);
  // Without anomalies, one restart is not enough: pods restart now and then.
  if (!ep && crashes.length < 2 && !pullFailures.length) return undefined;
  const onset = ep?.onset ?? crashes[0].t;
  const errors = !!ep && hasAny(ep.signals, ERROR_SIGNALS);
  const latency = !!ep && hasAny(ep.signals, LATENCY_SIGNALS);
  const lag = Math.max(0, onset - rel.t);
  let c = errors || latency ? 0.45 : 0.3;
  c += 0.25 * (1 - lag / cfg.releaseWindowMs);
  if (errors) c += 0.15;
  else if (latency) c += 0.08;
  // New pods crashing or not pulling right after the rollout: the release is the cause, not the pods.
  if (pullFailures.length) c += 0.3;
  else if (crashes.length) c += 0.25;
  const { revision, image, what } = releaseOf(view, key, rel);
  const previousRevision = numAttr(rel, 'previousRevision', 'oldRevision', 'fromRevision') ?? (revision !== undefined && revision > 1 ? revision - 1 : undefined);
  const symptom = pullFailures.length
    ? 'pods cannot pull their image'
    : ep && (errors || latency)
      ? rose(view, key, headlineSignal(ep), onset)
      : crashes.length
        ? `pods crash-loop (${describeCrashes(crashes)})`
        : rose(view, key, headlineSignal(ep!), onset);
  const verdict = view.memo(`blame|${key}|${rel.t}`, () => judgeChange(view, key, rel.t, what));
  if (!verdict.blamed) c = Math.min(c, COINCIDENT_CONFIDENCE);
  const summary = `${label(key)} ${symptom} ${ago(lag)} after ${what} rolled out${verdict.blamed ? '' : ` (${verdict.reason})`}.`;
  return {
    kind: 'bad-release',
    target: parseTargetKey(key),
    confidence: clamp(c),
    summary,
    evidence: [...(verdict.blamed ? factEvidence([rel]) : [{ kind: 'coincident-change' as const, fact: rel, note: verdict.reason }]), ...factEvidence(crashes.slice(0, 3)), ...anomalyEvidence(ep, cfg)],
    members: [key],
    details: { revision, previousRevision, image: image !== undefined ? String(image) : undefined, worstPod: worstPod(crashes) },
  };
}

/** A release fact's revision and image, and how a sentence names it. */
function releaseOf(view: EvidenceView, key: string, rel: ClusterFact): { revision?: number; image?: string | number; what: string } {
  const revision = numAttr(rel, 'revision', 'newRevision', 'toRevision') ?? view.inventory(key)?.revision;
  const image = attr(rel, 'image', 'newImage') ?? view.inventory(key)?.image;
  return { revision, image, what: `revision ${revision ?? '?'}${image ? ` (image ${image})` : ''}` };
}

function describeCrashes(facts: ReadonlyArray<ClusterFact>): string {
  const restarts = facts.filter(isRestart).length;
  const parts = [`${restarts} restart${restarts === 1 ? '' : 's'}`];
  if (facts.some(isBackoff)) parts.push('BackOff');
  return parts.join(', ');
}

function badFeatureFlag(view: EvidenceView, key: string): Hypothesis | undefined {
  const ep = view.episode(key);
  const ref = parseTargetKey(key);
  const cfg = view.config;
  // Symptoms are anomalies, or pods that crash (a bad value in a config they read at start-up).
  const podCrashes = view.facts(key, view.now - cfg.crashWindowMs, view.now).filter((f) => isBackoff(f) || isRestart(f));
  const onset = ep?.onset ?? podCrashes[0]?.t;
  if (onset === undefined || !ref.namespace) return undefined;
  const all = view.configChanges(ref.namespace, onset - cfg.flagWindowMs - cfg.flagWindowMs, view.now);
  // a change that puts back the value an earlier change replaced (Vigil's own revert, a human's) restores a known-good
  // value: it is never the cause, or a fix would be blamed for the crashes it is ending and undone
  const isRevert = (f: ClusterFact) =>
    attr(f, 'value', 'newValue', 'new') !== undefined &&
    all.some((e) => e.t < f.t && configMapOf(e) === configMapOf(f) && attr(e, 'key') === attr(f, 'key') && attr(e, 'previousValue', 'oldValue', 'old') === attr(f, 'value', 'newValue', 'new'));
  const changes = view.configChanges(ref.namespace, onset - cfg.flagWindowMs, onset + cfg.factLagMs).filter((f) => !isRevert(f));
  if (!changes.length) return undefined;
  const g = view.graph;
  const referenced = (f: ClusterFact) => g.references(key, configMapOf(f)) || (f.target.kind === 'service' && f.target.name === ref.name && attr(f, 'configMap', 'configmap') !== undefined);
  // A referenced configmap beats one that merely shares the namespace; the latest change wins ties.
  const change = [...changes].sort((a, b) => Number(referenced(b)) - Number(referenced(a)) || b.t - a.t)[0];
  const isReferenced = referenced(change);
  if (!isReferenced && g.hasConfigMapInfo(key)) return undefined;
  // Flag keys are often prefixed with the service that reads them (`checkout.new-pricing-engine`).
  const flagKey = String(attr(change, 'key') ?? '');
  const prefix = /^([a-z0-9-]+)[./]/.exec(flagKey)?.[1];
  const ownsKey = prefix === ref.name;
  const othersKey = !!prefix && !ownsKey && g.servicesIn(ref.namespace).includes(`service:${ref.namespace}/${prefix}`);
  const errors = !!ep && hasAny(ep.signals, ERROR_SIGNALS);
  const latency = !!ep && hasAny(ep.signals, LATENCY_SIGNALS);
  const crashes = podCrashes.filter((f) => f.t >= change.t);
  const crashing = crashes.some(isBackoff) || crashes.length >= 2;
  if (!errors && !latency && !crashing) return undefined;
  const lag = Math.max(0, onset - change.t);
  let c = isReferenced ? 0.5 : 0.35;
  if (ownsKey) c += 0.1;
  if (othersKey) c -= 0.25;
  // the key names a service this one calls, which shows nothing yet: this one's errors may be its 5xx, seen an interval
  // before its own (their scrapes fall at different times). For two settles the flag is not this one's to name, so the
  // owner opens the incident once its own symptoms show and this caller joins it as it does any callee's; after that
  // (a flag that breaks only its callers) it is named here, below the opening confidence
  const owner = othersKey ? `service:${ref.namespace}/${prefix}` : undefined;
  const ownerSilent = !!owner && reaches(g, key, owner) && !view.episode(owner);
  if (ownerSilent && view.now - onset < 2 * cfg.settleMs) return undefined;
  // A flag does not multiply incoming traffic: with requests up by the surge ratio, the surge explains the symptoms better.
  const rate = requestShift(view, key, onset);
  if (rate.before !== undefined && rate.after !== undefined && rate.before > 0 && rate.after / rate.before >= cfg.surgeRatio) c -= 0.2;
  c += 0.2 * (1 - lag / cfg.flagWindowMs);
  if (errors) c += 0.2;
  else c += 0.05;
  // Pods crashing since the change, still crashing when replaced: restarts will not help, the value will.
  if (crashing) c += 0.25;
  const cm = configMapOf(change);
  const k = attr(change, 'key');
  const prev = attr(change, 'previousValue', 'oldValue', 'old');
  const next = attr(change, 'value', 'newValue', 'new');
  const what = `configmap ${ref.namespace}/${cm}${k !== undefined ? ` key ${k}` : ''} changed${prev !== undefined ? ` from ${JSON.stringify(String(prev))}` : ''}${next !== undefined ? ` to ${JSON.stringify(String(next))}` : ''}`;
  const verdict = view.memo(`blame|${key}|${change.t}`, () => judgeChange(view, key, change.t, what));
  if (!verdict.blamed) c = Math.min(c, COINCIDENT_CONFIDENCE);
  if (ownerSilent) c = Math.min(c, cfg.openConfidence - 0.05);
  const symptom = ep && (errors || latency) ? rose(view, key, headlineSignal(ep), onset) : `pods crash-loop (${describeCrashes(crashes)})`;
  const summary = `${label(key)} ${symptom} ${ago(lag)} after ${what}${verdict.blamed ? '' : ` (${verdict.reason})`}.`;
  return {
    kind: 'bad-feature-flag',
    target: ref,
    confidence: clamp(c),
    summary,
    evidence: [...(verdict.blamed ? factEvidence([change]) : [{ kind: 'coincident-change' as const, fact: change, note: verdict.reason }]), ...factEvidence(crashes.slice(-3)), ...anomalyEvidence(ep, cfg)],
    members: [key],
    details: k !== undefined && prev !== undefined ? { flag: { namespace: ref.namespace, configMap: cm, key: String(k), previousValue: String(prev) } } : undefined,
  };
}

/** Whether `from` calls `to`, directly or through other services. */
function reaches(g: EvidenceView['graph'], from: string, to: string): boolean {
  const seen = new Set<string>([from]);
  const queue = [from];
  while (queue.length) {
    for (const next of g.callees(queue.shift()!)) {
      if (next === to) return true;
      if (seen.has(next)) continue;
      seen.add(next);
      queue.push(next);
    }
  }
  return false;
}

function memoryLeak(view: EvidenceView, key: string): Hypothesis | undefined {
  const cfg = view.config;
  const ep = view.episode(key);
  const ooms = view.facts(key, view.now - cfg.oomWindowMs, view.now).filter(isOom);
  const trend = memoryClimb(view, key);
  const leaking = trend && trend.r2 >= 0.6 && trend.relativePerMinute >= cfg.minLeakPerMinute && trend.end > trend.start * 1.05;
  const memAnomaly = !!ep?.signals.has('memory');
  if (!ooms.length && !leaking && !memAnomaly) return undefined;
  let c = 0;
  const kills = distinctKills(ooms);
  if (kills) c += kills > 1 ? 0.45 : 0.4;
  if (leaking) c += 0.3 * Math.min(1, trend.relativePerMinute / (cfg.minLeakPerMinute * 5)) + 0.1;
  // predict_linear-style: a straight climb that already added half its starting level heads for the limit before any
  // OOMKill; not when new pods (a rollout, a scale-out, replicas coming back) add their memory to the sum.
  const runaway = !!leaking && trend.r2 >= 0.9 && trend.end >= trend.start * 1.5 && !podsChanged(view, key, trend.from);
  if (runaway) c += 0.15;
  if (memAnomaly) c += 0.1;
  if (ep && hasAny(ep.signals, LATENCY_SIGNALS)) c += 0.1;
  const evidence: Evidence[] = [];
  if (trend && leaking) {
    evidence.push({ kind: 'signal-trend', signal: 'memory', slopePerMinute: trend.slopePerMinute, spanMs: trend.to - trend.from, note: `memory grew ${pct(trend.relativePerMinute)}/min from ${formatValue('memory', trend.start)} to ${formatValue('memory', trend.end)} over ${ago(trend.to - trend.from)}` });
  }
  evidence.push(...factEvidence(ooms.slice(-4)), ...anomalyEvidence(ep, cfg, new Set<SignalName>(['memory', ...LATENCY_SIGNALS])));
  const parts: string[] = [];
  if (trend && leaking) parts.push(`memory grew ${pct(trend.relativePerMinute)}/min to ${formatValue('memory', trend.end)} over ${ago(trend.to - trend.from)}${runaway ? ` (from ${formatValue('memory', trend.start)}; at this rate it adds that much again every ${ago((trend.start / trend.slopePerMinute) * 60_000)})` : ''}`);
  else if (memAnomaly) parts.push('memory is above its usual band');
  if (kills) parts.push(`${kills === 1 ? 'a pod was' : `pods were ${kills} times`} OOMKilled`);
  let summary = `${label(key)} ${parts.join(' and ')}`;
  if (ep && hasAny(ep.signals, LATENCY_SIGNALS)) {
    const lat = [...ep.signals].find((s) => LATENCY_SIGNALS.has(s)) as SignalName;
    summary += `; ${rose(view, key, lat, ep.onset)}`;
  }
  return { kind: 'memory-leak', target: parseTargetKey(key), confidence: clamp(c), summary: `${summary}.`, evidence, members: [key], details: { worstPod: worstPod(ooms) } };
}

/** New pods since `from` (a rollout, a scale change, replicas coming back): a service's memory sum steps up without a leak. */
function podsChanged(view: EvidenceView, key: string, from: number): boolean {
  if (view.facts(key, from - view.config.factLagMs, view.now).some((f) => isRelease(f) || f.kind === 'scaled')) return true;
  const available = values(view.frames(key), 'available_replicas', from, view.now).map((p) => p[1]);
  return available.length > 0 && Math.max(...available) !== Math.min(...available);
}

function crashLoop(view: EvidenceView, key: string): Hypothesis | undefined {
  const cfg = view.config;
  const ep = view.episode(key);
  const recent = view.facts(key, view.now - cfg.crashWindowMs, view.now);
  const backoffs = recent.filter(isBackoff);
  const restarts = recent.filter(isRestart);
  const restartCount = restarts.length;
  if (!backoffs.length && restartCount < 2) return undefined;
  let c = 0;
  if (backoffs.length) c += 0.4;
  if (restartCount >= 2) c += 0.2;
  if (restartCount >= 4) c += 0.1;
  const inv = view.inventory(key);
  // Frames are fresher than the inventory for how many replicas are available.
  const frames = view.frames(key);
  const lastAvailable = frames.length ? frames[frames.length - 1].values.available_replicas : undefined;
  const available = lastAvailable ?? inv?.availableReplicas;
  const notReady = (inv !== undefined && available !== undefined && available < inv.replicas) || !!(ep && hasAny(ep.signals, AVAILABILITY_SIGNALS));
  if (notReady) c += 0.15;
  const unhealthy = recent.filter(isUnhealthy);
  if (unhealthy.length) c += 0.05;
  // Restarts that are OOMKills on a climbing memory curve are the leak's symptom, not their own cause.
  const ooms = distinctKills(recent.filter(isOom));
  const trend = memoryClimb(view, key);
  if (ooms > 0 && ooms * 2 >= Math.max(1, restartCount) && trend && trend.relativePerMinute >= cfg.minLeakPerMinute) c -= 0.2;
  // Crashes that began right after a new revision are that release's symptom (bad-release ranks them).
  const firstCrash = Math.min(...[...backoffs, ...restarts].map((f) => f.t));
  const release = view.facts(key, firstCrash - cfg.releaseWindowMs, firstCrash).some(isRelease);
  if (release) c -= 0.15;
  // Likewise after a change of a configmap the pods read: the value is the cause, and new pods crash on it too.
  const ns = parseTargetKey(key).namespace;
  const configChange = !!ns && view.configChanges(ns, firstCrash - cfg.flagWindowMs, firstCrash).some((f) => view.graph.references(key, configMapOf(f)));
  if (configChange) c -= 0.15;
  const pod = worstPod([...backoffs, ...restarts]);
  const parts = [`${restartCount} restart${restartCount === 1 ? '' : 's'} in ${ago(cfg.crashWindowMs)}`];
  if (backoffs.length) parts.push(`BackOff${pod ? ` on ${pod}` : ''}`);
  if (inv && available !== undefined) parts.push(`${available} of ${inv.replicas} replicas available`);
  return {
    kind: 'crash-loop',
    target: parseTargetKey(key),
    confidence: clamp(c),
    summary: `${label(key)} pods are crash-looping: ${parts.join(', ')}.`,
    evidence: [...factEvidence([...backoffs.slice(-3), ...restarts.slice(-3), ...unhealthy.slice(-2)]), ...anomalyEvidence(ep, cfg)],
    members: [key],
    details: { worstPod: pod },
  };
}

/** The service itself fails and callers that depend on it show symptoms that started no earlier. */
function dependencyOutage(view: EvidenceView, key: string): Hypothesis | undefined {
  const cfg = view.config;
  const ep = view.episode(key);
  const down = isDown(view, key);
  const failing = !!ep && (hasAny(ep.signals, ERROR_SIGNALS) || hasAny(ep.signals, AVAILABILITY_SIGNALS));
  if (!failing && !down) return undefined;
  const onset = ep?.onset ?? view.now;
  const callers = symptomaticCallers(view, key, onset);
  if (!callers.length) return undefined;
  let c = 0.45 + Math.min(0.2, 0.1 * (callers.length - 1));
  if (failing) c += 0.1;
  if (down) c += 0.15;
  if (callers.some((k) => hasAny(view.episode(k)!.signals, ERROR_SIGNALS))) c += 0.1;
  const errorsNow = ep ? shift(view, key, 'error_ratio', onset).after : undefined;
  if (errorsNow !== undefined && errorsNow >= 0.3) c += 0.1;
  // An outage fails a real share of calls; a callee up and answering 98% is not one, whatever its band says.
  if (!down && errorsNow !== undefined && errorsNow < 0.05) c -= 0.2;
  // A callee whose own traffic at least doubled before it failed is overloaded, not out: the surge explains its errors.
  if (!down && ep && surgeRatioOf(view, key, ep.onset) >= cfg.surgeRatio) c -= 0.3;
  // Up, and its own callee failing since no later than it, failing at least half the share it fails: that callee's
  // outage fails both, the cause is the most upstream service failing on its own (bench:heal, dependency outage on
  // payments-api: "checkout failing, caller frontend" at 0.75 outranked payments-api's 0.65, checkout restarted).
  if (!down && ep && calleeFailedFirst(view, key, ep.onset, errorsNow)) c -= 0.25;
  const state = down ? 'is down' : `is failing (${rose(view, key, ep ? headlineSignal(ep) : 'error_ratio', onset)})`;
  // symptomaticCallers keeps only callers whose symptoms have a start
  const callerOnset = Math.min(...callers.map((k) => callerSymptomsSince(view.episode(k)!)!));
  const summary = `${label(key)} ${state} and its caller${callers.length > 1 ? 's' : ''} ${callers.map(label).join(', ')} ${callers.length > 1 ? 'show' : 'shows'} errors since ${clock(callerOnset)}.`;
  const evidence: Evidence[] = [...anomalyEvidence(ep, cfg)];
  for (const k of callers) evidence.push(...anomalyEvidence(view.episode(k), cfg).slice(-2));
  // A caller's own release while this callee fails: said in the evidence, so the on-call sees it was weighed.
  for (const k of callers) {
    const rel = view.facts(k, onset - cfg.releaseWindowMs, view.now).filter((f) => f.kind === 'revision-changed').at(-1);
    if (!rel) continue;
    const verdict = view.memo(`blame|${k}|${rel.t}`, () => judgeChange(view, k, rel.t, releaseOf(view, k, rel).what));
    if (!verdict.blamed) evidence.push({ kind: 'coincident-change', fact: rel, note: verdict.reason });
  }
  return {
    kind: 'dependency-outage',
    target: parseTargetKey(key),
    confidence: clamp(c),
    summary,
    evidence,
    members: [key, ...callers],
    details: { affected: callers.map(parseTargetKey) },
  };
}

/**
 * A callee of `key` failing since no later than `onset` (less a tolerance), with at least half `key`'s error ratio; or
 * one with a named incident opened no later: a crash-looping callee fails its callers' calls between its pods' brief
 * ready spells with no 5xx of its own and no episode at that moment (bench:scale on the real control plane: svc-0100's
 * crash loop, and its caller svc-0090 opened "failing, 3 callers show errors" at 0.95 over the crash loop's 0.85).
 */
function calleeFailedFirst(view: EvidenceView, key: string, onset: number, errors: number | undefined): boolean {
  const tol = view.config.onsetToleranceMs;
  if (view.graph.callees(key).some((c) => (view.namedIncident?.(c)?.openedAt ?? Infinity) <= onset + tol)) return true;
  return failingCallees(view, key, onset - tol).some((c) => {
    const cep = view.episode(c.key);
    const since = cep ? cep.onset : isDown(view, c.key) ? -Infinity : Infinity;
    return since <= onset + tol && c.errors >= 0.5 * (errors ?? 0);
  });
}

/** The request rate after an onset over its baseline before it; 0 when either is unknown. */
function surgeRatioOf(view: EvidenceView, key: string, onset: number): number {
  const { before, after } = requestShift(view, key, onset);
  return before !== undefined && after !== undefined && before > 0 ? after / before : 0;
}

/** Callers with errors or latency that began after the callee's trouble (less a tolerance). */
export function symptomaticCallers(view: EvidenceView, callee: string, calleeOnset: number): string[] {
  return view.graph.callers(callee).filter((k) => {
    const e = view.episode(k);
    const since = e && callerSymptomsSince(e);
    return since !== undefined && since >= calleeOnset - view.config.onsetToleranceMs;
  });
}

/**
 * When a service's latest run of errors or latency began (Episode.symptomsSince), else its episode's onset if it had
 * any. An episode lives on for minutes past its last anomaly, so a blip a minute before a callee failed made the
 * caller's episode older than the callee's trouble: the caller did not count as its symptom, and a dependency outage
 * with one caller read as "unknown" (the Istio case of the kube-prometheus names test, once in a clean-clone run).
 * Undefined: no error or latency anomaly in the episode.
 */
export function callerSymptomsSince(ep: Episode): number | undefined {
  return ep.symptomsSince ?? (hasAny(ep.signals, ERROR_SIGNALS) || hasAny(ep.signals, LATENCY_SIGNALS) ? ep.onset : undefined);
}

/** No available replica, by the frames or the inventory. */
export function isDown(view: EvidenceView, key: string): boolean {
  const frames = view.frames(key);
  const last = frames.length ? frames[frames.length - 1].values.available_replicas : undefined;
  if (last !== undefined) return last <= 0;
  const inv = view.inventory(key);
  return !!inv && inv.replicas > 0 && inv.availableReplicas <= 0;
}

function trafficSurge(view: EvidenceView, key: string): Hypothesis | undefined {
  const cfg = view.config;
  const ep = view.episode(key);
  if (!ep) return undefined;
  const { before, after } = requestShift(view, key, ep.onset);
  const ratio = before !== undefined && after !== undefined && before > 0 ? after / before : undefined;
  if (ratio === undefined || ratio < cfg.surgeRatio * 0.7) return undefined;
  // The rate is averaged over its window, so a surge shows first as a steep climb: 15% in one scrape is no daily curve.
  const rates = values(view.frames(key), 'request_rate', ep.onset - cfg.baselineMs, view.now).slice(-2);
  const climbing = rates.length === 2 && rates[0][1] > 0 && rates[1][1] >= rates[0][1] * 1.15;
  let c = ratio >= cfg.surgeRatio ? 0.45 + 0.15 * Math.min(1, (ratio - cfg.surgeRatio) / cfg.surgeRatio) : climbing ? 0.35 : ratio >= cfg.surgeRatio * 0.75 ? 0.25 : 0;
  if (c === 0) return undefined;
  // saturation: slower, busier, or (past its capacity) failing a share of its own requests while its traffic doubled
  const saturated = hasAny(ep.signals, LATENCY_SIGNALS) || ep.signals.has('cpu') || (ratio >= cfg.surgeRatio && hasAny(ep.signals, ERROR_SIGNALS));
  if (saturated) c += 0.2;
  const window = view.facts(key, ep.onset - cfg.releaseWindowMs, view.now);
  const releases = window.filter(isRelease);
  c += releases.length ? -0.2 : 0.1;
  const scaled = window.filter((f) => f.kind === 'scaled');
  if (scaled.length) c += 0.05;
  const sat: string[] = [];
  for (const s of ['latency_p99', 'latency_p95', 'latency_p50', 'cpu'] as SignalName[]) {
    if (!ep.signals.has(s)) continue;
    const sh = shift(view, key, s, ep.onset);
    sat.push(`${signalWords(s)} ${formatValue(s, sh.after)}`);
  }
  const summary = `${label(key)} requests rose ${round(ratio)}x above baseline (${formatValue('request_rate', before)} → ${formatValue('request_rate', after)})${sat.length ? ` with ${sat.join(' and ')}` : ''}${releases.length ? ', though a new revision also rolled out' : ', no new revision'}.`;
  return {
    kind: 'traffic-surge',
    target: parseTargetKey(key),
    confidence: clamp(c),
    summary,
    evidence: [
      { kind: 'signal-trend', signal: 'request_rate', slopePerMinute: ((after! - before!) * 60_000) / Math.max(5_000, view.now - ep.onset), note: `request rate ${round(ratio)}x its baseline of ${formatValue('request_rate', before)}` },
      ...factEvidence([...releases.slice(-1), ...scaled.slice(-2)]),
      ...anomalyEvidence(ep, cfg),
    ],
    members: [key],
    details: { loadRatio: Math.round(ratio * 1000) / 1000 },
  };
}

/** CPU per request that counts as regressed: a quarter more than before the onset. */
const CPU_PER_REQUEST_RATIO = 1.25;
/** How long CPU per request must stay up when the relationship model has not spoken (it is off, or not yet calibrated). */
const CPU_ALONE_MS = 60_000;
/**
 * Standard errors from which a CPU-per-request rise is beyond the noise of the requests counted: 3.09, the one-sided
 * 0.1 % tail of a normal, the false-alarm target the relationship model is calibrated to.
 */
const CPU_PER_REQUEST_SURE = 3.09;
/** Readings before the onset needed to estimate that noise (a robust spread of fewer is itself too uncertain). */
const MIN_NOISE_READINGS = 20;

/**
 * CPU per request before an onset (median of cpu / request_rate over the baseline) and now (the highest of the last
 * three frames, on the last interval alone where the source has it: a 30 s rate window shows a step a sixth at a time).
 * `sigmas`: how far the frames since the onset (the lowest of them) sit above the readings before it, in standard
 * errors of a reading at its own request count. CPU per request over an interval is a mean over the requests counted
 * in it, so its noise shrinks as 1/√n (at a day's trough, some 25 requests in an interval, it wanders by ±10 %), and
 * one fixed ratio cannot suit both a trough and a peak. Each reading before the
 * onset is scaled by √(its request rate) (the interval is the same for all, so the rate stands for the count) and the
 * robust spread of those scaled deviations is the service's own noise per √request, whatever its source: rounding of
 * counters, uneven request costs, GC.
 */
export function cpuPerRequestShift(view: EvidenceView, key: string, onset: number): { before?: number; after?: number; sigmas?: number } {
  return view.memo(`cpuPerRequest|${key}|${onset}`, () => {
    const frames = view.frames(key);
    const ratio = (v: Readonly<Partial<Record<SignalName, number>>> | undefined) => {
      const cpu = v?.cpu;
      const rate = v?.request_rate;
      return cpu !== undefined && rate !== undefined && Number.isFinite(cpu) && Number.isFinite(rate) && rate > 0 ? { r: cpu / rate, rate } : undefined;
    };
    const lastInterval = (f: SampleFrame) => ratio(f.fresh?.cpu !== undefined && f.fresh.request_rate !== undefined ? f.fresh : f.values);
    const before: number[] = [];
    const readings: Array<{ r: number; rate: number }> = [];
    const since: Array<{ r: number; rate: number }> = [];
    let after: number | undefined;
    for (let i = frames.length - 1; i >= 0; i--) {
      const f = frames[i];
      if (f.t < onset - view.config.baselineMs) break;
      if (f.t < onset) {
        const r = ratio(f.values);
        if (r !== undefined) before.push(r.r);
        const fresh = lastInterval(f);
        if (fresh !== undefined) readings.push(fresh);
      } else if (i >= frames.length - 3) {
        const r = lastInterval(f);
        if (r === undefined) continue;
        after = Math.max(after ?? -Infinity, r.r);
        since.push(r);
      }
    }
    return { before: median(before), after, sigmas: standardErrorsAbove(readings, since) };
  });
}

/** The lowest of `since`'s readings above the median of `readings`, in standard errors at its request count (see cpuPerRequestShift). */
function standardErrorsAbove(readings: ReadonlyArray<{ r: number; rate: number }>, since: ReadonlyArray<{ r: number; rate: number }>): number | undefined {
  if (readings.length < MIN_NOISE_READINGS || since.length === 0) return undefined;
  const level = median(readings.map((x) => x.r));
  if (level === undefined || !(level > 0)) return undefined;
  const scaled = (x: { r: number; rate: number }) => (x.r / level - 1) * Math.sqrt(x.rate);
  const noise = robustSummary(readings.map(scaled));
  if (!(noise.sigma > 0)) return undefined;
  return Math.min(...since.map((x) => (scaled(x) - noise.median) / noise.sigma));
}

/**
 * A broken relationship: the service burns more CPU per request than before while its traffic did not rise (that is
 * a surge) and it neither fails nor slows much (those causes name themselves). The relationship model naming CPU
 * makes it at once and adds weight; without it, the rise must last a minute. Remedy, as an SRE would: with no release to
 * blame, a runaway process (a hot loop, a leaking cache, GC thrash) in a pod, so restart the rollout and hand over if
 * that does not bring CPU back into its band. A release blame judges guilty (its own errors or latency worse) is
 * bad-release's, with its rollback; one that only coincides is named here and lowers the confidence.
 */
function cpuHog(view: EvidenceView, key: string): Hypothesis | undefined {
  const ep = view.episode(key);
  if (!ep || !ep.signals.has('cpu')) return undefined;
  const cfg = view.config;
  const perRequest = cpuPerRequestShift(view, key, ep.onset);
  if (perRequest.before === undefined || perRequest.after === undefined || perRequest.before <= 0) return undefined;
  const ratio = perRequest.after / perRequest.before;
  if (ratio < CPU_PER_REQUEST_RATIO) return undefined;
  const requests = requestShift(view, key, ep.onset);
  const traffic = requests.before !== undefined && requests.after !== undefined && requests.before > 0 ? requests.after / requests.before : 1;
  if (traffic >= cfg.surgeRatio * 0.7) return undefined;
  const relationship = ep.anomalies.some((a) => a.reason.startsWith('model:') && (a.contributions.find((c) => c.signal === 'cpu')?.share ?? 0) >= cfg.minContributionShare);
  // without the relationship model's word, a CPU rise must last: a burst of a few samples is no regression
  if (!relationship && ep.last - ep.onset < CPU_ALONE_MS) return undefined;
  const errors = hasAny(ep.signals, ERROR_SIGNALS);
  const latency = hasAny(ep.signals, LATENCY_SIGNALS);
  const releases = view.facts(key, ep.onset - cfg.releaseWindowMs, view.now).filter(isRelease);
  let c = 0.4 + 0.15 * Math.min(1, (ratio - CPU_PER_REQUEST_RATIO) / 0.5);
  if (relationship) c += 0.15;
  // The model's word is a sequential test that no single frame can pass (its CUSUM caps each frame below its
  // threshold), so it already asks what `for 5s` asks of an alert; when the CPU per request since its onset is also
  // beyond the counted requests' own noise, the rise is not in doubt and the model's next frame adds nothing: the
  // incident opens at once (openConfidence), as a fact would open it.
  if (relationship && perRequest.sigmas !== undefined && perRequest.sigmas >= CPU_PER_REQUEST_SURE) c += 0.1;
  if (errors) c -= 0.25;
  else if (latency) c -= 0.05;
  if (releases.length) c -= 0.25;
  const cpu = shift(view, key, 'cpu', ep.onset);
  const summary =
    `${label(key)} burns ${round(ratio)}x the CPU per request it did before (${formatValue('cpu', cpu.before)} → ${formatValue('cpu', cpu.after)} at ` +
    `${formatValue('request_rate', requests.before)} → ${formatValue('request_rate', requests.after)})${relationship ? ': CPU broke its usual relationship with traffic' : ''}` +
    `${releases.length ? ', though a new revision also rolled out' : ', with no release to blame'}.`;
  return {
    kind: 'cpu-hog',
    target: parseTargetKey(key),
    confidence: clamp(c),
    summary,
    evidence: [
      { kind: 'signal-trend', signal: 'cpu', slopePerMinute: cpu.before !== undefined && cpu.after !== undefined ? ((cpu.after - cpu.before) * 60_000) / Math.max(5_000, view.now - ep.onset) : 0, note: `CPU per request ${round(ratio)}x its level before the onset` },
      ...factEvidence(releases.slice(-1)),
      ...anomalyEvidence(ep, cfg),
    ],
    members: [key],
  };
}

function latencySpike(view: EvidenceView, key: string): Hypothesis | undefined {
  const ep = view.episode(key);
  if (!ep || !hasAny(ep.signals, LATENCY_SIGNALS)) return undefined;
  const latencyOnly = [...ep.signals].every((s) => LATENCY_SIGNALS.has(s) || s === 'cpu');
  let c = latencyOnly ? 0.45 : 0.2;
  if (ep.last - ep.onset >= 30_000) c += 0.15;
  else if (latencyOnly && everyRequestSlowed(view, key, ep.onset)) c += 0.15;
  const lat = headlineSignal(ep);
  const summary = `${label(key)} ${rose(view, key, lat, ep.onset)} with ${latencyOnly ? 'no errors, ' : ''}no release, flag change or cluster event to explain it.`;
  return { kind: 'latency-spike', target: parseTargetKey(key), confidence: clamp(c), summary, evidence: anomalyEvidence(ep, view.config, LATENCY_SIGNALS), members: [key] };
}

/**
 * A whole interval since the onset in which every request slowed: its median past the p95 before the onset and its p95
 * the fresh rule's multiple of it (DEFAULT_FRESH_EVIDENCE.latencyRatio). Not a tail of stragglers, nor a partial step:
 * such a spike opens on its first interval. Otherwise it waits for a second anomaly, and a spike that began just after
 * a scrape opened 2.2 intervals after it (bench:heal, frontend × 10, all 3 seeds: the first scrape after it read p95
 * 945 ms and median 371 ms against 96 ms before, whole, and the incident waited for the next).
 */
function everyRequestSlowed(view: EvidenceView, key: string, onset: number): boolean {
  const frames = view.frames(key);
  let i = frames.length - 1;
  while (i >= 0 && frames[i].t >= onset) i--;
  const before = i >= 0 ? frames[i].values.latency_p95 : undefined;
  if (before === undefined || !(before > 0)) return false;
  for (let j = i + 1; j < frames.length; j++) {
    const f = frames[j].fresh;
    if (f?.latency_p50 !== undefined && f.latency_p95 !== undefined && f.latency_p50 >= before && f.latency_p95 >= DEFAULT_FRESH_EVIDENCE.latencyRatio * before) return true;
  }
  return false;
}

function unknown(view: EvidenceView, key: string): Hypothesis | undefined {
  const ep = view.episode(key);
  if (!ep) return undefined;
  const c = Math.min(0.35, 0.1 + 0.25 * ep.maxScore * Math.min(1, ep.count / 4));
  const signals = [...ep.signals].sort().map(signalWords).join(', ');
  return {
    kind: 'unknown',
    target: parseTargetKey(key),
    confidence: clamp(c),
    summary: `${label(key)} shows anomalies on ${signals || 'its signals'} (score ${round(ep.maxScore)}) that no known cause explains yet.`,
    evidence: anomalyEvidence(ep, view.config),
    members: [key],
  };
}

/** A NotReady node, with evictions and the services that run on it showing symptoms. */
export function diagnoseNode(view: EvidenceView, node: string): Hypothesis | undefined {
  const cfg = view.config;
  const facts = view.facts(node, view.now - cfg.nodeWindowMs, view.now);
  const notReady = facts.filter(isNotReady);
  const nodeEp = view.episode(node);
  const evictions = facts.filter(isEviction);
  if (!notReady.length && !(nodeEp && evictions.length)) return undefined;
  const lastNotReady = notReady.length ? notReady[notReady.length - 1].t : view.now;
  const recovered = facts.some((f) => isNodeReady(f) && f.t > lastNotReady);
  const since = notReady.length ? notReady[0].t : evictions[0].t;
  const services = view.graph.servicesOnNode(node).filter((k) => {
    const e = view.episode(k);
    return !!e && e.onset >= since - cfg.nodeLeadMs;
  });
  let c = notReady.length ? (recovered ? 0.3 : 0.6) : 0.3;
  if (evictions.length) c += 0.15;
  c += Math.min(0.24, 0.08 * services.length);
  if (nodeEp) c += 0.05;
  const name = parseTargetKey(node).name;
  // a node whose kubelet and pods stopped answering their scrapes (NodeUnreachable), or whose kubelet stopped renewing its
  // Lease (NodeLeaseExpired), is named before the node monitor's grace period makes it NotReady
  const early = notReady.length > 0 && notReady.every((f) => f.reason === 'NodeLeaseExpired' || f.reason === 'NodeUnreachable');
  const first = notReady[0];
  const lastRenewed = Date.parse(String(first?.attributes?.lastRenewed ?? ''));
  const parts = [
    !early
      ? `node/${name} ${recovered ? 'was' : 'is'} NotReady since ${clock(since)}`
      : first.reason === 'NodeUnreachable'
        ? `node/${name} ${recovered ? 'stopped answering at' : 'has not answered since'} ${clock(since)}${recovered ? ' and answers again' : ` (its kubelet's and ${first.attributes?.pods ?? 'its'} pod(s)' scrapes fail; not NotReady yet)`}`
        : `node/${name} ${recovered ? 'stopped renewing its Lease at' : 'has not renewed its Lease since'} ${clock(Number.isFinite(lastRenewed) ? lastRenewed : since)}${recovered ? ' and renews it again' : ' (its kubelet is down or cut off; not NotReady yet)'}`,
  ];
  if (evictions.length) parts.push(`${evictions.length} pod${evictions.length > 1 ? 's' : ''} evicted`);
  if (services.length) parts.push(`symptoms on ${services.map(label).join(', ')}`);
  const evidence: Evidence[] = [...factEvidence([...notReady.slice(0, 2), ...evictions.slice(0, 4)]), ...anomalyEvidence(nodeEp, cfg)];
  for (const k of services) evidence.push(...anomalyEvidence(view.episode(k), cfg).slice(-1));
  return {
    kind: 'node-failure',
    target: parseTargetKey(node),
    confidence: clamp(c),
    summary: `${parts.join('; ')}.`,
    evidence,
    members: [node, ...services],
    details: { node: name, affected: services.map(parseTargetKey) },
  };
}
