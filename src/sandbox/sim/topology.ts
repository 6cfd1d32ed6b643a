/**
 * The default sandbox cluster: three nodes, a small shop with a payments dependency (each workload behind
 * a Service), feature flags and PodDisruptionBudgets. Builders are exported so tests and benchmarks can grow larger ones.
 */
import type { KubeObject, ObjectStore } from '../store';
import type { ConfigMap, Deployment, NodeObject } from './objects';
import { ANNOTATIONS } from './workload';

const CREATED = '2026-01-05T09:00:00Z';

export function nodeManifest(index: number, options: { cpu?: string; memory?: string; pods?: string } = {}): NodeObject {
  const name = `node-${index}`;
  const zone = `zone-${'abc'[(index - 1) % 3]}`;
  const capacity = { cpu: options.cpu ?? '4', memory: options.memory ?? '16Gi', pods: options.pods ?? '110', 'ephemeral-storage': '100Gi' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'node.kubernetes.io/instance-type': 'sandbox.large',
        'topology.kubernetes.io/zone': zone,
      },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0' },
    },
    spec: { podCIDR: `10.244.${index}.0/24`, podCIDRs: [`10.244.${index}.0/24`] },
    status: {
      capacity,
      allocatable: { ...capacity },
      conditions: [
        { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available', lastHeartbeatTime: CREATED, lastTransitionTime: CREATED },
        { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure', lastHeartbeatTime: CREATED, lastTransitionTime: CREATED },
        { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available', lastHeartbeatTime: CREATED, lastTransitionTime: CREATED },
        { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: CREATED, lastTransitionTime: CREATED },
      ],
      addresses: [
        { type: 'InternalIP', address: `10.0.0.${10 + index}` },
        { type: 'Hostname', address: name },
      ],
      nodeInfo: {
        kubeletVersion: 'v1.32.0',
        kubeProxyVersion: 'v1.32.0',
        containerRuntimeVersion: 'containerd://1.7.22',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        kernelVersion: '6.1.0-sandbox',
        operatingSystem: 'linux',
        architecture: 'amd64',
        machineID: `sandbox-${name}`,
        systemUUID: `sandbox-${name}`,
        bootID: `sandbox-${name}`,
      },
    },
  };
}

export interface ServiceSpec {
  namespace: string;
  name: string;
  image: string;
  replicas: number;
  baseRps: number;
  latencyMs: number;
  /** Requests per second one pod serves before its CPU saturates. */
  capacityRps?: number;
  dependsOn?: string[];
  featureFlags?: string;
  memoryLimit?: string;
}

/** Whether the shop declares its calls with `vigil.dev/depends-on` (default), or leaves Vigil to infer them from telemetry. */
export interface TopologyOptions {
  readonly declareDependencies?: boolean;
}

export function deploymentManifest(s: ServiceSpec, options: TopologyOptions = {}): Deployment {
  const annotations: Record<string, string> = { [ANNOTATIONS.baseRps]: String(s.baseRps), [ANNOTATIONS.latencyMs]: String(s.latencyMs) };
  if (s.capacityRps) annotations[ANNOTATIONS.capacityRps] = String(s.capacityRps);
  if (s.dependsOn?.length) annotations[options.declareDependencies === false ? ANNOTATIONS.calls : ANNOTATIONS.dependsOn] = s.dependsOn.join(',');
  if (s.featureFlags) annotations[ANNOTATIONS.featureFlags] = s.featureFlags;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: s.name, namespace: s.namespace, labels: { app: s.name, 'app.kubernetes.io/part-of': s.namespace }, annotations },
    spec: {
      replicas: s.replicas,
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      selector: { matchLabels: { app: s.name } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: {
          labels: { app: s.name },
          annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8080', 'prometheus.io/path': '/metrics' },
        },
        spec: {
          containers: [
            {
              name: s.name,
              image: s.image,
              ports: [{ containerPort: 8080, name: 'http', protocol: 'TCP' }],
              resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: s.memoryLimit ?? '256Mi' } },
              readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 5, timeoutSeconds: 1 },
            },
          ],
          // one pod per node where it can be: a node failure takes one replica, not all
          topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { app: s.name } } }],
        },
      },
    },
  };
}

/** The Service in front of a workload: port 8080 (`http`) to its pods, reachable through the API server's service proxy. */
export function serviceManifest(s: Pick<ServiceSpec, 'namespace' | 'name'>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: s.name, namespace: s.namespace, labels: { app: s.name, 'app.kubernetes.io/part-of': s.namespace } },
    spec: { selector: { app: s.name }, ports: [{ name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP' }] },
  };
}

export const DEFAULT_SERVICES: ReadonlyArray<ServiceSpec> = [
  { namespace: 'shop', name: 'frontend', image: 'shop/frontend:2.3.1', replicas: 3, baseRps: 45, latencyMs: 35, capacityRps: 38, dependsOn: ['shop/cart', 'shop/checkout'], featureFlags: 'feature-flags' },
  { namespace: 'shop', name: 'cart', image: 'shop/cart:1.8.0', replicas: 2, baseRps: 18, latencyMs: 20, capacityRps: 22 },
  { namespace: 'shop', name: 'checkout', image: 'shop/checkout:1.4.2', replicas: 3, baseRps: 9, latencyMs: 80, capacityRps: 8, dependsOn: ['payments/payments-api'], featureFlags: 'feature-flags' },
  { namespace: 'payments', name: 'payments-api', image: 'payments/payments-api:3.1.0', replicas: 2, baseRps: 7, latencyMs: 120, capacityRps: 9 },
];

function namespace(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name } }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } };
}

function pdb(ns: string, app: string, rule: { minAvailable?: number | string; maxUnavailable?: number | string }): KubeObject {
  return { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: app, namespace: ns }, spec: { ...rule, selector: { matchLabels: { app } } } };
}

function featureFlags(): ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'feature-flags', namespace: 'shop' },
    data: { 'checkout.new-pricing-engine': 'false', 'frontend.recommendations-v2': 'false', 'frontend.dark-mode': 'true', 'cart.persist-to-redis': 'true' },
  };
}

/**
 * The shop as ordinary manifests, in apply order: its namespaces, the feature-flag ConfigMap, each workload's
 * Deployment and Service, the PodDisruptionBudgets. The embedded sandbox seeds them; on a real control plane
 * they are applied with kubectl and the node agent runs their pods.
 */
export function shopManifests(options: TopologyOptions = {}): KubeObject[] {
  const out: KubeObject[] = ['shop', 'payments'].map((n) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: n, labels: { 'kubernetes.io/metadata.name': n } } }));
  out.push(featureFlags());
  for (const s of DEFAULT_SERVICES) out.push(deploymentManifest(s, options), serviceManifest(s));
  out.push(pdb('shop', 'checkout', { minAvailable: 2 }), pdb('shop', 'frontend', { maxUnavailable: 1 }));
  return out;
}

/**
 * A StatefulSet (a database: orders-db, 2 replicas, with its headless Service) and a DaemonSet (a node log agent) in
 * the shop's namespace, with the shop's pod template; the real control plane's controllers run them, or the embedded
 * sandbox's (seedWorkloadKinds). Their pods serve the default workload profile.
 */
export function workloadKindManifests(): KubeObject[] {
  const base = (name: string, replicas: number) => deploymentManifest({ namespace: 'shop', name, image: `shop/${name}:1.0.0`, replicas, baseRps: 10, latencyMs: 20 });
  const db = base('orders-db', 2);
  const agent = base('log-agent', 1);
  const { topologySpreadConstraints: _spread, ...agentPod } = agent.spec.template.spec;
  return [
    { ...serviceManifest({ namespace: 'shop', name: 'orders-db' }), spec: { ...(serviceManifest({ namespace: 'shop', name: 'orders-db' }).spec as object), clusterIP: 'None' } },
    // the API server's defaults spelled out: the embedded sandbox's store takes them as written (seedWorkloadKinds)
    { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: db.metadata, spec: { serviceName: 'orders-db', replicas: 2, selector: db.spec.selector, template: db.spec.template, podManagementPolicy: 'OrderedReady', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } }, revisionHistoryLimit: 10 } },
    { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: agent.metadata, spec: { selector: agent.spec.selector, template: { ...agent.spec.template, spec: agentPod }, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } }, revisionHistoryLimit: 10 } },
  ] as KubeObject[];
}

/** Writes workloadKindManifests() into the embedded sandbox's store (objects that exist already are left alone). */
export function seedWorkloadKinds(store: ObjectStore): void {
  const resources: Record<string, Parameters<ObjectStore['create']>[0]> = { Service: 'services', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets' };
  for (const o of workloadKindManifests()) {
    const resource = resources[o.kind as string];
    if (!store.get(resource, o.metadata.namespace, o.metadata.name)) store.create(resource, o);
  }
}

/** Writes the default cluster into an empty store. Objects that exist already are left alone. */
export function seedDefaultTopology(store: ObjectStore, options: TopologyOptions = {}): void {
  const put = (resource: Parameters<ObjectStore['create']>[0], o: KubeObject) => {
    if (!store.get(resource, o.metadata.namespace, o.metadata.name)) store.create(resource, o);
  };
  for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease', 'shop', 'payments']) put('namespaces', namespace(ns));
  for (let i = 1; i <= 3; i++) put('nodes', nodeManifest(i));
  put('configmaps', featureFlags());
  put('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt', namespace: 'default' }, data: { 'ca.crt': 'sandbox' } });
  for (const s of DEFAULT_SERVICES) {
    put('deployments', deploymentManifest(s, options));
    put('services', serviceManifest(s));
  }
  put('poddisruptionbudgets', pdb('shop', 'checkout', { minAvailable: 2 }));
  put('poddisruptionbudgets', pdb('shop', 'frontend', { maxUnavailable: 1 }));
}
