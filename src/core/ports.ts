/**
 * The ports of the loop. core/ talks to the world only through these; adapters in infra/,
 * the sandbox and vscode/ implement them. Keep them small and about the domain.
 */
import type { ActionResult, ActionSpec } from './model/action';
import type { FiringAlert, SilenceMatcher } from './model/alert';
import type { AuditEntry, AuditVerification } from './model/audit';
import type { ClusterFact, LogLine } from './model/fact';
import type { EscalationContext, Incident } from './model/incident';
import type { IncidentResource } from './model/incidentResource';
import type { ClosedIncidentRecord, InFlightStep } from './model/inFlightStep';
import type { SampleFrame, SignalName } from './model/signal';
import type { TargetRef } from './model/target';
import type { ProbeRun } from './observe/probeSpec';
import type { CallReading } from './observe/serviceGraphQueries';
import type { SloPoint } from './detect/sloBurn';
import type { SloDefinition } from './observe/sloDefinitions';

export interface Disposable {
  dispose(): void;
}

/** Time and timers. Tests and replay inject a virtual clock, so core stays deterministic. */
export interface ClockPort {
  now(): number;
  setTimeout(fn: () => void, ms: number): Disposable;
  sleep(ms: number): Promise<void>;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Readonly<Record<string, unknown>>;

/** Structured logging; the component goes in `component` so lines read `[detect] ...`. Never pass secrets. */
export interface LoggerPort {
  log(level: LogLevel, message: string, fields?: LogFields): void;
  child(component: string): LoggerPort;
}

/** Health of a telemetry source, shown to the user as-is, so messages name the URL and the fix. */
export interface SourceStatus {
  readonly source: string;
  readonly state: 'connecting' | 'ok' | 'degraded' | 'down';
  readonly message: string;
  readonly since: number;
  /** Per-part lines, e.g. per signal which metric the Prometheus has (or not, and the fix). */
  readonly details?: ReadonlyArray<string>;
}

/** Where metric samples come from: Prometheus or direct scrape. */
export interface MetricsPort {
  /** Targets currently known, with the signals each has. */
  discoverTargets(): Promise<ReadonlyArray<{ readonly target: TargetRef; readonly signals: ReadonlyArray<SignalName> }>>;
  /** Aligned frames of every known target over [from, to] at `stepMs`, oldest first (backfill, replay, verification). */
  range(from: number, to: number, stepMs: number): Promise<ReadonlyArray<SampleFrame>>;
  /** Live stream: one call per aligned interval with every target's frame. Gaps after an outage are backfilled in order. */
  subscribe(onFrames: (frames: ReadonlyArray<SampleFrame>) => void): Disposable;
  onStatus(listener: (status: SourceStatus) => void): Disposable;
}

/** What runs where, at which revision; kept current by informers. */
export interface WorkloadInventory {
  readonly services: ReadonlyArray<{
    readonly target: TargetRef;
    /** A StatefulSet or DaemonSet; absent: a Deployment. */
    readonly workloadKind?: 'StatefulSet' | 'DaemonSet';
    readonly revision: number;
    readonly image: string;
    readonly replicas: number;
    readonly availableReplicas: number;
    readonly rolloutInProgress: boolean;
    readonly pods: ReadonlyArray<{
      readonly name: string;
      readonly node?: string;
      readonly ready: boolean;
      readonly restarts: number;
      readonly phase: string;
      /** Sum of its containers' memory limits, in bytes; absent when any container has none. */
      readonly memoryLimitBytes?: number;
    }>;
    readonly labels: Readonly<Record<string, string>>;
    /** Deployment annotations; correlation reads `vigil.dev/depends-on` (the services this one calls). */
    readonly annotations?: Readonly<Record<string, string>>;
    /** Names of configmaps the pod template references (volumes, envFrom, env valueFrom). */
    readonly configMaps?: ReadonlyArray<string>;
  }>;
  readonly nodes: ReadonlyArray<{ readonly name: string; readonly ready: boolean; readonly unschedulable: boolean; readonly pods: number }>;
}

/** Kubernetes state and events as facts for correlation. */
export interface EventsPort {
  inventory(): WorkloadInventory;
  subscribe(onFact: (fact: ClusterFact) => void): Disposable;
  onStatus(listener: (status: SourceStatus) => void): Disposable;
  /** Recent log lines of a workload's pods that matched error patterns (bounded). */
  recentLogs(target: TargetRef, limit: number): Promise<ReadonlyArray<LogLine>>;
  /** The kubelets' Lease renewals seen (kube-node-lease); absent or empty where they cannot be read. */
  nodeHeartbeats?(): ReadonlyArray<NodeHeartbeat>;
}

/**
 * The scrape targets failing at `t` (Prometheus `up == 0`), by their labels: a node's kubelet (`node`, no `pod`) and pods
 * (`namespace`, `pod`, and `node` where the scrape config sets it).
 */
export interface ScrapeFailures {
  readonly t: number;
  readonly down: ReadonlyArray<Readonly<Record<string, string>>>;
}

/** A node's Lease: when this process last saw its kubelet renew it, and how often the kubelet renews it. */
export interface NodeHeartbeat {
  readonly node: string;
  readonly renewedAt: number;
  readonly everyMs: number;
}

/** Results of the synthetic probes (HTTP checks and user journeys), for escalations and verification. */
export interface ProbeResultsPort {
  /** The latest runs of the probes that report on this target, oldest first, at most `limit`. */
  recent(target: TargetRef, limit: number): ReadonlyArray<ProbeRun>;
  /** The latest run of the named probe; undefined when no probe has that name or it has not run yet. */
  latest(name: string): ProbeRun | undefined;
  /** The target a named probe reports on (probe_success, probe_latency). */
  targetOf(name: string): TargetRef | undefined;
}

export interface LeaseState {
  readonly holder: string | undefined;
  readonly held: boolean;
  readonly renewTime?: number;
}

/** Cluster writes. Every call comes from core/act, after the gates, with an audit entry. */
export interface ClusterPort {
  /**
   * Runs the action; with dryRun the API server validates it and nothing is stored. Idempotent:
   * with the same `actionId`, a retry after a crash or timeout changes nothing twice (result.changed false).
   * Throws core/act ClusterError on failure.
   */
  execute(action: ActionSpec, options: { readonly dryRun: boolean; readonly actionId?: string }): Promise<ActionResult>;
  /**
   * True when the write of `actionId` is already on the object it changes (its marker: the restartedAt and
   * `vigil.dev/action-id` annotations, or the pod it deleted is gone). A replica resuming a step asks before writing.
   * Undefined: the port cannot tell, and the resumed write relies on `execute`'s idempotency alone.
   */
  landed?(action: ActionSpec, actionId: string): Promise<boolean>;
  /** Rollout status of a deployment, as `kubectl rollout status` reads it. */
  rolloutStatus(namespace: string, deployment: string): Promise<{ readonly complete: boolean; readonly message: string; readonly revision: number }>;
  /** Tries to take or renew the named Lease for this identity; returns who holds it. */
  acquireLease(name: string, namespace: string, identity: string, durationSeconds: number): Promise<LeaseState>;
  releaseLease(name: string, namespace: string, identity: string): Promise<void>;
}

export interface ModelScore {
  /** Calibrated score in [0, 1]. */
  readonly score: number;
  /** Reconstruction/forecast error share per signal; sums to about 1. */
  readonly contributions: Readonly<Partial<Record<SignalName, number>>>;
}

/** The multi-signal model (TensorFlow.js behind it). Windows are normalised signal matrices, time-major. */
export interface ModelPort {
  readonly signals: ReadonlyArray<SignalName>;
  readonly windowSize: number;
  score(serviceKey: string, windows: ReadonlyArray<ReadonlyArray<ReadonlyArray<number>>>): Promise<ReadonlyArray<ModelScore>>;
  fineTune(serviceKey: string, windows: ReadonlyArray<ReadonlyArray<ReadonlyArray<number>>>): Promise<{ readonly loss: number }>;
  save(serviceKey: string): Promise<void>;
  load(serviceKey: string): Promise<boolean>;
  /**
   * Trains a candidate from scratch on the older normal windows (oldest first), scores it and the current
   * model on the newest `holdout` windows, keeps the better and saves it. Optional: not every model retrains.
   */
  retrain?(serviceKey: string, windows: ReadonlyArray<ReadonlyArray<ReadonlyArray<number>>>, options?: { readonly holdout?: number }): Promise<RetrainRecord>;
}

/** What one retraining did: both models' error on the held-out recent windows, and which was kept. */
export interface RetrainRecord {
  readonly service: string;
  readonly t: number;
  /** Mean reconstruction error on the held-out windows (the service's own scaled units; lower is better). */
  readonly oldLoss: number;
  readonly newLoss: number;
  /** Share of held-out (normal) windows each model scores at or above 0.9: its false-positive rate. */
  readonly oldFalsePositiveRate: number;
  readonly newFalsePositiveRate: number;
  readonly kept: 'new' | 'previous';
  /** Windows trained on and held out. */
  readonly windows: number;
  readonly holdout: number;
  readonly reason: string;
}

/** Persistence of incidents, learned state and the audit log. */
export interface StorePort {
  saveIncident(incident: Incident): Promise<void>;
  loadIncident(id: string): Promise<Incident | undefined>;
  listIncidents(): Promise<ReadonlyArray<Incident>>;
  /** Appends one entry to the hash-chained log; seq, prevHash and hash are filled in. */
  appendAudit(entry: Omit<AuditEntry, 'seq' | 'prevHash' | 'hash'>): Promise<AuditEntry>;
  readAudit(): Promise<ReadonlyArray<AuditEntry>>;
  verifyAudit(): Promise<AuditVerification>;
  /** Small JSON documents: detector state, learned thresholds, engine state. */
  readState<T>(name: string): Promise<T | undefined>;
  writeState<T>(name: string, value: T): Promise<void>;
}

/**
 * Where the acting replica publishes incidents for people and other tools: Incident resources
 * (incidents.vigil.dev) in the cluster. Creates the resource when missing, then writes its status.
 */
export interface IncidentResourcesPort {
  /** Throws IncidentResourcesAbsentError (core/model/incidentResource) when the cluster has no Incident CRD. */
  write(resource: IncidentResource): Promise<void>;
}

/** Steps in flight kept in the cluster (the Incident's status.inFlight), so a new leader resumes them; see InFlightStep. */
export interface InFlightStepsPort {
  /** Written before the step's write; creates the Incident resource when missing. */
  record(step: InFlightStep, resource: IncidentResource): Promise<void>;
  clear(step: Pick<InFlightStep, 'incidentId' | 'namespace'>): Promise<void>;
  list(): Promise<ReadonlyArray<InFlightStep>>;
  /** Incidents closed since `since` (ms), for the recovery window of a replica that takes the Lease over. */
  closedSince?(since: number): Promise<ReadonlyArray<ClosedIncidentRecord>>;
}

/** Reaching a human: the UI, Slack, PagerDuty. */
export interface NotifierPort {
  escalate(context: EscalationContext): Promise<void>;
  approvalNeeded(incident: Incident, stepId: string, summary: string): Promise<void>;
  resolved(incident: Incident): Promise<void>;
}

/** Firing alerts (Alertmanager API v2 or Prometheus `/api/v1/alerts`) and, with Alertmanager, silences. */
export interface AlertsPort {
  /** `Alertmanager at URL` or `alerts of Prometheus at URL`. */
  readonly description: string;
  /** Throws an error whose message names the URL and the fix when the source cannot be read. */
  firing(): Promise<ReadonlyArray<FiringAlert>>;
  /** Undefined when the source cannot silence (Prometheus). */
  readonly silences?: SilencesPort;
}

/** Alertmanager silences; every one Vigil makes has createdBy `vigil`, and it changes no other. */
export interface SilencesPort {
  /** Creates a silence, or with `id` replaces one Vigil created (a new id may come back); returns its id. */
  upsert(silence: { readonly id?: string; readonly matchers: ReadonlyArray<SilenceMatcher>; readonly startsAt: number; readonly endsAt: number; readonly comment: string }): Promise<string>;
  /** Expires a silence Vigil created; false (and nothing changed) when it is not Vigil's or already over. */
  expire(id: string): Promise<boolean>;
}

/** Calls between workloads seen in telemetry: mesh metrics (Istio, Linkerd) and trace-derived service-graph metrics. */
export interface ServiceGraphPort {
  /** `service graph from Prometheus at URL`. */
  readonly description: string;
  /** Calls over the window before `t` between workloads of `inventory`; throws naming the URL and the fix when unreadable. */
  calls(t: number, inventory: WorkloadInventory): Promise<CallReading>;
}

/** The SLI of an SLO over time, read from Prometheus. */
export interface SloDataPort {
  /** Bad and all events per second for each step in (from, to], and the error ratio over the SLO's whole period at `to`. */
  read(slo: SloDefinition, from: number, to: number, stepMs: number): Promise<{ readonly points: ReadonlyArray<SloPoint>; readonly periodErrorRatio?: number }>;
}
