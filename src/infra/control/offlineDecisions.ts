import { applyLabel } from '../../core/learn/feedback';
import { ThresholdLearner } from '../../core/learn/learningStore';
import { applyHumanDecision, DecisionLedger, type IncidentDecisions } from '../../core/loop/humanDecisions';
import type { DecisionVerdict, HumanDecision } from '../../core/model/decision';
import type { HumanLabel, Incident } from '../../core/model/incident';
import type { ClockPort } from '../../core/ports';
import { FileStore } from '../store/fileStore';
import { SystemClock } from '../systemClock';

/**
 * Applies a decision to the state directory's files when no agent runs. The caller holds the agent's lock.
 * Labels and threshold decisions take effect in the files, as the agent would apply them; approvals,
 * rejections and snoozes need the agent that proposed the step, so they are refused and nothing is recorded.
 */
export async function applyWithoutAgent(stateDir: string, d: HumanDecision, clock: ClockPort = new SystemClock()): Promise<DecisionVerdict> {
  const store = new FileStore(stateDir);
  const learner = new ThresholdLearner(store, clock);
  await learner.load();
  const thresholds = {
    accept: (id: string, by: string) => (learner.problem ? Promise.reject(new Error(learner.problem)) : learner.accept(id, by)),
    reject: (id: string, by: string) => (learner.problem ? Promise.reject(new Error(learner.problem)) : learner.reject(id, by)),
    revert: (id: string, by: string) => (learner.problem ? Promise.reject(new Error(learner.problem)) : learner.revert(id, by)),
  };
  return applyHumanDecision({ incidents: new IncidentFiles(store, clock), thresholds, store, clock, ledger: new DecisionLedger(store) }, d);
}

class IncidentFiles implements IncidentDecisions {
  constructor(
    private readonly store: FileStore,
    private readonly clock: ClockPort,
  ) {}

  get(id: string): Promise<Incident | undefined> {
    return this.store.loadIncident(id);
  }

  async label(id: string, label: HumanLabel, by: string, note?: string): Promise<Incident> {
    const i = await this.store.loadIncident(id);
    if (!i) throw new Error(`no incident "${id}"`);
    const labelled = applyLabel(i, label, by, this.clock.now(), note);
    await this.store.saveIncident(labelled);
    return labelled;
  }

  approve(id: string): Promise<Incident> {
    return Promise.reject(this.needsAgent(id, 'approve'));
  }

  reject(id: string): Promise<Incident> {
    return Promise.reject(this.needsAgent(id, 'reject'));
  }

  snooze(id: string): Promise<Incident> {
    return Promise.reject(this.needsAgent(id, 'snooze'));
  }

  private needsAgent(id: string, verb: string): Error {
    return new Error(
      `no Vigil agent is running on ${this.store.stateDir}; only the agent that proposed a step can ${verb} it, so nothing was recorded. ` +
        `Incident ${id} stays waiting for approval: start \`vigil agent --state-dir ${this.store.stateDir}\` and ${verb} it again.`,
    );
  }
}
