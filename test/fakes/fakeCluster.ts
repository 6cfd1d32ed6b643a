import { ClusterError } from '../../src/core/act/clusterError';
import { describeAction, type ActionResult, type ActionSpec } from '../../src/core/model/action';
import type { ClusterPort, LeaseState } from '../../src/core/ports';

/**
 * An in-memory ClusterPort that keeps the state actions change and can be told to fail the next
 * calls (409/429/500 or a timeout *after* applying the write, like a lost response).
 * Unit tests only; integration tests use the sandbox over real HTTP.
 */
export class FakeCluster implements ClusterPort {
  readonly replicas = new Map<string, number>();
  readonly restartTokens = new Map<string, string>();
  readonly applied: string[] = [];
  failures: Array<{ status: number; afterApply?: boolean }> = [];
  calls = 0;

  async execute(action: ActionSpec, options: { dryRun: boolean; actionId?: string }): Promise<ActionResult> {
    this.calls++;
    const failure = options.dryRun ? undefined : this.failures.shift();
    if (failure && !failure.afterApply) throw new ClusterError(`HTTP ${failure.status}`, failure.status);
    let changed = false;
    if (action.kind === 'scale') {
      const key = `${action.namespace}/${action.deployment}`;
      changed = this.replicas.get(key) !== action.replicas;
      if (changed && !options.dryRun) this.replicas.set(key, action.replicas);
    } else if (action.kind === 'rollout-restart') {
      const key = `${action.namespace}/${action.deployment}`;
      changed = this.restartTokens.get(key) !== options.actionId;
      if (changed && !options.dryRun) this.restartTokens.set(key, options.actionId ?? '');
    } else {
      changed = true;
    }
    if (changed && !options.dryRun) this.applied.push(describeAction(action));
    if (failure?.afterApply) throw new ClusterError('timeout waiting for the response', 0);
    return { action, dryRun: options.dryRun, changed, summary: describeAction(action) };
  }

  /** The marker check a resuming replica makes: a restart's token, a scale's replica count. */
  async landed(action: ActionSpec, actionId: string): Promise<boolean> {
    this.landedChecks++;
    const key = 'deployment' in action ? `${action.namespace}/${action.deployment}` : '';
    if (action.kind === 'rollout-restart') return this.restartTokens.get(key) === actionId;
    if (action.kind === 'scale') return this.replicas.get(key) === action.replicas;
    return false;
  }

  landedChecks = 0;

  async rolloutStatus(): Promise<{ complete: boolean; message: string; revision: number }> {
    return { complete: true, message: 'successfully rolled out', revision: 1 };
  }

  lease: LeaseState = { holder: undefined, held: false };
  async acquireLease(_name: string, _ns: string, identity: string): Promise<LeaseState> {
    if (!this.lease.holder || this.lease.holder === identity) this.lease = { holder: identity, held: true };
    return { ...this.lease, held: this.lease.holder === identity };
  }
  async releaseLease(): Promise<void> {
    this.lease = { holder: undefined, held: false };
  }
}
