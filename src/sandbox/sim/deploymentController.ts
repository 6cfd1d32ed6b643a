/**
 * Deployment controller: one ReplicaSet per pod template (named `<deploy>-<pod-template-hash>`),
 * revision numbers as Kubernetes keeps them (a reused ReplicaSet on `rollout undo` gets the next
 * revision), rolling updates within maxSurge/maxUnavailable, and the status fields
 * `kubectl rollout status` reads.
 */
import type { KubeObject, ObjectStore, ResourceName } from '../store';
import type { EventRecorder } from './eventRecorder';
import { controllerOf, kubeTime, podReady, type Condition, type Deployment, type Pod, type PodTemplate, type ReplicaSet } from './objects';
import { podsByOwner } from './replicaSetController';
import { beyondHistoryLimit, podTemplateHash } from './revisionHistory';

export const REVISION = 'deployment.kubernetes.io/revision';
const SOURCE = { component: 'deployment-controller' };
const HASH_LABEL = 'pod-template-hash';

/** pod-template-hash of a template, ignoring its own hash label. */
export function templateHash(t: PodTemplate): string {
  return podTemplateHash(t, HASH_LABEL);
}

/** An int-or-percent against a total: surge rounds up, unavailable rounds down, as kube does. */
export function resolveIntOrPercent(v: number | string | undefined, total: number, fallback: string, roundUp: boolean): number {
  const raw = v ?? fallback;
  if (typeof raw === 'number') return raw;
  const m = /^(\d+)%$/.exec(raw);
  if (!m) return Number(raw) || 0;
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

/** Deployment annotations a ReplicaSet inherits (change-cause shows in `kubectl rollout history`). */
function inheritedAnnotations(d: Deployment): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) {
    if (!k.startsWith('deployment.kubernetes.io/') && k !== 'kubectl.kubernetes.io/last-applied-configuration') out[k] = v;
  }
  return out;
}

function revisionOf(rs: ReplicaSet): number {
  return Number(rs.metadata.annotations?.[REVISION] ?? 0) || 0;
}

interface RsView {
  rs: ReplicaSet;
  replicas: number;
  pods: number;
  ready: number;
}

export class DeploymentController {
  /** Last time each deployment made progress, for progressDeadlineSeconds. */
  private readonly progressAt = new Map<string, { ms: number; mark: string }>();

  constructor(
    private readonly store: ObjectStore,
    private readonly recorder: EventRecorder,
    private readonly now: () => number,
    private readonly list: (resource: ResourceName) => KubeObject[],
  ) {}

  /** The template only changes with the generation, so its hash is computed once per generation. */
  private readonly hashes = new Map<string, { generation: number; hash: string }>();

  private hashOf(d: Deployment): string {
    const uid = d.metadata.uid as string;
    const generation = d.metadata.generation ?? 0;
    const hit = this.hashes.get(uid);
    if (hit && hit.generation === generation) return hit.hash;
    const hash = templateHash(d.spec.template);
    this.hashes.set(uid, { generation, hash });
    return hash;
  }

  reconcile(pods: ReadonlyArray<Pod>): void {
    const byOwner = podsByOwner(pods);
    const rsByOwner = new Map<string, ReplicaSet[]>();
    for (const item of this.list('replicasets')) {
      const owner = controllerOf(item.metadata);
      if (owner?.kind !== 'Deployment') continue;
      const list = rsByOwner.get(owner.uid) ?? [];
      list.push(item as ReplicaSet);
      rsByOwner.set(owner.uid, list);
    }
    for (const item of [...this.list('deployments')]) {
      const d = item as Deployment;
      try {
        this.sync(d, rsByOwner.get(d.metadata.uid as string) ?? [], byOwner);
      } catch {
        // a conflicting write from a client: the next tick retries with the fresh object
      }
    }
  }

  private sync(d: Deployment, owned: ReplicaSet[], byOwner: Map<string, Pod[]>): void {
    const ns = d.metadata.namespace as string;
    const desired = d.spec.replicas ?? 1;
    const hash = this.hashOf(d);
    const maxRevision = owned.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
    let newRs = owned.find((rs) => rs.metadata.labels?.[HASH_LABEL] === hash);
    const old = owned.filter((rs) => rs !== newRs).sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || revisionOf(a) - revisionOf(b));
    const views = new Map<ReplicaSet, RsView>();
    const view = (rs: ReplicaSet): RsView => {
      let v = views.get(rs);
      if (!v) {
        const ps = byOwner.get(rs.metadata.uid as string) ?? [];
        v = { rs, replicas: rs.spec.replicas ?? 0, pods: ps.length, ready: ps.filter(podReady).length };
        views.set(rs, v);
      }
      return v;
    };
    const recreate = d.spec.strategy?.type === 'Recreate';
    const maxSurge = recreate ? 0 : resolveIntOrPercent(d.spec.strategy?.rollingUpdate?.maxSurge, desired, '25%', true);
    let maxUnavailable = recreate ? desired : resolveIntOrPercent(d.spec.strategy?.rollingUpdate?.maxUnavailable, desired, '25%', false);
    if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;

    if (!newRs) {
      if (d.spec.paused) return this.writeStatus(d, undefined, old.map(view), maxUnavailable);
      const oldTotal = old.reduce((n, rs) => n + view(rs).replicas, 0);
      const initial = recreate ? (oldTotal === 0 ? desired : 0) : old.length === 0 ? desired : Math.max(0, Math.min(desired, desired + maxSurge - oldTotal));
      newRs = this.createReplicaSet(d, hash, maxRevision + 1, initial, desired + maxSurge);
      if (initial > 0) this.scalingEvent(d, newRs, 0, initial);
    } else if (revisionOf(newRs) < maxRevision) {
      const revision = String(maxRevision + 1);
      newRs = this.store.mutate('replicasets', ns, newRs.metadata.name, (o) => {
        o.metadata.annotations = { ...o.metadata.annotations, ...inheritedAnnotations(d), [REVISION]: revision };
      }) as ReplicaSet;
    }
    const revision = newRs.metadata.annotations?.[REVISION] ?? '1';
    if (d.metadata.annotations?.[REVISION] !== revision) {
      d = this.store.mutate('deployments', ns, d.metadata.name, (o) => {
        o.metadata.annotations = { ...o.metadata.annotations, [REVISION]: revision };
      }) as Deployment;
    }
    const nv = view(newRs);
    const ov = old.map(view);
    if (!d.spec.paused) {
      if (recreate) this.recreate(d, nv, ov, desired);
      else this.rolling(d, nv, ov, desired, maxSurge, maxUnavailable);
      this.cleanup(d, ov);
    }
    this.writeStatus(d, nv, ov, maxUnavailable);
  }

  private rolling(d: Deployment, nv: RsView, ov: RsView[], desired: number, maxSurge: number, maxUnavailable: number): void {
    const all = () => nv.replicas + ov.reduce((n, v) => n + v.replicas, 0);
    // scale the new ReplicaSet up (or down, after a scale-down of the deployment)
    if (nv.replicas > desired) this.scale(d, nv, desired);
    else if (nv.replicas < desired) {
      const room = desired + maxSurge - all();
      if (room > 0) this.scale(d, nv, nv.replicas + Math.min(room, desired - nv.replicas));
    }
    const oldCount = ov.reduce((n, v) => n + v.replicas, 0);
    if (oldCount === 0) return;
    const minAvailable = desired - maxUnavailable;
    const newUnavailable = nv.replicas - nv.ready;
    let maxScaledDown = all() - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return;
    // first drop old pods that are not available anyway
    for (const v of ov) {
      if (maxScaledDown <= 0) break;
      const unhealthy = v.replicas - v.ready;
      if (unhealthy <= 0) continue;
      const n = Math.min(maxScaledDown, unhealthy);
      this.scale(d, v, v.replicas - n);
      maxScaledDown -= n;
    }
    const available = nv.ready + ov.reduce((n, v) => n + Math.min(v.ready, v.replicas), 0);
    let canScaleDown = available - minAvailable;
    for (const v of ov) {
      if (canScaleDown <= 0) break;
      if (v.replicas === 0) continue;
      const n = Math.min(v.replicas, canScaleDown);
      this.scale(d, v, v.replicas - n);
      canScaleDown -= n;
    }
  }

  private recreate(d: Deployment, nv: RsView, ov: RsView[], desired: number): void {
    for (const v of ov) if (v.replicas > 0) this.scale(d, v, 0);
    if (ov.every((v) => v.pods === 0) && nv.replicas !== desired) this.scale(d, nv, desired);
  }

  /** Keeps at most revisionHistoryLimit empty old ReplicaSets. */
  private cleanup(d: Deployment, ov: RsView[]): void {
    const empty = ov.filter((v) => v.replicas === 0 && v.pods === 0).sort((a, b) => revisionOf(a.rs) - revisionOf(b.rs));
    for (const v of beyondHistoryLimit(empty, d.spec.revisionHistoryLimit)) this.store.delete('replicasets', v.rs.metadata.namespace, v.rs.metadata.name);
  }

  private scale(d: Deployment, v: RsView, to: number): void {
    if (v.replicas === to) return;
    const from = v.replicas;
    const maxReplicas = String((d.spec.replicas ?? 1) + resolveIntOrPercent(d.spec.strategy?.rollingUpdate?.maxSurge, d.spec.replicas ?? 1, '25%', true));
    v.rs = this.store.mutate('replicasets', v.rs.metadata.namespace, v.rs.metadata.name, (o) => {
      (o as ReplicaSet).spec.replicas = to;
      o.metadata.annotations = { ...o.metadata.annotations, 'deployment.kubernetes.io/desired-replicas': String(d.spec.replicas ?? 1), 'deployment.kubernetes.io/max-replicas': maxReplicas };
    }) as ReplicaSet;
    v.replicas = to;
    this.scalingEvent(d, v.rs, from, to);
  }

  private scalingEvent(d: Deployment, rs: ReplicaSet, from: number, to: number): void {
    this.recorder.record(d, 'Normal', 'ScalingReplicaSet', `Scaled ${to > from ? 'up' : 'down'} replica set ${rs.metadata.name} from ${from} to ${to}`, SOURCE);
  }

  private createReplicaSet(d: Deployment, hash: string, revision: number, replicas: number, maxReplicas: number): ReplicaSet {
    const t = structuredClone(d.spec.template);
    t.metadata = { ...t.metadata, labels: { ...t.metadata?.labels, [HASH_LABEL]: hash } };
    const rs: ReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata.name}-${hash}`,
        namespace: d.metadata.namespace,
        labels: { ...t.metadata.labels },
        annotations: {
          ...inheritedAnnotations(d),
          'deployment.kubernetes.io/desired-replicas': String(d.spec.replicas ?? 1),
          'deployment.kubernetes.io/max-replicas': String(maxReplicas),
          [REVISION]: String(revision),
        },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name, uid: d.metadata.uid as string, controller: true, blockOwnerDeletion: true }],
      },
      spec: { replicas, selector: { matchLabels: { ...d.spec.selector.matchLabels, [HASH_LABEL]: hash } }, template: t, minReadySeconds: d.spec.minReadySeconds ?? 0 },
      status: { replicas: 0 },
    };
    return this.store.create('replicasets', rs) as ReplicaSet;
  }

  private writeStatus(d: Deployment, nv: RsView | undefined, ov: RsView[], maxUnavailable: number): void {
    const all = nv ? [nv, ...ov] : ov;
    const desired = d.spec.replicas ?? 1;
    const specTotal = all.reduce((n, v) => n + v.replicas, 0);
    const replicas = all.reduce((n, v) => n + v.pods, 0);
    const ready = all.reduce((n, v) => n + v.ready, 0);
    const updated = nv?.pods ?? 0;
    const complete = !!nv && nv.pods === desired && nv.ready === desired && replicas === desired && ov.every((v) => v.pods === 0);
    const now = this.now();
    const key = d.metadata.uid as string;
    const mark = `${nv?.rs.metadata.name}/${updated}/${ready}/${replicas}/${specTotal}`;
    const progress = this.progressAt.get(key);
    if (!progress || progress.mark !== mark) this.progressAt.set(key, { ms: now, mark });
    const since = this.progressAt.get(key)?.ms ?? now;
    const deadlineMs = (d.spec.progressDeadlineSeconds ?? 600) * 1000;
    const rsName = nv?.rs.metadata.name ?? '';
    const progressing: Condition = complete
      ? { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${rsName}" has successfully progressed.` }
      : now - since > deadlineMs
        ? { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${rsName}" has timed out progressing.` }
        : { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${rsName}" is progressing.` };
    const available: Condition =
      ready >= desired - maxUnavailable
        ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
        : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' };
    const stamp = kubeTime(now);
    const prev = d.status?.conditions ?? [];
    const withTimes = (c: Condition): Condition => {
      const p = prev.find((x) => x.type === c.type);
      const same = p && p.status === c.status && p.reason === c.reason && p.message === c.message;
      const transition = p && p.status === c.status ? p.lastTransitionTime : stamp;
      return { ...c, lastUpdateTime: same ? p.lastUpdateTime : stamp, lastTransitionTime: transition };
    };
    const status: NonNullable<Deployment['status']> = {
      observedGeneration: d.metadata.generation ?? 1,
      replicas,
      updatedReplicas: updated,
      readyReplicas: ready,
      availableReplicas: ready,
      unavailableReplicas: Math.max(0, specTotal - ready),
      conditions: [withTimes(available), withTimes(progressing)],
    };
    // kubectl hides zero counts the way the API server omits them
    for (const k of ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas'] as const) if (status[k] === 0) delete status[k];
    if (JSON.stringify(d.status ?? {}) === JSON.stringify(status)) return;
    this.store.mutate('deployments', d.metadata.namespace, d.metadata.name, (o) => {
      o.status = status;
    });
  }
}
