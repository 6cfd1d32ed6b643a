import { ClusterError } from '../act/clusterError';
import type { Rule } from '../detect/rules';
import { createHealingCore } from '../loop/healingCore';
import { compareArrival } from '../loop/incidentRecorder';
import { MemoryStore } from '../loop/memoryStore';
import { VirtualClock } from '../loop/virtualClock';
import { describeAction, type ActionResult, type ActionSpec } from '../model/action';
import { DIAGNOSIS_TITLES, type DiagnosisKind } from '../model/diagnosis';
import type { ClusterFact } from '../model/fact';
import { describeTimelineEntry, diagnosisActedOn, type Incident, type IncidentRecording, type TimelineEntry } from '../model/incident';
import type { Playbook } from '../model/playbook';
import type { Band, SampleFrame, SignalName } from '../model/signal';
import { targetKey, targetLabel } from '../model/target';
import type { ClusterPort, Disposable, EventsPort, LoggerPort, MetricsPort, StorePort, WorkloadInventory } from '../ports';
import { DEFAULT_SETTINGS, type VigilSettings } from '../settings';
import { LEARNING_STATE } from './thresholdTuning';

/** One line of a replayed timeline: a recorded fact, or what the replayed core did (a timeline entry's kind). */
export interface ReplayEvent {
  readonly t: number;
  readonly kind: 'fact' | TimelineEntry['kind'];
  readonly text: string;
}

/** The decisions of one run of an incident: when it was detected, on what diagnosis, which steps in which order. */
export interface ReplayOutcome {
  readonly firstDetection?: number;
  readonly diagnosis?: DiagnosisKind;
  readonly firstAction?: string;
  /** `step-id ran|failed|proposed (action kind)`, in order. */
  readonly steps?: ReadonlyArray<string>;
  readonly outcome?: string;
}

export interface ReplayResult {
  readonly incidentId: string;
  readonly events: ReadonlyArray<ReplayEvent>;
  readonly replayed: ReplayOutcome;
  readonly recorded: ReplayOutcome;
  /** Plain sentences: "detected 10 s earlier", "same diagnosis", "different first action: …". */
  readonly comparison: ReadonlyArray<string>;
  /** Replay reached the live decisions: detection within one interval, same diagnosis, same steps in order. */
  readonly equivalent?: { readonly detection: boolean; readonly diagnosis: boolean; readonly steps: boolean; readonly all: boolean };
  /** What replay could not take from the recording and assumed instead. */
  readonly notes?: ReadonlyArray<string>;
  /** The recorded target's values and expected bands after each interval of the replayed core (the room's charts). */
  readonly series?: ReadonlyArray<{ readonly t: number; readonly values: Readonly<Partial<Record<SignalName, number>>>; readonly bands: Readonly<Partial<Record<SignalName, Band>>> }>;
  /** The other incidents the replayed core opened (neighbours' symptoms in the recording), with their decisions. */
  readonly others?: ReadonlyArray<ReplayOutcome & { readonly target: string }>;
}

/** Anything left out is taken from the recording (unchanged configuration); given, it is today's (a what-if). */
export interface ReplayConfig {
  readonly playbooks?: ReadonlyArray<Playbook>;
  readonly settings?: VigilSettings;
  readonly rules?: ReadonlyArray<Rule>;
}

const silent: LoggerPort = { log: () => undefined, child: () => silent };
const none: Disposable = { dispose: () => undefined };

/**
 * Runs the live core (createHealingCore) again on an incident's recording: a virtual clock, the recorded frames and
 * facts delivered when the core first received them, the recorded inventory, a dry ClusterPort answering each call
 * as the cluster did then, and a store seeded with the detector, learner, recovery and remediator state recorded
 * before the first symptom. The humans' recorded approvals are given again. Compares what the core decides now
 * with what it decided then.
 */
export async function replayIncident(incident: Incident, config: ReplayConfig = {}): Promise<ReplayResult> {
  const rec = incident.recording;
  const start = rec.start;
  const notes: string[] = [];
  if (!start) notes.push('recorded before replay state was captured: detectors start cold; learned thresholds, holds and history are empty');
  for (const x of start?.notCaptured ?? []) notes.push(`not in the recording: ${x}`);
  if (rec.truncated) notes.push(`recording incomplete: ${rec.truncated}`);
  const settings = config.settings ?? start?.settings ?? DEFAULT_SETTINGS;
  const playbooks = config.playbooks ?? start?.playbooks ?? [];
  if (!config.playbooks && !start) notes.push('no playbooks recorded and none given: every diagnosis escalates');

  const inputs = orderedInputs(rec);
  const firstAt = inputs[0]?.at ?? incident.openedAt;
  const clock = new VirtualClock(firstAt - 1);
  const store = new MemoryStore();
  await seed(store, incident);

  const inventory = new InventoryReader(rec, clock);
  let onFrames: (frames: ReadonlyArray<SampleFrame>) => void = () => undefined;
  let onFact: (fact: ClusterFact) => void = () => undefined;
  const metrics: MetricsPort = {
    discoverTargets: async () => [],
    range: async (from, to) => rec.frames.filter((f) => f.t >= from && f.t <= to),
    subscribe: (cb) => ((onFrames = cb), none),
    onStatus: () => none,
  };
  const facts: EventsPort = {
    inventory: () => inventory.read(),
    subscribe: (cb) => ((onFact = cb), none),
    onStatus: () => none,
    recentLogs: async (target, limit) => rec.logs.filter((l) => l.pod.namespace === target.namespace && l.pod.name.startsWith(target.name)).slice(-limit),
  };
  const cluster = new RecordedCluster(rec, clock);
  // the replayed incident: the first one opened with the recorded correlation key (or on the recorded target). Until
  // it opens (the lead-in; at the latest until the recorded opening, for a what-if that opens it elsewhere or later),
  // the core only detects and correlates: what the live core decided then is in the seeded state (history, past incidents)
  let counterpart: string | undefined;
  const core = createHealingCore({ clock, logger: silent, store, cluster, metrics, events: facts }, settings, {
    identity: start?.identity ?? 'vigil-replay',
    playbooks: () => playbooks,
    lease: false,
    learn: false,
    rules: config.rules,
    holdDecisions: () => start !== undefined && counterpart === undefined && clock.now() < incident.openedAt,
  });
  // incidents the live core had at the opening, closed or open: not the replayed one, not replayed
  const past = new Set([...(start?.pastIncidents ?? []), ...(start?.openIncidents ?? [])].map((i) => i.id));
  const humans = new RecordedHumans(incident, clock, core.remediator);
  const recordedKey = targetKey(incident.target);
  const series: Array<NonNullable<ReplayResult['series']>[number]> = [];
  const bandSub = core.pipeline.onSnapshot((snap) => {
    const mine = snap.targets.find((x) => targetKey(x.target) === recordedKey);
    if (mine && series[series.length - 1]?.t !== snap.t) series.push({ t: snap.t, values: mine.values, bands: mine.bands });
  });
  const sub = core.remediator.onChange((i) => {
    if (past.has(i.id)) return;
    if (counterpart === undefined && ((incident.correlationKey !== undefined && i.correlationKey === incident.correlationKey) || targetKey(i.target) === recordedKey)) {
      counterpart = i.id;
      // its decisions' and verifications' reads are answered by the live reads recorded from its opening on
      inventory.opened();
      cluster.counterpart = i.id;
    }
    humans.onChange(i);
  });
  await core.start();
  for (const input of inputs) {
    await clock.advanceTo(input.at);
    if (input.frames) {
      inventory.batchAt = input.at;
      onFrames(input.frames);
      inventory.batchAt = undefined;
    }
    else if (input.fact) onFact(input.fact);
  }
  // until the live incident closed (its verification read the frames up to then), and one interval more
  const intervalMs = settings.prometheus.scrapeIntervalSeconds * 1000;
  await clock.advanceTo(Math.max(clock.now(), incident.outcome?.t ?? incident.updatedAt) + intervalMs);
  sub.dispose();
  bandSub.dispose();
  const opened = core.remediator.list().filter((i) => !past.has(i.id));
  const replayedIncident = opened.find((i) => i.id === counterpart) ?? pick(opened, incident);
  await core.dispose();
  if (cluster.unrecorded.length) notes.push(`not in the recording, answered as a dry run: ${[...new Set(cluster.unrecorded)].join('; ')}`);

  const recorded = decisionsOf(incident);
  const replayed: ReplayOutcome = replayedIncident ? decisionsOf(replayedIncident) : { steps: [] };
  const events: ReplayEvent[] = [
    ...rec.facts.map((f) => ({ t: f.t, kind: 'fact' as const, text: `${f.reason ?? f.kind} ${targetLabel(f.target)}: ${f.message}` })),
    ...(replayedIncident?.timeline ?? []).map((e) => ({ t: e.t, kind: e.kind, text: describeTimelineEntry(e) })),
  ].sort((a, b) => a.t - b.t);
  const detection = recorded.firstDetection !== undefined && replayed.firstDetection !== undefined && Math.abs(replayed.firstDetection - recorded.firstDetection) <= intervalMs;
  const diagnosis = recorded.diagnosis === replayed.diagnosis;
  const steps = stepsOf(recorded).join('\n') === stepsOf(replayed).join('\n');
  return {
    incidentId: incident.id,
    events,
    replayed,
    recorded,
    comparison: compare(recorded, replayed),
    equivalent: { detection, diagnosis, steps, all: detection && diagnosis && steps },
    notes,
    series,
    others: opened.filter((i) => i !== replayedIncident).map((i) => ({ target: targetKey(i.target), ...decisionsOf(i) })),
  };
}

interface Input {
  readonly at: number;
  readonly seq: number;
  readonly frames?: SampleFrame[];
  readonly fact?: ClusterFact;
}

/** Frames in the batches the core received them in, and facts, in arrival order (facts first at equal times when old recordings lack arrivals). */
function orderedInputs(rec: IncidentRecording): Input[] {
  const batches = new Map<string, { at: number; seq: number; frames: SampleFrame[] }>();
  rec.frames.forEach((frame, k) => {
    const [at, seq] = rec.frameArrivals?.[k] ?? [frame.t, 1];
    const id = `${at}|${seq}`;
    let b = batches.get(id);
    if (!b) batches.set(id, (b = { at, seq, frames: [] }));
    b.frames.push(frame);
  });
  const facts: Input[] = rec.facts.map((fact, k) => {
    const [at, seq] = rec.factArrivals?.[k] ?? [fact.t, 0];
    return { at, seq, fact };
  });
  return [...batches.values(), ...facts].sort((a, b) => compareArrival([a.at, a.seq], [b.at, b.seq]));
}

/** The store as the live core had it where replay starts: detector, learner, recovery and remediator state, past steps. */
async function seed(store: StorePort, incident: Incident): Promise<void> {
  const start = incident.recording.start;
  if (!start) return;
  await store.writeState('detectors', start.detectors);
  if (start.learning) await store.writeState(LEARNING_STATE, start.learning);
  // the incidents open at the opening keep their keys: their updates go to them, as they did live
  const openByKey: Record<string, string> = {};
  for (const i of start.openIncidents ?? []) if (i.correlationKey) openByKey[i.correlationKey] = i.id;
  await store.writeState('engine', { ...start.engine, history: [...start.engine.history], openByKey, seq: 0, recovery: start.recovery });
  for (const i of [...start.pastIncidents, ...(start.openIncidents ?? [])]) await store.saveIncident(i);
}

/**
 * The inventory as the live core read it. The pipeline's read at the start of an interval is the one it made with
 * that batch. A decision's or a verification's read gets the next such live read at or after this moment, in order:
 * live reads came milliseconds after the input that caused them (store writes, calls) while the virtual clock has no
 * such delays, so a decision's second read sees what the live decision's second read saw.
 */
class InventoryReader {
  /** Set while a recorded batch is delivered: the pipeline reads the inventory of that interval. */
  batchAt: number | undefined;
  private cursor = -1;
  private readonly list: NonNullable<IncidentRecording['inventory']>;
  private readonly reads: NonNullable<IncidentRecording['inventoryReads']>;

  constructor(
    rec: IncidentRecording,
    private readonly clock: VirtualClock,
  ) {
    this.list = rec.inventory ?? [];
    this.reads = rec.inventoryReads ?? [];
  }

  /**
   * The recorder notes a decision's or a verification's reads from the incident's opening on. Before the replayed
   * incident opens, such a read (another incident of the lead-in) gets the inventory in force then and does not
   * take a live read meant for the incident's own decisions.
   */
  opened(): void {
    this.open = true;
  }

  private open = false;

  read(): WorkloadInventory {
    const now = this.clock.now();
    const { reads, list } = this;
    let k: number | undefined;
    if (this.batchAt !== undefined) {
      const at = this.batchAt;
      k = reads.find((r) => r[2] === 1 && r[0] >= at)?.[1];
    } else if (this.open && reads.some((r) => !r[2])) {
      let i = this.cursor + 1;
      while (i < reads.length && (reads[i][2] || reads[i][0] < now)) i++;
      if (i < reads.length) this.cursor = i;
      k = reads[Math.min(i, reads.length - 1)][1];
    }
    const inv = k !== undefined ? list[k]?.inventory : undefined;
    if (inv) return inv;
    let out = list[0]?.inventory;
    for (const x of list) if (x.at <= now) out = x.inventory;
    return out ?? { services: [], nodes: [] };
  }
}

/** The ClusterPort of a replay: each call answered as recorded, in order; a call not recorded is a dry run. */
class RecordedCluster implements ClusterPort {
  private readonly calls = new Map<string, Array<NonNullable<IncidentRecording['writes']>[number]>>();
  readonly unrecorded: string[] = [];
  /** The replayed incident: the recorded writes are its own; another incident's call is a dry run. */
  counterpart: string | undefined;

  constructor(
    private readonly rec: IncidentRecording,
    private readonly clock: VirtualClock,
  ) {
    for (const w of rec.writes ?? []) {
      const key = `${w.dryRun}|${describeAction(w.action)}`;
      this.calls.set(key, [...(this.calls.get(key) ?? []), w]);
    }
  }

  async execute(action: ActionSpec, options: { readonly dryRun: boolean; readonly actionId?: string }): Promise<ActionResult> {
    const own = !options.actionId || (this.counterpart !== undefined && options.actionId.startsWith(`${this.counterpart}/`));
    const w = own ? this.calls.get(`${options.dryRun}|${describeAction(action)}`)?.shift() : undefined;
    // the call takes as long as it did live, so the verification after it starts when it did
    const wait = (w?.doneAt ?? 0) - this.clock.now();
    if (wait > 0) await this.clock.sleep(wait);
    if (w?.error) throw new ClusterError(w.error.message, w.error.status, w.error.reason);
    if (w?.result) return w.result;
    if (!options.dryRun && own) this.unrecorded.push(describeAction(action));
    return { action, dryRun: true, changed: true, summary: `${describeAction(action)} (dry run: not in the recording)` };
  }

  async rolloutStatus(namespace: string, deployment: string): Promise<{ complete: boolean; message: string; revision: number }> {
    const key = targetKey({ kind: 'service', namespace, name: deployment });
    const answers = (this.rec.rollouts ?? []).filter((r) => r.key === key);
    const now = this.clock.now();
    const a = answers.filter((r) => r.at <= now).at(-1) ?? answers[0];
    if (a?.error) throw new Error(a.error);
    return a?.status ?? { complete: true, message: 'rollout status not in the recording', revision: 0 };
  }

  async acquireLease(_name: string, _ns: string, identity: string): Promise<{ holder: string; held: boolean }> {
    return { holder: identity, held: true };
  }

  async releaseLease(): Promise<void> {}
}

/** The humans of the recorded incident: each approval, rejection or snooze given again to the step it was for. */
class RecordedHumans {
  private readonly pending: Array<Extract<TimelineEntry, { kind: 'approved' | 'rejected' | 'snoozed' }>>;
  private scheduled = false;

  constructor(
    incident: Incident,
    private readonly clock: VirtualClock,
    private readonly remediator: { approve(id: string, by: string, step?: string): Promise<unknown>; reject(id: string, by: string): Promise<unknown>; snooze(id: string, by: string, ms: number): Promise<unknown> },
  ) {
    this.pending = incident.timeline.filter((e): e is Extract<TimelineEntry, { kind: 'approved' | 'rejected' | 'snoozed' }> => e.kind === 'approved' || e.kind === 'rejected' || e.kind === 'snoozed');
  }

  onChange(i: Incident): void {
    const next = this.pending[0];
    const proposed = [...i.timeline].reverse().find((e) => e.kind === 'proposed');
    if (this.scheduled || !next || i.state !== 'awaiting-approval' || proposed?.kind !== 'proposed' || proposed.stepId !== next.stepId) return;
    this.scheduled = true;
    this.clock.setTimeout(() => {
      this.pending.shift();
      this.scheduled = false;
      const done = next.kind === 'approved' ? this.remediator.approve(i.id, next.by, next.stepId) : next.kind === 'rejected' ? this.remediator.reject(i.id, next.by) : this.remediator.snooze(i.id, next.by, Math.max(0, (next.until ?? next.t) - next.t));
      void done.catch(() => undefined);
    }, Math.max(0, next.t - this.clock.now()));
  }
}

/** The replayed incident that stands for the recorded one: on the same target, opened closest in time. */
function pick(candidates: ReadonlyArray<Incident>, recorded: Incident): Incident | undefined {
  const key = targetKey(recorded.target);
  return [...candidates].sort((a, b) => Number(targetKey(b.target) === key) - Number(targetKey(a.target) === key) || Math.abs(a.openedAt - recorded.openedAt) - Math.abs(b.openedAt - recorded.openedAt))[0];
}

export function decisionsOf(i: Incident): ReplayOutcome {
  const detected = i.timeline.filter((e) => e.kind === 'detected').map((e) => e.t);
  const steps: string[] = [];
  let firstAction: string | undefined;
  for (const e of i.timeline) {
    if (e.kind !== 'acted' && e.kind !== 'action-failed' && e.kind !== 'proposed') continue;
    const action = e.kind === 'acted' ? e.result.action : e.action;
    firstAction ??= describeAction(action);
    const line = `${e.stepId} ${e.kind === 'acted' ? 'ran' : e.kind === 'proposed' ? 'proposed' : 'failed'} (${action.kind})`;
    if (steps.at(-1) !== line) steps.push(line);
  }
  return {
    firstDetection: detected.length ? Math.min(...detected) : i.openedAt,
    diagnosis: diagnosisActedOn(i),
    firstAction,
    steps,
    outcome: i.outcome?.kind ?? i.state,
  };
}

function compare(then: ReplayOutcome, now: ReplayOutcome): string[] {
  const out: string[] = [];
  if (now.firstDetection === undefined || (now.diagnosis === undefined && stepsOf(now).length === 0)) out.push('not detected at all with this configuration');
  else if (then.firstDetection !== undefined) {
    const d = Math.round((now.firstDetection - then.firstDetection) / 1000);
    out.push(d === 0 ? 'detected at the same time' : d < 0 ? `detected ${-d} s earlier` : `detected ${d} s later`);
  }
  const title = (k: DiagnosisKind | undefined) => (k ? DIAGNOSIS_TITLES[k] : 'none');
  out.push(now.diagnosis === then.diagnosis ? `same diagnosis (${title(now.diagnosis)})` : `different diagnosis: ${title(then.diagnosis)} then, ${title(now.diagnosis)} now`);
  out.push(actionKey(now.firstAction) === actionKey(then.firstAction) ? `same first action (${now.firstAction ?? 'none'})` : `different first action: "${then.firstAction ?? 'none'}" then, "${now.firstAction ?? 'none'}" now`);
  const list = (o: ReplayOutcome) => (stepsOf(o).length ? stepsOf(o).join(', ') : 'none');
  out.push(stepsOf(then).join('\n') === stepsOf(now).join('\n') ? `same steps in order (${list(now)})` : `different steps: ${list(then)} then, ${list(now)} now`);
  if (then.outcome !== now.outcome) out.push(`ended ${now.outcome ?? 'open'} (then ${then.outcome ?? 'open'})`);
  return out;
}

const stepsOf = (o: ReplayOutcome): ReadonlyArray<string> => o.steps ?? [];

/** Compares actions by verb and object ("delete pod", "rollout restart deployment"), not by the pod picked. */
function actionKey(a: string | undefined): string {
  if (!a) return 'none';
  const m = /^(delete pod|rollout restart|rollout undo|scale|cordon|uncordon|drain|patch configmap)/.exec(a);
  return m?.[1] ?? a;
}

/** The timeline as text, one line per event, times relative to the first input: what `vigil replay` prints. */
export function formatReplay(r: ReplayResult, start: number): string {
  const lines = [`Replay of ${r.incidentId}`, ''];
  for (const e of r.events) lines.push(`  +${String(Math.round((e.t - start) / 1000)).padStart(5)}s  ${e.kind.padEnd(9)} ${e.text}`);
  lines.push('', 'Compared with what ran then:', ...r.comparison.map((c) => `  - ${c}`));
  if (r.notes?.length) lines.push('', 'Replay assumed:', ...r.notes.map((n) => `  - ${n}`));
  return lines.join('\n');
}
