import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeAction } from '../core/model/action';
import type { AutomationMode } from '../core/model/automation';
import { DIAGNOSIS_TITLES, type DiagnosisKind } from '../core/model/diagnosis';
import type { Incident, TimelineEntry } from '../core/model/incident';
import { diagnosisActedOn, isOpen } from '../core/model/incident';
import { targetLabel } from '../core/model/target';
import type { LogFields, LoggerPort, LogLevel } from '../core/ports';
import { DEFAULT_SETTINGS, withSettings, type VigilSettings } from '../core/settings';
import { prometheusUnavailable, startPrometheus, type PrometheusProcess } from '../infra/prometheus/prometheusLauncher';
import { VigilRuntime } from '../infra/runtime';
import { startSandbox, type Sandbox } from '../sandbox/sandbox';
import type { MetricShape } from '../sandbox/sim/metrics';
import { SHOP_JOURNEY } from '../sandbox/sim/shopApi';
import { seedWorkloadKinds, shopManifests, workloadKindManifests } from '../sandbox/sim/topology';
import type { KubeObject } from '../sandbox/store';
import { faultApiRequest, faultApiUrl } from './chaos';

export interface DrillFault {
  readonly fault: string;
  /** `namespace/deployment` or `node-N`. */
  readonly target: string;
  readonly expected: DiagnosisKind;
}

export interface DrillRow {
  readonly fault: DrillFault;
  readonly injectedAt: number;
  /** Ground truth from the sandbox: first symptoms, and when the service was healthy again. */
  symptomsAt?: number;
  healedAt?: number;
  detectedAt?: number;
  /** When the action of the step that recovered the service (else the last action) was applied. */
  actedAt?: number;
  recoveredAt?: number;
  /** The diagnosis the playbook was chosen on (a later refresh may say otherwise), and that playbook. */
  diagnosis?: DiagnosisKind;
  playbook?: string;
  actions: string[];
  outcome: 'recovered' | 'escalated' | 'open' | 'not detected' | 'not injected' | string;
  incidentId?: string;
  /** A recovered verdict while the sandbox's ground truth said the service was not healed yet. */
  falseRecovery?: boolean;
  /** After the recovered verdict, within the relapse watch: the service was unhealthy again by ground truth, or a new incident opened on it. */
  relapse?: string;
  /**
   * Writes of incidents that are no fault's own, opened after injection (a caller restarted for its callee's outage):
   * "incident: action". Each is charged to the fault whose target the incident names, else to the first one injected.
   */
  otherWrites?: string[];
}

export interface DrillOptions {
  readonly seed: number;
  readonly faults: ReadonlyArray<DrillFault>;
  readonly intervalMs: number;
  readonly warmupMs: number;
  /** Wait this long for each fault's incident to end. */
  readonly timeoutMs: number;
  /** Inject one fault after the other (true) or all at once. */
  readonly sequential: boolean;
  readonly stateDir?: string;
  readonly mode?: AutomationMode;
  readonly onLine?: (text: string) => void;
  /** 'auto': start a real Prometheus scraping the sandbox when `prometheus` is on PATH; 'off': direct scrape. */
  readonly prometheus?: 'auto' | 'off';
  /** Log level passed to stderr (warnings by default). */
  readonly quiet?: boolean;
  /** A simulated on-call engineer who approves every proposal at once (steps the gates keep for a human, e.g. a drain). */
  readonly approveAs?: string;
  /** Settings the drill starts from (a config file's); the sandbox's connection, the mode and the interval are laid over them. */
  readonly settings?: VigilSettings;
  /** After a recovered verdict, keep the fault in place and watch this long for a relapse (0: do not watch). */
  readonly relapseWatchMs?: number;
  /** Run on the real control plane (`npm run k8s:build`'s components) instead of the embedded sandbox. */
  readonly kubernetes?: KubernetesDrillOptions;
  /**
   * How the pods name their application metrics (Prometheus client, OpenTelemetry or Istio shape). Set on the embedded
   * sandbox, it also drops the `deployment` label as kube-prometheus-stack has none and makes a real Prometheus the
   * source (the agent discovers the names there); the real control plane never has that label.
   */
  readonly applicationMetrics?: MetricShape['application'];
  /** Run a StatefulSet (shop/orders-db) and a DaemonSet (shop/log-agent) beside the shop (workloadKindManifests()). */
  readonly workloadKinds?: boolean;
}

/** The real control plane of a drill: where its components are and how to start `vigil node-agent`. */
export interface KubernetesDrillOptions {
  /** Folder of the built components (findComponents()). */
  readonly binaries: string;
  /** How to run `vigil` (`node-agent …` is appended), e.g. [node, dist/cli.js]. */
  readonly vigilCommand: ReadonlyArray<string>;
  /** More workloads applied with the shop (e.g. workloadKindManifests(): a StatefulSet and a DaemonSet). */
  readonly extraManifests?: ReadonlyArray<KubeObject>;
}

/** Keeps only warnings and errors of the runtime, on stderr; the drill reports its own timeline. */
class StderrLogger implements LoggerPort {
  constructor(
    private readonly quiet: boolean,
    private readonly component = 'vigil',
  ) {}
  log(level: LogLevel, message: string, _fields?: LogFields): void {
    if (!this.quiet && (level === 'warn' || level === 'error')) process.stderr.write(`  [${this.component}] ${level}: ${message}\n`);
  }
  child(component: string): LoggerPort {
    return new StderrLogger(this.quiet, component);
  }
}

/** The sandbox fault API (/sandbox/v1): inject, read ground truth, end a fault. */
export type FaultApi = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: unknown }>;

/** What a drill runs in: a cluster with its fault API, the agent's runtime on it (started), where its state goes, and how it speaks. */
export interface DrillCluster {
  readonly apiServer: string;
  readonly kubeconfig: string;
  readonly faults: FaultApi;
  readonly runtime: VigilRuntime;
  readonly stateDir: string;
  readonly say: (text: string) => void;
  dispose(): Promise<void>;
}

/** A drill world on the embedded sandbox, whose simulation a bench may also read directly. */
export interface DrillWorld extends DrillCluster {
  readonly sandbox: Sandbox;
}

export type DrillWorldOptions = Pick<DrillOptions, 'seed' | 'intervalMs' | 'stateDir' | 'mode' | 'onLine' | 'prometheus' | 'quiet' | 'approveAs' | 'settings' | 'applicationMetrics' | 'workloadKinds'>;

/** The sandbox compresses time, so rates use six intervals (30 s at 5 s) rather than a minute. */
const RATE_WINDOW_INTERVALS = 6;

/** The drill's settings over `options.settings`: the cluster's connection, the mode, the interval, the shop's logs and journey. */
function drillSettings(options: DrillWorldOptions, kubeconfig: string, stateDir: string, prometheusUrl: string | undefined): VigilSettings {
  return withSettings(options.settings ?? DEFAULT_SETTINGS, {
    kubernetes: { kubeconfig },
    automation: { mode: options.mode ?? 'auto' },
    agent: { stateDir },
    // the shop's error log lines, and its user journey (list products, add to cart, check out) as a synthetic probe
    logs: { services: ['*'] },
    probes: [SHOP_JOURNEY],
    prometheus: { url: prometheusUrl ?? '', scrapeIntervalSeconds: options.intervalMs / 1000, rateWindowSeconds: (RATE_WINDOW_INTERVALS * options.intervalMs) / 1000 },
  });
}

/**
 * A user's Prometheus has scraped their pods for longer than a rate window; one just started reads a rate that climbs
 * from 0 over its first window (rate() of a series younger than the window), which the baselines would learn as normal
 * and a surge rule would read a doubling against. The drill's agent starts once its Prometheus holds one window.
 */
async function holdOneRateWindow(options: DrillWorldOptions, say: (text: string) => void): Promise<void> {
  const windowMs = RATE_WINDOW_INTERVALS * options.intervalMs;
  say(`waiting ${windowMs / 1000} s for Prometheus to hold one rate window of the pods' series`);
  await sleep(windowMs);
}

/** Creates the runtime on `settings`, tells its incidents' timelines through `say`, approves as `approveAs`, and starts it. */
async function startDrillRuntime(options: DrillWorldOptions, settings: VigilSettings, say: (text: string) => void): Promise<VigilRuntime> {
  const runtime = await VigilRuntime.create({ settings, logger: new StderrLogger(options.quiet ?? false), identity: `vigil-drill@${os.hostname()}` });
  const seen = new Map<string, number>();
  runtime.core.remediator.onChange((i) => {
    const n = seen.get(i.id) ?? 0;
    for (const e of i.timeline.slice(n)) say(describeEntry(i, e));
    seen.set(i.id, i.timeline.length);
    if (options.approveAs && i.state === 'awaiting-approval') void runtime.core.remediator.approve(i.id, options.approveAs).catch(() => undefined);
  });
  try {
    await runtime.start();
  } catch (err) {
    await runtime.dispose();
    throw err;
  }
  return runtime;
}

/**
 * An in-process sandbox and the runtime the agent uses on it (auto mode by default), started: what `runFaultDrill`
 * and `npm run bench:harm` drive.
 */
export async function startDrillWorld(options: DrillWorldOptions): Promise<DrillWorld> {
  const stateDir = options.stateDir ?? mkdtempSync(path.join(os.tmpdir(), 'vigil-drill-'));
  const say = options.onLine ?? (() => undefined);
  const shape = options.applicationMetrics;
  const sandbox: Sandbox = await startSandbox({ seed: options.seed, daySeconds: 600, kubeconfigPath: path.join(stateDir, 'sandbox.kubeconfig'), ...(shape ? { metricShape: { application: shape, deploymentLabel: false } } : {}) });
  if (options.workloadKinds) seedWorkloadKinds(sandbox.store);
  say(`sandbox cluster up: ${sandbox.apiServer} (kubectl --kubeconfig ${sandbox.kubeconfig} get pods -A)${shape ? `, ${shape} application metrics, no deployment label` : ''}`);
  let prometheus: PrometheusProcess | undefined;
  let runtime: VigilRuntime | undefined;
  try {
    // the named shapes are found by asking Prometheus which metric names it has: no direct scrape
    if (shape && prometheusUnavailable()) throw new Error(`the ${shape} metric shape needs a real Prometheus: ${prometheusUnavailable()}`);
    if ((options.prometheus === 'auto' || shape) && !prometheusUnavailable()) {
      const metrics = new URL(sandbox.metrics);
      prometheus = await startPrometheus({ targets: [{ target: metrics.host, jobName: 'vigil-sandbox', metricsPath: metrics.pathname }], scrapeIntervalSeconds: Math.max(1, Math.round(options.intervalMs / 5000)) });
      say(`Prometheus ${prometheus.url} scraping the sandbox (found \`prometheus\` on PATH)`);
      await holdOneRateWindow(options, say);
    } else if (options.prometheus === 'auto') {
      say('no `prometheus` on PATH: Vigil scrapes the pods directly through the API server');
    }
    runtime = await startDrillRuntime(options, drillSettings(options, sandbox.kubeconfig, stateDir, prometheus?.url), say);
    say(`agent running in ${options.mode ?? 'auto'} mode, sampling every ${options.intervalMs / 1000} s from ${prometheus ? 'Prometheus' : 'the pods directly'}; state in ${stateDir}`);
  } catch (err) {
    await runtime?.dispose();
    await prometheus?.stop();
    await sandbox.stop();
    throw err;
  }
  const started = runtime;
  return {
    sandbox,
    apiServer: sandbox.apiServer,
    kubeconfig: sandbox.kubeconfig,
    faults: async (method, p, body) => sandbox.simulation.handleControl(method, p, body),
    runtime: started,
    stateDir,
    say,
    async dispose() {
      await started.dispose();
      await prometheus?.stop();
      await sandbox.stop();
    },
  };
}

/** Bound for the shop's ten pods to be Ready on the real control plane after the apply (~15 s measured on the loaded 2-core machine). */
const SHOP_READY_BOUND_MS = 180_000;

/**
 * The same drill world on the real control plane: etcd, kube-apiserver, controller-manager, scheduler and
 * kube-state-metrics with the node agent as the nodes (src/sandbox/controlPlane), the shop applied as ordinary
 * manifests, and a Prometheus that scrapes the way kube-prometheus-stack does (kubernetes_sd pods, cAdvisor,
 * kube-state-metrics; no `deployment` label anywhere). The agent gets no signals file: it finds its signals
 * in what that Prometheus has. Faults go through the node agent's fault API. Needs root and `npm run k8s:build`.
 */
export async function startKubernetesDrillWorld(options: DrillWorldOptions, k8s: KubernetesDrillOptions): Promise<DrillCluster> {
  const stateDir = options.stateDir ?? mkdtempSync(path.join(os.tmpdir(), 'vigil-drill-'));
  const say = options.onLine ?? (() => undefined);
  const { startControlPlane } = await import('../sandbox/controlPlane/controlPlane');
  const { builtPrometheus } = await import('../sandbox/controlPlane/components');
  const { controlPlanePrometheusConfig } = await import('../sandbox/controlPlane/prometheusConfig');
  const built = builtPrometheus(k8s.binaries);
  if ('reason' in built) throw new Error(`the drill on the real control plane needs Prometheus with Kubernetes service discovery: ${built.reason}`);
  const nodeArgs = ['--seed', String(options.seed), ...(options.applicationMetrics ? ['--application-metrics', options.applicationMetrics] : [])];
  const cp = await startControlPlane({ binaries: k8s.binaries, nodeAgent: { command: k8s.vigilCommand, nodes: 3, args: nodeArgs }, log: (l) => say(`[control plane] ${l}`) });
  let prometheus: PrometheusProcess | undefined;
  let runtime: VigilRuntime | undefined;
  try {
    say(`Kubernetes control plane up in ${cp.startSeconds.toFixed(1)} s: ${cp.server} (ip netns exec ${cp.netns} ${cp.kubectlPath} --kubeconfig ${cp.kubeconfig} get pods -A)`);
    const manifests = path.join(cp.dir, 'shop.yaml');
    const objects = [...shopManifests(), ...(options.workloadKinds ? workloadKindManifests() : []), ...(k8s.extraManifests ?? [])];
    writeFileSync(manifests, objects.map((o) => JSON.stringify(o)).join('\n'));
    const applied = cp.kubectl(['apply', '-f', manifests]);
    if (applied.status !== 0) throw new Error(`kubectl apply -f ${manifests} failed: ${applied.stderr}`);
    // a DaemonSet runs one pod on each of the node agent's nodes
    const podsOf = (o: KubeObject) => (o.kind === 'Deployment' || o.kind === 'StatefulSet' ? Number((o.spec as { replicas?: number }).replicas ?? 1) : o.kind === 'DaemonSet' ? cp.nodes.length : 0);
    const expected = objects.reduce((n, o) => n + podsOf(o), 0);
    const deadline = Date.now() + SHOP_READY_BOUND_MS;
    for (;;) {
      const out = cp.kubectl(['get', 'pods', '-A', '-l', 'app', '-o', 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}']).stdout ?? '';
      const ready = out.split('\n').filter((l) => l === 'True').length;
      if (ready === expected) break;
      if (Date.now() > deadline) throw new Error(`the shop's ${expected} pods were not Ready within ${SHOP_READY_BOUND_MS / 1000} s of the apply (${ready} were)`);
      await sleep(1000);
    }
    say(`the shop runs on the node agent's nodes (${expected} pods Ready)`);
    prometheus = await startPrometheus({
      binary: built.binary,
      targets: [],
      config: controlPlanePrometheusConfig(cp, Math.max(1, Math.round(options.intervalMs / 5000))),
    });
    say(`Prometheus ${prometheus.url} scraping the cluster through kubernetes_sd_configs (kube-prometheus-stack's relabeling)`);
    await holdOneRateWindow(options, say);
    const base = (await faultApiUrl(cp.kubeconfig)).replace(/\/sandbox\/v1$/, '');
    runtime = await startDrillRuntime(options, drillSettings(options, cp.kubeconfig, stateDir, prometheus.url), say);
    say(`agent running in ${options.mode ?? 'auto'} mode, sampling every ${options.intervalMs / 1000} s from Prometheus, no signals file; state in ${stateDir}`);
    const started = runtime;
    const prom = prometheus;
    return {
      apiServer: cp.server,
      kubeconfig: cp.kubeconfig,
      faults: (method, p, body) => faultApiRequest(base, method, p, body),
      runtime: started,
      stateDir,
      say,
      async dispose() {
        await started.dispose();
        await prom.stop();
        await cp.stop();
        rmSync(cp.dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await runtime?.dispose();
    await prometheus?.stop();
    await cp.stop();
    throw err;
  }
}

/**
 * Runs the real thing end to end: an in-process sandbox, the runtime the agent uses (auto mode), and
 * faults injected through the sandbox's control API; measures time to detect and to recover per fault.
 * Shared by `vigil demo`, `npm run bench:heal` and the integration tests.
 */
export async function runFaultDrill(options: DrillOptions): Promise<{ rows: DrillRow[]; stateDir: string; sandbox: { apiServer: string; kubeconfig: string } }> {
  const world: DrillCluster = options.kubernetes ? await startKubernetesDrillWorld(options, options.kubernetes) : await startDrillWorld(options);
  const { runtime, stateDir, say, faults } = world;
  const rows: DrillRow[] = [];
  try {
    say(`learning the services' normal behaviour for ${Math.round(options.warmupMs / 1000)} s...`);
    await sleep(options.warmupMs);
    const inject = async (fault: DrillFault): Promise<{ row: DrillRow; id?: string }> => {
      const res = await faults('POST', '/sandbox/v1/faults', { fault: fault.fault, target: fault.target, durationSeconds: 900 });
      const body = res.body as { id?: string };
      const row: DrillRow = { fault, injectedAt: Date.now(), actions: [], outcome: res.status < 300 ? 'not detected' : 'not injected' };
      rows.push(row);
      say(res.status < 300 ? `FAULT  ${fault.fault} injected on ${fault.target}` : `could not inject ${fault.fault}: ${JSON.stringify(res.body)}`);
      return { row, id: body.id };
    };
    const truth = async (faultId: string | undefined) => {
      const body = faultId ? ((await faults('GET', `/sandbox/v1/faults/${faultId}`)).body as { symptomsAt?: string; recoveredAt?: string; healthyNow?: boolean }) : {};
      return { symptomsAt: body.symptomsAt ? Date.parse(body.symptomsAt) : undefined, healedAt: body.recoveredAt ? Date.parse(body.recoveredAt) : undefined, healthyNow: body.healthyNow };
    };
    const follow = async (row: DrillRow, faultId: string | undefined) => {
      const deadline = row.injectedAt + options.timeoutMs;
      let incident: Incident | undefined;
      while (Date.now() < deadline) {
        await sleep(500);
        incident = findIncident(runtime.core.remediator.list(), row);
        // an incident elsewhere (a caller's symptoms) that closed ends the wait only if the fault is healed too
        if (incident && !isOpen(incident) && (onTarget(incident, row) || (await truth(faultId)).healedAt !== undefined)) break;
      }
      const { symptomsAt, healedAt, healthyNow } = await truth(faultId);
      Object.assign(row, { symptomsAt, healedAt });
      if (incident?.state === 'recovered' && incident.outcome) {
        const verdictAt = incident.outcome.t;
        // healed after the verdict, or (fixed before its symptoms showed, e.g. a leak caught before 80% of its limit) not healthy at it
        row.falseRecovery = healedAt !== undefined ? healedAt > verdictAt : healthyNow !== true;
        // the fault stays in place: a fix that only hid it shows again (ground truth unhealthy, or a new incident)
        const watchEnd = verdictAt + (options.relapseWatchMs ?? 0);
        while (!row.relapse && Date.now() < watchEnd) {
          await sleep(1000);
          if ((await truth(faultId)).healthyNow === false) row.relapse = `unhealthy again ${secondsText(Date.now() - verdictAt)} after the verdict (ground truth)`;
          const again = runtime.core.remediator.list().find((i) => i.id !== incident?.id && i.openedAt > verdictAt && onTarget(i, row));
          if (again) row.relapse = `new incident ${again.id} (${DIAGNOSIS_TITLES[again.diagnosis?.kind ?? 'unknown']}) ${secondsText(again.openedAt - verdictAt)} after the verdict`;
        }
      }
      // the remediation fixed the service; end the fault's ground truth too so later faults start clean
      if (faultId) await faults('DELETE', `/sandbox/v1/faults/${faultId}`);
      if (!incident) return;
      const acted = actedEntries(incident);
      row.incidentId = incident.id;
      row.detectedAt = incident.openedAt;
      row.diagnosis = diagnosisActedOn(incident);
      row.playbook = incident.playbook;
      row.actions = acted.map((e) => describeAction(e.result.action));
      row.actedAt = (acted.find((e) => e.stepId === incident?.outcome?.recoveredBy) ?? acted.at(-1))?.t;
      row.recoveredAt = incident.state === 'recovered' ? incident.outcome?.t : undefined;
      row.outcome = incident.state === 'recovered' ? 'recovered' : incident.state === 'escalated' ? 'escalated' : isOpen(incident) ? 'open' : incident.state;
    };
    if (options.sequential) {
      for (const f of options.faults) {
        const { row, id } = await inject(f);
        if (row.outcome !== 'not injected') await follow(row, id);
        await sleep(10_000);
      }
    } else {
      const injected = await Promise.all(options.faults.map(inject));
      await Promise.all(injected.map(({ row, id }) => (row.outcome === 'not injected' ? undefined : follow(row, id))));
    }
    chargeOtherWrites(rows, runtime.core.remediator.list());
  } finally {
    await world.dispose();
  }
  return { rows, stateDir, sandbox: { apiServer: world.apiServer, kubeconfig: world.kubeconfig } };
}

/** Charges each write of an incident no row claims, opened after the first injection, to the fault it concerns (DrillRow.otherWrites). */
function chargeOtherWrites(rows: DrillRow[], incidents: ReadonlyArray<Incident>): void {
  const claimed = new Set(rows.map((r) => r.incidentId).filter((id) => id !== undefined));
  const first = Math.min(...rows.map((r) => r.injectedAt));
  for (const i of incidents) {
    if (claimed.has(i.id) || i.openedAt < first - 1000) continue;
    const acted = actedEntries(i).filter((e) => !e.result.dryRun);
    if (!acted.length) continue;
    const row = rows.find((r) => concerns(i, r)) ?? rows[0];
    (row.otherWrites ??= []).push(...acted.map((e) => `${i.id}: ${describeAction(e.result.action)}`));
  }
}

function onTarget(i: Incident, row: DrillRow): boolean {
  const [ns, name] = row.fault.target.includes('/') ? row.fault.target.split('/') : [undefined, row.fault.target];
  return i.target.name === name && (i.target.namespace ?? ns) === ns;
}

/** An incident on the fault's target, or naming it as affected. */
function concerns(i: Incident, row: DrillRow): boolean {
  const name = row.fault.target.split('/').at(-1);
  return onTarget(i, row) || !!i.diagnosis?.details?.affected?.some((a) => a.name === name);
}

function actedEntries(i: Incident): Array<Extract<TimelineEntry, { kind: 'acted' }>> {
  return i.timeline.filter((e): e is Extract<TimelineEntry, { kind: 'acted' }> => e.kind === 'acted');
}

/** The incident Vigil opened for a fault: on its target (or naming it as affected), opened after injection. */
function findIncident(list: ReadonlyArray<Incident>, row: DrillRow): Incident | undefined {
  const matches = list.filter((i) => i.openedAt >= row.injectedAt - 1000 && concerns(i, row));
  // prefer an incident on the fault's own target, then the expected diagnosis, then the earliest
  return matches.sort((a, b) => Number(onTarget(b, row)) - Number(onTarget(a, row)) || Number(b.diagnosis?.kind === row.fault.expected) - Number(a.diagnosis?.kind === row.fault.expected) || a.openedAt - b.openedAt)[0];
}

export function describeEntry(i: Incident, e: TimelineEntry): string {
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

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export const secondsText = (ms: number | undefined) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(0)} s`);

/** Seconds from a fault's injection to a moment of its row. */
export const sinceInjection = (r: DrillRow, t: number | undefined) => (t === undefined ? undefined : t - r.injectedAt);

/**
 * Where the seconds went, per fault: first symptoms and healed are the sandbox's ground truth, detected
 * is the incident opening, acted the step that recovered it, verified Vigil's verdict; verify lag is
 * verified minus healed (rate windows emptying of the bad minutes, and the hold).
 */
export function phaseTable(rows: ReadonlyArray<DrillRow & { seed?: number }>): string {
  const s = (r: DrillRow, t: number | undefined) => secondsText(sinceInjection(r, t));
  const seeds = rows.some((r) => r.seed !== undefined);
  return textTable(
    ['fault', ...(seeds ? ['seed'] : []), 'symptoms', 'detected', 'acted', 'healed', 'verified', 'verify lag'],
    rows.map((r) => [r.fault.fault, ...(seeds ? [String(r.seed ?? '')] : []), s(r, r.symptomsAt), s(r, r.detectedAt), s(r, r.actedAt), s(r, r.healedAt), s(r, r.recoveredAt), secondsText(r.recoveredAt !== undefined && r.healedAt !== undefined ? r.recoveredAt - r.healedAt : undefined)]),
  );
}

/** A plain text table with a header rule. */
export function textTable(header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: ReadonlyArray<string>) => `  ${cells.map((cell, c) => (cell ?? '').padEnd(widths[c])).join('  ')}`.trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
