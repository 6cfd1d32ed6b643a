/**
 * The boundary between the console's views in the extension host and its list+watch of Incident resources, which runs
 * in a process of its own (dist/clusterConsoleWorker.js) so that @kubernetes/client-node never loads into the host
 * (issue 18). The host hears typed events, as it does from the local loop's process, and makes calls that answer once.
 * Plain data only: it crosses Node IPC as a structured clone. No 'vscode' import.
 */
import type { InClusterVigil, WrittenDecision } from '../infra/kubernetes/incidentResources';
import type { ConsoleIncident } from './clusterConsoleModel';
import type { CoreEvent } from './coreClient';

/** Where the console reads from: a kubeconfig file and one of its contexts, and how to tell an agent's Lease. */
export interface ConsoleProbeRequest {
  readonly kubeconfig: string;
  readonly context: string;
  readonly leaseName: string;
  /** This window's own loop holds Leases as this identity: it is not an agent. */
  readonly ownIdentity: string;
}

export interface ConsoleProbe {
  /** The API server's URL. */
  readonly server: string;
  readonly found: InClusterVigil;
}

export type ConsoleEvent =
  /** The whole set of a cluster's Incident resources, as views, after each change and each (re)list. */
  | { readonly kind: 'incidents'; readonly cluster: string; readonly incidents: ReadonlyArray<ConsoleIncident> }
  | { readonly kind: 'watch'; readonly cluster: string; readonly state: 'synced' | 'failing'; readonly detail: string }
  | Extract<CoreEvent, { kind: 'log' }>;

/** The host's requests, per cluster (kubeconfig context). */
export interface ConsoleCalls {
  /** Connects with the context's credentials and looks for an in-cluster Vigil; the connection is kept for `watch`. */
  probe(request: ConsoleProbeRequest): Promise<ConsoleProbe>;
  /** Lists and watches the Incident resources of a probed context: 'incidents' and 'watch' events follow. */
  watch(cluster: string): Promise<void>;
  /** Writes spec.decision with that context's credentials (writeDecision, as `vigil approve --kubeconfig`). */
  decide(cluster: string, decision: { readonly namespace: string; readonly name: string; readonly action: 'approve' | 'reject'; readonly expectedStepId?: string }): Promise<WrittenDecision>;
  /** The Incident resource as the cluster has it now. */
  resource(cluster: string, namespace: string, name: string): Promise<unknown>;
  /** Stops watching a context and drops its connection. */
  remove(cluster: string): Promise<void>;
}

export type ConsoleMethod = keyof ConsoleCalls;

export const CONSOLE_METHODS: ReadonlyArray<ConsoleMethod> = ['probe', 'watch', 'decide', 'resource', 'remove'];

/** Worker → host over IPC. */
export type ConsoleWorkerMessage = { readonly kind: 'event'; readonly event: ConsoleEvent } | { readonly kind: 'reply'; readonly id: number; readonly result?: unknown; readonly error?: string };
