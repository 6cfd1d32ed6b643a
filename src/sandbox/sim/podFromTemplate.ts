import type { Pod, PodTemplate } from './objects';

/**
 * A new Pod from its controller's template, with the defaults the API server fills in, as the ReplicaSet, StatefulSet
 * and DaemonSet controllers create them. `specDefaults` go under the template's spec, `specOverrides` over it.
 */
export function podFromTemplate(p: {
  readonly kind: 'ReplicaSet' | 'StatefulSet' | 'DaemonSet';
  readonly owner: { readonly metadata: { readonly name: string; readonly namespace?: string; readonly uid?: string } };
  readonly template: PodTemplate;
  readonly name: string;
  readonly generateName?: string;
  readonly labels?: Record<string, string>;
  readonly specDefaults?: Record<string, unknown>;
  readonly specOverrides?: Record<string, unknown>;
}): Pod {
  const t = p.template;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: p.name,
      ...(p.generateName ? { generateName: p.generateName } : {}),
      namespace: p.owner.metadata.namespace as string,
      labels: { ...t.metadata?.labels, ...p.labels },
      annotations: { ...t.metadata?.annotations },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: p.kind, name: p.owner.metadata.name, uid: p.owner.metadata.uid as string, controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default',
      schedulerName: 'default-scheduler',
      ...p.specDefaults,
      ...structuredClone(t.spec),
      ...p.specOverrides,
      containers: t.spec.containers.map((c) => ({ imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', ...structuredClone(c) })),
    },
    status: { phase: 'Pending', qosClass: 'Burstable' },
  } as Pod;
}
