/**
 * The sandbox's etcd: typed Kubernetes objects with resourceVersion, a bounded change history
 * for watches (410 Gone past it), and listeners for controllers. Errors are Kubernetes Status
 * reasons so the API server can return them as they are.
 */

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }>;
  generateName?: string;
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: Record<string, unknown> | unknown;
  status?: Record<string, unknown> | unknown;
  [key: string]: unknown;
}

/** Resources the sandbox serves, by their plural REST name. */
export type ResourceName =
  | 'namespaces'
  | 'pods'
  | 'events'
  | 'nodes'
  | 'configmaps'
  | 'services'
  | 'deployments'
  | 'replicasets'
  | 'statefulsets'
  | 'daemonsets'
  | 'controllerrevisions'
  | 'leases'
  | 'poddisruptionbudgets'
  | 'incidents'
  | 'selfsubjectreviews';

export interface ResourceInfo {
  readonly name: ResourceName;
  readonly kind: string;
  readonly group: string; // '' for core
  readonly version: string;
  readonly namespaced: boolean;
  readonly shortNames?: ReadonlyArray<string>;
  readonly verbs: ReadonlyArray<string>;
  readonly singularName: string;
}

export const RESOURCES: ReadonlyArray<ResourceInfo> = [
  { name: 'namespaces', kind: 'Namespace', group: '', version: 'v1', namespaced: false, shortNames: ['ns'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], singularName: 'namespace' },
  { name: 'pods', kind: 'Pod', group: '', version: 'v1', namespaced: true, shortNames: ['po'], verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'], singularName: 'pod' },
  { name: 'events', kind: 'Event', group: '', version: 'v1', namespaced: true, shortNames: ['ev'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], singularName: 'event' },
  { name: 'nodes', kind: 'Node', group: '', version: 'v1', namespaced: false, shortNames: ['no'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], singularName: 'node' },
  { name: 'services', kind: 'Service', group: '', version: 'v1', namespaced: true, shortNames: ['svc'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], singularName: 'service' },
  { name: 'configmaps', kind: 'ConfigMap', group: '', version: 'v1', namespaced: true, shortNames: ['cm'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], singularName: 'configmap' },
  { name: 'deployments', kind: 'Deployment', group: 'apps', version: 'v1', namespaced: true, shortNames: ['deploy'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], singularName: 'deployment' },
  { name: 'replicasets', kind: 'ReplicaSet', group: 'apps', version: 'v1', namespaced: true, shortNames: ['rs'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], singularName: 'replicaset' },
  { name: 'statefulsets', kind: 'StatefulSet', group: 'apps', version: 'v1', namespaced: true, shortNames: ['sts'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], singularName: 'statefulset' },
  { name: 'daemonsets', kind: 'DaemonSet', group: 'apps', version: 'v1', namespaced: true, shortNames: ['ds'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], singularName: 'daemonset' },
  { name: 'controllerrevisions', kind: 'ControllerRevision', group: 'apps', version: 'v1', namespaced: true, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], singularName: 'controllerrevision' },
  { name: 'leases', kind: 'Lease', group: 'coordination.k8s.io', version: 'v1', namespaced: true, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], singularName: 'lease' },
  { name: 'poddisruptionbudgets', kind: 'PodDisruptionBudget', group: 'policy', version: 'v1', namespaced: true, shortNames: ['pdb'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], singularName: 'poddisruptionbudget' },
  // Vigil's own custom resource, served as the chart's CRD (deploy/helm/vigil/crds/incidents.vigil.dev.yaml) defines it
  { name: 'incidents', kind: 'Incident', group: 'vigil.dev', version: 'v1alpha1', namespaced: true, shortNames: ['vinc'], verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'], singularName: 'incident' },
  // create-only and never stored: the API server answers who the caller is (see ApiServer.selfSubjectReview)
  { name: 'selfsubjectreviews', kind: 'SelfSubjectReview', group: 'authentication.k8s.io', version: 'v1', namespaced: false, verbs: ['create'], singularName: '' },
];

export function resourceInfo(name: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => r.name === name);
}

export type StatusReason =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'BadRequest'
  | 'Gone'
  | 'TooManyRequests'
  | 'MethodNotAllowed'
  | 'InternalError'
  | 'Forbidden'
  | 'NotAcceptable'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'ServiceUnavailable';

const STATUS_CODES: Readonly<Record<StatusReason, number>> = {
  BadRequest: 400,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  AlreadyExists: 409,
  Conflict: 409,
  Gone: 410,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  Invalid: 422,
  TooManyRequests: 429,
  InternalError: 500,
  ServiceUnavailable: 503,
};

/** An error that the API server returns as a Kubernetes Status object. */
export class StatusError extends Error {
  readonly code: number;
  constructor(
    readonly reason: StatusReason,
    message: string,
    readonly details?: { name?: string; group?: string; kind?: string; causes?: Array<{ reason?: string; message: string; field?: string }> },
  ) {
    super(message);
    this.code = STATUS_CODES[reason];
  }

  toStatus(): Record<string, unknown> {
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason, details: this.details, code: this.code };
  }
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ChangeEvent {
  readonly type: WatchEventType;
  readonly resource: ResourceName;
  readonly object: KubeObject;
  readonly rv: number;
}

export type ChangeListener = (e: ChangeEvent) => void;

const clone = <T>(o: T): T => structuredClone(o);

export class ObjectStore {
  private rv = 1;
  private readonly objects = new Map<ResourceName, Map<string, KubeObject>>();
  private history: ChangeEvent[] = [];
  private readonly listeners = new Set<ChangeListener>();
  private uidCounter = 0;

  /** @param historyLimit how many changes a watch can resume from before it gets 410 Gone. */
  constructor(
    private readonly historyLimit = 5000,
    private readonly now: () => number = Date.now,
  ) {
    for (const r of RESOURCES) this.objects.set(r.name, new Map());
  }

  get resourceVersion(): number {
    return this.rv;
  }

  /** The oldest resourceVersion a watch may still resume from. */
  get oldestResumableVersion(): number {
    return this.history.length ? this.history[0].rv - 1 : this.rv;
  }

  private key(namespace: string | undefined, name: string): string {
    return namespace ? `${namespace}/${name}` : name;
  }

  private bucket(resource: ResourceName): Map<string, KubeObject> {
    const b = this.objects.get(resource);
    if (!b) throw new StatusError('NotFound', `the server could not find the requested resource (${resource})`);
    return b;
  }

  get(resource: ResourceName, namespace: string | undefined, name: string): KubeObject | undefined {
    const o = this.bucket(resource).get(this.key(namespace, name));
    return o ? clone(o) : undefined;
  }

  /** Like get, but throws NotFound as the API server says it. */
  mustGet(resource: ResourceName, namespace: string | undefined, name: string): KubeObject {
    const o = this.get(resource, namespace, name);
    if (!o) {
      const info = resourceInfo(resource);
      throw new StatusError('NotFound', `${info?.name ?? resource}${info?.group ? `.${info.group}` : ''} "${name}" not found`, { name, group: info?.group, kind: resource });
    }
    return o;
  }

  list(resource: ResourceName, namespace?: string): { items: KubeObject[]; resourceVersion: string } {
    const keys: string[] = [];
    const bucket = this.bucket(resource);
    for (const [k, o] of bucket) if (namespace === undefined || o.metadata.namespace === namespace) keys.push(k);
    // by key in byte order, as etcd lists; a plain comparison (localeCompare cost seconds a minute at 5,000 pods)
    keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return { items: keys.map((k) => clone(bucket.get(k) as KubeObject)), resourceVersion: String(this.rv) };
  }

  /** Stores a new object: fills uid, resourceVersion, creationTimestamp, generation; resolves generateName. */
  create(resource: ResourceName, obj: KubeObject, options: { dryRun?: boolean } = {}): KubeObject {
    const o = clone(obj);
    const info = resourceInfo(resource);
    if (!o.metadata) throw new StatusError('Invalid', `${info?.kind ?? resource} is invalid: metadata: Required value`);
    if (!o.metadata.name && o.metadata.generateName) o.metadata.name = `${o.metadata.generateName}${randomSuffix(this.uidCounter + 1)}`;
    if (!o.metadata.name) throw new StatusError('Invalid', `${info?.kind ?? resource} is invalid: metadata.name: Required value: name or generateName is required`, { kind: info?.kind, causes: [{ reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field: 'metadata.name' }] });
    if (info?.namespaced && !o.metadata.namespace) throw new StatusError('BadRequest', 'the namespace of the object does not match the namespace on the request');
    const k = this.key(o.metadata.namespace, o.metadata.name);
    if (this.bucket(resource).has(k)) throw new StatusError('AlreadyExists', `${resource}${info?.group ? `.${info.group}` : ''} "${o.metadata.name}" already exists`, { name: o.metadata.name, group: info?.group, kind: resource });
    if (options.dryRun) return o;
    this.uidCounter++;
    o.metadata.uid = o.metadata.uid ?? uuidFrom(this.uidCounter);
    o.metadata.creationTimestamp = o.metadata.creationTimestamp ?? new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    if (resource === 'deployments' || resource === 'replicasets' || resource === 'statefulsets' || resource === 'daemonsets') o.metadata.generation = 1;
    o.metadata.resourceVersion = String(++this.rv);
    this.bucket(resource).set(k, o);
    this.emit({ type: 'ADDED', resource, object: clone(o), rv: this.rv });
    return clone(o);
  }

  /**
   * Replaces an object. If the caller's resourceVersion is set and stale, 409 Conflict, as the API
   * server does. Bumps generation when the spec changed.
   */
  update(resource: ResourceName, obj: KubeObject, options: { dryRun?: boolean } = {}): KubeObject {
    const o = clone(obj);
    const k = this.key(o.metadata.namespace, o.metadata.name);
    const current = this.bucket(resource).get(k);
    if (!current) this.mustGet(resource, o.metadata.namespace, o.metadata.name);
    const cur = current as KubeObject;
    if (o.metadata.resourceVersion && o.metadata.resourceVersion !== cur.metadata.resourceVersion) {
      const info = resourceInfo(resource);
      throw new StatusError('Conflict', `Operation cannot be fulfilled on ${resource}${info?.group ? `.${info.group}` : ''} "${o.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`, { name: o.metadata.name, group: info?.group, kind: resource });
    }
    o.metadata.uid = cur.metadata.uid;
    o.metadata.creationTimestamp = cur.metadata.creationTimestamp;
    if (cur.metadata.generation !== undefined) {
      o.metadata.generation = JSON.stringify(o.spec) !== JSON.stringify(cur.spec) ? cur.metadata.generation + 1 : cur.metadata.generation;
    }
    if (options.dryRun) return o;
    if (JSON.stringify({ ...o, metadata: { ...o.metadata, resourceVersion: undefined } }) === JSON.stringify({ ...cur, metadata: { ...cur.metadata, resourceVersion: undefined } })) {
      return clone(cur); // no-op writes do not bump resourceVersion, as on a real API server
    }
    o.metadata.resourceVersion = String(++this.rv);
    this.bucket(resource).set(k, o);
    this.emit({ type: 'MODIFIED', resource, object: clone(o), rv: this.rv });
    return clone(o);
  }

  /** Read-modify-write with retries on conflict; for controllers. */
  mutate(resource: ResourceName, namespace: string | undefined, name: string, fn: (o: KubeObject) => KubeObject | void): KubeObject {
    const o = this.mustGet(resource, namespace, name);
    const next = fn(o) ?? o;
    return this.update(resource, next);
  }

  delete(resource: ResourceName, namespace: string | undefined, name: string, options: { dryRun?: boolean } = {}): KubeObject {
    const o = this.mustGet(resource, namespace, name);
    if (options.dryRun) return o;
    this.bucket(resource).delete(this.key(namespace, name));
    o.metadata.resourceVersion = String(++this.rv);
    this.emit({ type: 'DELETED', resource, object: clone(o), rv: this.rv });
    return o;
  }

  /**
   * Changes after `fromRv` for a resource (optionally one namespace), then live ones until disposed.
   * Throws Gone (410) when `fromRv` is older than the kept history.
   */
  watch(resource: ResourceName, namespace: string | undefined, fromRv: number, listener: ChangeListener): { dispose(): void } {
    if (fromRv < this.oldestResumableVersion) {
      throw new StatusError('Gone', `too old resource version: ${fromRv} (${this.oldestResumableVersion})`);
    }
    const matches = (e: ChangeEvent) => e.resource === resource && (namespace === undefined || e.object.metadata.namespace === namespace);
    for (const e of this.history) if (e.rv > fromRv && matches(e)) listener(e);
    const live: ChangeListener = (e) => {
      if (matches(e)) listener(e);
    };
    this.listeners.add(live);
    return { dispose: () => this.listeners.delete(live) };
  }

  /** Every change, for controllers. */
  onChange(listener: ChangeListener): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** Drops all kept history, so any watch from an older version gets 410 (used by tests). */
  compact(): void {
    this.history = [];
  }

  private emit(e: ChangeEvent): void {
    this.history.push(e);
    if (this.history.length > this.historyLimit) this.history.splice(0, this.history.length - this.historyLimit);
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch {
        // a broken listener must not break the store
      }
    }
  }
}

function uuidFrom(n: number): string {
  const hex = n.toString(16).padStart(12, '0');
  return `5a1d0000-0000-4000-8000-${hex}`;
}

const SUFFIX_CHARS = 'bcdfghjklmnpqrstvwxz2456789';
/** Deterministic kube-style name suffix (5 chars). */
export function randomSuffix(seed: number, length = 5): string {
  let x = (seed * 2654435761) >>> 0;
  let s = '';
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    s += SUFFIX_CHARS[(x >>> 16) % SUFFIX_CHARS.length];
  }
  return s;
}
