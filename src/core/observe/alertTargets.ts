/**
 * Which workload a firing alert is about, from the labels kube-prometheus and most rule sets put on it:
 * `namespace` with `deployment`, `statefulset` or `daemonset`; or `pod` (mapped to its owner through the
 * inventory's pod→workload mapping); or `service` (a workload of that name). Anything else attaches to nothing.
 */
import type { FiringAlert } from '../model/alert';
import type { TargetRef } from '../model/target';
import type { WorkloadInventory } from '../ports';

export type PodResolver = (namespace: string, pod: string) => TargetRef | undefined;

export function alertTarget(alert: FiringAlert, inventory: WorkloadInventory, resolvePod?: PodResolver): TargetRef | undefined {
  const l = alert.labels;
  const namespace = l.namespace;
  if (!namespace) return undefined;
  const workload = l.deployment || l.statefulset || l.daemonset;
  if (workload) return { kind: 'service', namespace, name: workload };
  if (l.pod) {
    const owner = resolvePod?.(namespace, l.pod);
    if (owner) return owner;
    const s = inventory.services.find((x) => x.target.namespace === namespace && x.pods.some((p) => p.name === l.pod));
    if (s) return s.target;
  }
  if (l.service) {
    const s = inventory.services.find((x) => x.target.namespace === namespace && x.target.name === l.service);
    if (s) return s.target;
  }
  return undefined;
}
