/**
 * What the Deployment, StatefulSet and DaemonSet controllers share about their history: the hash that names a pod
 * template's ReplicaSet or ControllerRevision, and which old entries a `revisionHistoryLimit` drops.
 */
import type { PodTemplate } from './objects';
import { fnv32a, safeEncodeHash, stableStringify } from './rng';

/**
 * The hash of a pod template without the controller's own hash label (`pod-template-hash`,
 * `controller-revision-hash`), nulls and empty objects dropped: a template round-tripped through kubectl (a
 * `rollout undo`) hashes the same and so reuses its ReplicaSet or revision.
 */
export function podTemplateHash(t: PodTemplate, ownLabel: string): string {
  const labels = { ...t.metadata?.labels };
  delete labels[ownLabel];
  return safeEncodeHash(fnv32a(stableStringify(prune({ ...t, metadata: { ...t.metadata, labels } }))));
}

function prune(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(prune);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const p = prune(x);
    if (p === null || p === undefined) continue;
    if (typeof p === 'object' && !Array.isArray(p) && Object.keys(p as object).length === 0) continue;
    out[k] = p;
  }
  return out;
}

/** The entries a controller deletes to keep `limit` (its `revisionHistoryLimit`, default 10), given its idle history oldest first. */
export function beyondHistoryLimit<T>(idleOldestFirst: ReadonlyArray<T>, limit = 10): T[] {
  return idleOldestFirst.slice(0, Math.max(0, idleOldestFirst.length - limit));
}
