import { describeAction, type ActionResult, type ActionSpec } from './action';
import type { Anomaly } from './anomaly';
import { DIAGNOSIS_TITLES, type Diagnosis, type DiagnosisKind } from './diagnosis';
import type { ClusterFact, LogLine } from './fact';
import type { GateDecision } from './gate';
import type { SampleFrame } from './signal';
import type { TargetRef } from './target';
import type { InFlightStep } from './inFlightStep';
import type { DetectorState } from '../detect/detectorState';
import type { RuleState } from '../detect/rules';
import type { LearningState } from '../learn/thresholdTuning';
import type { RecoveryWindowState } from '../loop/recoveryWindow';
import type { WorkloadInventory } from '../ports';
import type { VigilSettings } from '../settings';
import type { Playbook } from './playbook';
import type { Verdict } from './verdict';
import type { ProbeRun } from '../observe/probeSpec';

/**
 * State machine of one incident:
 * diagnosed → (awaiting-approval →) acting → verifying → recovered
 *                                             ↘ next step … ↘ escalated
 * Any state may end in closed: a human rejects or labels it, or, before any step ran, its symptoms stay back
 * in band long enough (outcome resolved-without-action) or its cause turns out to be another incident's (merged).
 */
export type IncidentState =
  | 'diagnosed'
  | 'awaiting-approval'
  | 'acting'
  | 'verifying'
  | 'recovered'
  | 'escalated'
  | 'closed';

export type OutcomeKind = 'recovered' | 'escalated' | 'resolved-without-action' | 'false-alarm' | 'rejected' | 'merged';

/** A human's label, for learning. */
export type HumanLabel = 'false-alarm' | 'real' | 'right-diagnosis-wrong-fix';

export interface Outcome {
  readonly kind: OutcomeKind;
  readonly t: number;
  /** Id of the playbook step that recovered the service, for 'recovered'. */
  readonly recoveredBy?: string;
  readonly label?: HumanLabel;
  readonly labelledBy?: string;
  readonly note?: string;
}

export type TimelineEntry =
  | { readonly t: number; readonly kind: 'detected'; readonly anomaly: Anomaly }
  | { readonly t: number; readonly kind: 'diagnosed'; readonly diagnosis: Diagnosis }
  | { readonly t: number; readonly kind: 'proposed'; readonly stepId: string; readonly action: ActionSpec; readonly gates: GateDecision; readonly dryRun?: ActionResult }
  | { readonly t: number; readonly kind: 'refused'; readonly stepId: string; readonly gates: GateDecision }
  | { readonly t: number; readonly kind: 'approved' | 'rejected' | 'snoozed'; readonly stepId: string; readonly by: string; readonly until?: number }
  | { readonly t: number; readonly kind: 'acted'; readonly stepId: string; readonly result: ActionResult }
  | { readonly t: number; readonly kind: 'action-failed'; readonly stepId: string; readonly action: ActionSpec; readonly error: string }
  | { readonly t: number; readonly kind: 'verified'; readonly stepId: string; readonly verdict: Verdict }
  | { readonly t: number; readonly kind: 'escalated'; readonly reason: string }
  | { readonly t: number; readonly kind: 'resolved'; readonly outcome: Outcome }
  | { readonly t: number; readonly kind: 'note'; readonly text: string };

/** What a human needs when Vigil hands over: everything it saw and tried. */
export interface EscalationContext {
  readonly incidentId: string;
  readonly target: TargetRef;
  readonly diagnosis?: Diagnosis;
  readonly reason: string;
  readonly triggeringSignals: ReadonlyArray<Anomaly>;
  readonly actionsTried: ReadonlyArray<{ readonly stepId: string; readonly action: ActionSpec; readonly result?: ActionResult; readonly verdict?: Verdict; readonly error?: string }>;
  readonly recentFacts: ReadonlyArray<ClusterFact>;
  readonly recentLogs: ReadonlyArray<LogLine>;
  /** The latest runs of the probes that report on the target (empty when none is configured). */
  readonly recentProbes: ReadonlyArray<ProbeRun>;
  readonly snapshot?: unknown;
}

export interface Incident {
  readonly id: string;
  readonly target: TargetRef;
  readonly openedAt: number;
  readonly updatedAt: number;
  readonly state: IncidentState;
  readonly diagnosis?: Diagnosis;
  readonly playbook?: string;
  /** Index of the playbook step in progress or next. */
  readonly stepIndex: number;
  readonly timeline: ReadonlyArray<TimelineEntry>;
  /** Recorded inputs, so the incident can be replayed deterministically (see core/loop/incidentRecorder). */
  readonly recording: IncidentRecording;
  readonly outcome?: Outcome;
  /** The correlator's key for this problem, so closing the incident closes its symptom group too. */
  readonly correlationKey?: string;
  /** The step being written or verified, as recorded in the cluster before its write (see InFlightStep). */
  readonly inFlight?: InFlightStep;
}

/**
 * What replay needs to run the live core again on this incident. Everything but frames, facts and logs is optional:
 * incidents recorded before it was captured still load, and replay says what it had to assume.
 */
export interface IncidentRecording {
  /** Frames of the incident's members and neighbours (not pods), from the replay start until the incident closed. */
  readonly frames: ReadonlyArray<SampleFrame>;
  /** Cluster facts about them over the same span, those after the opening included. */
  readonly facts: ReadonlyArray<ClusterFact>;
  readonly logs: ReadonlyArray<LogLine>;
  /** When the core received each frame / fact ([clock time, input number]; one number per batch), same order. */
  readonly frameArrivals?: ReadonlyArray<readonly [number, number]>;
  readonly factArrivals?: ReadonlyArray<readonly [number, number]>;
  /** The core's state where replay starts, before the first recorded frame. */
  readonly start?: RecordingStart;
  /** The workload inventory as the core read it, filtered to the recorded targets (and every node), at each change. */
  readonly inventory?: ReadonlyArray<{ readonly at: number; readonly inventory: WorkloadInventory }>;
  /** Every read of the inventory by the core: [clock time, index into `inventory` of what it read, 1 for the pipeline's read at the start of an interval]. */
  readonly inventoryReads?: ReadonlyArray<readonly [number, number, (0 | 1)?]>;
  /** Every cluster call of this incident's steps (dry runs too), in order, with what it answered. */
  readonly writes?: ReadonlyArray<RecordedWrite>;
  /** Rollout status of the recorded deployments, at each change of answer. */
  readonly rollouts?: ReadonlyArray<{ readonly at: number; readonly key: string; readonly status?: { readonly complete: boolean; readonly message: string; readonly revision: number }; readonly error?: string }>;
  /** Set when a bound of the recorder was reached: what is missing from then on. */
  readonly truncated?: string;
}

export interface RecordedWrite {
  readonly at: number;
  /** When the answer came back: replay answers no sooner, so what follows happens when it did. */
  readonly doneAt?: number;
  readonly action: ActionSpec;
  readonly dryRun: boolean;
  readonly actionId?: string;
  readonly result?: ActionResult;
  readonly error?: { readonly message: string; readonly status: number; readonly reason?: string };
}

export interface RecordingStart {
  /** Time of the first recorded frame: the detector states are as they were just before it. */
  readonly t: number;
  /** Per target key, the detector and rule state in the format the detection pipeline persists ('detectors'). */
  readonly detectors: Readonly<Record<string, { readonly detector: DetectorState; readonly rules: RuleState }>>;
  /** The recovery window's holds at the replay start. */
  readonly recovery: RecoveryWindowState;
  /** The learned thresholds when the incident opened. */
  readonly learning?: LearningState;
  /** The remediator's action history, failure count and pause at the opening (gates, own-rollout filter). */
  readonly engine: { readonly history: ReadonlyArray<{ readonly t: number; readonly targetKey: string; readonly incidentId: string; readonly workloadKey?: string }>; readonly consecutiveFailures: number; readonly paused: boolean };
  /** Closed incidents the step ranking learned from, stripped to their steps and outcomes. */
  readonly pastIncidents: ReadonlyArray<Incident>;
  /**
   * The other incidents open at the opening, stripped to their key, state, diagnosis, steps and decisions: replay
   * gives their correlation keys' updates to them, as the live core did, instead of opening them again.
   * Absent in recordings made before it was captured.
   */
  readonly openIncidents?: ReadonlyArray<Incident>;
  /** The configuration the live core decided with: settings, playbooks, rules were the defaults unless named. */
  readonly settings: VigilSettings;
  readonly playbooks: ReadonlyArray<Playbook>;
  readonly identity: string;
  /** Said when the live core used state replay does not capture (the multi-signal model's scores). */
  readonly notCaptured?: ReadonlyArray<string>;
}

export function isOpen(i: Pick<Incident, 'state'>): boolean {
  return i.state !== 'recovered' && i.state !== 'escalated' && i.state !== 'closed';
}

/** The diagnosis in force when the incident first acted (or proposed, or was refused): the one its playbook answers. */
export function diagnosisActedOn(i: Pick<Incident, 'timeline' | 'diagnosis'>): DiagnosisKind | undefined {
  let kind: DiagnosisKind | undefined;
  for (const e of i.timeline) {
    if (e.kind === 'diagnosed') kind = e.diagnosis.kind;
    else if (e.kind === 'acted' || e.kind === 'proposed' || e.kind === 'refused' || e.kind === 'action-failed') return kind;
  }
  return i.diagnosis?.kind ?? kind;
}

/** The latest proposal on the timeline: the step and action a human is (or was last) asked to approve. */
export function latestProposal(i: Pick<Incident, 'timeline'>): Extract<TimelineEntry, { kind: 'proposed' }> | undefined {
  return [...i.timeline].reverse().find((e): e is Extract<TimelineEntry, { kind: 'proposed' }> => e.kind === 'proposed');
}

/** One timeline entry in words, as the sidebar and `vigil replay --with recorded` tell it. */
export function describeTimelineEntry(e: TimelineEntry): string {
  switch (e.kind) {
    case 'detected':
      return e.anomaly.reason;
    case 'diagnosed':
      return `${DIAGNOSIS_TITLES[e.diagnosis.kind]} (${Math.round(e.diagnosis.confidence * 100)}%): ${e.diagnosis.summary}`;
    case 'proposed':
      return `proposed ${describeAction(e.action)}${e.gates.needsApproval ? ' (waiting for approval)' : ''}`;
    case 'refused':
      return `held by ${e.gates.refusedBy?.gate ?? 'a gate'}: ${e.gates.refusedBy?.reason ?? ''}`;
    case 'approved':
    case 'rejected':
    case 'snoozed':
      return `${e.kind} step ${e.stepId} by ${e.by}`;
    case 'acted':
      return e.result.summary;
    case 'action-failed':
      return `${describeAction(e.action)} failed: ${e.error}`;
    case 'verified':
      return `${e.verdict.status}: ${e.verdict.summary}`;
    case 'escalated':
      return `escalated: ${e.reason}`;
    case 'resolved':
      return `${e.outcome.kind}${e.outcome.recoveredBy ? ` by step "${e.outcome.recoveredBy}"` : ''}`;
    case 'note':
      return e.text;
  }
}
