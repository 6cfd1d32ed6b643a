import os from 'node:os';
import path from 'node:path';
import { applyLabel, parseLabel } from '../core/learn/feedback';
import { targetKey } from '../core/model/target';
import { FileStore } from '../infra/store/fileStore';
import { parseCliArgs } from './args';

/** `vigil feedback <incident> --label ...`: a human's verdict on a recorded incident, kept for learning and audited. */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCliArgs('feedback', argv, { label: { type: 'string' }, note: { type: 'string' }, by: { type: 'string' }, 'state-dir': { type: 'string' } }, true);
  const id = positionals[0];
  if (!id) throw new Error('vigil feedback: name the incident, e.g. `vigil feedback inc-20261123T120000Z-checkout-1 --label false-alarm --state-dir DIR`');
  let label;
  try {
    label = parseLabel(values.label as string | undefined);
  } catch (err) {
    throw new Error(`vigil feedback: ${(err as Error).message}`);
  }
  const stateDir = path.resolve(String(values['state-dir'] ?? '.vigil-state'));
  const store = new FileStore(stateDir);
  const incident = await store.loadIncident(id);
  if (!incident) throw new Error(`vigil feedback: no incident "${id}" in ${stateDir} (list them with \`vigil replay --list --state-dir ${stateDir}\`)`);
  const by = `user:${String(values.by ?? os.userInfo().username)} (cli)`;
  const note = values.note === undefined ? undefined : String(values.note);
  const now = Date.now();
  const labelled = applyLabel(incident, label, by, now, note);
  await store.saveIncident(labelled);
  await store.appendAudit({ t: now, actor: by, kind: 'feedback', incidentId: id, object: targetKey(incident.target), summary: `labelled ${label}${note ? `: ${note}` : ''}`, detail: { label, note, previous: incident.outcome?.label } });
  console.log(`Labelled ${id} as ${label}${incident.outcome?.label && incident.outcome.label !== label ? ` (was ${incident.outcome.label})` : ''}; threshold tuning and remediation ranking learn from it.`);
  return 0;
}
