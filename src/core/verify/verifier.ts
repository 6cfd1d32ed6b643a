import type { StepVerification, VerifyCondition } from '../model/playbook';
import type { Band, SignalName } from '../model/signal';
import type { TargetRef } from '../model/target';
import type { CheckResult, Verdict } from '../model/verdict';
import type { ClockPort } from '../ports';
import { SIGNAL_DEFINITIONS } from '../observe/signalCatalogue';
import { formatValue, signalWords } from '../observe/signalWording';

/** What verification reads. Each returns undefined when it has no evidence (source down, no sample yet). */
export interface VerificationEvidence {
  /** Latest sample of a signal, with its time. */
  latest(target: TargetRef, signal: SignalName): { readonly t: number; readonly v: number } | undefined;
  /** Expected band of a signal at a time, from the seasonal baseline. */
  band(target: TargetRef, signal: SignalName, t: number): Band | undefined;
  rolloutStatus(target: TargetRef): Promise<{ readonly complete: boolean; readonly message: string } | undefined>;
  /**
   * Latest result of the named probe as the loop saw it (probe_success of the probe's target, which is 1 only
   * while every probe reporting on it passes), with when it was seen and why it fails.
   */
  probe(name: string, target: TargetRef): { readonly t: number; readonly passing: boolean; readonly detail: string } | undefined;
  /** Total container restarts of the target's pods now. */
  restarts(target: TargetRef): number | undefined;
  /**
   * How far back one sample of a signal reaches: its rate window (error ratio, latency quantiles) or
   * undefined for a gauge (memory, available replicas). Unknown means every sample counts as an instant.
   */
  windowMs?(signal: SignalName): number | undefined;
  /** For a node: whether the workloads that ran on it are available elsewhere and none is left on it. */
  rescheduled?(node: TargetRef): { readonly complete: boolean; readonly message: string } | undefined;
}

export interface VerifyOptions {
  readonly pollMs: number;
  /** Checked between polls: the agent is shutting down; stop without a verdict (a restart resumes verification). */
  readonly cancelled?: () => boolean;
  /** A sample older than this is no evidence (the source has gone quiet). */
  readonly maxSampleAgeMs: number;
}

const DEFAULTS: VerifyOptions = { pollMs: 5000, maxSampleAgeMs: 30_000 };

/**
 * Checks a remediation worked: polls the step's conditions until they all hold for `stableForSeconds`,
 * or the timeout passes. Missing evidence is never success: it ends 'inconclusive'. Undefined when cancelled.
 *
 * What "held for" covers depends on the evidence: a gauge or a rollout status speaks for the moment it
 * was read, so it must pass on polls spanning the whole time. A rate sample speaks for its whole window:
 * one that passes while its window still holds the bad minutes before the action says the time since
 * the action was at least as good, so it covers back to the action (never before it). "No new restarts"
 * compares with the count at the action, so it covers everything since.
 */
export async function verifyStep(
  target: TargetRef,
  spec: StepVerification,
  evidence: VerificationEvidence,
  clock: ClockPort,
  onProgress?: (checks: ReadonlyArray<CheckResult>) => void,
  options: Partial<VerifyOptions> = {},
): Promise<Verdict | undefined> {
  const opts = { ...DEFAULTS, ...options };
  const start = clock.now();
  const deadline = start + spec.timeoutSeconds * 1000;
  const stableMs = (spec.stableForSeconds ?? 0) * 1000;
  // lowest restart count seen: replaced pods take their counts with them, so only growth above it is a new restart
  let restartFloor = evidence.restarts(target);
  // per condition: since when it has passed without a break, as far back as its evidence reaches
  const passingSince: Array<number | undefined> = spec.conditions.map(() => undefined);
  let last: CheckResult[] = [];
  for (;;) {
    if (opts.cancelled?.()) return undefined;
    const now = clock.now();
    last = [];
    const restartsNow = evidence.restarts(target);
    if (restartsNow !== undefined && (restartFloor === undefined || restartsNow < restartFloor)) restartFloor = restartsNow;
    for (const [n, c] of spec.conditions.entries()) {
      const { result, coversFrom } = await check(c, target, evidence, now, restartFloor, opts);
      last.push(result);
      passingSince[n] = result.status === 'passed' ? Math.min(passingSince[n] ?? Infinity, Math.max(start, coversFrom ?? now)) : undefined;
    }
    onProgress?.(last);
    const allPassed = last.every((r) => r.status === 'passed');
    if (allPassed) {
      const holdingSince = Math.max(start, ...passingSince.map((x) => x ?? now));
      if (now - holdingSince >= stableMs) {
        return { status: 'recovered', t: now, checks: last, summary: spec.conditions.length ? `all ${spec.conditions.length} checks passed${stableMs ? ` and held for ${spec.stableForSeconds} s` : ''}` : 'action applied; the step has no checks' };
      }
    }
    // a restart after the action is final: waiting out the timeout would only delay the next step
    const definitive = last.find((r) => r.status === 'failed' && r.condition.kind === 'no-new-restarts');
    if (definitive) return { status: 'not-recovered', t: now, checks: last, summary: `not recovered: ${definitive.detail}` };
    if (now >= deadline) {
      const missing = last.filter((r) => r.status === 'no-data');
      const failing = last.filter((r) => r.status === 'failed' || r.status === 'pending');
      if (missing.length) {
        return { status: 'inconclusive', t: now, checks: last, summary: `no evidence after ${spec.timeoutSeconds} s: ${missing.map((r) => r.detail).join('; ')}` };
      }
      return { status: 'not-recovered', t: now, checks: last, summary: `not recovered after ${spec.timeoutSeconds} s: ${failing.map((r) => r.detail).join('; ') || 'checks did not hold long enough'}` };
    }
    await clock.sleep(Math.min(opts.pollMs, Math.max(1, deadline - now)));
  }
}

/** One check, and how far back a pass speaks for (undefined: only for now). */
async function check(c: VerifyCondition, target: TargetRef, ev: VerificationEvidence, now: number, restartsAtStart: number | undefined, opts: VerifyOptions): Promise<{ result: CheckResult; coversFrom?: number }> {
  const fresh = (s: { t: number; v: number } | undefined) => (s && now - s.t <= opts.maxSampleAgeMs ? s : undefined);
  // a rate sample at t summarises (t - window, t]
  const reach = (signal: SignalName, s: { t: number }) => {
    const w = ev.windowMs?.(signal);
    return w !== undefined && w > 0 ? s.t - w : undefined;
  };
  switch (c.kind) {
    case 'signal-in-band': {
      const s = fresh(ev.latest(target, c.signal));
      if (!s) return { result: { condition: c, status: 'no-data', detail: `no recent ${c.signal} sample` } };
      const band = ev.band(target, c.signal, s.t);
      if (!band) return { result: { condition: c, status: 'no-data', detail: `no baseline band for ${c.signal} yet` } };
      const inside = backToNormal(c.signal, s.v, band);
      return { result: { condition: c, status: inside ? 'passed' : 'failed', detail: `${signalWords(c.signal)} ${formatValue(c.signal, s.v)} ${inside ? 'back within' : 'outside'} its expected range ${formatValue(c.signal, Math.max(0, band.lower))} to ${formatValue(c.signal, band.upper)}` }, coversFrom: reach(c.signal, s) };
    }
    case 'signal-below':
    case 'signal-above': {
      const s = fresh(ev.latest(target, c.signal));
      if (!s) return { result: { condition: c, status: 'no-data', detail: `no recent ${c.signal} sample` } };
      const ok = c.kind === 'signal-below' ? s.v < c.value : s.v > c.value;
      return { result: { condition: c, status: ok ? 'passed' : 'failed', detail: `${c.signal} ${fmt(s.v)} ${c.kind === 'signal-below' ? '<' : '>'} ${c.value}: ${ok ? 'yes' : 'no'}` }, coversFrom: reach(c.signal, s) };
    }
    case 'rollout-complete': {
      const r = await ev.rolloutStatus(target);
      if (!r) return { result: { condition: c, status: 'no-data', detail: 'rollout status unavailable' } };
      return { result: { condition: c, status: r.complete ? 'passed' : 'pending', detail: r.message } };
    }
    case 'probe-passing': {
      const p = ev.probe(c.probe, target);
      if (!p) return { result: { condition: c, status: 'no-data', detail: `probe "${c.probe}" has no result` } };
      if (now - p.t > opts.maxSampleAgeMs) return { result: { condition: c, status: 'no-data', detail: `probe "${c.probe}" has no result since ${Math.round((now - p.t) / 1000)} s` } };
      return { result: { condition: c, status: p.passing ? 'passed' : 'failed', detail: `probe ${c.probe}: ${p.detail}` } };
    }
    case 'workloads-rescheduled': {
      const r = ev.rescheduled?.(target);
      if (!r) return { result: { condition: c, status: 'no-data', detail: `no workload placement known for ${target.name}` } };
      return { result: { condition: c, status: r.complete ? 'passed' : 'pending', detail: r.message } };
    }
    case 'no-new-restarts': {
      const n = ev.restarts(target);
      if (n === undefined || restartsAtStart === undefined) return { result: { condition: c, status: 'no-data', detail: 'restart counts unavailable' } };
      const added = Math.max(0, n - restartsAtStart);
      return { result: { condition: c, status: added === 0 ? 'passed' : 'failed', detail: added === 0 ? 'no new container restarts' : `${added} new container restart(s) since the action` }, coversFrom: -Infinity };
    }
  }
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 0.01 || a >= 1e5) ? v.toExponential(2) : String(Math.round(v * 1000) / 1000);
}

/**
 * Levels below which a signal is healthy whatever its band says (a band learnt on near-zero data is razor thin).
 * Errors: 2%, well under the 5% that raises an incident; at a few requests a second two stray 5xx in a
 * 30 s window already make 1%.
 */
const HEALTHY_FLOOR: Readonly<Partial<Record<SignalName, number>>> = { error_ratio: 0.02, latency_p50: 0.1, latency_p95: 0.25, latency_p99: 0.5, restarts: 0, log_errors: 1 };
const BAD_DIRECTION = new Map(SIGNAL_DEFINITIONS.map((d) => [d.name, d.bad]));

/**
 * Recovered means the signal is no longer bad: for signals where up is bad, anything up to the band's
 * upper edge (or the healthy floor) passes, falling further is fine; mirrored for signals where down is bad.
 */
export function backToNormal(signal: SignalName, v: number, band: Band): boolean {
  const dir = BAD_DIRECTION.get(signal) ?? 'both';
  const floor = HEALTHY_FLOOR[signal];
  if (dir === 'up') return v <= Math.max(band.upper, floor ?? -Infinity);
  if (dir === 'down') return v >= band.lower;
  return v >= band.lower && v <= band.upper;
}
