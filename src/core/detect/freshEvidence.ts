import type { Anomaly } from '../model/anomaly';
import type { Band, SampleFrame, SignalName } from '../model/signal';
import type { TargetRef } from '../model/target';
import { formatValue } from '../observe/signalWording';

/**
 * Early evidence that does not wait for a rate window to fill or a baseline to finish its warm-up: the
 * last scrape interval's own latency and errors (SampleFrame.fresh), and memory heading for its limit.
 * Each is a rule-like anomaly with no hold time; the correlator still asks for a second scrape (or a
 * supporting fact) before it opens an incident, so one bad interval alone opens nothing.
 */
export interface FreshEvidenceConfig {
  /** Fresh p95 latency at least this many times its expected level (and above its band)... */
  readonly latencyRatio: number;
  /** ...and at least this much above it, in seconds (a 4x move of 5 ms is no symptom). */
  readonly latencyStepSeconds: number;
  /**
   * A step within the interval (the spike began between two scrapes): its median still under the p95 just before, its
   * p95 at least half the ratio and its p99 the whole ratio above that level, counted only with at least this many
   * requests in the interval, so that three of them are above its p95 (a straggler is no step).
   */
  readonly partialMinRequests: number;
  /** Fresh error ratio above which the interval counts as failing (the `HighErrorRatio` level)... */
  readonly errorRatio: number;
  /** ...and at least this many times the level just before (a peak's shedding creeps up; a fault steps)... */
  readonly errorJump: number;
  /** ...unless p95 latency is this many times its level just before too: then it is overload, not a failure... */
  readonly overloadRatio: number;
  /** ...and with at least this many failed requests a second in the interval. */
  readonly minErrorsPerSecond: number;
  /** Fresh request rate at least this many times what the service served just before and what is usual at this hour... */
  readonly surgeRatio: number;
  /** ...while its own median latency rose this many times its level just before (its pods queue: saturated)... */
  readonly saturationLatencyRatio: number;
  /** ...and by at least this much, in seconds (a quiet service's median moves by a bucket's width). */
  readonly saturationLatencyStepSeconds: number;
  /**
   * Or, before they slow: each ready pod serving at least `surgeRatio` times the requests it served before the rise,
   * and the pods' CPU (per pod) at least this many times its level then: the rise is work these pods do, and a
   * scale-out now keeps them from the saturation a further climb of the day's traffic brings.
   */
  readonly absorbingCpuRatio: number;
  /** Memory that, at its current steady climb, reaches the containers' limit within this long. */
  readonly memoryHorizonMs: number;
  /** Memory samples (and the time they span) a climb is fitted on. */
  readonly memorySamples: number;
  readonly memoryMinSpanMs: number;
  /** How straight the climb must be (r² of the line). */
  readonly memoryMinR2: number;
  /** How much the climb must have added over the fit, relative to where it began. */
  readonly memoryMinRise: number;
}

export const DEFAULT_FRESH_EVIDENCE: FreshEvidenceConfig = {
  latencyRatio: 6,
  latencyStepSeconds: 0.15,
  partialMinRequests: 60,
  errorRatio: 0.05,
  errorJump: 3,
  overloadRatio: 3,
  minErrorsPerSecond: 1,
  surgeRatio: 2,
  saturationLatencyRatio: 1.5,
  saturationLatencyStepSeconds: 0.005,
  absorbingCpuRatio: 1.5,
  memoryHorizonMs: 120_000,
  memorySamples: 4,
  memoryMinSpanMs: 15_000,
  memoryMinR2: 0.9,
  memoryMinRise: 0.15,
};

/** The rule names these anomalies carry, so learning and the UI can tell them apart. */
export const FRESH_RULES = { latency: 'FreshLatency', errors: 'FreshErrorRatio', surge: 'FreshSurge', memory: 'MemoryHeadroom' } as const;

/**
 * The windowed level of a signal on the target's last frame whose fresh interval was not flagged: "just before"; and,
 * where the detectors know the season, the request rate usual at this hour (`seasonalRequestRate`). `freshRequestRate`
 * and `freshCpu`: the median of the last few unflagged intervals' own values (see FRESH_HISTORY), a level the rate
 * window cannot understate.
 */
export type FreshReference = Partial<Record<'latency_p95' | 'latency_p50' | 'error_ratio' | 'request_rate' | 'cpu' | 'available_replicas' | 'seasonalRequestRate' | 'freshRequestRate' | 'freshCpu', number>> & {
  /** When the target's previous frame was scored (flagged or not): the fresh interval's start, to count its requests. */
  readonly previousFrameT?: number;
};

/**
 * Anomalies of the last interval's latency and errors: a sudden step against the level just before (`reference`,
 * the rate window's value on the last unflagged frame, which a daily peak drags up with it) and the band. Pure.
 */
export function freshAnomalies(frame: SampleFrame, bands: Readonly<Partial<Record<SignalName, Band>>>, reference: FreshReference = {}, config: FreshEvidenceConfig = DEFAULT_FRESH_EVIDENCE): Anomaly[] {
  const fresh = frame.fresh;
  if (!fresh) return [];
  const out: Anomaly[] = [];
  const p95 = fresh.latency_p95;
  const band = bands.latency_p95;
  if (p95 !== undefined && Number.isFinite(p95) && band && Number.isFinite(band.expected) && band.expected > 0) {
    const before = Math.max(band.expected, reference.latency_p95 ?? 0);
    // the interval's median above the p95 just before: most requests slowed, not one straggler among the few a quiet
    // service serves in one interval (at night checkout's p95 over 5 s is its slowest of a dozen requests)
    const p50 = fresh.latency_p50;
    const most = p50 === undefined || !Number.isFinite(p50) || p50 >= before;
    const stepped = p95 > band.upper && p95 - before >= config.latencyStepSeconds;
    const whole = most && p95 >= config.latencyRatio * before;
    const partial = !most && partialStep(frame, before, reference, config);
    if (stepped && (whole || partial)) {
      const ratio = `${(p95 / before).toFixed(1)}x its level just before (${formatValue('latency_p95', before)})`;
      const reason = whole
        ? `latency_p95 ${formatValue('latency_p95', p95)} over the last interval, ${ratio}`
        : `latency_p95 ${formatValue('latency_p95', p95)} over the last interval, ${ratio}, p99 ${formatValue('latency_p99', fresh.latency_p99)}: a step within the interval, its median still ${formatValue('latency_p50', p50)}`;
      out.push(anomaly(frame.target, frame.t, FRESH_RULES.latency, 'latency_p95', p95, band, reason));
    }
  }
  const errors = fresh.error_ratio;
  const before = reference.error_ratio ?? 0;
  // errors with a service slowed to a crawl are an overload shedding load (a daily peak, a surge): the latency speaks for it
  const overloaded = p95 !== undefined && reference.latency_p95 !== undefined && p95 >= config.overloadRatio * reference.latency_p95;
  // a few stray 5xx of a quiet service make a big share of one short interval: count them too
  const perSecond = errors !== undefined && fresh.request_rate !== undefined ? errors * fresh.request_rate : undefined;
  const enough = perSecond === undefined || perSecond >= config.minErrorsPerSecond;
  if (errors !== undefined && Number.isFinite(errors) && enough && !overloaded && errors > config.errorRatio && errors >= config.errorJump * before && (!bands.error_ratio || errors > bands.error_ratio.upper)) {
    out.push(anomaly(frame.target, frame.t, FRESH_RULES.errors, 'error_ratio', errors, bands.error_ratio, `error_ratio ${formatValue('error_ratio', errors)} over the last interval > ${config.errorRatio} (${formatValue('error_ratio', before)} just before)`));
  }
  const surge = surgeAnomaly(frame, bands, reference, config);
  if (surge) out.push(surge);
  return out;
}

/**
 * A latency step that began within the last interval: part of its requests served at the old level (the median is still
 * under the p95 just before), the rest as slow as a whole slow interval would be (p99 at the full ratio, p95 at half of
 * it). Without it such an interval waits for the next, and the incident for the one after: 2 to 3 intervals after the
 * first slow request (bench:heal's latency spike, 2.2 intervals on 3 seeds). A uniform slowdown cannot pass it (a p95 3x
 * the level before with the median still under it needs the spread to widen), and a quiet service's straggler cannot
 * either (partialMinRequests).
 */
function partialStep(frame: SampleFrame, before: number, reference: FreshReference, config: FreshEvidenceConfig): boolean {
  const { latency_p95: p95, latency_p99: p99, request_rate: rate } = frame.fresh ?? {};
  const since = reference.previousFrameT;
  if (p95 === undefined || p99 === undefined || !Number.isFinite(p99) || rate === undefined || since === undefined || !(frame.t > since)) return false;
  const requests = rate * ((frame.t - since) / 1000);
  return requests >= config.partialMinRequests && p95 >= (config.latencyRatio / 2) * before && p99 >= config.latencyRatio * before;
}

/**
 * A surge on the service: the last interval's requests a multiple of both what it served just before and what is usual
 * at this hour, while its own pods slowed (median latency up), shed (errors past the failing level), or, before either,
 * do the work of it (`absorbing`). A surge at the night trough can run the pods near their capacity without one error
 * for minutes (bench:heal's surge seeds 2 and 3: errors came 84 and 105 s after the pods saturated); their queueing
 * shows at once. On a weekend night it runs them at two thirds of their capacity with the latency flat, and they
 * saturate only as the day's traffic climbs under it, a minute and more later (bench:heal run 10: symptoms 57–59 s
 * after injection, verified at 83 s): Vigil, like an on-call engineer who sees four times the night's traffic land on
 * two pods, scales out then rather than when they queue. A callee's outage raises no requests, a daily climb is no
 * step, and a rise spread over more pods (after the scale-out) is no more load on each.
 */
function surgeAnomaly(frame: SampleFrame, bands: Readonly<Partial<Record<SignalName, Band>>>, reference: FreshReference, config: FreshEvidenceConfig): Anomaly | undefined {
  const fresh = frame.fresh;
  const rate = fresh?.request_rate;
  const windowed = reference.request_rate;
  if (rate === undefined || !Number.isFinite(rate) || windowed === undefined || !(windowed > 0)) return undefined;
  const just = Math.max(windowed, reference.freshRequestRate ?? 0);
  const usual = Math.max(just, reference.seasonalRequestRate ?? 0);
  if (rate < config.surgeRatio * usual) return undefined;
  const p50 = fresh?.latency_p50;
  const p50Before = reference.latency_p50;
  const slower = p50 !== undefined && p50Before !== undefined && p50Before > 0 && p50 >= config.saturationLatencyRatio * p50Before && p50 - p50Before >= config.saturationLatencyStepSeconds;
  const errors = fresh?.error_ratio;
  const shedding = errors !== undefined && errors > config.errorRatio;
  // what the pods show of the rise: the words of the reason and the anomaly's second contribution, from one decision
  const band = (signal: SignalName) => (bands[signal] ? { band: bands[signal] } : {});
  const absorbing = slower || shedding ? undefined : absorbingRise(frame, rate, just, reference, config);
  const shown: { how: string; second: Anomaly['contributions'][number] } | undefined = slower
    ? { how: `its pods saturate: median latency ${formatValue('latency_p50', p50)} (${(p50! / p50Before!).toFixed(1)}x)`, second: { signal: 'latency_p50', share: 0.4, observed: p50!, ...band('latency_p50') } }
    : shedding
      ? { how: `its pods saturate: ${formatValue('error_ratio', errors)} of requests failing`, second: { signal: 'error_ratio', share: 0.4, observed: errors!, ...band('error_ratio') } }
      : absorbing
        ? { how: `its pods do the work of it, CPU ${formatValue('cpu', absorbing.cpu)} (${absorbing.cpuRatio.toFixed(1)}x per pod), not yet slower: scale out before they saturate`, second: { signal: 'cpu', share: 0.4, observed: absorbing.cpu, ...band('cpu') } }
        : undefined;
  if (!shown) return undefined;
  const pods = frame.values.available_replicas;
  const perPod = pods !== undefined && pods > 0 ? `, ${formatValue('request_rate', rate / pods)} per ready pod` : '';
  const reason = `request_rate ${formatValue('request_rate', rate)} over the last interval, ${(rate / usual).toFixed(1)}x ${usual > just ? 'the usual at this hour' : 'its level just before'} (${formatValue('request_rate', usual)})${perPod}; ${shown.how}`;
  const contributions: Anomaly['contributions'] = [{ signal: 'request_rate', share: 0.6, observed: rate, ...band('request_rate') }, shown.second];
  return { target: frame.target, t: frame.t, detector: 'rule', rule: FRESH_RULES.surge, score: 0.9, isAnomaly: true, severity: 'warning', contributions, reason };
}

/**
 * A rise the pods absorb so far: per ready pod, at least `surgeRatio` times the requests and `absorbingCpuRatio` times
 * the CPU of the level before it (`rateBefore`, and the CPU's windowed level or its recent intervals', the higher); the
 * CPU now is the last interval's own where the source reads it.
 * Needs the replica count and CPU now and then; without them a surge waits for the pods to slow or shed.
 */
function absorbingRise(frame: SampleFrame, rate: number, rateBefore: number, reference: FreshReference, config: FreshEvidenceConfig): { cpu: number; cpuRatio: number } | undefined {
  const pods = frame.values.available_replicas;
  // the last interval's own CPU where it is read (a window of a minute shows a step a twelfth at a time), else the window's
  const freshCpu = frame.fresh?.cpu;
  const cpu = freshCpu !== undefined && Number.isFinite(freshCpu) ? freshCpu : frame.values.cpu;
  const podsBefore = reference.available_replicas;
  const cpuBefore = reference.cpu === undefined ? undefined : Math.max(reference.cpu, reference.freshCpu ?? 0);
  if (pods === undefined || !(pods > 0) || podsBefore === undefined || !(podsBefore > 0) || cpu === undefined || !Number.isFinite(cpu) || cpuBefore === undefined || !(cpuBefore > 0)) return undefined;
  if (rate / pods < config.surgeRatio * (rateBefore / podsBefore)) return undefined;
  const cpuRatio = cpu / pods / (cpuBefore / podsBefore);
  return cpuRatio >= config.absorbingCpuRatio ? { cpu, cpuRatio } : undefined;
}

/**
 * A frame whose last interval's p95 is already half-way to a fresh step (half the ratio and the absolute step) keeps the
 * latency reference where it was, for at most this many frames in a row: a spike that began within a scrape interval
 * shows only partly in it, and its rate window, dragged up by it, must not become "just before" for the first full
 * interval (bench:heal's latency spike, seed 1: 0.52 s of 0.095 s, then 0.96 s read against 0.16 s, 5.9x, unflagged
 * for 10 intervals). A level that stays there becomes the reference after that.
 */
const MAX_HELD_FRAMES = 2;

/**
 * A rise of the requests to a multiple of the level before it that the pods absorb (latency flat, so not flagged) keeps
 * the level before the rise as the reference of requests and median latency for this long: a surge at a weekend night
 * runs cart at 68% of its capacity and saturates it only as the day climbs a minute and a half later, a creep against
 * the level just before but a step against the level before the surge. A rise that lasts longer is the new normal.
 */
const MAX_RISE_HOLD_MS = 10 * 60_000;

/**
 * The request rate of a reference is a level "just before" only once two unflagged frames in a row read it within this
 * factor of each other. The first frames after the agent starts (or a target appears) are not: the first sample of a
 * new series counts from its process start, which includes the time before the pod served, and a round of scrapes
 * answered late reads its intervals unevenly. Recorded in bench:heal on a loaded machine: payments-api read 1.16 req/s,
 * then 7.12 and 4.84, then 4.0–4.2 steadily; the first reading became the level before a "rise", held for 10 min, and
 * the fault 45 s later was named a surge 3.4x that level (as were a latency spike, a bad flag and, 115 s after its
 * verdict, a rolled-back release: a relapse). A surge is judged, and a rise held, against a level known to be steady.
 */
const SETTLED_RATE_RATIO = 1.25;

/**
 * How many unflagged intervals' own request rate and CPU a reference keeps, whose median is a floor under the windowed
 * level "just before". A rate window understates a series younger than itself: Prometheus's rate() divides the increase
 * it sees by the whole window, so for a minute after Prometheus starts, or after a rollout's new pods appear, a 60 s
 * window reads a half, then two thirds of the rate while the last interval reads all of it. Against that level every
 * service read as a surge its pods absorbed, 2.1x the requests and 1.5x the CPU (the SLO test with a Prometheus started
 * with the agent: four traffic-surge incidents 45 s in, no fault injected). The median of three lets one interval in
 * which a rise began (part of it risen) not move the level.
 */
const FRESH_HISTORY = 3;

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Two successive windowed readings of a rate that agree (see SETTLED_RATE_RATIO): a level to measure a step from. */
export function steadyLevel(earlier: number | undefined, later: number | undefined): boolean {
  return earlier !== undefined && later !== undefined && earlier > 0 && later > 0 && Math.max(later / earlier, earlier / later) <= SETTLED_RATE_RATIO;
}

/** Keeps each target's FreshReference: the windowed values of its last frame that `freshAnomalies` left unflagged. */
export class FreshReferences {
  private readonly refs = new Map<string, { t: number; ref: FreshReference; held: number; riseSince?: number; settled: boolean; rates: readonly number[]; cpus: readonly number[] }>();
  private readonly lastFrameT = new Map<string, number>();

  constructor(private readonly config: FreshEvidenceConfig = DEFAULT_FRESH_EVIDENCE) {}

  get(key: string): FreshReference {
    const kept = this.refs.get(key);
    let ref: FreshReference = kept?.ref ?? {};
    // an unsettled request rate is no level to measure a surge against (see SETTLED_RATE_RATIO)
    if (kept && !kept.settled && ref.request_rate !== undefined) {
      const { request_rate: _unsettled, ...rest } = ref;
      ref = rest;
    }
    const freshRequestRate = median(kept?.rates ?? []);
    const freshCpu = median(kept?.cpus ?? []);
    if (freshRequestRate !== undefined) ref = { ...ref, freshRequestRate };
    if (freshCpu !== undefined) ref = { ...ref, freshCpu };
    const previousFrameT = this.lastFrameT.get(key);
    return previousFrameT === undefined ? ref : { ...ref, previousFrameT };
  }

  /** After scoring a frame: an unflagged frame moves the reference to its own windowed values (see MAX_HELD_FRAMES). */
  update(key: string, frame: SampleFrame, flagged: boolean): void {
    this.lastFrameT.set(key, frame.t);
    if (flagged) return;
    const prev = this.refs.get(key);
    const ref: FreshReference = {};
    for (const s of ['latency_p95', 'latency_p50', 'error_ratio', 'request_rate', 'cpu', 'available_replicas'] as const) {
      const v = frame.values[s];
      if (v !== undefined && Number.isFinite(v)) ref[s] = v;
    }
    const before = prev?.ref.latency_p95;
    const p95 = frame.fresh?.latency_p95;
    const halfway = before !== undefined && p95 !== undefined && Number.isFinite(p95) && p95 >= (this.config.latencyRatio / 2) * before && p95 - before >= this.config.latencyStepSeconds / 2;
    const held = halfway && prev!.held < MAX_HELD_FRAMES ? prev!.held + 1 : 0;
    if (held > 0) ref.latency_p95 = before;
    const rate = frame.fresh?.request_rate;
    const base = prev?.ref.request_rate;
    const riseSince = prev?.riseSince ?? frame.t;
    const level = base === undefined ? undefined : Math.max(base, median(prev!.rates) ?? 0);
    const risen = prev?.settled === true && level !== undefined && level > 0 && rate !== undefined && rate >= this.config.surgeRatio * level && frame.t - riseSince <= MAX_RISE_HOLD_MS;
    if (risen) {
      ref.request_rate = base;
      // what the pods served, at what latency and CPU, before the rise
      for (const s of ['latency_p50', 'cpu', 'available_replicas'] as const) if (prev!.ref[s] !== undefined) ref[s] = prev!.ref[s];
    }
    const windowed = ref.request_rate;
    const settled = risen || steadyLevel(base, windowed);
    // the intervals' own levels, but not those of a rise held (they are what is measured against the level before it)
    const recent = (list: readonly number[] = [], v: number | undefined) => (risen || v === undefined || !Number.isFinite(v) ? list : [...list, v].slice(-FRESH_HISTORY));
    const rates = recent(prev?.rates, rate);
    const cpus = recent(prev?.cpus, frame.fresh?.cpu);
    this.refs.set(key, { t: frame.t, ref, held, settled, rates, cpus, ...(risen ? { riseSince } : {}) });
  }

  prune(before: number): void {
    for (const [k, v] of this.refs) if (v.t < before) this.refs.delete(k);
    for (const [k, t] of this.lastFrameT) if (t < before) this.lastFrameT.delete(k);
  }
}

/** A least-squares line through the points: slope per ms and r². */
export function lineFit(points: ReadonlyArray<{ readonly t: number; readonly v: number }>): { slope: number; r2: number } | undefined {
  const n = points.length;
  if (n < 2) return undefined;
  const t0 = points[0].t;
  let sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0;
  for (const p of points) {
    const x = p.t - t0;
    sx += x; sy += p.v; sxx += x * x; sxy += x * p.v; syy += p.v * p.v;
  }
  const vx = sxx - (sx * sx) / n;
  const vy = syy - (sy * sy) / n;
  const cov = sxy - (sx * sy) / n;
  if (vx <= 0) return undefined;
  return { slope: cov / vx, r2: vy > 0 ? (cov * cov) / (vx * vy) : 0 };
}

/**
 * predict_linear against the limit, per target: memory climbing in a straight line that reaches the sum of its
 * containers' limits within the horizon is a leak before the first OOMKill. Counts only while the pods and their
 * limits stay the same (a rollout or scale-out adds memory without a leak). Keeps the last few samples per target.
 */
export class MemoryHeadroom {
  private readonly samples = new Map<string, Array<{ t: number; v: number; limit: number; pods: number }>>();

  constructor(private readonly config: FreshEvidenceConfig = DEFAULT_FRESH_EVIDENCE) {}

  /** One frame of a target, with its containers' summed memory limit and pod count (undefined: unknown). */
  step(key: string, frame: SampleFrame, limit: number | undefined, pods: number): Anomaly | undefined {
    const c = this.config;
    const v = frame.values.memory;
    let list = this.samples.get(key);
    if (v === undefined || !Number.isFinite(v) || limit === undefined || !(limit > 0)) {
      this.samples.delete(key);
      return undefined;
    }
    if (!list) this.samples.set(key, (list = []));
    if (list.length && (list[list.length - 1].limit !== limit || list[list.length - 1].pods !== pods)) list.length = 0;
    if (list.length && frame.t <= list[list.length - 1].t) return undefined;
    list.push({ t: frame.t, v, limit, pods });
    while (list.length > c.memorySamples) list.shift();
    if (list.length < c.memorySamples || frame.t - list[0].t < c.memoryMinSpanMs) return undefined;
    const fit = lineFit(list);
    if (!fit || fit.slope <= 0 || fit.r2 < c.memoryMinR2 || v < list[0].v * (1 + c.memoryMinRise)) return undefined;
    const leftMs = Math.max(0, (limit - v) / fit.slope);
    if (leftMs > c.memoryHorizonMs) return undefined;
    const perMinute = fit.slope * 60_000;
    const reason = `memory ${formatValue('memory', v)} climbing ${formatValue('memory', perMinute)}/min: at this rate it reaches its limit of ${formatValue('memory', limit)} in ${Math.round(leftMs / 1000)} s`;
    return anomaly(frame.target, frame.t, FRESH_RULES.memory, 'memory', v, undefined, reason);
  }

  /** Drops targets not seen since `before`. */
  prune(before: number): void {
    for (const [k, list] of this.samples) if (!list.length || list[list.length - 1].t < before) this.samples.delete(k);
  }
}

function anomaly(target: TargetRef, t: number, rule: string, signal: SignalName, observed: number, band: Band | undefined, reason: string): Anomaly {
  return { target, t, detector: 'rule', rule, score: 0.9, isAnomaly: true, severity: 'warning', contributions: [{ signal, share: 1, observed, ...(band ? { band } : {}) }], reason };
}
