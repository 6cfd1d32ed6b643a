import { MAX_SNOOZE_MINUTES } from '../core/model/decision';
import { intOption, parseCliArgs } from './args';
import { consoleOutput, DECISION_OPTIONS, decisionBase, sendAndReport, stateDirOf, type DecisionOutput } from './decide';

/** `vigil snooze <incident> [--minutes 30]`: hold a proposal; the running agent proposes it again afterwards. */
export async function run(argv: string[], output: DecisionOutput = consoleOutput): Promise<number> {
  const { values, positionals } = parseCliArgs('snooze', argv, { ...DECISION_OPTIONS, minutes: { type: 'string' } }, true);
  const incidentId = positionals[0];
  if (!incidentId) throw new Error('vigil snooze: name the incident, e.g. `vigil snooze inc-20261123T120000Z-checkout-1 --minutes 30 --state-dir DIR`');
  const minutes = intOption('snooze', 'minutes', values.minutes, 30);
  if (minutes < 1 || minutes > MAX_SNOOZE_MINUTES) throw new Error(`vigil snooze: --minutes must be from 1 to ${MAX_SNOOZE_MINUTES}, got ${minutes}`);
  return sendAndReport('snooze', stateDirOf(values), { ...decisionBase(values), kind: 'snooze', incidentId, minutes }, output);
}
