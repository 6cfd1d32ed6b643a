import type { VerifyCondition } from './playbook';

export type CheckStatus = 'passed' | 'failed' | 'pending' | 'no-data';

export interface CheckResult {
  readonly condition: VerifyCondition;
  readonly status: CheckStatus;
  readonly detail: string;
}

/**
 * Outcome of verifying one remediation step. 'inconclusive' means evidence was missing
 * (e.g. Prometheus unreachable): never read as success.
 */
export interface Verdict {
  readonly status: 'recovered' | 'not-recovered' | 'inconclusive';
  readonly t: number;
  readonly checks: ReadonlyArray<CheckResult>;
  readonly summary: string;
}
