import os from 'node:os';
import path from 'node:path';
import { describeAction } from '../core/model/action';
import { latestProposal } from '../core/model/incident';
import { ApprovalInbox } from '../infra/approvalInbox';
import { FileStore } from '../infra/store/fileStore';
import { parseCliArgs } from './args';

/** `vigil approve <incident>` / `vigil reject <incident>`: hands a human decision to the running agent. */
export function command(decision: 'approve' | 'reject') {
  return async function run(argv: string[]): Promise<number> {
    const { values, positionals } = parseCliArgs(decision, argv, { 'state-dir': { type: 'string' }, by: { type: 'string' }, note: { type: 'string' } }, true);
    const id = positionals[0];
    if (!id) throw new Error(`vigil ${decision}: name the incident, e.g. \`vigil ${decision} inc-20261123T120000Z-checkout-1 --state-dir DIR\``);
    const stateDir = path.resolve(String(values['state-dir'] ?? '.vigil-state'));
    const incident = await new FileStore(stateDir).loadIncident(id);
    if (!incident) throw new Error(`vigil ${decision}: no incident "${id}" in ${stateDir} (list them with \`vigil replay --list --state-dir ${stateDir}\`)`);
    if (incident.state !== 'awaiting-approval') {
      console.error(`vigil ${decision}: incident ${id} is "${incident.state}", not waiting for approval; nothing to ${decision}.`);
      return 1;
    }
    const by = `user:${String(values.by ?? os.userInfo().username)} (cli)`;
    // the step as proposed now: if a new diagnosis changes the proposal before the agent reads this, it refuses
    const step = latestProposal(incident);
    await new ApprovalInbox(stateDir).submit({ incidentId: id, decision, by, note: values.note as string | undefined, t: Date.now(), ...(step ? { stepId: step.stepId } : {}) });
    const what = step ? ` step "${step.stepId}" (${describeAction(step.action)}) of` : '';
    console.log(`${decision === 'approve' ? 'Approved' : 'Rejected'}${what} ${id} as ${by}; the running agent picks it up within a second (see its log and \`vigil audit show --state-dir ${stateDir}\`).`);
    return 0;
  };
}

export const run = command('approve');
