/**
 * `npm run bench:heal [-- --seeds 3 --faults all|<group or fault>,… --parallel 1 --model on|off --control-plane embedded|kubernetes --metric-shape prometheus|opentelemetry|istio --verbose]`: the real loop against the sandbox
 * over real HTTP, in auto mode at a 5 s scrape interval (30 s rate windows); per fault and seed: the
 * diagnosis the playbook ran on, time to detect, time to recover, actions, outcome; then where the
 * seconds went (symptoms, detected, acted, healed by the sandbox's ground truth, verified) and medians.
 *
 * Groups: one sandbox each. The core two sit on services that do not call each other, so they run at
 * once. The others run alone, because in one namespace their symptoms overlap and the ground truth
 * turns ambiguous: a flag on checkout and an outage of payments both raise checkout's (and frontend's)
 * errors, a bad release of frontend fails as its callees checkout and cart do when they crash or leak,
 * a surge on cart raises frontend's latency, and a node failure touches every service with a pod on
 * that node.
 *
 * A surge saturates cart only near the peak of the sandbox's daily cycle, so its symptoms (and the
 * detection) can come a minute or more after injection: each drill waits up to 4 minutes.
 *
 * Auto mode with the default gates: a step at high risk (the drain) waits for approval; a simulated
 * on-call engineer approves each proposal the moment it appears, so its time is Vigil's alone.
 *
 * Never a false recovery: a recovered verdict before the sandbox's ground truth says the service healed is a false
 * recovery; after the verdict the fault stays in place for `--relapse-watch` seconds (default 60; the issue's bar is
 * 300) and the service turning unhealthy again by ground truth, or a new incident on it, is a relapse. Detection is
 * on time when the incident opened within two scrape intervals of the ground truth's first symptoms.
 *
 * Never a write beside the fault's own incident: every write of an incident no fault claims (a healthy caller restarted
 * for its callee's outage) is listed as "other writes" and fails the fault's row.
 *
 * `--metric-shape prometheus|opentelemetry|istio`: the pods name their request and latency metrics as a Prometheus client
 * library, OpenTelemetry (`http_server_request_duration_seconds`) or Istio's sidecars (`istio_requests_total`,
 * `istio_request_duration_milliseconds`) do, with no `deployment` label; on the embedded sandbox a real Prometheus
 * (`prometheus` on PATH) scrapes it and the agent, with no signals file, finds the names there. Without it the embedded
 * sandbox's agent scrapes the pods directly.
 *
 * `--control-plane kubernetes` (root, `npm run k8s:build`): each drill starts the real control plane with the node
 * agent as its nodes, applies the shop, and points the agent, with no signals file, at a Prometheus configured like
 * kube-prometheus-stack (no `deployment` label); one drill at a time (one network namespace). Run it under
 * `flock /work/k8s.lock`.
 *
 * Targets (median from injection to verified recovery): < 30 s for crash loop, bad release, bad feature flag,
 * dependency outage and node failure; < 45 s for memory leak, latency spike and traffic surge, whose symptoms build up.
 */
import path from 'node:path';
import { DIAGNOSIS_TITLES } from '../../src/core/model/diagnosis';
import { DEFAULT_SETTINGS, withSettings } from '../../src/core/settings';
import { phaseTable, runFaultDrill, secondsText, sinceInjection as since, textTable, type DrillFault, type DrillRow, type KubernetesDrillOptions } from '../../src/cli/faultDrill';
import { controlPlanePrerequisiteProblem, findComponents } from '../../src/sandbox/controlPlane/components';

const GROUPS: Record<string, DrillFault[]> = {
  core: [
    { fault: 'crash-loop', target: 'shop/checkout', expected: 'crash-loop' },
    { fault: 'memory-leak', target: 'shop/cart', expected: 'memory-leak' },
  ],
  // frontend calls checkout and cart: beside their crash loop or leak its release's errors are theirs to explain too
  // (the blame rules leave a release unblamed while a callee fails about as much as the caller), which is another drill
  release: [{ fault: 'bad-release', target: 'shop/frontend', expected: 'bad-release' }],
  flag: [{ fault: 'bad-feature-flag', target: 'shop/checkout', expected: 'bad-feature-flag' }],
  surge: [{ fault: 'traffic-surge', target: 'shop/cart', expected: 'traffic-surge' }],
  dependency: [{ fault: 'dependency-outage', target: 'payments/payments-api', expected: 'dependency-outage' }],
  // frontend: nothing calls it, so its slowness is no other service's symptom
  latency: [{ fault: 'latency-spike', target: 'shop/frontend', expected: 'latency-spike' }],
  node: [{ fault: 'node-failure', target: 'node-2', expected: 'node-failure' }],
};

/**
 * `--faults kinds` (not in `all`): a crash loop of every pod and a bad release of a StatefulSet (orders-db, 2 replicas)
 * and of a DaemonSet (log-agent, a pod per node), applied with the shop (workloadKindManifests()); the controllers of
 * the real control plane or of the embedded sandbox run them, and the remedies patch their own kind (a rollback
 * applies the previous ControllerRevision).
 */
const KIND_GROUPS: Record<string, DrillFault[]> = {
  'kinds-crash': [
    { fault: 'crash-loop', target: 'shop/orders-db', expected: 'crash-loop' },
    { fault: 'crash-loop', target: 'shop/log-agent', expected: 'crash-loop' },
  ],
  'kinds-release': [
    { fault: 'bad-release', target: 'shop/orders-db', expected: 'bad-release' },
    { fault: 'bad-release', target: 'shop/log-agent', expected: 'bad-release' },
  ],
};
/** `kinds` is both drills: a crash loop and a bad release of one workload at once would be one incident of two causes. */
const ALIASES: Record<string, string[]> = { kinds: ['kinds-crash', 'kinds-release'] };

/** Draining a node is high risk: the gates keep it for a human, played here by the bench, who approves at once. */
const ON_CALL = 'user:on-call (bench, approves at once)';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

function median(xs: ReadonlyArray<number>): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const right = (r: DrillRow) => r.playbook === r.fault.expected;

const INTERVAL_MS = 5000;
const TARGET_MS: Readonly<Record<string, number>> = {
  'crash-loop': 30_000,
  'bad-release': 30_000,
  'bad-feature-flag': 30_000,
  'dependency-outage': 30_000,
  'node-failure': 30_000,
  'memory-leak': 45_000,
  'latency-spike': 45_000,
  'traffic-surge': 45_000,
};

/** Incident opened within two intervals of the first symptoms, or before any (fixed before they showed, e.g. a leak caught early). */
const onTime = (r: DrillRow) => r.detectedAt !== undefined && (r.symptomsAt === undefined || r.detectedAt - r.symptomsAt <= 2 * INTERVAL_MS);
const lagText = (r: DrillRow) => (r.detectedAt === undefined ? '—' : r.symptomsAt === undefined ? 'before any' : `${((r.detectedAt - r.symptomsAt) / INTERVAL_MS).toFixed(1)}`);

async function main(): Promise<void> {
  const seeds = Number(arg('seeds', '3'));
  const which = arg('faults', 'all');
  const names = which === 'all' ? Object.keys(GROUPS) : which.split(',').flatMap((n) => ALIASES[n] ?? [n]);
  // one fault of a group runs alone (crash-loop, bad-release, …)
  const single = (n: string) => Object.values(GROUPS).flat().find((f) => f.fault === n);
  const unknown = names.filter((n) => !GROUPS[n] && !KIND_GROUPS[n] && !single(n));
  if (unknown.length) throw new Error(`--faults: unknown group(s) ${unknown.join(', ')}; use all, some of ${[...Object.keys(GROUPS), ...Object.keys(ALIASES), ...Object.keys(KIND_GROUPS)].join(', ')}, or a fault of one`);
  const faultsOf = (n: string) => GROUPS[n] ?? KIND_GROUPS[n] ?? [single(n)!];
  const model = arg('model', 'on');
  if (model !== 'on' && model !== 'off') throw new Error(`--model must be on or off, got "${model}"`);
  const stateDirs: string[] = [];
  const controlPlane = arg('control-plane', 'embedded');
  if (controlPlane !== 'embedded' && controlPlane !== 'kubernetes') throw new Error(`--control-plane must be embedded or kubernetes, got "${controlPlane}"`);
  let kubernetes: KubernetesDrillOptions | undefined;
  if (controlPlane === 'kubernetes') {
    const problem = controlPlanePrerequisiteProblem();
    const comps = findComponents();
    if (problem || 'reason' in comps) throw new Error(`--control-plane kubernetes: ${problem ?? ('reason' in comps ? comps.reason : '')}`);
    // the node agent from source, one node process (as the k8s tier runs it)
    kubernetes = { binaries: comps.dir, vigilCommand: [process.execPath, '--import', 'tsx', path.resolve(__dirname, '../../src/cli/main.ts')] };
  }
  const shapeArg = arg('metric-shape', '');
  if (shapeArg && shapeArg !== 'prometheus' && shapeArg !== 'opentelemetry' && shapeArg !== 'istio') throw new Error(`--metric-shape must be prometheus, opentelemetry or istio, got "${shapeArg}"`);
  const applicationMetrics = (shapeArg || undefined) as 'prometheus' | 'opentelemetry' | 'istio' | undefined;
  const parallel = Math.max(1, Number(arg('parallel', '1')));
  if (kubernetes && parallel > 1) throw new Error('--parallel: the real control plane runs one drill at a time (one network namespace)');
  const relapseWatchMs = Number(arg('relapse-watch', '60')) * 1000;
  if (!Number.isFinite(relapseWatchMs) || relapseWatchMs < 0) throw new Error(`--relapse-watch must be a number of seconds (0 or more), got "${arg('relapse-watch', '')}"`);
  const jobs = Array.from({ length: seeds }, (_, n) => names.map((name) => ({ seed: n + 1, name }))).flat();
  const results: Array<Array<DrillRow & { seed: number }>> = [];
  const started = Date.now();
  // each drill has its own sandbox and agent; with --parallel several run side by side (mostly idle: they wait for the clock)
  const worker = async () => {
    for (let job = jobs.shift(); job; job = jobs.shift()) {
      const { seed, name } = job;
      const faults = faultsOf(name);
      const slot = results.length;
      results.push([]);
      process.stderr.write(`seed ${seed}: ${faults.map((f) => f.fault).join(', ')} ...\n`);
      const r = await runFaultDrill({ seed, faults, intervalMs: 5000, warmupMs: 40_000, timeoutMs: 240_000, sequential: false, quiet: true, approveAs: ON_CALL, relapseWatchMs, kubernetes, workloadKinds: !!KIND_GROUPS[name], applicationMetrics, onLine: process.argv.includes('--verbose') ? (l) => process.stderr.write(`  seed ${seed}: ${l}\n`) : undefined, ...(model === 'off' ? { settings: withSettings(DEFAULT_SETTINGS, { model: { enabled: false } }) } : {}) });
      results[slot] = r.rows.map((x) => ({ ...x, seed }));
      stateDirs.push(r.stateDir);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  const order = (f: DrillFault) => [...Object.values(GROUPS), ...Object.values(KIND_GROUPS)].flat().findIndex((g) => g.fault === f.fault && g.target === f.target);
  const rows = results.flat().sort((a, b) => order(a.fault) - order(b.fault) || a.seed - b.seed);
  // one fault on several targets (the kinds group) is told apart by its target
  const label = (f: DrillFault) => (rows.some((r) => r.fault.fault === f.fault && r.fault.target !== f.target) ? `${f.fault} ${f.target}` : f.fault);
  console.log(`\nbench:heal — ${kubernetes ? 'real control plane (kube-prometheus-stack Prometheus, no signals file)' : applicationMetrics ? 'embedded sandbox (real Prometheus, no deployment label, no signals file)' : 'embedded sandbox'}${applicationMetrics ? `, ${applicationMetrics} application metrics` : ''}, auto mode, 5 s scrape interval, ${seeds} seed(s), ${parallel} drill(s) at a time, relapse watch ${relapseWatchMs / 1000} s, ${Math.round((Date.now() - started) / 1000)} s in all\n`);
  console.log(
    textTable(
      ['fault', 'seed', 'diagnosis', 'playbook', 'right?', 'detect', 'intervals after symptoms', 'recover', 'outcome', 'false recovery', 'relapse', 'actions', 'other writes'],
      rows.map((r) => [label(r.fault), String(r.seed), r.diagnosis ? DIAGNOSIS_TITLES[r.diagnosis] : '—', r.playbook ?? '—', right(r) ? 'yes' : 'no', secondsText(since(r, r.detectedAt)), lagText(r), secondsText(since(r, r.recoveredAt)), r.outcome, r.falseRecovery ? 'YES' : r.outcome === 'recovered' ? 'no' : '—', r.relapse ?? (r.outcome === 'recovered' ? 'no' : '—'), r.actions.join('; '), r.otherWrites?.join('; ') ?? 'none']),
    ),
  );
  console.log('\nWhere the seconds went (from injection; symptoms and healed are the sandbox\'s ground truth, acted is the step that recovered the service)\n');
  console.log(phaseTable(rows));
  console.log('\nPer fault (medians over seeds; target: median injection → verified < 30 s, < 45 s for memory leak, latency spike, traffic surge; detection within 2 intervals of the first symptoms; no false recovery, no relapse, no write outside the fault\'s own incident)\n');
  const faults = [...new Set(rows.map((r) => label(r.fault)))];
  const med = (rs: ReadonlyArray<DrillRow>, at: (r: DrillRow) => number | undefined) => secondsText(median(rs.map((r) => since(r, at(r))).filter((x): x is number => x !== undefined)));
  console.log(
    textTable(
      ['fault', 'right playbook', 'recovered', 'detected on time', 'false recoveries', 'relapses', 'other writes', 'symptoms', 'detect', 'acted', 'healed', 'recover', 'target', 'met?'],
      faults.map((f) => {
        const rs = rows.filter((r) => label(r.fault) === f);
        const ttr = median(rs.filter((r) => r.recoveredAt !== undefined).map((r) => r.recoveredAt! - r.injectedAt));
        const target = TARGET_MS[rs[0].fault.fault] ?? 60_000;
        const met = rs.every((r) => r.outcome === 'recovered' && right(r) && onTime(r) && !r.falseRecovery && !r.relapse && !r.otherWrites?.length) && ttr !== undefined && ttr < target;
        return [f, `${rs.filter(right).length}/${rs.length}`, `${rs.filter((r) => r.outcome === 'recovered').length}/${rs.length}`, `${rs.filter(onTime).length}/${rs.length}`, String(rs.filter((r) => r.falseRecovery).length), String(rs.filter((r) => r.relapse).length), String(rs.reduce((n, r) => n + (r.otherWrites?.length ?? 0), 0)), med(rs, (r) => r.symptomsAt), med(rs, (r) => r.detectedAt), med(rs, (r) => r.actedAt), med(rs, (r) => r.healedAt), secondsText(ttr), `< ${target / 1000} s`, met ? 'yes' : 'NO'];
      }),
    ),
  );
  const falseRecoveries = rows.filter((r) => r.falseRecovery).length;
  const relapses = rows.filter((r) => r.relapse);
  console.log(`\n${falseRecoveries} false recover${falseRecoveries === 1 ? 'y' : 'ies'}, ${relapses.length} relapse(s) within ${relapseWatchMs / 1000} s of the verdict, over ${rows.length} drill(s)${relapses.length ? `: ${relapses.map((r) => `${r.fault.fault} seed ${r.seed}: ${r.relapse}`).join('; ')}` : ''}`);
  const other = rows.filter((r) => r.otherWrites?.length);
  console.log(`${other.reduce((n, r) => n + r.otherWrites!.length, 0)} write(s) outside the faults' own incidents${other.length ? `: ${other.map((r) => `${r.fault.fault} seed ${r.seed}: ${r.otherWrites!.join('; ')}`).join('; ')}` : ''}`);
  // each drill's incidents, audit log and state stay on disk: `npm run bench:replay -- DIR …` replays them
  console.log(`\nState directories (replay with \`npm run bench:replay -- ${stateDirs.join(' ')}\`):\n${stateDirs.map((d) => `  ${d}`).join('\n')}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
