/**
 * Server-side printing: the meta.k8s.io/v1 Table that `kubectl get` asks for, with the standard
 * columns of each kind, so kubectl prints the sandbox as it prints a real cluster.
 */
import type { KubeObject, ResourceInfo } from './store';

interface Column {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'date';
  readonly format?: string;
  readonly priority?: number;
  readonly description?: string;
  readonly cell: (o: KubeObject, now: number) => string | number;
}

/** True when the Accept header asks for a Table (kubectl get does; other clients do not). */
export function wantsTable(accept: string | undefined): boolean {
  return !!accept && /as=Table/.test(accept) && /g=meta\.k8s\.io/.test(accept);
}

/** kubectl's duration style: 45s, 3m20s, 17m, 5h3m, 3d4h, 120d, 2y. */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 0) return '<invalid>';
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (d < 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  return `${Math.floor(d / 365)}y`;
}

const get = (o: unknown, path: string): unknown => path.split('.').reduce<unknown>((cur, p) => (cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[p] : undefined), o);
const num = (o: unknown, path: string): number => Number(get(o, path) ?? 0) || 0;
const str = (o: unknown, path: string, fallback = '<none>'): string => {
  const v = get(o, path);
  return v === undefined || v === null || v === '' ? fallback : String(v);
};
const since = (ts: unknown, now: number): string => (typeof ts === 'string' && ts ? humanDuration(now - Date.parse(ts)) : '<unknown>');

const NAME: Column = { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', cell: (o) => o.metadata.name };
const AGE: Column = { name: 'Age', type: 'string', description: 'CreationTimestamp is when the object was created.', cell: (o, now) => since(o.metadata.creationTimestamp, now) };

interface ContainerStatus {
  name: string;
  ready?: boolean;
  restartCount?: number;
  state?: { waiting?: { reason?: string }; terminated?: { reason?: string }; running?: unknown };
}

function podStatus(o: KubeObject): string {
  if (o.metadata.deletionTimestamp) return 'Terminating';
  const statuses = (get(o, 'status.containerStatuses') as ContainerStatus[] | undefined) ?? [];
  for (const c of statuses) {
    const reason = c.state?.waiting?.reason ?? (c.state?.terminated ? c.state.terminated.reason : undefined);
    if (reason) return reason;
  }
  return str(o, 'status.reason', '') || str(o, 'status.phase', 'Unknown');
}

const containersOf = (o: unknown, path: string) => ((get(o, path) as Array<{ name: string; image: string }> | undefined) ?? []);
const selectorText = (o: unknown): string => {
  const ml = get(o, 'spec.selector.matchLabels') as Record<string, string> | undefined;
  return ml ? Object.entries(ml).map(([k, v]) => `${k}=${v}`).join(',') : '<none>';
};
const workloadWide: Column[] = [
  { name: 'Containers', type: 'string', priority: 1, cell: (o) => containersOf(o, 'spec.template.spec.containers').map((c) => c.name).join(',') },
  { name: 'Images', type: 'string', priority: 1, cell: (o) => containersOf(o, 'spec.template.spec.containers').map((c) => c.image).join(',') },
  { name: 'Selector', type: 'string', priority: 1, cell: selectorText },
];

const COLUMNS: Partial<Record<string, Column[]>> = {
  pods: [
    NAME,
    {
      name: 'Ready',
      type: 'string',
      cell: (o) => {
        const statuses = (get(o, 'status.containerStatuses') as ContainerStatus[] | undefined) ?? [];
        const total = containersOf(o, 'spec.containers').length;
        return `${statuses.filter((c) => c.ready).length}/${total}`;
      },
    },
    { name: 'Status', type: 'string', cell: podStatus },
    { name: 'Restarts', type: 'string', cell: (o) => String(((get(o, 'status.containerStatuses') as ContainerStatus[] | undefined) ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0)) },
    AGE,
    { name: 'IP', type: 'string', priority: 1, cell: (o) => str(o, 'status.podIP') },
    { name: 'Node', type: 'string', priority: 1, cell: (o) => str(o, 'spec.nodeName') },
    { name: 'Nominated Node', type: 'string', priority: 1, cell: (o) => str(o, 'status.nominatedNodeName') },
    { name: 'Readiness Gates', type: 'string', priority: 1, cell: () => '<none>' },
  ],
  deployments: [
    NAME,
    { name: 'Ready', type: 'string', cell: (o) => `${num(o, 'status.readyReplicas')}/${num(o, 'spec.replicas')}` },
    { name: 'Up-to-date', type: 'integer', cell: (o) => num(o, 'status.updatedReplicas') },
    { name: 'Available', type: 'integer', cell: (o) => num(o, 'status.availableReplicas') },
    AGE,
    ...workloadWide,
  ],
  replicasets: [
    NAME,
    { name: 'Desired', type: 'integer', cell: (o) => num(o, 'spec.replicas') },
    { name: 'Current', type: 'integer', cell: (o) => num(o, 'status.replicas') },
    { name: 'Ready', type: 'integer', cell: (o) => num(o, 'status.readyReplicas') },
    AGE,
    ...workloadWide,
  ],
  statefulsets: [NAME, { name: 'Ready', type: 'string', cell: (o) => `${num(o, 'status.readyReplicas')}/${num(o, 'spec.replicas')}` }, AGE, ...workloadWide.slice(0, 2)],
  daemonsets: [
    NAME,
    { name: 'Desired', type: 'integer', cell: (o) => num(o, 'status.desiredNumberScheduled') },
    { name: 'Current', type: 'integer', cell: (o) => num(o, 'status.currentNumberScheduled') },
    { name: 'Ready', type: 'integer', cell: (o) => num(o, 'status.numberReady') },
    { name: 'Up-to-date', type: 'integer', cell: (o) => num(o, 'status.updatedNumberScheduled') },
    { name: 'Available', type: 'integer', cell: (o) => num(o, 'status.numberAvailable') },
    { name: 'Node Selector', type: 'string', cell: (o) => Object.entries((get(o, 'spec.template.spec.nodeSelector') as Record<string, string> | undefined) ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || '<none>' },
    AGE,
    ...workloadWide,
  ],
  nodes: [
    NAME,
    {
      name: 'Status',
      type: 'string',
      cell: (o) => {
        const ready = ((get(o, 'status.conditions') as Array<{ type: string; status: string }> | undefined) ?? []).find((c) => c.type === 'Ready');
        const s = ready?.status === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown';
        return get(o, 'spec.unschedulable') === true ? `${s},SchedulingDisabled` : s;
      },
    },
    {
      name: 'Roles',
      type: 'string',
      cell: (o) => {
        const roles = Object.keys(o.metadata.labels ?? {})
          .filter((k) => k.startsWith('node-role.kubernetes.io/'))
          .map((k) => k.slice('node-role.kubernetes.io/'.length));
        return roles.length ? roles.join(',') : '<none>';
      },
    },
    AGE,
    { name: 'Version', type: 'string', cell: (o) => str(o, 'status.nodeInfo.kubeletVersion', '') },
    {
      name: 'Internal-IP',
      type: 'string',
      priority: 1,
      cell: (o) => ((get(o, 'status.addresses') as Array<{ type: string; address: string }> | undefined) ?? []).find((a) => a.type === 'InternalIP')?.address ?? '<none>',
    },
    { name: 'OS-Image', type: 'string', priority: 1, cell: (o) => str(o, 'status.nodeInfo.osImage', '<unknown>') },
    { name: 'Container-Runtime', type: 'string', priority: 1, cell: (o) => str(o, 'status.nodeInfo.containerRuntimeVersion', '<unknown>') },
  ],
  events: [
    { name: 'Last Seen', type: 'string', cell: (o, now) => since(get(o, 'lastTimestamp') ?? get(o, 'eventTime') ?? o.metadata.creationTimestamp, now) },
    { name: 'Type', type: 'string', cell: (o) => str(o, 'type', '') },
    { name: 'Reason', type: 'string', cell: (o) => str(o, 'reason', '') },
    { name: 'Object', type: 'string', cell: (o) => `${str(o, 'involvedObject.kind', '').toLowerCase()}/${str(o, 'involvedObject.name', '')}` },
    { name: 'Message', type: 'string', cell: (o) => str(o, 'message', '') },
  ],
  namespaces: [NAME, { name: 'Status', type: 'string', cell: (o) => str(o, 'status.phase', 'Active') }, AGE],
  services: [
    NAME,
    { name: 'Type', type: 'string', cell: (o) => str(o, 'spec.type', 'ClusterIP') },
    { name: 'Cluster-IP', type: 'string', cell: (o) => str(o, 'spec.clusterIP', '<none>') },
    { name: 'External-IP', type: 'string', cell: () => '<none>' },
    {
      name: 'Port(s)',
      type: 'string',
      cell: (o) => ((get(o, 'spec.ports') as Array<{ port: number; protocol?: string }> | undefined) ?? []).map((p) => `${p.port}/${p.protocol ?? 'TCP'}`).join(',') || '<none>',
    },
    AGE,
  ],
  configmaps: [NAME, { name: 'Data', type: 'integer', cell: (o) => Object.keys((get(o, 'data') as object | undefined) ?? {}).length + Object.keys((get(o, 'binaryData') as object | undefined) ?? {}).length }, AGE],
  leases: [NAME, { name: 'Holder', type: 'string', cell: (o) => str(o, 'spec.holderIdentity', '') }, AGE],
  // the printer columns of the CRD incidents.vigil.dev
  incidents: [
    NAME,
    { name: 'Target', type: 'string', cell: (o) => str(o, 'spec.target', '') },
    { name: 'Diagnosis', type: 'string', cell: (o) => str(o, 'status.diagnosis.kind', '') },
    { name: 'Confidence', type: 'string', cell: (o) => str(o, 'status.diagnosis.confidence', '') },
    { name: 'State', type: 'string', cell: (o) => str(o, 'status.state', '') },
    AGE,
  ],
  poddisruptionbudgets: [
    NAME,
    { name: 'Min Available', type: 'string', cell: (o) => str(o, 'spec.minAvailable', 'N/A') },
    { name: 'Max Unavailable', type: 'string', cell: (o) => str(o, 'spec.maxUnavailable', 'N/A') },
    { name: 'Allowed Disruptions', type: 'integer', cell: (o) => num(o, 'status.disruptionsAllowed') },
    AGE,
  ],
};

function rowObject(o: KubeObject, includeObject: string | null): unknown {
  if (includeObject === 'Object') return o;
  if (includeObject === 'None') return undefined;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
}

/** A Table of objects; `withColumns` false leaves out the column definitions (watch events after the first). */
export function tableFor(info: ResourceInfo, items: ReadonlyArray<KubeObject>, resourceVersion: string, includeObject: string | null, withColumns = true, now = Date.now()): Record<string, unknown> {
  const columns = COLUMNS[info.name] ?? [NAME, AGE];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: withColumns
      ? columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description ?? c.name, priority: c.priority ?? 0 }))
      : [],
    rows: items.map((o) => ({ cells: columns.map((c) => c.cell(o, now)), object: rowObject(o, includeObject) })),
  };
}
