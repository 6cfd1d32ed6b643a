import type { ActionKind, RiskLevel } from './action';
import type { DiagnosisKind } from './diagnosis';
import type { SignalName } from './signal';

/** What makes a playbook apply. */
export interface PlaybookTrigger {
  readonly diagnosis: DiagnosisKind;
  readonly namespaces?: ReadonlyArray<string>;
  readonly labels?: Readonly<Record<string, string>>;
}

export type VerifyCondition =
  | { readonly kind: 'signal-in-band'; readonly signal: SignalName }
  | { readonly kind: 'signal-below'; readonly signal: SignalName; readonly value: number }
  | { readonly kind: 'signal-above'; readonly signal: SignalName; readonly value: number }
  | { readonly kind: 'rollout-complete' }
  | { readonly kind: 'probe-passing'; readonly probe: string }
  | { readonly kind: 'no-new-restarts' }
  /** For a node: the workloads that ran on it are available again elsewhere and none is left on it. */
  | { readonly kind: 'workloads-rescheduled' };

export interface StepVerification {
  readonly conditions: ReadonlyArray<VerifyCondition>;
  readonly timeoutSeconds: number;
  /** How long the conditions must hold before the step counts as a success. */
  readonly stableForSeconds?: number;
}

/**
 * Parameters are templates resolved at decision time against the incident:
 * `{{target.namespace}}`, `{{target.name}}`, `{{pod}}`, `{{node}}`, `{{previousRevision}}`,
 * `{{replicas * 2}}`, `{{flag.key}}`, `{{flag.previousValue}}`.
 */
export interface PlaybookStep {
  readonly id: string;
  readonly action: ActionKind;
  readonly params: Readonly<Record<string, string | number>>;
  readonly risk?: RiskLevel;
  readonly verify: StepVerification;
  readonly onFailure: 'next' | 'escalate';
}

export interface Playbook {
  readonly name: string;
  readonly description?: string;
  readonly trigger: PlaybookTrigger;
  readonly steps: ReadonlyArray<PlaybookStep>;
  /** Where it was loaded from, for error messages and the UI. */
  readonly source?: string;
  /** Per-playbook override of the automation mode. */
  readonly mode?: 'off' | 'suggest' | 'auto';
}
