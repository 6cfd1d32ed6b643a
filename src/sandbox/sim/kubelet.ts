/**
 * The scheduler and the kubelets of all nodes of the embedded sandbox: binds pods to nodes with room
 * (spreading a deployment's pods) and runs each bound pod's container through the ContainerLifecycle
 * the node agent shares, writing the status it reports into the store.
 */
import type { ObjectStore } from '../store';
import { ContainerLifecycle, PodRuntime, type KubeletOptions } from './containerLifecycle';
import type { EventRecorder } from './eventRecorder';
import { controllerOf, kubeTime, nodeReady, parseQuantity, type NodeObject, type Pod, type PodStatus } from './objects';

const MIB = 1024 * 1024;

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
  private readonly lifecycle: ContainerLifecycle;

  constructor(
    private readonly store: ObjectStore,
    private readonly recorder: EventRecorder,
    private readonly now: () => number,
    private readonly seed: number,
    options: KubeletOptions,
    private readonly hooks: KubeletHooks,
  ) {
    this.lifecycle = new ContainerLifecycle(recorder, options, (uid, at) => hooks.crashing(uid, at));
  }

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
      this.lifecycle.advance(pod, rt, now);
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

  private writeStatus(pod: Pod, rt: PodRuntime, now: number): void {
    const key = this.lifecycle.statusKey(rt, now);
    if (key === rt.statusKey && pod.metadata.resourceVersion === rt.statusRv) return;
    const status = this.lifecycle.podStatus(rt, now);
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
