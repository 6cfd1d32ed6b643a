/**
 * The scheduler and the kubelets of all nodes: binds pods to nodes with room (spreading a
 * deployment's pods), starts containers after a delay, turns them Ready, and crashes or OOM-kills
 * them as faults say, with the restart back-off, container states and events a real kubelet shows.
 */
import type { ObjectStore } from '../store';
import type { EventRecorder } from './eventRecorder';
import { controllerOf, kubeTime, nodeReady, parseQuantity, type Condition, type ContainerState, type ContainerStatus, type NodeObject, type Pod, type PodStatus } from './objects';
import { fnv32a, hashUnit } from './rng';
import { ServiceState } from './workload';

export interface KubeletOptions {
  /** Scheduling to Ready takes about this long. */
  podStartDelayMs: number;
  /** A crash-looping container dies this long after it starts. */
  crashAfterMs: number;
  /** First CrashLoopBackOff delay (Kubernetes: 10 s; compressed here), doubling up to backoffMaxMs. */
  backoffBaseMs: number;
  backoffMaxMs: number;
}

export const DEFAULT_KUBELET_OPTIONS: KubeletOptions = { podStartDelayMs: 1000, crashAfterMs: 1500, backoffBaseMs: 2000, backoffMaxMs: 20_000 };

const MIB = 1024 * 1024;

interface Terminated {
  reason: 'Error' | 'OOMKilled' | 'Completed';
  exitCode: number;
  startedMs: number;
  finishedMs: number;
  containerId: string;
}

/** What the simulation knows about one pod beyond its stored object. */
export class PodRuntime {
  node?: string;
  hostIP?: string;
  podIP?: string;
  scheduledMs?: number;
  state: 'creating' | 'running' | 'backoff' = 'creating';
  containerStartMs?: number;
  containerId = '';
  restartCount = 0;
  consecutiveCrashes = 0;
  lastTerminated?: Terminated;
  backoffUntilMs = 0;
  nextCrashMs?: number;
  ready = false;
  nodeDown = false;
  /** What the last written status was computed from, and the pod version it was written at. */
  statusKey = '';
  statusRv = '';
  /** Rendered exposition labels, fixed once the pod is bound. */
  labels = '';
  lastUnhealthyMs = 0;
  readonly transitions = new Map<string, { status: string; at: string }>();
  readonly service: ServiceState;

  constructor(
    readonly uid: string,
    readonly namespace: string,
    readonly name: string,
    readonly deployment: string,
    readonly image: string,
    readonly containerName: string,
    readonly memoryLimitBytes: number,
    readonly cpuLimitCores: number,
    readonly createdMs: number,
    seed: number,
  ) {
    const baseline = (80 + 20 * hashUnit(seed, fnv32a(uid), 7)) * MIB;
    this.service = new ServiceState(name, baseline, createdMs, `${namespace}/${name}/${uid}`);
  }

  get running(): boolean {
    return this.state === 'running';
  }
}

function deploymentOf(store: ObjectStore, pod: Pod): string {
  const owner = controllerOf(pod.metadata);
  if (owner?.kind === 'ReplicaSet') {
    const rs = store.get('replicasets', pod.metadata.namespace, owner.name);
    const d = rs && controllerOf(rs.metadata);
    if (d?.kind === 'Deployment') return d.name;
    return owner.name;
  }
  return pod.metadata.labels?.app ?? pod.metadata.name;
}

function nodeSchedulable(n: NodeObject): boolean {
  return nodeReady(n) && !n.spec?.unschedulable && !(n.spec?.taints ?? []).some((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute');
}

export interface KubeletHooks {
  crashing(uid: string, atMs: number): boolean;
  failedNodes(atMs: number): Set<string>;
}

export class Kubelet {
  readonly runtimes = new Map<string, PodRuntime>();
  private ipSeq = new Map<string, number>();

  constructor(
    private readonly store: ObjectStore,
    private readonly recorder: EventRecorder,
    private readonly now: () => number,
    private readonly seed: number,
    private readonly options: KubeletOptions,
    private readonly hooks: KubeletHooks,
  ) {}

  /** Forgets pods that left the store; the kubelet stops their containers. */
  forget(pod: Pod): void {
    const rt = this.runtimes.get(pod.metadata.uid as string);
    if (!rt) return;
    this.runtimes.delete(rt.uid);
    rt.service.listeners.clear();
    if (rt.node && rt.state !== 'creating') {
      this.recorder.record(pod, 'Normal', 'Killing', `Stopping container ${rt.containerName}`, { component: 'kubelet', host: rt.node }, `spec.containers{${rt.containerName}}`);
    }
  }

  sync(pods: ReadonlyArray<Pod>, nodes: ReadonlyArray<NodeObject>): void {
    const now = this.now();
    const failed = this.hooks.failedNodes(now);
    const nodeByName = new Map(nodes.map((n) => [n.metadata.name, n]));
    const load = new Map<string, { pods: number; perDeployment: Map<string, number>; cpu: number }>();
    for (const n of nodes) load.set(n.metadata.name, { pods: 0, perDeployment: new Map(), cpu: 0 });
    for (const p of pods) {
      const l = p.spec.nodeName ? load.get(p.spec.nodeName) : undefined;
      if (!l) continue;
      l.pods++;
      const dep = p.metadata.generateName ?? '';
      l.perDeployment.set(dep, (l.perDeployment.get(dep) ?? 0) + 1);
      l.cpu += cpuRequest(p);
    }
    for (const pod of pods) {
      let rt = this.runtimes.get(pod.metadata.uid as string);
      if (!pod.spec.nodeName) {
        const node = this.schedule(pod, nodes, load);
        if (!node) continue;
        pod.spec.nodeName = node;
      }
      const node = nodeByName.get(pod.spec.nodeName as string);
      if (!rt) {
        const c = pod.spec.containers[0];
        rt = new PodRuntime(
          pod.metadata.uid as string,
          pod.metadata.namespace as string,
          pod.metadata.name,
          deploymentOf(this.store, pod),
          c?.image ?? 'unknown',
          c?.name ?? 'app',
          parseQuantity(c?.resources?.limits?.memory, 256 * MIB),
          parseQuantity(c?.resources?.limits?.cpu, 0.5),
          Date.parse(pod.metadata.creationTimestamp ?? '') || now,
          this.seed,
        );
        rt.node = pod.spec.nodeName;
        rt.scheduledMs = now;
        rt.hostIP = node?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '10.0.0.1';
        rt.podIP = this.allocateIp(node);
        this.runtimes.set(rt.uid, rt);
      }
      rt.nodeDown = failed.has(rt.node as string) || !node;
      if (!rt.nodeDown) this.step(pod, rt, now);
      rt.ready = rt.running && !rt.nodeDown && now >= (rt.containerStartMs ?? Infinity) + this.options.podStartDelayMs / 2;
      this.writeStatus(pod, rt, now);
    }
  }

  private allocateIp(node: NodeObject | undefined): string {
    const cidr = node?.spec?.podCIDR ?? '10.244.0.0/24';
    const base = cidr.split('/')[0].split('.').slice(0, 3).join('.');
    const n = ((this.ipSeq.get(cidr) ?? 1) % 253) + 1;
    this.ipSeq.set(cidr, n);
    return `${base}.${n}`;
  }

  private schedule(pod: Pod, nodes: ReadonlyArray<NodeObject>, load: Map<string, { pods: number; perDeployment: Map<string, number>; cpu: number }>): string | undefined {
    const dep = pod.metadata.generateName ?? '';
    const req = cpuRequest(pod);
    let best: NodeObject | undefined;
    let bestScore = Infinity;
    const reasons = new Map<string, number>();
    for (const n of nodes) {
      const l = load.get(n.metadata.name);
      if (!l) continue;
      let reason: string | undefined;
      if (!nodeReady(n)) reason = "1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }";
      else if (n.spec?.unschedulable) reason = '1 node(s) were unschedulable';
      else if (!nodeSchedulable(n)) reason = '1 node(s) had untolerated taint';
      else if (l.pods >= parseQuantity(n.status?.allocatable?.pods, 110)) reason = 'Too many pods';
      else if (l.cpu + req > parseQuantity(n.status?.allocatable?.cpu, 4)) reason = 'Insufficient cpu';
      if (reason) {
        reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
        continue;
      }
      const score = (l.perDeployment.get(dep) ?? 0) * 1000 + l.pods;
      if (score < bestScore) {
        bestScore = score;
        best = n;
      }
    }
    const ns = pod.metadata.namespace as string;
    if (!best) {
      const why = [...reasons].map(([r, c]) => (r.startsWith('1 node') ? r.replace(/^1/, String(c)) : `${c} ${r}`)).join(', ');
      const message = `0/${nodes.length} nodes are available: ${why || 'no nodes registered'}. preemption: not eligible due to preemptionPolicy=Never.`;
      this.recorder.record(pod, 'Warning', 'FailedScheduling', message, { component: 'default-scheduler' });
      const status: PodStatus = {
        phase: 'Pending',
        qosClass: 'Burstable',
        conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null, lastTransitionTime: pod.status?.conditions?.find((c) => c.type === 'PodScheduled')?.lastTransitionTime ?? kubeTime(this.now()) }],
      };
      if (JSON.stringify(pod.status) !== JSON.stringify(status)) this.store.mutate('pods', ns, pod.metadata.name, (o) => void (o.status = status));
      return undefined;
    }
    const l = load.get(best.metadata.name);
    if (l) {
      l.pods++;
      l.cpu += req;
      l.perDeployment.set(dep, (l.perDeployment.get(dep) ?? 0) + 1);
    }
    const node = best.metadata.name;
    this.store.mutate('pods', ns, pod.metadata.name, (o) => {
      (o as Pod).spec.nodeName = node;
    });
    this.recorder.record(pod, 'Normal', 'Scheduled', `Successfully assigned ${ns}/${pod.metadata.name} to ${node}`, { component: 'default-scheduler' });
    return node;
  }

  private step(pod: Pod, rt: PodRuntime, now: number): void {
    const src = { component: 'kubelet', host: rt.node };
    const field = `spec.containers{${rt.containerName}}`;
    const startContainer = () => {
      rt.state = 'running';
      rt.containerStartMs = now;
      rt.containerId = `containerd://${(fnv32a(`${rt.uid}/${rt.restartCount}`) >>> 0).toString(16).padStart(8, '0')}${(fnv32a(`${rt.restartCount}/${rt.uid}`) >>> 0).toString(16).padStart(8, '0')}`;
      rt.nextCrashMs = undefined;
      this.recorder.record(pod, 'Normal', 'Pulled', `Container image "${rt.image}" already present on machine`, src, field);
      this.recorder.record(pod, 'Normal', 'Created', `Created container: ${rt.containerName}`, src, field);
      this.recorder.record(pod, 'Normal', 'Started', `Started container ${rt.containerName}`, src, field);
      const ts = new Date(now).toISOString();
      rt.service.log(`${ts} INFO  starting ${rt.deployment} version ${rt.image.split(':').pop()} (pid 1)`);
      rt.service.log(`${ts} INFO  listening on 0.0.0.0:8080`);
    };
    if (rt.state === 'creating') {
      if (now >= (rt.scheduledMs ?? now) + this.options.podStartDelayMs / 2) startContainer();
      return;
    }
    if (rt.state === 'backoff') {
      if (now >= rt.backoffUntilMs) {
        rt.service.restartContainer();
        startContainer();
      }
      return;
    }
    const crashing = this.hooks.crashing(rt.uid, now);
    if (crashing) rt.nextCrashMs ??= (rt.containerStartMs ?? now) + this.options.crashAfterMs;
    else rt.nextCrashMs = undefined;
    if (rt.nextCrashMs !== undefined && now >= rt.nextCrashMs) {
      const ts = new Date(now).toISOString();
      rt.service.log(`${ts} ERROR failed to initialise: connect ECONNREFUSED 10.96.0.12:5432 (database pool)`);
      rt.service.log(`${ts} FATAL unhandled error, exiting with code 1`);
      this.terminate(pod, rt, 'Error', 1, now);
    } else if (rt.service.memoryBytes >= rt.memoryLimitBytes) {
      const ts = new Date(now).toISOString();
      rt.service.log(`${ts} FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory`);
      this.recorder.record(pod, 'Warning', 'OOMKilling', `Memory cgroup out of memory: Killed process ${1000 + (fnv32a(rt.uid) % 30000)} (node) total-vm:${Math.round(rt.memoryLimitBytes / 1024 + 600000)}kB, anon-rss:${Math.round(rt.memoryLimitBytes / 1024)}kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:2048kB oom_score_adj:984`, { component: 'kernel-monitor', host: rt.node });
      this.terminate(pod, rt, 'OOMKilled', 137, now);
    } else if (rt.service.lastMedianSeconds > 1 && now - rt.lastUnhealthyMs > 10_000) {
      rt.lastUnhealthyMs = now;
      this.recorder.record(pod, 'Warning', 'Unhealthy', `Readiness probe failed: Get "http://${rt.podIP}:8080/healthz": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`, src, field);
    }
  }

  private terminate(pod: Pod, rt: PodRuntime, reason: Terminated['reason'], exitCode: number, now: number): void {
    const ranMs = now - (rt.containerStartMs ?? now);
    rt.consecutiveCrashes = ranMs > 60_000 ? 1 : rt.consecutiveCrashes + 1;
    rt.lastTerminated = { reason, exitCode, startedMs: rt.containerStartMs ?? now, finishedMs: now, containerId: rt.containerId };
    rt.restartCount++;
    rt.state = 'backoff';
    rt.nextCrashMs = undefined;
    const backoff = rt.consecutiveCrashes <= 1 ? 0 : Math.min(this.options.backoffMaxMs, this.options.backoffBaseMs * 2 ** (rt.consecutiveCrashes - 2));
    rt.backoffUntilMs = now + backoff;
    if (backoff > 0) {
      this.recorder.record(pod, 'Warning', 'BackOff', `Back-off restarting failed container ${rt.containerName} in pod ${pod.metadata.name}_${pod.metadata.namespace}(${rt.uid})`, { component: 'kubelet', host: rt.node }, `spec.containers{${rt.containerName}}`);
    }
  }

  private condition(rt: PodRuntime, type: string, ok: boolean, now: number, reason?: string, message?: string): Condition {
    const status = ok ? 'True' : 'False';
    const prev = rt.transitions.get(type);
    if (!prev || prev.status !== status) rt.transitions.set(type, { status, at: kubeTime(now) });
    const c: Condition = { type, status, lastProbeTime: null, lastTransitionTime: rt.transitions.get(type)?.at };
    if (!ok && reason) {
      c.reason = reason;
      c.message = message;
    }
    return c;
  }

  private writeStatus(pod: Pod, rt: PodRuntime, now: number): void {
    const t = rt.lastTerminated;
    // most ticks change nothing: skip building the status when its inputs and the pod are as last written
    const key = `${rt.state}/${rt.ready}/${rt.nodeDown}/${rt.restartCount}/${rt.containerStartMs}/${t?.finishedMs}/${rt.state === 'backoff' && now < rt.backoffUntilMs}`;
    if (key === rt.statusKey && pod.metadata.resourceVersion === rt.statusRv) return;
    const started = rt.containerStartMs !== undefined;
    const state: ContainerState =
      rt.state === 'running'
        ? { running: { startedAt: kubeTime(rt.containerStartMs as number) } }
        : rt.state === 'backoff' && t
          ? now < rt.backoffUntilMs && rt.backoffUntilMs - t.finishedMs > 0
            ? { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${Math.round((rt.backoffUntilMs - t.finishedMs) / 1000)}s restarting failed container=${rt.containerName} pod=${rt.name}_${rt.namespace}(${rt.uid})` } }
            : { terminated: { exitCode: t.exitCode, reason: t.reason, startedAt: kubeTime(t.startedMs), finishedAt: kubeTime(t.finishedMs), containerID: t.containerId } }
          : { waiting: { reason: 'ContainerCreating' } };
    const lastState: ContainerState = t && (rt.state !== 'backoff' || 'waiting' in state) ? { terminated: { exitCode: t.exitCode, reason: t.reason, startedAt: kubeTime(t.startedMs), finishedAt: kubeTime(t.finishedMs), containerID: t.containerId } } : {};
    const containerStatus: ContainerStatus = {
      name: rt.containerName,
      image: rt.image,
      imageID: `docker.io/${rt.image.split(':')[0]}@sha256:${(fnv32a(rt.image) >>> 0).toString(16).padStart(8, '0').repeat(8)}`,
      ...(rt.containerId ? { containerID: rt.containerId } : {}),
      ready: rt.ready,
      started: rt.running,
      restartCount: rt.restartCount,
      state,
      lastState,
    };
    const notReadyMsg = `containers with unready status: [${rt.containerName}]`;
    const status: PodStatus = {
      phase: started ? 'Running' : 'Pending',
      conditions: [
        this.condition(rt, 'PodReadyToStartContainers', true, now),
        this.condition(rt, 'Initialized', true, now),
        this.condition(rt, 'Ready', rt.ready, now, 'ContainersNotReady', notReadyMsg),
        this.condition(rt, 'ContainersReady', rt.ready || (rt.nodeDown && rt.running), now, 'ContainersNotReady', notReadyMsg),
        this.condition(rt, 'PodScheduled', true, now),
      ],
      hostIP: rt.hostIP,
      hostIPs: [{ ip: rt.hostIP as string }],
      podIP: rt.podIP,
      podIPs: [{ ip: rt.podIP as string }],
      startTime: kubeTime(rt.scheduledMs ?? now),
      containerStatuses: [containerStatus],
      qosClass: 'Burstable',
    };
    rt.statusKey = key;
    rt.statusRv = pod.metadata.resourceVersion ?? '';
    if (JSON.stringify(pod.status) === JSON.stringify(status)) return;
    try {
      rt.statusRv = this.store.mutate('pods', pod.metadata.namespace, pod.metadata.name, (o) => void (o.status = status)).metadata.resourceVersion ?? '';
    } catch {
      // deleted meanwhile
    }
  }
}

function cpuRequest(p: Pod): number {
  return p.spec.containers.reduce((n, c) => n + parseQuantity(c.resources?.requests?.cpu, 0.1), 0);
}
