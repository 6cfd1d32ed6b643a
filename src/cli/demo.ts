import path from 'node:path';
import { DIAGNOSIS_TITLES } from '../core/model/diagnosis';
import { intOption, parseCliArgs } from './args';
import { phaseTable, runFaultDrill, secondsText, textTable, type DrillFault, type KubernetesDrillOptions } from './faultDrill';

const SEQUENCE: ReadonlyArray<DrillFault> = [
  { fault: 'crash-loop', target: 'shop/checkout', expected: 'crash-loop' },
  { fault: 'bad-release', target: 'shop/frontend', expected: 'bad-release' },
  { fault: 'memory-leak', target: 'shop/cart', expected: 'memory-leak' },
];

/** The real control plane's components (`npm run k8s:build`), with this CLI as the node agent; refuses with the reason and the fix. */
async function realControlPlane(): Promise<KubernetesDrillOptions> {
  const { controlPlanePrerequisiteProblem, findComponents } = await import('../sandbox/controlPlane/components');
  const problem = controlPlanePrerequisiteProblem();
  if (problem) throw new Error(`vigil demo --control-plane kubernetes: ${problem}`);
  const components = findComponents();
  if ('reason' in components) throw new Error(`vigil demo --control-plane kubernetes: ${components.reason}`);
  return { binaries: components.dir, vigilCommand: [process.execPath, ...process.execArgv, process.argv[1]] };
}

/** `vigil demo`: sandbox + agent in auto mode + a sequence of faults, with a live timeline and a closing table. */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseCliArgs('demo', argv, { seed: { type: 'string' }, 'state-dir': { type: 'string' }, 'warmup-seconds': { type: 'string' }, 'interval-seconds': { type: 'string' }, faults: { type: 'string' }, 'control-plane': { type: 'string' } });
  const controlPlane = String(values['control-plane'] ?? 'embedded');
  if (controlPlane !== 'embedded' && controlPlane !== 'kubernetes') throw new Error(`vigil demo: --control-plane must be embedded or kubernetes, got "${controlPlane}"`);
  const only = values.faults ? String(values.faults).split(',') : undefined;
  const faults = only ? SEQUENCE.filter((f) => only.includes(f.fault)) : SEQUENCE;
  if (faults.length === 0) throw new Error(`vigil demo: --faults takes some of ${SEQUENCE.map((f) => f.fault).join(', ')}`);
  const start = Date.now();
  const say = (text: string) => console.log(`+${String(Math.round((Date.now() - start) / 1000)).padStart(3)}s  ${text}`);
  const kubernetes = controlPlane === 'kubernetes' ? await realControlPlane() : undefined;
  console.log(`Vigil demo — ${kubernetes ? 'a real Kubernetes control plane with the simulation as its nodes' : 'a sandbox cluster'}, the self-healing agent in auto mode, and real faults.\n`);
  const { rows, stateDir } = await runFaultDrill({
    seed: intOption('demo', 'seed', values.seed, 7),
    faults,
    intervalMs: intOption('demo', 'interval-seconds', values['interval-seconds'], 5) * 1000,
    warmupMs: intOption('demo', 'warmup-seconds', values['warmup-seconds'], 45) * 1000,
    timeoutMs: 100_000,
    sequential: true,
    prometheus: 'auto',
    stateDir: values['state-dir'] ? path.resolve(String(values['state-dir'])) : undefined,
    onLine: say,
    kubernetes,
  });
  console.log('\nSummary');
  console.log(
    textTable(
      ['fault', 'target', 'diagnosis', 'time to detect', 'time to recover', 'actions', 'outcome'],
      rows.map((r) => [r.fault.fault, r.fault.target, r.diagnosis ? DIAGNOSIS_TITLES[r.diagnosis] : '—', secondsText(r.detectedAt !== undefined ? r.detectedAt - r.injectedAt : undefined), secondsText(r.recoveredAt !== undefined ? r.recoveredAt - r.injectedAt : undefined), r.actions.join('; ') || '—', r.outcome]),
    ),
  );
  console.log('\nWhere the seconds went (from injection; symptoms and healed are the sandbox\'s ground truth)');
  console.log(phaseTable(rows));
  console.log(`\nEverything Vigil did is in ${stateDir}:`);
  console.log(`  node dist/cli.js audit verify --state-dir ${stateDir}    # the hash-chained audit log`);
  console.log(`  node dist/cli.js replay --list --state-dir ${stateDir}   # the recorded incidents, replayable`);
  console.log(`Total ${Math.round((Date.now() - start) / 1000)} s.`);
  return rows.every((r) => r.outcome === 'recovered') ? 0 : 1;
}
