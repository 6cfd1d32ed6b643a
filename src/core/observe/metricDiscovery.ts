/**
 * Default signals chosen by what the Prometheus has. Each signal has candidate queries in the shapes common
 * stacks export (Prometheus client libraries, kube-prometheus-stack's cAdvisor and kube-state-metrics,
 * OpenTelemetry, Spring Boot / Micrometer, ingress-nginx, Istio, Linkerd); the source asks the Prometheus which
 * of the candidate metric names it has (`/api/v1/label/__name__/values?match[]=…`) and takes, per signal,
 * the first candidate present. A signal none is present for is reported with the PromQL to put in the
 * signals file. Queries the user configured (file or settings) are kept as they are.
 */
import type { SignalName } from '../model/signal';
import type { TargetKind } from '../model/target';
import { DEFAULT_SIGNAL_QUERIES, type SignalQuery } from './signalCatalogue';

export interface SignalCandidate {
  /** Who exports it, as users know them: `kube-prometheus-stack (cAdvisor)`, `Spring Boot (Micrometer)`. */
  readonly stack: string;
  /** The metric whose presence selects this candidate. */
  readonly metric: string;
  readonly query: SignalQuery;
}

const byPod = 'by (namespace, deployment, pod)';
const W = '[{{window}}]';

/** Per-pod rate and 5xx parts of a request counter whose status label is `status` (5xx as `errors`). */
function requestCandidates(stack: string, counter: string, errors: string, extra = ''): SignalCandidate[] {
  const sel = (m: string) => `${counter}{${[extra, m, '{{selector}}'].filter(Boolean).join(',')}}`;
  const rate = (m: string) => `sum ${byPod} (rate(${sel(m)}${W}))`;
  return [
    { stack, metric: counter, query: { signal: 'request_rate', kind: 'service', query: rate('') } },
    {
      stack,
      metric: counter,
      query: { signal: 'error_ratio', kind: 'service', query: `label_replace(${rate(errors)}, "vigil_part", "num", "", "") or label_replace(${rate('')}, "vigil_part", "den", "", "")` },
    },
  ];
}

/** Per-pod buckets of a histogram in seconds; the quantile is read in Vigil from the buckets summed per workload. */
function latencyCandidates(stack: string, histogram: string, extra = ''): SignalCandidate[] {
  const sel = [extra, '{{selector}}'].filter(Boolean).join(',');
  const query = `sum by (namespace, deployment, pod, le) (rate(${histogram}_bucket{${sel}}${W}))`;
  return (['latency_p50', 'latency_p95', 'latency_p99'] as const).map((signal) => ({ stack, metric: `${histogram}_bucket`, query: { signal, kind: 'service', query } }));
}

const QUANTILES = { latency_p50: 0.5, latency_p95: 0.95, latency_p99: 0.99 } as const;

/**
 * A mesh or ingress names the workload in its own labels (Istio `destination_workload`, ingress-nginx
 * `service`): they become `namespace` + `deployment`, so these queries aggregate in PromQL. Their
 * histograms are in milliseconds (Istio, Linkerd), hence the quantile divided by 1000.
 */
function workloadLabelled(stack: string, counter: string, histogram: string, o: { match: string; errors: string; ns: string; name: string; ms: boolean }): SignalCandidate[] {
  const relabel = (e: string) => `label_replace(label_replace(${e}, "namespace", "$1", "${o.ns}", "(.+)"), "deployment", "$1", "${o.name}", "(.+)")`;
  const by = o.ns === 'namespace' ? `by (namespace, ${o.name})` : `by (namespace, ${o.ns}, ${o.name})`;
  const rate = (m: string) => relabel(`sum ${by} (rate(${counter}{${[o.match, m].filter(Boolean).join(',')}}${W}))`);
  const out: SignalCandidate[] = [
    { stack, metric: counter, query: { signal: 'request_rate', kind: 'service', query: rate('') } },
    { stack, metric: counter, query: { signal: 'error_ratio', kind: 'service', query: `label_replace(${rate(o.errors)}, "vigil_part", "num", "", "") or label_replace(${rate('')}, "vigil_part", "den", "", "")` } },
  ];
  for (const [signal, q] of Object.entries(QUANTILES) as Array<[SignalName, number]>) {
    const hq = `histogram_quantile(${q}, sum by (namespace, ${o.ns === 'namespace' ? '' : `${o.ns}, `}${o.name}, le) (rate(${histogram}_bucket{${o.match}}${W})))`;
    out.push({ stack, metric: `${histogram}_bucket`, query: { signal, kind: 'service', query: relabel(o.ms ? `${hq} / 1000` : hq) } });
  }
  return out;
}

const CADVISOR = 'kube-prometheus-stack (cAdvisor)';
const CLIENT = 'Prometheus client library';
const KSM = 'kube-state-metrics';

function clientDefault(signal: SignalName, kind: TargetKind, stack: string): SignalCandidate {
  const query = DEFAULT_SIGNAL_QUERIES.find((q) => q.signal === signal && q.kind === kind)!;
  return { stack, metric: metricNames([query.query])[0], query };
}

/**
 * Every candidate, in order of preference per signal and kind. cAdvisor comes before the client library's
 * process metrics because it covers every container and does not depend on the application's exporter; its
 * `container!="", container!="POD"` keeps the pod-level and pause-container series out of the sums.
 */
export const SIGNAL_CANDIDATES: ReadonlyArray<SignalCandidate> = [
  clientDefault('request_rate', 'service', CLIENT),
  clientDefault('error_ratio', 'service', CLIENT),
  ...requestCandidates('OpenTelemetry', 'http_server_request_duration_seconds_count', 'http_response_status_code=~"5.."'),
  ...requestCandidates('Spring Boot (Micrometer)', 'http_server_requests_seconds_count', 'status=~"5.."'),
  // the application's own histograms before a mesh's or an ingress's view of it
  clientDefault('latency_p50', 'service', CLIENT),
  clientDefault('latency_p95', 'service', CLIENT),
  clientDefault('latency_p99', 'service', CLIENT),
  ...latencyCandidates('OpenTelemetry', 'http_server_request_duration_seconds'),
  ...latencyCandidates('Spring Boot (Micrometer)', 'http_server_requests_seconds'),
  ...workloadLabelled('Istio', 'istio_requests_total', 'istio_request_duration_milliseconds', {
    match: 'reporter="destination"',
    errors: 'response_code=~"5.."',
    ns: 'destination_workload_namespace',
    name: 'destination_workload',
    ms: true,
  }),
  ...workloadLabelled('Linkerd', 'response_total', 'response_latency_ms', { match: 'direction="inbound"', errors: 'classification="failure"', ns: 'namespace', name: 'deployment', ms: true }),
  // the controller's namespace label is renamed exported_namespace under kube-prometheus; the backend Service names the workload
  ...workloadLabelled('ingress-nginx', 'nginx_ingress_controller_requests', 'nginx_ingress_controller_request_duration_seconds', {
    match: '',
    errors: 'status=~"5.."',
    ns: 'exported_namespace',
    name: 'service',
    ms: false,
  }),
  { stack: CADVISOR, metric: 'container_cpu_usage_seconds_total', query: { signal: 'cpu', kind: 'service', query: `sum ${byPod} (rate(container_cpu_usage_seconds_total{container!="",container!="POD",{{selector}}}${W}))` } },
  clientDefault('cpu', 'service', CLIENT),
  { stack: CADVISOR, metric: 'container_memory_working_set_bytes', query: { signal: 'memory', kind: 'service', query: `sum ${byPod} (container_memory_working_set_bytes{container!="",container!="POD",{{selector}}})` } },
  clientDefault('memory', 'service', CLIENT),
  clientDefault('restarts', 'service', KSM),
  clientDefault('available_replicas', 'service', KSM),
  { stack: CADVISOR, metric: 'container_cpu_usage_seconds_total', query: { signal: 'cpu', kind: 'node', query: `sum by (node) (rate(container_cpu_usage_seconds_total{id="/"}${W}))` } },
  clientDefault('cpu', 'node', CLIENT),
  { stack: CADVISOR, metric: 'container_memory_working_set_bytes', query: { signal: 'memory', kind: 'node', query: `sum by (node) (container_memory_working_set_bytes{id="/"})` } },
  clientDefault('memory', 'node', CLIENT),
];

/**
 * kube-state-metrics' ownership series: which workload owns a pod (and a ReplicaSet), for pods the informers
 * never listed (gone before Vigil started, still in a backfilled range). Asked about with the candidates.
 */
export const OWNER_METRICS = { pod: 'kube_pod_owner', replicaSet: 'kube_replicaset_owner' } as const;

/** Every metric name a candidate needs, and the ownership series: what the source asks the Prometheus about, and nothing else. */
export function candidateMetricNames(candidates: ReadonlyArray<SignalCandidate> = SIGNAL_CANDIDATES): string[] {
  return [...new Set([...candidates.map((c) => c.metric), OWNER_METRICS.pod, OWNER_METRICS.replicaSet])].sort();
}

/** The `match[]` selector of the discovery call: the candidate names only. */
export function discoverySelector(names: ReadonlyArray<string>): string {
  return `{__name__=~"${names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')}"}`;
}

/** Metric names a set of PromQL expressions reads (a name followed by a selector or range). */
export function metricNames(queries: ReadonlyArray<string>): string[] {
  const names = new Set<string>();
  for (const q of queries) {
    const noStrings = q.replace(/"(?:[^"\\]|\\.)*"/g, '""');
    for (const m of noStrings.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*[{[]/g)) names.add(m[1]);
  }
  return [...names].sort();
}

/** What was chosen for one signal and kind, and why. */
export interface SignalChoice {
  readonly signal: SignalName;
  readonly kind: TargetKind;
  /** `configured`: from the signals file or settings; `found`: a candidate's metric is present; `missing`: none is. */
  readonly status: 'configured' | 'found' | 'missing';
  readonly stack?: string;
  readonly metric?: string;
  /** The candidate names looked for, when missing. */
  readonly lookedFor?: ReadonlyArray<string>;
}

/**
 * Picks per signal and kind: a configured (non-default) query as is; otherwise the first candidate whose
 * metric the Prometheus has. `configured` is the signals file and settings merged over DEFAULT_SIGNAL_QUERIES.
 */
export function chooseSignalQueries(
  present: ReadonlySet<string>,
  configured: ReadonlyArray<SignalQuery> = DEFAULT_SIGNAL_QUERIES,
  candidates: ReadonlyArray<SignalCandidate> = SIGNAL_CANDIDATES,
): { readonly queries: SignalQuery[]; readonly choices: SignalChoice[] } {
  const queries: SignalQuery[] = [];
  const choices: SignalChoice[] = [];
  for (const q of configured) {
    if (!DEFAULT_SIGNAL_QUERIES.includes(q)) {
      queries.push(q);
      choices.push({ signal: q.signal, kind: q.kind, status: 'configured', metric: metricNames([q.query]).join(', ') || undefined });
      continue;
    }
    const options = candidates.filter((c) => c.query.signal === q.signal && c.query.kind === q.kind);
    const hit = options.find((c) => present.has(c.metric));
    if (hit) {
      queries.push(hit.query);
      choices.push({ signal: q.signal, kind: q.kind, status: 'found', stack: hit.stack, metric: hit.metric });
    } else {
      choices.push({ signal: q.signal, kind: q.kind, status: 'missing', lookedFor: [...new Set(options.map((c) => c.metric))] });
    }
  }
  return { queries, choices };
}

/** An example entry for the signals file, for a signal none of whose names the Prometheus has. */
export function signalsFileExample(signal: SignalName, kind: TargetKind): string {
  const base = DEFAULT_SIGNAL_QUERIES.find((q) => q.signal === signal && q.kind === kind);
  const name = base ? metricNames([base.query])[0] : 'your_metric';
  const query = base ? base.query.replace(new RegExp(`\\b${name}\\b`, 'g'), `YOUR_${name.toUpperCase()}`) : `sum by (namespace, deployment, pod) (YOUR_METRIC{{{selector}}})`;
  return `- signal: ${signal}\n  kind: ${kind}\n  query: '${query}'`;
}

/** One line per signal and kind, for the sidebar and the agent's log. */
export function describeChoice(c: SignalChoice): string {
  const what = `${c.signal} (${c.kind})`;
  if (c.status === 'configured') return `${what}: configured query${c.metric ? ` on ${c.metric}` : ''}`;
  if (c.status === 'found') return `${what}: ${c.metric} (${c.stack})`;
  return `${what}: not found — Prometheus has none of ${c.lookedFor!.join(', ')}; add an entry to the signals file (prometheus.signalsFile), e.g.\n${signalsFileExample(c.signal, c.kind)}`;
}
