import { ThresholdLearner } from '../core/learn/learningStore';
import { describeChange, type ThresholdChange } from '../core/learn/thresholdTuning';
import type { ThresholdDecisionAction } from '../core/model/decision';
import { FileStore } from '../infra/store/fileStore';
import { SystemClock } from '../infra/systemClock';
import { parseCliArgs } from './args';
import { consoleOutput, DECISION_OPTIONS, decisionBase, sendAndReport, stateDirOf, type DecisionOutput } from './decide';

/** Where output goes; tests pass their own. */
export type ThresholdsOutput = DecisionOutput;

const DECISIONS: ReadonlyArray<ThresholdDecisionAction> = ['accept', 'reject', 'revert'];

/**
 * `vigil thresholds [--state-dir DIR] [--json]` lists every learned threshold change (old → new, the incidents
 * that justified it, proposed/applied/rejected/reverted), reading the files; `vigil thresholds accept|reject|revert
 * <change-id>` decides one: the running agent applies it (or, when none runs, the files are written under its lock).
 */
export async function run(argv: string[], output: ThresholdsOutput = consoleOutput): Promise<number> {
  const { values, positionals } = parseCliArgs('thresholds', argv, { ...DECISION_OPTIONS, json: { type: 'boolean' } }, true);
  const stateDir = stateDirOf(values);
  const [verb, id] = positionals;
  if (!verb) {
    const learner = new ThresholdLearner(new FileStore(stateDir), new SystemClock());
    const state = await learner.load();
    if (learner.problem) {
      output.err(`vigil thresholds: ${learner.problem}`);
      return 1;
    }
    if (values.json) {
      output.out(JSON.stringify({ thresholds: state.thresholds, changes: state.changes }, null, 1));
      return 0;
    }
    if (state.changes.length === 0) {
      output.out(`No threshold changes in ${stateDir}: every detector uses its default. Changes appear as incidents are labelled (\`vigil feedback\`) or verified.`);
      return 0;
    }
    output.out(`Threshold changes in ${stateDir} (newest last):`);
    for (const c of state.changes) output.out(`  ${line(c)}`);
    const active = Object.values(state.thresholds);
    output.out(active.length ? `In force: ${active.map((t) => `${t.detector}${t.signal && !t.detector.endsWith(t.signal) ? `/${t.signal}` : ''} on ${t.target} = ${t.value} (default ${t.defaultValue})`).join('; ')}` : 'In force: defaults only.');
    const proposed = state.changes.filter((c) => c.status === 'proposed');
    if (proposed.length) output.out(`Decide a proposal with \`vigil thresholds accept|reject ${proposed[0].id} --state-dir ${stateDir}\`; undo an applied change with \`vigil thresholds revert <id>\`.`);
    return 0;
  }
  if (!DECISIONS.includes(verb as ThresholdDecisionAction)) {
    output.err(`vigil thresholds: unknown action "${verb}"; use accept, reject or revert followed by a change id (list them with \`vigil thresholds --state-dir ${stateDir}\`)`);
    return 2;
  }
  if (!id) {
    output.err(`vigil thresholds: name the change, e.g. \`vigil thresholds ${verb} thr-1 --state-dir ${stateDir}\``);
    return 2;
  }
  return sendAndReport('thresholds', stateDir, { ...decisionBase(values), kind: 'threshold', changeId: id, action: verb as ThresholdDecisionAction }, output);
}

function line(c: ThresholdChange): string {
  return `${describeChange(c)}${c.decidedBy ? ` [${c.status} by ${c.decidedBy} at ${new Date(c.decidedAt ?? c.t).toISOString()}]` : ` [${new Date(c.t).toISOString()}]`}`;
}
