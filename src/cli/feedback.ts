import { parseLabel } from '../core/learn/feedback';
import { parseCliArgs } from './args';
import { consoleOutput, DECISION_OPTIONS, decisionBase, sendAndReport, stateDirOf, type DecisionOutput } from './decide';

/** `vigil feedback <incident> --label ...`: a human's verdict on an incident, applied by the running agent, learned from and audited. */
export async function run(argv: string[], output: DecisionOutput = consoleOutput): Promise<number> {
  const { values, positionals } = parseCliArgs('feedback', argv, { ...DECISION_OPTIONS, label: { type: 'string' }, note: { type: 'string' } }, true);
  const incidentId = positionals[0];
  if (!incidentId) throw new Error('vigil feedback: name the incident, e.g. `vigil feedback inc-20261123T120000Z-checkout-1 --label false-alarm --state-dir DIR`');
  let label;
  try {
    label = parseLabel(values.label as string | undefined);
  } catch (err) {
    throw new Error(`vigil feedback: ${(err as Error).message}`);
  }
  const note = values.note === undefined ? {} : { note: String(values.note) };
  return sendAndReport('feedback', stateDirOf(values), { ...decisionBase(values), kind: 'label', incidentId, label, ...note }, output);
}
