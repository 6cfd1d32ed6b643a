import { HUMAN_LABELS } from '../learn/feedback';
import { describeChange, type ThresholdChange } from '../learn/thresholdTuning';
import { describeAction } from '../model/action';
import { describeDecision, MAX_SNOOZE_MINUTES, type DecisionVerdict, type HumanDecision, type HumanDecisionKind, type ThresholdDecisionAction } from '../model/decision';
import { isOpen, latestProposal, type HumanLabel, type Incident } from '../model/incident';
import type { ClockPort, StorePort } from '../ports';

/** The incident side of a decision: the Remediator in the agent, the files when no agent runs. */
export interface IncidentDecisions {
  get(id: string): Incident | undefined | Promise<Incident | undefined>;
  approve(id: string, by: string, expectedStepId?: string): Promise<Incident>;
  reject(id: string, by: string, note?: string): Promise<Incident>;
  snooze(id: string, by: string, ms: number): Promise<Incident>;
  /** Goes through the same path as the editor's labels, so learning sees the label at once. */
  label(id: string, label: HumanLabel, by: string, note?: string): Promise<Incident>;
}

/** The learned-threshold side: the ThresholdLearner. */
export type ThresholdDecisions = Record<ThresholdDecisionAction, (changeId: string, by: string) => Promise<ThresholdChange>>;

export interface DecisionTarget {
  readonly incidents: IncidentDecisions;
  readonly thresholds: ThresholdDecisions;
  readonly store: StorePort;
  readonly clock: ClockPort;
  readonly ledger: DecisionLedger;
}

/**
 * Applies a human decision at most once: a decision id seen before answers with its first verdict and
 * changes nothing. Every first verdict, applied or refused, is audited as a 'decision' entry by `d.by`.
 */
export function applyHumanDecision(target: DecisionTarget, d: HumanDecision): Promise<DecisionVerdict> {
  return target.ledger.once(d.id, target.clock.now(), async () => {
    const verdict = await decide(target, d);
    try {
      await target.store.appendAudit({
        t: target.clock.now(),
        actor: d.by,
        kind: 'decision',
        ...(d.kind === 'threshold' ? { object: `threshold-change/${d.changeId}` } : { incidentId: d.incidentId }),
        summary: `${describeDecision(d)}: ${verdict.applied ? 'applied' : 'refused'} — ${verdict.message}`,
        detail: { decision: d, verdict },
      });
      return verdict;
    } catch (err) {
      return { ...verdict, message: `${verdict.message} (the audit entry of this decision could not be written: ${(err as Error).message})` };
    }
  });
}

async function decide(target: DecisionTarget, d: HumanDecision): Promise<DecisionVerdict> {
  const refused = (message: string): DecisionVerdict => ({ id: d.id, applied: false, message });
  const applied = (message: string): DecisionVerdict => ({ id: d.id, applied: true, message });
  try {
    if (d.kind === 'threshold') {
      const change = await target.thresholds[d.action](d.changeId, d.by);
      return applied(describeChange(change));
    }
    const i = await target.incidents.get(d.incidentId);
    if (!i) return refused(`no incident "${d.incidentId}" (list them with \`vigil replay --list\`)`);
    if (d.kind === 'label') {
      const was = i.outcome?.label;
      await target.incidents.label(i.id, d.label, d.by, d.note);
      return applied(`labelled ${i.id} as ${d.label}${was && was !== d.label ? ` (was ${was})` : ''}; threshold tuning and remediation ranking learn from it`);
    }
    if (i.state !== 'awaiting-approval') return refused(notWaiting(i, d.kind));
    const proposal = latestProposal(i);
    const step = proposal ? `step "${proposal.stepId}" (${describeAction(proposal.action)})` : 'the proposed step';
    if (d.kind === 'approve') {
      await target.incidents.approve(i.id, d.by, d.stepId);
      return applied(`approved ${step} of ${i.id}; the agent runs it now and verifies it`);
    }
    if (d.kind === 'reject') {
      await target.incidents.reject(i.id, d.by, d.note);
      return applied(`rejected ${step} of ${i.id}: nothing is done, the incident is closed and the rejection kept for learning`);
    }
    await target.incidents.snooze(i.id, d.by, d.minutes * 60_000);
    return applied(`snoozed ${i.id} for ${d.minutes} min: ${step} is proposed again at ${new Date(target.clock.now() + d.minutes * 60_000).toISOString()}`);
  } catch (err) {
    return refused((err as Error).message);
  }
}

function notWaiting(i: Incident, kind: HumanDecisionKind): string {
  if (i.outcome?.kind === 'merged') return `incident ${i.id} was ${i.outcome.note ?? 'merged into another'} (at ${new Date(i.outcome.t).toISOString()}); nothing to ${kind} here`;
  if (i.outcome?.kind === 'resolved-without-action') return `incident ${i.id} resolved at ${new Date(i.outcome.t).toISOString()} without action (its symptoms went back in band); nothing to ${kind}`;
  if (!isOpen(i)) return `incident ${i.id} was ${i.state} at ${new Date(i.outcome?.t ?? i.updatedAt).toISOString()}, nothing to ${kind}`;
  return `incident ${i.id} is ${i.state}, not waiting for approval; nothing to ${kind}`;
}

/** Where the ledger lives: `state/decisions.json` through the StorePort. */
export const DECISION_LEDGER_STATE = 'decisions';
const DEFAULT_LEDGER_SIZE = 1000;

interface LedgerEntry {
  readonly id: string;
  readonly t: number;
  /** Missing while the decision is being applied: left so by a crash, it is never applied again. */
  readonly verdict?: DecisionVerdict;
}

/**
 * Decision ids already answered, newest last, bounded. An id is written before its decision is applied, so a
 * crash in between leaves it marked, and the decision is not applied twice. One ledger per process that
 * applies decisions (the agent, or a CLI holding the agent's lock).
 */
export class DecisionLedger {
  private entries: Map<string, LedgerEntry> | undefined;
  private readonly inFlight = new Map<string, Promise<DecisionVerdict>>();
  private saving: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: StorePort,
    private readonly size = DEFAULT_LEDGER_SIZE,
  ) {}

  /** Runs `apply` unless `id` was seen: then answers with the first verdict. Concurrent calls with one id share one run. */
  once(id: string, now: number, apply: () => Promise<DecisionVerdict>): Promise<DecisionVerdict> {
    const running = this.inFlight.get(id);
    if (running) return running;
    const run = this.runOnce(id, now, apply).finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, run);
    return run;
  }

  private async runOnce(id: string, now: number, apply: () => Promise<DecisionVerdict>): Promise<DecisionVerdict> {
    let entries: Map<string, LedgerEntry>;
    try {
      entries = await this.load();
    } catch (err) {
      return { id, applied: false, message: `${(err as Error).message}; no decision is applied until it is readable` };
    }
    const seen = entries.get(id);
    if (seen) return seen.verdict ?? { id, applied: false, message: `decision ${id} was being applied when its applier stopped; whether it took effect shows in \`vigil audit show\` — decide again (a new decision) if it did not` };
    entries.set(id, { id, t: now });
    await this.save();
    const verdict = await apply().catch((err: Error): DecisionVerdict => ({ id, applied: false, message: err.message }));
    entries.delete(id); // re-inserted: newest last, so the bound drops the oldest
    entries.set(id, { id, t: now, verdict });
    for (const old of entries.keys()) {
      if (entries.size <= this.size) break;
      entries.delete(old);
    }
    await this.save();
    return verdict;
  }

  private async load(): Promise<Map<string, LedgerEntry>> {
    if (this.entries) return this.entries;
    const raw = await this.store.readState<{ entries?: LedgerEntry[] }>(DECISION_LEDGER_STATE);
    // a concurrent first call may have loaded meanwhile; keep the one map
    this.entries ??= new Map((raw?.entries ?? []).filter((e) => e && typeof e.id === 'string').map((e) => [e.id, e]));
    return this.entries;
  }

  /** Writes one after another; each write takes the ledger as it is by then. */
  private save(): Promise<void> {
    const next = this.saving.then(() => this.store.writeState(DECISION_LEDGER_STATE, { entries: [...(this.entries?.values() ?? [])] }));
    this.saving = next.catch(() => undefined);
    return next;
  }
}

/**
 * Checks a decision that arrived from outside the process (the control socket), naming the bad field.
 * Throws; returns the decision typed.
 */
export function parseHumanDecision(raw: unknown): HumanDecision {
  if (!raw || typeof raw !== 'object') throw new Error('a decision must be a JSON object');
  const d = raw as Record<string, unknown>;
  const text = (field: string, optional = false): void => {
    const v = d[field];
    if (v === undefined && optional) return;
    if (typeof v !== 'string' || !v.trim() || v.length > 1000) throw new Error(`decision field "${field}" must be a non-empty string, got ${JSON.stringify(v)}`);
  };
  if (!DECISION_KINDS.includes(d.kind as HumanDecisionKind)) throw new Error(`decision field "kind" must be one of ${DECISION_KINDS.join(', ')}, got ${JSON.stringify(d.kind)}`);
  text('id');
  text('by');
  if (typeof d.t !== 'number' || !Number.isFinite(d.t)) throw new Error(`decision field "t" must be a time in ms, got ${JSON.stringify(d.t)}`);
  if (d.kind === 'threshold') {
    text('changeId');
    if (!THRESHOLD_ACTIONS.includes(d.action as ThresholdDecisionAction)) throw new Error(`decision field "action" must be one of ${THRESHOLD_ACTIONS.join(', ')}, got ${JSON.stringify(d.action)}`);
    return d as unknown as HumanDecision;
  }
  text('incidentId');
  if (d.kind === 'approve') text('stepId', true);
  if (d.kind === 'reject' || d.kind === 'label') text('note', true);
  if (d.kind === 'snooze' && !(Number.isInteger(d.minutes) && (d.minutes as number) >= 1 && (d.minutes as number) <= MAX_SNOOZE_MINUTES)) {
    throw new Error(`decision field "minutes" must be a whole number from 1 to ${MAX_SNOOZE_MINUTES}, got ${JSON.stringify(d.minutes)}`);
  }
  if (d.kind === 'label' && !HUMAN_LABELS.includes(d.label as HumanLabel)) throw new Error(`decision field "label" must be one of ${HUMAN_LABELS.join(', ')}, got ${JSON.stringify(d.label)}`);
  return d as unknown as HumanDecision;
}

const DECISION_KINDS: ReadonlyArray<HumanDecisionKind> = ['approve', 'reject', 'snooze', 'label', 'threshold'];
const THRESHOLD_ACTIONS: ReadonlyArray<ThresholdDecisionAction> = ['accept', 'reject', 'revert'];
