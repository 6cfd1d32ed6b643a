/**
 * ReplicaSet controller: keeps the number of owned pods at spec.replicas, names new pods
 * `<rs>-<5 chars>`, deletes the least useful pods first, and writes status.
 */
import type { KubeObject, ObjectStore, ResourceName } from '../store';
import type { EventRecorder } from './eventRecorder';
import { podFromTemplate } from './podFromTemplate';
import { controllerOf, podReady, type Pod, type ReplicaSet } from './objects';
import { kubeSuffix, type Rng } from './rng';

const SOURCE = { component: 'replicaset-controller' };

/** Pods grouped by the uid of their controlling owner. */
export function podsByOwner(pods: ReadonlyArray<Pod>): Map<string, Pod[]> {
  const out = new Map<string, Pod[]>();
  for (const p of pods) {
    const owner = controllerOf(p.metadata);
    if (!owner) continue;
    const list = out.get(owner.uid);
    if (list) list.push(p);
    else out.set(owner.uid, [p]);
  }
  return out;
}

/** Kubernetes' deletion preference: unscheduled, then pending, then not ready, then more restarts, then newest. */
function deletionRank(p: Pod): [number, number, number, number, number] {
  const restarts = p.status?.containerStatuses?.reduce((n, c) => n + c.restartCount, 0) ?? 0;
  return [p.spec.nodeName ? 1 : 0, p.status?.phase === 'Running' ? 1 : 0, podReady(p) ? 1 : 0, -restarts, -Date.parse(p.metadata.creationTimestamp ?? '0')];
}

function compareRank(a: Pod, b: Pod): number {
  const ra = deletionRank(a);
  const rb = deletionRank(b);
  for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return ra[i] - rb[i];
  return a.metadata.name.localeCompare(b.metadata.name);
}

export class ReplicaSetController {
  constructor(
    private readonly store: ObjectStore,
    private readonly recorder: EventRecorder,
    private readonly rng: Rng,
    private readonly list: (resource: ResourceName) => KubeObject[],
  ) {}

  reconcile(pods: ReadonlyArray<Pod>): void {
    const byOwner = podsByOwner(pods);
    for (const item of [...this.list('replicasets')]) {
      const rs = item as ReplicaSet;
      const owned = byOwner.get(rs.metadata.uid as string) ?? [];
      const want = rs.spec.replicas ?? 1;
      if (owned.length < want) {
        for (let i = owned.length; i < want; i++) owned.push(this.createPod(rs));
      } else if (owned.length > want) {
        const victims = [...owned].sort(compareRank).slice(0, owned.length - want);
        for (const v of victims) {
          if (this.store.get('pods', v.metadata.namespace, v.metadata.name)) {
            this.store.delete('pods', v.metadata.namespace, v.metadata.name);
            this.recorder.record(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${v.metadata.name}`, SOURCE);
          }
        }
        const gone = new Set(victims.map((v) => v.metadata.name));
        owned.splice(0, owned.length, ...owned.filter((p) => !gone.has(p.metadata.name)));
      }
      const ready = owned.filter(podReady).length;
      const status = { replicas: owned.length, fullyLabeledReplicas: owned.length, readyReplicas: ready, availableReplicas: ready, observedGeneration: rs.metadata.generation ?? 1 };
      if (JSON.stringify(rs.status ?? {}) !== JSON.stringify(status)) {
        this.store.mutate('replicasets', rs.metadata.namespace, rs.metadata.name, (o) => {
          o.status = status;
        });
      }
    }
  }

  private createPod(rs: ReplicaSet): Pod {
    const ns = rs.metadata.namespace as string;
    let name = `${rs.metadata.name}-${kubeSuffix(this.rng)}`;
    while (this.store.get('pods', ns, name)) name = `${rs.metadata.name}-${kubeSuffix(this.rng)}`;
    const pod = podFromTemplate({ kind: 'ReplicaSet', owner: rs, template: rs.spec.template, name, generateName: `${rs.metadata.name}-`, specDefaults: { enableServiceLinks: true } });
    const created = this.store.create('pods', pod) as Pod;
    this.recorder.record(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${name}`, SOURCE);
    return created;
  }
}
