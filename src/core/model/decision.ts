import type { HumanLabel } from './incident';

/** Fields every human decision carries. `id` is made by the client (a UUID), so a retry is recognised. */
interface DecisionBase {
  readonly id: string;
  /** 'user:alice (cli)', 'user:bob (vscode)'. */
  readonly by: string;
  /** When the human decided (ms since epoch, the client's clock). */
  readonly t: number;
}

export type ThresholdDecisionAction = 'accept' | 'reject' | 'revert';

/**
 * What a human decides about the loop, from the CLI or the editor. The running agent applies each at most once
 * (core/loop/humanDecisions) and answers with a DecisionVerdict.
 */
export type HumanDecision =
  | (DecisionBase & { readonly kind: 'approve'; readonly incidentId: string; readonly stepId?: string })
  | (DecisionBase & { readonly kind: 'reject'; readonly incidentId: string; readonly note?: string })
  | (DecisionBase & { readonly kind: 'snooze'; readonly incidentId: string; readonly minutes: number })
  | (DecisionBase & { readonly kind: 'label'; readonly incidentId: string; readonly label: HumanLabel; readonly note?: string })
  | (DecisionBase & { readonly kind: 'threshold'; readonly changeId: string; readonly action: ThresholdDecisionAction });

export type HumanDecisionKind = HumanDecision['kind'];

/** The answer to one decision: applied, or refused and why (the message says it either way). */
export interface DecisionVerdict {
  readonly id: string;
  readonly applied: boolean;
  readonly message: string;
}

/** A day: a longer hold is a rejection. */
export const MAX_SNOOZE_MINUTES = 24 * 60;

/** One line naming a decision, for logs and the audit: `approve inc-1 (step roll-back)`. */
export function describeDecision(d: HumanDecision): string {
  switch (d.kind) {
    case 'approve':
      return `approve ${d.incidentId}${d.stepId ? ` (step ${d.stepId})` : ''}`;
    case 'reject':
      return `reject ${d.incidentId}${d.note ? `: ${d.note}` : ''}`;
    case 'snooze':
      return `snooze ${d.incidentId} for ${d.minutes} min`;
    case 'label':
      return `label ${d.incidentId} ${d.label}${d.note ? `: ${d.note}` : ''}`;
    case 'threshold':
      return `${d.action} threshold change ${d.changeId}`;
  }
}
