/**
 * ControllerRevisions as the StatefulSet and DaemonSet controllers keep them: one per pod template, named
 * `<owner>-<hash>`, holding the template as a strategic merge patch that replaces it (`kubectl rollout undo` applies
 * it), numbered so that the template running now always has the highest number (a reused one is renumbered).
 */
import type { KubeObject, ObjectStore } from '../store';
import type { PodTemplate } from './objects';
import { beyondHistoryLimit, podTemplateHash } from './revisionHistory';

export const REVISION_HASH_LABEL = 'controller-revision-hash';

export interface ControllerRevision extends KubeObject {
  data: { spec: { template: PodTemplate & { $patch: 'replace' } } };
  revision: number;
}

/** What owns revisions: a StatefulSet or a DaemonSet. */
export interface RevisionOwner extends KubeObject {
  spec: { template: PodTemplate; selector: { matchLabels?: Record<string, string> }; revisionHistoryLimit?: number };
}

/** The hash of a template, as its revision's name suffix and label. */
export function revisionHash(t: PodTemplate): string {
  return podTemplateHash(t, REVISION_HASH_LABEL);
}

export function revisionsOf(store: ObjectStore, owner: RevisionOwner): ControllerRevision[] {
  return (store.list('controllerrevisions', owner.metadata.namespace).items as ControllerRevision[])
    .filter((r) => r.metadata.ownerReferences?.some((o) => o.controller && o.uid === owner.metadata.uid))
    .sort((a, b) => a.revision - b.revision);
}

/**
 * The revision of the owner's template now: created with the next number, or the one that holds it renumbered to the
 * next when another is the highest (a rollback), as the controllers do.
 */
export function currentRevision(store: ObjectStore, owner: RevisionOwner, kind: 'StatefulSet' | 'DaemonSet'): ControllerRevision {
  const owned = revisionsOf(store, owner);
  const hash = revisionHash(owner.spec.template);
  const max = owned.at(-1)?.revision ?? 0;
  const found = owned.find((r) => r.metadata.labels?.[REVISION_HASH_LABEL] === hash);
  if (found) {
    if (found.revision === max) return found;
    return store.mutate('controllerrevisions', found.metadata.namespace, found.metadata.name, (o) => void ((o as ControllerRevision).revision = max + 1)) as ControllerRevision;
  }
  const cr: ControllerRevision = {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: `${owner.metadata.name}-${hash}`,
      namespace: owner.metadata.namespace,
      labels: { ...owner.spec.selector.matchLabels, [REVISION_HASH_LABEL]: hash },
      ownerReferences: [{ apiVersion: 'apps/v1', kind, name: owner.metadata.name, uid: owner.metadata.uid as string, controller: true, blockOwnerDeletion: true }],
    },
    data: { spec: { template: { ...structuredClone(owner.spec.template), $patch: 'replace' } } },
    revision: max + 1,
  };
  return store.create('controllerrevisions', cr) as ControllerRevision;
}

/** Keeps at most revisionHistoryLimit revisions no pod runs, oldest dropped first. */
export function trimHistory(store: ObjectStore, owner: RevisionOwner, live: ReadonlySet<string>): void {
  const idle = revisionsOf(store, owner).filter((r) => !live.has(r.metadata.name));
  for (const r of beyondHistoryLimit(idle, owner.spec.revisionHistoryLimit)) store.delete('controllerrevisions', r.metadata.namespace, r.metadata.name);
}
