/**
 * The node agent: the simulation as the nodes of a real control plane. It plays the kubelets of N nodes:
 * registers them, renews their Leases (kube-node-lease) and Ready heartbeats, and for every pod the real
 * scheduler binds to one of them runs the pod's simulated workload — the same ContainerLifecycle and
 * WorkloadModel the embedded sandbox runs — serving the pod's HTTP (/metrics, the shop's API) on the pod's
 * IP, so the API server's proxies and Prometheus reach it (as an application serves them: no namespace, pod or
 * deployment label; kubernetes_sd's relabeling adds namespace, pod, container and node). It reports pod status as a kubelet does (Running,
 * Ready/ContainersReady, podIP, restartCount, lastState terminated Error/OOMKilled, waiting CrashLoopBackOff
 * with back-off) with the kubelet's events, serves each node's kubelet port (HTTPS :10250: container logs,
 * /metrics/cadvisor), and a pod with a deletionTimestamp is stopped and deleted with grace 0, as a kubelet
 * does once its containers stopped, so drains and rollouts finish.
 *
 * Faults: the agent serves the sandbox fault API (the FaultBook of the embedded sandbox, reading the
 * cluster from its informers and writing through the API server) and publishes its URL in ConfigMap
 * kube-public/vigil-sandbox, where `vigil chaos` finds it. node-failure stops that node's heartbeats and
 * Lease, so the real node lifecycle controller marks it Unknown, taints and evicts.
 *
 * It uses whatever credentials the kubeconfig has (the tier's admin), not per-node `system:node:<name>`
 * identities, so NodeRestriction does not apply to it. Pod addresses must be local to the network namespace
 * it runs in (the tier adds `ip route add local 10.244.0.0/16 dev lo`).
 */
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { toClusterError } from '../../infra/kubernetes/clusterActions';
import { ResilientInformer } from '../../infra/kubernetes/informers';
import { connectKube, type KubeConnection } from '../../infra/kubernetes/kubeClient';
import { FAULT_API_CONFIGMAP } from '../discovery';
import type { KubeObject } from '../store';
import { ContainerLifecycle, DEFAULT_KUBELET_OPTIONS, PodRuntime, type KubeletOptions } from '../sim/containerLifecycle';
import { FaultBook, faultPodView, faultShows, revisionImages, type FaultCluster, type PodSet } from '../sim/faults';
import type { MetricShape } from '../sim/metrics';
import { parseQuantity, type ConfigMap, type Deployment } from '../sim/objects';
import { WorkloadModel } from '../sim/workloadModel';
import { ApiEventSink } from './apiEvents';
import { KUBELET_PORT, selfSignedCertificate, startKubeletServer, type KubeletServer } from './kubeletServer';
import { PodProcesses, type RunImage } from './podProcesses';
import { PodAddresses } from './podAddresses';
import { PodServer } from './podServer';

export interface NodeAgentOptions {
  readonly kubeconfig: string;
  /** How many nodes to run, named `${namePrefix}1` … (default 3: node-1, node-2, node-3). */
  readonly nodes?: number;
  readonly namePrefix?: string;
  /** Node i has InternalIP `${addressPrefix}.${i}.1` and pods `${addressPrefix}.${i}.2` … .254. */
  readonly addressPrefix?: string;
  /** How often the Leases are renewed (a kubelet: 10 s; the Lease lasts 40 s). */
  readonly leaseRenewSeconds?: number;
  /** How often the Ready condition's heartbeat is written. */
  readonly statusSeconds?: number;
  /** Seed of the simulated workloads (traffic noise, memory baselines), as `vigil sandbox --seed`. */
  readonly seed?: number;
  /** Length of one simulated day of traffic in real seconds (default 600), as the embedded sandbox. */
  readonly daySeconds?: number;
  /** ms between passes over the pods (container lifecycle, workloads, status); default 500. */
  readonly tickMs?: number;
  /** Container timing: start delay, crash-loop timing and back-off (the embedded sandbox's defaults). */
  readonly kubelet?: Partial<KubeletOptions>;
  /** Port of the fault API on the first node's address (default 0: a free one); its URL goes to ConfigMap kube-public/vigil-sandbox. */
  readonly faultApiPort?: number;
  /** Port of each node's kubelet server (default 10250; 0 turns it off, for tests that run no TLS). */
  readonly kubeletPort?: number;
  /** Pods of these images run COMMAND as a real process instead of the simulated workload (see podProcesses.ts). */
  readonly runImages?: ReadonlyArray<RunImage>;
  /** The shape of the pods' application metrics (default prometheus: http_requests_total, http_request_duration_seconds). */
  readonly applicationMetrics?: MetricShape['application'];
  readonly log?: (line: string) => void;
}

export interface NodeSpec {
  readonly name: string;
  readonly internalIP: string;
}

export interface NodeAgent {
  readonly nodes: ReadonlyArray<NodeSpec>;
  /** URL of the fault API (…/sandbox/v1), as published in ConfigMap kube-public/vigil-sandbox. */
  readonly faultsUrl: string;
  /** Stops heartbeats, the pod watch, the pods' servers and the timers; the Node objects stay, as they do when a kubelet stops. */
  stop(): Promise<void>;
}

const NODE_LEASE_NAMESPACE = 'kube-node-lease';
const LEASE_SECONDS = 40;
const FIELD_MANAGER = 'vigil-node-agent';
const MIB = 1024 * 1024;
const NODE_CPU_CORES = 4;
const NODE_MEMORY = '8Gi';

/** The node addresses the agent uses; whoever starts it puts them on the network namespace's lo. */
export function nodeSpecs(count = 3, namePrefix = 'node-', addressPrefix = '10.244'): NodeSpec[] {
  if (!Number.isInteger(count) || count < 1 || count > 250) throw new Error(`node agent: the node count must be 1 to 250, got ${count}`);
  return Array.from({ length: count }, (_, i) => ({ name: `${namePrefix}${i + 1}`, internalIP: `${addressPrefix}.${i + 1}.1` }));
}

export async function startNodeAgent(options: NodeAgentOptions): Promise<NodeAgent> {
  const conn = await connectKube({ kubeconfig: options.kubeconfig });
  const agent = new RunningNodeAgent(conn, nodeSpecs(options.nodes, options.namePrefix, options.addressPrefix), options);
  try {
    await agent.start();
  } catch (err) {
    await agent.stop();
    throw err;
  }
  return agent;
}

/** One pod bound to one of the agent's nodes. */
interface PodEntry {
  readonly uid: string;
  readonly node: string;
  readonly rt: PodRuntime;
  readonly server: PodServer;
  pod: k8s.V1Pod;
  /** Status key of our last successful write, and the pod version it produced. */
  reportedKey: string;
  reportedRv?: string;
  writing: boolean;
  deleting: boolean;
}

type NodeEntry = NodeSpec & { readonly addresses: PodAddresses };

/** An object as the informers cache it: plain JSON from the API server. */
type Cached = k8s.KubernetesObject & { spec?: unknown; data?: Record<string, string> };

/** The slice of a pod the event recorder names as the involved object. */
function involved(pod: k8s.V1Pod): KubeObject {
  const m = pod.metadata!;
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: m.name!, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion } };
}

class RunningNodeAgent implements NodeAgent {
  private readonly core: k8s.CoreV1Api;
  private readonly coordination: k8s.CoordinationV1Api;
  private readonly byName: Map<string, NodeEntry>;
  private readonly pods = new Map<string, PodEntry>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly informers: { pods?: ResilientInformer<k8s.V1Pod>; deployments?: ResilientInformer<Cached>; replicasets?: ResilientInformer<Cached>; statefulsets?: ResilientInformer<Cached>; daemonsets?: ResilientInformer<Cached>; controllerrevisions?: ResilientInformer<Cached>; configmaps?: ResilientInformer<Cached> } = {};
  private readonly kubeletServers: KubeletServer[] = [];
  private faultServer: http.Server | undefined;
  private stopped = false;
  private ticking = false;
  private readonly log: (line: string) => void;
  private readonly now = () => Date.now();
  private readonly events: ApiEventSink;
  private readonly lifecycle: ContainerLifecycle;
  private readonly workloads: WorkloadModel;
  private readonly faults: FaultBook;
  private readonly processes: PodProcesses;
  private readonly admitting = new Set<string>();
  /** Cluster writes faults made (a release, a flag) that the fault API waits for before it answers. */
  private pendingFaultWrites: Array<Promise<void>> = [];
  private downNodes = new Set<string>();
  faultsUrl = '';

  constructor(
    private readonly conn: KubeConnection,
    readonly nodes: ReadonlyArray<NodeSpec>,
    private readonly options: NodeAgentOptions,
  ) {
    this.core = conn.kubeConfig.makeApiClient(conn.lib.CoreV1Api);
    this.coordination = conn.kubeConfig.makeApiClient(conn.lib.CoordinationV1Api);
    this.log = options.log ?? (() => {});
    // .1 is the node; its pods get .2 onwards, as host-local IPAM hands them out
    this.byName = new Map(nodes.map((n) => [n.name, { ...n, addresses: new PodAddresses(n.internalIP.replace(/\.\d+$/, '.')) }]));
    this.events = new ApiEventSink(conn, (p) => this.track(p), this.now);
    const seed = options.seed ?? 1;
    this.faults = new FaultBook({
      cluster: this.faultCluster(),
      now: this.now,
      pods: () => [...this.runtimes()].map(faultPodView),
      serviceErrorShare: (key) => this.workloads.errorShare(key),
    });
    this.processes = new PodProcesses(options.runImages ?? [], conn, mkdtempSync(path.join(os.tmpdir(), 'vigil-node-agent-')), this.log);
    this.lifecycle = new ContainerLifecycle(this.events, { ...DEFAULT_KUBELET_OPTIONS, ...options.kubelet }, (uid, at) => this.faults.crashing(uid, at), this.processes);
    this.workloads = new WorkloadModel(
      {
        now: this.now,
        runtimes: () => this.simulated(),
        deployments: () => (this.informers.deployments?.list() ?? []) as unknown as Deployment[],
        effects: (pod, profile, atMs, withDependencies) => this.faults.effectsFor(pod, profile, atMs, withDependencies),
      },
      { seed, daySeconds: options.daySeconds ?? 600, metricShape: { application: options.applicationMetrics ?? 'prometheus', deploymentLabel: false } },
    );
  }

  /** Pods whose containers the agent runs and that still count (not terminating). */
  private *runtimes(): Iterable<PodRuntime> {
    for (const e of this.pods.values()) if (!e.pod.metadata?.deletionTimestamp) yield e.rt;
  }

  /** Of those, the ones the workload model runs (not real processes). */
  private *simulated(): Iterable<PodRuntime> {
    for (const rt of this.runtimes()) if (!this.processes.runs(rt)) yield rt;
  }

  async start(): Promise<void> {
    for (const n of this.nodes) await this.register(n);
    await Promise.all(this.nodes.map((n) => this.renewLease(n.name)));
    const every = (ms: number, fn: () => Promise<void> | void) => {
      const t = setInterval(() => {
        if (!this.stopped) this.track(Promise.resolve().then(fn));
      }, ms);
      this.timers.push(t);
    };
    // a failed node's kubelet is silent: no Lease, no heartbeat, so the node lifecycle controller acts
    every((this.options.leaseRenewSeconds ?? 10) * 1000, async () => {
      await Promise.all(this.nodes.filter((n) => !this.downNodes.has(n.name)).map((n) => this.renewLease(n.name)));
    });
    every((this.options.statusSeconds ?? 10) * 1000, async () => {
      await Promise.all(this.nodes.filter((n) => !this.downNodes.has(n.name)).map((n) => this.heartbeat(n.name)));
    });
    const watch = <T extends k8s.KubernetesObject>(path: string, onChange?: (current: T | undefined) => void) => {
      const inf = new ResilientInformer<T>(this.conn, { path }, {
        onChange: (_previous, current) => onChange?.(current),
        onState: (state, detail) => {
          if (state === 'failing') this.log(`watch ${path}: ${detail}`);
        },
      });
      inf.start();
      return inf;
    };
    this.informers.deployments = watch<Cached>('/apis/apps/v1/deployments');
    this.informers.replicasets = watch<Cached>('/apis/apps/v1/replicasets');
    // a release fault on a StatefulSet or DaemonSet
    this.informers.statefulsets = watch<Cached>('/apis/apps/v1/statefulsets');
    this.informers.daemonsets = watch<Cached>('/apis/apps/v1/daemonsets');
    this.informers.controllerrevisions = watch<Cached>('/apis/apps/v1/controllerrevisions');
    this.informers.configmaps = watch<Cached>('/api/v1/configmaps');
    this.informers.pods = watch<k8s.V1Pod>('/api/v1/pods', (current) => {
      if (current) this.track(this.admit(current));
    });
    if (this.options.kubeletPort !== 0) {
      const tls = selfSignedCertificate(this.nodes.map((n) => n.internalIP));
      for (const n of this.nodes) this.kubeletServers.push(await startKubeletServer(n.internalIP, tls, this.kubeletHost(n.name), this.options.kubeletPort ?? KUBELET_PORT));
    }
    await this.startFaultApi();
    // level-triggered: a write that failed (a conflict, the API server busy) is retried on the next pass
    every(this.options.tickMs ?? 500, () => this.tick());
    this.log(`node agent: ${this.nodes.map((n) => `${n.name} (${n.internalIP})`).join(', ')} registered; fault API ${this.faultsUrl}`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    for (const inf of Object.values(this.informers)) inf?.stop();
    await Promise.allSettled([...this.inFlight]);
    await Promise.allSettled([...this.pods.values()].map((e) => e.server.close()));
    await Promise.allSettled(this.kubeletServers.map((s) => s.close()));
    await this.processes.stopAll();
    if (this.faultServer) {
      const s = this.faultServer;
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
      // the URL leads nowhere now; a later `vigil chaos` should say so rather than time out
      await this.conn.request('DELETE', `/api/v1/namespaces/${FAULT_API_CONFIGMAP.namespace}/configmaps/${FAULT_API_CONFIGMAP.name}`).catch(() => undefined);
    }
  }

  private track(p: Promise<unknown>): void {
    const guarded = p.catch((err: unknown) => {
      if (!this.stopped) this.log(`node agent: ${(err as Error).message}`);
    });
    this.inFlight.add(guarded);
    void guarded.finally(() => this.inFlight.delete(guarded));
  }

  private patch(strategy: string) {
    return this.conn.lib.setHeaderOptions('Content-Type', strategy);
  }

  // ---- nodes ------------------------------------------------------------------------------------

  private nodeConditions(now: Date): k8s.V1NodeCondition[] {
    const c = (type: string, status: string, reason: string, message: string): k8s.V1NodeCondition => ({ type, status, reason, message, lastHeartbeatTime: now, lastTransitionTime: now });
    return [
      c('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
      c('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
      c('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
      c('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status (vigil node agent)'),
    ];
  }

  private async register(n: NodeSpec): Promise<void> {
    const resources = { cpu: String(NODE_CPU_CORES), memory: NODE_MEMORY, pods: '110', 'ephemeral-storage': '50Gi' };
    const labels = { 'kubernetes.io/hostname': n.name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', 'vigil.dev/node-agent': 'true' };
    try {
      await this.core.createNode({ body: { apiVersion: 'v1', kind: 'Node', metadata: { name: n.name, labels } } });
    } catch (err) {
      const e = toClusterError(err, `register node ${n.name}`);
      if (e.status !== 409) throw e;
    }
    const now = new Date();
    const status = {
      capacity: resources,
      allocatable: resources,
      addresses: [{ type: 'InternalIP', address: n.internalIP }, { type: 'Hostname', address: n.name }],
      conditions: this.nodeConditions(now),
      daemonEndpoints: { kubeletEndpoint: { Port: this.options.kubeletPort || KUBELET_PORT } },
      nodeInfo: {
        architecture: 'amd64', operatingSystem: 'linux', osImage: 'Vigil node agent', kernelVersion: '', bootID: '', machineID: '', systemUUID: '',
        containerRuntimeVersion: 'vigil://0.1.0', kubeletVersion: 'vigil-node-agent', kubeProxyVersion: '',
      },
    };
    try {
      await this.core.patchNodeStatus({ name: n.name, body: { status }, fieldManager: FIELD_MANAGER }, this.patch(this.conn.lib.PatchStrategy.StrategicMergePatch));
    } catch (err) {
      throw toClusterError(err, `write the status of node ${n.name}`);
    }
  }

  private async heartbeat(node: string): Promise<void> {
    try {
      await this.core.patchNodeStatus({ name: node, body: { status: { conditions: this.nodeConditions(new Date()) } }, fieldManager: FIELD_MANAGER }, this.patch(this.conn.lib.PatchStrategy.StrategicMergePatch));
    } catch (err) {
      throw toClusterError(err, `heartbeat of node ${node}`);
    }
  }

  private async renewLease(node: string): Promise<void> {
    const now = new this.conn.lib.V1MicroTime(Date.now());
    try {
      await this.coordination.patchNamespacedLease(
        { name: node, namespace: NODE_LEASE_NAMESPACE, body: { spec: { holderIdentity: node, leaseDurationSeconds: LEASE_SECONDS, renewTime: now.toISOString() } }, fieldManager: FIELD_MANAGER },
        this.patch(this.conn.lib.PatchStrategy.MergePatch),
      );
    } catch (err) {
      const e = toClusterError(err, `renew the Lease of node ${node}`);
      if (e.status !== 404) throw e;
      await this.coordination.createNamespacedLease({
        namespace: NODE_LEASE_NAMESPACE,
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: node, namespace: NODE_LEASE_NAMESPACE, ownerReferences: await this.nodeOwner(node) },
          spec: { holderIdentity: node, leaseDurationSeconds: LEASE_SECONDS, renewTime: now },
        },
      });
    }
  }

  /** A kubelet's Lease is owned by its Node, so deleting the Node deletes the Lease. */
  private async nodeOwner(node: string): Promise<k8s.V1OwnerReference[] | undefined> {
    const n = await this.core.readNode({ name: node });
    return n.metadata?.uid ? [{ apiVersion: 'v1', kind: 'Node', name: node, uid: n.metadata.uid }] : undefined;
  }

  // ---- pods -------------------------------------------------------------------------------------

  /** A pod bound to one of our nodes gets a runtime (its container, its address, its server) the first time it is seen. */
  private async admit(pod: k8s.V1Pod): Promise<void> {
    if (this.stopped) return;
    const node = pod.spec?.nodeName;
    const spec = node ? this.byName.get(node) : undefined;
    const uid = pod.metadata?.uid;
    if (!spec || !uid || !pod.metadata?.name || !pod.metadata.namespace) return;
    const known = this.pods.get(uid);
    if (known) {
      known.pod = pod;
      return;
    }
    if (this.admitting.has(uid) || pod.metadata.deletionTimestamp) return;
    const c = pod.spec?.containers?.[0];
    const command = this.processes.commandFor(c?.image ?? '');
    if (command) {
      this.admitting.add(uid);
      try {
        await this.processes.prepare(pod, command);
      } finally {
        this.admitting.delete(uid);
      }
      if (this.stopped || this.pods.has(uid)) return;
    }
    const ip = spec.addresses.allocate(pod.status?.podIP);
    const rt = new PodRuntime(
      uid,
      pod.metadata.namespace,
      pod.metadata.name,
      this.deploymentOf(pod),
      c?.image ?? 'unknown',
      c?.name ?? 'app',
      parseQuantity(c?.resources?.limits?.memory, 256 * MIB),
      parseQuantity(c?.resources?.limits?.cpu, 0.5),
      Date.parse(String(pod.metadata.creationTimestamp ?? '')) || this.now(),
      this.options.seed ?? 1,
    );
    rt.node = spec.name;
    rt.scheduledMs = this.now();
    rt.hostIP = spec.internalIP;
    rt.podIP = ip;
    const server = new PodServer(ip, { metrics: () => this.workloads.podTargetMetrics(rt), serve: (req) => this.workloads.serve(rt, req) }, this.log, c?.ports?.[0]?.containerPort ?? undefined);
    this.pods.set(uid, { uid, node: spec.name, rt, server, pod, reportedKey: '', writing: false, deleting: false });
  }

  /** The Deployment that owns the pod through its ReplicaSet (the app label or the pod's name otherwise). */
  private deploymentOf(pod: k8s.V1Pod): string {
    const owner = pod.metadata?.ownerReferences?.find((o) => o.controller);
    if (owner?.kind === 'ReplicaSet') {
      const rs = this.informers.replicasets?.list().find((r) => r.metadata?.namespace === pod.metadata?.namespace && r.metadata?.name === owner.name);
      const d = rs?.metadata?.ownerReferences?.find((o) => o.controller);
      if (d?.kind === 'Deployment') return d.name;
      const hash = pod.metadata?.labels?.['pod-template-hash'];
      return hash && owner.name.endsWith(`-${hash}`) ? owner.name.slice(0, -hash.length - 1) : owner.name;
    }
    return pod.metadata?.labels?.app ?? pod.metadata?.name ?? '';
  }

  private release(e: PodEntry): void {
    this.byName.get(e.node)?.addresses.release(e.rt.podIP);
  }

  /** One pass: containers, workloads and faults move to now; servers follow the containers; changed statuses are written. */
  private tick(): void {
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    try {
      const now = this.now();
      const live = new Map((this.informers.pods?.list() ?? []).map((p) => [p.metadata?.uid, p]));
      for (const [uid, e] of this.pods) {
        const current = live.get(uid);
        if (current) e.pod = current;
        else this.forget(e);
      }
      // level-triggered admission too: a pod whose first admission failed (its token, say) is tried again
      for (const [uid, p] of live) if (uid && !this.pods.has(uid) && p.spec?.nodeName && this.byName.has(p.spec.nodeName)) this.track(this.admit(p));
      this.faults.refreshFlags();
      this.downNodes = this.faults.failedNodes(now);
      for (const e of this.pods.values()) {
        e.rt.nodeDown = this.downNodes.has(e.node);
        if (e.pod.metadata?.deletionTimestamp) continue;
        this.lifecycle.advance(involved(e.pod), e.rt, now);
      }
      this.workloads.tick();
      this.faults.update(now, (f) => faultShows(f, this.runtimes()));
      for (const e of this.pods.values()) {
        if (e.pod.metadata?.deletionTimestamp) {
          e.server.set(false);
          // a failed node's kubelet cannot act: its terminating pods wait for it, as real ones do
          if (!e.rt.nodeDown) this.track(this.deletePod(e));
          continue;
        }
        e.server.set(e.rt.running && !e.rt.nodeDown && !this.processes.runs(e.rt));
        if (!e.rt.nodeDown) this.track(this.report(e, now));
      }
    } finally {
      this.ticking = false;
    }
  }

  /** Pods the informer no longer has are gone from the cluster: their containers stop and their addresses are free again. */
  private forget(e: PodEntry): void {
    void e.server.close();
    this.track(this.processes.stop(e.uid));
    e.rt.service.listeners.clear();
    this.events.forget(e.uid);
    this.release(e);
    this.pods.delete(e.uid);
  }

  private async report(e: PodEntry, now: number): Promise<void> {
    const key = `${this.lifecycle.statusKey(e.rt, now)}/${e.rt.podIP}`;
    if (e.writing || (key === e.reportedKey && (e.reportedRv === undefined || e.reportedRv === e.pod.metadata?.resourceVersion || statusHolds(e)))) return;
    e.writing = true;
    const name = e.pod.metadata!.name!;
    const namespace = e.pod.metadata!.namespace!;
    // the API server computes qosClass at creation and refuses a change to it
    const { qosClass: _qos, ...status } = this.lifecycle.podStatus(e.rt, now);
    try {
      const out = await this.core.patchNamespacedPodStatus(
        { name, namespace, body: { metadata: { uid: e.uid }, status }, fieldManager: FIELD_MANAGER },
        this.patch(this.conn.lib.PatchStrategy.StrategicMergePatch),
      );
      e.reportedKey = key;
      e.reportedRv = out.metadata?.resourceVersion;
    } catch (err) {
      e.reportedKey = '';
      const ce = toClusterError(err, `report the status of pod ${namespace}/${name}`);
      // deleted or replaced meanwhile: the watch brings what happened
      if (ce.status === 404 || ce.status === 409) return;
      throw ce;
    } finally {
      e.writing = false;
    }
  }

  private async deletePod(e: PodEntry): Promise<void> {
    if (e.deleting) return;
    e.deleting = true;
    const name = e.pod.metadata!.name!;
    const namespace = e.pod.metadata!.namespace!;
    if (e.rt.running) this.events.record(involved(e.pod), 'Normal', 'Killing', `Stopping container ${e.rt.containerName}`, { component: 'kubelet', host: e.node }, `spec.containers{${e.rt.containerName}}`);
    await this.processes.stop(e.uid);
    try {
      // the containers "stop" at once; grace 0 with the uid as precondition removes exactly this pod
      await this.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0, body: { gracePeriodSeconds: 0, preconditions: { uid: e.uid } } });
    } catch (err) {
      const ce = toClusterError(err, `delete pod ${namespace}/${name}`);
      if (ce.status !== 404 && ce.status !== 409) {
        e.deleting = false;
        throw ce;
      }
    }
  }

  // ---- kubelet port -----------------------------------------------------------------------------

  private kubeletHost(node: string) {
    const onNode = () => [...this.pods.values()].filter((e) => e.node === node && !e.pod.metadata?.deletionTimestamp);
    return {
      now: this.now,
      down: () => this.downNodes.has(node),
      machine: { cores: NODE_CPU_CORES, memoryBytes: parseQuantity(NODE_MEMORY, 0) },
      pod: (namespace: string, name: string) => {
        const e = [...this.pods.values()].find((x) => x.node === node && x.rt.namespace === namespace && x.rt.name === name);
        return e ? { rt: e.rt, containers: (e.pod.spec?.containers ?? []).map((c) => c.name) } : undefined;
      },
      // a real process's usage is not measured: only simulated pods have cAdvisor series
      runtimes: () => onNode().filter((e) => !this.processes.runs(e.rt)).map((e) => e.rt),
      // a real process's log is what it wrote; only the model writes a simulated service's lines
      logs: (rt: PodRuntime, opts: { tailLines?: number; follow?: boolean; previous?: boolean }, onLine: (line: string) => void) =>
        this.processes.runs(rt) ? rt.service.readLogs(opts, onLine) : this.workloads.podLogs(rt, opts, onLine),
    };
  }

  // ---- faults -----------------------------------------------------------------------------------

  private faultCluster(): FaultCluster {
    const objects = (inf: ResilientInformer<Cached> | undefined, ns: string) => (inf?.list() ?? []).filter((o) => o.metadata?.namespace === ns);
    const write = (what: string, p: Promise<{ status: number; body: string }>) => {
      const done = p.then((r) => {
        if (r.status >= 300) throw new Error(`${what}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
      });
      this.pendingFaultWrites.push(done);
      this.track(done);
    };
    return {
      nodeNames: () => this.nodes.map((n) => n.name),
      deployment: (ns, name) => objects(this.informers.deployments, ns).find((d) => d.metadata?.name === name) as unknown as Deployment | undefined,
      deploymentNames: (ns) => objects(this.informers.deployments, ns).map((d) => d.metadata?.name ?? ''),
      podUid: (ns, name) => (this.informers.pods?.list() ?? []).find((p) => p.metadata?.namespace === ns && p.metadata.name === name)?.metadata?.uid,
      podSet: (ns, name) => {
        const sts = objects(this.informers.statefulsets, ns).find((o) => o.metadata?.name === name);
        if (sts) return { ...(sts as unknown as PodSet), kind: 'StatefulSet' };
        const ds = objects(this.informers.daemonsets, ns).find((o) => o.metadata?.name === name);
        return ds ? { ...(ds as unknown as PodSet), kind: 'DaemonSet' } : undefined;
      },
      templateImages: (ns) => [
        ...objects(this.informers.replicasets, ns).flatMap((rs) => ((rs.spec as Deployment['spec']).template?.spec.containers ?? []).map((c) => c.image)),
        ...objects(this.informers.controllerrevisions, ns).flatMap((cr) => revisionImages(cr as unknown as KubeObject)),
      ],
      configMap: (ns, name) => objects(this.informers.configmaps, ns).find((c) => c.metadata?.name === name) as unknown as ConfigMap | undefined,
      setImage: (ns, name, image, changeCause, kind) => {
        const resource = kind === 'StatefulSet' ? 'statefulsets' : kind === 'DaemonSet' ? 'daemonsets' : 'deployments';
        const d = objects(this.informers[resource], ns).find((x) => x.metadata?.name === name) as unknown as Deployment | undefined;
        const container = d?.spec.template.spec.containers[0]?.name;
        const body = { metadata: { annotations: { 'kubernetes.io/change-cause': changeCause } }, spec: { template: { spec: { containers: [{ name: container, image }] } } } };
        write(`set the image of ${resource.slice(0, -1)} ${ns}/${name}`, this.conn.request('PATCH', `/apis/apps/v1/namespaces/${ns}/${resource}/${name}?fieldManager=${FIELD_MANAGER}`, { body: JSON.stringify(body), contentType: 'application/strategic-merge-patch+json' }));
      },
      setConfigMapKey: (ns, name, key, value) => {
        write(`set ${key} in configmap ${ns}/${name}`, this.conn.request('PATCH', `/api/v1/namespaces/${ns}/configmaps/${name}?fieldManager=${FIELD_MANAGER}`, { body: JSON.stringify({ data: { [key]: value ?? null } }), contentType: 'application/merge-patch+json' }));
      },
    };
  }

  /** The sandbox fault API (/sandbox/v1) on the first node's address; its URL goes to ConfigMap kube-public/vigil-sandbox. */
  private async startFaultApi(): Promise<void> {
    const address = this.nodes[0].internalIP;
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => void this.serveFault(req.method ?? 'GET', req.url ?? '/', Buffer.concat(chunks).toString('utf8')).then((r) => res.writeHead(r.status, { 'Content-Type': 'application/json' }).end(JSON.stringify(r.body))));
    });
    this.faultServer = server;
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(new Error(`node agent: the fault API cannot listen on ${address}:${this.options.faultApiPort ?? 0} (${err.code ?? err.message}); pick another port or free it`)));
      server.listen(this.options.faultApiPort ?? 0, address, () => resolve((server.address() as AddressInfo).port));
    });
    this.faultsUrl = `http://${address}:${port}/sandbox/v1`;
    const { namespace, name, key } = FAULT_API_CONFIGMAP;
    const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': FIELD_MANAGER } }, data: { [key]: this.faultsUrl } };
    const r = await this.conn.request('PUT', `/api/v1/namespaces/${namespace}/configmaps/${name}`, { body: JSON.stringify(body) });
    if (r.status === 404) {
      const c = await this.conn.request('POST', `/api/v1/namespaces/${namespace}/configmaps`, { body: JSON.stringify(body) });
      if (c.status >= 300) throw new Error(`node agent: cannot publish the fault API in configmap ${namespace}/${name}: HTTP ${c.status} ${c.body.slice(0, 300)}`);
    } else if (r.status >= 300) {
      throw new Error(`node agent: cannot publish the fault API in configmap ${namespace}/${name}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
    }
  }

  private async serveFault(method: string, url: string, text: string): Promise<{ status: number; body: unknown }> {
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      return { status: 400, body: { message: 'body must be JSON: {"fault": "crash-loop", "target": "shop/checkout", "durationSeconds": 120}' } };
    }
    this.pendingFaultWrites = [];
    const result = this.faults.handle(method, url, body);
    // a release or a flag is the cluster write itself: answer once the API server took it, or say why not
    const writes = await Promise.allSettled(this.pendingFaultWrites);
    const failed = writes.find((w): w is PromiseRejectedResult => w.status === 'rejected');
    if (failed && result.status < 300) return { status: 502, body: { message: `fault recorded, but its cluster write failed: ${(failed.reason as Error).message}` } };
    if (method !== 'GET' && result.status < 300) this.tick();
    return result;
  }
}

/** The pod still shows what we last wrote (an unrelated write, e.g. a label, changed its version). */
function statusHolds(e: PodEntry): boolean {
  const s = e.pod.status;
  const c = s?.containerStatuses?.[0];
  return s?.podIP === e.rt.podIP && c?.restartCount === e.rt.restartCount && c?.ready === e.rt.ready && (c?.state?.running !== undefined) === e.rt.running;
}
