/**
 * Pod → workload, from the owner references Vigil's own informers hold: a metric series labelled only with
 * `namespace` and `pod` (kube-prometheus relabeling, cAdvisor, kube-state-metrics' `kube_pod_*`) is counted
 * for the Deployment (through its ReplicaSet), StatefulSet, DaemonSet or bare ReplicaSet that owns the pod.
 */
import type { TargetRef } from '../model/target';

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'ReplicaSet';

export interface WorkloadRef {
  readonly kind: WorkloadKind;
  readonly namespace: string;
  readonly name: string;
}

export interface OwnerReference {
  readonly kind: string;
  readonly name: string;
  /** The managing owner; when a list has one marked controller, that one wins. */
  readonly controller?: boolean;
}

/** What the mapping needs of a pod or a ReplicaSet: its name and owner references. */
export interface OwnedObject {
  readonly namespace: string;
  readonly name: string;
  readonly owners: ReadonlyArray<OwnerReference>;
  /** `pod-template-hash` of a Deployment's pod: names its ReplicaSet before the ReplicaSet is cached. */
  readonly templateHash?: string;
}

const WORKLOAD_KINDS: ReadonlySet<string> = new Set<WorkloadKind>(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet']);

function controllerOf(owners: ReadonlyArray<OwnerReference>): OwnerReference | undefined {
  return owners.find((o) => o.controller) ?? owners.find((o) => WORKLOAD_KINDS.has(o.kind));
}

/**
 * The workload of one pod: its controller owner, and for a ReplicaSet that ReplicaSet's Deployment (a
 * ReplicaSet without one is a workload of its own). A ReplicaSet not cached yet is resolved from the pod's
 * `pod-template-hash` (the ReplicaSet is named `<deployment>-<hash>`). Undefined for a pod nothing owns.
 */
export function workloadOfPod(pod: OwnedObject, replicaSet: (namespace: string, name: string) => OwnedObject | undefined): WorkloadRef | undefined {
  const owner = controllerOf(pod.owners);
  if (!owner || !WORKLOAD_KINDS.has(owner.kind)) return undefined;
  const namespace = pod.namespace;
  if (owner.kind !== 'ReplicaSet') return { kind: owner.kind as WorkloadKind, namespace, name: owner.name };
  const rs = replicaSet(namespace, owner.name);
  if (rs) {
    const dep = controllerOf(rs.owners);
    return dep?.kind === 'Deployment' ? { kind: 'Deployment', namespace, name: dep.name } : { kind: 'ReplicaSet', namespace, name: owner.name };
  }
  const hash = pod.templateHash;
  if (hash && owner.name.endsWith(`-${hash}`)) return { kind: 'Deployment', namespace, name: owner.name.slice(0, -hash.length - 1) };
  return { kind: 'ReplicaSet', namespace, name: owner.name };
}

/** The target Vigil watches for a workload: a service named after it (its kind is kept by the map). */
export function workloadTarget(w: WorkloadRef): TargetRef {
  return { kind: 'service', namespace: w.namespace, name: w.name };
}

/**
 * Pod names to workloads, refreshed from the informers' pods and ReplicaSets. A pod that is gone (an old
 * ReplicaSet's pod after a rollout, a crashed StatefulSet pod) is remembered for `retainMs`, because its
 * series stay in the rate windows and range queries after it is deleted. A pod never seen is resolved by
 * name: a cached ReplicaSet's pods are `<replicaset>-<suffix>`, a known StatefulSet's `<set>-<ordinal>`.
 */
export class PodWorkloadMap {
  private readonly pods = new Map<string, OwnedObject>();
  private readonly departed = new Map<string, { readonly workload: WorkloadRef; readonly goneAt: number }>();
  private readonly replicaSets = new Map<string, OwnedObject>();
  /** StatefulSets and DaemonSets seen owning a pod, for pods known only by name. */
  private readonly sets = new Map<string, WorkloadRef>();

  constructor(private readonly retainMs: number) {}

  /** A pod added or changed (informer). */
  setPod(pod: OwnedObject): void {
    const key = `${pod.namespace}/${pod.name}`;
    this.pods.set(key, pod);
    this.departed.delete(key);
    const w = this.resolve(pod);
    if (w && (w.kind === 'StatefulSet' || w.kind === 'DaemonSet')) this.sets.set(`${w.kind}/${w.namespace}/${w.name}`, w);
  }

  /** A pod deleted at `now`: its workload is kept for `retainMs`, while its series are still read. */
  deletePod(namespace: string, name: string, now: number): void {
    const key = `${namespace}/${name}`;
    const pod = this.pods.get(key);
    this.pods.delete(key);
    const w = pod && this.resolve(pod);
    if (w) this.departed.set(key, { workload: w, goneAt: now });
    this.prune(now);
  }

  setReplicaSet(rs: OwnedObject): void {
    this.replicaSets.set(`${rs.namespace}/${rs.name}`, rs);
  }

  deleteReplicaSet(namespace: string, name: string): void {
    this.replicaSets.delete(`${namespace}/${name}`);
  }

  /** Replaces everything with the informers' current pods and ReplicaSets at `now`; pods no longer listed depart. */
  update(pods: ReadonlyArray<OwnedObject>, replicaSets: ReadonlyArray<OwnedObject>, now: number): void {
    this.replicaSets.clear();
    for (const rs of replicaSets) this.setReplicaSet(rs);
    const listed = new Set(pods.map((p) => `${p.namespace}/${p.name}`));
    for (const [key, p] of [...this.pods]) if (!listed.has(key)) this.deletePod(p.namespace, p.name, now);
    for (const p of pods) this.setPod(p);
    this.prune(now);
  }

  /** The workload of `namespace/pod`, or undefined when neither the pod nor its name says. */
  workloadOf(namespace: string, pod: string): WorkloadRef | undefined {
    const key = `${namespace}/${pod}`;
    const known = this.pods.get(key);
    return (known && this.resolve(known)) ?? this.departed.get(key)?.workload ?? this.byName(namespace, pod);
  }

  private resolve(pod: OwnedObject): WorkloadRef | undefined {
    return workloadOfPod(pod, (ns, name) => this.replicaSets.get(`${ns}/${name}`));
  }

  private prune(now: number): void {
    for (const [key, d] of this.departed) if (now - d.goneAt > this.retainMs) this.departed.delete(key);
  }

  private byName(namespace: string, pod: string): WorkloadRef | undefined {
    let best: OwnedObject | undefined;
    for (const rs of this.replicaSets.values()) {
      if (rs.namespace !== namespace || !pod.startsWith(`${rs.name}-`)) continue;
      if (!best || rs.name.length > best.name.length) best = rs;
    }
    if (best) {
      const dep = controllerOf(best.owners);
      return dep?.kind === 'Deployment' ? { kind: 'Deployment', namespace, name: dep.name } : { kind: 'ReplicaSet', namespace, name: best.name };
    }
    for (const w of this.sets.values()) {
      if (w.namespace !== namespace) continue;
      if (w.kind === 'StatefulSet' && new RegExp(`^${escapeRegex(w.name)}-\\d+$`).test(pod)) return w;
      if (w.kind === 'DaemonSet' && new RegExp(`^${escapeRegex(w.name)}-[a-z0-9]{5}$`).test(pod)) return w;
    }
    return undefined;
  }
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
