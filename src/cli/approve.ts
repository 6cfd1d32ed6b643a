import { latestProposal } from '../core/model/incident';
import type { HumanDecision } from '../core/model/decision';
import { writeDecision } from '../infra/kubernetes/incidentResources';
import { connectKube } from '../infra/kubernetes/kubeClient';
import { FileStore } from '../infra/store/fileStore';
import { parseCliArgs } from './args';
import { consoleOutput, DECISION_OPTIONS, decisionBase, sendAndReport, stateDirOf, type DecisionOutput } from './decide';

/** Options of a decision written to an in-cluster agent's Incident resource. */
const KUBE_OPTIONS = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  step: { type: 'string' },
} as const;

/**
 * `vigil approve <incident>` / `vigil reject <incident>`: a human decision on a proposal, applied by the running
 * agent. With `--kubeconfig` the agent runs in the cluster: the decision goes into the Incident's spec.decision with
 * the user's own credentials, which RBAC and the chart's admission policy check.
 */
export function command(kind: 'approve' | 'reject') {
  return async function run(argv: string[], output: DecisionOutput = consoleOutput): Promise<number> {
    const options = { ...DECISION_OPTIONS, ...KUBE_OPTIONS, ...(kind === 'reject' ? { note: { type: 'string' as const } } : {}) };
    const { values, positionals } = parseCliArgs(kind, argv, options, true);
    const incidentId = positionals[0];
    if (!incidentId) throw new Error(`vigil ${kind}: name the incident, e.g. \`vigil ${kind} inc-20261123T120000Z-checkout-1 --state-dir DIR\` or \`vigil ${kind} inc-20261123t120000z-checkout-1 --kubeconfig FILE\``);
    if (values.kubeconfig !== undefined || values.context !== undefined) return inCluster(kind, incidentId, values, output);
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

async function inCluster(kind: 'approve' | 'reject', incident: string, values: Record<string, unknown>, output: DecisionOutput): Promise<number> {
  for (const local of ['state-dir', 'by', 'decision-id', 'note'] as const) {
    if (values[local] !== undefined) throw new Error(`vigil ${kind}: --${local} does not apply with --kubeconfig (the decision goes to the Incident resource; who decides is the user the API server knows you as)`);
  }
  const str = (k: string) => (values[k] === undefined ? undefined : String(values[k]));
  const conn = await connectKube({ kubeconfig: str('kubeconfig'), context: str('context') });
  try {
    const d = await writeDecision(conn, { incident, action: kind, namespace: str('namespace'), expectedStepId: str('step') });
    output.out(`${kind === 'approve' ? 'approved' : 'rejected'} step "${d.stepId}" of incident ${d.namespace}/${d.name} as ${d.by} (spec.decision written; the leading agent ${kind === 'approve' ? 'runs it' : 'closes the incident'} and reports in its status)`);
    output.out(`(follow it: kubectl get incident ${d.name} -n ${d.namespace} -w --context ${conn.context})`);
    return 0;
  } catch (err) {
    output.err(`vigil ${kind}: refused — ${(err as Error).message} (cluster ${conn.server}, context ${conn.context})`);
    return 1;
  }
}

export const run = command('approve');
