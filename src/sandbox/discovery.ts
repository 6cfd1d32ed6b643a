/** Discovery documents (/version, /api, /apis, APIResourceLists) for the resources the sandbox serves. */
import { RESOURCES, type ResourceInfo } from './store';

export const SANDBOX_KUBERNETES_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0-vigil-sandbox' };

export function versionInfo(): Record<string, string> {
  return {
    ...SANDBOX_KUBERNETES_VERSION,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: 'go1.23.0',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

interface SubResource {
  readonly parent: string;
  readonly sub: string;
  readonly kind: string;
  readonly verbs: ReadonlyArray<string>;
  readonly group?: string;
  readonly version?: string;
}

/** Subresources served, with the kind of their body (Scale, Eviction) where it is not the parent's. */
const SUBRESOURCES: ReadonlyArray<SubResource> = [
  { parent: 'namespaces', sub: 'status', kind: 'Namespace', verbs: ['get', 'patch', 'update'] },
  { parent: 'pods', sub: 'log', kind: 'Pod', verbs: ['get'] },
  { parent: 'pods', sub: 'eviction', kind: 'Eviction', verbs: ['create'], group: 'policy', version: 'v1' },
  { parent: 'pods', sub: 'proxy', kind: 'PodProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] },
  { parent: 'pods', sub: 'status', kind: 'Pod', verbs: ['get', 'patch', 'update'] },
  { parent: 'services', sub: 'proxy', kind: 'ServiceProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] },
  { parent: 'services', sub: 'status', kind: 'Service', verbs: ['get', 'patch', 'update'] },
  { parent: 'nodes', sub: 'status', kind: 'Node', verbs: ['get', 'patch', 'update'] },
  { parent: 'deployments', sub: 'scale', kind: 'Scale', verbs: ['get', 'patch', 'update'], group: 'autoscaling', version: 'v1' },
  { parent: 'deployments', sub: 'status', kind: 'Deployment', verbs: ['get', 'patch', 'update'] },
  { parent: 'replicasets', sub: 'scale', kind: 'Scale', verbs: ['get', 'patch', 'update'], group: 'autoscaling', version: 'v1' },
  { parent: 'replicasets', sub: 'status', kind: 'ReplicaSet', verbs: ['get', 'patch', 'update'] },
  { parent: 'statefulsets', sub: 'scale', kind: 'Scale', verbs: ['get', 'patch', 'update'], group: 'autoscaling', version: 'v1' },
  { parent: 'statefulsets', sub: 'status', kind: 'StatefulSet', verbs: ['get', 'patch', 'update'] },
  { parent: 'daemonsets', sub: 'status', kind: 'DaemonSet', verbs: ['get', 'patch', 'update'] },
  { parent: 'poddisruptionbudgets', sub: 'status', kind: 'PodDisruptionBudget', verbs: ['get', 'patch', 'update'] },
  { parent: 'incidents', sub: 'status', kind: 'Incident', verbs: ['get', 'patch', 'update'] },
];

export function subresourceKnown(resource: string, sub: string): boolean {
  return SUBRESOURCES.some((s) => s.parent === resource && s.sub === sub);
}

const IN_ALL_CATEGORY = new Set(['pods', 'services', 'deployments', 'replicasets', 'statefulsets', 'daemonsets']);
/** Categories other than `all`, as the CRDs declare them (`kubectl get vigil`). */
const CATEGORIES: Readonly<Record<string, ReadonlyArray<string>>> = { incidents: ['vigil'] };

export function groupVersion(r: Pick<ResourceInfo, 'group' | 'version'>): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

export function groupVersions(): Array<{ group: string; version: string }> {
  const seen = new Map<string, { group: string; version: string }>();
  for (const r of RESOURCES) seen.set(groupVersion(r), { group: r.group, version: r.version });
  return [...seen.values()];
}

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function apiGroup(name: string): Record<string, unknown> {
  const versions = groupVersions()
    .filter((g) => g.group === name)
    .map((g) => ({ groupVersion: `${g.group}/${g.version}`, version: g.version }));
  return { name, versions, preferredVersion: versions[0] };
}

export function apiGroupList(): Record<string, unknown> {
  const names = [...new Set(groupVersions().map((g) => g.group))].filter((g) => g !== '');
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: names.map(apiGroup) };
}

/** The APIGroup document of /apis/GROUP, or undefined when the sandbox does not serve it. */
export function apiGroupDocument(group: string): Record<string, unknown> | undefined {
  if (!groupVersions().some((g) => g.group === group && group !== '')) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(group) };
}

/** APIResourceList of one group/version, or undefined when not served. */
export function apiResourceList(group: string, version: string): Record<string, unknown> | undefined {
  const rs = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (rs.length === 0) return undefined;
  const resources: Array<Record<string, unknown>> = [];
  for (const r of rs) {
    resources.push({
      name: r.name,
      singularName: r.singularName,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
      ...(r.shortNames ? { shortNames: r.shortNames } : {}),
      ...(IN_ALL_CATEGORY.has(r.name) ? { categories: ['all'] } : CATEGORIES[r.name] ? { categories: CATEGORIES[r.name] } : {}),
    });
    for (const s of SUBRESOURCES.filter((x) => x.parent === r.name)) {
      resources.push({
        name: `${r.name}/${s.sub}`,
        singularName: '',
        namespaced: r.namespaced,
        ...(s.group !== undefined ? { group: s.group, version: s.version } : {}),
        kind: s.kind,
        verbs: s.verbs,
      });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersion({ group, version }), resources };
}

/** URL path prefix of a group/version: api/v1 or apis/GROUP/VERSION. */
function gvPath(g: { group: string; version: string }): string {
  return g.group ? `apis/${g.group}/${g.version}` : `api/${g.version}`;
}

/**
 * Root of /openapi/v3. kubectl reads it to learn that the server validates fields itself
 * (`fieldValidation`), so `kubectl apply` works with its default --validate.
 */
export function openApiV3Root(): Record<string, unknown> {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const g of groupVersions()) paths[gvPath(g)] = { serverRelativeURL: `/openapi/v3/${gvPath(g)}?hash=${SANDBOX_KUBERNETES_VERSION.gitVersion}` };
  return { paths };
}

/** A minimal OpenAPI v3 document of one group/version: write operations with their query parameters, no schemas. */
export function openApiV3GroupVersion(path: string): Record<string, unknown> | undefined {
  const g = groupVersions().find((x) => gvPath(x) === path);
  if (!g) return undefined;
  const queryParams = ['dryRun', 'fieldManager', 'fieldValidation', 'pretty'].map((name) => ({ name, in: 'query', schema: { type: 'string', uniqueItems: true } }));
  const paths: Record<string, unknown> = {};
  for (const r of RESOURCES.filter((x) => x.group === g.group && x.version === g.version)) {
    const gvk = { group: r.group, version: r.version, kind: r.kind };
    const collection = `/${gvPath(g)}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.name}`;
    const op = (action: string) => ({ operationId: `${action}${r.kind}`, 'x-kubernetes-action': action, 'x-kubernetes-group-version-kind': gvk, parameters: queryParams, responses: { '200': { description: 'OK' } } });
    paths[collection] = { get: op('list'), post: op('post') };
    paths[`${collection}/{name}`] = { get: op('get'), put: op('put'), patch: op('patch'), delete: op('delete') };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes (Vigil sandbox)', version: SANDBOX_KUBERNETES_VERSION.gitVersion }, paths, components: { schemas: {} } };
}

/**
 * Where a sandbox publishes its fault API (the embedded one and the node agent of a real control plane
 * alike): `vigil chaos` reads the URL from this ConfigMap through the API server, so one discovery serves both.
 */
export const FAULT_API_CONFIGMAP = { namespace: 'kube-public', name: 'vigil-sandbox', key: 'faultsUrl' } as const;
