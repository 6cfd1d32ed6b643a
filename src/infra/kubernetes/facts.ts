import type * as k8s from '@kubernetes/client-node';
import type { ClusterFact } from '../../core/model/fact';
import type { TargetRef } from '../../core/model/target';
import { deploymentRevision, nodeReady, rolloutInProgress, serviceOfPod, templateConfigMaps, type ReplicaSetLookup } from './inventory';
import { setFacts, type SetObject } from './setRevisions';

/**
 * Facts for correlation, derived by diffing an object's previous and current version.
 * Pod facts are about the pod's service (deployment), with the pod in `attributes.pod`.
 */

export function podFacts(prev: k8s.V1Pod | undefined, cur: k8s.V1Pod | undefined, service: TargetRef | undefined, t: number): ClusterFact[] {
  if (!cur) return [];
  const ns = cur.metadata?.namespace;
  const name = cur.metadata?.name ?? '';
  const target: TargetRef = service ?? { kind: 'pod', namespace: ns, name };
  const facts: ClusterFact[] = [];
  const before = new Map((prev?.status?.containerStatuses ?? []).map((c) => [c.name, c]));
  for (const c of cur.status?.containerStatuses ?? []) {
    const old = before.get(c.name);
    const restarted = old !== undefined && (c.restartCount ?? 0) > (old.restartCount ?? 0);
    const attributes = { pod: name, container: c.name, restarts: c.restartCount ?? 0 };
    if (restarted) {
      const term = c.lastState?.terminated;
      facts.push({ kind: 'pod-restarted', t, target, reason: term?.reason, message: `Container ${c.name} of pod ${name} restarted (${c.restartCount} restarts${term?.reason ? `, last exit ${term.reason}` : ''})`, attributes });
      if (term?.reason === 'OOMKilled') facts.push({ kind: 'oom-killed', t, target, reason: 'OOMKilled', message: `Container ${c.name} of pod ${name} was OOM-killed`, attributes });
    }
    const waiting = c.state?.waiting?.reason;
    if (waiting === 'CrashLoopBackOff' && old?.state?.waiting?.reason !== 'CrashLoopBackOff') {
      facts.push({ kind: 'crash-backoff', t, target, reason: 'CrashLoopBackOff', message: `Container ${c.name} of pod ${name} is in CrashLoopBackOff`, attributes });
    }
  }
  if (cur.status?.reason === 'Evicted' && prev?.status?.reason !== 'Evicted') {
    facts.push({ kind: 'pod-evicted', t, target, reason: 'Evicted', message: `Pod ${name} was evicted: ${cur.status?.message ?? ''}`.trim(), attributes: { pod: name, node: cur.spec?.nodeName ?? '' } });
  }
  return facts;
}

export function deploymentFacts(prev: k8s.V1Deployment | undefined, cur: k8s.V1Deployment | undefined, t: number): ClusterFact[] {
  if (!cur || !prev) return [];
  const target: TargetRef = { kind: 'service', namespace: cur.metadata?.namespace, name: cur.metadata?.name ?? '' };
  const facts: ClusterFact[] = [];
  const oldRev = deploymentRevision(prev);
  const newRev = deploymentRevision(cur);
  const image = cur.spec?.template?.spec?.containers?.[0]?.image ?? '';
  const oldImage = prev.spec?.template?.spec?.containers?.[0]?.image ?? '';
  if (newRev !== oldRev && oldRev > 0) {
    facts.push({ kind: 'revision-changed', t, target, message: `${target.namespace}/${target.name} moved from revision ${oldRev} to ${newRev}${image !== oldImage ? ` (image ${oldImage} → ${image})` : ''}`, attributes: { from: oldRev, to: newRev, image, previousImage: oldImage } });
  }
  const wasRolling = rolloutInProgress(prev);
  const isRolling = rolloutInProgress(cur);
  const templateChanged = (cur.metadata?.generation ?? 0) > (prev.metadata?.generation ?? 0) && JSON.stringify(cur.spec?.template) !== JSON.stringify(prev.spec?.template);
  // only a new template starts a rollout; a replaced pod or a scale change does not
  if (templateChanged || (isRolling && !wasRolling && (cur.metadata?.generation ?? 0) > (prev.metadata?.generation ?? 0))) {
    facts.push({ kind: 'rollout-started', t, target, message: `Rollout of ${target.namespace}/${target.name} started (image ${image})`, attributes: { revision: newRev, image } });
  }
  if (wasRolling && !isRolling) facts.push({ kind: 'rollout-finished', t, target, message: `Rollout of ${target.namespace}/${target.name} finished at revision ${newRev}`, attributes: { revision: newRev, image } });
  const oldReplicas = prev.spec?.replicas ?? 1;
  const newReplicas = cur.spec?.replicas ?? 1;
  if (oldReplicas !== newReplicas) facts.push({ kind: 'scaled', t, target, reason: 'ScalingReplicaSet', message: `${target.namespace}/${target.name} scaled from ${oldReplicas} to ${newReplicas} replicas`, attributes: { from: oldReplicas, to: newReplicas } });
  return facts;
}

export function nodeFacts(prev: k8s.V1Node | undefined, cur: k8s.V1Node | undefined, t: number): ClusterFact[] {
  if (!cur || !prev) return [];
  const target: TargetRef = { kind: 'node', name: cur.metadata?.name ?? '' };
  const was = nodeReady(prev);
  const is = nodeReady(cur);
  if (was && !is) {
    const cond = cur.status?.conditions?.find((c) => c.type === 'Ready');
    return [{ kind: 'node-not-ready', t, target, reason: cond?.reason ?? 'NodeNotReady', message: `Node ${target.name} is NotReady${cond?.message ? `: ${cond.message}` : ''}` }];
  }
  if (!was && is) return [{ kind: 'node-ready', t, target, reason: 'NodeReady', message: `Node ${target.name} is Ready again` }];
  return [];
}

/** A changed configmap, reported for every service whose pod template uses it. */
export function configMapFacts(prev: k8s.V1ConfigMap | undefined, cur: k8s.V1ConfigMap | undefined, users: ReadonlyArray<TargetRef>, t: number): ClusterFact[] {
  if (!cur || !prev) return [];
  const a = { ...(prev.data ?? {}), ...(prev.binaryData ?? {}) };
  const b = { ...(cur.data ?? {}), ...(cur.binaryData ?? {}) };
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => a[k] !== b[k]).sort();
  if (keys.length === 0) return [];
  const name = cur.metadata?.name ?? '';
  const targets: ReadonlyArray<TargetRef> = users.length > 0 ? users : [{ kind: 'service', namespace: cur.metadata?.namespace, name }];
  // one short value changed (a feature flag): what it was, so a playbook can put it back
  const flag = keys.length === 1 && short(a[keys[0]]) && short(b[keys[0]]) ? { key: keys[0], ...(a[keys[0]] !== undefined ? { previousValue: a[keys[0]] } : {}), ...(b[keys[0]] !== undefined ? { value: b[keys[0]] } : {}) } : {};
  return targets.map((target) => ({ kind: 'configmap-changed' as const, t, target, message: `ConfigMap ${cur.metadata?.namespace}/${name} changed (${keys.join(', ')})`, attributes: { configMap: name, keys: keys.join(','), ...flag } }));
}

const FLAG_VALUE_MAX = 256;

function short(v: string | undefined): boolean {
  return v === undefined || v.length <= FLAG_VALUE_MAX;
}

/** A Kubernetes Event as a fact about the service (or node) it concerns. */
export function eventFact(ev: k8s.CoreV1Event, resolve: (namespace: string | undefined, kind: string | undefined, name: string) => TargetRef | undefined, now: number): ClusterFact | undefined {
  const obj = ev.involvedObject;
  if (!obj?.name) return undefined;
  const target = resolve(obj.namespace ?? ev.metadata?.namespace, obj.kind, obj.name);
  if (!target) return undefined;
  const when = ev.lastTimestamp ?? ev.eventTime ?? ev.firstTimestamp ?? ev.metadata?.creationTimestamp;
  const t = when ? new Date(when as unknown as string).getTime() : now;
  return {
    kind: 'k8s-event',
    t: Number.isFinite(t) ? t : now,
    target,
    reason: ev.reason,
    message: `${obj.kind ?? 'Object'} ${obj.name}: ${ev.message ?? ev.reason ?? ''}`.trim(),
    severity: ev.type === 'Warning' ? 'Warning' : 'Normal',
    attributes: { involvedKind: obj.kind ?? '', involvedName: obj.name, count: ev.count ?? 1 },
  };
}

/** What a change's facts need to know about the rest of the cluster. */
export interface FactContext {
  /** A ReplicaSet by key: every pod change asks for its owner, so no list is copied or scanned for it. */
  replicaSet: ReplicaSetLookup;
  deployments(): ReadonlyArray<k8s.V1Deployment>;
  /** StatefulSets and DaemonSets (their templates may use a ConfigMap too). */
  sets(): ReadonlyArray<SetObject>;
  /** ControllerRevisions, for the revision numbers of StatefulSets and DaemonSets. */
  controllerRevisions(): ReadonlyArray<k8s.V1ControllerRevision>;
  resolve(namespace: string | undefined, kind: string | undefined, name: string): TargetRef | undefined;
}

/** The facts of one watched object's change (prev → cur; cur undefined when deleted), for any resource kind. */
export function factsOfChange(resource: string, prev: object | undefined, cur: object | undefined, ctx: FactContext, t: number): ClusterFact[] {
  switch (resource) {
    case 'pods': {
      const pod = (cur ?? prev) as k8s.V1Pod;
      return podFacts(prev as k8s.V1Pod | undefined, cur as k8s.V1Pod | undefined, serviceOfPod(pod, ctx.replicaSet), t);
    }
    case 'deployments':
      return deploymentFacts(prev as k8s.V1Deployment | undefined, cur as k8s.V1Deployment | undefined, t);
    case 'statefulsets':
      return setFacts('StatefulSet', prev as SetObject | undefined, cur as SetObject | undefined, ctx.controllerRevisions(), t);
    case 'daemonsets':
      return setFacts('DaemonSet', prev as SetObject | undefined, cur as SetObject | undefined, ctx.controllerRevisions(), t);
    case 'nodes':
      return nodeFacts(prev as k8s.V1Node | undefined, cur as k8s.V1Node | undefined, t);
    case 'configmaps': {
      const cm = (cur ?? prev) as k8s.V1ConfigMap;
      const users = [...ctx.deployments(), ...ctx.sets()]
        .filter((d) => d.metadata?.namespace === cm.metadata?.namespace && templateConfigMaps(d.spec?.template?.spec).includes(cm.metadata?.name ?? ''))
        .map((d) => ({ kind: 'service' as const, namespace: d.metadata!.namespace!, name: d.metadata!.name! }));
      return configMapFacts(prev as k8s.V1ConfigMap | undefined, cur as k8s.V1ConfigMap | undefined, users, t);
    }
    case 'events': {
      const ev = cur as k8s.CoreV1Event | undefined;
      // a re-list or an unrelated update of the same occurrence is not a new fact
      if (!ev || (prev && (prev as k8s.CoreV1Event).count === ev.count)) return [];
      const f = eventFact(ev, ctx.resolve, t);
      return f ? [f] : [];
    }
    default:
      return [];
  }
}
