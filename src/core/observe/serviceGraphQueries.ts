/**
 * The service graph inferred from metrics users already have: mesh telemetry (Istio's `istio_requests_total` by source
 * and destination workload, Linkerd's outbound `response_total` by deployment and `dst_deployment`) and the
 * trace-derived service-graph metrics of Tempo's metrics generator or the OpenTelemetry collector's servicegraph
 * connector (`traces_service_graph_request_total` by `client` and `server`). Pure: the queries, and label sets →
 * calls between workloads the inventory knows.
 */
import type { ObservedCall } from '../model/serviceCall';
import type { TargetRef } from '../model/target';
import type { WorkloadInventory } from '../ports';

export interface CallQuery {
  readonly source: ObservedCall['source'];
  /** PromQL, one series per caller → callee pair with its request rate over the window. */
  readonly query: (window: string) => string;
  /** Caller and callee as the labels name them; a namespace is undefined where the metric has none. */
  readonly ends: (labels: Readonly<Record<string, string>>) => { caller: WorkloadName; callee: WorkloadName } | undefined;
}

export interface WorkloadName {
  readonly namespace?: string;
  readonly name: string;
}

/** Istio names a caller without a sidecar, or outside the mesh, "unknown". */
const UNKNOWN = new Set(['', 'unknown']);
const named = (namespace: string | undefined, name: string | undefined): WorkloadName | undefined =>
  name === undefined || UNKNOWN.has(name) ? undefined : { ...(namespace && !UNKNOWN.has(namespace) ? { namespace } : {}), name };
const pair = (caller: WorkloadName | undefined, callee: WorkloadName | undefined) => (caller && callee ? { caller, callee } : undefined);

export const CALL_QUERIES: ReadonlyArray<CallQuery> = [
  {
    source: 'istio',
    query: (w) => `sum by (source_workload, source_workload_namespace, destination_workload, destination_workload_namespace) (rate(istio_requests_total[${w}])) > 0`,
    ends: (l) => pair(named(l.source_workload_namespace, l.source_workload), named(l.destination_workload_namespace, l.destination_workload)),
  },
  {
    source: 'linkerd',
    query: (w) => `sum by (namespace, deployment, dst_namespace, dst_deployment) (rate(response_total{direction="outbound"}[${w}])) > 0`,
    ends: (l) => pair(named(l.namespace, l.deployment), named(l.dst_namespace, l.dst_deployment)),
  },
  {
    source: 'tracing',
    // service.name values; some collectors add the namespace as a dimension (client_/server_k8s_namespace_name)
    query: (w) => `sum by (client, server, client_k8s_namespace_name, server_k8s_namespace_name) (rate(traces_service_graph_request_total[${w}])) > 0`,
    ends: (l) => pair(named(l.client_k8s_namespace_name, l.client), named(l.server_k8s_namespace_name, l.server)),
  },
];

export interface CallReading {
  readonly calls: ReadonlyArray<ObservedCall>;
  /** Names that matched no workload, or more than one (a tracing service name without a namespace): said once, not guessed. */
  readonly unresolved: ReadonlyArray<string>;
}

/**
 * Label sets of one query's answer → calls between services of the inventory. A name without a namespace resolves
 * only when exactly one workload of the inventory has it; a call to or from a workload the inventory does not have
 * (outside the watched namespaces, an external host) is left out.
 */
export function callsFromSeries(
  query: CallQuery,
  series: ReadonlyArray<{ readonly metric: Readonly<Record<string, string>>; readonly value: number }>,
  inventory: WorkloadInventory,
): CallReading {
  const byKey = new Map<string, TargetRef>();
  const byName = new Map<string, TargetRef[]>();
  for (const s of inventory.services) {
    if (s.target.kind !== 'service' || !s.target.namespace) continue;
    byKey.set(`${s.target.namespace}/${s.target.name}`, s.target);
    byName.set(s.target.name, [...(byName.get(s.target.name) ?? []), s.target]);
  }
  const unresolved = new Set<string>();
  const resolve = (w: WorkloadName): TargetRef | undefined => {
    if (w.namespace) return byKey.get(`${w.namespace}/${w.name}`);
    const candidates = byName.get(w.name) ?? [];
    if (candidates.length === 1) return candidates[0];
    if (candidates.length > 1) unresolved.add(`${w.name} (${query.source}: ${candidates.length} workloads have this name; add the namespace as a dimension)`);
    return undefined;
  };
  const calls = new Map<string, ObservedCall>();
  for (const s of series) {
    if (!(s.value > 0)) continue;
    const ends = query.ends(s.metric);
    if (!ends) continue;
    const caller = resolve(ends.caller);
    const callee = resolve(ends.callee);
    if (!caller || !callee || (caller.namespace === callee.namespace && caller.name === callee.name)) continue;
    const key = `${caller.namespace}/${caller.name}>${callee.namespace}/${callee.name}`;
    const prev = calls.get(key);
    calls.set(key, { caller, callee, source: query.source, perSecond: (prev?.perSecond ?? 0) + s.value });
  }
  return { calls: [...calls.values()], unresolved: [...unresolved].sort() };
}
