/**
 * IncidentResourcesPort on the API server: incidents.vigil.dev/v1alpha1 Incident objects. One merge-patch of the
 * status subresource per write; the object is created first when that answers 404.
 */
import type { HumanDecision } from '../../core/model/decision';
import type { ClosedIncidentRecord, InFlightStep } from '../../core/model/inFlightStep';
import type { DiagnosisKind } from '../../core/model/diagnosis';
import { isVigilLeaseName } from '../../core/model/automation';
import { IncidentResourcesAbsentError, incidentResourceName, incidentResourceTarget, type IncidentResource, type IncidentResourceStatus } from '../../core/model/incidentResource';
import type { Disposable, InFlightStepsPort, IncidentResourcesPort } from '../../core/ports';
import { ResilientInformer, type KubeObject } from './informers';
import type { KubeConnection } from './kubeClient';

/** An Incident resource as the API server returns it: what the leader wrote to status, and a human's spec.decision. */
export interface IncidentObject extends KubeObject {
  readonly spec?: { readonly incidentId?: string; readonly target?: string; readonly decision?: { readonly action?: string; readonly stepId?: string; readonly by?: string } };
  readonly status?: Partial<IncidentResourceStatus> & { readonly inFlight?: InFlightStep };
}

const GROUP_VERSION = 'vigil.dev/v1alpha1';
const INCIDENTS = `/apis/${GROUP_VERSION}/incidents`;
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
    return (await this.all()).map((o) => o.status?.inFlight).filter((s): s is InFlightStep => !!s?.incidentId && !!s.stepId && !!s.actionId && !!s.action);
  }

  async closedSince(since: number): Promise<ReadonlyArray<ClosedIncidentRecord>> {
    const out: ClosedIncidentRecord[] = [];
    for (const o of await this.all()) {
      const t = Date.parse(o.status?.outcome?.at ?? '');
      const kind = o.status?.diagnosis?.kind as DiagnosisKind | undefined;
      const target = incidentResourceTarget(o.spec?.target, o.metadata?.namespace);
      if (!(t >= since) || !kind || !target) continue;
      out.push({ target, kind, t, fixed: o.status?.outcome?.kind === 'recovered' || o.status?.outcome?.kind === 'resolved-without-action' });
    }
    return out;
  }

  private async all(): Promise<IncidentObject[]> {
    const path = `/apis/${GROUP_VERSION}/incidents`;
    const res = await this.conn.request('GET', path);
    if (res.status === 404) throw new IncidentResourcesAbsentError(`GET ${path}: 404`);
    if (res.status >= 300) throw this.failure('GET', path, res);
    return (JSON.parse(res.body) as { items?: IncidentObject[] }).items ?? [];
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

/**
 * Every Incident resource the user may list, live (list + watch, relist after errors): `onChange` gets the whole set
 * after each change and after each (re)list, so the views follow the cluster as `kubectl get incidents -A -w` does.
 */
export function watchIncidents(conn: KubeConnection, onChange: (items: ReadonlyArray<IncidentObject>) => void, onState: (state: 'synced' | 'failing', detail: string) => void): Disposable {
  const informer: ResilientInformer<IncidentObject> = new ResilientInformer<IncidentObject>(conn, { path: INCIDENTS }, {
    onChange: () => onChange(informer.list()),
    onState: (state, detail) => {
      onState(state, detail);
      if (state === 'synced') onChange(informer.list());
    },
  });
  informer.start();
  return { dispose: () => informer.stop() };
}

/** An in-cluster Vigil as "Connect to Cluster" finds it: the Incident resources served, and who holds its Lease. */
export interface InClusterVigil {
  /** The CRD incidents.vigil.dev is served. */
  readonly incidents: boolean;
  /** A Vigil Lease held now by someone other than this window's own loop. */
  readonly lease?: { readonly namespace: string; readonly name: string; readonly holder: string };
  /** Why there is none, in words with the fix; or what was found. */
  readonly detail: string;
}

interface LeaseObject extends KubeObject {
  readonly spec?: { readonly holderIdentity?: string; readonly leaseDurationSeconds?: number; readonly renewTime?: string };
}

/**
 * Looks for an agent in the cluster: the CRD served and a Lease named as Vigil names its Leases (`leaseName` or one of
 * its shards, in any namespace) held and renewed within its duration, by someone other than `ownIdentity`.
 */
export async function findInClusterVigil(conn: KubeConnection, o: { readonly leaseName: string; readonly ownIdentity?: string; readonly now?: number }): Promise<InClusterVigil> {
  const gv = await conn.request('GET', `/apis/${GROUP_VERSION}`, { timeoutMs: 10_000 });
  const served = gv.status === 200 && ((JSON.parse(gv.body) as { resources?: Array<{ name?: string }> }).resources ?? []).some((r) => r.name === 'incidents');
  if (!served) return { incidents: false, detail: `no in-cluster Vigil: the CRD incidents.vigil.dev is not served (GET /apis/${GROUP_VERSION}: HTTP ${gv.status}); install the chart deploy/helm/vigil to run the agent in the cluster` };
  const path = '/apis/coordination.k8s.io/v1/leases';
  const res = await conn.request('GET', path, { timeoutMs: 10_000 });
  if (res.status === 403) return { incidents: true, detail: `Incident resources are served, but you may not list Leases (GET ${path}: HTTP 403), so whether an agent runs is unknown; an admin grants list on leases.coordination.k8s.io` };
  if (res.status >= 300) throw new Error(`GET ${path}: HTTP ${res.status} ${statusMessage(res.body)}`);
  const now = o.now ?? Date.now();
  const held = ((JSON.parse(res.body) as { items?: LeaseObject[] }).items ?? []).filter((l) => {
    const holder = l.spec?.holderIdentity;
    const renewed = Date.parse(l.spec?.renewTime ?? '');
    return !!holder && holder !== o.ownIdentity && isVigilLeaseName(l.metadata?.name ?? '', o.leaseName) && renewed + (l.spec?.leaseDurationSeconds ?? 0) * 1000 >= now;
  });
  if (!held.length) return { incidents: true, detail: `Incident resources are served, but no Vigil Lease ("${o.leaseName}" or its shards) is held: no agent runs in the cluster now (kubectl get pods -l app.kubernetes.io/name=vigil -A)` };
  const l = held[0];
  const lease = { namespace: l.metadata?.namespace ?? '', name: l.metadata?.name ?? '', holder: l.spec?.holderIdentity ?? '' };
  return { incidents: true, lease, detail: `an agent runs in the cluster: ${lease.holder} holds the Lease ${lease.namespace}/${lease.name}` };
}

/** What `vigil approve|reject --kubeconfig` wrote. */
export interface WrittenDecision {
  readonly namespace: string;
  readonly name: string;
  readonly incidentId: string;
  readonly stepId: string;
  readonly action: string;
  readonly by: string;
}

/** The user the API server authenticates this connection as (a SelfSubjectReview): what `by` must say. */
export async function currentUser(conn: KubeConnection): Promise<string> {
  const path = '/apis/authentication.k8s.io/v1/selfsubjectreviews';
  const res = await conn.request('POST', path, { body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }) });
  if (res.status >= 300) throw new Error(`could not ask the API server who you are (POST ${path}: HTTP ${res.status} ${statusMessage(res.body)}); SelfSubjectReview needs Kubernetes 1.28 or later`);
  const user = (JSON.parse(res.body) as { status?: { userInfo?: { username?: string } } }).status?.userInfo?.username;
  if (!user) throw new Error(`the API server did not say who you are (POST ${path} answered no status.userInfo.username)`);
  return user;
}

/**
 * A human's decision on an Incident's proposed step, written to spec.decision with the user's own credentials:
 * `by` from a SelfSubjectReview (the chart's admission policy refuses any other), `stepId` the step proposed now
 * (or `expectedStepId`, refused when it is no longer proposed). The merge patch carries the resourceVersion read, so
 * a proposal that changes between the read and the write is a conflict, not an approval of the new step.
 */
export async function writeDecision(conn: KubeConnection, o: { readonly incident: string; readonly action: 'approve' | 'reject'; readonly namespace?: string; readonly expectedStepId?: string }): Promise<WrittenDecision> {
  const found = await findIncident(conn, o.incident, o.namespace);
  const ns = found.metadata?.namespace ?? o.namespace ?? 'default';
  const name = found.metadata?.name ?? '';
  const status = found.status as { state?: string; proposedStep?: { stepId?: string; action?: string } } | undefined;
  const proposed = status?.proposedStep?.stepId;
  if (status?.state !== 'awaiting-approval' || !proposed) {
    throw new Error(`incident ${ns}/${name} has no step waiting for a decision (state ${status?.state ?? 'unknown'}${proposed ? `, last proposed step "${proposed}"` : ''}); nothing was written — see kubectl get incident ${name} -n ${ns} -o yaml`);
  }
  if (o.expectedStepId !== undefined && o.expectedStepId !== proposed) {
    throw new Error(`the proposal of ${ns}/${name} changed: it now proposes step "${proposed}" (${status.proposedStep?.action ?? '?'}), not "${o.expectedStepId}"; nothing was written, review it and decide again`);
  }
  const by = await currentUser(conn);
  const path = `/apis/${GROUP_VERSION}/namespaces/${encodeURIComponent(ns)}/incidents/${encodeURIComponent(name)}`;
  const body = JSON.stringify({ metadata: { resourceVersion: found.metadata?.resourceVersion }, spec: { decision: { action: o.action, stepId: proposed, by } } });
  const res = await conn.request('PATCH', path, { body, contentType: 'application/merge-patch+json' });
  if (res.status === 403) throw new Error(`${by} may not update incidents in namespace ${ns} (HTTP 403: ${statusMessage(res.body)}); an admin binds the approver role: kubectl create rolebinding vigil-approvers -n ${ns} --clusterrole=vigil-approver --user=${by}`);
  if (res.status === 409) throw new Error(`incident ${ns}/${name} changed while you decided (HTTP 409); nothing was written, run the command again to decide on what it proposes now`);
  if (res.status >= 300) throw new Error(`PATCH ${path}: HTTP ${res.status} ${statusMessage(res.body)}`);
  return { namespace: ns, name, incidentId: found.spec?.incidentId ?? name, stepId: proposed, action: o.action, by };
}

/** By resource name or Vigil's incident id, in one namespace or (when none is given) in all the user may list. */
async function findIncident(conn: KubeConnection, incident: string, namespace: string | undefined): Promise<IncidentObject & { status?: unknown }> {
  const name = incidentResourceName(incident);
  if (namespace) {
    const path = `/apis/${GROUP_VERSION}/namespaces/${encodeURIComponent(namespace)}/incidents/${encodeURIComponent(name)}`;
    const res = await conn.request('GET', path);
    if (res.status === 200) return JSON.parse(res.body) as IncidentObject;
    if (res.status === 404) {
      await requireCrd(conn);
      throw new Error(`no Incident ${name} in namespace ${namespace}; list them with kubectl get incidents -n ${namespace}`);
    }
    if (res.status === 403) throw new Error(`you may not read incidents in namespace ${namespace} (HTTP 403: ${statusMessage(res.body)}); an admin binds the ClusterRole vigil-approver to you in that namespace`);
    throw new Error(`GET ${path}: HTTP ${res.status} ${statusMessage(res.body)}`);
  }
  const path = `/apis/${GROUP_VERSION}/incidents`;
  const res = await conn.request('GET', path);
  if (res.status === 404) throw new IncidentResourcesAbsentError(`GET ${path}: 404`);
  if (res.status === 403) throw new Error(`you may not list incidents in all namespaces (HTTP 403); name the incident's namespace: --namespace NS`);
  if (res.status >= 300) throw new Error(`GET ${path}: HTTP ${res.status} ${statusMessage(res.body)}`);
  const items = (JSON.parse(res.body) as { items?: IncidentObject[] }).items ?? [];
  const hits = items.filter((i) => i.metadata?.name === name || i.spec?.incidentId === incident);
  if (hits.length === 0) throw new Error(`no Incident named ${incident} in any namespace; list them with kubectl get incidents -A`);
  if (hits.length > 1) throw new Error(`${hits.length} Incidents are named ${incident} (${hits.map((h) => h.metadata?.namespace).join(', ')}); name one: --namespace NS`);
  return hits[0];
}

async function requireCrd(conn: KubeConnection): Promise<void> {
  const res = await conn.request('GET', `/apis/${GROUP_VERSION}`);
  if (res.status === 404) throw new IncidentResourcesAbsentError(`GET /apis/${GROUP_VERSION}: 404`);
}

function statusMessage(body: string): string {
  try {
    return (JSON.parse(body) as { message?: string }).message ?? body.slice(0, 300);
  } catch {
    return body.slice(0, 300);
  }
}
