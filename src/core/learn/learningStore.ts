import type { Rule } from '../detect/rules';
import type { AutomationMode } from '../model/automation';
import { isOpen, type Incident } from '../model/incident';
import type { ClockPort, LoggerPort, StorePort } from '../ports';
import {
  LEARNING_STATE,
  acceptChange,
  describeChange,
  emptyLearningState,
  isReal,
  labeledAlerts,
  parseLearningState,
  rejectChange,
  revertChange,
  tuneThresholds,
  type LearningState,
  type ThresholdChange,
  type TuningOptions,
} from './thresholdTuning';

const SOURCE = 'the learning file (state/learning.json in the state directory)';

/**
 * Learned thresholds on a StorePort: loads them (a corrupted file is reported and the defaults used),
 * tunes from labeled incidents, and writes every change to the audit log as 'threshold-change'.
 */
export class ThresholdLearner {
  private current: LearningState = emptyLearningState();
  /** Outcome of each incident as last learned from, so each new label or verdict is learned once. */
  private readonly learnedOutcomes = new Map<string, string>();
  private tail: Promise<unknown> = Promise.resolve();
  /** Why the learned state could not be read, if it could not; shown to the user. */
  problem: string | undefined;

  constructor(
    private readonly store: StorePort,
    private readonly clock: ClockPort,
    private readonly logger?: LoggerPort,
    private readonly actor = 'vigil-learn',
  ) {}

  get state(): LearningState {
    return this.current;
  }

  /** Re-reads the file. Runs after any read or write of it still going on, as every method here does. */
  load(): Promise<LearningState> {
    return this.serial(() => this.loadNow());
  }

  /**
   * One thing at a time: a re-read that overlapped a decision could put back the state from before it,
   * and the next decision would then build on that and drop the first.
   */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.tail.then(work, work);
    this.tail = next.catch(() => undefined);
    return next;
  }

  private async loadNow(): Promise<LearningState> {
    let raw: unknown;
    try {
      raw = await this.store.readState<unknown>(LEARNING_STATE);
    } catch (err) {
      // FileStore names the file in its message
      return this.fail(`${(err as Error).message}; using default thresholds`);
    }
    const { state, problem } = parseLearningState(raw, SOURCE);
    if (problem) return this.fail(problem);
    this.problem = undefined;
    this.current = state;
    return state;
  }

  /** Reports a problem once, however often the file is re-read. */
  private fail(problem: string): LearningState {
    if (problem !== this.problem) this.logger?.log('error', problem);
    this.problem = problem;
    this.current = emptyLearningState();
    return this.current;
  }

  /** Tunes from every labeled incident; suggest mode proposes, auto applies. Returns the new changes. */
  learn(incidents: ReadonlyArray<Incident>, rules: ReadonlyArray<Rule>, mode: AutomationMode, options?: TuningOptions): Promise<ThresholdChange[]> {
    return this.serial(() => this.learnNow(incidents, rules, mode, options));
  }

  private async learnNow(incidents: ReadonlyArray<Incident>, rules: ReadonlyArray<Rule>, mode: AutomationMode, options?: TuningOptions): Promise<ThresholdChange[]> {
    const { state, changes } = tuneThresholds(this.current, labeledAlerts(incidents, rules), rules, { mode, now: this.clock.now() }, options);
    if (changes.length === 0) return [];
    await this.commit(state, changes);
    return changes;
  }

  /**
   * The live agent's entry: learns from every closed incident with a human label or a verified outcome,
   * when one of them is new or changed since the last call. Re-reads the file first, so a decision made
   * meanwhile with `vigil thresholds` is not overwritten; a file that cannot be read is left alone.
   */
  learnFromOutcomes(incidents: ReadonlyArray<Incident>, rules: ReadonlyArray<Rule>, mode: AutomationMode, options?: TuningOptions): Promise<ThresholdChange[]> {
    return this.serial(async () => {
      const labeled = incidents.filter((i) => !isOpen(i) && isReal(i) !== undefined);
      const fresh = labeled.filter((i) => this.learnedOutcomes.get(i.id) !== outcomeSignature(i));
      if (fresh.length === 0) return [];
      await this.loadNow();
      if (this.problem) return []; // the user has to look at the file first; the defaults apply meanwhile
      for (const i of fresh) this.learnedOutcomes.set(i.id, outcomeSignature(i));
      return this.learnNow(labeled, rules, mode, options);
    });
  }

  accept(id: string, by: string): Promise<ThresholdChange> {
    return this.decide(() => acceptChange(this.current, id, by, this.clock.now()), by);
  }

  reject(id: string, by: string): Promise<ThresholdChange> {
    return this.decide(() => rejectChange(this.current, id, by, this.clock.now()), by);
  }

  revert(id: string, by: string): Promise<ThresholdChange> {
    return this.decide(() => revertChange(this.current, id, by, this.clock.now()), by);
  }

  /** Decides on the state as it is when the decision's turn comes, not when it was asked for. */
  private decide(change: () => { state: LearningState; change: ThresholdChange }, by: string): Promise<ThresholdChange> {
    return this.serial(async () => {
      const r = change();
      await this.commit(r.state, [r.change], by);
      return r.change;
    });
  }

  private async commit(state: LearningState, changes: ReadonlyArray<ThresholdChange>, actor = this.actor): Promise<void> {
    await this.store.writeState(LEARNING_STATE, state);
    this.current = state;
    this.problem = undefined;
    for (const c of changes) {
      await this.store.appendAudit({ t: this.clock.now(), actor, kind: 'threshold-change', object: c.target, summary: describeChange(c), detail: c });
      this.logger?.log('info', describeChange(c));
    }
  }
}

function outcomeSignature(i: Incident): string {
  return `${i.outcome?.kind ?? ''}|${i.outcome?.label ?? ''}`;
}
