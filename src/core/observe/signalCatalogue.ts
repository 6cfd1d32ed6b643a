import type { SignalDefinition, SignalName } from '../model/signal';
import type { TargetKind, TargetRef } from '../model/target';
import { seriesTarget } from './workloadAggregation';

/** Every signal Vigil knows, with unit, bad direction and the target kinds it exists for. */
export const SIGNAL_DEFINITIONS: ReadonlyArray<SignalDefinition> = [
  { name: 'request_rate', unit: 'req/s', bad: 'both', description: 'HTTP requests per second', targetKinds: ['service', 'pod'], windowed: true },
  { name: 'error_ratio', unit: 'ratio', bad: 'up', description: 'Share of requests answered 5xx', targetKinds: ['service', 'pod'], windowed: true },
  { name: 'latency_p50', unit: 'seconds', bad: 'up', description: 'Median request latency', targetKinds: ['service', 'pod'], windowed: true },
  { name: 'latency_p95', unit: 'seconds', bad: 'up', description: '95th percentile request latency', targetKinds: ['service', 'pod'], windowed: true },
  { name: 'latency_p99', unit: 'seconds', bad: 'up', description: '99th percentile request latency', targetKinds: ['service', 'pod'], windowed: true },
  { name: 'cpu', unit: 'cores', bad: 'up', description: 'CPU used, in cores', targetKinds: ['service', 'pod', 'node'], windowed: true },
  { name: 'memory', unit: 'bytes', bad: 'up', description: 'Resident memory', targetKinds: ['service', 'pod', 'node'], windowed: false },
  { name: 'restarts', unit: 'count', bad: 'up', description: 'Container restarts within the rate window', targetKinds: ['service', 'pod'], windowed: true },
  { name: 'available_replicas', unit: 'replicas', bad: 'down', description: 'Available replicas of the deployment', targetKinds: ['service'], windowed: false },
  { name: 'log_errors', unit: 'lines/interval', bad: 'up', description: 'Log lines matching error patterns per interval', targetKinds: ['service'], windowed: false },
  { name: 'probe_success', unit: 'ratio', bad: 'down', description: 'Synthetic HTTP probe success (1 ok, 0 failed)', targetKinds: ['service'], windowed: false },
  { name: 'probe_latency', unit: 'seconds', bad: 'up', description: 'Synthetic HTTP probe latency', targetKinds: ['service'], windowed: false },
];

export const SIGNAL_NAMES: ReadonlyArray<SignalName> = SIGNAL_DEFINITIONS.map((d) => d.name);

export function signalDefinition(name: SignalName): SignalDefinition {
  const def = SIGNAL_DEFINITIONS.find((d) => d.name === name);
  if (!def) throw new Error(`Unknown signal "${name}"; known: ${SIGNAL_NAMES.join(', ')}`);
  return def;
}

export function isSignalName(name: string): name is SignalName {
  return (SIGNAL_NAMES as ReadonlyArray<string>).includes(name);
}

/**
 * A PromQL template for one signal and target kind. Placeholders: `{{window}}` (rate window,
 * e.g. 1m) and `{{selector}}` (namespace matcher, may be empty; write it inside braces after
 * other matchers as `{code=~"5..",{{selector}}}` or alone as `{{{selector}}}`).
 * The result's labels name the target: namespace+deployment or namespace+pod (service: the pod's workload),
 * namespace+pod (pod), or node. Per-pod series of one workload combine as the signal says (workloadAggregation.ts).
 */
export interface SignalQuery {
  readonly signal: SignalName;
  readonly kind: TargetKind;
  readonly query: string;
}

/**
 * Grouping of the per-pod defaults: `deployment` where the series carry it, else `pod`, which Vigil maps to its
 * workload (Deployment, StatefulSet, DaemonSet) from its own inventory and aggregates per signal
 * (workloadAggregation.ts): no default needs a `deployment` label.
 */
const byPod = 'by (namespace, deployment, pod)';
const ratioParts = (errors: string, all: string) =>
  `label_replace(sum ${byPod} (rate(${errors}[{{window}}])), "vigil_part", "num", "", "") or label_replace(sum ${byPod} (rate(${all}[{{window}}])), "vigil_part", "den", "", "")`;

/**
 * Defaults for the Prometheus client libraries' names; config/signals.default.yaml holds the same, for editing.
 * What else a Prometheus may name them (cAdvisor, OpenTelemetry, Spring, ingress-nginx, Istio, Linkerd) is in
 * metricDiscovery.ts, which picks per signal the names the Prometheus actually has.
 */
export const DEFAULT_SIGNAL_QUERIES: ReadonlyArray<SignalQuery> = [
  { signal: 'request_rate', kind: 'service', query: `sum ${byPod} (rate(http_requests_total{{{selector}}}[{{window}}]))` },
  { signal: 'error_ratio', kind: 'service', query: ratioParts('http_requests_total{code=~"5..",{{selector}}}', 'http_requests_total{{{selector}}}') },
  { signal: 'latency_p50', kind: 'service', query: `sum by (namespace, deployment, pod, le) (rate(http_request_duration_seconds_bucket{{{selector}}}[{{window}}]))` },
  { signal: 'latency_p95', kind: 'service', query: `sum by (namespace, deployment, pod, le) (rate(http_request_duration_seconds_bucket{{{selector}}}[{{window}}]))` },
  { signal: 'latency_p99', kind: 'service', query: `sum by (namespace, deployment, pod, le) (rate(http_request_duration_seconds_bucket{{{selector}}}[{{window}}]))` },
  { signal: 'cpu', kind: 'service', query: `sum ${byPod} (rate(process_cpu_seconds_total{{{selector}}}[{{window}}]))` },
  { signal: 'memory', kind: 'service', query: `sum ${byPod} (process_resident_memory_bytes{{{selector}}})` },
  { signal: 'restarts', kind: 'service', query: `sum ${byPod} (increase(kube_pod_container_status_restarts_total{{{selector}}}[{{window}}]))` },
  { signal: 'available_replicas', kind: 'service', query: `max by (namespace, deployment) (kube_deployment_status_replicas_available{{{selector}}})` },
  { signal: 'cpu', kind: 'node', query: `sum by (node) (rate(process_cpu_seconds_total{{{selector}}}[{{window}}]))` },
  { signal: 'memory', kind: 'node', query: `sum by (node) (process_resident_memory_bytes{{{selector}}})` },
];

const PLACEHOLDER = /\{\{(\w+)\}\}/g;
const KNOWN_PLACEHOLDERS = new Set(['window', 'selector']);

/** Fills `{{window}}` and `{{selector}}`; the selector restricts to watched namespaces. */
export function renderQuery(template: string, window: string, namespaces: ReadonlyArray<string>): string {
  for (const ns of namespaces) {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns)) throw new Error(`Namespace "${ns}" is not a valid Kubernetes namespace name (lowercase letters, digits, dashes)`);
  }
  const selector = namespaces.length === 0 ? '' : `namespace=~"${namespaces.join('|')}"`;
  return template
    .replace(PLACEHOLDER, (_m, name: string) => (name === 'window' ? window : name === 'selector' ? selector : `{{${name}}}`))
    .replace(/,\}/g, '}');
}

/**
 * Reads the `signals:` document (YAML already parsed) into queries, merged over the defaults:
 * an entry replaces the default for the same signal and kind. Errors name the entry and the fix.
 */
export function parseSignalQueries(doc: unknown, source: string, base: ReadonlyArray<SignalQuery> = DEFAULT_SIGNAL_QUERIES): SignalQuery[] {
  if (doc === null || doc === undefined) return [...base];
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${source}: expected a mapping with a "signals" list`);
  const list = (doc as { signals?: unknown }).signals;
  if (list === undefined) return [...base];
  if (!Array.isArray(list)) throw new Error(`${source}: "signals" must be a list of {signal, kind, query}`);
  const out = new Map<string, SignalQuery>(base.map((q) => [`${q.signal}/${q.kind}`, q]));
  list.forEach((entry: unknown, i: number) => {
    const where = `${source}: signals[${i}]`;
    if (typeof entry !== 'object' || entry === null) throw new Error(`${where}: expected {signal, kind, query}`);
    const { signal, kind = 'service', query } = entry as Record<string, unknown>;
    if (typeof signal !== 'string' || !isSignalName(signal)) throw new Error(`${where}.signal: "${String(signal)}" is not a signal; use one of ${SIGNAL_NAMES.join(', ')}`);
    if (kind !== 'service' && kind !== 'pod' && kind !== 'node') throw new Error(`${where}.kind: "${String(kind)}" must be service, pod or node`);
    if (typeof query !== 'string' || query.trim() === '') throw new Error(`${where}.query: a PromQL expression is required`);
    for (const m of query.matchAll(PLACEHOLDER)) {
      if (!KNOWN_PLACEHOLDERS.has(m[1])) throw new Error(`${where}.query: unknown placeholder {{${m[1]}}}; use {{window}} or {{selector}}`);
    }
    out.set(`${signal}/${kind}`, { signal, kind, query: query.trim() });
  });
  return [...out.values()];
}

/** The target a result series names by its own labels (no pod → workload mapping); undefined when they name none. */
export function targetFromLabels(kind: TargetKind, labels: Readonly<Record<string, string>>): TargetRef | undefined {
  return seriesTarget(kind, labels);
}

/**
 * Overrides from settings (e.g. `vigil.prometheus.signalQueries`): `{ "memory": "...", "cpu/node": "..." }`,
 * keyed by signal or signal/kind (kind defaults to service), merged over `base`.
 */
export function applyQueryOverrides(base: ReadonlyArray<SignalQuery>, overrides: Readonly<Record<string, string>> | undefined, source = 'settings'): SignalQuery[] {
  if (!overrides || Object.keys(overrides).length === 0) return [...base];
  const entries = Object.entries(overrides).map(([key, query]) => {
    const [signal, kind = 'service'] = key.split('/');
    return { signal, kind, query };
  });
  return parseSignalQueries({ signals: entries }, source, base);
}
