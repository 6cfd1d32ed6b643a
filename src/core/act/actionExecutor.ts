import { actionTarget, describeAction, type ActionResult, type ActionSpec } from '../model/action';
import { targetKey } from '../model/target';
import type { ClockPort, ClusterPort, LoggerPort, StorePort } from '../ports';
import { ClusterError } from './clusterError';

export interface ExecuteRequest {
  readonly action: ActionSpec;
  readonly incidentId: string;
  readonly stepId: string;
  /** Who asked: 'vigil-agent@host' in auto mode, 'user:alice (vscode)' after an approval. */
  readonly actor: string;
  /** Only a server-side dry run (vigil.safety.dryRun): validate and report, change nothing. */
  readonly dryRunOnly: boolean;
}

export type ExecuteOutcome =
  | { readonly ok: true; readonly dryRun: ActionResult; readonly result: ActionResult; readonly attempts: number }
  | { readonly ok: false; readonly dryRun?: ActionResult; readonly error: string; readonly attempts: number; readonly retryable: boolean };

/**
 * The only way a cluster write happens: server-side dry run first, then the write with
 * idempotent retries (same action id, so a retry after 409/429/5xx/timeout changes nothing twice),
 * and an audit entry for the dry run and for the effective change.
 * Gates are checked by the caller (decide/); this class assumes they passed.
 */
export class ActionExecutor {
  constructor(
    private readonly cluster: ClusterPort,
    private readonly store: StorePort,
    private readonly clock: ClockPort,
    private readonly logger: LoggerPort,
    private readonly retry = { attempts: 5, baseDelayMs: 500, maxDelayMs: 8000 },
  ) {}

  /** Stable id of one step of one incident: the idempotency key of its write. */
  static actionId(incidentId: string, stepId: string): string {
    return `${incidentId}/${stepId}`;
  }

  /** A server-side dry run to show a human what a proposed step would change. Changes nothing, so it is not audited. */
  async preview(action: ActionSpec, incidentId: string, stepId: string): Promise<{ ok: true; result: ActionResult } | { ok: false; error: string }> {
    const r = await this.withRetries(() => this.cluster.execute(action, { dryRun: true, actionId: ActionExecutor.actionId(incidentId, stepId) }), `dry run of ${describeAction(action)}`);
    return r.ok ? { ok: true, result: r.value } : { ok: false, error: r.error };
  }

  async execute(req: ExecuteRequest): Promise<ExecuteOutcome> {
    const actionId = ActionExecutor.actionId(req.incidentId, req.stepId);
    const object = targetKey(actionTarget(req.action));
    const what = describeAction(req.action);

    const dry = await this.withRetries(() => this.cluster.execute(req.action, { dryRun: true, actionId }), `dry run of ${what}`);
    if (!dry.ok) {
      await this.store.appendAudit({ t: this.clock.now(), actor: req.actor, kind: 'dry-run', incidentId: req.incidentId, object, summary: `dry run of "${what}" refused by the API server: ${dry.error}`, detail: { stepId: req.stepId, action: req.action } });
      return { ok: false, error: `the API server refused the dry run: ${dry.error}`, attempts: dry.attempts, retryable: dry.retryable };
    }
    await this.store.appendAudit({ t: this.clock.now(), actor: req.actor, kind: 'dry-run', incidentId: req.incidentId, object, summary: dry.value.summary, detail: { stepId: req.stepId, action: req.action, diff: dry.value.diff } });
    if (req.dryRunOnly) return { ok: true, dryRun: dry.value, result: dry.value, attempts: dry.attempts };

    const write = await this.withRetries(() => this.cluster.execute(req.action, { dryRun: false, actionId }), what);
    if (!write.ok) {
      await this.store.appendAudit({ t: this.clock.now(), actor: req.actor, kind: 'action', incidentId: req.incidentId, object, summary: `FAILED: ${what}: ${write.error}`, detail: { stepId: req.stepId, action: req.action, attempts: write.attempts } });
      return { ok: false, dryRun: dry.value, error: write.error, attempts: write.attempts, retryable: write.retryable };
    }
    // one entry per effective change: a retry that found the work already done is recorded as such, not as a second change
    await this.store.appendAudit({
      t: this.clock.now(),
      actor: req.actor,
      kind: 'action',
      incidentId: req.incidentId,
      object,
      summary: write.value.changed ? write.value.summary : `no change needed: ${write.value.summary}`,
      detail: { stepId: req.stepId, actionId, action: req.action, changed: write.value.changed, diff: write.value.diff, objects: write.value.objects, attempts: write.attempts },
    });
    return { ok: true, dryRun: dry.value, result: write.value, attempts: write.attempts };
  }

  private async withRetries<T>(fn: () => Promise<T>, what: string): Promise<{ ok: true; value: T; attempts: number } | { ok: false; error: string; attempts: number; retryable: boolean }> {
    let attempt = 0;
    for (;;) {
      attempt++;
      try {
        return { ok: true, value: await fn(), attempts: attempt };
      } catch (err) {
        const e = err instanceof ClusterError ? err : new ClusterError(err instanceof Error ? err.message : String(err), 0);
        if (!e.retryable || attempt >= this.retry.attempts) {
          return { ok: false, error: e.message, attempts: attempt, retryable: e.retryable };
        }
        const delay = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
        this.logger.log('warn', `${what} failed (attempt ${attempt}/${this.retry.attempts}), retrying in ${delay} ms: ${e.message}`);
        await this.clock.sleep(delay);
      }
    }
  }
}
