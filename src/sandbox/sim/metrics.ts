/**
 * What the simulated pods and a kube-state-metrics would export, in one exposition body.
 * Families are written once each with every pod's samples under them, as the format requires.
 */
import { ExpositionWriter, renderLabels } from './exposition';
import type { PodRuntime } from './containerLifecycle';
import { nodeReady, type Deployment, type NodeObject } from './objects';
import { BUCKETS, CODES, METHODS } from './workload';

const BUCKET_LABELS = [...BUCKETS.map((b) => `le="${b}"`), 'le="+Inf"'];
const CODE_METHOD_LABELS = CODES.flatMap((c) => METHODS.map((m) => `code="${c}",method="${m}"`));

function podLabels(rt: PodRuntime): string {
  if (!rt.labels) rt.labels = renderLabels({ namespace: rt.namespace, pod: rt.name, deployment: rt.deployment, node: rt.node ?? '' });
  return rt.labels;
}

export function renderMetrics(runtimes: ReadonlyArray<PodRuntime>, deployments: ReadonlyArray<Deployment>, nodes: ReadonlyArray<NodeObject>, options: { kubeState: boolean }): string {
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
  if (!options.kubeState) return w.toString();

  const podKs = (rt: PodRuntime) => renderLabels({ namespace: rt.namespace, pod: rt.name, deployment: rt.deployment, node: rt.node ?? '', container: rt.containerName });
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
  return w.toString();
}
