/**
 * The boundary between the extension's UI and the healing loop it shows: a stream of events (incidents as they change,
 * the loop's snapshots, notifications, log lines) and request/response calls. The loop runs in its own process
 * (CoreProcess, dist/coreWorker.js) so the extension host keeps only the UI and a view model (issue 18); another
 * source of the same facts (an agent's Incident resources) can implement this interface too. Every type here is plain
 * data: it crosses Node IPC as a structured clone. No 'vscode' import.
 */
import type { AuditEntry, AuditVerification } from '../core/model/audit';
import type { AutomationMode } from '../core/model/automation';
import type { EscalationContext, HumanLabel, Incident } from '../core/model/incident';
import type { ReliabilityReport } from '../core/learn/reliabilityReport';
import type { LogFields, LogLevel, RetrainRecord, SourceStatus, WorkloadInventory } from '../core/ports';
import type { VigilSettings } from '../core/settings';
import type { ReplayMode, RoomView } from '../webview/protocol';
import type { SnapshotTarget } from './viewModel';

/** What the views show besides incidents and series: the mode, whether automation is paused, the sources' status. */
export interface CoreState {
  readonly mode: AutomationMode;
  readonly paused: boolean;
  readonly sources: ReadonlyArray<SourceStatus>;
}

/** What the loop tells the UI as it happens. Incidents come without their recordings (`CoreCalls.incident` has them). */
export type CoreEvent =
  | { readonly kind: 'incident'; readonly incident: Incident }
  /** One interval of the loop: the services' values and bands (the sparkline signals only) and the state. */
  | { readonly kind: 'snapshot'; readonly t: number; readonly targets: ReadonlyArray<SnapshotTarget>; readonly state: CoreState }
  | { readonly kind: 'approvalNeeded'; readonly incident: Incident; readonly stepId: string; readonly summary: string }
  | { readonly kind: 'escalate'; readonly context: EscalationContext }
  | { readonly kind: 'resolved'; readonly incident: Incident }
  | { readonly kind: 'log'; readonly component: string; readonly level: LogLevel; readonly message: string; readonly fields?: LogFields };

/** How to start the loop for one connection. Secrets (the Prometheus token) go in the process's environment, not here. */
export interface CoreStart {
  /** The user's settings with the connection's own laid over them (cluster, context, state directory). */
  readonly settings: VigilSettings;
  /** Who acts, in every audit entry: `vscode@<host>`. */
  readonly identity: string;
}

export interface CoreStarted {
  /** The API server's URL. */
  readonly server: string;
  readonly state: CoreState;
  /** The live incidents and the newest past ones from the store, without their recordings. */
  readonly incidents: ReadonlyArray<Incident>;
}

/** Resident memory of the process running the loop and of the model's, stated beside the host's (Debug Stats). */
export interface CoreStats {
  readonly pid: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly heapTotalBytes: number;
  /** "model wasm in its own process (pid 12)", "model not loaded", "model off"; the host adds its rss. */
  readonly model: string;
  readonly modelPid?: number;
}

/** The UI's requests; each answers once. A call the loop refuses rejects with a message for the user. */
export interface CoreCalls {
  approve(incidentId: string, by: string, stepId?: string): Promise<void>;
  reject(incidentId: string, by: string, note: string): Promise<void>;
  snooze(incidentId: string, by: string, ms: number): Promise<void>;
  label(incidentId: string, label: HumanLabel, by: string): Promise<void>;
  setPaused(paused: boolean, by: string): Promise<CoreState>;
  /** Settings changed while connected: mode, safety gates and namespace modes apply at the next decision. */
  applySettings(settings: VigilSettings): Promise<CoreState>;
  /** The incident with its recording (export): live while open, else read back from the store. */
  incident(incidentId: string): Promise<Incident | undefined>;
  /** The incident room's whole view: charts with bands (the live loop's, or replayed), markers, the map; undefined when unknown. */
  room(incidentId: string, mode: 'live' | ReplayMode, cluster: string): Promise<RoomView | undefined>;
  /** The cluster's workloads and nodes now (chaos targets). */
  inventory(): Promise<WorkloadInventory>;
  /** The audit log, or one incident's entries. */
  readAudit(incidentId?: string): Promise<ReadonlyArray<AuditEntry>>;
  verifyAudit(): Promise<AuditVerification>;
  retrainModel(): Promise<{ readonly records: ReadonlyArray<RetrainRecord>; readonly skipped: ReadonlyArray<string> }>;
  report(since: number, until: number): Promise<ReliabilityReport>;
  stats(): Promise<CoreStats>;
}

export type CoreMethod = keyof CoreCalls;

/** The calls a worker answers (a message naming anything else is refused). */
export const CORE_METHODS: ReadonlyArray<CoreMethod> = ['approve', 'reject', 'snooze', 'label', 'setPaused', 'applySettings', 'incident', 'room', 'inventory', 'readAudit', 'verifyAudit', 'retrainModel', 'report', 'stats'];

export interface CoreListener {
  event(e: CoreEvent): void;
  /** The loop's process died: `restarting` while within its restart budget, else it stays down until the user reconnects. */
  lost?(reason: string, restarting: boolean): void;
  /** It runs again after a restart; the incidents are those of the new process. */
  restarted?(started: CoreStarted): void;
}

/** The healing loop as the UI sees it, wherever it runs. */
export interface CoreClient {
  start(options: CoreStart): Promise<CoreStarted>;
  call<M extends CoreMethod>(method: M, ...args: Parameters<CoreCalls[M]>): ReturnType<CoreCalls[M]>;
  /** The loop's process while it runs (undefined when it runs in this one). */
  readonly pid: number | undefined;
  dispose(): Promise<void>;
}

/** Worker → host over IPC: an event, or the answer to one request. */
export type CoreWorkerMessage = { readonly kind: 'event'; readonly event: CoreEvent } | { readonly kind: 'reply'; readonly id: number; readonly result?: unknown; readonly error?: string };

/** Host → worker over IPC. */
export type CoreRequest = { readonly id: number; readonly method: 'start'; readonly args: [CoreStart] } | { readonly id: number; readonly method: CoreMethod; readonly args: unknown[] };

