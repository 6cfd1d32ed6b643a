/**
 * The agent's own metrics, served on /metrics (Prometheus text format): what the loop is doing, so an on-call team
 * can alert on the tool that alerts them. Counters count what happened since this process started (as Prometheus
 * counters do); gauges describe now. Everything is read from the core's own events; nothing here decides.
 */
import type { HealingCore } from '../../core/loop/healingCore';
import { isOpen, type Incident, type IncidentState } from '../../core/model/incident';
import type { Disposable, SourceStatus } from '../../core/ports';
import { ExpositionWriter, renderLabels } from '../prometheus/exposition';

const OPEN_STATES: ReadonlyArray<IncidentState> = ['diagnosed', 'awaiting-approval', 'acting', 'verifying'];
/** Seconds: detection is minutes, recovery minutes to an hour. */
const EVENT_BUCKETS = [15, 30, 60, 120, 300, 600, 1200, 1800, 3600];
/** Seconds of one interval's scoring. */
const LOOP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(readonly buckets: ReadonlyArray<number>) {
    this.counts = buckets.map(() => 0);
  }

  observe(v: number): void {
    this.sum += v;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]) this.counts[i]++;
  }

  write(w: ExpositionWriter, name: string): void {
    this.buckets.forEach((b, i) => w.sample(`${name}_bucket`, renderLabels({ le: String(b) }), this.counts[i]));
    w.sample(`${name}_bucket`, renderLabels({ le: '+Inf' }), this.count);
    w.sample(`${name}_sum`, '', this.sum);
    w.sample(`${name}_count`, '', this.count);
  }
}

/** Counts of label sets, e.g. actions by kind and result. */
class LabelledCounter {
  private readonly values = new Map<string, number>();

  inc(labels: Readonly<Record<string, string>>): void {
    const key = renderLabels(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + 1);
  }

  write(w: ExpositionWriter, name: string): void {
    for (const [labels, v] of [...this.values].sort(([a], [b]) => a.localeCompare(b))) w.sample(name, labels, v);
  }
}

export interface AgentMetricsSources {
  readonly core: Pick<HealingCore, 'remediator' | 'pipeline' | 'lease'>;
  /** Status reports of the metrics source (Prometheus or direct scrape) and of the Kubernetes API. */
  readonly metricsStatus: (listener: (s: SourceStatus) => void) => Disposable;
  readonly kubernetesStatus: (listener: (s: SourceStatus) => void) => Disposable;
  /** "prometheus" or "scrape": the metrics source's label. */
  readonly metricsSource: string;
}

export class AgentMetrics implements Disposable {
  private readonly actions = new LabelledCounter();
  private readonly verifications = new LabelledCounter();
  private readonly sourceErrors = new LabelledCounter();
  private readonly detect = new Histogram(EVENT_BUCKETS);
  private readonly recover = new Histogram(EVENT_BUCKETS);
  private readonly loop = new Histogram(LOOP_BUCKETS);
  /** Timeline entries already counted per incident, so an update counts only what it added. */
  private readonly seen = new Map<string, number>();
  private readonly subscriptions: Disposable[] = [];

  constructor(private readonly sources: AgentMetricsSources) {
    // incidents resumed from the store were counted by the process that handled them
    for (const i of sources.core.remediator.list()) this.seen.set(i.id, i.timeline.length);
    this.subscriptions.push(
      sources.core.remediator.onChange((i) => this.onIncident(i)),
      sources.metricsStatus((s) => this.onStatus(sources.metricsSource, s)),
      sources.kubernetesStatus((s) => this.onStatus('kubernetes', s)),
    );
  }

  /** One interval's scoring took this long (measured around the pipeline's frames callback). */
  observeLoop(seconds: number): void {
    this.loop.observe(seconds);
  }

  private onStatus(source: string, s: SourceStatus): void {
    if (s.state === 'down' || s.state === 'degraded') this.sourceErrors.inc({ source, state: s.state });
  }

  private onIncident(i: Incident): void {
    const from = this.seen.get(i.id);
    this.seen.set(i.id, i.timeline.length);
    if (from === undefined) {
      // time to detect: from the first anomalous sample the incident cites to its opening
      const first = Math.min(...i.timeline.flatMap((e) => (e.kind === 'detected' ? [e.anomaly.t] : [])));
      if (Number.isFinite(first)) this.detect.observe(Math.max(0, (i.openedAt - first) / 1000));
    }
    for (const e of i.timeline.slice(from ?? 0)) {
      if (e.kind === 'acted') this.actions.inc({ kind: e.result.action.kind, result: e.result.changed ? 'changed' : 'unchanged' });
      else if (e.kind === 'action-failed') this.actions.inc({ kind: e.action.kind, result: 'failed' });
      else if (e.kind === 'verified') this.verifications.inc({ status: e.verdict.status });
      else if (e.kind === 'resolved' && e.outcome.kind === 'recovered') this.recover.observe(Math.max(0, (e.outcome.t - i.openedAt) / 1000));
    }
  }

  /** The exposition text of /metrics. */
  render(): string {
    const w = new ExpositionWriter();
    const open = new Map<string, number>(OPEN_STATES.map((s) => [s, 0]));
    for (const i of this.sources.core.remediator.list()) if (isOpen(i)) open.set(i.state, (open.get(i.state) ?? 0) + 1);
    w.family('vigil_incidents_open', 'gauge', 'Open incidents by state.');
    for (const [state, n] of open) w.sample('vigil_incidents_open', renderLabels({ state }), n);
    w.family('vigil_actions_total', 'counter', 'Remediation writes by action kind and result (changed, unchanged: already in the wanted state, failed).');
    this.actions.write(w, 'vigil_actions_total');
    w.family('vigil_verifications_total', 'counter', 'Verdicts after a remediation, by status (recovered, not-recovered, inconclusive).');
    this.verifications.write(w, 'vigil_verifications_total');
    w.family('vigil_time_to_detect_seconds', 'histogram', 'From the first anomalous sample an incident cites to its opening.');
    this.detect.write(w, 'vigil_time_to_detect_seconds');
    w.family('vigil_time_to_recover_seconds', 'histogram', 'From an incident opening to its verified recovery.');
    this.recover.write(w, 'vigil_time_to_recover_seconds');
    w.family('vigil_loop_duration_seconds', 'histogram', 'Time to score one interval of samples (detect, correlate, diagnose).');
    this.loop.write(w, 'vigil_loop_duration_seconds');
    w.family('vigil_source_errors_total', 'counter', 'Reports of a source down or degraded: the metrics source (prometheus or scrape) and the Kubernetes API.');
    this.sourceErrors.write(w, 'vigil_source_errors_total');
    w.family('vigil_leader', 'gauge', '1 when this replica holds the Lease and acts; 0 when it only observes.');
    w.sample('vigil_leader', '', this.sources.core.lease?.state?.held ? 1 : 0);
    return w.toString();
  }

  dispose(): void {
    for (const s of this.subscriptions.splice(0)) s.dispose();
  }
}
