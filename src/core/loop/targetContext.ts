import { replicasForLoad } from '../decide/playbookTemplates';
import type { Incident } from '../model/incident';
import type { WorkloadInventory } from '../ports';
import type { TargetContext } from './remediator';

/** Template and gate context of an incident, from the live inventory and the diagnosis' details. */
export function targetContext(i: Incident, inv: WorkloadInventory): TargetContext {
  const d = i.diagnosis?.details;
  const svc = inv.services.find((s) => s.target.namespace === i.target.namespace && s.target.name === i.target.name);
  const worst = svc ? [...svc.pods].sort((a, b) => Number(a.ready) - Number(b.ready) || b.restarts - a.restarts)[0] : undefined;
  const node = d?.node ?? (i.target.kind === 'node' ? i.target.name : undefined);
  return {
    target: { namespace: i.target.namespace, name: i.target.name },
    ...(svc?.workloadKind ? { workloadKind: svc.workloadKind } : {}),
    replicas: svc?.replicas,
    loadReplicas: svc?.replicas !== undefined && d?.loadRatio !== undefined ? replicasForLoad(svc.replicas, d.loadRatio) : undefined,
    revision: d?.revision ?? svc?.revision,
    previousRevision: d?.previousRevision,
    worstPod: d?.worstPod ?? worst?.name,
    node,
    flag: d?.flag,
    labels: svc?.labels,
    rolloutInProgress: svc?.rolloutInProgress,
    deploymentPods: svc ? { total: svc.replicas, unavailable: Math.max(0, svc.replicas - svc.availableReplicas), unavailablePods: svc.pods.filter((p) => !p.ready).map((p) => p.name) } : undefined,
    // the node being cordoned is not counted twice
    nodes: { total: inv.nodes.length, unschedulable: inv.nodes.filter((n) => n.name !== node && (n.unschedulable || !n.ready)).length },
  };
}
