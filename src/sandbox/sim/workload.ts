/**
 * The simulated HTTP service inside each pod: seasonal traffic split over ready pods, latency and
 * error mix shaped by faults, counters advanced in fixed one-second steps so that the trajectory
 * depends only on the clock and the seed.
 */
import type { Deployment } from './objects';
import { fnv32a, hashUnit } from './rng';

export const STEP_MS = 1000;
export const BUCKETS: ReadonlyArray<number> = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
export const METHODS: ReadonlyArray<string> = ['GET', 'POST'];
export const CODES: ReadonlyArray<string> = ['200', '404', '500', '502', '503'];
const METHOD_SHARE = [0.8, 0.2];
const NOT_FOUND_SHARE = 0.004;
const BASE_ERROR_SHARE = 0.002;
const LATENCY_SIGMA = 0.55;
const LOG_LIMIT = 1000;
const MAX_CATCH_UP_STEPS = 600;

/** What a deployment's annotations say about its service. */
export interface ServiceProfile {
  readonly key: string;
  readonly namespace: string;
  readonly deployment: string;
  readonly baseRps: number;
  readonly medianLatencySeconds: number;
  /** Requests per second one pod serves before its CPU saturates. */
  readonly capacityRps: number;
  readonly dependsOn: ReadonlyArray<string>;
  readonly flagsConfigMap?: string;
}

export const ANNOTATIONS = {
  dependsOn: 'vigil.dev/depends-on',
  /** The calls the simulation makes when the sandbox declares no `vigil.dev/depends-on` (Vigil never reads it): its ground truth only. */
  calls: 'sandbox.vigil.dev/calls',
  baseRps: 'vigil.dev/base-rps',
  latencyMs: 'vigil.dev/latency-ms',
  capacityRps: 'vigil.dev/capacity-rps',
  featureFlags: 'vigil.dev/feature-flags',
} as const;

export function profileOf(namespace: string, deployment: string, d: Deployment | undefined): ServiceProfile {
  const a = d?.metadata.annotations ?? {};
  const num = (k: string, fallback: number) => {
    const n = Number(a[k]);
    return Number.isFinite(n) && n > 0 ? n : fallback;
  };
  const baseRps = num(ANNOTATIONS.baseRps, 5);
  return {
    key: `${namespace}/${deployment}`,
    namespace,
    deployment,
    baseRps,
    medianLatencySeconds: num(ANNOTATIONS.latencyMs, 40) / 1000,
    // a property of the code, not of the replica count: scaling out lowers each pod's load
    capacityRps: num(ANNOTATIONS.capacityRps, 20),
    dependsOn: (a[ANNOTATIONS.dependsOn] ?? a[ANNOTATIONS.calls] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    flagsConfigMap: a[ANNOTATIONS.featureFlags],
  };
}

/**
 * Daily and weekly shape of traffic at a clock time: a daytime peak, a night trough and quieter
 * weekends; `daySeconds` compresses one day into that many real seconds.
 */
export function seasonalFactor(nowMs: number, daySeconds: number): number {
  const days = nowMs / 1000 / daySeconds;
  const phase = days - Math.floor(days);
  const daily = 1 + 0.45 * Math.sin(2 * Math.PI * (phase - 0.375));
  const weekday = ((Math.floor(days) % 7) + 7) % 7;
  const weekly = weekday >= 5 ? 0.75 : 1;
  return daily * weekly;
}

/** What faults do to one pod's service during a step. */
export interface Effects {
  trafficFactor: number;
  latencyFactor: number;
  /** CPU burned per request, relative to normal. */
  cpuFactor: number;
  share500: number;
  share502: number;
  share503: number;
  leakBytesPerSecond: number;
  /** Why errors happen, for log lines. */
  errorCause?: string;
}

export function noEffects(): Effects {
  return { trafficFactor: 1, latencyFactor: 1, cpuFactor: 1, share500: 0, share502: 0, share503: 0, leakBytesPerSecond: 0 };
}

/** Standard normal CDF (Abramowitz-Stegun 7.1.26 via erf). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

export type LogListener = (line: string) => void;

/** Per-pod counters and log buffer of the simulated service. */
export class ServiceState {
  /** requests[codeIndex * METHODS.length + methodIndex] */
  readonly requests = new Float64Array(CODES.length * METHODS.length);
  readonly buckets = new Float64Array(BUCKETS.length);
  count = 0;
  sum = 0;
  cpuSeconds = 0;
  /** CPU seconds of the containers before the current one: the pod's cgroup keeps counting across restarts. */
  retiredCpuSeconds = 0;
  memoryBytes: number;
  lastStep: number;
  /** Error share and median latency of the last step, for callers and health checks. */
  lastErrorShare = 0;
  lastMedianSeconds = 0;
  lastUtilisation = 0;
  logs: string[] = [];
  previousLogs: string[] = [];
  readonly listeners = new Set<LogListener>();
  private readonly key: number;

  constructor(
    readonly podName: string,
    readonly baselineMemoryBytes: number,
    nowMs: number,
    seedKey: string,
  ) {
    this.memoryBytes = baselineMemoryBytes;
    this.lastStep = Math.floor(nowMs / STEP_MS);
    this.key = fnv32a(seedKey);
  }

  log(line: string): void {
    this.logs.push(line);
    // trim in batches: a splice per line would shift the whole buffer every step
    if (this.logs.length > LOG_LIMIT + 250) this.logs.splice(0, this.logs.length - LOG_LIMIT);
    for (const l of this.listeners) {
      try {
        l(line);
      } catch {
        // a closed follower must not stop the service
      }
    }
  }

  /** Log lines now (of the container before the last restart with `previous`); with `follow`, later lines go to `onLine` until `stop()`. */
  readLogs(opts: { readonly tailLines?: number; readonly follow?: boolean; readonly previous?: boolean }, onLine: LogListener): { lines: string[]; stop(): void } {
    const all = opts.previous ? this.previousLogs : this.logs;
    const lines = opts.tailLines !== undefined && opts.tailLines >= 0 ? all.slice(Math.max(0, all.length - opts.tailLines)) : [...all];
    // the previous container has ended: there is nothing more to follow
    if (!opts.follow || opts.previous) return { lines, stop: () => undefined };
    this.listeners.add(onLine);
    return { lines, stop: () => void this.listeners.delete(onLine) };
  }

  /** A new container: counters and memory start over, logs too (the old ones become --previous). */
  restartContainer(): void {
    // a new process: its counters start from zero, as Prometheus expects after a restart
    this.retiredCpuSeconds += this.cpuSeconds;
    this.requests.fill(0);
    this.buckets.fill(0);
    this.count = 0;
    this.sum = 0;
    this.cpuSeconds = 0;
    this.memoryBytes = this.baselineMemoryBytes;
    this.previousLogs = this.logs;
    this.logs = [];
  }

  /**
   * Integrates whole steps up to `nowMs`. `serving` is false while the pod is not Ready (no
   * traffic reaches it) and `running` false while its container is down (no CPU, no leak).
   */
  advance(
    nowMs: number,
    ctx: {
      seed: number;
      daySeconds: number;
      profile: ServiceProfile;
      readyPods: number;
      serving: boolean;
      running: boolean;
      cpuLimitCores: number;
      effects: (stepMs: number) => Effects;
    },
  ): void {
    const target = Math.floor(nowMs / STEP_MS);
    // A sandbox suspended for long would otherwise replay hours of steps for every pod; like a
    // paused process, it catches up at most ten minutes.
    if (target - this.lastStep > MAX_CATCH_UP_STEPS) this.lastStep = target - MAX_CATCH_UP_STEPS;
    const p = ctx.profile;
    for (let s = this.lastStep + 1; s <= target; s++) {
      const stepMs = s * STEP_MS;
      const fx = ctx.effects(stepMs);
      if (ctx.running) this.memoryBytes += fx.leakBytesPerSecond * (STEP_MS / 1000);
      if (!ctx.serving || !ctx.running) {
        this.cpuSeconds += ctx.running ? 0.002 : 0;
        this.lastErrorShare = 0;
        continue;
      }
      const noise = 1 + 0.16 * (hashUnit(ctx.seed, this.key, s) - 0.5);
      const rate = (p.baseRps * seasonalFactor(stepMs, ctx.daySeconds) * fx.trafficFactor * noise) / Math.max(1, ctx.readyPods);
      const n = rate * (STEP_MS / 1000);
      const util = rate / p.capacityRps;
      const saturation = util <= 0.7 ? 1 : 1 + 4 * ((Math.min(util, 1.6) - 0.7) / 0.3) ** 2;
      const shed = util > 1 ? (util - 1) / util : 0;
      const median = p.medianLatencySeconds * fx.latencyFactor * saturation * (1 + 0.1 * (hashUnit(ctx.seed, this.key ^ 0x5bd1e995, s) - 0.5));
      const s500 = Math.min(1, BASE_ERROR_SHARE + fx.share500);
      const s502 = Math.min(1 - s500, fx.share502);
      const s503 = Math.min(1 - s500 - s502, fx.share503 + shed);
      const s404 = Math.min(1 - s500 - s502 - s503, NOT_FOUND_SHARE);
      const s200 = Math.max(0, 1 - s500 - s502 - s503 - s404);
      const shares = [s200, s404, s500, s502, s503];
      for (let c = 0; c < CODES.length; c++) {
        for (let m = 0; m < METHODS.length; m++) this.requests[c * METHODS.length + m] += n * shares[c] * METHOD_SHARE[m];
      }
      const lnMedian = Math.log(median);
      for (let b = 0; b < BUCKETS.length; b++) this.buckets[b] += n * normalCdf((Math.log(BUCKETS[b]) - lnMedian) / LATENCY_SIGMA);
      this.count += n;
      this.sum += n * median * Math.exp((LATENCY_SIGMA * LATENCY_SIGMA) / 2);
      this.cpuSeconds += Math.min(ctx.cpuLimitCores, 0.01 + util * ctx.cpuLimitCores * 0.8 * fx.cpuFactor) * (STEP_MS / 1000);
      this.lastErrorShare = s500 + s502 + s503;
      this.lastMedianSeconds = median;
      this.lastUtilisation = util;
      this.writeLogs(stepMs, s, p, shares, median, fx, ctx.seed);
    }
    this.lastStep = target;
  }

  private writeLogs(stepMs: number, s: number, p: ServiceProfile, shares: number[], median: number, fx: Effects, seed: number): void {
    const ts = new Date(stepMs).toISOString();
    const u = hashUnit(seed, this.key ^ 0x27d4eb2f, s);
    let acc = 0;
    let code = '200';
    for (let c = 0; c < CODES.length; c++) {
      acc += shares[c];
      if (u < acc) {
        code = CODES[c];
        break;
      }
    }
    const post = hashUnit(seed, this.key ^ 0x165667b1, s) < 0.2;
    const path = post ? `/api/${p.deployment}` : hashUnit(seed, this.key ^ 0x3c6ef372, s) < 0.5 ? `/api/${p.deployment}/items` : '/healthz';
    const ms = Math.max(1, Math.round(median * 1000 * Math.exp(LATENCY_SIGMA * (u * 2 - 1))));
    const level = code.startsWith('5') ? 'ERROR' : 'INFO ';
    this.log(`${ts} ${level} ${post ? 'POST' : 'GET'} ${path} ${code} ${ms}ms request_id=${(this.key ^ s).toString(16).padStart(8, '0')}`);
    const errShare = shares[2] + shares[3] + shares[4];
    if (errShare > 0.02 && hashUnit(seed, this.key ^ 0x61c88647, s) < Math.min(1, errShare * 3)) {
      this.log(`${ts} ERROR ${fx.errorCause ?? 'unhandled exception while serving request'}`);
    }
    if (median > 0.5 && hashUnit(seed, this.key ^ 0x7f4a7c15, s) < 0.5) {
      this.log(`${ts} WARN  slow request: ${post ? 'POST' : 'GET'} ${path} took ${ms}ms (timeout budget 1000ms)`);
    }
  }
}
