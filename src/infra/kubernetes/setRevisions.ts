import type * as k8s from '@kubernetes/client-node';
import type { ClusterFact } from '../../core/model/fact';
import type { TargetRef } from '../../core/model/target';

/**
 * Revisions of StatefulSets and DaemonSets. Their controllers keep each pod template in a ControllerRevision they own
 * (data = a strategic merge patch `{spec: {template: {…, $patch: replace}}}`, a `revision` number); the one that runs
 * now always carries the highest number: a new template gets max + 1, and so does an old one brought back by
 * `rollout undo` (its ControllerRevision is reused and renumbered). A StatefulSet names its current one in
 * status.updateRevision; a DaemonSet says nothing, so the template's content tells.
 */

export type SetKind = 'StatefulSet' | 'DaemonSet';
export type SetObject = k8s.V1StatefulSet | k8s.V1DaemonSet;

/** Keys sorted, empty objects, null and undefined dropped: two renderings of one template compare equal. */
export function sortDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortDeep);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortDeep((v as Record<string, unknown>)[k])]).filter(([, x]) => x !== undefined && x !== null && !(x && typeof x === 'object' && !Array.isArray(x) && Object.keys(x).length === 0)));
  return v;
}

/** The pod template a ControllerRevision holds (without the `$patch: replace` directive). */
export function revisionTemplate(r: k8s.V1ControllerRevision): k8s.V1PodTemplateSpec | undefined {
  const data = r.data as { spec?: { template?: k8s.V1PodTemplateSpec & { $patch?: string } } } | undefined;
  if (!data?.spec?.template) return undefined;
  const { $patch: _replace, ...template } = data.spec.template;
  return template;
}

const templateKey = (t: unknown) => JSON.stringify(sortDeep(t ?? {}));

/** The ControllerRevisions `set` owns, by owner uid (or, without one, by owner kind and name), lowest number first. */
export function ownedRevisions(kind: SetKind, set: SetObject, revisions: ReadonlyArray<k8s.V1ControllerRevision>): k8s.V1ControllerRevision[] {
  const uid = set.metadata?.uid;
  return revisions
    .filter((r) => r.metadata?.namespace === set.metadata?.namespace && r.metadata?.ownerReferences?.some((o) => o.kind === kind && (uid ? o.uid === uid : o.name === set.metadata?.name)))
    .sort((a, b) => a.revision - b.revision);
}

/** The ControllerRevision holding `template`, if any. */
function holding(owned: ReadonlyArray<k8s.V1ControllerRevision>, template: unknown): k8s.V1ControllerRevision | undefined {
  const key = templateKey(template);
  return owned.filter((r) => templateKey(revisionTemplate(r)) === key).at(-1);
}

/**
 * The revision number `set` runs now: a StatefulSet's status.updateRevision, else the ControllerRevision holding its
 * template; when that one is not the highest yet (the controller has not renumbered or created it), the next number.
 * 0 when it owns none (not synced, or not readable).
 */
export function setRevision(kind: SetKind, set: SetObject, revisions: ReadonlyArray<k8s.V1ControllerRevision>): number {
  const owned = ownedRevisions(kind, set, revisions);
  if (owned.length === 0) return 0;
  const max = owned[owned.length - 1].revision;
  const match = holding(owned, set.spec?.template);
  if (match) return match.revision === max ? max : max + 1;
  // no ControllerRevision holds it: a new template the controller has not recorded yet, unless it has caught up
  // with the spec (then it is the one it names, or its highest)
  if ((set.status?.observedGeneration ?? 0) < (set.metadata?.generation ?? 0)) return max + 1;
  const named = kind === 'StatefulSet' ? owned.find((r) => r.metadata?.name === (set as k8s.V1StatefulSet).status?.updateRevision) : undefined;
  return named?.revision ?? max;
}

/**
 * A rollout of a StatefulSet or DaemonSet is in progress while its controller has not seen the spec, or pods of an older
 * revision remain (a StatefulSet's currentRevision behind its updateRevision; a DaemonSet with nodes not updated yet).
 */
export function setRolloutInProgress(kind: SetKind, set: SetObject): boolean {
  if ((set.status?.observedGeneration ?? 0) < (set.metadata?.generation ?? 0)) return true;
  if (kind === 'StatefulSet') {
    const s = (set as k8s.V1StatefulSet).status;
    const want = (set as k8s.V1StatefulSet).spec?.replicas ?? 1;
    return !!s?.updateRevision && (s.currentRevision !== s.updateRevision || (s.updatedReplicas ?? 0) < want);
  }
  const s = (set as k8s.V1DaemonSet).status;
  return (s?.updatedNumberScheduled ?? 0) < (s?.desiredNumberScheduled ?? 0);
}

const imageOf = (set: SetObject | undefined) => set?.spec?.template?.spec?.containers?.[0]?.image ?? '';

/**
 * Facts of a StatefulSet's or DaemonSet's change, as a Deployment's: a new pod template is a release (revision-changed
 * with the ControllerRevision numbers from → to, and rollout-started); its rollout finishing; a StatefulSet scaled.
 */
export function setFacts(kind: SetKind, prev: SetObject | undefined, cur: SetObject | undefined, revisions: ReadonlyArray<k8s.V1ControllerRevision>, t: number): ClusterFact[] {
  if (!cur || !prev) return [];
  const target: TargetRef = { kind: 'service', namespace: cur.metadata?.namespace, name: cur.metadata?.name ?? '' };
  const noun = kind === 'StatefulSet' ? 'statefulset' : 'daemonset';
  const facts: ClusterFact[] = [];
  const image = imageOf(cur);
  const previousImage = imageOf(prev);
  const templateChanged = (cur.metadata?.generation ?? 0) > (prev.metadata?.generation ?? 0) && templateKey(cur.spec?.template) !== templateKey(prev.spec?.template);
  const revision = setRevision(kind, cur, revisions);
  if (templateChanged) {
    const owned = ownedRevisions(kind, cur, revisions);
    // the number the old template ran at: its ControllerRevision, else the highest before this one
    const from = holding(owned, prev.spec?.template)?.revision ?? owned.filter((r) => r.revision < revision).at(-1)?.revision ?? 0;
    if (from > 0 && revision > from) {
      facts.push({ kind: 'revision-changed', t, target, message: `${noun} ${target.namespace}/${target.name} moved from revision ${from} to ${revision}${image !== previousImage ? ` (image ${previousImage} → ${image})` : ''}`, attributes: { from, to: revision, image, previousImage, workloadKind: kind } });
    }
    facts.push({ kind: 'rollout-started', t, target, message: `Rollout of ${noun} ${target.namespace}/${target.name} started (image ${image})`, attributes: { revision, image, workloadKind: kind } });
  }
  const wasRolling = setRolloutInProgress(kind, prev);
  const isRolling = setRolloutInProgress(kind, cur);
  if (wasRolling && !isRolling && !templateChanged) facts.push({ kind: 'rollout-finished', t, target, message: `Rollout of ${noun} ${target.namespace}/${target.name} finished at revision ${revision}`, attributes: { revision, image, workloadKind: kind } });
  if (kind === 'StatefulSet') {
    const from = (prev as k8s.V1StatefulSet).spec?.replicas ?? 1;
    const to = (cur as k8s.V1StatefulSet).spec?.replicas ?? 1;
    if (from !== to) facts.push({ kind: 'scaled', t, target, reason: 'ScalingStatefulSet', message: `statefulset ${target.namespace}/${target.name} scaled from ${from} to ${to} replicas`, attributes: { from, to } });
  }
  return facts;
}
