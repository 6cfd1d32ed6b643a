import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { DecisionVerdict, HumanDecision } from '../core/model/decision';
import { submitDecision } from '../infra/control/controlClient';

/** Where a decision command prints; tests pass their own. */
export interface DecisionOutput {
  out(line: string): void;
  err(line: string): void;
}

export const consoleOutput: DecisionOutput = { out: (l) => console.log(l), err: (l) => console.error(l) };

/** Options every decision command takes. */
export const DECISION_OPTIONS = {
  'state-dir': { type: 'string' },
  by: { type: 'string' },
  'decision-id': { type: 'string' },
} as const;

type Values = Record<string, unknown>;

export function stateDirOf(values: Values): string {
  return path.resolve(String(values['state-dir'] ?? '.vigil-state'));
}

/** The fields every decision carries: a fresh id unless `--decision-id` repeats one, who, when. */
export function decisionBase(values: Values): { id: string; by: string; t: number } {
  return { id: String(values['decision-id'] ?? randomUUID()), by: `user:${String(values.by ?? os.userInfo().username)} (cli)`, t: Date.now() };
}

/**
 * Sends the decision to the agent running on the state directory (or, when none runs, applies it to the files
 * under the agent's lock) and prints the verdict: exit 0 when applied, 1 when refused.
 */
export async function sendAndReport(command: string, stateDir: string, d: HumanDecision, output: DecisionOutput = consoleOutput): Promise<number> {
  const { verdict, via } = await submitDecision(stateDir, d);
  report(command, stateDir, d, verdict, via, output);
  return verdict.applied ? 0 : 1;
}

function report(command: string, stateDir: string, d: HumanDecision, v: DecisionVerdict, via: 'agent' | 'files', output: DecisionOutput): void {
  const tag = `decision ${d.id} by ${d.by}`;
  if (!v.applied) {
    output.err(`vigil ${command}: refused — ${v.message} (${tag})`);
    return;
  }
  const where = via === 'agent' ? 'applied by the running agent' : `no agent runs on ${stateDir}: written to its files under the agent's lock, the agent starts from them`;
  output.out(v.message);
  output.out(`(${where}; ${tag}, audited — \`vigil audit show --state-dir ${stateDir}\`)`);
}
