/**
 * What the simulated pods and a kube-state-metrics would export, in one exposition body.
 * Families are written once each with every pod's samples under them, as the format requires.
 */
import { ExpositionWriter, renderLabels } from '../../infra/prometheus/exposition';
import type { PodRuntime } from './containerLifecycle';
import { nodeReady, type Deployment, type NodeObject } from './objects';
import { BUCKETS, CODES, METHODS, profileOf } from './workload';

const BUCKET_LABELS = [...BUCKETS.map((b) => `le="${b}"`), 'le="+Inf"'];
const CODE_METHOD_LABELS = CODES.flatMap((c) => METHODS.map((m) => `code="${c}",method="${m}"`));

function podLabels(rt: PodRuntime): string {
  if (!rt.labels) rt.labels = renderLabels({ namespace: rt.namespace, pod: rt.name, deployment: rt.deployment, node: rt.node ?? '' });
  return rt.labels;
}

/** Pod labels as kube-prometheus-stack relabels them: namespace, pod, container; no `deployment`. */
function podOnlyLabels(rt: PodRuntime): string {
  return renderLabels({ namespace: rt.namespace, pod: rt.name, container: rt.containerName, node: rt.node ?? '' });
}

/** How the sandbox names its series (`sandbox.*` settings): the shapes real clusters export. */
export interface MetricShape {
  /** The application's RED metrics: Prometheus client names, OpenTelemetry's, or Istio's sidecar metrics. */
  readonly application: 'prometheus' | 'opentelemetry' | 'istio';
  /** false: no `deployment` label on application and kube_pod_* series, CPU and memory from cAdvisor (kube-prometheus-stack). */
  readonly deploymentLabel: boolean;
}

export const DEFAULT_METRIC_SHAPE: MetricShape = { application: 'prometheus', deploymentLabel: true };

/** When each container's process started, as every Prometheus client library exports it (its counters were 0 then). */
function renderProcessStart(w: ExpositionWriter, serving: ReadonlyArray<PodRuntime>, labels: (rt: PodRuntime) => string): void {
  w.family('process_start_time_seconds', 'gauge', 'Start time of the process since unix epoch in seconds.');
  for (const rt of serving) if (rt.containerStartMs !== undefined) w.sample('process_start_time_seconds', labels(rt), Math.round(rt.containerStartMs) / 1000);
}

export function renderMetrics(
  runtimes: ReadonlyArray<PodRuntime>,
  deployments: ReadonlyArray<Deployment>,
  nodes: ReadonlyArray<NodeObject>,
  options: { kubeState: boolean; shape?: MetricShape },
): string {
  const shape = options.shape ?? DEFAULT_METRIC_SHAPE;
  if (shape.application !== 'prometheus' || !shape.deploymentLabel) return renderShaped(runtimes, deployments, nodes, options.kubeState, shape, false);
  const w = new ExpositionWriter();
  // a stopped container or an unreachable node answers no scrape: its series go stale
  const serving = runtimes.filter((rt) => rt.running && !rt.nodeDown);

  w.family('http_requests_total', 'counter', 'HTTP requests served, by status code and method.');
  for (const rt of serving) {
    const l = podLabels(rt);
    const r = rt.service.requests;
    for (let i = 0; i < CODE_METHOD_LABELS.length; i++) w.sample('http_requests_total', l, Math.floor(r[i]), CODE_METHOD_LABELS[i]);
  }
  w.family('http_request_duration_seconds', 'histogram', 'HTTP request latency in seconds.');
  for (const rt of serving) {
    const l = podLabels(rt);
    const s = rt.service;
    const count = Math.floor(s.count);
    for (let b = 0; b < BUCKETS.length; b++) w.sample('http_request_duration_seconds_bucket', l, Math.min(count, Math.floor(s.buckets[b])), BUCKET_LABELS[b]);
    w.sample('http_request_duration_seconds_bucket', l, count, BUCKET_LABELS[BUCKETS.length]);
    w.sample('http_request_duration_seconds_sum', l, Math.round(s.sum * 1000) / 1000);
    w.sample('http_request_duration_seconds_count', l, count);
  }
  w.family('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.');
  for (const rt of serving) w.sample('process_resident_memory_bytes', podLabels(rt), Math.round(rt.service.memoryBytes));
  w.family('process_cpu_seconds_total', 'counter', 'Total user and system CPU time spent in seconds.');
  for (const rt of serving) w.sample('process_cpu_seconds_total', podLabels(rt), Math.round(rt.service.cpuSeconds * 1000) / 1000);
  renderProcessStart(w, serving, podLabels);
  if (!options.kubeState) return w.toString();
  renderKubeState(w, runtimes, deployments, nodes, (rt) => renderLabels({ namespace: rt.namespace, pod: rt.name, deployment: rt.deployment, node: rt.node ?? '', container: rt.containerName }));
  return w.toString();
}

/**
 * The renamed shapes: OpenTelemetry (`http_server_request_duration_seconds` with `http_response_status_code`) or
 * Istio (`istio_requests_total`, `istio_request_duration_milliseconds` by destination workload), and without
 * the `deployment` label, CPU and memory as cAdvisor reports them: a series per container, plus the pod's
 * cgroup (`container=""`) and the pause container (`container="POD"`) a naive sum would count twice.
 */
function renderShaped(runtimes: ReadonlyArray<PodRuntime>, deployments: ReadonlyArray<Deployment>, nodes: ReadonlyArray<NodeObject>, kubeState: boolean, shape: MetricShape, asTarget: boolean): string {
  const w = new ExpositionWriter();
  const serving = runtimes.filter((rt) => rt.running && !rt.nodeDown);
  const labels = (rt: PodRuntime) => (asTarget ? '' : shape.deploymentLabel ? podLabels(rt) : podOnlyLabels(rt));
  const withLabels = (rt: PodRuntime, extra: string) => (labels(rt) ? `${labels(rt)},${extra}` : extra);
  const codes = CODES.flatMap((c) => METHODS.map((m) => ({ code: c, method: m })));
  if (shape.application === 'istio') {
    const istio = (rt: PodRuntime) =>
      withLabels(rt, renderLabels({ reporter: 'destination', destination_workload: rt.deployment, destination_workload_namespace: rt.namespace, destination_service_name: rt.deployment }));
    // the destination sidecar names the caller's workload; a service nobody in the shop calls is reached through the
    // ingress, which Istio reports as "unknown". A pod's requests are split evenly over its callers: floor((n + j) / k)
    // for caller j keeps each counter monotonic and sums to n.
    const callers = callersOf(deployments);
    w.family('istio_requests_total', 'counter', 'Requests seen by the Envoy sidecar.');
    for (const rt of serving) {
      const r = rt.service.requests;
      const byCode = new Map<string, number>();
      codes.forEach((cm, i) => byCode.set(cm.code, (byCode.get(cm.code) ?? 0) + Math.floor(r[i])));
      const from = callers.get(`${rt.namespace}/${rt.deployment}`) ?? [{ namespace: 'unknown', name: 'unknown' }];
      for (const [code, n] of byCode) {
        from.forEach((c, j) => w.sample('istio_requests_total', `${istio(rt)},${renderLabels({ source_workload: c.name, source_workload_namespace: c.namespace })}`, Math.floor((n + j) / from.length), `response_code="${code}"`));
      }
    }
    w.family('istio_request_duration_milliseconds', 'histogram', 'Request duration seen by the Envoy sidecar, in milliseconds.');
    for (const rt of serving) {
      const s = rt.service;
      const count = Math.floor(s.count);
      for (let b = 0; b < BUCKETS.length; b++) w.sample('istio_request_duration_milliseconds_bucket', istio(rt), Math.min(count, Math.floor(s.buckets[b])), `le="${Math.round(BUCKETS[b] * 1e6) / 1e3}"`);
      w.sample('istio_request_duration_milliseconds_bucket', istio(rt), count, 'le="+Inf"');
      w.sample('istio_request_duration_milliseconds_sum', istio(rt), Math.round(s.sum * 1000));
      w.sample('istio_request_duration_milliseconds_count', istio(rt), count);
    }
  } else {
    const name = shape.application === 'opentelemetry' ? 'http_server_request_duration_seconds' : 'http_request_duration_seconds';
    if (shape.application === 'prometheus') {
      w.family('http_requests_total', 'counter', 'HTTP requests served, by status code and method.');
      for (const rt of serving) codes.forEach((cm, i) => w.sample('http_requests_total', labels(rt), Math.floor(rt.service.requests[i]), `code="${cm.code}",method="${cm.method}"`));
    }
    w.family(name, 'histogram', 'Duration of HTTP server requests.');
    for (const rt of serving) {
      const s = rt.service;
      if (shape.application === 'opentelemetry') {
        // OpenTelemetry has no request counter: the histogram's _count per status code is it. Latency is
        // shared across codes in the simulation, so the buckets are split by each code's share of the requests.
        const total = Math.max(1, s.requests.reduce((a, b) => a + b, 0));
        codes.forEach((cm, i) => {
          const share = s.requests[i] / total;
          const l = withLabels(rt, renderLabels({ http_request_method: cm.method, http_response_status_code: cm.code }));
          const count = Math.floor(s.requests[i]);
          for (let b = 0; b < BUCKETS.length; b++) w.sample(`${name}_bucket`, l, Math.min(count, Math.floor(s.buckets[b] * share)), `le="${BUCKETS[b]}"`);
          w.sample(`${name}_bucket`, l, count, 'le="+Inf"');
          w.sample(`${name}_sum`, l, Math.round(s.sum * share * 1000) / 1000);
          w.sample(`${name}_count`, l, count);
        });
      } else {
        const count = Math.floor(s.count);
        for (let b = 0; b < BUCKETS.length; b++) w.sample(`${name}_bucket`, labels(rt), Math.min(count, Math.floor(s.buckets[b])), BUCKET_LABELS[b]);
        w.sample(`${name}_bucket`, labels(rt), count, BUCKET_LABELS[BUCKETS.length]);
        w.sample(`${name}_sum`, labels(rt), Math.round(s.sum * 1000) / 1000);
        w.sample(`${name}_count`, labels(rt), count);
      }
    }
  }
  if (shape.deploymentLabel || asTarget) {
    w.family('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.');
    for (const rt of serving) w.sample('process_resident_memory_bytes', asTarget ? '' : podLabels(rt), Math.round(rt.service.memoryBytes));
    w.family('process_cpu_seconds_total', 'counter', 'Total user and system CPU time spent in seconds.');
    for (const rt of serving) w.sample('process_cpu_seconds_total', asTarget ? '' : podLabels(rt), Math.round(rt.service.cpuSeconds * 1000) / 1000);
    renderProcessStart(w, serving, (rt) => (asTarget ? '' : podLabels(rt)));
  } else {
    const cg = (rt: PodRuntime, container: string) => renderLabels({ namespace: rt.namespace, pod: rt.name, container, node: rt.node ?? '' });
    const PAUSE_CPU = 0.001;
    const PAUSE_MEMORY = 700_000;
    w.family('container_cpu_usage_seconds_total', 'counter', 'Cumulative cpu time consumed in seconds.');
    const nodeCpu = new Map<string, number>();
    for (const rt of serving) {
      const cpu = Math.round(rt.service.cpuSeconds * 1000) / 1000;
      w.sample('container_cpu_usage_seconds_total', cg(rt, rt.containerName), cpu);
      w.sample('container_cpu_usage_seconds_total', cg(rt, ''), cpu);
      w.sample('container_cpu_usage_seconds_total', cg(rt, 'POD'), PAUSE_CPU);
      if (rt.node) nodeCpu.set(rt.node, (nodeCpu.get(rt.node) ?? 0) + cpu);
    }
    for (const [node, cpu] of nodeCpu) w.sample('container_cpu_usage_seconds_total', renderLabels({ id: '/', node }), Math.round(cpu * 1000) / 1000);
    w.family('container_memory_working_set_bytes', 'gauge', 'Current working set in bytes.');
    const nodeMemory = new Map<string, number>();
    for (const rt of serving) {
      const mem = Math.round(rt.service.memoryBytes);
      w.sample('container_memory_working_set_bytes', cg(rt, rt.containerName), mem);
      w.sample('container_memory_working_set_bytes', cg(rt, ''), mem + PAUSE_MEMORY);
      w.sample('container_memory_working_set_bytes', cg(rt, 'POD'), PAUSE_MEMORY);
      if (rt.node) nodeMemory.set(rt.node, (nodeMemory.get(rt.node) ?? 0) + mem + PAUSE_MEMORY);
    }
    for (const [node, mem] of nodeMemory) w.sample('container_memory_working_set_bytes', renderLabels({ id: '/', node }), mem);
  }
  if (kubeState) renderKubeState(w, runtimes, deployments, nodes, (rt) => (shape.deploymentLabel ? renderLabels({ namespace: rt.namespace, pod: rt.name, deployment: rt.deployment, node: rt.node ?? '', container: rt.containerName }) : podOnlyLabels(rt)));
  return w.toString();
}

/**
 * One pod's /metrics as the application itself serves it to a Prometheus that finds it with kubernetes_sd: the
 * RED series (and its process_* series) in `application`'s shape with no namespace, pod or deployment label —
 * the scrape's relabeling adds namespace, pod, container and node — and no container_* series, which the
 * kubelet's cAdvisor serves.
 */
export function renderPodTarget(rt: PodRuntime, application: MetricShape['application']): string {
  return renderShaped([rt], [], [], false, { application, deploymentLabel: false }, true);
}

/** What kube-state-metrics exports about the pods, deployments and nodes. */
function renderKubeState(w: ExpositionWriter, runtimes: ReadonlyArray<PodRuntime>, deployments: ReadonlyArray<Deployment>, nodes: ReadonlyArray<NodeObject>, podKs: (rt: PodRuntime) => string): void {
  const ks = runtimes.map((rt) => [rt, podKs(rt)] as const);
  w.family('kube_pod_container_status_restarts_total', 'counter', 'The number of container restarts per container.');
  for (const [rt, l] of ks) w.sample('kube_pod_container_status_restarts_total', l, rt.restartCount);
  w.family('kube_pod_container_status_last_terminated_reason', 'gauge', 'Describes the last reason the container was in terminated state.');
  for (const [rt, l] of ks) if (rt.lastTerminated) w.sample('kube_pod_container_status_last_terminated_reason', l, 1, `reason="${rt.lastTerminated.reason}"`);
  w.family('kube_pod_container_resource_limits', 'gauge', 'The number of requested limit resource by a container.');
  for (const [rt, l] of ks) w.sample('kube_pod_container_resource_limits', l, rt.memoryLimitBytes, 'resource="memory",unit="byte"');
  w.family('kube_pod_status_ready', 'gauge', 'Describes whether the pod is ready to serve requests.');
  for (const [rt, l] of ks) {
    w.sample('kube_pod_status_ready', l, rt.ready ? 1 : 0, 'condition="true"');
    w.sample('kube_pod_status_ready', l, rt.ready ? 0 : 1, 'condition="false"');
  }
  const deps = deployments.map((d) => [d, renderLabels({ namespace: d.metadata.namespace ?? '', deployment: d.metadata.name })] as const);
  w.family('kube_deployment_spec_replicas', 'gauge', 'Number of desired pods for a deployment.');
  for (const [d, l] of deps) w.sample('kube_deployment_spec_replicas', l, d.spec.replicas ?? 1);
  w.family('kube_deployment_status_replicas_available', 'gauge', 'The number of available replicas per deployment.');
  for (const [d, l] of deps) w.sample('kube_deployment_status_replicas_available', l, d.status?.availableReplicas ?? 0);
  w.family('kube_deployment_status_replicas_unavailable', 'gauge', 'The number of unavailable replicas per deployment.');
  for (const [d, l] of deps) w.sample('kube_deployment_status_replicas_unavailable', l, d.status?.unavailableReplicas ?? 0);
  w.family('kube_node_status_condition', 'gauge', 'The condition of a cluster node.');
  for (const n of nodes) {
    const l = renderLabels({ node: n.metadata.name, condition: 'Ready' });
    const ready = nodeReady(n);
    w.sample('kube_node_status_condition', l, ready ? 1 : 0, 'status="true"');
    w.sample('kube_node_status_condition', l, ready ? 0 : 1, 'status="false"');
    w.sample('kube_node_status_condition', l, 0, 'status="unknown"');
  }
  w.family('kube_node_spec_unschedulable', 'gauge', 'Whether a node can schedule new pods.');
  for (const n of nodes) w.sample('kube_node_spec_unschedulable', renderLabels({ node: n.metadata.name }), n.spec?.unschedulable ? 1 : 0);
}

/** namespace/deployment → the workloads that call it, from the simulation's own call graph (annotations of its Deployments). */
function callersOf(deployments: ReadonlyArray<Deployment>): Map<string, Array<{ namespace: string; name: string }>> {
  const out = new Map<string, Array<{ namespace: string; name: string }>>();
  for (const d of deployments) {
    const ns = d.metadata.namespace ?? 'default';
    for (const callee of profileOf(ns, d.metadata.name, d).dependsOn) out.set(callee, [...(out.get(callee) ?? []), { namespace: ns, name: d.metadata.name }]);
  }
  return out;
}
