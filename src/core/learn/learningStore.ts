import type { Rule } from '../detect/rules';
import type { AutomationMode } from '../model/automation';
import type { Incident } from '../model/incident';
import type { ClockPort, LoggerPort, StorePort } from '../ports';
import {
  LEARNING_STATE,
  acceptChange,
  describeChange,
  emptyLearningState,
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

  async load(): Promise<LearningState> {
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
  async learn(incidents: ReadonlyArray<Incident>, rules: ReadonlyArray<Rule>, mode: AutomationMode, options?: TuningOptions): Promise<ThresholdChange[]> {
    const { state, changes } = tuneThresholds(this.current, labeledAlerts(incidents, rules), rules, { mode, now: this.clock.now() }, options);
    if (changes.length === 0) return [];
    await this.commit(state, changes);
    return changes;
  }

  accept(id: string, by: string): Promise<ThresholdChange> {
    return this.decide(acceptChange(this.current, id, by, this.clock.now()), by);
  }

  reject(id: string, by: string): Promise<ThresholdChange> {
    return this.decide(rejectChange(this.current, id, by, this.clock.now()), by);
  }

  revert(id: string, by: string): Promise<ThresholdChange> {
    return this.decide(revertChange(this.current, id, by, this.clock.now()), by);
  }

  private async decide(r: { state: LearningState; change: ThresholdChange }, by: string): Promise<ThresholdChange> {
    await this.commit(r.state, [r.change], by);
    return r.change;
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
