import axios from 'axios';
import type { SampleFrame, SignalName } from '../../core/model/signal';
import type { TargetRef } from '../../core/model/target';
import type { ProbeSpec } from '../../core/observe/probeSpec';
import { errorText, StreamPoller, type FrameFetchResult } from '../../core/observe/streamPoller';
import { PolledSource } from '../../core/observe/polledSource';
import type { ClockPort, LoggerPort } from '../../core/ports';

export interface ProbeResult {
  readonly success: boolean;
  readonly latencyMs: number;
  /** Why it failed, naming the URL. */
  readonly reason?: string;
}

/** Runs one HTTP check: success when the status is expected and the answer came within the budget. */
export async function runProbe(spec: ProbeSpec): Promise<ProbeResult> {
  const started = performance.now();
  try {
    const res = await axios.request({ url: spec.url, method: spec.method, timeout: spec.timeoutMs, validateStatus: () => true, maxContentLength: 1024 * 1024, responseType: 'text', transformResponse: [(d: unknown) => d], proxy: false, maxRedirects: 0 });
    const latencyMs = performance.now() - started;
    if (!spec.expectStatus.includes(res.status)) return { success: false, latencyMs, reason: `${spec.method} ${spec.url} answered ${res.status}, expected ${spec.expectStatus.join(' or ')}` };
    if (latencyMs > spec.latencyBudgetMs) return { success: false, latencyMs, reason: `${spec.method} ${spec.url} took ${Math.round(latencyMs)} ms, over the ${spec.latencyBudgetMs} ms budget` };
    return { success: true, latencyMs };
  } catch (err) {
    const e = err as { code?: string; message?: string };
    const cause = e.code === 'ECONNABORTED' ? `no answer within ${spec.timeoutMs} ms` : e.code === 'ECONNREFUSED' ? 'connection refused' : (e.code ?? e.message ?? String(err));
    return { success: false, latencyMs: performance.now() - started, reason: `${spec.method} ${spec.url}: ${cause}` };
  }
}

/** Synthetic probes as a MetricsPort: probe_success (1/0) and probe_latency (seconds) per service. */
export class ProbeSource extends PolledSource {
  readonly poller: StreamPoller;
  private readonly lastRun = new Map<number, number>();
  /** Why each probe last failed (undefined when it passed), by URL, for evidence. */
  readonly lastFailure = new Map<string, string | undefined>();

  constructor(
    private readonly probes: ReadonlyArray<ProbeSpec>,
    options: { readonly clock: ClockPort; readonly intervalMs?: number; readonly logger?: LoggerPort },
  ) {
    super();
    const tick = options.intervalMs ?? Math.max(1000, Math.min(...probes.map((p) => p.intervalMs), 15_000));
    const round = async (t: number): Promise<FrameFetchResult> => {
      const due = this.probes.map((p, i) => ({ p, i })).filter(({ p, i }) => t - (this.lastRun.get(i) ?? -Infinity) >= p.intervalMs);
      const results = await Promise.all(due.map(async ({ p, i }) => {
        this.lastRun.set(i, t);
        return { p, r: await runProbe(p) };
      }));
      const frames: SampleFrame[] = results.map(({ p, r }) => ({ target: p.target, t, values: { probe_success: r.success ? 1 : 0, probe_latency: r.latencyMs / 1000 } }));
      this.remember(frames, t, 240 * tick);
      for (const { p, r } of results) this.lastFailure.set(p.url, r.reason);
      // A failing probe is a symptom for detection (probe_success 0), not a broken source.
      return { frames, problems: [] };
    };
    // A probe cannot be run in the past: a missed interval is probed once, now.
    this.poller = new StreamPoller({ instant: round, range: (_f, to) => round(to) }, { source: 'probes', describeDown: (err) => `Probes failed: ${errorText(err)}`, clock: options.clock, intervalMs: tick, logger: options.logger?.child('probes') });
  }

  async discoverTargets(): Promise<ReadonlyArray<{ readonly target: TargetRef; readonly signals: ReadonlyArray<SignalName> }>> {
    return this.probes.map((p) => ({ target: p.target, signals: ['probe_success', 'probe_latency'] as SignalName[] }));
  }
}
