/**
 * `npm run bench:scale [-- --services 1000 --pods-per-service 5 --warmup-seconds 180 --after-seconds 60 --fault-target scale-010/svc-0500 --cli dist/cli.js --agent-node-args "--inspect=127.0.0.1:PORT" --verbose]`:
 * the shipped agent (`node dist/cli.js agent`, its own process; build first with webpack) against the embedded sandbox
 * at scale (the shop plus N generated services, src/sandbox/sim/scaleTopology.ts) with a real Prometheus (Debian
 * `prometheus`) scraping the sandbox as the agent's only metrics source, at a 15 s interval, in suggest mode.
 * After the warm-up it injects one crash loop on one service and prints, per interval of the agent: its CPU (from
 * /proc/PID/stat, in cores), its rss, and the time Prometheus spent answering queries (its own
 * prometheus_http_request_duration_seconds of /api/v1/query*); then the mean and p95 of each, and the time from the
 * fault's ground-truth symptoms to the agent's diagnosis. Also what the simulation (this process) and Prometheus
 * used, since on a small machine they compete with the agent. Targets: < 1 core average and < 500 MB rss.
 * `--keep-state DIR` keeps the agent's state folder (its incident files name their evidence) in DIR after the run.
 * Not in `npm test`; run it alone (`flock /work/heavy.lock npm run bench:scale`).
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { faultApiRequest, faultApiUrl } from '../../src/cli/chaos';
import { prometheusUnavailable, startPrometheus, type ScrapeTarget } from '../../src/infra/prometheus/prometheusLauncher';
import { builtPrometheus, controlPlanePrerequisiteProblem, findComponents } from '../../src/sandbox/controlPlane/components';
import { applyInBatches, startControlPlane } from '../../src/sandbox/controlPlane/controlPlane';
import { controlPlanePrometheusConfig } from '../../src/sandbox/controlPlane/prometheusConfig';
import { startSandbox } from '../../src/sandbox/sandbox';
import { nodeAgentNodesFor, scaleManifests, scaleOptionsProblem, type ScaleOptions } from '../../src/sandbox/sim/scaleTopology';
import type { KubeObject } from '../../src/sandbox/store';

const INTERVAL_SECONDS = 15;
const RATE_WINDOW_SECONDS = 60;
const TARGET_CORES = 1;
const TARGET_RSS_MB = 500;
const REPO_ROOT = path.resolve(__dirname, '../..');
/** Bounds of the run's phases (the pods coming up, the diagnosis after the symptoms). */
const READY_BOUND_MS = 6 * 60_000;
const DIAGNOSIS_BOUND_MS = 5 * 60_000;
const PAGE_BYTES = 4096;
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** utime + stime (seconds) and rss (bytes) of a process, all its threads, from /proc/PID/stat. */
function procStat(pid: number): { cpuSeconds: number; rssBytes: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces: count the fields after its closing parenthesis
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { cpuSeconds: (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND, rssBytes: Number(f[21]) * PAGE_BYTES };
  } catch {
    return undefined;
  }
}

/** The pid of the process whose command line holds every needle, e.g. the Prometheus whose state folder is `dir` (the launcher does not expose it). */
function pidWithArg(...needles: string[]): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (needles.every((n) => cmdline.includes(n))) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** Seconds and count Prometheus spent on the query API so far (instant and range queries, series and label lookups). */
async function queryTime(prometheusUrl: string): Promise<{ seconds: number; count: number; byHandler: Map<string, { seconds: number; count: number }> }> {
  const text = await (await fetch(`${prometheusUrl}/metrics`)).text();
  let seconds = 0;
  let count = 0;
  const byHandler = new Map<string, { seconds: number; count: number }>();
  for (const line of text.split('\n')) {
    const m = /^prometheus_http_request_duration_seconds_(sum|count)\{handler="\/api\/v1\/([^"]+)"\} (\S+)$/.exec(line);
    if (!m) continue;
    const h = byHandler.get(m[2]) ?? { seconds: 0, count: 0 };
    byHandler.set(m[2], h);
    if (m[1] === 'sum') {
      seconds += Number(m[3]);
      h.seconds += Number(m[3]);
    } else {
      count += Number(m[3]);
      h.count += Number(m[3]);
    }
  }
  return { seconds, count, byHandler };
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
function p95(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.95 * s.length) - 1)];
}

interface StoredIncident {
  readonly id: string;
  readonly target: { namespace?: string; name: string };
  readonly timeline: ReadonlyArray<{ t: number; kind: string; diagnosis?: { kind: string } }>;
}

/** The first `diagnosed` entry of kind `kind` on `namespace/name` among the agent's stored incidents. */
function diagnosisOf(stateDir: string, namespace: string, name: string, kind: string): { at: number; id: string } | undefined {
  const dir = path.join(stateDir, 'incidents');
  if (!existsSync(dir)) return undefined;
  let best: { at: number; id: string } | undefined;
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('.json')) continue;
    let i: StoredIncident;
    try {
      i = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as StoredIncident;
    } catch {
      continue; // being written
    }
    if (i.target?.namespace !== namespace || i.target.name !== name) continue;
    const e = i.timeline.find((x) => x.kind === 'diagnosed' && x.diagnosis?.kind === kind);
    if (e && (!best || e.t < best.at)) best = { at: e.t, id: i.id };
  }
  return best;
}

/** Where the agent runs: the cluster, how Prometheus scrapes it, its fault API, and what else the run started. */
interface World {
  readonly description: string;
  readonly kubeconfig: string;
  readonly pods: number;
  readonly scraped: string;
  readonly scrapeTargets: ReadonlyArray<ScrapeTarget>;
  readonly prometheusConfig?: string;
  readonly prometheusBinary?: string;
  faults(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  /** CPU of the cluster's own processes beyond this one, for the report. */
  otherCores?(): string;
  stop(): Promise<void>;
}

type Say = (text: string) => void;

/** Polls `ready()` every 2 s until at least 99 % of `pods` are Ready, bounded by READY_BOUND_MS. */
async function awaitReady(pods: number, ready: () => Promise<number> | number, since: number, say: Say): Promise<void> {
  const deadline = Date.now() + READY_BOUND_MS;
  for (;;) {
    const n = await ready();
    if (n >= pods * 0.99) {
      say(`${n} of ${pods} pods Ready after ${((Date.now() - since) / 1000).toFixed(0)} s`);
      return;
    }
    if (Date.now() > deadline) throw new Error(`only ${n} of ${pods} pods were Ready within ${READY_BOUND_MS / 1000} s`);
    await sleep(2000);
  }
}

async function embeddedWorld(scale: ScaleOptions, dir: string, say: Say): Promise<World> {
  const since = Date.now();
  const sandbox = await startSandbox({ seed: 1, daySeconds: 600, kubeconfigPath: path.join(dir, 'sandbox.kubeconfig'), scale });
  const pods = scale.services * scale.podsPerService + 10;
  say(`sandbox: ${scale.services} services × ${scale.podsPerService} pods beside the shop (${pods} pods, ${sandbox.store.list('nodes').items.length} nodes) at ${sandbox.apiServer}`);
  try {
    const isReady = (p: KubeObject) => (p.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    await awaitReady(pods, () => sandbox.store.list('pods').items.filter(isReady).length, since, say);
  } catch (err) {
    await sandbox.stop();
    throw err;
  }
  const metrics = new URL(sandbox.metrics);
  return {
    description: 'embedded sandbox',
    kubeconfig: sandbox.kubeconfig,
    pods,
    scraped: 'the sandbox',
    scrapeTargets: [{ target: metrics.host, jobName: 'vigil-sandbox', metricsPath: metrics.pathname }],
    faults: async (method, p, body) => sandbox.simulation.handleControl(method, p, body),
    stop: () => sandbox.stop(),
  };
}

/**
 * The real control plane (`npm run k8s:build`'s components, root) with the node agent as its nodes, the generated
 * services applied with kubectl (no shop), and a Prometheus configured like kube-prometheus-stack. The node agent is
 * `node dist/cli.js node-agent`, the shipped CLI, as the agent.
 */
async function kubernetesWorld(scale: ScaleOptions, say: Say, cli: string): Promise<World> {
  const problem = controlPlanePrerequisiteProblem();
  if (problem) throw new Error(`bench:scale --control-plane kubernetes: ${problem}`);
  const components = findComponents();
  if ('reason' in components) throw new Error(`bench:scale --control-plane kubernetes: ${components.reason}`);
  const built = builtPrometheus(components.dir);
  if ('reason' in built) throw new Error(`bench:scale --control-plane kubernetes needs Prometheus with Kubernetes service discovery: ${built.reason}`);
  const pods = scale.services * scale.podsPerService;
  const nodes = nodeAgentNodesFor(pods);
  const since = Date.now();
  const cp = await startControlPlane({ binaries: components.dir, nodeAgent: { command: [process.execPath, cli], nodes, args: ['--seed', '1'] }, log: (l) => say(`[control plane] ${l}`) });
  try {
    say(`Kubernetes control plane up in ${cp.startSeconds.toFixed(1)} s with ${nodes} nodes: ${cp.server}`);
    applyInBatches(cp, scaleManifests(scale), 'scale');
    say(`applied ${scale.services} services × ${scale.podsPerService} pods`);
    await awaitReady(
      pods,
      () => (cp.kubectl(['get', 'pods', '-A', '-l', 'app', '-o', 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}']).stdout ?? '').split('\n').filter((l) => l === 'True').length,
      since,
      say,
    );
    const base = (await faultApiUrl(cp.kubeconfig)).replace(/\/sandbox\/v1$/, '');
    // this control plane's node agent (its kubeconfig is in the run's folder), not another run's
    const nodeAgentPid = pidWithArg('node-agent', cp.dir);
    const node0 = nodeAgentPid ? procStat(nodeAgentPid) : undefined;
    const t0 = Date.now();
    return {
      description: `real control plane (${nodes} node-agent nodes, kube-state-metrics)`,
      kubeconfig: cp.kubeconfig,
      pods,
      scraped: 'the cluster through kubernetes_sd_configs (pods, cAdvisor, kube-state-metrics)',
      scrapeTargets: [],
      prometheusConfig: controlPlanePrometheusConfig(cp, INTERVAL_SECONDS),
      prometheusBinary: built.binary,
      faults: (method, p, body) => faultApiRequest(base, method, p, body),
      otherCores: () => {
        const now = nodeAgentPid ? procStat(nodeAgentPid) : undefined;
        return now && node0 ? `node agent ${((now.cpuSeconds - node0.cpuSeconds) / ((Date.now() - t0) / 1000)).toFixed(3)} cores` : 'node agent not found';
      },
      async stop() {
        await cp.stop();
        rmSync(cp.dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await cp.stop();
    throw err;
  }
}

async function main(): Promise<void> {
  const controlPlane = arg('control-plane', 'embedded');
  if (controlPlane !== 'embedded' && controlPlane !== 'kubernetes') throw new Error(`bench:scale: --control-plane must be embedded or kubernetes, got "${controlPlane}"`);
  const kubernetes = controlPlane === 'kubernetes';
  // the issue's sizes: 5,000 pods on the embedded sandbox, 1,000 on the real control plane
  const scale = { services: Number(arg('services', kubernetes ? '200' : '1000')), podsPerService: Number(arg('pods-per-service', '5')) };
  const problem = scaleOptionsProblem(scale);
  if (problem) throw new Error(`bench:scale: ${problem}`);
  const warmupMs = Number(arg('warmup-seconds', '180')) * 1000;
  const measureAfterMs = Number(arg('after-seconds', '60')) * 1000;
  const faultTarget = arg('fault-target', `scale-${String(Math.floor(scale.services / 2 / 50)).padStart(3, '0')}/svc-${String(Math.floor(scale.services / 2)).padStart(4, '0')}`);
  const [faultNs, faultName] = faultTarget.split('/');
  const holdMs = Number(arg('hold-seconds', String(RATE_WINDOW_SECONDS + INTERVAL_SECONDS))) * 1000;
  const CLI = path.resolve(arg('cli', path.join(REPO_ROOT, 'dist/cli.js')));
  if (!existsSync(CLI)) throw new Error(`bench:scale runs the shipped agent: ${CLI} is missing; build it with \`node node_modules/webpack/bin/webpack.js --mode production\``);
  const noProm = kubernetes ? undefined : prometheusUnavailable();
  if (noProm) throw new Error(`bench:scale: ${noProm}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-scale-'));
  const stateDir = path.join(dir, 'state');
  const say = (text: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${text}\n`);
  const simCpu0 = process.cpuUsage();
  const wall0 = Date.now();
  const world = kubernetes ? await kubernetesWorld(scale, say, CLI) : await embeddedWorld(scale, dir, say);
  let prometheus: Awaited<ReturnType<typeof startPrometheus>> | undefined;
  let agent: ReturnType<typeof spawn> | undefined;
  try {
    prometheus = await startPrometheus({ targets: world.scrapeTargets, config: world.prometheusConfig, binary: world.prometheusBinary, scrapeIntervalSeconds: INTERVAL_SECONDS, readyTimeoutMs: 60_000 });
    const promPid = pidWithArg(prometheus.dir);
    say(`Prometheus ${prometheus.url} scraping ${world.scraped} every ${INTERVAL_SECONDS} s; holding one rate window (${holdMs / 1000} s) before the agent starts`);
    await sleep(holdMs);
    const config = path.join(dir, 'vigil.yaml');
    // JSON is YAML: the agent's settings file
    writeFileSync(
      config,
      JSON.stringify({
        kubernetes: { kubeconfig: world.kubeconfig },
        prometheus: { url: prometheus.url, scrapeIntervalSeconds: INTERVAL_SECONDS, rateWindowSeconds: RATE_WINDOW_SECONDS },
        automation: { mode: 'suggest' },
        agent: { stateDir, logLevel: 'warn' },
      }),
    );
    let agentLog = '';
    // e.g. --agent-node-args "--inspect=127.0.0.1:19500" to profile the agent's allocations while it runs
    const nodeArgs = arg('agent-node-args', '').split(' ').filter(Boolean);
    agent = spawn(process.execPath, [...nodeArgs, CLI, 'agent', '--config', config], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    agent.stdout?.on('data', (d) => (agentLog = (agentLog + d.toString()).slice(-20_000)));
    agent.stderr?.on('data', (d) => (agentLog = (agentLog + d.toString()).slice(-20_000)));
    const agentPid = agent.pid as number;
    say(`agent pid ${agentPid} (node dist/cli.js agent, suggest mode, ${INTERVAL_SECONDS} s interval, Prometheus its source); warm-up ${warmupMs / 1000} s`);

    interface Row {
      readonly phase: 'start' | 'warm-up' | 'fault';
      readonly cores: number;
      readonly rssMb: number;
      readonly querySeconds: number;
      readonly queries: number;
      readonly promCores?: number;
      readonly simCores: number;
    }
    const rows: Row[] = [];
    const start = Date.now();
    const q0 = await queryTime(prometheus.url);
    let last = { t: Date.now(), agent: procStat(agentPid), prom: promPid ? procStat(promPid) : undefined, q: await queryTime(prometheus.url), sim: process.cpuUsage() };
    let injectedAt: number | undefined;
    let faultId: string | undefined;
    let diagnosed: { at: number; id: string } | undefined;
    let symptomsAt: number | undefined;
    let endAt = Number.POSITIVE_INFINITY;
    say('interval  phase     agent cores  rss MB  query s (n)    prometheus cores  simulation cores');
    while (Date.now() < endAt) {
      await sleep(INTERVAL_SECONDS * 1000 - ((Date.now() - start) % (INTERVAL_SECONDS * 1000)));
      if (agent.exitCode !== null) throw new Error(`the agent exited with ${agent.exitCode}:\n${agentLog}`);
      const now = { t: Date.now(), agent: procStat(agentPid), prom: promPid ? procStat(promPid) : undefined, q: await queryTime(prometheus.url), sim: process.cpuUsage() };
      const dt = (now.t - last.t) / 1000;
      const phase: Row['phase'] = injectedAt ? 'fault' : now.t - start < 2 * INTERVAL_SECONDS * 1000 ? 'start' : 'warm-up';
      const row: Row = {
        phase,
        cores: ((now.agent?.cpuSeconds ?? 0) - (last.agent?.cpuSeconds ?? 0)) / dt,
        rssMb: (now.agent?.rssBytes ?? 0) / 1e6,
        querySeconds: now.q.seconds - last.q.seconds,
        queries: now.q.count - last.q.count,
        promCores: now.prom && last.prom ? (now.prom.cpuSeconds - last.prom.cpuSeconds) / dt : undefined,
        simCores: (now.sim.user + now.sim.system - last.sim.user - last.sim.system) / 1e6 / dt,
      };
      rows.push(row);
      say(`${String(rows.length).padStart(8)}  ${row.phase.padEnd(8)}  ${row.cores.toFixed(3).padStart(11)}  ${row.rssMb.toFixed(0).padStart(6)}  ${row.querySeconds.toFixed(3).padStart(7)} (${String(row.queries).padStart(3)})  ${(row.promCores ?? NaN).toFixed(3).padStart(16)}  ${row.simCores.toFixed(3).padStart(16)}`);
      last = now;
      if (!injectedAt && now.t - start >= warmupMs) {
        const res = await world.faults('POST', '/sandbox/v1/faults', { fault: 'crash-loop', target: faultTarget, durationSeconds: 1800 });
        if (res.status >= 300) throw new Error(`could not inject the crash loop on ${faultTarget}: ${JSON.stringify(res.body)}`);
        injectedAt = Date.now();
        faultId = (res.body as { id: string }).id;
        say(`FAULT crash-loop injected on ${faultTarget}`);
        endAt = injectedAt + DIAGNOSIS_BOUND_MS;
      }
      if (injectedAt && faultId) {
        const truth = (await world.faults('GET', `/sandbox/v1/faults/${faultId}`)).body as { symptomsAt?: string };
        if (truth.symptomsAt) symptomsAt = Date.parse(truth.symptomsAt);
        diagnosed ??= diagnosisOf(stateDir, faultNs, faultName, 'crash-loop');
        if (diagnosed && endAt > Date.now() + measureAfterMs) endAt = Date.now() + measureAfterMs;
      }
    }
    const measured = rows.filter((r) => r.phase !== 'start');
    const cores = measured.map((r) => r.cores);
    const rss = measured.map((r) => r.rssMb);
    const qs = measured.map((r) => r.querySeconds);
    const simCores = (() => {
      const u = process.cpuUsage(simCpu0);
      return (u.user + u.system) / 1e6 / ((Date.now() - wall0) / 1000);
    })();
    const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
    say('');
    say(`bench:scale — ${world.description}, ${scale.services} services / ${world.pods} pods, ${INTERVAL_SECONDS} s interval, ${measured.length} intervals measured after the first two (load average ${load}, ${os.cpus().length} cores)`);
    say(`  agent CPU        mean ${mean(cores).toFixed(3)} cores, p95 ${p95(cores).toFixed(3)} cores   target < ${TARGET_CORES} core average: ${mean(cores) < TARGET_CORES ? 'met' : 'NOT MET'}`);
    say(`  agent rss        mean ${mean(rss).toFixed(0)} MB, max ${Math.max(...rss).toFixed(0)} MB         target < ${TARGET_RSS_MB} MB: ${Math.max(...rss) < TARGET_RSS_MB ? 'met' : 'NOT MET'}`);
    say(`  Prometheus query time per interval (summed over its requests, which the agent sends at once)  mean ${mean(qs).toFixed(3)} s, p95 ${p95(qs).toFixed(3)} s (${mean(measured.map((r) => r.queries)).toFixed(0)} requests per interval)`);
    const q1 = await queryTime(prometheus.url);
    const handlers = [...q1.byHandler]
      .map(([h, v]) => ({ h, seconds: v.seconds - (q0.byHandler.get(h)?.seconds ?? 0), count: v.count - (q0.byHandler.get(h)?.count ?? 0) }))
      .filter((x) => x.count > 0)
      .sort((a, b) => b.seconds - a.seconds);
    say(`    by handler over the run: ${handlers.map((x) => `${x.h} ${x.count} requests ${x.seconds.toFixed(1)} s (${((1000 * x.seconds) / x.count).toFixed(0)} ms each)`).join('; ')}`);
    const promCores = measured.map((r) => r.promCores).filter((x): x is number => x !== undefined);
    const other = world.otherCores?.();
    say(`  Prometheus CPU   mean ${mean(promCores).toFixed(3)} cores; simulation (this process) ${simCores.toFixed(3)} cores over the run${other ? `; ${other}` : ''}`);
    // every incident the agent opened over the run, by its first diagnosis: at scale a storm of them is what it holds
    const opened = new Map<string, number>();
    const incidentDir = path.join(stateDir, 'incidents');
    for (const file of existsSync(incidentDir) ? readdirSync(incidentDir).filter((f) => f.endsWith('.json')) : []) {
      try {
        const i = JSON.parse(readFileSync(path.join(incidentDir, file), 'utf8')) as StoredIncident;
        const kind = i.timeline.find((e) => e.kind === 'diagnosed')?.diagnosis?.kind ?? 'not diagnosed';
        opened.set(kind, (opened.get(kind) ?? 0) + 1);
      } catch {
        // being written
      }
    }
    say(`  incidents opened: ${[...opened.values()].reduce((a, b) => a + b, 0)}${opened.size ? ` (${[...opened].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')})` : ''}`);
    if (!injectedAt) say('  fault: not injected');
    else if (!diagnosed) say(`  fault: crash loop on ${faultTarget} NOT diagnosed within ${DIAGNOSIS_BOUND_MS / 1000} s of injection (symptoms at ${symptomsAt ? `+${((symptomsAt - injectedAt) / 1000).toFixed(0)} s` : 'never'})`);
    else say(`  fault: crash loop on ${faultTarget}: symptoms at +${symptomsAt ? ((symptomsAt - injectedAt) / 1000).toFixed(0) : '?'} s, diagnosed crash-loop (${diagnosed.id}) ${symptomsAt ? `${((diagnosed.at - symptomsAt) / 1000).toFixed(0)} s after the symptoms` : ''}`);
    if (process.argv.includes('--verbose')) process.stdout.write(agentLog);
  } finally {
    if (agent && agent.exitCode === null) {
      const exited = new Promise((r) => agent?.once('exit', r));
      agent.kill('SIGTERM');
      await Promise.race([exited, sleep(20_000)]);
      if (agent.exitCode === null) agent.kill('SIGKILL');
    }
    await prometheus?.stop();
    await world.stop();
    const keep = arg('keep-state', '');
    if (keep && existsSync(stateDir)) {
      // not the agent's control socket (cp cannot copy one)
      cpSync(stateDir, keep, { recursive: true, filter: (src) => !lstatSync(src).isSocket() });
      say(`the agent's state folder kept in ${keep}`);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
});
