import type * as k8s from '@kubernetes/client-node';
import { ClusterError } from '../../core/act/clusterError';
import { describeAction, type ActionResult, type ActionSpec } from '../../core/model/action';
import type { ClusterPort, LeaseState } from '../../core/ports';
import { sortDeep } from './setRevisions';

type K8sModule = typeof import('@kubernetes/client-node');
type Diff = NonNullable<ActionResult['diff']>;

/** A workload a service target names, with a patch of its own kind (resolves to the new resourceVersion). */
interface Workload {
  readonly kind: 'Deployment' | 'StatefulSet' | 'DaemonSet';
  readonly noun: 'deployment' | 'statefulset' | 'daemonset';
  readonly object: k8s.V1Deployment | k8s.V1StatefulSet | k8s.V1DaemonSet;
  readonly template: k8s.V1PodTemplateSpec | undefined;
  patch(body: object, strategy: string, dryRun: string | undefined): Promise<string>;
}

const ACTION_ID_ANNOTATION = 'vigil.dev/action-id';
const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';
const REVISION = 'deployment.kubernetes.io/revision';
const FIELD_MANAGER = 'vigil';

/**
 * ClusterPort over @kubernetes/client-node. Every write names its patch Content-Type explicitly,
 * runs as `dryRun=All` when asked, and checks the live object first so a retry is a no-op.
 */
export class KubernetesCluster implements ClusterPort {
  private readonly core: k8s.CoreV1Api;
  private readonly apps: k8s.AppsV1Api;
  private readonly coordination: k8s.CoordinationV1Api;

  constructor(
    private readonly lib: K8sModule,
    kubeConfig: k8s.KubeConfig,
    private readonly now: () => number = Date.now,
    private readonly drainTimeoutMs = 60_000,
  ) {
    this.core = kubeConfig.makeApiClient(lib.CoreV1Api);
    this.apps = kubeConfig.makeApiClient(lib.AppsV1Api);
    this.coordination = kubeConfig.makeApiClient(lib.CoordinationV1Api);
  }

  /** Loads client-node lazily (it is large and ESM-only) and the kubeconfig. */
  static async connect(options: { kubeconfig?: string; context?: string } = {}): Promise<KubernetesCluster> {
    const lib = await import('@kubernetes/client-node');
    const kc = new lib.KubeConfig();
    if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
    else kc.loadFromDefault();
    if (options.context) kc.setCurrentContext(options.context);
    return new KubernetesCluster(lib, kc);
  }

  private patchOptions(strategy: string) {
    return this.lib.setHeaderOptions('Content-Type', strategy);
  }

  async execute(action: ActionSpec, options: { readonly dryRun: boolean; readonly actionId?: string }): Promise<ActionResult> {
    try {
      return await this.run(action, options.dryRun, options.actionId ?? `adhoc-${this.now()}`);
    } catch (err) {
      throw toClusterError(err, describeAction(action));
    }
  }

  /**
   * Whether the write of `actionId` is already on its object: every write but a pod's deletion carries the
   * `vigil.dev/action-id` annotation (a restart on the pod template, with restartedAt; a rollback or scale on the
   * Deployment, StatefulSet or DaemonSet; a cordon on the Node; a config value on the ConfigMap), written in the same request as the change.
   */
  async landed(a: ActionSpec, actionId: string): Promise<boolean> {
    try {
      switch (a.kind) {
        case 'delete-pod': {
          const pod = await this.readOrUndefined(() => this.core.readNamespacedPod({ name: a.pod, namespace: a.namespace }));
          return !pod || !!pod.metadata?.deletionTimestamp;
        }
        case 'rollout-restart':
          return (await this.workload(a.namespace, a.deployment)).template?.metadata?.annotations?.[ACTION_ID_ANNOTATION] === actionId;
        case 'rollback':
        case 'scale':
          return (await this.workload(a.namespace, a.deployment)).object.metadata?.annotations?.[ACTION_ID_ANNOTATION] === actionId;
        case 'cordon':
        case 'uncordon':
          return (await this.core.readNode({ name: a.node })).metadata?.annotations?.[ACTION_ID_ANNOTATION] === actionId;
        case 'drain':
          return false; // evictions carry no marker; a drain run again cordons nothing twice and evicts only what is left
        case 'patch-configmap':
          return (await this.core.readNamespacedConfigMap({ name: a.configMap, namespace: a.namespace })).metadata?.annotations?.[ACTION_ID_ANNOTATION] === actionId;
      }
    } catch (err) {
      throw toClusterError(err, `read the target of ${describeAction(a)}`);
    }
  }

  private async run(a: ActionSpec, dryRun: boolean, actionId: string): Promise<ActionResult> {
    const dry = dryRun ? 'All' : undefined;
    const result = (changed: boolean, summary: string, diff?: Diff, objects?: string[]): ActionResult => ({ action: a, dryRun, changed, summary: dryRun ? `dry run: ${summary}` : summary, diff, objects });
    switch (a.kind) {
      case 'delete-pod': {
        const pod = await this.readOrUndefined(() => this.core.readNamespacedPod({ name: a.pod, namespace: a.namespace }));
        if (!pod) return result(false, `pod ${a.namespace}/${a.pod} is already gone`);
        await this.core.deleteNamespacedPod({ name: a.pod, namespace: a.namespace, dryRun: dry });
        return result(true, `deleted pod ${a.namespace}/${a.pod} (its controller replaces it)`, [{ path: `pod/${a.pod}`, before: pod.status?.phase ?? 'Unknown', after: 'deleted' }], [`Pod/${a.namespace}/${a.pod}`]);
      }
      case 'rollout-restart': {
        const w = await this.workload(a.namespace, a.deployment);
        const ann = w.template?.metadata?.annotations ?? {};
        if (ann[ACTION_ID_ANNOTATION] === actionId) return result(false, `${w.noun} ${a.namespace}/${a.deployment} was already restarted by this action`);
        const at = new Date(this.now()).toISOString();
        // what kubectl rollout restart writes, for each kind: its controller replaces the pods (a StatefulSet in ordinal order)
        const patch = { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: at, [ACTION_ID_ANNOTATION]: actionId } } } } };
        const version = await w.patch(patch, this.lib.PatchStrategy.StrategicMergePatch, dry);
        return result(true, `rollout restart of ${w.noun} ${a.namespace}/${a.deployment}`, [{ path: `spec.template.metadata.annotations.${RESTARTED_AT}`, before: ann[RESTARTED_AT] ?? null, after: at }], [`${w.kind}/${a.namespace}/${a.deployment}@${version}`]);
      }
      case 'rollback': {
        const w = await this.workload(a.namespace, a.deployment);
        if (w.kind !== 'Deployment') return this.rollbackToRevision(w, a.namespace, a.deployment, a.toRevision, dry, result, actionId);
        const d = w.object as k8s.V1Deployment;
        const current = Number(d.metadata?.annotations?.[REVISION] ?? 0);
        const sets = await this.replicaSetsOf(d);
        const target = a.toRevision !== undefined ? sets.find((s) => s.revision === a.toRevision) : sets.filter((s) => s.revision < current).sort((x, y) => y.revision - x.revision)[0];
        if (!target) {
          throw new ClusterError(`cannot roll back ${a.namespace}/${a.deployment}: ${a.toRevision !== undefined ? `revision ${a.toRevision} not found` : 'no previous revision'} (known: ${sets.map((s) => s.revision).join(', ') || 'none'})`, 404, 'NotFound');
        }
        const template = structuredClone(target.rs.spec?.template ?? {}) as k8s.V1PodTemplateSpec;
        if (template.metadata?.labels) delete template.metadata.labels['pod-template-hash'];
        const currentImage = d.spec?.template?.spec?.containers?.[0]?.image;
        const targetImage = template.spec?.containers?.[0]?.image;
        if (sameTemplate(d.spec?.template, template)) return result(false, `deployment ${a.namespace}/${a.deployment} already runs the template of revision ${target.revision}`);
        // the marker in the same request as the change: a new leader reads it to know this write landed
        const marker = d.metadata?.annotations ? { op: 'add', path: `/metadata/annotations/${ACTION_ID_ANNOTATION.replace('/', '~1')}`, value: actionId } : { op: 'add', path: '/metadata/annotations', value: { [ACTION_ID_ANNOTATION]: actionId } };
        const patch = [{ op: 'replace', path: '/spec/template', value: template }, marker];
        const out = await this.apps.patchNamespacedDeployment({ name: a.deployment, namespace: a.namespace, body: patch, dryRun: dry, fieldManager: FIELD_MANAGER }, this.patchOptions(this.lib.PatchStrategy.JsonPatch));
        return result(true, `rolled back deployment ${a.namespace}/${a.deployment} from revision ${current} to the template of revision ${target.revision}`, [{ path: 'spec.template.spec.containers[0].image', before: currentImage, after: targetImage }], [`Deployment/${a.namespace}/${a.deployment}@${out.metadata?.resourceVersion ?? ''}`]);
      }
      case 'scale': {
        const w = await this.workload(a.namespace, a.deployment);
        if (w.kind === 'DaemonSet') {
          throw new ClusterError(`cannot scale daemonset ${a.namespace}/${a.deployment}: a DaemonSet runs one pod per eligible node and has no replica count; restart or roll it back instead`, 422, 'Invalid');
        }
        const sts = w.kind === 'StatefulSet';
        const ref = { name: a.deployment, namespace: a.namespace };
        const s = sts ? await this.apps.readNamespacedStatefulSetScale(ref) : await this.apps.readNamespacedDeploymentScale(ref);
        const before = s.spec?.replicas ?? 0;
        if (before === a.replicas) return result(false, `${w.noun} ${a.namespace}/${a.deployment} already has ${a.replicas} replicas`);
        // on the object rather than its scale subresource, so the marker rides in the same request
        await w.patch({ metadata: { annotations: { [ACTION_ID_ANNOTATION]: actionId } }, spec: { replicas: a.replicas } }, this.lib.PatchStrategy.MergePatch, dry);
        return result(true, `scaled ${w.noun} ${a.namespace}/${a.deployment} from ${before} to ${a.replicas} replicas`, [{ path: 'spec.replicas', before, after: a.replicas }], [`${w.kind}/${a.namespace}/${a.deployment}`]);
      }
      case 'cordon':
      case 'uncordon':
        return this.setUnschedulable(a.node, a.kind === 'cordon', dry, result, actionId);
      case 'drain':
        return this.drain(a.node, dry, result, actionId);
      case 'patch-configmap': {
        const cm = await this.core.readNamespacedConfigMap({ name: a.configMap, namespace: a.namespace });
        const before = cm.data?.[a.key];
        if (before === a.value) return result(false, `configmap ${a.namespace}/${a.configMap} already has ${a.key}=${JSON.stringify(a.value)}`);
        await this.core.patchNamespacedConfigMap({ name: a.configMap, namespace: a.namespace, body: { metadata: { annotations: { [ACTION_ID_ANNOTATION]: actionId } }, data: { [a.key]: a.value } }, dryRun: dry, fieldManager: FIELD_MANAGER }, this.patchOptions(this.lib.PatchStrategy.MergePatch));
        return result(true, `set ${a.key}=${JSON.stringify(a.value)} in configmap ${a.namespace}/${a.configMap} (was ${JSON.stringify(before ?? null)})`, [{ path: `data.${a.key}`, before: before ?? null, after: a.value }], [`ConfigMap/${a.namespace}/${a.configMap}`]);
      }
    }
  }

  /**
   * The workload a service target names: a Deployment, else a StatefulSet, else a DaemonSet of that name (the target
   * is namespace/name; pods map to whichever of the three owns them). Its pod template and a patch of its own kind.
   */
  private async workload(namespace: string, name: string): Promise<Workload> {
    const ref = { name, namespace };
    const d = await this.readOrUndefined(() => this.apps.readNamespacedDeployment(ref));
    if (d) return { kind: 'Deployment', noun: 'deployment', object: d, template: d.spec?.template, patch: async (body, strategy, dryRun) => (await this.apps.patchNamespacedDeployment({ ...ref, body, dryRun, fieldManager: FIELD_MANAGER }, this.patchOptions(strategy))).metadata?.resourceVersion ?? '' };
    const sts = await this.readOrUndefined(() => this.apps.readNamespacedStatefulSet(ref));
    if (sts) return { kind: 'StatefulSet', noun: 'statefulset', object: sts, template: sts.spec?.template, patch: async (body, strategy, dryRun) => (await this.apps.patchNamespacedStatefulSet({ ...ref, body, dryRun, fieldManager: FIELD_MANAGER }, this.patchOptions(strategy))).metadata?.resourceVersion ?? '' };
    const ds = await this.readOrUndefined(() => this.apps.readNamespacedDaemonSet(ref));
    if (ds) return { kind: 'DaemonSet', noun: 'daemonset', object: ds, template: ds.spec?.template, patch: async (body, strategy, dryRun) => (await this.apps.patchNamespacedDaemonSet({ ...ref, body, dryRun, fieldManager: FIELD_MANAGER }, this.patchOptions(strategy))).metadata?.resourceVersion ?? '' };
    throw new ClusterError(`no deployment, statefulset or daemonset named ${namespace}/${name}`, 404, 'NotFound');
  }

  /**
   * `kubectl rollout undo` of a StatefulSet or DaemonSet: the ControllerRevisions it owns hold each template as a
   * strategic merge patch; the current one is the StatefulSet's updateRevision (a DaemonSet's highest), and the patch
   * of the one before (or `toRevision`) is applied to the object.
   */
  private async rollbackToRevision(w: Workload, namespace: string, name: string, toRevision: number | undefined, dry: string | undefined, result: (changed: boolean, summary: string, diff?: Diff, objects?: string[]) => ActionResult, actionId: string): Promise<ActionResult> {
    const obj = w.object as k8s.V1StatefulSet | k8s.V1DaemonSet;
    const selector = Object.entries(obj.spec?.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
    const list = await this.apps.listNamespacedControllerRevision({ namespace, labelSelector: selector || undefined });
    const revisions = list.items.filter((r) => r.metadata?.ownerReferences?.some((o) => o.kind === w.kind && o.uid === obj.metadata?.uid)).sort((x, y) => x.revision - y.revision);
    const updateRevision = w.kind === 'StatefulSet' ? (obj as k8s.V1StatefulSet).status?.updateRevision : undefined;
    const current = revisions.find((r) => r.metadata?.name === updateRevision)?.revision ?? revisions.at(-1)?.revision ?? 0;
    const target = toRevision !== undefined ? revisions.find((r) => r.revision === toRevision) : revisions.filter((r) => r.revision < current).at(-1);
    if (!target) {
      throw new ClusterError(`cannot roll back ${w.noun} ${namespace}/${name}: ${toRevision !== undefined ? `revision ${toRevision} not found` : 'no previous revision'} (known: ${revisions.map((r) => r.revision).join(', ') || 'none'})`, 404, 'NotFound');
    }
    const data = target.data as { spec?: { template?: k8s.V1PodTemplateSpec & { $patch?: string } } } | undefined;
    const { $patch: _replace, ...template } = data?.spec?.template ?? {};
    const currentImage = w.template?.spec?.containers?.[0]?.image;
    const targetImage = template.spec?.containers?.[0]?.image;
    if (sameTemplate(w.template, template)) return result(false, `${w.noun} ${namespace}/${name} already runs the template of revision ${target.revision}`);
    // the marker in the same request as the change: a new leader reads it to know this write landed
    const version = await w.patch({ ...(data ?? {}), metadata: { annotations: { [ACTION_ID_ANNOTATION]: actionId } } }, this.lib.PatchStrategy.StrategicMergePatch, dry);
    return result(true, `rolled back ${w.noun} ${namespace}/${name} from revision ${current} to the template of revision ${target.revision} (ControllerRevision ${target.metadata?.name})`, [{ path: 'spec.template.spec.containers[0].image', before: currentImage, after: targetImage }], [`${w.kind}/${namespace}/${name}@${version}`]);
  }

  private async setUnschedulable(node: string, want: boolean, dry: string | undefined, result: (changed: boolean, summary: string, diff?: Diff, objects?: string[]) => ActionResult, actionId: string): Promise<ActionResult> {
    const n = await this.core.readNode({ name: node });
    const before = n.spec?.unschedulable === true;
    const verb = want ? 'cordoned' : 'uncordoned';
    if (before === want) return result(false, `node ${node} is already ${verb}`);
    await this.core.patchNode({ name: node, body: { metadata: { annotations: { [ACTION_ID_ANNOTATION]: actionId } }, spec: { unschedulable: want } }, dryRun: dry, fieldManager: FIELD_MANAGER }, this.patchOptions(this.lib.PatchStrategy.StrategicMergePatch));
    return result(true, `${verb} node ${node}`, [{ path: 'spec.unschedulable', before, after: want }], [`Node/${node}`]);
  }

  /** Cordon, then evict every pod but DaemonSet and mirror pods, honouring PodDisruptionBudgets (429 means wait). */
  private async drain(node: string, dry: string | undefined, result: (changed: boolean, summary: string, diff?: Diff, objects?: string[]) => ActionResult, actionId: string): Promise<ActionResult> {
    const cordon = await this.setUnschedulable(node, true, dry, result, actionId);
    const deadline = this.now() + this.drainTimeoutMs;
    const evicted: string[] = [];
    for (;;) {
      const pods = (await this.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` })).items.filter(
        (p) => !p.metadata?.ownerReferences?.some((o) => o.kind === 'DaemonSet') && !p.metadata?.annotations?.['kubernetes.io/config.mirror'] && !p.metadata?.deletionTimestamp,
      );
      const waiting: string[] = [];
      for (const p of pods) {
        const name = p.metadata?.name ?? '';
        const namespace = p.metadata?.namespace ?? 'default';
        if (evicted.includes(`${namespace}/${name}`) && dry) continue;
        try {
          await this.core.createNamespacedPodEviction({ name, namespace, dryRun: dry, body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace }, deleteOptions: dry ? { dryRun: ['All'] } : undefined } });
          evicted.push(`${namespace}/${name}`);
        } catch (err) {
          const e = toClusterError(err, `evict pod ${namespace}/${name}`);
          if (e.status === 404) continue;
          if (e.status !== 429) throw e;
          waiting.push(`${namespace}/${name}`);
        }
      }
      if (waiting.length === 0 || dry) {
        return result(cordon.changed || evicted.length > 0, `drained node ${node}: cordoned${evicted.length ? `, evicted ${evicted.length} pod(s): ${evicted.join(', ')}` : ', no pods to evict'}`, [...(cordon.diff ?? []), ...evicted.map((p) => ({ path: `pod/${p}`, before: node, after: 'evicted' }))], [`Node/${node}`]);
      }
      if (this.now() > deadline) {
        throw new ClusterError(`drain of node ${node} stopped: ${waiting.length} pod(s) still blocked by a PodDisruptionBudget after ${Math.round(this.drainTimeoutMs / 1000)} s (${waiting.join(', ')}); evicted ${evicted.length}`, 429, 'TooManyRequests');
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
  }

  private async replicaSetsOf(d: k8s.V1Deployment): Promise<Array<{ revision: number; rs: k8s.V1ReplicaSet }>> {
    const namespace = d.metadata?.namespace ?? 'default';
    const selector = Object.entries(d.spec?.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
    const list = await this.apps.listNamespacedReplicaSet({ namespace, labelSelector: selector || undefined });
    return list.items
      .filter((rs) => rs.metadata?.ownerReferences?.some((o) => o.kind === 'Deployment' && o.uid === d.metadata?.uid))
      .map((rs) => ({ revision: Number(rs.metadata?.annotations?.[REVISION] ?? 0), rs }))
      .sort((x, y) => x.revision - y.revision);
  }

  async rolloutStatus(namespace: string, deployment: string): Promise<{ readonly complete: boolean; readonly message: string; readonly revision: number }> {
    try {
      const w = await this.workload(namespace, deployment);
      if (w.kind === 'StatefulSet') return describeStatefulSetRollout(w.object as k8s.V1StatefulSet);
      if (w.kind === 'DaemonSet') return describeDaemonSetRollout(w.object as k8s.V1DaemonSet);
      return describeRollout(w.object as k8s.V1Deployment);
    } catch (err) {
      throw toClusterError(err, `read deployment ${namespace}/${deployment}`);
    }
  }

  async acquireLease(name: string, namespace: string, identity: string, durationSeconds: number): Promise<LeaseState> {
    const now = this.now();
    const micro = (t: number) => new this.lib.V1MicroTime(t);
    try {
      const lease = await this.readOrUndefined(() => this.coordination.readNamespacedLease({ name, namespace }));
      if (!lease) {
        await this.coordination.createNamespacedLease({
          namespace,
          body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: micro(now), renewTime: micro(now), leaseTransitions: 0 } },
        });
        return { holder: identity, held: true, renewTime: now };
      }
      const spec = lease.spec ?? {};
      const renew = spec.renewTime ? new Date(spec.renewTime as unknown as string).getTime() : 0;
      const expired = renew + (spec.leaseDurationSeconds ?? durationSeconds) * 1000 < now;
      if (spec.holderIdentity && spec.holderIdentity !== identity && !expired) return { holder: spec.holderIdentity, held: false, renewTime: renew };
      const taking = spec.holderIdentity !== identity;
      await this.coordination.replaceNamespacedLease({
        name,
        namespace,
        body: {
          ...lease,
          spec: {
            ...spec,
            holderIdentity: identity,
            leaseDurationSeconds: durationSeconds,
            renewTime: micro(now),
            acquireTime: taking ? micro(now) : spec.acquireTime ? micro(new Date(spec.acquireTime as unknown as string).getTime()) : micro(now),
            leaseTransitions: (spec.leaseTransitions ?? 0) + (taking ? 1 : 0),
          },
        },
      });
      return { holder: identity, held: true, renewTime: now };
    } catch (err) {
      const e = toClusterError(err, `acquire Lease ${namespace}/${name}`);
      if (e.status === 409) {
        // someone else renewed or took it between our read and write
        const lease = await this.coordination.readNamespacedLease({ name, namespace });
        return { holder: lease.spec?.holderIdentity, held: lease.spec?.holderIdentity === identity };
      }
      throw e;
    }
  }

  async releaseLease(name: string, namespace: string, identity: string): Promise<void> {
    try {
      const lease = await this.readOrUndefined(() => this.coordination.readNamespacedLease({ name, namespace }));
      if (!lease || lease.spec?.holderIdentity !== identity) return;
      await this.coordination.replaceNamespacedLease({ name, namespace, body: { ...lease, spec: { ...lease.spec, holderIdentity: undefined, renewTime: undefined, acquireTime: undefined } } });
    } catch (err) {
      throw toClusterError(err, `release Lease ${namespace}/${name}`);
    }
  }

  private async readOrUndefined<T>(read: () => Promise<T>): Promise<T | undefined> {
    try {
      return await read();
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }
}

/** Reads a deployment's rollout as `kubectl rollout status` does. */
export function describeRollout(d: k8s.V1Deployment): { complete: boolean; message: string; revision: number } {
  const name = `${d.metadata?.namespace}/${d.metadata?.name}`;
  const revision = Number(d.metadata?.annotations?.[REVISION] ?? 0);
  const want = d.spec?.replicas ?? 1;
  const st = d.status ?? {};
  if ((st.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) return { complete: false, message: `Waiting for deployment ${name} spec update to be observed...`, revision };
  const progressing = st.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') return { complete: false, message: `deployment ${name} exceeded its progress deadline`, revision };
  const updated = st.updatedReplicas ?? 0;
  if (updated < want) return { complete: false, message: `Waiting for deployment ${name} rollout to finish: ${updated} out of ${want} new replicas have been updated...`, revision };
  if ((st.replicas ?? 0) > updated) return { complete: false, message: `Waiting for deployment ${name} rollout to finish: ${(st.replicas ?? 0) - updated} old replicas are pending termination...`, revision };
  if ((st.availableReplicas ?? 0) < updated) return { complete: false, message: `Waiting for deployment ${name} rollout to finish: ${st.availableReplicas ?? 0} of ${updated} updated replicas are available...`, revision };
  return { complete: true, message: `deployment ${name} successfully rolled out`, revision };
}

/** `kubectl rollout status` of a StatefulSet (RollingUpdate): every replica updated and ready; revision = the updateRevision's number. */
export function describeStatefulSetRollout(s: k8s.V1StatefulSet): { complete: boolean; message: string; revision: number } {
  const name = `${s.metadata?.namespace}/${s.metadata?.name}`;
  const st = s.status ?? { replicas: 0 };
  const revision = Number(/-(\d+)$/.exec(st.updateRevision ?? '')?.[1] ?? 0) || (s.metadata?.generation ?? 0);
  const want = s.spec?.replicas ?? 1;
  if ((st.observedGeneration ?? 0) < (s.metadata?.generation ?? 0)) return { complete: false, message: `Waiting for statefulset ${name} spec update to be observed...`, revision };
  if ((st.readyReplicas ?? 0) < want) return { complete: false, message: `Waiting for ${want - (st.readyReplicas ?? 0)} pods to be ready...`, revision };
  if ((st.updatedReplicas ?? 0) < want || (st.updateRevision && st.currentRevision !== st.updateRevision)) return { complete: false, message: `Waiting for statefulset ${name} rolling update to complete ${st.updatedReplicas ?? 0} pods at revision ${st.updateRevision}...`, revision };
  return { complete: true, message: `statefulset ${name} rolling update complete ${want} pods at revision ${st.updateRevision}...`, revision };
}

/** `kubectl rollout status` of a DaemonSet: a pod of the current template scheduled and available on every node that should run one. */
export function describeDaemonSetRollout(d: k8s.V1DaemonSet): { complete: boolean; message: string; revision: number } {
  const name = `${d.metadata?.namespace}/${d.metadata?.name}`;
  const st = d.status ?? { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 };
  const revision = d.metadata?.generation ?? 0;
  if ((st.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) return { complete: false, message: `Waiting for daemon set ${name} spec update to be observed...`, revision };
  const want = st.desiredNumberScheduled ?? 0;
  if ((st.updatedNumberScheduled ?? 0) < want) return { complete: false, message: `Waiting for daemon set ${name} rollout to finish: ${st.updatedNumberScheduled ?? 0} out of ${want} new pods have been updated...`, revision };
  if ((st.numberAvailable ?? 0) < want) return { complete: false, message: `Waiting for daemon set ${name} rollout to finish: ${st.numberAvailable ?? 0} of ${want} updated pods are available...`, revision };
  return { complete: true, message: `daemon set ${name} successfully rolled out`, revision };
}

function sameTemplate(a: unknown, b: unknown): boolean {
  const strip = (t: unknown) => {
    const c = structuredClone(t ?? {}) as k8s.V1PodTemplateSpec;
    if (c.metadata?.labels) delete c.metadata.labels['pod-template-hash'];
    if (c.metadata?.annotations) {
      delete c.metadata.annotations[RESTARTED_AT];
      delete c.metadata.annotations[ACTION_ID_ANNOTATION];
    }
    return JSON.stringify(sortDeep(c));
  };
  return strip(a) === strip(b);
}

function statusOf(err: unknown): number {
  const e = err as { code?: unknown; statusCode?: unknown };
  return typeof e?.code === 'number' ? e.code : typeof e?.statusCode === 'number' ? e.statusCode : 0;
}

/** Turns a client-node ApiException or a network error into a ClusterError with the server's own words. */
export function toClusterError(err: unknown, what: string): ClusterError {
  if (err instanceof ClusterError) return err;
  const status = statusOf(err);
  let reason: string | undefined;
  let message = err instanceof Error ? err.message : String(err);
  const body = (err as { body?: unknown })?.body;
  if (body) {
    try {
      const parsed = (typeof body === 'string' ? JSON.parse(body) : body) as { message?: string; reason?: string };
      if (parsed.message) message = parsed.message;
      reason = parsed.reason;
    } catch {
      // not a Status body; keep the exception's message
    }
  }
  const e = new ClusterError(`${what}: ${status ? `HTTP ${status}: ` : ''}${message}`, status, reason);
  return e.hint ? new ClusterError(`${e.message} — ${e.hint}`, status, reason) : e;
}
