import type { Diagnosis, DiagnosisKind } from '../model/diagnosis';
import { targetKey, type TargetRef } from '../model/target';

/** A human owns an escalated problem; do not page again for the same cause meanwhile. */
const QUIET_AFTER_ESCALATION_MS = 15 * 60_000;

/** What survives a restart: when each hold ends, per target and per target+cause. */
export interface RecoveryWindowState {
  /** `target|kind` → until when the same problem is not a new incident. */
  readonly quietUntil: Record<string, number>;
  /** target → until when any new symptom of it waits (its rate windows still hold the bad minutes). */
  readonly settleUntil: Record<string, number>;
  /** `target|kind` → when an incident of that cause last closed. */
  readonly closedAt: Record<string, number>;
  /** target → when its statistical detectors end the quiet period that followed the detection. */
  readonly rearmAt: Record<string, number>;
}

const EMPTY: RecoveryWindowState = { quietUntil: {}, settleUntil: {}, closedAt: {}, rearmAt: {} };

/**
 * What happens after a fix, in one place. Rate windows (errors, latency quantiles, restarts) go on holding the
 * bad minutes for one window after the service is healed, so for that long:
 * - the same cause on the same target is not a new incident (a little longer: a human owns an escalation);
 * - any new symptom of the fixed target waits out one rate window (the remediator's settle);
 * - a diagnosis resting only on cluster facts from before the fix is not new;
 * - the members' statistical detectors end their quiet period once a window has passed, so the next fault is
 *   heard by all of them again (the pipeline's re-arm).
 * The correlator's afterglow (a fading signal opens nothing) is the same idea inside correlation, sized by
 * its own `afterglowMs`. Persisted with the remediator's state, so a restart does not forget it.
 */
export class RecoveryWindow {
  private state: { quietUntil: Record<string, number>; settleUntil: Record<string, number>; closedAt: Record<string, number>; rearmAt: Record<string, number> };

  constructor(
    /** One rate window of the metrics source: how long a fixed problem lingers in its signals. */
    private readonly rateWindowMs: number,
    saved: RecoveryWindowState = EMPTY,
  ) {
    this.state = { quietUntil: { ...saved.quietUntil }, settleUntil: { ...saved.settleUntil }, closedAt: { ...saved.closedAt }, rearmAt: { ...saved.rearmAt } };
  }

  /** Same problem quiet after a recovery: three rate windows, at least three minutes. */
  private get quietAfterRecoveryMs(): number {
    return Math.max(3 * this.rateWindowMs, 3 * 60_000);
  }

  /** Any symptom of a just-fixed target: one rate window and a half, at least 90 s. */
  private get settleMs(): number {
    return Math.max(1.5 * this.rateWindowMs, 90_000);
  }

  restore(saved: RecoveryWindowState | undefined): void {
    const s = saved ?? EMPTY;
    this.state = { quietUntil: { ...s.quietUntil }, settleUntil: { ...s.settleUntil }, closedAt: { ...s.closedAt }, rearmAt: { ...s.rearmAt } };
  }

  snapshot(): RecoveryWindowState {
    return { quietUntil: { ...this.state.quietUntil }, settleUntil: { ...this.state.settleUntil }, closedAt: { ...this.state.closedAt }, rearmAt: { ...this.state.rearmAt } };
  }

  /**
   * An incident closed at `t`. `fixed`: the problem went away (recovered, or resolved without action); any other
   * close (escalated, rejected) leaves the cause with a human for longer.
   */
  closed(args: { readonly target: TargetRef; readonly diagnosis?: Diagnosis; readonly t: number; readonly fixed: boolean; readonly remedied?: DiagnosisKind }): void {
    const { target, diagnosis, t } = args;
    // the cause the steps ran on counts as closed too: a re-diagnosis while they ran can rename the incident (bench:heal's
    // crash loop, seed 2: acted on as a crash loop, renamed a traffic surge while its request rate read 3.3x during the restarts, recovered),
    // and its crash-loop facts must not open the "same" problem again once they are the only evidence left
    for (const kind of new Set([diagnosis?.kind, args.remedied])) {
      if (!diagnosis || !kind) continue;
      const cause = causeKey(diagnosis.target, kind);
      this.state.closedAt[cause] = t;
      this.state.quietUntil[cause] = t + (args.fixed ? this.quietAfterRecoveryMs : QUIET_AFTER_ESCALATION_MS);
    }
    if (args.fixed) this.state.settleUntil[targetKey(target)] = t + this.settleMs;
  }

  /** When an incident of this cause on this target last closed, as far as this window knows (-Infinity: never). */
  closedAt(target: TargetRef, kind: DiagnosisKind): number {
    return this.state.closedAt[causeKey(target, kind)] ?? Number.NEGATIVE_INFINITY;
  }

  /** A human owns every problem of `target` until `until` (a flapping service handed over): nothing new opens on it. */
  handOver(target: TargetRef, until: number): void {
    this.state.quietUntil[handedOverKey(target)] = until;
  }

  /** True while a human owns every problem of `target` (see handOver). */
  handedOver(target: TargetRef, now: number): boolean {
    return (this.state.quietUntil[handedOverKey(target)] ?? 0) > now;
  }

  /** The members of a fixed incident end their detectors' quiet period one rate window after the fix. */
  rearmAfter(memberKeys: Iterable<string>, t: number): void {
    for (const key of memberKeys) this.state.rearmAt[key] = t + this.rateWindowMs;
  }

  /** Why a diagnosis that would open a new incident is held back now, or undefined when it is new. */
  holdsBack(diagnosis: Diagnosis, now: number): string | undefined {
    const cause = causeKey(diagnosis.target, diagnosis.kind);
    if ((this.state.quietUntil[handedOverKey(diagnosis.target)] ?? 0) > now) return 'a human owns this flapping target';
    if ((this.state.quietUntil[cause] ?? 0) > now) return 'the same problem was just remedied or handed to a human';
    if ((this.state.settleUntil[targetKey(diagnosis.target)] ?? 0) > now) return 'its rate windows still hold the minutes before the fix';
    const closedAt = this.state.closedAt[cause];
    const facts = diagnosis.evidence.filter((e) => e.kind === 'fact');
    if (closedAt !== undefined && facts.length > 0 && facts.every((e) => e.kind === 'fact' && e.fact.t <= closedAt)) return 'it rests only on cluster facts from before the last fix';
    return undefined;
  }

  /** True once, on the first frame of `key` after its re-arm time. */
  rearmDue(key: string, t: number): boolean {
    const at = this.state.rearmAt[key];
    if (at === undefined || t <= at) return false;
    delete this.state.rearmAt[key];
    return true;
  }

  get rearming(): boolean {
    return Object.keys(this.state.rearmAt).length > 0;
  }

  /** Drops holds that ended long ago, so the persisted state stays small. */
  prune(now: number): void {
    const horizon = now - QUIET_AFTER_ESCALATION_MS - this.quietAfterRecoveryMs;
    for (const m of [this.state.quietUntil, this.state.settleUntil, this.state.rearmAt]) for (const [k, v] of Object.entries(m)) if (v < now) delete m[k];
    for (const [k, v] of Object.entries(this.state.closedAt)) if (v < horizon) delete this.state.closedAt[k];
  }
}

function handedOverKey(target: TargetRef): string {
  return `${targetKey(target)}|*`;
}

function causeKey(target: TargetRef, kind: DiagnosisKind): string {
  return `${targetKey(target)}|${kind}`;
}
