import axios from 'axios';
import type { SampleFrame, SignalName } from '../../core/model/signal';
import { targetKey, type TargetRef } from '../../core/model/target';
import { describeProbeRun, describeRequest, type ProbeJourney, type ProbeRun, type ProbeStep } from '../../core/observe/probeSpec';
import { errorText, StreamPoller, type FrameFetchResult } from '../../core/observe/streamPoller';
import { PolledSource } from '../../core/observe/polledSource';
import type { ClockPort, LoggerPort, ProbeResultsPort } from '../../core/ports';
import type { KubeConnection } from '../kubernetes/kubeClient';

const MAX_BODY_BYTES = 1024 * 1024;

/** How a step's request is sent: directly to a URL, or through the API server's service proxy. */
export interface ProbeTransport {
  /** Needed by steps with `service`; without it they fail with a reason saying so. */
  readonly conn?: Pick<KubeConnection, 'request' | 'server'>;
}

interface StepAnswer {
  readonly status: number;
  readonly body: string;
}

/** The API server path that reaches a Service's port, as `kubectl proxy` users write it. */
export function serviceProxyPath(e: Extract<ProbeStep['endpoint'], { kind: 'service' }>): string {
  return `/api/v1/namespaces/${encodeURIComponent(e.namespace)}/services/${encodeURIComponent(e.name)}:${encodeURIComponent(e.port)}/proxy${e.path}`;
}

async function send(step: ProbeStep, timeoutMs: number, transport: ProbeTransport): Promise<StepAnswer> {
  const body = step.body === '' ? undefined : step.body;
  const e = step.endpoint;
  if (e.kind === 'service') {
    if (!transport.conn) throw new Error('no cluster connection to reach the service proxy');
    return transport.conn.request(step.method, serviceProxyPath(e), { body, contentType: contentTypeOf(step.body), timeoutMs, maxBytes: MAX_BODY_BYTES });
  }
  try {
    const res = await axios.request<string>({
      url: e.url,
      method: step.method,
      data: body,
      headers: body !== undefined ? { 'Content-Type': contentTypeOf(step.body) } : undefined,
      timeout: timeoutMs,
      validateStatus: () => true,
      maxContentLength: MAX_BODY_BYTES,
      responseType: 'text',
      transformResponse: [(d: unknown) => d],
      proxy: false,
      maxRedirects: 0,
    });
    return { status: res.status, body: String(res.data ?? '') };
  } catch (err) {
    const x = err as { code?: string; message?: string };
    throw new Error(x.code === 'ECONNABORTED' ? `no answer within ${timeoutMs} ms` : x.code === 'ECONNREFUSED' ? 'connection refused' : (x.code ?? x.message ?? String(err)));
  }
}

function contentTypeOf(body: string): string {
  return /^\s*[[{]/.test(body) ? 'application/json' : 'text/plain';
}

/** The start of an answer, on one line, so a failure says what the service answered. */
function excerpt(body: string): string {
  const one = body.replace(/\s+/g, ' ').trim();
  return one.length > 160 ? `${one.slice(0, 160)}…` : one;
}

/**
 * Runs a probe's steps in order and stops at the first that fails: an unexpected status, a body not
 * matching `expectBody`, an answer over the latency budget, or no answer. The reason names the step.
 */
export async function runJourney(journey: ProbeJourney, transport: ProbeTransport, now: () => number = Date.now): Promise<ProbeRun> {
  const t = now();
  const started = performance.now();
  const done = (failed?: { step: ProbeStep; why: string }): ProbeRun => ({
    name: journey.name,
    target: journey.target,
    t,
    success: !failed,
    latencyMs: performance.now() - started,
    ...(failed ? { failedStep: failed.step.name, reason: `step "${failed.step.name}": ${describeRequest(failed.step)} ${failed.why}` } : {}),
  });
  for (const step of journey.steps) {
    const stepStart = performance.now();
    let answer: StepAnswer;
    try {
      answer = await send(step, journey.timeoutMs, transport);
    } catch (err) {
      return done({ step, why: `got no answer: ${(err as Error).message}` });
    }
    const latencyMs = performance.now() - stepStart;
    if (!step.expectStatus.includes(answer.status)) {
      const said = excerpt(answer.body);
      return done({ step, why: `answered ${answer.status}, expected ${step.expectStatus.join(' or ')}${said ? `: ${said}` : ''}` });
    }
    if (step.expectBody && !step.expectBody.test(answer.body)) return done({ step, why: `answered ${answer.status} without ${step.expectBody} in the body: ${excerpt(answer.body) || '(empty)'}` });
    if (latencyMs > step.latencyBudgetMs) return done({ step, why: `took ${Math.round(latencyMs)} ms, over the ${step.latencyBudgetMs} ms budget` });
  }
  return done();
}

export interface ProbeSourceOptions extends ProbeTransport {
  readonly clock: ClockPort;
  /** The loop's interval: one frame per target per interval, so the probes merge with the metrics. */
  readonly intervalMs: number;
  readonly logger?: LoggerPort;
  /** Runs kept per probe for escalations (default 20). */
  readonly keepRuns?: number;
}

/**
 * Synthetic probes as a MetricsPort: per target, probe_success (1 while every probe reporting on it passes
 * its last run, else 0) and probe_latency (the slowest last run, seconds). Each probe runs on its own
 * interval; a round waits only briefly for runs in flight, so a slow journey is reported on the next
 * interval instead of holding back the merged frame. Also the ProbeResultsPort escalations and verification read.
 */
export class ProbeSource extends PolledSource implements ProbeResultsPort {
  readonly poller: StreamPoller;
  private readonly runs = new Map<string, ProbeRun[]>();
  private readonly lastStart = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly byName: ReadonlyMap<string, ProbeJourney>;

  constructor(
    private readonly journeys: ReadonlyArray<ProbeJourney>,
    private readonly options: ProbeSourceOptions,
  ) {
    super();
    this.byName = new Map(journeys.map((j) => [j.name, j]));
    const tick = options.intervalMs;
    const round = async (t: number): Promise<FrameFetchResult> => {
      const started = this.journeys.filter((j) => !this.inFlight.has(j.name) && t - (this.lastStart.get(j.name) ?? -Infinity) >= j.intervalMs).map((j) => this.start(j, t));
      if (started.length > 0) {
        const wait = options.clock.sleep(Math.min(2_000, tick / 4));
        await Promise.race([Promise.all(started), wait]);
      }
      const frames = this.frames(t);
      this.remember(frames, t, 240 * tick);
      // A failing probe is a symptom for detection (probe_success 0), not a broken source.
      return { frames, problems: [] };
    };
    // A probe cannot be run in the past: a missed interval is probed once, now.
    this.poller = new StreamPoller({ instant: round, range: (_f, to) => round(to) }, { source: 'probes', describeDown: (err) => `Probes failed: ${errorText(err)}`, clock: options.clock, intervalMs: tick, logger: options.logger?.child('probes') });
  }

  private start(j: ProbeJourney, t: number): Promise<void> {
    this.lastStart.set(j.name, t);
    const run = runJourney(j, this.options, () => this.options.clock.now())
      .then((r) => this.record(r))
      .finally(() => this.inFlight.delete(j.name));
    this.inFlight.set(j.name, run);
    return run;
  }

  private record(r: ProbeRun): void {
    const kept = this.runs.get(r.name) ?? [];
    const before = kept.at(-1);
    kept.push(r);
    if (kept.length > (this.options.keepRuns ?? 20)) kept.shift();
    this.runs.set(r.name, kept);
    if (before?.success !== r.success) this.options.logger?.log(r.success ? 'info' : 'warn', `probe ${describeProbeRun(r)}`, { probe: r.name, target: targetKey(r.target) });
  }

  /** Each target's frame from the last run of each of its probes that is still current. */
  private frames(t: number): SampleFrame[] {
    const byTarget = new Map<string, { target: TargetRef; ok: boolean; latency: number }>();
    for (const j of this.journeys) {
      const last = this.runs.get(j.name)?.at(-1);
      // a run speaks for its probe's interval, and a little more: the next run may still be in flight
      if (!last || t - last.t > 2 * Math.max(j.intervalMs, this.options.intervalMs) + j.steps.length * j.timeoutMs) continue;
      const key = targetKey(j.target);
      const e = byTarget.get(key) ?? { target: j.target, ok: true, latency: 0 };
      e.ok &&= last.success;
      e.latency = Math.max(e.latency, last.latencyMs / 1000);
      byTarget.set(key, e);
    }
    return [...byTarget.values()].map((e) => ({ target: e.target, t, values: { probe_success: e.ok ? 1 : 0, probe_latency: e.latency } }));
  }

  async discoverTargets(): Promise<ReadonlyArray<{ readonly target: TargetRef; readonly signals: ReadonlyArray<SignalName> }>> {
    const seen = new Map(this.journeys.map((j) => [targetKey(j.target), j.target]));
    return [...seen.values()].map((target) => ({ target, signals: ['probe_success', 'probe_latency'] as SignalName[] }));
  }

  recent(target: TargetRef, limit: number): ReadonlyArray<ProbeRun> {
    const key = targetKey(target);
    return this.journeys
      .filter((j) => targetKey(j.target) === key)
      .flatMap((j) => this.runs.get(j.name) ?? [])
      .sort((a, b) => a.t - b.t)
      .slice(-limit);
  }

  latest(name: string): ProbeRun | undefined {
    return this.runs.get(name)?.at(-1);
  }

  targetOf(name: string): TargetRef | undefined {
    return this.byName.get(name)?.target;
  }

  /** Runs every probe now, once (for `vigil` commands and tests); the stream is not involved. */
  async runAll(): Promise<ProbeRun[]> {
    return Promise.all(this.journeys.map(async (j) => {
      const r = await runJourney(j, this.options, () => this.options.clock.now());
      this.record(r);
      return r;
    }));
  }
}
