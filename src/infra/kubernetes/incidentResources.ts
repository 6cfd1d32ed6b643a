/**
 * IncidentResourcesPort on the API server: incidents.vigil.dev/v1alpha1 Incident objects. One merge-patch of the
 * status subresource per write; the object is created first when that answers 404.
 */
import type { IncidentResource } from '../../core/model/incidentResource';
import type { IncidentResourcesPort } from '../../core/ports';
import type { KubeConnection } from './kubeClient';

const GROUP_VERSION = 'vigil.dev/v1alpha1';
const CRD_HINT = 'install the CRD incidents.vigil.dev (deploy/helm/vigil/crds/incidents.vigil.dev.yaml, part of the Helm chart)';

export class KubernetesIncidentResources implements IncidentResourcesPort {
  constructor(private readonly conn: Pick<KubeConnection, 'request'>) {}

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
