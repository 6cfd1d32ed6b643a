/**
 * A step in flight as the cluster keeps it: the acting replica writes it into its Incident resource's status
 * (`status.inFlight`) before the step's write, and clears it when the step is done with. A replica that takes the
 * Lease over reads it back, so the state that must survive a leader change is not on one pod's disk.
 */
import type { ActionSpec } from './action';
import type { DiagnosisKind } from './diagnosis';
import type { TargetRef } from './target';

export interface InFlightStep {
  readonly incidentId: string;
  /** Namespace of the Incident resource that carries it (the target's; a node's incident lives in the agent's). */
  readonly namespace: string;
  readonly correlationKey?: string;
  readonly target: TargetRef;
  readonly diagnosis: { readonly kind: DiagnosisKind; readonly confidence: number; readonly summary: string; readonly t: number };
  readonly playbook: string;
  readonly stepIndex: number;
  readonly stepId: string;
  /** The write's marker on the object it changes (see ClusterPort.landed): the same for every replica. */
  readonly actionId: string;
  /** The action as resolved when the intent was recorded: a new leader runs this one, not a fresh resolution. */
  readonly action: ActionSpec;
  /** The replica that recorded it. */
  readonly by: string;
  /** The human who approved the step, when it was approved. */
  readonly approvedBy?: string;
  readonly t: number;
}

/**
 * A closed incident as its Incident resource says (target, cause, when and how it closed): a replica that takes the
 * Lease over rebuilds the recovery window from these, so holds after a fix survive a leader change too.
 */
export interface ClosedIncidentRecord {
  readonly target: TargetRef;
  readonly kind: DiagnosisKind;
  readonly t: number;
  /** Recovered or resolved without action (any other close leaves the cause with a human). */
  readonly fixed: boolean;
}

/**
 * What a replica does with a step it finds in flight (after a restart or a leader change): the write already
 * landed (its marker is on the object) → do not write again, verify; it did not → write it, once.
 */
export function resumeDecision(landed: boolean): 'write' | 'verify' {
  return landed ? 'verify' : 'write';
}
