/**
 * Evidence from the monitoring stack the user already runs: alerts firing in Alertmanager (or Prometheus) and SLOs
 * burning their error budget. Polled on the clock; what it finds is attached to the incidents of the workloads it is
 * about (see Correlator.observeExternalEvidence) and reported as two source status lines, `alerts` and `slos`.
 * A failure is a status, never an exception: the loop goes on without the evidence.
 */
import { readSlo, type SloReading } from '../detect/sloBurn';
import type { FiringAlert } from '../model/alert';
import type { Evidence } from '../model/diagnosis';
import { targetKey, targetLabel, type TargetRef } from '../model/target';
import { alertTarget, type PodResolver } from '../observe/alertTargets';
import type { SloDefinition } from '../observe/sloDefinitions';
import type { AlertsPort, ClockPort, Disposable, LoggerPort, SloDataPort, SourceStatus, WorkloadInventory } from '../ports';

export interface ExternalEvidenceDeps {
  readonly clock: ClockPort;
  readonly logger: LoggerPort;
  /** How often alerts are read (the scrape interval). */
  readonly intervalMs: number;
  readonly inventory: () => WorkloadInventory;
  readonly resolvePod?: PodResolver;
  readonly alerts?: AlertsPort;
  readonly slos?: {
    readonly definitions: ReadonlyArray<SloDefinition>;
    /** What the SLO files had that could not be loaded (file:line: field: fix). */
    readonly problems: ReadonlyArray<string>;
    /** Undefined without Prometheus: the SLOs are listed but cannot be read. */
    readonly data?: SloDataPort;
  };
}

export interface AttachedAlert {
  readonly alert: FiringAlert;
  readonly target?: TargetRef;
}

export interface SloState extends SloReading {
  readonly target?: TargetRef;
}

/** Reading SLOs at a finer step than this gains nothing; coarser loses the short windows. */
const MAX_SLO_STEP_MS = 60_000;

export class ExternalEvidence implements Disposable {
  private alerts: AttachedAlert[] = [];
  private readings = new Map<string, SloState>();
  private readonly statusListeners = new Set<(s: SourceStatus) => void>();
  private readonly changeListeners = new Set<() => void>();
  private readonly timers: Disposable[] = [];
  private readonly lastSloRead = new Map<string, number>();
  private disposed = false;
  private polling: Promise<void> | undefined;

  constructor(private readonly deps: ExternalEvidenceDeps) {}

  start(): void {
    const loop = () => {
      if (this.disposed) return;
      this.polling = this.poll().finally(() => {
        this.polling = undefined;
        if (!this.disposed) this.timers.splice(0, this.timers.length, this.deps.clock.setTimeout(loop, this.deps.intervalMs));
      });
    };
    loop();
  }

  onStatus(listener: (s: SourceStatus) => void): Disposable {
    this.statusListeners.add(listener);
    return { dispose: () => this.statusListeners.delete(listener) };
  }

  /** After a poll changed what is firing or burning. */
  onChange(listener: () => void): Disposable {
    this.changeListeners.add(listener);
    return { dispose: () => this.changeListeners.delete(listener) };
  }

  /** The firing alerts, with the workload each is attached to (none: no label names one). */
  firing(): ReadonlyArray<AttachedAlert> {
    return this.alerts;
  }

  /** Every SLO's latest reading, with its workload. */
  slos(): ReadonlyArray<SloState> {
    return [...this.readings.values()].sort((a, b) => (a.slo.id < b.slo.id ? -1 : 1));
  }

  /** Firing alerts and burning SLOs by target key, as the correlator attaches them. */
  evidence(): Map<string, Evidence[]> {
    const out = new Map<string, Evidence[]>();
    const add = (t: TargetRef, e: Evidence) => {
      const k = targetKey(t);
      out.set(k, [...(out.get(k) ?? []), e]);
    };
    for (const a of this.alerts) if (a.target) add(a.target, { kind: 'alert', alert: a.alert });
    for (const r of this.readings.values()) {
      if (!r.target || !r.burning) continue;
      add(r.target, { kind: 'slo-burn', t: r.t, slo: r.slo.id, burn: r.burning.long.burn ?? 0, factor: r.burning.pair.factor, ...(r.budgetRemaining !== undefined ? { budgetRemaining: r.budgetRemaining } : {}), text: r.text });
    }
    return out;
  }

  /** One poll of the alerts and of the SLOs that are due. */
  async poll(): Promise<void> {
    const before = this.signature();
    await Promise.all([this.pollAlerts(), this.pollSlos()]);
    if (this.signature() !== before) for (const l of [...this.changeListeners]) l();
  }

  dispose(): void {
    this.disposed = true;
    for (const t of this.timers.splice(0)) t.dispose();
  }

  /** Waits for a poll in flight (tests, shutdown). */
  async settled(): Promise<void> {
    await this.polling;
  }

  private signature(): string {
    const alerts = this.alerts.map((a) => `${a.alert.fingerprint}@${a.target ? targetKey(a.target) : ''}`).sort();
    const burning = [...this.readings.values()].filter((r) => r.burning).map((r) => `${r.slo.id}:${r.burning!.pair.factor}`).sort();
    return [...alerts, ...burning].join('|');
  }

  private emit(s: Omit<SourceStatus, 'since'>): void {
    const status = { ...s, since: this.deps.clock.now() };
    for (const l of [...this.statusListeners]) l(status);
  }

  private async pollAlerts(): Promise<void> {
    const port = this.deps.alerts;
    if (!port) return;
    try {
      const firing = await port.firing();
      const inventory = this.deps.inventory();
      this.alerts = firing.map((alert) => {
        const target = alertTarget(alert, inventory, this.deps.resolvePod);
        return target ? { alert, target } : { alert };
      });
      const attached = this.alerts.filter((a) => a.target);
      this.emit({
        source: 'alerts',
        state: 'ok',
        message: `${firing.length} firing alert(s) from ${port.description}, ${attached.length} attached to a workload`,
        details: this.alerts.slice(0, 20).map((a) => `${a.alert.name}${a.target ? ` → ${targetLabel(a.target)}` : ' (no namespace with deployment, statefulset, daemonset, pod or service label)'}${a.alert.summary ? `: ${a.alert.summary}` : ''}`),
      });
    } catch (err) {
      // the last alerts read are kept out of evidence: stale alerts would mislead more than none
      this.alerts = [];
      this.emit({ source: 'alerts', state: 'down', message: (err as Error).message });
    }
  }

  private async pollSlos(): Promise<void> {
    const slos = this.deps.slos;
    if (!slos) return;
    const now = this.deps.clock.now();
    const inventory = this.deps.inventory();
    const failures: string[] = [];
    if (slos.data) {
      for (const slo of slos.definitions) {
        const step = sloStepMs(slo, this.deps.intervalMs);
        if (now - (this.lastSloRead.get(slo.id) ?? -Infinity) < step) continue;
        try {
          const longest = Math.max(...slo.windows.map((w) => w.longMs));
          const { points, periodErrorRatio } = await slos.data.read(slo, now - longest, now, step);
          this.lastSloRead.set(slo.id, now);
          const target = sloTarget(slo, inventory);
          const reading = readSlo(slo, points, now, step, periodErrorRatio);
          const was = this.readings.get(slo.id)?.burning?.pair.factor;
          // the agent's log tells when an SLO starts and stops burning, with its budget
          if (was !== reading.burning?.pair.factor) this.deps.logger.log(reading.burning ? 'warn' : 'info', reading.burning ? `SLO BURNING ${reading.text}` : `SLO no longer burning: ${reading.text}`, { slo: slo.id });
          this.readings.set(slo.id, { ...reading, ...(target ? { target } : {}) });
        } catch (err) {
          failures.push(`${slo.id} (${slo.origin}): ${(err as Error).message}`);
          this.readings.delete(slo.id);
        }
      }
    }
    const readings = this.slos();
    const burning = readings.filter((r) => r.burning).length;
    const problems = [...slos.problems, ...failures];
    const unread = slos.data ? [] : ['the SLOs are read from Prometheus: set prometheus.url'];
    this.emit({
      source: 'slos',
      state: problems.length || unread.length ? (readings.length ? 'degraded' : 'down') : 'ok',
      message: `${slos.definitions.length} SLO(s) loaded, ${burning} burning${problems.length ? `, ${problems.length} problem(s)` : ''}${unread.length ? `; ${unread[0]}` : ''}`,
      details: [...readings.map((r) => `${r.text}${r.target ? '' : ` — no workload ${r.slo.namespace ? `${r.slo.namespace}/` : ''}${r.slo.workload} in the inventory; set the ${'vigil.dev/target'} label or annotation`}`), ...problems],
    });
  }
}

/** Steps fine enough for the shortest window (5 per window), not finer than the scrape interval, not coarser than a minute. */
export function sloStepMs(slo: SloDefinition, intervalMs: number): number {
  const shortest = Math.min(...slo.windows.map((w) => w.shortMs));
  return Math.max(intervalMs, Math.min(MAX_SLO_STEP_MS, Math.floor(shortest / 5)));
}

/** The workload an SLO is about: its namespace/workload, or the one workload of that name when the file names no namespace. */
export function sloTarget(slo: SloDefinition, inventory: WorkloadInventory): TargetRef | undefined {
  const matches = inventory.services.filter((s) => s.target.name === slo.workload && (slo.namespace === undefined || s.target.namespace === slo.namespace));
  if (matches.length === 1) return matches[0].target;
  return slo.namespace ? { kind: 'service', namespace: slo.namespace, name: slo.workload } : undefined;
}
