import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DIAGNOSIS_TITLES } from '../core/model/diagnosis';
import type { Incident, TimelineEntry } from '../core/model/incident';
import { describeAction } from '../core/model/action';
import { targetLabel } from '../core/model/target';
import type { LogFields, LoggerPort, LogLevel } from '../core/ports';
import { VigilRuntime } from '../infra/runtime';
import { startSandbox, type Sandbox } from '../sandbox/sandbox';
import { intOption, parseCliArgs } from './args';

interface DemoFault {
  readonly fault: string;
  readonly target: string;
  readonly expected: string;
}

const SEQUENCE: ReadonlyArray<DemoFault> = [
  { fault: 'crash-loop', target: 'shop/checkout', expected: 'crash loop' },
  { fault: 'bad-release', target: 'shop/frontend', expected: 'bad release' },
  { fault: 'memory-leak', target: 'shop/cart', expected: 'memory leak' },
];

interface Row {
  fault: DemoFault;
  injectedAt: number;
  detectedAt?: number;
  recoveredAt?: number;
  diagnosis?: string;
  actions: string[];
  outcome: string;
}

/** Keeps only warnings and errors of the runtime on stderr; the demo prints its own timeline. */
class QuietLogger implements LoggerPort {
  constructor(private readonly component = 'vigil') {}
  log(level: LogLevel, message: string, fields?: LogFields): void {
    if (level === 'warn' || level === 'error') process.stderr.write(`  [${this.component}] ${level}: ${message}${fields?.incident ? '' : ''}\n`);
  }
  child(component: string): LoggerPort {
    return new QuietLogger(component);
  }
}

const clockText = (start: number, t: number) => `+${String(Math.round((t - start) / 1000)).padStart(3)}s`;
const secs = (ms: number | undefined) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(0)} s`);

/** `vigil demo`: sandbox + agent in auto mode + a sequence of faults, with a live timeline and a closing table. */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseCliArgs('demo', argv, { seed: { type: 'string' }, 'state-dir': { type: 'string' }, 'warmup-seconds': { type: 'string' }, 'interval-seconds': { type: 'string' }, faults: { type: 'string' } });
  const seed = intOption('demo', 'seed', values.seed, 7);
  const intervalMs = intOption('demo', 'interval-seconds', values['interval-seconds'], 5) * 1000;
  const warmupMs = intOption('demo', 'warmup-seconds', values['warmup-seconds'], 45) * 1000;
  const stateDir = path.resolve(String(values['state-dir'] ?? mkdtempSync(path.join(os.tmpdir(), 'vigil-demo-'))));
  const only = values.faults ? String(values.faults).split(',') : undefined;
  const sequence = only ? SEQUENCE.filter((f) => only.includes(f.fault)) : SEQUENCE;
  const start = Date.now();
  const say = (text: string) => console.log(`${clockText(start, Date.now())}  ${text}`);

  console.log('Vigil demo — a sandbox cluster, the self-healing agent in auto mode, and real faults.\n');
  const sandbox: Sandbox = await startSandbox({ seed, daySeconds: 600, kubeconfigPath: path.join(stateDir, 'sandbox.kubeconfig') });
  say(`sandbox cluster up: ${sandbox.apiServer} (kubectl --kubeconfig ${sandbox.kubeconfig} get pods -A)`);
  const runtime = await VigilRuntime.create({ kubeconfig: sandbox.kubeconfig, mode: 'auto', stateDir, intervalMs, logger: new QuietLogger(), identity: `vigil-demo@${os.hostname()}` });

  const rows: Row[] = [];
  const seen = new Map<string, number>();
  runtime.engine.onChange((i) => {
    const n = seen.get(i.id) ?? 0;
    for (const e of i.timeline.slice(n)) say(describe(i, e));
    seen.set(i.id, i.timeline.length);
  });
  await runtime.start();
  say(`agent running in auto mode, scraping every ${intervalMs / 1000} s; state in ${stateDir}`);
  say(`learning the services' normal behaviour for ${warmupMs / 1000} s...`);
  await sleep(warmupMs);

  try {
    for (const fault of sequence) {
      const injected = sandbox.simulation.handleControl('POST', '/sandbox/v1/faults', { fault: fault.fault, target: fault.target, durationSeconds: 600 });
      const injectedAt = Date.now();
      const row: Row = { fault, injectedAt, actions: [], outcome: 'not detected' };
      rows.push(row);
      if (injected.status >= 300) {
        say(`could not inject ${fault.fault}: ${JSON.stringify(injected.body)}`);
        row.outcome = 'not injected';
        continue;
      }
      say(`FAULT  ${fault.fault} injected on ${fault.target}`);
      const [ns, name] = fault.target.split('/');
      const deadline = injectedAt + 120_000;
      let incident: Incident | undefined;
      while (Date.now() < deadline) {
        await sleep(500);
        incident = runtime.engine.list().find((i) => i.openedAt >= injectedAt - 1000 && (i.target.name === name || i.diagnosis?.details?.affected?.some((a) => a.name === name)) && (i.target.namespace ?? ns) === ns);
        if (incident && (incident.state === 'recovered' || incident.state === 'escalated' || incident.state === 'closed')) break;
      }
      // the fault's own cause is fixed by the remediation; end it in the simulator too so the next fault starts clean
      const id = (injected.body as { id?: string }).id;
      if (id) sandbox.simulation.handleControl('DELETE', `/sandbox/v1/faults/${id}`, undefined);
      if (incident) {
        row.detectedAt = incident.openedAt;
        row.diagnosis = incident.diagnosis ? DIAGNOSIS_TITLES[incident.diagnosis.kind] : undefined;
        row.actions = incident.timeline.filter((e): e is Extract<TimelineEntry, { kind: 'acted' }> => e.kind === 'acted').map((e) => describeAction(e.result.action));
        row.recoveredAt = incident.state === 'recovered' ? incident.outcome?.t : undefined;
        row.outcome = incident.state === 'recovered' ? 'recovered' : incident.state === 'escalated' ? 'escalated to a human' : incident.state;
      }
      await sleep(10_000);
    }
  } finally {
    await runtime.dispose();
    await sandbox.stop();
  }

  console.log('\nSummary');
  const header = ['fault', 'target', 'diagnosis', 'time to detect', 'time to recover', 'actions', 'outcome'];
  const table = rows.map((r) => [r.fault.fault, r.fault.target, r.diagnosis ?? '—', secs(r.detectedAt !== undefined ? r.detectedAt - r.injectedAt : undefined), secs(r.recoveredAt !== undefined ? r.recoveredAt - r.injectedAt : undefined), r.actions.join('; ') || '—', r.outcome]);
  const widths = header.map((h, c) => Math.max(h.length, ...table.map((row) => row[c].length)));
  const line = (cells: string[]) => `  ${cells.map((cell, c) => cell.padEnd(widths[c])).join('  ')}`;
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of table) console.log(line(r));
  console.log(`\nEverything Vigil did is in ${stateDir}:`);
  console.log(`  node dist/cli.js audit verify --state-dir ${stateDir}    # the hash-chained audit log`);
  console.log(`  node dist/cli.js replay --list --state-dir ${stateDir}   # the recorded incidents`);
  console.log(`Total ${Math.round((Date.now() - start) / 1000)} s.`);
  return rows.every((r) => r.outcome === 'recovered') ? 0 : 1;
}

function describe(i: Incident, e: TimelineEntry): string {
  const where = targetLabel(i.target);
  switch (e.kind) {
    case 'detected':
      return `DETECT ${where}: ${e.anomaly.reason}`;
    case 'diagnosed':
      return `DIAG   ${where}: ${DIAGNOSIS_TITLES[e.diagnosis.kind]} (${Math.round(e.diagnosis.confidence * 100)}%) — ${e.diagnosis.summary}`;
    case 'proposed':
      return `PROPOSE ${where}: ${describeAction(e.action)} (waiting for approval)`;
    case 'refused':
      return `HOLD   ${where}: ${e.gates.refusedBy?.gate}: ${e.gates.refusedBy?.reason}`;
    case 'approved':
    case 'rejected':
    case 'snoozed':
      return `${e.kind.toUpperCase()} ${where} by ${e.by}`;
    case 'acted':
      return `ACT    ${where}: ${e.result.summary}`;
    case 'action-failed':
      return `FAILED ${where}: ${describeAction(e.action)}: ${e.error}`;
    case 'verified':
      return `VERIFY ${where}: ${e.verdict.status} — ${e.verdict.summary}`;
    case 'escalated':
      return `ESCALATE ${where}: ${e.reason}`;
    case 'resolved':
      return `DONE   ${where}: ${e.outcome.kind}${e.outcome.recoveredBy ? ` by step "${e.outcome.recoveredBy}"` : ''}`;
    case 'note':
      return `NOTE   ${where}: ${e.text}`;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
