import type { TargetRef } from './target';

/** A workload that is not a Deployment; the workload actions name it (their `deployment` field is its name). */
export type SetKind = 'StatefulSet' | 'DaemonSet';

/** Every remediation Vigil can perform on a cluster. */
export type ActionSpec =
  | { readonly kind: 'delete-pod'; readonly namespace: string; readonly pod: string }
  | { readonly kind: 'rollout-restart'; readonly namespace: string; readonly deployment: string; readonly workloadKind?: SetKind }
  | { readonly kind: 'rollback'; readonly namespace: string; readonly deployment: string; /** undefined: the previous revision */ readonly toRevision?: number; readonly workloadKind?: SetKind }
  | { readonly kind: 'scale'; readonly namespace: string; readonly deployment: string; readonly replicas: number; readonly workloadKind?: SetKind }
  | { readonly kind: 'cordon'; readonly node: string }
  | { readonly kind: 'uncordon'; readonly node: string }
  | { readonly kind: 'drain'; readonly node: string }
  | { readonly kind: 'patch-configmap'; readonly namespace: string; readonly configMap: string; readonly key: string; readonly value: string };

export type ActionKind = ActionSpec['kind'];
export type RiskLevel = 'low' | 'medium' | 'high';

/** Default risk of each action; playbooks may raise it, never lower it below this. */
export const ACTION_RISK: Readonly<Record<ActionKind, RiskLevel>> = {
  'delete-pod': 'low',
  'rollout-restart': 'low',
  scale: 'low',
  'patch-configmap': 'medium',
  rollback: 'medium',
  cordon: 'medium',
  uncordon: 'low',
  drain: 'high',
};

export function actionTarget(a: ActionSpec): TargetRef {
  switch (a.kind) {
    case 'delete-pod':
      return { kind: 'pod', namespace: a.namespace, name: a.pod };
    case 'rollout-restart':
    case 'rollback':
    case 'scale':
      return { kind: 'service', namespace: a.namespace, name: a.deployment };
    case 'cordon':
    case 'uncordon':
    case 'drain':
      return { kind: 'node', name: a.node };
    case 'patch-configmap':
      return { kind: 'service', namespace: a.namespace, name: a.configMap };
  }
}

/** How kubectl names the workload an action acts on: deployment, statefulset or daemonset. */
export function workloadNoun(a: { readonly workloadKind?: SetKind }): 'deployment' | 'statefulset' | 'daemonset' {
  return a.workloadKind === 'StatefulSet' ? 'statefulset' : a.workloadKind === 'DaemonSet' ? 'daemonset' : 'deployment';
}

/** kubectl-like one-liner, for timelines and approval prompts. */
export function describeAction(a: ActionSpec): string {
  switch (a.kind) {
    case 'delete-pod':
      return `delete pod ${a.namespace}/${a.pod}`;
    case 'rollout-restart':
      return `rollout restart ${workloadNoun(a)} ${a.namespace}/${a.deployment}`;
    case 'rollback':
      return `rollout undo ${workloadNoun(a)} ${a.namespace}/${a.deployment}${a.toRevision !== undefined ? ` --to-revision=${a.toRevision}` : ''}`;
    case 'scale':
      return `scale ${workloadNoun(a)} ${a.namespace}/${a.deployment} --replicas=${a.replicas}`;
    case 'cordon':
      return `cordon node ${a.node}`;
    case 'uncordon':
      return `uncordon node ${a.node}`;
    case 'drain':
      return `drain node ${a.node} --ignore-daemonsets --delete-emptydir-data`;
    case 'patch-configmap':
      return `patch configmap ${a.namespace}/${a.configMap} ${a.key}=${JSON.stringify(a.value)}`;
  }
}

/** What an action did, or would do in a dry run. */
export interface ActionResult {
  readonly action: ActionSpec;
  readonly dryRun: boolean;
  /** False when the cluster was already in the wanted state (idempotent retry). */
  readonly changed: boolean;
  /** Human summary: "deployment shop/checkout rolled back from revision 4 to 3". */
  readonly summary: string;
  /** Before/after of the fields the action touches, for the approval diff. */
  readonly diff?: ReadonlyArray<{ readonly path: string; readonly before: unknown; readonly after: unknown }>;
  /** Kubernetes objects written, as kind/namespace/name@resourceVersion. */
  readonly objects?: ReadonlyArray<string>;
}
