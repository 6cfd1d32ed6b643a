/**
 * StatefulSet controller, as far as Vigil uses it: pods `<set>-<ordinal>` created one at a time in ordinal order, each
 * waiting for the ones before to be Running and Ready (OrderedReady); a new template (an image, or `rollout restart`'s
 * restartedAt annotation) rolled out from the highest ordinal down, one pod at a time, only while every pod is ready;
 * scale-down from the highest ordinal; ControllerRevisions with the `controller-revision-hash` pod label (the revision's
 * name); status with replicas, readyReplicas, currentRevision, updateRevision and the counts `kubectl rollout status` reads.
 */
import type { KubeObject, ObjectStore, ResourceName } from '../store';
import { currentRevision, REVISION_HASH_LABEL, revisionsOf, trimHistory, type ControllerRevision } from './controllerRevisions';
import type { EventRecorder } from './eventRecorder';
import { podFromTemplate } from './podFromTemplate';
import { podReady, type Pod, type PodTemplate } from './objects';
import { podsByOwner } from './replicaSetController';

const SOURCE = { component: 'statefulset-controller' };

export interface StatefulSet extends KubeObject {
  spec: { replicas?: number; serviceName?: string; selector: { matchLabels?: Record<string, string> }; template: PodTemplate; revisionHistoryLimit?: number; updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } } };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    currentReplicas?: number;
    updatedReplicas?: number;
    currentRevision?: string;
    updateRevision?: string;
    collisionCount?: number;
  };
}

/** The ordinal of a StatefulSet's pod from its name, or -1. */
export function ordinalOf(set: string, pod: string): number {
  const m = new RegExp(`^${set.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d+)$`).exec(pod);
  return m ? Number(m[1]) : -1;
}

export class StatefulSetController {
  constructor(
    private readonly store: ObjectStore,
    private readonly recorder: EventRecorder,
    private readonly list: (resource: ResourceName) => KubeObject[],
  ) {}

  reconcile(pods: ReadonlyArray<Pod>): void {
    const byOwner = podsByOwner(pods);
    for (const item of [...this.list('statefulsets')]) this.sync(item as StatefulSet, byOwner.get(item.metadata.uid as string) ?? []);
  }

  private sync(set: StatefulSet, owned: Pod[]): void {
    const name = set.metadata.name;
    const update = currentRevision(this.store, set, 'StatefulSet');
    const current = set.status?.currentRevision && revisionsOf(this.store, set).some((r) => r.metadata.name === set.status?.currentRevision) ? set.status.currentRevision : update.metadata.name;
    const want = set.spec.replicas ?? 1;
    const byOrdinal = new Map<number, Pod>();
    for (const p of owned) {
      const i = ordinalOf(name, p.metadata.name);
      if (i >= 0) byOrdinal.set(i, p);
    }
    const revisionOf = (p: Pod) => p.metadata.labels?.[REVISION_HASH_LABEL];
    // OrderedReady: create the first missing ordinal once every one before it is Running and Ready; one step per pass
    let blocked = false;
    for (let i = 0; i < want && !blocked; i++) {
      const p = byOrdinal.get(i);
      if (!p) {
        byOrdinal.set(i, this.createPod(set, i, update));
        blocked = true;
      } else if (!podReady(p) || p.metadata.deletionTimestamp) blocked = true;
    }
    // scale down from the highest ordinal, one at a time, once the rest is ready
    const extra = [...byOrdinal.keys()].filter((i) => i >= want).sort((a, b) => b - a);
    if (!blocked && extra.length) {
      this.deletePod(set, byOrdinal.get(extra[0])!);
      byOrdinal.delete(extra[0]);
      blocked = true;
    }
    // rolling update: replace the highest ordinal not at the update revision, while every pod is ready
    if (!blocked && (set.spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
      const partition = set.spec.updateStrategy?.rollingUpdate?.partition ?? 0;
      for (let i = want - 1; i >= partition; i--) {
        const p = byOrdinal.get(i);
        if (p && revisionOf(p) !== update.metadata.name) {
          this.deletePod(set, p);
          byOrdinal.delete(i);
          break;
        }
      }
    }
    const live = [...byOrdinal.values()];
    const ready = live.filter(podReady).length;
    const updated = live.filter((p) => revisionOf(p) === update.metadata.name).length;
    // the rollout is complete once every pod runs the update revision and is ready
    const done = updated === want && ready === want && live.length === want;
    const status: NonNullable<StatefulSet['status']> = {
      observedGeneration: set.metadata.generation ?? 1,
      replicas: live.length,
      readyReplicas: ready,
      availableReplicas: ready,
      currentReplicas: done ? updated : live.filter((p) => revisionOf(p) === current).length,
      updatedReplicas: updated,
      currentRevision: done ? update.metadata.name : current,
      updateRevision: update.metadata.name,
      collisionCount: 0,
    };
    trimHistory(this.store, set, new Set([status.currentRevision!, update.metadata.name, ...live.map((p) => revisionOf(p) ?? '')]));
    if (JSON.stringify(set.status ?? {}) !== JSON.stringify(status)) this.store.mutate('statefulsets', set.metadata.namespace, name, (o) => void (o.status = status));
  }

  private createPod(set: StatefulSet, ordinal: number, revision: ControllerRevision): Pod {
    const name = `${set.metadata.name}-${ordinal}`;
    const pod = podFromTemplate({
      kind: 'StatefulSet',
      owner: set,
      template: set.spec.template,
      name,
      labels: { [REVISION_HASH_LABEL]: revision.metadata.name, 'statefulset.kubernetes.io/pod-name': name, 'apps.kubernetes.io/pod-index': String(ordinal) },
      specOverrides: { hostname: name, ...(set.spec.serviceName ? { subdomain: set.spec.serviceName } : {}) },
    });
    const created = this.store.create('pods', pod) as Pod;
    this.recorder.record(set, 'Normal', 'SuccessfulCreate', `create Pod ${name} in StatefulSet ${set.metadata.name} successful`, SOURCE);
    return created;
  }

  private deletePod(set: StatefulSet, p: Pod): void {
    if (!this.store.get('pods', p.metadata.namespace, p.metadata.name)) return;
    this.store.delete('pods', p.metadata.namespace, p.metadata.name);
    this.recorder.record(set, 'Normal', 'SuccessfulDelete', `delete Pod ${p.metadata.name} in StatefulSet ${set.metadata.name} successful`, SOURCE);
  }
}
