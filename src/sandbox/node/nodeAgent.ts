/**
 * A minimal node agent for a real control plane: it plays the kubelets of N nodes. It registers the
 * nodes, renews their Leases (kube-node-lease) and their Ready condition, and for every pod the real
 * scheduler binds to one of them reports what a kubelet reports once the containers run: phase Running,
 * the Ready/ContainersReady conditions, a podIP from the node's range and ready containerStatuses; it
 * records Pulled and Started events. A pod with a deletionTimestamp is deleted with grace 0, as a kubelet
 * does once its containers stopped, so drains and rollouts finish.
 *
 * Nothing runs: there is no simulated workload behind a pod yet (no metrics, logs, probes, restarts,
 * crash loops or OOM kills), and it serves no kubelet port (10250). Those come with the simulation as
 * the nodes (issue 13). It uses whatever credentials the kubeconfig has (the tier's admin), not per-node
 * `system:node:<name>` identities, so NodeRestriction does not apply to it.
 */
import type * as k8s from '@kubernetes/client-node';
import { toClusterError } from '../../infra/kubernetes/clusterActions';
import { ResilientInformer } from '../../infra/kubernetes/informers';
import { connectKube, type KubeConnection } from '../../infra/kubernetes/kubeClient';

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
  readonly log?: (line: string) => void;
}

export interface NodeSpec {
  readonly name: string;
  readonly internalIP: string;
}

export interface NodeAgent {
  readonly nodes: ReadonlyArray<NodeSpec>;
  /** Stops heartbeats, the pod watch and the timers; the Node objects stay, as they do when a kubelet stops. */
  stop(): Promise<void>;
}

const NODE_LEASE_NAMESPACE = 'kube-node-lease';
const LEASE_SECONDS = 40;
const FIELD_MANAGER = 'vigil-node-agent';
const RECONCILE_MS = 1000;

/** The node addresses the agent uses; whoever starts it puts them on the network namespace's lo. */
export function nodeSpecs(count = 3, namePrefix = 'node-', addressPrefix = '10.244'): NodeSpec[] {
  if (!Number.isInteger(count) || count < 1 || count > 250) throw new Error(`node agent: the node count must be 1 to 250, got ${count}`);
  return Array.from({ length: count }, (_, i) => ({ name: `${namePrefix}${i + 1}`, internalIP: `${addressPrefix}.${i + 1}.1` }));
}

export async function startNodeAgent(options: NodeAgentOptions): Promise<NodeAgent> {
  const conn = await connectKube({ kubeconfig: options.kubeconfig });
  const agent = new RunningNodeAgent(conn, nodeSpecs(options.nodes, options.namePrefix, options.addressPrefix), options);
  await agent.start();
  return agent;
}

interface PodState {
  readonly uid: string;
  readonly node: string;
  readonly ip: string;
  /** resourceVersion our last status write produced, so an unchanged pod is not written again. */
  reportedRv?: string;
  writing: boolean;
  deleting: boolean;
  eventsRecorded: boolean;
}

class RunningNodeAgent implements NodeAgent {
  private readonly core: k8s.CoreV1Api;
  private readonly coordination: k8s.CoordinationV1Api;
  private readonly byName: Map<string, NodeSpec & { readonly freeIPs: number[] }>;
  private readonly pods = new Map<string, PodState>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  private informer: ResilientInformer<k8s.V1Pod> | undefined;
  private stopped = false;
  private readonly log: (line: string) => void;

  constructor(
    private readonly conn: KubeConnection,
    readonly nodes: ReadonlyArray<NodeSpec>,
    private readonly options: NodeAgentOptions,
  ) {
    this.core = conn.kubeConfig.makeApiClient(conn.lib.CoreV1Api);
    this.coordination = conn.kubeConfig.makeApiClient(conn.lib.CoordinationV1Api);
    this.log = options.log ?? (() => {});
    // .1 is the node; the lowest free address goes first, so a small cluster reads easily
    this.byName = new Map(nodes.map((n) => [n.name, { ...n, freeIPs: Array.from({ length: 253 }, (_, k) => k + 2) }]));
  }

  async start(): Promise<void> {
    for (const n of this.nodes) await this.register(n);
    await Promise.all(this.nodes.map((n) => this.renewLease(n.name)));
    const every = (ms: number, fn: () => Promise<void>) => {
      const t = setInterval(() => {
        if (!this.stopped) this.track(fn());
      }, ms);
      this.timers.push(t);
    };
    every((this.options.leaseRenewSeconds ?? 10) * 1000, async () => {
      await Promise.all(this.nodes.map((n) => this.renewLease(n.name)));
    });
    every((this.options.statusSeconds ?? 10) * 1000, async () => {
      await Promise.all(this.nodes.map((n) => this.heartbeat(n.name)));
    });
    this.informer = new ResilientInformer<k8s.V1Pod>(this.conn, { path: '/api/v1/pods' }, {
      onChange: (_previous, current) => {
        if (current) this.track(this.reconcile(current));
      },
      onState: (state, detail) => {
        if (state === 'failing') this.log(`pod watch: ${detail}`);
      },
    });
    this.informer.start();
    // level-triggered: a write that failed (a conflict, the API server busy) is retried on the next pass
    every(RECONCILE_MS, async () => {
      for (const pod of this.informer?.list() ?? []) await this.reconcile(pod);
      this.forgetGone();
    });
    this.log(`node agent: ${this.nodes.map((n) => `${n.name} (${n.internalIP})`).join(', ')} registered`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.informer?.stop();
    await Promise.allSettled([...this.inFlight]);
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
    const resources = { cpu: '4', memory: '8Gi', pods: '110', 'ephemeral-storage': '50Gi' };
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
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
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

  private async reconcile(pod: k8s.V1Pod): Promise<void> {
    if (this.stopped) return;
    const node = pod.spec?.nodeName;
    const spec = node ? this.byName.get(node) : undefined;
    const uid = pod.metadata?.uid;
    if (!spec || !uid || !pod.metadata?.name || !pod.metadata.namespace) return;
    let state = this.pods.get(uid);
    if (!state) {
      const ip = this.allocate(spec, pod.status?.podIP);
      state = { uid, node: spec.name, ip, writing: false, deleting: false, eventsRecorded: false };
      this.pods.set(uid, state);
    }
    if (pod.metadata.deletionTimestamp) {
      await this.deletePod(pod, state);
      return;
    }
    if (state.writing || isReported(pod, state)) return;
    state.writing = true;
    try {
      await this.reportRunning(pod, state, spec);
    } finally {
      state.writing = false;
    }
  }

  /** The pod's address: the one it already has (an agent restarted) when it is in the node's range, else the lowest free. */
  private allocate(spec: NodeSpec & { readonly freeIPs: number[] }, existing: string | undefined): string {
    const prefix = spec.internalIP.replace(/\.\d+$/, '.');
    const had = existing?.startsWith(prefix) ? spec.freeIPs.indexOf(Number(existing.slice(prefix.length))) : -1;
    if (had >= 0) {
      spec.freeIPs.splice(had, 1);
      return existing!;
    }
    const host = spec.freeIPs.shift();
    if (host === undefined) throw new Error(`node ${spec.name} has no free pod address`);
    return `${spec.internalIP.replace(/\.\d+$/, '')}.${host}`;
  }

  private release(state: PodState): void {
    const spec = this.byName.get(state.node);
    const host = Number(state.ip.split('.').at(-1));
    if (spec && state.ip.startsWith(spec.internalIP.replace(/\.\d+$/, '.')) && !spec.freeIPs.includes(host)) {
      spec.freeIPs.push(host);
      spec.freeIPs.sort((a, b) => a - b);
    }
  }

  /** Pods the informer no longer has are gone from the cluster: their addresses are free again. */
  private forgetGone(): void {
    const live = new Set((this.informer?.list() ?? []).map((p) => p.metadata?.uid));
    for (const [uid, state] of this.pods) {
      if (!live.has(uid)) {
        this.release(state);
        this.pods.delete(uid);
      }
    }
  }

  private async reportRunning(pod: k8s.V1Pod, state: PodState, spec: NodeSpec): Promise<void> {
    const name = pod.metadata!.name!;
    const namespace = pod.metadata!.namespace!;
    const started = pod.status?.startTime ?? new Date();
    const now = new Date();
    const cond = (type: string): k8s.V1PodCondition => ({ type, status: 'True', lastTransitionTime: now });
    const containers = pod.spec?.containers ?? [];
    const status: k8s.V1PodStatus = {
      phase: 'Running',
      hostIP: spec.internalIP,
      hostIPs: [{ ip: spec.internalIP }],
      podIP: state.ip,
      podIPs: [{ ip: state.ip }],
      startTime: started,
      conditions: ['PodReadyToStartContainers', 'Initialized', 'ContainersReady', 'Ready', 'PodScheduled'].map(cond),
      containerStatuses: containers.map((c) => ({
        name: c.name,
        image: c.image ?? '',
        imageID: '',
        containerID: `vigil://${state.uid}/${c.name}`,
        ready: true,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: now } },
      })),
    };
    if (!state.eventsRecorded) {
      state.eventsRecorded = true;
      for (const c of containers) {
        await this.event(pod, spec.name, c.name, 'Pulled', `Container image "${c.image}" already present on machine`);
        await this.event(pod, spec.name, c.name, 'Started', `Started container ${c.name}`);
      }
    }
    try {
      const out = await this.core.patchNamespacedPodStatus(
        { name, namespace, body: { metadata: { uid: state.uid }, status }, fieldManager: FIELD_MANAGER },
        this.patch(this.conn.lib.PatchStrategy.StrategicMergePatch),
      );
      state.reportedRv = out.metadata?.resourceVersion;
    } catch (err) {
      const e = toClusterError(err, `report pod ${namespace}/${name} running`);
      // deleted or replaced meanwhile: the watch brings what happened
      if (e.status === 404 || e.status === 409) return;
      throw e;
    }
  }

  private async deletePod(pod: k8s.V1Pod, state: PodState): Promise<void> {
    if (state.deleting) return;
    state.deleting = true;
    const name = pod.metadata!.name!;
    const namespace = pod.metadata!.namespace!;
    try {
      // the containers "stop" at once; grace 0 with the uid as precondition removes exactly this pod
      await this.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0, body: { gracePeriodSeconds: 0, preconditions: { uid: state.uid } } });
    } catch (err) {
      const e = toClusterError(err, `delete pod ${namespace}/${name}`);
      if (e.status !== 404 && e.status !== 409) {
        state.deleting = false;
        throw e;
      }
    }
  }

  private async event(pod: k8s.V1Pod, node: string, container: string, reason: string, message: string): Promise<void> {
    const namespace = pod.metadata!.namespace!;
    const now = new Date();
    try {
      await this.core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { name: `${pod.metadata!.name}.${Date.now().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`, namespace },
          involvedObject: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata!.name, namespace, uid: pod.metadata!.uid, resourceVersion: pod.metadata!.resourceVersion, fieldPath: `spec.containers{${container}}` },
          reason,
          message,
          type: 'Normal',
          source: { component: 'kubelet', host: node },
          reportingComponent: 'kubelet',
          reportingInstance: node,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
    } catch (err) {
      // an event is a courtesy: a refused one never holds up the pod
      this.log(`node agent: ${toClusterError(err, `record event ${reason} for pod ${namespace}/${pod.metadata!.name}`).message}`);
    }
  }
}

/** What we wrote is still what the pod says: Running, Ready, our address, every container reported. */
function isReported(pod: k8s.V1Pod, state: PodState): boolean {
  if (state.reportedRv && pod.metadata?.resourceVersion === state.reportedRv) return true;
  const s = pod.status;
  if (s?.phase !== 'Running' || s.podIP !== state.ip) return false;
  if (!s.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return false;
  const names = new Set((s.containerStatuses ?? []).filter((c) => c.ready).map((c) => c.name));
  return (pod.spec?.containers ?? []).every((c) => names.has(c.name));
}
