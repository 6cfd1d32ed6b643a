import { ActionExecutor } from '../act/actionExecutor';
import { applyLabel } from '../learn/feedback';
import { evaluateGates, type ActionRecord } from '../decide/safetyGates';
import type { FlapReading } from '../detect/flapping';
import { matchPlaybook } from '../decide/playbookMatcher';
import { resolveStep, TemplateError, type TemplateContext } from '../decide/playbookTemplates';
import { ACTION_RISK, actionTarget, describeAction, type ActionResult, type ActionSpec, type RiskLevel } from '../model/action';
import type { Verdict } from '../model/verdict';
import type { Anomaly } from '../model/anomaly';
import type { AutomationMode, SafetySettings } from '../model/automation';
import { DIAGNOSIS_TITLES, type Diagnosis, type DiagnosisKind } from '../model/diagnosis';
import type { LogLine } from '../model/fact';
import type { GateDecision, GateName } from '../model/gate';
import { diagnosisActedOn, isOpen, latestProposal, type EscalationContext, type HumanLabel, type Incident, type IncidentState, type Outcome, type TimelineEntry } from '../model/incident';
import type { Playbook, PlaybookStep } from '../model/playbook';
import { targetKey, targetLabel, type TargetRef } from '../model/target';
import type { SilentNode } from '../observe/nodeHeartbeats';
import type { ProbeRun } from '../observe/probeSpec';
import { resumeDecision, type InFlightStep } from '../model/inFlightStep';
import { IncidentResourcesAbsentError, incidentResource } from '../model/incidentResource';
import type { ClockPort, ClusterPort, Disposable, InFlightStepsPort, LeaseState, LoggerPort, NotifierPort, StorePort } from '../ports';
import { verifyStep, type VerificationEvidence } from '../verify/verifier';
import { CRD_RECHECK_MS } from './incidentPublisher';
import { KeyedSerialQueue } from './serialQueue';
import type { IncidentRecorder } from './incidentRecorder';
import type { RecoveryWindow, RecoveryWindowState } from './recoveryWindow';

/** Facts about the target that templates and gates need, read from the inventory at decision time. */
export interface TargetContext extends TemplateContext {
  readonly labels?: Readonly<Record<string, string>>;
  readonly rolloutInProgress?: boolean;
  readonly deploymentPods?: { readonly total: number; readonly unavailable: number; readonly unavailablePods?: ReadonlyArray<string> };
  readonly nodes?: { readonly total: number; readonly unschedulable: number };
}

export interface RemediationSettings {
  readonly mode: AutomationMode;
  readonly safety: SafetySettings;
  /** Per-namespace mode overrides. */
  readonly namespaceModes?: Readonly<Record<string, AutomationMode>>;
  /** The shard's namespaces (`kubernetes.namespaces`): this instance acts in no other; empty: no shard. */
  readonly shardNamespaces?: ReadonlyArray<string>;
}

export interface RemediatorDeps {
  readonly clock: ClockPort;
  readonly logger: LoggerPort;
  readonly store: StorePort;
  readonly cluster: ClusterPort;
  readonly notifier: NotifierPort;
  readonly evidence: VerificationEvidence;
  readonly playbooks: () => ReadonlyArray<Playbook>;
  readonly settings: () => RemediationSettings;
  readonly targetContext: (incident: Incident) => TargetContext;
  /** Current state of the cluster Lease, kept fresh by a lease keeper. */
  readonly lease: () => LeaseState | undefined;
  /** Who this instance is: 'vigil-agent@host' or 'vscode@host'. */
  readonly identity: string;
  /** Recent matching log lines and facts, for escalation context. */
  readonly recentLogs?: (target: TargetRef) => Promise<ReadonlyArray<LogLine>>;
  /** What happens after a fix: holds on new incidents of a fixed target, persisted with this state. */
  readonly recovery: RecoveryWindow;
  /** The latest probe runs reporting on the target, for escalation context. */
  readonly recentProbes?: (target: TargetRef) => ReadonlyArray<ProbeRun>;
  /** Reorders (or drops) a playbook's steps from past outcomes; see core/learn/remediationRanking. */
  readonly rankSteps?: (playbook: Playbook, incident: Incident) => Playbook;
  /** Records each incident's inputs and the core's state for replay; without it incidents carry empty recordings. */
  readonly recorder?: IncidentRecorder;
  /** While true, incidents open and follow their diagnosis but no step is chosen (replay's lead-in). Live: never. */
  readonly holdDecisions?: () => boolean;
  /**
   * Steps in flight kept in the cluster: recorded before each write, read back by a replica that takes the Lease
   * over so it resumes the old leader's step instead of starting its own. Undefined: this instance's store only.
   */
  readonly inFlight?: InFlightStepsPort;
  /** Namespace of the Incident resource of a node incident (cluster-scoped target): the agent's own. */
  readonly nodeNamespace?: string;
  /**
   * The longest the first step of an incident resting on one scrape waits for the next one (see restsOnOneScrape),
   * when the next interval does not come sooner; undefined: such a step runs at once.
   */
  readonly oneScrapeHoldMs?: number;
  /** The target's own bad and healthy spells (see core/detect/flapping): a step waits while they oscillate. */
  readonly flaps?: { reading(target: TargetRef, now: number): FlapReading };
  /** A node where the target has pods whose kubelet missed a Lease renewal (core/observe/nodeHeartbeats): a new pod waits. */
  readonly silentNode?: (target: TargetRef, now: number) => SilentNode | undefined;
}

/** A diagnosis update from correlation: one incident key per problem. */
export interface DiagnosisUpdate {
  readonly incidentKey: string;
  readonly diagnosis: Diagnosis;
  readonly anomalies?: ReadonlyArray<Anomaly>;
}

interface RemediatorState {
  readonly history: ActionRecord[];
  consecutiveFailures: number;
  paused: boolean;
  /** incidentKey → incident id of the open incident for it. */
  readonly openByKey: Record<string, string>;
  seq: number;
}

/** As persisted: the remediator's state and what happens after a fix. */
interface SavedRemediatorState extends RemediatorState {
  readonly recovery?: RecoveryWindowState;
}

const RETRY_REFUSED_MS = 15_000;
/** How far back a replica taking the Lease over reads closed incidents: longer than any hold of the recovery window. */
const RECOVERY_HISTORY_MS = 2 * 60 * 60_000;
const VERIFY_POLL_MS = 1000;
const MAX_REFUSED_WAIT_MS = 10 * 60_000;
/** What one advance decided to run: the step of which playbook, chosen for which diagnosis. */
interface StepChoice {
  readonly playbook: string;
  readonly stepIndex: number;
  readonly kind: DiagnosisKind;
}
/**
 * Flapping: a target whose problem cleared (by a step or on its own) FLAP_RECURRENCES times within FLAP_WINDOW_MS and
 * is back is not fixed by acting again. The next incident goes to a human at once, and the target is left to them
 * for FLAP_HOLD_MS (no new incident, no action), so one flapping service costs at most FLAP_RECURRENCES actions.
 */
const FLAP_RECURRENCES = 2;
/**
 * What a workload's own logs say no playbook step can fix: a full or read-only volume. Restarting, rolling back or
 * scaling only adds new pods that fail the same; the incident goes to a human at once with the line as its reason.
 */
const UNFIXABLE_LOG = /no space left on device|ENOSPC|disk (is )?full|read-only file system/i;
const UNFIXABLE_LOG_WITHIN_MS = 5 * 60_000;
const FLAP_WINDOW_MS = 15 * 60_000;
const FLAP_HOLD_MS = 60 * 60_000;
/** How often a step held on an oscillating target looks again. */
const OSCILLATION_RECHECK_MS = 5_000;
/** How soon a step held for a silent node looks again (its Lease is renewed, or it is named, within seconds). */
const SILENT_NODE_RECHECK_MS = 1_000;
/** Steps whose point is new pods, which the scheduler may put on a node whose kubelet has stopped but is not NotReady yet. */
const NEW_POD_ACTIONS: ReadonlySet<ActionSpec['kind']> = new Set(['rollout-restart', 'delete-pod', 'scale']);
/** Holds worth waiting out. A maintenance window is not one: during it a human is told at once and nothing is written. */
const TRANSIENT_GATES: ReadonlySet<GateName> = new Set(['rollout-in-progress', 'cooldown', 'rate-limit-target', 'rate-limit-global', 'lease']);

/**
 * The incident state machine and the decide → act → verify loop. Every incident is persisted at
 * each transition (before a write, too), so a restarted agent resumes without repeating an action.
 */
export class Remediator implements Disposable {
  private readonly queue = new KeyedSerialQueue();
  private readonly incidents = new Map<string, Incident>();
  private readonly timers = new Set<Disposable>();
  private readonly listeners = new Set<(incident: Incident) => void>();
  private readonly executor: ActionExecutor;
  private state: RemediatorState = { history: [], consecutiveFailures: 0, paused: false, openByKey: {}, seq: 0 };
  /** Incidents just opened whose first advance waits for the diagnoses queued behind the opening one. */
  private readonly firstAdvance = new Set<string>();
  /**
   * Incidents whose first step waits for the next interval (or a cluster fact): opened on one scrape's signals alone.
   * id → the frame time they rest on and the timer that bounds the wait.
   */
  private readonly oneScrape = new Map<string, { t: number; timer: Disposable }>();
  /** Targets with a write on its way: its watch events can arrive before the write returns. */
  private readonly writing = new Map<string, number>();
  /** Incidents held on an oscillating target with a look again already set. */
  private readonly rechecking = new Set<string>();
  private disposed = false;
  /** The cluster's steps in flight have been read (and adopted) since this instance last took the Lease. */
  private inFlightSynced = false;
  private inFlightSync: Promise<void> | undefined;
  /** The cluster has no Incident resources: said once, not per step, and not asked again before this time. */
  private inFlightAbsentSaid = false;
  private inFlightAbsentUntil = 0;

  constructor(private readonly deps: RemediatorDeps) {
    this.executor = new ActionExecutor(deps.cluster, deps.store, deps.clock, deps.logger.child('act'));
  }

  /** Loads persisted incidents and engine state; resumes in-flight remediations. */
  async start(): Promise<void> {
    const saved = await this.deps.store.readState<SavedRemediatorState>('engine').catch((err: Error) => {
      this.deps.logger.log('error', `${err.message}; starting with empty engine state`);
      return undefined;
    });
    if (saved) this.state = { history: [...saved.history], consecutiveFailures: saved.consecutiveFailures, paused: saved.paused, openByKey: { ...saved.openByKey }, seq: saved.seq };
    this.deps.recovery.restore(saved?.recovery);
    for (const i of await this.deps.store.listIncidents()) {
      this.incidents.set(i.id, isOpen(i) ? i : { ...i, recording: NO_RECORDING });
      if (!isOpen(i)) continue;
      if (i.state === 'acting' || i.state === 'verifying' || i.state === 'diagnosed') {
        this.deps.logger.log('info', `resuming incident ${i.id} (${i.state}, step ${i.stepIndex + 1})`);
        void this.enqueue(i.id, () => this.advance(i.id));
      }
    }
  }

  /**
   * Call each interval: on the first call after this instance took the Lease, reads the steps the cluster has in
   * flight and adopts each one another replica recorded (the old leader died between intent and verification), so
   * it is resumed here, written at most once, instead of this replica running its own step for the same problem.
   */
  resumeInFlight(): Promise<void> {
    if (!this.deps.inFlight || this.disposed) return Promise.resolve();
    if (!this.deps.lease()?.held) {
      this.inFlightSynced = false;
      return Promise.resolve();
    }
    if (this.inFlightSynced) return Promise.resolve();
    this.inFlightSync ??= this.syncInFlight(this.deps.inFlight).finally(() => {
      this.inFlightSync = undefined;
    });
    return this.inFlightSync;
  }

  private async syncInFlight(port: InFlightStepsPort): Promise<void> {
    let steps: ReadonlyArray<InFlightStep>;
    try {
      steps = await port.list();
    } catch (err) {
      if (err instanceof IncidentResourcesAbsentError) {
        this.inFlightSynced = true; // nothing can be in flight where nothing can be recorded
        return;
      }
      this.deps.logger.log('warn', `could not read the steps in flight from the cluster (retrying next interval): ${(err as Error).message}`);
      return;
    }
    this.inFlightSynced = true;
    // the recovery window as the cluster records it: holds after the fixes the old leader closed
    const closed = port.closedSince ? await port.closedSince(this.deps.clock.now() - RECOVERY_HISTORY_MS).catch((err: Error) => {
      this.deps.logger.log('warn', `could not read closed incidents from the cluster (the recovery window is this replica's own): ${err.message}`);
      return [];
    }) : [];
    for (const c of [...closed].sort((x, y) => x.t - y.t)) {
      if (this.deps.recovery.closedAt(c.target, c.kind) >= c.t) continue;
      this.deps.recovery.closed({ target: c.target, diagnosis: { kind: c.kind, target: c.target, confidence: 1, t: c.t, summary: '', evidence: [] }, t: c.t, fixed: c.fixed });
    }
    if (closed.length) await this.saveState();
    for (const step of steps) {
      const local = this.incidents.get(step.incidentId);
      if (local && (!isOpen(local) || local.inFlight?.stepId === step.stepId)) continue;
      await this.adopt(step);
    }
  }

  /** Takes over a step another replica recorded in flight: its incident (same id, so the same write marker) continues here. */
  private async adopt(step: InFlightStep): Promise<void> {
    const now = this.deps.clock.now();
    const keyOfTarget = targetKey(step.target);
    const twin = [...this.incidents.values()].find((x) => isOpen(x) && (x.correlationKey === step.correlationKey || targetKey(x.target) === keyOfTarget));
    const diagnosis: Diagnosis = twin?.diagnosis ?? { kind: step.diagnosis.kind, target: step.target, confidence: step.diagnosis.confidence, t: step.diagnosis.t, summary: step.diagnosis.summary, evidence: [] };
    const note = `adopted from ${step.by} after a leader change: step "${step.stepId}" (${describeAction(step.action)}) was in flight since ${new Date(step.t).toISOString()}`;
    const adopted: Incident = {
      id: step.incidentId,
      correlationKey: step.correlationKey ?? twin?.correlationKey,
      target: step.target,
      openedAt: Math.min(step.t, twin?.openedAt ?? step.t),
      updatedAt: now,
      state: 'acting',
      diagnosis,
      playbook: step.playbook,
      stepIndex: step.stepIndex,
      timeline: [
        ...(twin?.timeline.filter((e) => e.kind === 'detected' || e.kind === 'diagnosed') ?? [{ t: step.diagnosis.t, kind: 'diagnosed' as const, diagnosis }]),
        ...(step.approvedBy ? [{ t: step.t, kind: 'approved' as const, stepId: step.stepId, by: step.approvedBy }] : []),
        { t: now, kind: 'note', text: note },
      ],
      recording: NO_RECORDING,
      inFlight: step,
    };
    // this replica may rank the playbook's steps in another order: the step keeps its id, its index follows
    const index = this.playbookOf(adopted)?.steps.findIndex((x) => x.id === step.stepId) ?? -1;
    if (index < 0) {
      this.deps.logger.log('warn', `step "${step.stepId}" in flight for ${step.incidentId} is not in playbook "${step.playbook}" here; not adopted (check that every replica loads the same playbooks)`);
      return;
    }
    this.incidents.set(adopted.id, { ...adopted, stepIndex: index });
    if (step.correlationKey) this.state.openByKey[step.correlationKey] = adopted.id;
    await this.deps.store.saveIncident(this.must(adopted.id));
    this.emit(this.must(adopted.id));
    if (twin && twin.id !== adopted.id && untouched(twin)) {
      // this replica's own incident for the same problem: the adopted one carries it on, so it must not act too
      for (const [k, v] of Object.entries(this.state.openByKey)) if (v === twin.id) this.state.openByKey[k] = adopted.id;
      await this.patch(twin.id, { state: 'closed', outcome: { kind: 'resolved-without-action', t: now, note: `continued by ${adopted.id}, adopted from the previous leader` } }, true, { t: now, kind: 'note', text: `continued by ${adopted.id}, whose step was in flight when the previous leader stopped` });
    }
    await this.saveState();
    this.deps.logger.log('info', `incident ${adopted.id}: ${note}`, { incident: adopted.id });
    void this.enqueue(adopted.id, () => this.advance(adopted.id));
  }

  onChange(listener: (incident: Incident) => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  list(): Incident[] {
    return [...this.incidents.values()].sort((a, b) => b.openedAt - a.openedAt);
  }

  /** The incident, with its recording so far while it is open; a closed one's recording is in the store. */
  get(id: string): Incident | undefined {
    const i = this.incidents.get(id);
    const recording = i && this.deps.recorder?.recordingOf(id);
    return i && recording ? { ...i, recording } : i;
  }

  get paused(): boolean {
    return this.state.paused;
  }

  async setPaused(paused: boolean, by: string): Promise<void> {
    this.state.paused = paused;
    if (!paused) this.state.consecutiveFailures = 0;
    await this.deps.store.appendAudit({ t: this.deps.clock.now(), actor: by, kind: 'automation', summary: paused ? 'automation paused' : 'automation resumed (circuit breaker reset)' });
    await this.saveState();
  }

  /** A new or updated diagnosis: opens an incident or updates the open one of the same key. */
  onDiagnosis(update: DiagnosisUpdate): Promise<Incident | undefined> {
    return this.queue.run(`key:${update.incidentKey}`, async () => {
      const now = this.deps.clock.now();
      // lingering symptoms of a problem just fixed (or handed to a human) are not a new incident
      // unless the target now flaps: a problem escalated (or remedied) minutes ago that keeps clearing and coming back
      // is news for the human who owns it, and the hand-over keeps every step off it
      if (!this.state.openByKey[update.incidentKey] && this.deps.recovery.holdsBack(update.diagnosis, now) && !this.flapsUnheard(update.diagnosis.target, now)) return undefined;
      const openId = this.state.openByKey[update.incidentKey];
      const open = openId ? this.incidents.get(openId) : undefined;
      if (open && isOpen(open)) {
        const changedKind = open.diagnosis?.kind !== update.diagnosis.kind;
        // the timeline shows a changed cause or a real change of confidence, not every refresh of the evidence
        const worthAnEntry = changedKind || Math.abs((open.diagnosis?.confidence ?? 0) - update.diagnosis.confidence) >= 0.15;
        // before anything was done, the incident follows its cause (a caller's symptoms turn out to be a callee's outage)
        const untouched = !open.timeline.some((e) => e.kind === 'acted' || e.kind === 'proposed');
        const retarget = untouched && targetKey(open.target) !== targetKey(update.diagnosis.target) ? { target: update.diagnosis.target } : {};
        const next = await this.patch(open.id, { diagnosis: update.diagnosis, ...retarget }, true, worthAnEntry ? { t: now, kind: 'diagnosed', diagnosis: update.diagnosis } : undefined);
        // a changed diagnosis before anything was done picks a new playbook (read afresh: a step may have started meanwhile)
        const cur = this.must(open.id);
        if (changedKind && isOpen(cur) && (cur.state === 'diagnosed' || cur.state === 'awaiting-approval') && !cur.timeline.some((e) => e.kind === 'acted')) {
          await this.patch(open.id, { state: 'diagnosed', stepIndex: 0, playbook: undefined });
          // before its first decision the incident has one advance coming, which reads the diagnosis then
          if (!this.firstAdvance.has(open.id) && !this.oneScrape.has(open.id)) void this.enqueue(open.id, () => this.advance(open.id));
        }
        // a held first step goes as soon as the diagnosis rests on more than one scrape (a fact came in)
        if (this.oneScrape.has(open.id) && restsOnOneScrape(this.must(open.id)) === undefined) this.releaseFirstStep(open.id);
        return next;
      }
      const incident = await this.open(update, now);
      // on one scrape's signals alone the cause can still turn within the interval (checkout's pods all down at the
      // scrape read as a dependency outage; their BackOff and restarts arrive under a second later and name a crash
      // loop): the first step waits for the next interval's frames or a cluster fact, whichever comes first
      const oneScrape = this.deps.oneScrapeHoldMs !== undefined ? restsOnOneScrape(incident) : undefined;
      if (oneScrape !== undefined) {
        const timer = this.deps.clock.setTimeout(() => {
          this.timers.delete(timer);
          this.releaseFirstStep(incident.id);
        }, this.deps.oneScrapeHoldMs!);
        this.timers.add(timer);
        this.oneScrape.set(incident.id, { t: oneScrape, timer });
        this.deps.logger.log('info', `incident ${incident.id}: its diagnosis rests on one scrape; the first step waits for the next interval or a cluster fact (at most ${Math.round(this.deps.oneScrapeHoldMs! / 1000)} s)`, { incident: incident.id });
      }
      // the first step is chosen after the diagnoses already queued for this key: the pipeline dispatches every update
      // of an interval at once, and which of them the step was chosen for must not depend on how fast the store writes
      this.firstAdvance.add(incident.id);
      void this.queue.run(`key:${update.incidentKey}`, async () => undefined).then(() => {
        this.firstAdvance.delete(incident.id);
        if (this.oneScrape.has(incident.id)) return undefined;
        return this.enqueue(incident.id, () => this.advance(incident.id));
      });
      return incident;
    });
  }

  private async open(update: DiagnosisUpdate, now: number): Promise<Incident> {
    const target = update.diagnosis.target;
    const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    this.state.seq++;
    const id = `inc-${stamp}-${target.name.replace(/[^A-Za-z0-9-]/g, '')}-${this.state.seq}`;
    const recording = this.deps.recorder?.opened({
      id,
      correlationKey: update.incidentKey,
      target,
      openedAt: now,
      engine: this.state,
      past: this.list().filter((x) => !isOpen(x) && x.updatedAt < now),
      open: this.list().filter((x) => isOpen(x)),
    });
    const incident: Incident = {
      id,
      correlationKey: update.incidentKey,
      target,
      openedAt: now,
      updatedAt: now,
      state: 'diagnosed',
      diagnosis: update.diagnosis,
      stepIndex: 0,
      timeline: [...(update.anomalies ?? []).map((a) => ({ t: a.t, kind: 'detected' as const, anomaly: a })), { t: now, kind: 'diagnosed', diagnosis: update.diagnosis }],
      recording: recording ?? NO_RECORDING,
    };
    // the recording lives in the store (and in the recorder while the incident is open), not in this map:
    // a long-running agent or extension host keeps every incident it has seen
    this.incidents.set(id, { ...incident, recording: NO_RECORDING });
    this.state.openByKey[update.incidentKey] = id;
    await this.deps.store.saveIncident(incident);
    await this.saveState();
    this.emit(incident);
    this.deps.logger.log('info', `incident ${id} opened: ${DIAGNOSIS_TITLES[update.diagnosis.kind]} on ${targetLabel(target)} (confidence ${update.diagnosis.confidence.toFixed(2)})`, { incident: id });
    return incident;
  }

  /**
   * An interval's frames were scored (the pipeline's onInterval): first steps held on an earlier scrape go, after the
   * diagnoses of this interval already queued.
   */
  intervalObserved(t: number): void {
    for (const [id, held] of [...this.oneScrape]) if (t > held.t) this.releaseFirstStep(id);
  }

  private releaseFirstStep(id: string): void {
    const held = this.oneScrape.get(id);
    if (!held) return;
    this.oneScrape.delete(id);
    held.timer.dispose();
    this.timers.delete(held.timer);
    const i = this.incidents.get(id);
    // still before its first advance: that one sees the hold gone and runs
    if (!i || this.disposed || this.firstAdvance.has(id)) return;
    void this.queue.run(`key:${i.correlationKey ?? ''}`, async () => undefined).then(() => this.enqueue(id, () => this.advance(id)));
  }

  /**
   * A human approved the pending step. `expectedStepId`: the step they saw proposed; if the proposal changed since
   * (a new diagnosis picked another playbook), nothing is approved and the error says what is proposed now.
   */
  approve(id: string, by: string, expectedStepId?: string): Promise<Incident> {
    return this.enqueue(id, async () => {
      const i = this.must(id);
      if (i.outcome?.kind === 'resolved-without-action') throw new Error(`incident ${id} resolved at ${new Date(i.outcome.t).toISOString()} without action (its symptoms went back in band); nothing to approve`);
      if (i.outcome?.kind === 'merged') throw new Error(`incident ${id} was ${i.outcome.note ?? 'merged into another'}; nothing to approve here`);
      if (i.state !== 'awaiting-approval') throw new Error(`incident ${id} is ${i.state}, not waiting for approval`);
      const step = this.currentStep(i);
      if (expectedStepId !== undefined && step?.id !== expectedStepId) {
        const proposed = latestProposal(i);
        const now = proposed ? `"${describeAction(proposed.action)}" (step "${proposed.stepId}")` : `step "${step?.id ?? '?'}"`;
        throw new Error(`the proposal for ${id} changed since you saw step "${expectedStepId}": it now proposes ${now} for ${DIAGNOSIS_TITLES[i.diagnosis?.kind ?? 'unknown']}; nothing was approved, review it and approve again`);
      }
      await this.deps.store.appendAudit({ t: this.deps.clock.now(), actor: by, kind: 'approval', incidentId: id, object: targetKey(i.target), summary: `approved step "${step?.id}" of playbook ${i.playbook}` });
      await this.patch(id, { state: 'diagnosed' }, true, { t: this.deps.clock.now(), kind: 'approved', stepId: step?.id ?? '?', by });
      // the step runs (and verifies, which takes a while) behind this call, in the target's queue
      void this.enqueue(id, () => this.advance(id, step?.id));
      return this.must(id);
    });
  }

  /** A human rejected the proposal: nothing is done; the label is kept for learning. */
  reject(id: string, by: string, note?: string): Promise<Incident> {
    return this.enqueue(id, async () => {
      const i = this.must(id);
      if (!isOpen(i)) throw new Error(`incident ${id} is ${i.state}, nothing to reject`);
      const step = this.currentStep(i);
      await this.deps.store.appendAudit({ t: this.deps.clock.now(), actor: by, kind: 'rejection', incidentId: id, object: targetKey(i.target), summary: `rejected step "${step?.id}"${note ? `: ${note}` : ''}` });
      await this.patch(id, {}, true, { t: this.deps.clock.now(), kind: 'rejected', stepId: step?.id ?? '?', by });
      return this.close(id, { kind: 'rejected', t: this.deps.clock.now(), labelledBy: by, note });
    });
  }

  /** Hold the proposal for a while; it is proposed again after `ms`. */
  snooze(id: string, by: string, ms: number): Promise<Incident> {
    return this.enqueue(id, async () => {
      const i = this.must(id);
      if (i.state !== 'awaiting-approval') throw new Error(`incident ${id} is ${i.state}, not waiting for approval; nothing to snooze`);
      const until = this.deps.clock.now() + ms;
      await this.patch(id, { state: 'diagnosed' }, true, { t: this.deps.clock.now(), kind: 'snoozed', stepId: this.currentStep(i)?.id ?? '?', by, until });
      this.later(ms, id);
      return this.must(id);
    });
  }

  /** A human's verdict on a closed or open incident, for learning. */
  label(id: string, label: HumanLabel, by: string, note?: string): Promise<Incident> {
    return this.enqueue(id, async () => {
      const labelled = applyLabel(this.must(id), label, by, this.deps.clock.now(), note);
      return this.patch(id, { outcome: labelled.outcome }, true, labelled.timeline.at(-1));
    });
  }

  /**
   * Closes an incident on which no step has run (awaiting approval, held by a gate, snoozed) because its symptoms
   * went away by themselves. Does nothing once a step has run: verification owns that incident.
   */
  resolveWithoutAction(id: string, why: string): Promise<Incident | undefined> {
    return this.enqueue(id, async () => {
      const i = this.incidents.get(id);
      if (!i || !isOpen(i) || !untouched(i)) return undefined;
      const now = this.deps.clock.now();
      await this.deps.store.appendAudit({ t: now, actor: this.deps.identity, kind: 'resolution', incidentId: id, object: targetKey(i.target), summary: `resolved without action: ${why}` });
      await this.patch(id, {}, true, { t: now, kind: 'note', text: `resolved without action: ${why}` });
      return this.close(id, { kind: 'resolved-without-action', t: now, note: why }, 'closed');
    });
  }

  /**
   * The correlator found that this incident's cause is another's (its root joined that incident: a caller opened for a
   * callee's outage whose anomaly came later). Before any step ran it closes as merged, naming the incident that carries
   * the problem, so no stale proposal waits for approval; once a step ran, verification owns it and it stays.
   */
  mergeInto(absorbedKey: string, into: { readonly incidentKey: string; readonly diagnosis: Diagnosis }): Promise<Incident | undefined> {
    const id = this.state.openByKey[absorbedKey];
    if (!id) return Promise.resolve(undefined);
    return this.enqueue(id, async () => {
      const i = this.incidents.get(id);
      if (!i || !isOpen(i) || !untouched(i)) return undefined;
      const now = this.deps.clock.now();
      const intoId = this.state.openByKey[into.incidentKey];
      const note = `merged into ${intoId ?? 'the incident'} (${DIAGNOSIS_TITLES[into.diagnosis.kind]} on ${targetLabel(into.diagnosis.target)}): its symptoms are that incident's`;
      await this.deps.store.appendAudit({ t: now, actor: this.deps.identity, kind: 'resolution', incidentId: id, object: targetKey(i.target), summary: note });
      await this.patch(id, {}, true, { t: now, kind: 'note', text: note });
      return this.close(id, { kind: 'merged', t: now, note }, 'closed');
    });
  }

  /** True when Vigil itself changed this target within `withinMs` (its own rollouts are not releases). */
  actedOn(key: string, withinMs: number): boolean {
    if (this.writing.has(key)) return true;
    const now = this.deps.clock.now();
    return this.state.history.some((h) => h.targetKey === key && now - h.t <= withinMs);
  }

  /** Waits until all queued work is done (tests, replay, shutdown). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  dispose(): void {
    this.disposed = true;
    for (const t of this.timers) t.dispose();
    this.timers.clear();
  }

  // ---- the loop ---------------------------------------------------------------------------

  private enqueue<T>(id: string, work: () => Promise<T>): Promise<T> {
    const i = this.incidents.get(id);
    return this.queue.run(i ? targetKey(i.target) : id, work);
  }

  private later(ms: number, id: string): void {
    const timer = this.deps.clock.setTimeout(() => {
      this.timers.delete(timer);
      if (!this.disposed) void this.enqueue(id, () => this.advance(id));
    }, ms);
    this.timers.add(timer);
  }

  private currentStep(i: Incident): PlaybookStep | undefined {
    return this.playbookOf(i)?.steps[i.stepIndex];
  }

  /** The incident's playbook, in the order learning ranks its steps (so stepIndex means the same everywhere). */
  private playbookOf(i: Incident): Playbook | undefined {
    const p = this.deps.playbooks().find((x) => x.name === i.playbook);
    return p && this.deps.rankSteps ? this.deps.rankSteps(p, i) : p;
  }

  /** Moves an incident one decision further: pick the step, pass the gates, act, verify. */
  private async advance(id: string, approvedStepId?: string): Promise<void> {
    // a replica that just took the Lease first adopts what the old leader had in flight (this incident may be its twin)
    await this.resumeInFlight();
    let i = this.must(id);
    if (!isOpen(i) || this.disposed || !i.diagnosis || this.deps.holdDecisions?.()) return;
    if ((i.state === 'acting' || i.state === 'verifying') && !(this.deps.lease()?.held ?? false)) {
      // a step in flight is resumed only by the leader (a restarted replica that lost the Lease meanwhile must not
      // write it, the new leader adopts it); this one waits, and resumes it if it leads again
      this.later(RETRY_REFUSED_MS, id);
      return;
    }
    const settings = this.deps.settings();
    const mode = (i.target.namespace && settings.namespaceModes?.[i.target.namespace]) || settings.mode;

    let playbook = this.playbookOf(i);
    if (!playbook) {
      const ctx = this.deps.targetContext(i);
      const matched = matchPlaybook(this.deps.playbooks(), i.diagnosis, ctx.labels);
      if (!matched) {
        if (mode === 'off') return;
        await this.escalate(id, `no playbook matches diagnosis "${DIAGNOSIS_TITLES[i.diagnosis.kind]}" on ${targetLabel(i.target)}; add one in .vigil/playbooks/`);
        return;
      }
      i = await this.patch(id, { playbook: matched.name });
      playbook = this.playbookOf(i) ?? matched;
    }
    const effectiveMode = playbook.mode ?? mode;
    if (effectiveMode === 'off') return; // detection only: the incident stays visible, nothing is proposed

    const flapping = i.stepIndex === 0 && i.state === 'diagnosed' && !i.timeline.some((e) => e.kind === 'acted' || e.kind === 'action-failed') ? this.flapping(i) : undefined;
    if (flapping) {
      await this.handOverFlapping(id, flapping);
      return;
    }
    // before any step (the first or a next one, not one a human approved): the target's own spells
    if (i.state === 'diagnosed' && !approvedStepId) {
      const held = await this.heldByOscillation(i);
      if (held) return;
    }
    const unfixable = i.stepIndex === 0 && i.state === 'diagnosed' && !i.timeline.some((e) => e.kind === 'acted' || e.kind === 'action-failed') ? await this.unfixableByLogs(i) : undefined;
    if (unfixable) {
      await this.escalate(id, unfixable);
      return;
    }

    const step = playbook.steps[i.stepIndex];
    const choice: StepChoice = { playbook: playbook.name, stepIndex: i.stepIndex, kind: i.diagnosis?.kind ?? 'unknown' };
    if (!step) {
      await this.escalate(id, `every step of playbook "${playbook.name}" was tried and the service has not recovered`);
      return;
    }

    // resume: the step's write may already have happened before a restart; re-running it is idempotent
    const ctx = this.deps.targetContext(i);
    let action: ActionSpec;
    try {
      // a step in flight runs as it was recorded before its write (a rollback's revision must not be chosen afresh)
      action = i.inFlight && i.inFlight.stepId === step.id && (i.state === 'acting' || i.state === 'verifying') ? i.inFlight.action : resolveStep(step, ctx);
    } catch (err) {
      const msg = err instanceof TemplateError ? err.message : String(err);
      await this.patch(id, {}, true, { t: this.deps.clock.now(), kind: 'note', text: `step "${step.id}" skipped: ${msg}` });
      await this.nextStep(id, step, `step "${step.id}" could not be prepared: ${msg}`);
      return;
    }
    if (i.state === 'diagnosed' && !approvedStepId && NEW_POD_ACTIONS.has(action.kind) && (await this.heldBySilentNode(i, action))) return;

    if (i.state === 'verifying') {
      await this.verify(id, step, action);
      return;
    }

    const approved = approvedStepId === step.id || (i.state === 'acting' && i.timeline.some((e) => e.kind === 'approved' && e.stepId === step.id));
    const risk: RiskLevel = maxRisk(ACTION_RISK[action.kind], step.risk);
    const gates = evaluateGates({
      now: this.deps.clock.now(),
      mode: effectiveMode,
      paused: this.state.paused,
      settings: settings.safety,
      shardNamespaces: settings.shardNamespaces,
      action,
      workload: serviceOf(i.target, action),
      risk,
      incidentId: id,
      approved: approved || i.state === 'acting',
      history: this.state.history,
      consecutiveFailures: this.state.consecutiveFailures,
      rolloutInProgress: ctx.rolloutInProgress ?? false,
      deploymentPods: ctx.deploymentPods,
      nodes: ctx.nodes,
      currentReplicas: ctx.replicas,
      lease: this.deps.lease(),
      identity: this.deps.identity,
    });

    if (!gates.allowed && i.state !== 'acting') {
      if (gates.needsApproval) {
        await this.propose(id, step, action, gates, choice);
        return;
      }
      await this.refused(id, step, gates);
      return;
    }
    await this.act(id, step, action, gates, approved ? 'human-approved' : 'auto', choice);
  }

  /** A recent log line of the target saying its storage is full (see UNFIXABLE_LOG), as an escalation reason. */
  private async unfixableByLogs(i: Incident): Promise<string | undefined> {
    if (!this.deps.recentLogs) return undefined;
    const since = this.deps.clock.now() - UNFIXABLE_LOG_WITHIN_MS;
    const lines = await this.deps.recentLogs(i.target).catch(() => [] as ReadonlyArray<LogLine>);
    const hit = [...lines].reverse().find((l) => l.t >= since && UNFIXABLE_LOG.test(l.text));
    if (!hit) return undefined;
    return `${targetLabel(i.target)}'s storage is full (pod ${hit.pod.name}: "${hit.text.slice(0, 160)}"); no restart, rollback or scale frees a volume, so Vigil takes no step: a human must free or grow it`;
  }

  /** The target flaps by its own spells and has not been handed to a human for it yet. */
  private flapsUnheard(target: TargetRef, now: number): boolean {
    return !this.deps.recovery.handedOver(target, now) && this.deps.flaps?.reading(target, now).state === 'flapping';
  }

  /** Escalates a flapping target and leaves it (every problem of it) to a human for FLAP_HOLD_MS. */
  private async handOverFlapping(id: string, reason: string): Promise<void> {
    const i = this.must(id);
    // the diagnosis names it too: the room, the report and the Incident resource show the diagnosis, not the timeline
    if (i.diagnosis && !/flapping/.test(i.diagnosis.summary)) await this.patch(id, { diagnosis: { ...i.diagnosis, summary: `${i.diagnosis.summary} Flapping: ${reason}.` } }, false);
    await this.escalate(id, reason);
    this.deps.recovery.handOver(i.target, this.deps.clock.now() + FLAP_HOLD_MS);
    await this.saveState();
  }

  /**
   * The target's symptoms cleared by themselves and came back (core/detect/flapping): flapping hands it to a human;
   * one return holds the step (a service healthy half of the time is not restarted before Vigil knows whether it
   * flaps), until the next return or until the symptom outlasts the hold and stays. True when nothing runs now.
   */
  private async heldByOscillation(i: Incident): Promise<boolean> {
    const now = this.deps.clock.now();
    const reading = this.deps.flaps?.reading(i.target, now);
    if (!reading || reading.state === 'steady' || reading.holdOver) return false;
    if (reading.state === 'flapping') {
      await this.handOverFlapping(i.id, `${targetLabel(i.target)} is flapping: ${reading.text}; no step holds on a service that recovers and fails by itself, so Vigil leaves it to a human and takes no action on it for ${FLAP_HOLD_MS / 60_000} min`);
      return true;
    }
    const note = `holding the next step: ${targetLabel(i.target)}'s ${reading.text.replace(/^its /, '')}; waiting to see whether it flaps`;
    if (!i.timeline.some((e) => e.kind === 'note' && e.text.startsWith('holding the next step:') && e.t >= (reading.since ?? 0))) await this.patch(i.id, {}, true, { t: now, kind: 'note', text: note });
    this.recheckAfter(i.id, OSCILLATION_RECHECK_MS);
    return true;
  }

  /**
   * A node where the target has pods missed its kubelet's Lease renewal: the pods there may be gone with it (their
   * service's survivors saturate, its latency climbs), and a restart or scale-out now may put new pods on it (it is not
   * NotReady, so still schedulable) and heal nothing. The step waits until the Lease is renewed (then it runs) or the
   * node is named failed (its playbook moves the pods, and the symptom may clear), at most a few renew intervals.
   */
  private async heldBySilentNode(i: Incident, action: ActionSpec): Promise<boolean> {
    const now = this.deps.clock.now();
    const silent = this.deps.silentNode?.(i.target, now);
    if (!silent) return false;
    // said once per step and node: the age in it changes at every recheck
    const said = `holding the next step (${describeAction(action)}): node/${silent.node},`;
    const last = [...i.timeline].reverse().find((e) => e.kind === 'note');
    if (!(last?.kind === 'note' && last.text.startsWith(said))) {
      const note = `${said} where ${silent.pods.length} of ${targetLabel(i.target)}'s ${silent.total} pods run, has not renewed its Lease for ${Math.round(silent.ageMs / 1000)} s (its kubelet renews every ${Math.round(silent.everyMs / 1000)} s; the other nodes' are current): new pods may land on a node that has stopped`;
      await this.patch(i.id, {}, true, { t: now, kind: 'note', text: note });
    }
    this.recheckAfter(i.id, SILENT_NODE_RECHECK_MS);
    return true;
  }

  /** A held step's incident is advanced again after `ms` (once: a hold seen again meanwhile adds no second timer). */
  private recheckAfter(id: string, ms: number): void {
    if (this.rechecking.has(id)) return;
    this.rechecking.add(id);
    const timer = this.deps.clock.setTimeout(() => {
      this.timers.delete(timer);
      this.rechecking.delete(id);
      if (!this.disposed) void this.enqueue(id, () => this.advance(id));
    }, ms);
    this.timers.add(timer);
  }

  /** Why the target is flapping (its problem cleared and came back FLAP_RECURRENCES times lately), or undefined. */
  private flapping(i: Incident): string | undefined {
    const key = targetKey(i.target);
    const since = i.openedAt - FLAP_WINDOW_MS;
    const cleared = this.list().filter(
      (x) => x.id !== i.id && !isOpen(x) && targetKey(x.target) === key && x.openedAt >= since && (x.outcome?.kind === 'recovered' || x.outcome?.kind === 'resolved-without-action'),
    );
    if (cleared.length < FLAP_RECURRENCES) return undefined;
    const first = Math.min(...cleared.map((x) => x.openedAt));
    const acted = cleared.filter((x) => x.timeline.some((e) => e.kind === 'acted')).length;
    const minutes = Math.max(1, Math.round((i.openedAt - first) / 60_000));
    return `${targetLabel(i.target)} is flapping: its problem came back ${cleared.length} times in ${minutes} min after clearing (${acted} of those after a step of Vigil); acting again would not hold, so Vigil leaves it to a human and takes no action on it for ${FLAP_HOLD_MS / 60_000} min`;
  }

  /**
   * True while the incident still stands where this advance chose its step. The diagnosis can change while a
   * step is prepared (a save, a dry run): then the step of the old playbook must not run; the update that
   * changed it has already queued a fresh advance, which picks the new playbook.
   */
  private stillChosen(id: string, choice: StepChoice): boolean {
    const cur = this.incidents.get(id);
    if (cur && isOpen(cur) && cur.playbook === choice.playbook && cur.stepIndex === choice.stepIndex && cur.diagnosis?.kind === choice.kind) return true;
    const now = cur?.diagnosis ? `${DIAGNOSIS_TITLES[cur.diagnosis.kind]}${cur.playbook && cur.playbook !== choice.playbook ? `, playbook "${cur.playbook}"` : ''}` : 'closed';
    this.deps.logger.log('info', `incident ${id}: step ${choice.stepIndex + 1} of playbook "${choice.playbook}" (for ${DIAGNOSIS_TITLES[choice.kind]}) not run: the incident changed while it was prepared (now ${now})`, { incident: id });
    return false;
  }

  private async propose(id: string, step: PlaybookStep, action: ActionSpec, gates: GateDecision, choice: StepChoice): Promise<void> {
    const preview = await this.executor.preview(action, id, step.id);
    if (!this.stillChosen(id, choice)) return;
    const i = await this.patch(id, { state: 'awaiting-approval' }, true, {
      t: this.deps.clock.now(),
      kind: 'proposed',
      stepId: step.id,
      action,
      gates,
      dryRun: preview.ok ? preview.result : undefined,
    });
    const summary = `${DIAGNOSIS_TITLES[i.diagnosis?.kind ?? 'unknown']} on ${targetLabel(i.target)}: proposed "${describeAction(action)}"${preview.ok ? '' : ` (dry run failed: ${preview.error})`}`;
    await this.deps.notifier.approvalNeeded(i, step.id, summary).catch((err: Error) => this.deps.logger.log('warn', `notifier failed: ${err.message}`));
  }

  private async refused(id: string, step: PlaybookStep, gates: GateDecision): Promise<void> {
    const i = this.must(id);
    const alreadyRefused = i.timeline.filter((e) => e.kind === 'refused' && e.stepId === step.id);
    const refusal = gates.refusedBy;
    // log the same refusal once, not every retry
    if (!alreadyRefused.length || alreadyRefused[alreadyRefused.length - 1].kind !== 'refused' || (alreadyRefused.at(-1) as { gates: GateDecision }).gates.refusedBy?.gate !== refusal?.gate) {
      await this.patch(id, { state: 'diagnosed' }, true, { t: this.deps.clock.now(), kind: 'refused', stepId: step.id, gates });
    }
    this.deps.logger.log('info', `incident ${id}: step "${step.id}" refused by gate ${refusal?.gate}: ${refusal?.reason}`, { incident: id, gate: refusal?.gate });
    const waited = this.deps.clock.now() - (alreadyRefused[0]?.t ?? this.deps.clock.now());
    if (refusal && TRANSIENT_GATES.has(refusal.gate) && waited < MAX_REFUSED_WAIT_MS) {
      this.later(RETRY_REFUSED_MS, id);
      return;
    }
    if (refusal?.gate === 'automation-mode' && this.state.paused) return; // waits for resume or approval
    await this.escalate(id, `safety gate "${refusal?.gate}" refused step "${step.id}": ${refusal?.reason}`);
  }

  private async act(id: string, step: PlaybookStep, action: ActionSpec, _gates: GateDecision, how: 'auto' | 'human-approved', choice: StepChoice): Promise<void> {
    // checked and marked 'acting' in one synchronous stretch: from here a changed diagnosis no longer resets the playbook
    if (!this.stillChosen(id, choice)) return;
    const before = this.must(id);
    const resuming = before.state === 'acting' && before.inFlight?.stepId === step.id;
    const approval = [...before.timeline].reverse().find((e) => e.kind === 'approved' && e.stepId === step.id) as { by: string } | undefined;
    const actor = how === 'human-approved' && approval ? `${approval.by} via ${this.deps.identity}` : this.deps.identity;
    const actionId = ActionExecutor.actionId(id, step.id);
    // persist the intent first, here and in the cluster: a crash or a leader change from here on resumes this step,
    // and the action id (the write's marker on its object) keeps it to one write
    const intent: InFlightStep = resuming && before.inFlight ? before.inFlight : {
      incidentId: id,
      namespace: before.target.namespace ?? this.deps.nodeNamespace ?? 'default',
      ...(before.correlationKey ? { correlationKey: before.correlationKey } : {}),
      target: before.target,
      diagnosis: { kind: before.diagnosis?.kind ?? 'unknown', confidence: before.diagnosis?.confidence ?? 0, summary: before.diagnosis?.summary ?? '', t: before.diagnosis?.t ?? this.deps.clock.now() },
      playbook: choice.playbook,
      stepIndex: choice.stepIndex,
      stepId: step.id,
      actionId,
      action,
      by: this.deps.identity,
      ...(how === 'human-approved' && approval ? { approvedBy: approval.by } : {}),
      t: this.deps.clock.now(),
    };
    const i = await this.patch(id, { state: 'acting', inFlight: intent });
    if (!resuming) await this.recordInFlight(i, intent);
    if (resuming && !this.deps.settings().safety.dryRun) {
      const landed = this.deps.cluster.landed ? await this.deps.cluster.landed(action, actionId).catch((err: Error) => {
        this.deps.logger.log('warn', `incident ${id}: could not tell whether step "${step.id}" was already written (${err.message}); writing it, which its marker keeps idempotent`, { incident: id });
        return false;
      }) : false;
      if (resumeDecision(landed) === 'verify') {
        const now = this.deps.clock.now();
        const summary = `already written before the restart or leader change (marker ${actionId} on the object): ${describeAction(action)}`;
        await this.deps.store.appendAudit({ t: now, actor, kind: 'action', incidentId: id, object: targetKey(actionTarget(action)), summary: `no change needed: ${summary}`, detail: { stepId: step.id, actionId, action, changed: false, resumed: true } });
        await this.patch(id, { state: 'verifying' }, true, { t: now, kind: 'acted', stepId: step.id, result: { action, dryRun: false, changed: false, summary } });
        await this.verify(id, step, action);
        return;
      }
      this.deps.logger.log('info', `incident ${id}: resuming step "${step.id}": its write has not landed, writing it once`, { incident: id });
    }
    const key = targetKey(actionTarget(action));
    this.writing.set(key, (this.writing.get(key) ?? 0) + 1);
    let out: Awaited<ReturnType<ActionExecutor['execute']>>;
    try {
      out = await this.executor.execute({ action, incidentId: id, stepId: step.id, actor, dryRunOnly: this.deps.settings().safety.dryRun });
    } finally {
      const n = (this.writing.get(key) ?? 1) - 1;
      if (n > 0) this.writing.set(key, n);
      else this.writing.delete(key);
    }
    const now = this.deps.clock.now();
    if (!out.ok) {
      await this.patch(id, { state: 'diagnosed' }, true, { t: now, kind: 'action-failed', stepId: step.id, action, error: out.error });
      this.state.consecutiveFailures++;
      await this.saveState();
      await this.nextStep(id, step, `"${describeAction(action)}" failed: ${out.error}`);
      return;
    }
    if (out.result.changed && !out.result.dryRun) {
      this.state.history.push({ t: now, targetKey: key, incidentId: id, workloadKey: targetKey(serviceOf(i.target, action)) });
      while (this.state.history.length > 500) this.state.history.shift();
      await this.saveState();
    }
    await this.patch(id, { state: 'verifying' }, true, { t: now, kind: 'acted', stepId: step.id, result: out.result });
    await this.verify(id, step, action);
  }

  private async verify(id: string, step: PlaybookStep, action: ActionSpec): Promise<void> {
    const i = this.must(id);
    const cordoned = preparesDrain(step, action);
    const placed = () => (cordoned ? this.deps.evidence.rescheduled?.({ kind: 'node', name: cordoned }) : undefined);
    // a cordon waits for the node controller's eviction only while one can come: on a node whose kubelet is gone (NotReady,
    // or its Lease overdue) with pods left that nothing evicts, the pods move only with the drain, which follows at once
    const stalled = () => {
      const r = placed();
      return r?.stalled ? `${r.message}; ${r.stalled}, and a cordon moves no pod` : undefined;
    };
    // polled every second: a fresh sample (every scrape interval) is read as soon as it lands
    // a rollback or a rollout restart replaces every pod: the new pods' own requests are its evidence while old ones still serve
    const replacesPods = action.kind === 'rollback' || action.kind === 'rollout-restart';
    const verdict = await verifyStep(serviceOf(i.target, action), step.verify, this.deps.evidence, this.deps.clock, undefined, { cancelled: () => this.disposed, pollMs: VERIFY_POLL_MS, replacesPods, ...(cordoned ? { endsWhen: stalled } : {}) });
    if (!verdict) return; // shutting down: the incident stays 'verifying' and a restart verifies again
    await this.patch(id, {}, true, { t: verdict.t, kind: 'verified', stepId: step.id, verdict });
    const alive = verdict.status !== 'recovered' ? placed()?.renewing : undefined;
    if (alive) {
      // named from its pods' silence (or a NotReady that cleared), the node's kubelet still renews its Lease: a drain would
      // evict pods from a live node; the cordon stays and a human looks at what cut it off
      this.state.consecutiveFailures++;
      await this.saveState();
      await this.escalate(id, `cordoned node ${cordoned} but did not drain it: ${alive}, so its kubelet is up and a drain would evict pods from a live node (\`kubectl uncordon ${cordoned}\` once it is sound); ${verdict.summary}`);
      return;
    }
    if (verdict.status === 'recovered') {
      this.state.consecutiveFailures = 0;
      await this.saveState();
      const done = await this.close(id, { kind: 'recovered', t: verdict.t, recoveredBy: step.id });
      await this.deps.notifier.resolved(done).catch((err: Error) => this.deps.logger.log('warn', `notifier failed: ${err.message}`));
      return;
    }
    this.state.consecutiveFailures++;
    await this.saveState();
    // no evidence is never success and escalates; only a cordon, which prepares the drain, hands on to it
    if (verdict.status === 'inconclusive' && !(step.action === 'cordon' && step.onFailure === 'next')) {
      await this.escalate(id, `could not verify step "${step.id}": ${verdict.summary}`);
      return;
    }
    await this.nextStep(id, step, `step "${step.id}" did not recover the service: ${verdict.summary}`);
  }

  private async nextStep(id: string, step: PlaybookStep, why: string): Promise<void> {
    if (step.onFailure === 'escalate') {
      await this.escalate(id, why);
      return;
    }
    await this.clearInFlight(id);
    const i = this.must(id);
    await this.patch(id, { state: 'diagnosed', stepIndex: i.stepIndex + 1 }, true, { t: this.deps.clock.now(), kind: 'note', text: `${why}; trying the next step` });
    await this.advance(id);
  }

  private async escalate(id: string, reason: string): Promise<void> {
    const i = this.must(id);
    const now = this.deps.clock.now();
    const tried: Array<{ stepId: string; action: ActionSpec; result?: ActionResult; verdict?: Verdict; error?: string }> = [];
    for (const e of i.timeline) {
      if (e.kind === 'acted') tried.push({ stepId: e.stepId, action: e.result.action, result: e.result });
      if (e.kind === 'action-failed') tried.push({ stepId: e.stepId, action: e.action, error: e.error });
      if (e.kind === 'verified') {
        const last = [...tried].reverse().find((x) => x.stepId === e.stepId);
        if (last) Object.assign(last, { verdict: e.verdict });
      }
    }
    const logs = this.deps.recentLogs ? await this.deps.recentLogs(i.target).catch(() => []) : [];
    const context: EscalationContext = {
      incidentId: id,
      target: i.target,
      diagnosis: i.diagnosis,
      reason,
      triggeringSignals: i.timeline.filter((e): e is Extract<TimelineEntry, { kind: 'detected' }> => e.kind === 'detected').map((e) => e.anomaly),
      actionsTried: tried,
      recentFacts: this.deps.recorder?.recentFacts(targetKey(i.target), 20) ?? [],
      recentLogs: logs.slice(-20),
      recentProbes: this.deps.recentProbes?.(i.target).slice(-10) ?? [],
      snapshot: this.deps.targetContext(i),
    };
    await this.deps.store.appendAudit({ t: now, actor: this.deps.identity, kind: 'escalation', incidentId: id, object: targetKey(i.target), summary: `escalated to a human: ${reason}` });
    await this.patch(id, {}, true, { t: now, kind: 'escalated', reason });
    await this.close(id, { kind: 'escalated', t: now }, 'escalated');
    await this.deps.notifier.escalate(context).catch((err: Error) => this.deps.logger.log('warn', `notifier failed: ${err.message}`));
    this.deps.logger.log('warn', `incident ${id} escalated: ${reason}`, { incident: id });
  }

  private async close(id: string, outcome: Outcome, state: IncidentState = outcome.kind === 'recovered' ? 'recovered' : outcome.kind === 'escalated' ? 'escalated' : 'closed'): Promise<Incident> {
    await this.clearInFlight(id);
    const i = await this.patch(id, { state, outcome }, true, { t: outcome.t, kind: 'resolved', outcome });
    this.deps.recorder?.closed(id);
    for (const [key, openId] of Object.entries(this.state.openByKey)) if (openId === id) delete this.state.openByKey[key];
    // a merged incident's cause was never the problem (the other incident carries it): nothing to hold quiet after it
    if (outcome.kind !== 'merged') {
      this.deps.recovery.closed({ target: i.target, diagnosis: i.diagnosis, remedied: diagnosisActedOn(i), t: outcome.t, fixed: state === 'recovered' || outcome.kind === 'resolved-without-action' });
      this.deps.recovery.prune(outcome.t);
    }
    await this.saveState();
    this.deps.logger.log('info', `incident ${id} ${state}${outcome.recoveredBy ? ` by step "${outcome.recoveredBy}"` : ''}${outcome.kind === 'merged' ? `: ${outcome.note}` : ''}`, { incident: id });
    return i;
  }

  /** Writes the intent into the cluster before the step's write; without the CRD (or on failure) the local store alone keeps it. */
  private async recordInFlight(i: Incident, step: InFlightStep): Promise<void> {
    if (!this.deps.inFlight || this.deps.clock.now() < this.inFlightAbsentUntil) return;
    try {
      await this.deps.inFlight.record(step, incidentResource(i, this.deps.nodeNamespace ?? 'default'));
    } catch (err) {
      if (err instanceof IncidentResourcesAbsentError) {
        // the publisher warns about the missing CRD; this only says what it means for a leader change, once
        if (!this.inFlightAbsentSaid) this.deps.logger.log('info', `steps in flight are kept on this replica's disk only until the Incident CRD is installed: a leader change may repeat a step`);
        this.inFlightAbsentSaid = true;
        this.inFlightAbsentUntil = this.deps.clock.now() + CRD_RECHECK_MS;
        return;
      }
      this.deps.logger.log('warn', `incident ${i.id}: could not record step "${step.stepId}" in flight in the cluster (a leader change now may repeat it): ${(err as Error).message}`, { incident: i.id });
    }
  }

  private async clearInFlight(id: string): Promise<void> {
    const i = this.incidents.get(id);
    if (!i?.inFlight) return;
    const step = i.inFlight;
    await this.patch(id, { inFlight: undefined }, false);
    if (!this.deps.inFlight || this.deps.clock.now() < this.inFlightAbsentUntil) return;
    await this.deps.inFlight.clear(step).catch((err: Error) => {
      if (!(err instanceof IncidentResourcesAbsentError)) this.deps.logger.log('warn', `incident ${id}: could not clear step "${step.stepId}" in flight in the cluster: ${err.message}`, { incident: id });
    });
  }

  private must(id: string): Incident {
    const i = this.incidents.get(id);
    if (!i) throw new Error(`no incident "${id}"`);
    return i;
  }

  private async patch(id: string, change: Partial<Incident>, persist = true, entry?: TimelineEntry): Promise<Incident> {
    const cur = this.must(id);
    const next: Incident = { ...cur, ...change, updatedAt: this.deps.clock.now(), timeline: entry ? [...cur.timeline, entry] : cur.timeline };
    this.incidents.set(id, next);
    if (persist) {
      // the recording: the recorder's while open; once closed, the one already in the store (not kept in memory)
      const recording = this.deps.recorder?.recordingOf(id) ?? (next.recording === NO_RECORDING ? (await this.deps.store.loadIncident(id))?.recording : undefined);
      await this.deps.store.saveIncident(recording ? { ...next, recording } : next);
      this.emit(next);
    }
    return next;
  }

  private emit(i: Incident): void {
    for (const l of this.listeners) {
      try {
        l(i);
      } catch (err) {
        this.deps.logger.log('warn', `incident listener failed: ${(err as Error).message}`);
      }
    }
  }

  private saveState(): Promise<void> {
    return this.deps.store.writeState('engine', { ...this.state, recovery: this.deps.recovery.snapshot() });
  }
}

/** No step has been run or started on it: only proposals, refusals, snoozes and notes. */
export function untouched(i: Pick<Incident, 'state' | 'timeline'>): boolean {
  return (i.state === 'awaiting-approval' || i.state === 'diagnosed') && !i.timeline.some((e) => e.kind === 'acted' || e.kind === 'action-failed' || e.kind === 'approved' || e.kind === 'verified');
}

/**
 * The frame time an incident's diagnosis rests on when it is one scrape's signals and nothing else: every anomaly
 * it was detected on and names is of that one time, and no cluster fact, log line, alert, SLO burn or trend backs it.
 * Undefined otherwise (and for a diagnosis with no anomaly at all).
 */
export function restsOnOneScrape(i: Pick<Incident, 'diagnosis' | 'timeline'>): number | undefined {
  const evidence = i.diagnosis?.evidence ?? [];
  // a climb measured across scrapes (memory) is more than one scrape; a step measured before/after its onset (a surge's
  // rise) is that scrape's: a surge that began within its first interval reads part of it there (bench:heal's surge,
  // 2 of 4 runs: 2.3x measured, 5.7x whole, scaled 2 to 6 and saturated again 4 s after the verdict)
  if (evidence.some((e) => e.kind === 'fact' || e.kind === 'log' || e.kind === 'alert' || e.kind === 'slo-burn' || (e.kind === 'signal-trend' && (e.spanMs ?? 0) > 0))) return undefined;
  const times = new Set<number>();
  for (const e of i.timeline) if (e.kind === 'detected') times.add(e.anomaly.t);
  for (const e of evidence) if (e.kind === 'anomaly') times.add(e.anomaly.t);
  return times.size === 1 ? [...times][0] : undefined;
}

/** What an incident carries in memory once its recording is in the store. */
const NO_RECORDING: Incident['recording'] = { frames: [], facts: [], logs: [] };

function maxRisk(a: RiskLevel, b: RiskLevel | undefined): RiskLevel {
  const order: RiskLevel[] = ['low', 'medium', 'high'];
  return b && order.indexOf(b) > order.indexOf(a) ? b : a;
}

/** Where a step's effect shows: the deployment it changed, else the incident's own target (a node: its workloads). */
function serviceOf(target: TargetRef, action: ActionSpec): TargetRef {
  return action.kind === 'rollout-restart' || action.kind === 'rollback' || action.kind === 'scale' ? actionTarget(action) : target;
}

/** The node a cordon step prepares a drain of (its failure hands on to the next step, and it waits for the pods to move). */
function preparesDrain(step: PlaybookStep, action: ActionSpec): string | undefined {
  return action.kind === 'cordon' && step.onFailure === 'next' && step.verify.conditions.some((c) => c.kind === 'workloads-rescheduled') ? action.node : undefined;
}
