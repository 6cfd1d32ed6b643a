/**
 * DaemonSet controller, as far as Vigil uses it: one pod `<set>-<5 chars>` bound to each node that can take it (Ready
 * or not, cordoned too: a daemon tolerates both), ControllerRevisions with the `controller-revision-hash` pod label
 * (the template's hash), a rolling update within maxUnavailable (old pods that are not available go first, at no cost),
 * and the status fields `kubectl rollout status` reads.
 */
import type { KubeObject, ObjectStore, ResourceName } from '../store';
import { currentRevision, REVISION_HASH_LABEL, trimHistory, type ControllerRevision } from './controllerRevisions';
import { resolveIntOrPercent } from './deploymentController';
import type { EventRecorder } from './eventRecorder';
import { podFromTemplate } from './podFromTemplate';
import { podReady, type NodeObject, type Pod, type PodTemplate } from './objects';
import { podsByOwner } from './replicaSetController';
import { kubeSuffix, type Rng } from './rng';

const SOURCE = { component: 'daemonset-controller' };

export interface DaemonSet extends KubeObject {
  spec: { selector: { matchLabels?: Record<string, string> }; template: PodTemplate; revisionHistoryLimit?: number; updateStrategy?: { type?: string; rollingUpdate?: { maxUnavailable?: number | string } } };
  status?: {
    observedGeneration?: number;
    desiredNumberScheduled?: number;
    currentNumberScheduled?: number;
    numberMisscheduled?: number;
    numberReady?: number;
    numberAvailable?: number;
    numberUnavailable?: number;
    updatedNumberScheduled?: number;
  };
}

export class DaemonSetController {
  constructor(
    private readonly store: ObjectStore,
    private readonly recorder: EventRecorder,
    private readonly rng: Rng,
    private readonly list: (resource: ResourceName) => KubeObject[],
  ) {}

  reconcile(pods: ReadonlyArray<Pod>, nodes: ReadonlyArray<NodeObject>): void {
    const byOwner = podsByOwner(pods);
    for (const item of [...this.list('daemonsets')]) this.sync(item as DaemonSet, byOwner.get(item.metadata.uid as string) ?? [], nodes);
  }

  private sync(set: DaemonSet, owned: Pod[], nodes: ReadonlyArray<NodeObject>): void {
    const revision = currentRevision(this.store, set, 'DaemonSet');
    const hash = revision.metadata.labels?.[REVISION_HASH_LABEL] as string;
    const nodeNames = new Set(nodes.map((n) => n.metadata.name));
    const byNode = new Map<string, Pod[]>();
    for (const p of owned) {
      const node = p.spec.nodeName ?? '';
      // a pod of a node that left the cluster is garbage
      if (!nodeNames.has(node)) {
        this.deletePod(set, p);
        continue;
      }
      byNode.set(node, [...(byNode.get(node) ?? []), p]);
    }
    for (const n of nodes) {
      const here = byNode.get(n.metadata.name) ?? [];
      if (here.length === 0) byNode.set(n.metadata.name, [this.createPod(set, n.metadata.name, revision)]);
      // more than one on a node: keep the oldest
      for (const p of here.slice(1)) this.deletePod(set, p);
      if (here.length > 1) byNode.set(n.metadata.name, here.slice(0, 1));
    }
    const live = [...byNode.values()].flat();
    const isNew = (p: Pod) => p.metadata.labels?.[REVISION_HASH_LABEL] === hash;
    if ((set.spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
      const maxUnavailable = Math.max(1, resolveIntOrPercent(set.spec.updateStrategy?.rollingUpdate?.maxUnavailable, nodes.length, '1', true));
      let unavailable = live.filter((p) => !podReady(p)).length;
      const old = live.filter((p) => !isNew(p)).sort((a, b) => Number(podReady(a)) - Number(podReady(b)) || a.metadata.name.localeCompare(b.metadata.name));
      for (const p of old) {
        if (!podReady(p)) this.deletePod(set, p);
        else if (unavailable < maxUnavailable) {
          this.deletePod(set, p);
          unavailable++;
        }
      }
    }
    const remaining = live.filter((p) => this.store.get('pods', p.metadata.namespace, p.metadata.name));
    const ready = remaining.filter(podReady).length;
    const status: NonNullable<DaemonSet['status']> = {
      observedGeneration: set.metadata.generation ?? 1,
      desiredNumberScheduled: nodes.length,
      currentNumberScheduled: remaining.length,
      numberMisscheduled: 0,
      numberReady: ready,
      numberAvailable: ready,
      numberUnavailable: Math.max(0, nodes.length - ready),
      updatedNumberScheduled: remaining.filter(isNew).length,
    };
    // zero counts are omitted, as the API server does
    for (const k of ['numberAvailable', 'numberUnavailable', 'updatedNumberScheduled'] as const) if (status[k] === 0) delete status[k];
    trimHistory(this.store, set, new Set([revision.metadata.name, ...remaining.map((p) => `${set.metadata.name}-${p.metadata.labels?.[REVISION_HASH_LABEL]}`)]));
    if (JSON.stringify(set.status ?? {}) !== JSON.stringify(status)) this.store.mutate('daemonsets', set.metadata.namespace, set.metadata.name, (o) => void (o.status = status));
  }

  private createPod(set: DaemonSet, node: string, revision: ControllerRevision): Pod {
    const ns = set.metadata.namespace as string;
    let name = `${set.metadata.name}-${kubeSuffix(this.rng)}`;
    while (this.store.get('pods', ns, name)) name = `${set.metadata.name}-${kubeSuffix(this.rng)}`;
    const pod = podFromTemplate({
      kind: 'DaemonSet',
      owner: set,
      template: set.spec.template,
      name,
      generateName: `${set.metadata.name}-`,
      labels: { [REVISION_HASH_LABEL]: revision.metadata.labels?.[REVISION_HASH_LABEL] as string, 'pod-template-generation': String(set.metadata.generation ?? 1) },
      // bound by the controller, as the scheduler would through the node affinity a DaemonSet adds
      specOverrides: { nodeName: node },
    });
    const created = this.store.create('pods', pod) as Pod;
    this.recorder.record(set, 'Normal', 'SuccessfulCreate', `Created pod: ${name}`, SOURCE);
    return created;
  }

  private deletePod(set: DaemonSet, p: Pod): void {
    if (!this.store.get('pods', p.metadata.namespace, p.metadata.name)) return;
    this.store.delete('pods', p.metadata.namespace, p.metadata.name);
    this.recorder.record(set, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`, SOURCE);
  }
}
