/** The safety gates every action passes before it may touch the cluster. */
export type GateName =
  | 'automation-mode'
  | 'approval'
  | 'namespace-policy'
  | 'maintenance-window'
  | 'rollout-in-progress'
  | 'rate-limit-target'
  | 'rate-limit-global'
  | 'cooldown'
  | 'blast-radius'
  | 'circuit-breaker'
  | 'lease'
  | 'dry-run';

export interface GateResult {
  readonly gate: GateName;
  readonly allowed: boolean;
  /** Why it allowed or refused, in words an on-call engineer can act on. */
  readonly reason: string;
}

export interface GateDecision {
  readonly allowed: boolean;
  /** True when the only thing missing is a human's approval. */
  readonly needsApproval: boolean;
  readonly results: ReadonlyArray<GateResult>;
  /** The first refusing gate, if any. */
  readonly refusedBy?: GateResult;
}
