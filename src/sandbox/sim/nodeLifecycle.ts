/**
 * Node lifecycle controller: a node whose kubelet stops (node-failure fault) turns NotReady with
 * the not-ready taints; after the eviction timeout its pods are deleted so their ReplicaSets
 * recreate them elsewhere. Pods bound to a node that no longer exists are garbage-collected.
 */
import type { ObjectStore } from '../store';
import type { EventRecorder } from './eventRecorder';
import { kubeTime, nodeReady, type Condition, type NodeObject, type Pod } from './objects';

const SOURCE = { component: 'node-controller' };
const NOT_READY_TAINT = 'node.kubernetes.io/not-ready';

export class NodeLifecycle {
  private readonly notReadySince = new Map<string, number>();

  constructor(
    private readonly store: ObjectStore,
    private readonly recorder: EventRecorder,
    private readonly now: () => number,
    private readonly evictionTimeoutMs: number,
  ) {}

  sync(nodes: ReadonlyArray<NodeObject>, pods: ReadonlyArray<Pod>, failed: Set<string>): void {
    const now = this.now();
    const names = new Set(nodes.map((n) => n.metadata.name));
    for (const n of nodes) {
      const name = n.metadata.name;
      const down = failed.has(name);
      if (down === nodeReady(n)) this.setReady(n, !down, now, pods);
      if (!down) {
        this.notReadySince.delete(name);
        continue;
      }
      const since = this.notReadySince.get(name) ?? now;
      this.notReadySince.set(name, since);
      if (now - since < this.evictionTimeoutMs) continue;
      for (const p of pods) {
        if (p.spec.nodeName !== name) continue;
        this.recorder.record(p, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${p.metadata.namespace}/${p.metadata.name}`, { component: 'taint-eviction-controller' });
        this.deletePod(p);
      }
    }
    for (const p of pods) {
      if (p.spec.nodeName && !names.has(p.spec.nodeName)) this.deletePod(p);
    }
  }

  private deletePod(p: Pod): void {
    if (this.store.get('pods', p.metadata.namespace, p.metadata.name)) this.store.delete('pods', p.metadata.namespace, p.metadata.name);
  }

  private setReady(n: NodeObject, ready: boolean, now: number, pods: ReadonlyArray<Pod>): void {
    const stamp = kubeTime(now);
    const ready_: Condition = ready
      ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: stamp, lastTransitionTime: stamp }
      : { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:kubelet stopped posting node status', lastHeartbeatTime: stamp, lastTransitionTime: stamp };
    const updated = this.store.mutate('nodes', undefined, n.metadata.name, (o) => {
      const node = o as NodeObject;
      node.status = { ...node.status, conditions: [...(node.status?.conditions ?? []).filter((c) => c.type !== 'Ready'), ready_] };
      const taints = (node.spec?.taints ?? []).filter((t) => t.key !== NOT_READY_TAINT);
      if (!ready) taints.push({ key: NOT_READY_TAINT, effect: 'NoSchedule', timeAdded: stamp }, { key: NOT_READY_TAINT, effect: 'NoExecute', timeAdded: stamp });
      node.spec = { ...node.spec, taints: taints.length ? taints : undefined };
    });
    const name = n.metadata.name;
    this.recorder.record(updated, ready ? 'Normal' : 'Normal', ready ? 'NodeReady' : 'NodeNotReady', `Node ${name} status is now: ${ready ? 'NodeReady' : 'NodeNotReady'}`, { component: ready ? 'kubelet' : 'node-controller', host: ready ? name : undefined });
    if (!ready) {
      for (const p of pods) if (p.spec.nodeName === name) this.recorder.record(p, 'Warning', 'NodeNotReady', 'Node is not ready', SOURCE);
    }
  }
}
