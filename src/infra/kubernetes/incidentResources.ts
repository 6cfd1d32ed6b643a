/**
 * IncidentResourcesPort on the API server: incidents.vigil.dev/v1alpha1 Incident objects. One merge-patch of the
 * status subresource per write; the object is created first when that answers 404.
 */
import type { HumanDecision } from '../../core/model/decision';
import type { IncidentResource } from '../../core/model/incidentResource';
import type { Disposable, IncidentResourcesPort } from '../../core/ports';
import { ResilientInformer, type KubeObject } from './informers';
import type { KubeConnection } from './kubeClient';

interface IncidentObject extends KubeObject {
  readonly spec?: { readonly incidentId?: string; readonly decision?: { readonly action?: string; readonly stepId?: string; readonly by?: string } };
}

const GROUP_VERSION = 'vigil.dev/v1alpha1';
const CRD_HINT = 'install the CRD incidents.vigil.dev (deploy/helm/vigil/crds/incidents.vigil.dev.yaml, part of the Helm chart)';

export class KubernetesIncidentResources implements IncidentResourcesPort {
  constructor(private readonly conn: KubeConnection) {}

  /**
   * Decisions people write into spec.decision (kubectl patch, the sidebar, `vigil approve --kubeconfig`), as the
   * HumanDecision the control socket carries too. The admission policy of the chart makes `by` the requesting user.
   * Its id is derived from the object and the decision, so one seen again (a relist) is recognised by the ledger.
   */
  watchDecisions(onDecision: (d: HumanDecision) => void, onState: (state: 'synced' | 'failing', detail: string) => void): Disposable {
    const informer = new ResilientInformer<IncidentObject>(this.conn, { path: `/apis/${GROUP_VERSION}/incidents` }, {
      onChange: (prev, cur) => {
        const d = cur?.spec?.decision;
        if (!d?.action || !d.stepId || !d.by || !cur?.spec?.incidentId) return;
        const before = prev?.spec?.decision;
        if (before && before.action === d.action && before.stepId === d.stepId && before.by === d.by) return;
        const id = `k8s:${cur.metadata?.uid ?? cur.metadata?.name}:${d.stepId}:${d.action}:${d.by}`;
        const by = `user:${d.by} (kubernetes)`;
        const t = Date.now();
        if (d.action === 'approve') onDecision({ kind: 'approve', id, by, t, incidentId: cur.spec.incidentId, stepId: d.stepId });
        else if (d.action === 'reject') onDecision({ kind: 'reject', id, by, t, incidentId: cur.spec.incidentId, note: `rejected step ${d.stepId} through spec.decision` });
      },
      onState,
    });
    informer.start();
    return { dispose: () => informer.stop() };
  }

  async write(r: IncidentResource): Promise<void> {
    const collection = `/apis/${GROUP_VERSION}/namespaces/${encodeURIComponent(r.namespace)}/incidents`;
    const statusPath = `${collection}/${encodeURIComponent(r.name)}/status`;
    const patch = JSON.stringify({ status: r.status });
    let res = await this.conn.request('PATCH', statusPath, { body: patch, contentType: 'application/merge-patch+json' });
    if (res.status === 404) {
      const created = await this.conn.request('POST', collection, {
        body: JSON.stringify({ apiVersion: GROUP_VERSION, kind: 'Incident', metadata: { name: r.name, namespace: r.namespace, labels: { 'app.kubernetes.io/managed-by': 'vigil' } }, spec: r.spec }),
      });
      if (created.status === 404) throw new Error(`no Incident resources on this cluster (POST ${collection}: 404); ${CRD_HINT}`);
      if (created.status >= 300 && created.status !== 409) throw this.failure('POST', collection, created);
      res = await this.conn.request('PATCH', statusPath, { body: patch, contentType: 'application/merge-patch+json' });
    }
    if (res.status >= 300) throw this.failure('PATCH', statusPath, res);
  }

  private failure(method: string, path: string, res: { status: number; body: string }): Error {
    let message = res.body.slice(0, 300);
    try {
      message = (JSON.parse(res.body) as { message?: string }).message ?? message;
    } catch {
      // not a Status object: the raw body says more than nothing
    }
    const fix = res.status === 403 ? '; the agent\'s ServiceAccount needs create on incidents and patch on incidents/status (deploy/rbac/clusterrole.yaml)' : '';
    return new Error(`${method} ${path}: HTTP ${res.status} ${message}${fix}`);
  }
}
