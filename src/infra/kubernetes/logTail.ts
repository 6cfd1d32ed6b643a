import type { LogLine } from '../../core/model/fact';
import type { SampleFrame, SignalName } from '../../core/model/signal';
import { targetKey, type TargetRef } from '../../core/model/target';
import { errorText, StreamPoller, type FrameFetchResult } from '../../core/observe/streamPoller';
import { PolledSource } from '../../core/observe/polledSource';
import type { ClockPort, LoggerPort, WorkloadInventory } from '../../core/ports';
import { compileLogPatterns, matchLogLine, splitTimestamp, type LogPattern } from '../../core/observe/logPatterns';
import type { KubeConnection } from './kubeClient';

export interface LogTailOptions {
  readonly patterns?: ReadonlyArray<{ readonly name: string; readonly pattern: string }>;
  /** At most this many log reads per second across all pods (bounded load on the API server). */
  readonly maxReadsPerSecond?: number;
  /** Pods read per service per round (the rest are sampled in later rounds). */
  readonly maxPodsPerService?: number;
  readonly limitBytes?: number;
  /** Matched lines kept per service for recentLogs. */
  readonly keepLines?: number;
}

export interface ServicePods {
  readonly target: TargetRef;
  readonly pods: ReadonlyArray<string>;
}

/**
 * Reads recent log lines of selected workloads' pods through the API and counts lines matching
 * error patterns. Each pod remembers the last timestamp it saw, so a line is counted once.
 */
export class LogTailer {
  private readonly patterns: LogPattern[];
  private readonly lastSeen = new Map<string, number>();
  private readonly recent = new Map<string, LogLine[]>();
  private readonly rotation = new Map<string, number>();
  private readonly minGapMs: number;
  private lastReadAt = 0;

  constructor(
    private readonly conn: KubeConnection,
    private readonly options: LogTailOptions = {},
  ) {
    this.patterns = compileLogPatterns(options.patterns);
    this.minGapMs = 1000 / (options.maxReadsPerSecond ?? 10);
  }

  /**
   * One round: for each service, reads the new lines since the last round (`sinceSeconds` on the
   * first read) and returns matched-line counts per service. Failures are returned, never thrown.
   */
  async round(services: ReadonlyArray<ServicePods>, sinceSeconds: number, now: number): Promise<{ counts: Map<string, number>; problems: string[] }> {
    const counts = new Map<string, number>();
    const problems: string[] = [];
    const maxPods = this.options.maxPodsPerService ?? 3;
    for (const svc of services) {
      const key = targetKey(svc.target);
      counts.set(key, 0);
      const start = this.rotation.get(key) ?? 0;
      const pods = svc.pods.length <= maxPods ? svc.pods : Array.from({ length: maxPods }, (_, i) => svc.pods[(start + i) % svc.pods.length]);
      this.rotation.set(key, start + maxPods);
      for (const pod of pods) {
        await this.pace();
        try {
          const matched = await this.readPod(svc.target.namespace ?? 'default', pod, sinceSeconds, now);
          counts.set(key, (counts.get(key) ?? 0) + matched.length);
          const kept = [...(this.recent.get(key) ?? []), ...matched];
          this.recent.set(key, kept.slice(-(this.options.keepLines ?? 200)));
        } catch (err) {
          // a pod deleted since the inventory was read (a rollout, a restart) has no logs to miss
          if ((err as { statusCode?: number }).statusCode === 404) continue;
          problems.push(`logs of ${svc.target.namespace}/${pod}: ${(err as Error).message}`);
        }
      }
    }
    return { counts, problems };
  }

  /** True when no round has read this workload yet. */
  isNew(target: TargetRef): boolean {
    return !this.rotation.has(targetKey(target));
  }

  recentLines(target: TargetRef, limit: number): LogLine[] {
    return (this.recent.get(targetKey(target)) ?? []).slice(-limit);
  }

  private async pace(): Promise<void> {
    const wait = this.lastReadAt + this.minGapMs - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    this.lastReadAt = Date.now();
  }

  private async readPod(namespace: string, pod: string, sinceSeconds: number, now: number): Promise<LogLine[]> {
    const podKey = `${namespace}/${pod}`;
    const since = this.lastSeen.get(podKey);
    const seconds = since === undefined ? sinceSeconds : Math.max(1, Math.ceil((now - since) / 1000) + 1);
    const text = await this.conn.get(`/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log`, {
      params: { timestamps: 'true', sinceSeconds: seconds, limitBytes: this.options.limitBytes ?? 256 * 1024 },
      timeoutMs: 10_000,
    });
    const out: LogLine[] = [];
    let newest = since ?? -Infinity;
    for (const raw of text.split('\n')) {
      if (!raw) continue;
      const { t, text: line } = splitTimestamp(raw, now);
      if (since !== undefined && t <= since) continue;
      newest = Math.max(newest, t);
      const pattern = matchLogLine(line, this.patterns);
      if (pattern) out.push({ t, pod: { kind: 'pod', namespace, name: pod }, text: line.slice(0, 2000), pattern });
    }
    if (Number.isFinite(newest)) this.lastSeen.set(podKey, newest);
    else if (since === undefined) this.lastSeen.set(podKey, now);
    return out;
  }
}

export interface LogErrorsSourceOptions {
  readonly tailer: LogTailer;
  readonly clock: ClockPort;
  readonly intervalMs: number;
  /** Workloads whose logs are read (e.g. from the inventory, filtered to the selected ones). */
  readonly services: () => ReadonlyArray<ServicePods>;
  readonly logger?: LoggerPort;
}

/** The log_errors signal: matched error lines per service per interval, as a MetricsPort stream. */
export class LogErrorsSource extends PolledSource {
  readonly poller: StreamPoller;

  constructor(private readonly options: LogErrorsSourceOptions) {
    super();
    const round = async (t: number): Promise<FrameFetchResult> => {
      const services = options.services();
      const { counts, problems } = await options.tailer.round(services, Math.ceil(options.intervalMs / 1000), options.clock.now());
      if (services.length > 0 && problems.length >= services.length && [...counts.values()].every((n) => n === 0)) throw new Error(problems[0]);
      const frames: SampleFrame[] = services.map((s) => ({ target: s.target, t, values: { log_errors: counts.get(targetKey(s.target)) ?? 0 } }));
      this.remember(frames, t, 240 * options.intervalMs);
      return { frames, problems: problems.slice(0, 3) };
    };
    // Log lines of a missed interval are still read (sinceSeconds covers it), so a gap is one round.
    this.poller = new StreamPoller({ instant: round, range: (_from, to) => round(to) }, { source: 'logs', describeDown: (err) => `Pod logs unreadable: ${errorText(err)}`, clock: options.clock, intervalMs: options.intervalMs, logger: options.logger?.child('logs') });
  }

  async discoverTargets(): Promise<ReadonlyArray<{ readonly target: TargetRef; readonly signals: ReadonlyArray<SignalName> }>> {
    return this.options.services().map((s) => ({ target: s.target, signals: ['log_errors'] as SignalName[] }));
  }
}

/** Services and their pod names from the inventory, optionally only the selected ones (`namespace/name`; `*` is every one). */
export function servicesFromInventory(inv: WorkloadInventory, selected?: ReadonlyArray<string>): ServicePods[] {
  const all = !selected || selected.length === 0 || selected.includes('*');
  return inv.services
    .filter((s) => all || selected.includes(`${s.target.namespace}/${s.target.name}`))
    .map((s) => ({ target: s.target, pods: s.pods.map((p) => p.name) }));
}
