/**
 * IncidentResourcesPort on the API server: incidents.vigil.dev/v1alpha1 Incident objects. One merge-patch of the
 * status subresource per write; the object is created first when that answers 404.
 */
import type { HumanDecision } from '../../core/model/decision';
import type { InFlightStep } from '../../core/model/inFlightStep';
import { IncidentResourcesAbsentError, incidentResourceName, type IncidentResource } from '../../core/model/incidentResource';
import type { Disposable, InFlightStepsPort, IncidentResourcesPort } from '../../core/ports';
import { ResilientInformer, type KubeObject } from './informers';
import type { KubeConnection } from './kubeClient';

interface IncidentObject extends KubeObject {
  readonly spec?: { readonly incidentId?: string; readonly decision?: { readonly action?: string; readonly stepId?: string; readonly by?: string } };
  readonly status?: { readonly inFlight?: InFlightStep };
}

const GROUP_VERSION = 'vigil.dev/v1alpha1';
export class KubernetesIncidentResources implements IncidentResourcesPort, InFlightStepsPort {
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

  /** The step's intent goes into status.inFlight (the Incident is created first when missing), before the step's write. */
  record(step: InFlightStep, resource: IncidentResource): Promise<void> {
    return this.write({ ...resource, status: { ...resource.status, inFlight: step } as IncidentResource['status'] });
  }

  async clear(step: Pick<InFlightStep, 'incidentId' | 'namespace'>): Promise<void> {
    const path = `/apis/${GROUP_VERSION}/namespaces/${encodeURIComponent(step.namespace)}/incidents/${encodeURIComponent(incidentResourceName(step.incidentId))}/status`;
    const res = await this.conn.request('PATCH', path, { body: JSON.stringify({ status: { inFlight: null } }), contentType: 'application/merge-patch+json' });
    if (res.status === 404) return; // no such Incident (or no CRD): nothing is in flight there
    if (res.status >= 300) throw this.failure('PATCH', path, res);
  }

  async list(): Promise<ReadonlyArray<InFlightStep>> {
    const path = `/apis/${GROUP_VERSION}/incidents`;
    const res = await this.conn.request('GET', path);
    if (res.status === 404) throw new IncidentResourcesAbsentError(`GET ${path}: 404`);
    if (res.status >= 300) throw this.failure('GET', path, res);
    const items = (JSON.parse(res.body) as { items?: IncidentObject[] }).items ?? [];
    return items.map((o) => o.status?.inFlight).filter((s): s is InFlightStep => !!s?.incidentId && !!s.stepId && !!s.actionId && !!s.action);
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
      if (created.status === 404) throw new IncidentResourcesAbsentError(`POST ${collection}: 404`);
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
