/**
 * A Prometheus configuration for the real control plane that scrapes the way kube-prometheus-stack does:
 * every target found by `kubernetes_sd_configs` against the API server, none listed by hand.
 *
 * - `apiserver`: the endpoints of default/kubernetes, port `https`, with the cluster CA and a client certificate;
 * - `kubelet` (cAdvisor): every Node on its kubelet port (:10250, HTTPS) at `/metrics/cadvisor`, honoring the
 *   series' own `namespace`/`pod`/`container` labels; the target adds `node` and `metrics_path`;
 * - `kube-state-metrics`: the endpoints of kube-system/kube-state-metrics, port `http`, honoring the series'
 *   labels (`kube_pod_*{namespace, pod, container}`);
 * - `kubernetes-pods`: pods annotated `prometheus.io/scrape: "true"` (`prometheus.io/port`, `/path`, `/scheme`),
 *   labelled `namespace`, `pod`, `container`, `node` from the pod.
 *
 * No job adds a `deployment` label: series carry namespace, pod and container, as on a real cluster.
 */
import path from 'node:path';
import type { ControlPlane } from './controlPlane';

export interface KubernetesPrometheusOptions {
  /** Kubeconfig Prometheus discovers with (a read-only identity: list/watch nodes, pods, services, endpoints). */
  readonly kubeconfig: string;
  /** Cluster CA, to verify the API server. */
  readonly caFile: string;
  /** Client certificate and key Prometheus presents to the API server and the kubelets. */
  readonly certFile: string;
  readonly keyFile: string;
  /** Seconds between scrapes (default 5); the API server's own metrics at most every 15 s (they are large). */
  readonly scrapeIntervalSeconds?: number;
}

const q = (s: string) => JSON.stringify(s);

interface RelabelRule {
  readonly source_labels: ReadonlyArray<string>;
  readonly action?: 'keep' | 'drop' | 'replace';
  readonly regex?: string;
  readonly replacement?: string;
  readonly target_label?: string;
}

export function kubernetesPrometheusConfig(o: KubernetesPrometheusOptions): string {
  const interval = o.scrapeIntervalSeconds ?? 5;
  const sd = (role: string) => [`    kubernetes_sd_configs:`, `      - role: ${role}`, `        kubeconfig_file: ${q(o.kubeconfig)}`];
  const tls = (verify: boolean) => [
    '    scheme: https',
    '    tls_config:',
    ...(verify ? [`      ca_file: ${q(o.caFile)}`] : ['      # the kubelets serve self-signed certificates, as kubeadm clusters do', '      insecure_skip_verify: true']),
    `      cert_file: ${q(o.certFile)}`,
    `      key_file: ${q(o.keyFile)}`,
  ];
  const relabel = (rules: ReadonlyArray<RelabelRule>) => [
    '    relabel_configs:',
    ...rules.flatMap((r) =>
      Object.entries(r)
        .filter(([, v]) => v !== undefined)
        .map(([k, v], i) => `${i === 0 ? '      - ' : '        '}${k}: ${Array.isArray(v) ? `[${v.join(', ')}]` : q(v as string)}`),
    ),
  ];
  const endpointsOf = (namespace: string, service: string, port: string): RelabelRule[] => [
    { source_labels: ['__meta_kubernetes_namespace', '__meta_kubernetes_service_name', '__meta_kubernetes_endpoint_port_name'], action: 'keep', regex: `${namespace};${service};${port}` },
    { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
    { source_labels: ['__meta_kubernetes_service_name'], target_label: 'service' },
    { source_labels: ['__meta_kubernetes_endpoint_port_name'], target_label: 'endpoint' },
  ];
  const jobs = [
    [
      '  - job_name: apiserver',
      `    scrape_interval: ${Math.max(interval, 15)}s`,
      ...sd('endpoints'),
      ...tls(true),
      ...relabel(endpointsOf('default', 'kubernetes', 'https')),
    ],
    [
      '  - job_name: kubelet',
      '    metrics_path: /metrics/cadvisor',
      '    honor_labels: true',
      '    honor_timestamps: false',
      ...sd('node'),
      ...tls(false),
      ...relabel([
        { source_labels: ['__meta_kubernetes_node_name'], target_label: 'node' },
        { source_labels: ['__metrics_path__'], target_label: 'metrics_path' },
      ]),
    ],
    [
      '  - job_name: kube-state-metrics',
      '    honor_labels: true',
      ...sd('endpoints'),
      ...relabel(endpointsOf('kube-system', 'kube-state-metrics', 'http')),
    ],
    [
      '  - job_name: kubernetes-pods',
      ...sd('pod'),
      ...relabel([
        { source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_scrape'], action: 'keep', regex: 'true' },
        { source_labels: ['__meta_kubernetes_pod_phase'], action: 'drop', regex: 'Pending|Succeeded|Failed|Completed' },
        { source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_scheme'], action: 'replace', regex: '(https?)', target_label: '__scheme__' },
        { source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_path'], action: 'replace', regex: '(.+)', target_label: '__metrics_path__' },
        { source_labels: ['__address__', '__meta_kubernetes_pod_annotation_prometheus_io_port'], action: 'replace', regex: '([^:]+)(?::\\d+)?;(\\d+)', replacement: '$1:$2', target_label: '__address__' },
        { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
        { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
        { source_labels: ['__meta_kubernetes_pod_container_name'], target_label: 'container' },
        { source_labels: ['__meta_kubernetes_pod_node_name'], target_label: 'node' },
      ]),
    ],
  ];
  return [
    'global:',
    `  scrape_interval: ${interval}s`,
    `  scrape_timeout: ${Math.min(interval, 10)}s`,
    `  evaluation_interval: ${interval}s`,
    'scrape_configs:',
    ...jobs.map((j) => j.join('\n')),
    '',
  ].join('\n');
}

/** The configuration for a started control plane: its read-only `vigil:prometheus` identity and the cluster CA it wrote. */
export function controlPlanePrometheusConfig(cp: Pick<ControlPlane, 'pki' | 'prometheusKubeconfig'>, scrapeIntervalSeconds: number): string {
  return kubernetesPrometheusConfig({
    kubeconfig: cp.prometheusKubeconfig,
    caFile: path.join(cp.pki, 'ca.crt'),
    certFile: path.join(cp.pki, 'prometheus.crt'),
    keyFile: path.join(cp.pki, 'prometheus.key'),
    scrapeIntervalSeconds,
  });
}
