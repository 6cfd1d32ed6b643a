import type { Anomaly } from '../model/anomaly';
import type { Diagnosis, DiagnosisKind, Evidence } from '../model/diagnosis';
import type { ClusterFact } from '../model/fact';
import type { SampleFrame, SignalName } from '../model/signal';
import type { TargetRef } from '../model/target';
import { parseTargetKey, targetKey, targetLabel } from '../model/target';
import { signalDefinition } from '../observe/signalCatalogue';
import type { WorkloadInventory } from '../ports';
import { DependencyGraph } from './dependencyGraph';
import type { Episode, EvidenceView, Hypothesis } from './diagnosisRules';
import { ERROR_SIGNALS, LATENCY_SIGNALS, callerSymptomsSince, diagnoseNode, diagnoseService, isDown, isEviction, isNotReady, rank, symptomSignals } from './diagnosisRules';
import type { CorrelationUpdate, GroupedIncident } from './incidentGrouping';
import { IncidentBook, memberRefs } from './incidentGrouping';
import { resolveCorrelationConfig, type CorrelationConfig } from './correlationConfig';

/** Windows and thresholds of correlation. Times in milliseconds. */

const MAX_EPISODE_ANOMALIES = 24;
const SWEEP_EVERY_MS = 60_000;
const MAX_ALTERNATIVES = 4;
const MIN_ALTERNATIVE = 0.1;
// Rounds in which members named by a cause join its incident; bounds ping-pong between two causes.
const MAX_JOIN_ROUNDS = 3;
/**
 * The rate-window signals (see WINDOWED in the healing loop) that a fix brings back down, so they trail it: what a
 * resolved incident leaves behind. Request rate and CPU follow the traffic, which a fix does not change.
 */
const LAGGING_SIGNALS: ReadonlySet<SignalName> = new Set(['error_ratio', 'latency_p50', 'latency_p95', 'latency_p99', 'restarts']);
/** A lagging signal is rising again (a new problem, not the old one leaving the window) past its low since the fix by both. */
const AFTERGLOW_RISE = 1.5;
/** How long a trailing symptom may hold level before it counts as a cause of its own (see `plateaued`). */
const PLATEAU_MS = 20_000;
const PLATEAU_MIN_ERRORS = 0.05;
const AFTERGLOW_RISE_ABS: Partial<Record<SignalName, number>> = { error_ratio: 0.01, latency_p50: 0.02, latency_p95: 0.05, latency_p99: 0.1 };
/** How many hops down the call graph a caller's candidate causes are followed through callees not yet in an incident. */
const MAX_CAUSE_HOPS = 3;

interface MutableEpisode {
  onset: number;
  last: number;
  count: number;
  maxScore: number;
  signals: Set<SignalName>;
  anomalies: Anomaly[];
  /** The last anomaly of the current run (anomalies no more than the onset tolerance apart). */
  runLast: number;
  /** The current run's first error or latency anomaly. */
  runSymptomsSince?: number;
  /** See Episode.symptomsSince. */
  symptomsSince?: number;
}

interface Entity {
  episode?: MutableEpisode;
  /** A release during an episode it cannot have caused, waiting to see whether the symptoms get worse after it. */
  releasedAt?: number;
  facts: ClusterFact[];
  frames: SampleFrame[];
  /** The detectors' seasonal expectation of each signal at each frame's time, oldest first (see observeExpected). */
  expected?: Array<{ t: number; values: Partial<Record<SignalName, number>> }>;
}

type InventoryEntry = ReturnType<EvidenceView['inventory']>;

/**
 * Streaming event correlation: fed anomalies, cluster facts and sample frames in time order, it keeps
 * a window of each per service and node, diagnoses the cause behind the symptoms and groups the
 * symptoms of one cause into one incident. Time comes only from the inputs, so a replay gives the
 * same updates. Work per input is bounded by the items related to its target.
 */
export class Correlator {
  readonly config: CorrelationConfig;
  readonly graph: DependencyGraph;
  private readonly entities = new Map<string, Entity>();
  private readonly configChanges = new Map<string, ClusterFact[]>();
  private readonly inventoryByKey = new Map<string, NonNullable<InventoryEntry>>();
  private readonly book = new IncidentBook();
  /** Members of resolved incidents, and when they were resolved: their trailing symptoms are not news. */
  private readonly afterglow = new Map<string, number>();
  /** Latest input time: the correlator's only clock. */
  private readonly time = { now: 0 };
  private readonly view: EvidenceView;
  /** Derived values (rule results, trends) of the current state; cleared whenever an input changes it. */
  private readonly cache = new Map<string, unknown>();
  private nextSweep = 0;
  /** Evidence from outside the loop (firing alerts, burning SLOs) per target key; see observeExternalEvidence. */
  private external: ReadonlyMap<string, ReadonlyArray<Evidence>> = new Map();

  /** Settings that were out of range and replaced by their defaults, for the user to fix. */
  readonly configProblems: ReadonlyArray<string>;

  constructor(config: Partial<CorrelationConfig> = {}, graph: DependencyGraph = new DependencyGraph()) {
    const resolved = resolveCorrelationConfig(config);
    this.config = resolved.config;
    this.configProblems = resolved.problems;
    this.graph = graph;
    const time = this.time;
    this.view = {
      get now() {
        return time.now;
      },
      config: this.config,
      graph,
      episode: (k) => this.activeEpisode(k),
      namedIncident: (k) => {
        const inc = this.namedIncidentAt(k);
        return inc && { kind: inc.diagnosis.kind, openedAt: inc.openedAt };
      },
      facts: (k, from, to) => (this.entities.get(k)?.facts ?? []).filter((f) => f.t >= from && f.t <= to),
      configChanges: (ns, from, to) => (this.configChanges.get(ns) ?? []).filter((f) => f.t >= from && f.t <= to),
      frames: (k) => this.entities.get(k)?.frames ?? [],
      expected: (k, signal, at) => {
        const list = this.entities.get(k)?.expected ?? [];
        for (let i = list.length - 1; i >= 0; i--) if (list[i].t <= at) return list[i].values[signal];
        return undefined;
      },
      inventory: (k) => this.inventoryByKey.get(k),
      memo: <T>(k: string, compute: () => T): T => {
        if (this.cache.has(k)) return this.cache.get(k) as T;
        const v = compute();
        this.cache.set(k, v);
        return v;
      },
    };
  }

  /** What runs where, who calls whom (depends-on annotations) and which configmaps each deployment uses. */
  setInventory(inventory: WorkloadInventory): void {
    this.graph.applyInventory(inventory, this.time.now);
    this.inventoryByKey.clear();
    for (const s of inventory.services) {
      this.inventoryByKey.set(targetKey(s.target), { replicas: s.replicas, availableReplicas: s.availableReplicas, revision: s.revision, image: s.image });
    }
  }

  observeAnomaly(a: Anomaly): CorrelationUpdate[] {
    return this.observeAnomalies([a]);
  }

  /**
   * One interval's anomalies, judged together once all are in. Judged one by one, the order they came in decided the
   * cause: a caller fed before its failing callee read its own errors as its own outage and opened an incident rooted
   * at itself, which its callee's anomaly a moment later could not take back (bench:heal, dependency outage on
   * payments-api: 2 of 3 seeds rooted at checkout; bench:scale on the real control plane: one extra incident per caller).
   */
  observeAnomalies(list: ReadonlyArray<Anomaly>): CorrelationUpdate[] {
    const dirty: string[] = [];
    for (const a of list) dirty.push(...this.addToEpisode(a));
    return dirty.length ? this.process(dirty) : [];
  }

  /** Adds an anomaly to its target's episode; returns the keys to re-diagnose. */
  private addToEpisode(a: Anomaly): string[] {
    this.advance(a.t);
    if (!a.isAnomaly) return [];
    const key = this.entityOf(a.target);
    const e = this.entity(key);
    const signals = symptomSignals(a, this.config.minContributionShare);
    if (this.trailsAFix(key, a, signals)) return [];
    if (this.startsAfterRelease(key, a, signals)) e.episode = undefined;
    let ep = e.episode;
    if (!ep || a.t - ep.last > this.config.episodeGapMs) ep = e.episode = { onset: a.t, last: a.t, count: 0, maxScore: 0, signals: new Set(), anomalies: [], runLast: a.t };
    if (a.t - ep.runLast > this.config.onsetToleranceMs) ep.runSymptomsSince = undefined;
    ep.runLast = Math.max(ep.runLast, a.t);
    if (signals.some((s) => ERROR_SIGNALS.has(s) || LATENCY_SIGNALS.has(s))) ep.symptomsSince = ep.runSymptomsSince ??= a.t;
    ep.onset = Math.min(ep.onset, a.t);
    ep.last = Math.max(ep.last, a.t);
    ep.count++;
    ep.maxScore = Math.max(ep.maxScore, a.score);
    for (const s of signals) ep.signals.add(s);
    ep.anomalies.push(a);
    if (ep.anomalies.length > MAX_EPISODE_ANOMALIES) ep.anomalies.shift();
    const dirty = [key];
    // A failing callee may now explain its callers' symptoms; a sick node its services'.
    if (key.startsWith('node:')) dirty.push(...this.graph.servicesOnNode(key));
    else if (signals.some((s) => ERROR_SIGNALS.has(s) || s === 'available_replicas')) dirty.push(...this.graph.callers(key).filter((k) => this.activeEpisode(k)));
    return dirty;
  }

  observeFact(f: ClusterFact): CorrelationUpdate[] {
    this.advance(f.t);
    if (f.kind === 'revision-changed' || f.kind === 'rollout-started') this.noteRelease(targetKey(f.target), f.t);
    if (f.kind === 'configmap-changed') {
      const ns = f.target.namespace ?? '';
      const list = this.configChanges.get(ns) ?? [];
      list.push(f);
      prune(list, this.time.now - this.config.factRetentionMs);
      this.configChanges.set(ns, list);
      return this.process(this.graph.servicesIn(ns).filter((k) => this.activeEpisode(k)));
    }
    const dirty: string[] = [];
    if (f.target.kind === 'pod') {
      const node = typeof f.attributes?.node === 'string' ? f.attributes.node : undefined;
      const service = this.graph.serviceOfPod(f.target);
      if (service && node) this.graph.placePod(f.target, this.graph.ref(service)!, node, f.t);
      const owner = service ?? targetKey(f.target);
      this.addFact(owner, f);
      dirty.push(owner);
      // A node keeps only the pod facts about the node itself (evictions, NotReady marks), not every restart.
      const nodeKey = isEviction(f) || isNotReady(f) ? (node ? `node:${node}` : this.graph.nodeOfPod(f.target)) : undefined;
      if (nodeKey) {
        this.addFact(nodeKey, f);
        dirty.push(nodeKey);
      }
    } else {
      const key = targetKey(f.target);
      this.addFact(key, f);
      dirty.push(key);
      if (f.target.kind === 'node') dirty.push(...this.graph.servicesOnNode(key));
    }
    return this.process(dirty);
  }

  /**
   * What the detectors expected of a target's signals at time t (their seasonal bands' middle): what "normal for this
   * hour" means to the rules, where a median of the last minutes would take a daily peak for a surge.
   */
  observeExpected(target: TargetRef, t: number, values: Partial<Record<SignalName, number>>): void {
    const e = this.entity(this.entityOf(target));
    const list = (e.expected ??= []);
    if (list.length && list[list.length - 1].t >= t) return;
    list.push({ t, values });
    const horizon = t - this.config.frameHistoryMs;
    while (list.length && list[0].t < horizon) list.shift();
  }

  observeFrame(frame: SampleFrame): CorrelationUpdate[] {
    return this.observeFrames([frame]);
  }

  /** Frames feed trends and baselines; they re-diagnose only targets with active symptoms or an incident. */
  observeFrames(frames: ReadonlyArray<SampleFrame>): CorrelationUpdate[] {
    const dirty: string[] = [];
    for (const frame of frames) {
      this.advance(frame.t);
      const key = targetKey(frame.target);
      const e = this.entity(key);
      // Kept in time order (rules bisect it); a late frame is slotted in, a duplicate time replaces.
      let i = e.frames.length;
      while (i > 0 && e.frames[i - 1].t > frame.t) i--;
      if (i > 0 && e.frames[i - 1].t === frame.t) e.frames[i - 1] = frame;
      else e.frames.splice(i, 0, frame);
      const horizon = this.time.now - this.config.frameHistoryMs;
      while (e.frames.length && e.frames[0].t < horizon) e.frames.shift();
      const ep = this.activeEpisode(key);
      if (ep && e.episode && symptomHolds(ep, frame, this.config.minContributionShare)) {
        e.episode.last = Math.max(e.episode.last, frame.t);
        e.episode.count++;
      }
      if (ep || this.book.ofMember(key)) dirty.push(key);
    }
    return this.process(dirty);
  }

  /**
   * The alerts firing and the SLOs burning now, per target key. They join the evidence of the incidents of their
   * targets (never open one: an alert alone is not a symptom Vigil diagnoses); incidents whose set changed are re-reported.
   */
  observeExternalEvidence(t: number, byKey: ReadonlyMap<string, ReadonlyArray<Evidence>>): CorrelationUpdate[] {
    this.advance(t);
    const sig = (list: ReadonlyArray<Evidence> | undefined) => (list ?? []).map(externalId).sort().join('|');
    const changed = [...new Set([...this.external.keys(), ...byKey.keys()])].filter((k) => sig(this.external.get(k)) !== sig(byKey.get(k)));
    this.external = byKey;
    return this.process(changed.filter((k) => this.book.ofMember(k)));
  }

  /** Closes incidents quiet for `incidentIdleMs`; returns their keys. */
  closeIdle(t: number): string[] {
    this.advance(t);
    const closed = this.book.idleSince(this.time.now - this.config.incidentIdleMs);
    for (const inc of closed) this.book.close(inc);
    return closed.filter((i) => i.reported !== undefined).map((i) => i.key);
  }

  /**
   * Forgets an incident the loop closed; new symptoms open a new one. Its members' episodes end with it (their
   * symptoms were its symptoms), so a later cause is judged on its own onset. `resolved`: the problem was fixed,
   * so what its members' rate windows still hold is trailing, not new (see `afterglowMs`).
   */
  closeIncident(incidentKey: string, resolved = false): boolean {
    const inc = this.book.byKey(incidentKey);
    if (!inc) return false;
    for (const m of new Set([...inc.members, inc.root])) {
      const e = this.entities.get(m);
      if (e) e.episode = undefined;
      if (resolved) this.afterglow.set(m, this.time.now);
      else this.afterglow.delete(m);
    }
    this.book.close(inc);
    return true;
  }

  /** Member keys of an open incident (cause first), or none. */
  incidentMembers(incidentKey: string): string[] {
    const inc = this.book.byKey(incidentKey);
    return inc ? memberRefs(inc).map(targetKey) : [];
  }

  /** True while the target (by key) is a member of a reported open incident. */
  inIncident(key: string): boolean {
    return this.book.ofMember(key)?.reported !== undefined;
  }

  /** How many targets the correlator holds state for (memory follows the live cluster, not its history). */
  get trackedTargets(): number {
    return this.entities.size;
  }

  /** The current state of every reported open incident. */
  openIncidents(): CorrelationUpdate[] {
    return this.book
      .all()
      .filter((i) => i.reported !== undefined && i.diagnosis)
      .map((i) => ({ incidentKey: i.key, target: i.diagnosis!.target, diagnosis: i.diagnosis!, isNew: false, members: memberRefs(i) }));
  }

  private advance(t: number): void {
    if (t > this.time.now) this.time.now = t;
    if (this.time.now >= this.nextSweep) {
      this.nextSweep = this.time.now + SWEEP_EVERY_MS;
      this.sweep();
    }
  }

  /** Forgets targets with nothing recent (pods come and go), so memory follows the live cluster. */
  private sweep(): void {
    const now = this.time.now;
    const horizon = Math.max(this.config.frameHistoryMs, this.config.factRetentionMs, this.config.episodeGapMs);
    for (const [key, e] of this.entities) {
      const lastFrame = e.frames.length ? e.frames[e.frames.length - 1].t : -Infinity;
      const lastFact = e.facts.length ? e.facts[e.facts.length - 1].t : -Infinity;
      const lastExpected = e.expected?.length ? e.expected[e.expected.length - 1].t : -Infinity;
      const last = Math.max(lastFrame, lastFact, lastExpected, e.episode?.last ?? -Infinity);
      if (now - last > horizon && !this.book.ofMember(key)) this.entities.delete(key);
    }
    for (const [key, since] of this.afterglow) if (now - since > this.config.afterglowMs) this.afterglow.delete(key);
    for (const [ns, list] of this.configChanges) {
      prune(list, now - this.config.factRetentionMs);
      if (!list.length) this.configChanges.delete(ns);
    }
  }

  private entityOf(target: TargetRef): string {
    if (target.kind === 'pod') return this.graph.serviceOfPod(target) ?? targetKey(target);
    return targetKey(target);
  }

  private entity(key: string): Entity {
    let e = this.entities.get(key);
    if (!e) this.entities.set(key, (e = { facts: [], frames: [] }));
    return e;
  }

  private addFact(key: string, f: ClusterFact): void {
    const e = this.entity(key);
    e.facts.push(f);
    prune(e.facts, this.time.now - this.config.factRetentionMs);
    const inc = this.book.ofMember(key);
    if (inc) inc.lastActivity = Math.max(inc.lastActivity, f.t);
  }

  /**
   * True for an anomaly of a just-fixed target that only repeats what its rate windows still hold: every symptom
   * on a lagging signal, none of them worse than its best since the fix (see `worseSince`).
   */
  private trailsAFix(key: string, a: Anomaly, signals: ReadonlyArray<SignalName>): boolean {
    const since = this.afterglow.get(key);
    if (since === undefined) return false;
    const lagging = signals.length > 0 && signals.every((s) => LAGGING_SIGNALS.has(s)) && a.t - since <= this.config.afterglowMs;
    if (lagging && !this.worseSince(key, a, signals, since) && !this.plateaued(key, a, signals, since)) return true;
    this.afterglow.delete(key);
    return false;
  }

  /**
   * True when a symptom has stopped fading: a rate window emptying of the bad minutes only falls, so a signal that
   * has not fallen over the last PLATEAU_MS (well after the fix) is held up by a cause of its own — a caller's own bad
   * release that its callee's fixed failure was hiding.
   */
  private plateaued(key: string, a: Anomaly, signals: ReadonlyArray<SignalName>, since: number): boolean {
    if (a.t - since < 2 * PLATEAU_MS) return false;
    const frames = this.entities.get(key)?.frames ?? [];
    let i = frames.length - 1;
    while (i >= 0 && frames[i].t > a.t - PLATEAU_MS) i--;
    if (i < 0 || frames[i].t <= since) return false;
    const then = frames[i].values;
    // errors only, and a real share of them: a service at its daily peak holding a percent or two is no new cause
    return signals.includes('error_ratio') && (() => {
      const now = a.contributions.find((c) => c.signal === 'error_ratio')?.observed;
      const was = then.error_ratio;
      if (now === undefined || was === undefined || !Number.isFinite(now) || !Number.isFinite(was)) return false;
      return now >= PLATEAU_MIN_ERRORS && now >= was * 0.95;
    })();
  }

  /**
   * True when one of the anomaly's symptom signals is plainly worse than its best level since `since` (counting
   * the last frame before it): by `AFTERGLOW_RISE` and by that signal's absolute step. Where the frame has the last
   * interval alone (`fresh`), that must be worse too: a rate window can climb after a fix while no bad request comes
   * in, as a rollout's old pods' series leave it before their errors do (bench:heal, a rolled-back release: frontend's
   * windowed 5xx 6.9 % → 10.5 % five seconds after the verdict, its last interval 0 %; the episode that began there
   * opened a "traffic surge" 145 s later, a relapse on a healed service).
   */
  private worseSince(key: string, a: Anomaly, signals: ReadonlyArray<SignalName>, since: number): boolean {
    const frames = this.entities.get(key)?.frames ?? [];
    let from = frames.length;
    while (from > 0 && frames[from - 1].t > since) from--;
    from = Math.max(0, from - 1);
    const frame = frames.find((f) => f.t === a.t);
    return signals.some((s) => {
      const now = a.contributions.find((c) => c.signal === s)?.observed ?? frame?.values[s];
      if (now === undefined || !Number.isFinite(now)) return false;
      const up = signalDefinition(s).bad !== 'down';
      let best = up ? Infinity : -Infinity;
      for (let i = from; i < frames.length && frames[i].t < a.t; i++) {
        const v = frames[i].values[s];
        if (v !== undefined && Number.isFinite(v)) best = up ? Math.min(best, v) : Math.max(best, v);
      }
      if (!Number.isFinite(best)) return false;
      const step = AFTERGLOW_RISE_ABS[s] ?? 0;
      const worse = (v: number) => (up ? v > best * AFTERGLOW_RISE && v - best > step : v * AFTERGLOW_RISE < best && best - v > step);
      const fresh = frame?.fresh?.[s];
      return worse(now) && (fresh === undefined || !Number.isFinite(fresh) || worse(fresh));
    });
  }

  /**
   * A release lands on a target whose symptoms began well before it, with no incident naming their cause (none
   * at all, or an unexplained one: an escalated or unreported problem). If the symptoms get plainly worse after
   * it, the release is judged on its own: the episode starts again at that anomaly.
   */
  private noteRelease(key: string, t: number): void {
    const e = this.entities.get(key);
    const ep = this.activeEpisode(key);
    if (!e || !ep || t <= ep.onset + this.config.factLagMs) return;
    const inc = this.book.ofMember(key);
    if (inc && inc.diagnosis && inc.diagnosis.kind !== 'unknown') return;
    e.releasedAt = t;
  }

  /** After `noteRelease`: true when this anomaly is the release's own (worse than before it), so a new episode begins. */
  private startsAfterRelease(key: string, a: Anomaly, signals: ReadonlyArray<SignalName>): boolean {
    const e = this.entities.get(key);
    const at = e?.releasedAt;
    if (!e || at === undefined || a.t < at) return false;
    if (a.t - at > this.config.releaseWindowMs) {
      e.releasedAt = undefined;
      return false;
    }
    if (!this.worseSince(key, a, signals, at)) return false;
    e.releasedAt = undefined;
    return true;
  }

  private activeEpisode(key: string): Episode | undefined {
    const ep = this.entities.get(key)?.episode;
    return ep && this.time.now - ep.last <= this.config.episodeGapMs ? ep : undefined;
  }

  /**
   * Re-diagnoses the dirty targets and regroups them; members a cause names (callers of a failed callee,
   * services on a failed node) join in further rounds. Only then are changed incidents reported, so a
   * grouping settled within one input is never reported half-done.
   */
  private process(dirty: ReadonlyArray<string>): CorrelationUpdate[] {
    this.cache.clear();
    const visits = new Map<string, number>();
    const touched = new Set<GroupedIncident>();
    let queue = [...new Set(dirty)].sort();
    for (let round = 0; queue.length && round <= MAX_JOIN_ROUNDS; round++) {
      for (const key of queue) {
        const n = visits.get(key) ?? 0;
        if (n >= 2) continue;
        visits.set(key, n + 1);
        const inc = this.assign(key);
        if (inc) touched.add(inc);
      }
      const next: string[] = [];
      for (const inc of this.live(touched)) this.refresh(inc, next);
      queue = [...new Set(next)].sort();
    }
    const updates: CorrelationUpdate[] = [];
    for (const inc of this.live(touched)) {
      const u = this.report(inc);
      if (u) updates.push(u);
    }
    return updates;
  }

  private live(incidents: Set<GroupedIncident>): GroupedIncident[] {
    return [...incidents].filter((i) => !i.closed).sort((a, b) => a.openedAt - b.openedAt || (a.key < b.key ? -1 : 1));
  }

  /**
   * Candidate causes of one target's symptoms: its own, a failing callee's, a failed node's. A failing callee not yet in
   * an incident offers its own best candidate, which may lie further down (`depth` hops, a cycle in the graph ends
   * there): a caller two hops up fed before its callee in the same interval read that callee as the cause and opened
   * an incident rooted at it, beside the one its callee then joined (bench:scale on the real control plane: a crash
   * loop and 4 more "dependency outage" incidents, one per failing caller, each proposing a restart of a healthy service).
   *
   * So does a failing callee in an incident opened earlier in the same round, whose diagnosis comes only when the round
   * ends, while the target judged (`forOpen`, the target at depth 0) is in no reported incident. bench:heal's dependency
   * outage beside bench:diagnose, 3 of 3 seeds: frontend's errors showed one interval before its callees'; in the next
   * interval payments-api opened its outage first, checkout then read its callee as failing with no cause named yet, and
   * frontend opened "checkout is failing, its caller frontend shows errors" (0.4) beside it: checkout, healthy, was
   * restarted before the next interval folded that incident into payments-api's. A target whose incident is reported
   * (a step may have run) keeps waiting for the callee's diagnosis, so a new cause is reported as its own incident
   * before anything joins it (`replay.test.ts`: checkout's bad release during frontend's verification).
   */
  private candidates(key: string, depth = 0, forOpen = this.book.ofMember(key)?.reported === undefined): Hypothesis[] {
    if (key.startsWith('node:')) return [...this.nodeCauses(key)];
    const out = [...this.serviceCauses(key)];
    const ep = this.activeEpisode(key);
    if (!ep) return out;
    const since = callerSymptomsSince(ep) ?? ep.onset;
    for (const callee of this.graph.callees(key)) {
      const cep = this.activeEpisode(callee);
      const inc = this.book.ofMember(callee);
      // A callee with its own named incident (pods crash-looping between brief ready spells) fails its callers' calls too.
      const named = this.namedIncidentAt(callee);
      const failing = (cep && [...cep.signals].some((s) => ERROR_SIGNALS.has(s) || s === 'available_replicas')) || isDown(this.view, callee) || named;
      if (!failing || (cep && since < cep.onset - this.config.onsetToleranceMs) || (named && since < named.openedAt - this.config.onsetToleranceMs)) continue;
      if (inc?.diagnosis && inc.root !== key) out.push(fromDiagnosis(inc.diagnosis));
      else if (!inc || (!inc.diagnosis && forOpen)) {
        const top = (depth < MAX_CAUSE_HOPS ? this.candidates(callee, depth + 1, forOpen) : this.serviceCauses(callee))[0];
        if (top && top.kind !== 'unknown') out.push(top);
      }
    }
    for (const node of this.graph.nodesOfService(key)) {
      const h = this.nodeCauses(node)[0];
      if (h && h.members.includes(key)) out.push(h);
    }
    return rank(out);
  }

  /** The reported incident a service is the named cause of and a member of: its own failure, whatever its symptoms read now. */
  private namedIncidentAt(key: string): (GroupedIncident & { diagnosis: Diagnosis }) | undefined {
    const inc = this.book.ofMember(key);
    return inc?.diagnosis && inc.reported !== undefined && inc.root === key && inc.diagnosis.kind !== 'unknown' ? (inc as GroupedIncident & { diagnosis: Diagnosis }) : undefined;
  }

  private serviceCauses(key: string): ReadonlyArray<Hypothesis> {
    return this.view.memo(`service|${key}`, () => diagnoseService(this.view, key));
  }

  private nodeCauses(node: string): ReadonlyArray<Hypothesis> {
    return this.view.memo(`node|${node}`, () => {
      const h = diagnoseNode(this.view, node);
      return h ? [h] : [];
    });
  }

  private assign(key: string): GroupedIncident | undefined {
    const ranked = this.candidates(key);
    const current = this.book.ofMember(key);
    if (!ranked.length) return current;
    let best = ranked[0];
    if (current) {
      const stay = ranked.find((h) => targetKey(h.target) === current.root);
      if (stay && stay.confidence >= best.confidence - this.config.switchMargin) best = stay;
    }
    const root = targetKey(best.target);
    let target = this.book.rootedAt(root);
    if (!target) {
      if (current && current.root === key) target = this.book.reroot(current, root);
      else {
        if (!this.mayOpen(key, best)) return current;
        target = this.book.open(root, this.time.now);
      }
    }
    const emptied = this.book.place(key, target, this.time.now);
    target.competing.set(
      key,
      ranked.filter((h) => h !== best && h.kind !== best.kind).map((h) => ({ kind: h.kind, confidence: h.confidence })),
    );
    if (emptied) target = this.book.merge(emptied, target);
    else if (current && current !== target && current.root === key) {
      // The cause moved away from this incident: its other members follow it, their symptoms were its.
      for (const m of [...current.members].sort()) this.book.place(m, target, this.time.now);
      target = this.book.merge(current, target);
    }
    return target;
  }

  private mayOpen(key: string, best: Hypothesis): boolean {
    if (best.confidence < this.config.minConfidence) return false;
    if (best.confidence >= this.config.openConfidence) return true;
    const ep = this.activeEpisode(key);
    // A cause that cannot be named yet waits one settle longer: a caller's errors or a fact may name it a scrape later.
    const settle = best.kind === 'unknown' ? 2 * this.config.settleMs : this.config.settleMs;
    return !!ep && ep.count >= this.config.minAnomaliesToOpen && ep.last - ep.onset >= settle && this.time.now - ep.last <= this.config.currentSymptomsMs;
  }

  /** Recomputes the incident's diagnosis from its cause; queues the members that cause names but the incident lacks. */
  private refresh(inc: GroupedIncident, queue: string[]): void {
    const ranked = inc.root.startsWith('node:') ? this.nodeCauses(inc.root) : this.serviceCauses(inc.root);
    const top = ranked[0];
    if (!top) return;
    for (const m of top.members) if (!inc.members.has(m) && (this.activeEpisode(m) || m === inc.root)) queue.push(m);
    // Members reached through another member (a caller's caller, a caller of a service on the node).
    const named = new Set(top.members);
    const indirect = [...inc.members].filter((m) => !named.has(m) && m !== inc.root).sort();
    const summary = indirect.length ? `${top.summary.replace(/\.$/, '')}; also affected: ${indirect.map((k) => targetLabel(parseTargetKey(k))).join(', ')}.` : top.summary;
    const details = indirect.length ? { ...top.details, affected: [...(top.details?.affected ?? []), ...indirect.map(parseTargetKey)] } : top.details;
    inc.diagnosis = {
      kind: top.kind,
      target: top.target,
      confidence: round3(top.confidence),
      t: this.time.now,
      summary,
      evidence: [...top.evidence, ...[inc.root, ...[...inc.members].sort()].flatMap((k, i, all) => (all.indexOf(k) === i ? (this.external.get(k) ?? []) : []))],
      alternatives: alternatives(top.kind, ranked.slice(1), inc.competing.values()),
      ...(details ? { details } : {}),
    };
  }

  private report(inc: GroupedIncident): CorrelationUpdate | undefined {
    const d = inc.diagnosis;
    if (!d) return undefined;
    const members = memberRefs(inc);
    // New facts, members or ranked alternatives are news; a moving number in the summary alone is not.
    const facts = d.evidence.filter((e) => e.kind === 'fact').length;
    const external = d.evidence.filter((e) => e.kind === 'alert' || e.kind === 'slo-burn').map(externalId).sort().join('+');
    const alts = (d.alternatives ?? []).map((a) => a.kind).join(',');
    // a load measured afresh is news when it sizes a scale-out differently (a surge read on part of its first interval)
    const load = d.details?.loadRatio !== undefined ? Math.round(d.details.loadRatio * 2) / 2 : '';
    const signature = [d.kind, inc.root, Math.round(d.confidence / this.config.confidenceStep), facts, external, alts, members.map(targetKey).join(','), load].join('|');
    if (signature === inc.reported && !inc.absorbed.length) return undefined;
    const isNew = inc.reported === undefined;
    inc.reported = signature;
    const absorbed = inc.absorbed.splice(0);
    return { incidentKey: inc.key, target: d.target, diagnosis: d, isNew, members, ...(absorbed.length ? { absorbed } : {}) };
  }
}

/**
 * Latency steady enough in a short rate window to say a symptom is still there (p99 of a quiet service swings 3x);
 * errors need no help, their rules repeat while they fire.
 */
const HOLDING_SIGNALS: ReadonlySet<SignalName> = new Set(['latency_p50', 'latency_p95']);

/**
 * The statistical detector alerts once per problem, then keeps quiet. Latency still past its band, at least half as
 * far as when it was flagged and twice its usual level, is the same symptom going on.
 */
function symptomHolds(ep: Episode, frame: SampleFrame, minShare: number): boolean {
  if (frame.t <= ep.last) return false;
  for (let i = ep.anomalies.length - 1; i >= 0; i--) {
    for (const c of ep.anomalies[i].contributions) {
      if (!c.band || c.observed === undefined || c.share < minShare || !HOLDING_SIGNALS.has(c.signal)) continue;
      const v = frame.values[c.signal];
      if (v === undefined || !Number.isFinite(v)) continue;
      const up = signalDefinition(c.signal).bad !== 'down';
      const flagged = up ? c.observed - c.band.expected : c.band.expected - c.observed;
      const now = up ? v - c.band.expected : c.band.expected - v;
      const wasOutside = up ? c.observed > c.band.upper : c.observed < c.band.lower;
      const outside = up ? v > c.band.upper : v < c.band.lower;
      const plainlyWorse = v >= 2 * c.band.expected;
      if (wasOutside && outside && plainlyWorse && now >= 0.5 * flagged) return true;
    }
  }
  return false;
}

function fromDiagnosis(d: Diagnosis): Hypothesis {
  return { kind: d.kind, target: d.target, confidence: d.confidence, summary: d.summary, evidence: d.evidence, members: [], details: d.details };
}

function alternatives(
  top: DiagnosisKind,
  own: ReadonlyArray<Hypothesis>,
  competing: Iterable<ReadonlyArray<{ readonly kind: DiagnosisKind; readonly confidence: number }>>,
): Array<{ kind: DiagnosisKind; confidence: number }> {
  const best = new Map<DiagnosisKind, number>();
  const add = (kind: DiagnosisKind, c: number) => {
    if (kind !== top && c >= MIN_ALTERNATIVE && c > (best.get(kind) ?? -1)) best.set(kind, c);
  };
  for (const h of own) add(h.kind, h.confidence);
  for (const list of competing) for (const a of list) add(a.kind, a.confidence);
  return [...best]
    .map(([kind, confidence]) => ({ kind, confidence: round3(confidence) }))
    .sort((a, b) => b.confidence - a.confidence || (a.kind < b.kind ? -1 : 1))
    .slice(0, MAX_ALTERNATIVES);
}

function prune(list: ClusterFact[], before: number): void {
  while (list.length && list[0].t < before) list.shift();
}

/** What makes an alert or a burning SLO news: which alert, which SLO and which window pair. */
function externalId(e: Evidence): string {
  if (e.kind === 'alert') return `alert:${e.alert.fingerprint}`;
  if (e.kind === 'slo-burn') return `slo:${e.slo}:${e.factor}`;
  return e.kind;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
