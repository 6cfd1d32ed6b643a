/**
 * One pod's container as a kubelet runs it, shared by the embedded sandbox's kubelet and the node agent
 * of a real control plane: start after a delay, Ready, crash or OOM kill as faults say, the restart
 * back-off, and the container states, pod conditions and events a real kubelet reports.
 */
import type { KubeObject } from '../store';
import type { EventSink } from './eventRecorder';
import { kubeTime, type Condition, type ContainerState, type ContainerStatus, type PodStatus } from './objects';
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


/** Pods whose container is a real process (the node agent's --run-image): the lifecycle starts it and learns its exit. */
export interface ProcessContainers {
  /** Whether the pod's container is a real process rather than the simulated service. */
  runs(rt: PodRuntime): boolean;
  start(rt: PodRuntime): void;
  /** The exit code once the current process ended, else undefined. */
  exitCode(rt: PodRuntime): number | undefined;
}

export class ContainerLifecycle {
  constructor(
    private readonly events: EventSink,
    private readonly options: KubeletOptions,
    /** Whether a crash-loop fault holds the pod at that time. */
    private readonly crashing: (uid: string, atMs: number) => boolean,
    private readonly processes?: ProcessContainers,
  ) {}

  /** Moves the container on to `now` (unless its node is down) and recomputes readiness. */
  advance(pod: KubeObject, rt: PodRuntime, now: number): void {
    if (!rt.nodeDown) this.step(pod, rt, now);
    rt.ready = rt.running && !rt.nodeDown && now >= (rt.containerStartMs ?? Infinity) + this.options.podStartDelayMs / 2;
  }

  private step(pod: KubeObject, rt: PodRuntime, now: number): void {
    const src = { component: 'kubelet', host: rt.node };
    const field = `spec.containers{${rt.containerName}}`;
    const startContainer = () => {
      rt.state = 'running';
      rt.containerStartMs = now;
      rt.containerId = `containerd://${(fnv32a(`${rt.uid}/${rt.restartCount}`) >>> 0).toString(16).padStart(8, '0')}${(fnv32a(`${rt.restartCount}/${rt.uid}`) >>> 0).toString(16).padStart(8, '0')}`;
      rt.nextCrashMs = undefined;
      this.events.record(pod, 'Normal', 'Pulled', `Container image "${rt.image}" already present on machine`, src, field);
      this.events.record(pod, 'Normal', 'Created', `Created container: ${rt.containerName}`, src, field);
      this.events.record(pod, 'Normal', 'Started', `Started container ${rt.containerName}`, src, field);
      if (this.processes?.runs(rt)) {
        this.processes.start(rt);
        return;
      }
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
    const exit = this.processes?.runs(rt) ? this.processes.exitCode(rt) : undefined;
    if (exit !== undefined) {
      this.terminate(pod, rt, exit === 0 ? 'Completed' : 'Error', exit, now);
      return;
    }
    const crashing = this.crashing(rt.uid, now);
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
      this.events.record(pod, 'Warning', 'OOMKilling', `Memory cgroup out of memory: Killed process ${1000 + (fnv32a(rt.uid) % 30000)} (node) total-vm:${Math.round(rt.memoryLimitBytes / 1024 + 600000)}kB, anon-rss:${Math.round(rt.memoryLimitBytes / 1024)}kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:2048kB oom_score_adj:984`, { component: 'kernel-monitor', host: rt.node });
      this.terminate(pod, rt, 'OOMKilled', 137, now);
    } else if (rt.service.lastMedianSeconds > 1 && now - rt.lastUnhealthyMs > 10_000) {
      rt.lastUnhealthyMs = now;
      this.events.record(pod, 'Warning', 'Unhealthy', `Readiness probe failed: Get "http://${rt.podIP}:8080/healthz": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`, src, field);
    }
  }

  private terminate(pod: KubeObject, rt: PodRuntime, reason: Terminated['reason'], exitCode: number, now: number): void {
    const ranMs = now - (rt.containerStartMs ?? now);
    rt.consecutiveCrashes = ranMs > 60_000 ? 1 : rt.consecutiveCrashes + 1;
    rt.lastTerminated = { reason, exitCode, startedMs: rt.containerStartMs ?? now, finishedMs: now, containerId: rt.containerId };
    rt.restartCount++;
    rt.state = 'backoff';
    rt.nextCrashMs = undefined;
    const backoff = rt.consecutiveCrashes <= 1 ? 0 : Math.min(this.options.backoffMaxMs, this.options.backoffBaseMs * 2 ** (rt.consecutiveCrashes - 2));
    rt.backoffUntilMs = now + backoff;
    if (backoff > 0) {
      this.events.record(pod, 'Warning', 'BackOff', `Back-off restarting failed container ${rt.containerName} in pod ${pod.metadata.name}_${pod.metadata.namespace}(${rt.uid})`, { component: 'kubelet', host: rt.node }, `spec.containers{${rt.containerName}}`);
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

  /**
   * The pod status a kubelet would write for `rt` now, and a key of what it was computed from: most ticks
   * change nothing, and a caller skips the write while the key and the pod are as last written.
   */
  statusKey(rt: PodRuntime, now: number): string {
    const t = rt.lastTerminated;
    return `${rt.state}/${rt.ready}/${rt.nodeDown}/${rt.restartCount}/${rt.containerStartMs}/${t?.finishedMs}/${rt.state === 'backoff' && now < rt.backoffUntilMs}`;
  }

  podStatus(rt: PodRuntime, now: number): PodStatus {
    const t = rt.lastTerminated;
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
    return status;
  }
}
