import type { TargetRef } from './target';

/**
 * A timestamped fact about the cluster, used by correlation: Kubernetes events and
 * state changes the observe layer derives (a new revision, an OOMKill, a NotReady node).
 */
export type FactKind =
  | 'k8s-event'
  | 'revision-changed'
  | 'rollout-started'
  | 'rollout-finished'
  | 'pod-restarted'
  | 'oom-killed'
  | 'crash-backoff'
  | 'pod-evicted'
  | 'node-not-ready'
  | 'node-ready'
  | 'configmap-changed'
  | 'scaled';

export interface ClusterFact {
  readonly kind: FactKind;
  readonly t: number;
  readonly target: TargetRef;
  /** Kubernetes reason where there is one (BackOff, OOMKilling, NodeNotReady, ScalingReplicaSet). */
  readonly reason?: string;
  readonly message: string;
  /** Event type for k8s-event: Normal or Warning. */
  readonly severity?: 'Normal' | 'Warning';
  /** Free details: revision numbers, image, configmap key, old/new values. */
  readonly attributes?: Readonly<Record<string, string | number | boolean>>;
}

/** A log line kept as evidence. */
export interface LogLine {
  readonly t: number;
  readonly pod: TargetRef;
  readonly container?: string;
  readonly text: string;
  /** Name of the pattern it matched (exception, oom, timeout, ...). */
  readonly pattern?: string;
}

/**
 * Attribute names correlation reads from facts (others are kept as evidence only):
 * revision-changed: revision, previousRevision, image; configmap-changed: configMap, key,
 * previousValue, value; pod facts: node, and reason on pod-restarted (e.g. OOMKilled).
 */
export const FACT_ATTRIBUTES = ['revision', 'previousRevision', 'image', 'configMap', 'key', 'previousValue', 'value', 'node', 'reason'] as const;
