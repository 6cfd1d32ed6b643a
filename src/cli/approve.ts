import { latestProposal } from '../core/model/incident';
import type { HumanDecision } from '../core/model/decision';
import { FileStore } from '../infra/store/fileStore';
import { parseCliArgs } from './args';
import { consoleOutput, DECISION_OPTIONS, decisionBase, sendAndReport, stateDirOf, type DecisionOutput } from './decide';

/** `vigil approve <incident>` / `vigil reject <incident>`: a human decision on a proposal, applied by the running agent. */
export function command(kind: 'approve' | 'reject') {
  return async function run(argv: string[], output: DecisionOutput = consoleOutput): Promise<number> {
    const options = { ...DECISION_OPTIONS, ...(kind === 'reject' ? { note: { type: 'string' as const } } : {}) };
    const { values, positionals } = parseCliArgs(kind, argv, options, true);
    const incidentId = positionals[0];
    if (!incidentId) throw new Error(`vigil ${kind}: name the incident, e.g. \`vigil ${kind} inc-20261123T120000Z-checkout-1 --state-dir DIR\``);
    const stateDir = stateDirOf(values);
    const base = decisionBase(values);
    if (kind === 'reject') return sendAndReport(kind, stateDir, { ...base, kind, incidentId, ...(values.note === undefined ? {} : { note: String(values.note) }) }, output);
    // the step as proposed now (the files are read, never written): if the proposal changes before the agent applies this, it refuses
    const incident = await new FileStore(stateDir).loadIncident(incidentId).catch(() => undefined);
    const step = incident && latestProposal(incident);
    const d: HumanDecision = { ...base, kind, incidentId, ...(step ? { stepId: step.stepId } : {}) };
    return sendAndReport(kind, stateDir, d, output);
  };
}

export const run = command('approve');
