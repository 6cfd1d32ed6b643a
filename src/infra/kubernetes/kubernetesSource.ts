import type * as k8s from '@kubernetes/client-node';
import type { ClusterFact, LogLine } from '../../core/model/fact';
import type { TargetRef } from '../../core/model/target';
import type { ClockPort, Disposable, EventsPort, LoggerPort, NodeHeartbeat, ScrapeFailures, SourceStatus, WorkloadInventory } from '../../core/ports';
import { factsOfChange, type FactContext } from './facts';
import { ResilientInformer, type KubeObject } from './informers';
import { NodeLeases } from './nodeLeases';
import { NodeReachability } from './nodeReachability';
import { buildInventory, ownedObject, owningDeployment, serviceOfPod, type ReplicaSetLookup } from './inventory';
import { PodWorkloadMap, workloadTarget } from '../../core/observe/podWorkloads';
import type { KubeConnection } from './kubeClient';
import type { LogTailer } from './logTail';
import type { ScrapeEndpoint } from '../prometheus/scrapeSource';

export interface KubernetesSourceOptions {
  readonly conn: KubeConnection;
  readonly clock: ClockPort;
  /** Watched namespaces; empty means all. */
  readonly namespaces?: ReadonlyArray<string>;
  readonly logger?: LoggerPort;
  readonly logs?: LogTailer;
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
  /** How often the nodes' Leases are checked for a kubelet that stopped renewing (default 1 s; 0: the Leases are not watched). */
  readonly nodeLeaseCheckMs?: number;
}

/** Where kubelets renew their Leases. */
const NODE_LEASES_PATH = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases';

/** A pod annotated for scraping, with what the direct-scrape source needs. */
export interface PodScrapeTarget {
  readonly namespace: string;
  readonly pod: string;
  readonly port: string;
  readonly path: string;
  readonly deployment?: string;
  readonly node?: string;
}

type Kind = 'pods' | 'deployments' | 'replicasets' | 'statefulsets' | 'daemonsets' | 'controllerrevisions' | 'nodes' | 'events' | 'configmaps';

/** The kinds the inventory is built from: a change of any other (events, configmaps) leaves it as it was. */
const INVENTORY_KINDS: ReadonlyArray<Kind> = ['pods', 'deployments', 'replicasets', 'statefulsets', 'daemonsets', 'controllerrevisions', 'nodes'];

const PATHS: Record<Kind, (ns?: string) => string> = {
  pods: (ns) => (ns ? `/api/v1/namespaces/${ns}/pods` : '/api/v1/pods'),
  deployments: (ns) => (ns ? `/apis/apps/v1/namespaces/${ns}/deployments` : '/apis/apps/v1/deployments'),
  replicasets: (ns) => (ns ? `/apis/apps/v1/namespaces/${ns}/replicasets` : '/apis/apps/v1/replicasets'),
  statefulsets: (ns) => (ns ? `/apis/apps/v1/namespaces/${ns}/statefulsets` : '/apis/apps/v1/statefulsets'),
  daemonsets: (ns) => (ns ? `/apis/apps/v1/namespaces/${ns}/daemonsets` : '/apis/apps/v1/daemonsets'),
  controllerrevisions: (ns) => (ns ? `/apis/apps/v1/namespaces/${ns}/controllerrevisions` : '/apis/apps/v1/controllerrevisions'),
  nodes: () => '/api/v1/nodes',
  events: (ns) => (ns ? `/api/v1/namespaces/${ns}/events` : '/api/v1/events'),
  configmaps: (ns) => (ns ? `/api/v1/namespaces/${ns}/configmaps` : '/api/v1/configmaps'),
};

/**
 * EventsPort over informers: the inventory of what runs where, facts derived from changes and
 * Kubernetes events, and log evidence. Keeps working through API outages (informers relist).
 */
export class KubernetesSource implements EventsPort, Disposable {
  private readonly informers = new Map<Kind, Array<ResilientInformer<KubeObject>>>();
  private readonly factListeners = new Set<(fact: ClusterFact) => void>();
  private readonly statusListeners = new Set<(status: SourceStatus) => void>();
  private readonly failing = new Map<string, string>();
  private readonly synced = new Set<string>();
  private current: SourceStatus;
  /** Pods and ReplicaSets by owner, kept from the informers' changes (deleted pods for an hour: backfill reads them). */
  private readonly podWorkloads = new PodWorkloadMap(60 * 60_000);
  private started = false;
  private startedAt = 0;
  /** The inventory of the informers' objects at a version (the sum of their change counts); rebuilt only after a change. */
  private cachedInventory: { version: number; inventory: WorkloadInventory } | undefined;
  /**
   * The kubelets' Leases (nodeLeases.ts), watched apart from the other informers: they are no part of the inventory (a
   * renewal every 10 s per node would rebuild it), and an agent not allowed to read them (its ServiceAccount without the
   * chart's Role in kube-node-lease) still works, naming a failed node when it goes NotReady.
   */
  private readonly leases = new NodeLeases();
  private readonly reachability = new NodeReachability();
  private leaseInformer: ResilientInformer<KubeObject> | undefined;
  private leaseTimer: Disposable | undefined;
  private leaseState: 'synced' | 'failing' | undefined;

  constructor(private readonly options: KubernetesSourceOptions) {
    this.current = { source: 'kubernetes', state: 'connecting', message: `Connecting to the Kubernetes API at ${options.conn.server}`, since: options.clock.now() };
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.startedAt = this.options.clock.now();
    const namespaces = this.options.namespaces && this.options.namespaces.length > 0 ? this.options.namespaces : [undefined];
    for (const kind of Object.keys(PATHS) as Kind[]) {
      const scopes = kind === 'nodes' ? [undefined] : namespaces;
      const list = scopes.map((ns) => {
        const path = PATHS[kind](ns);
        const inf = new ResilientInformer<KubeObject>(this.options.conn, { path, backoffBaseMs: this.options.backoffBaseMs, backoffMaxMs: this.options.backoffMaxMs }, {
          onChange: (prev, cur) => this.onChange(kind, prev, cur),
          onState: (state, detail) => this.onInformerState(path, state, detail),
        });
        return inf;
      });
      this.informers.set(kind, list);
    }
    for (const list of this.informers.values()) for (const inf of list) inf.start();
    this.watchNodeLeases();
  }

  private watchNodeLeases(): void {
    const every = this.options.nodeLeaseCheckMs ?? 1_000;
    if (every <= 0) return;
    const clock = this.options.clock;
    this.leaseInformer = new ResilientInformer<KubeObject>(this.options.conn, { path: NODE_LEASES_PATH, backoffBaseMs: this.options.backoffBaseMs, backoffMaxMs: this.options.backoffMaxMs ?? 60_000 }, {
      onChange: (prev, cur) => this.leases.observe(prev as k8s.V1Lease | undefined, cur as k8s.V1Lease | undefined, clock.now()),
      onState: (state, detail) => {
        // said once per change: a 403 here is a missing Role, not an outage of the API
        if (state !== this.leaseState) this.options.logger?.log(state === 'failing' ? 'warn' : 'info', state === 'failing' ? `node Leases not read (${detail}): a failed node is named when it goes NotReady, not when its kubelet stops renewing` : 'watching the nodes\' Leases (kube-node-lease)');
        this.leaseState = state;
      },
    });
    this.leaseInformer.start();
    const tick = () => {
      for (const fact of this.leases.check(clock.now())) this.emit(fact);
      this.leaseTimer = clock.setTimeout(tick, every);
    };
    this.leaseTimer = clock.setTimeout(tick, every);
  }

  /**
   * The scrape targets Prometheus fails to reach now (a ScrapeFailureWatch's read): a node whose kubelet and pods fail
   * is named from them (NodeReachability), before its Lease shows a missed renewal.
   */
  noteScrapeFailures(read: ScrapeFailures): void {
    for (const fact of this.reachability.observe(read, this.inventory(), this.nodeHeartbeats(), this.options.clock.now())) this.emit(fact);
  }

  /** The kubelets' Lease renewals seen (see NodeLeases). */
  nodeHeartbeats(): ReadonlyArray<NodeHeartbeat> {
    return this.leaseState === 'synced' ? this.leases.heartbeats() : [];
  }

  get status(): SourceStatus {
    return this.current;
  }

  /** True once every informer has listed at least once. */
  get ready(): boolean {
    let total = 0;
    for (const list of this.informers.values()) total += list.length;
    return total > 0 && this.synced.size === total;
  }

  private objects<T>(kind: Kind): T[] {
    return (this.informers.get(kind) ?? []).flatMap((i) => i.list()) as T[];
  }

  /** One object of `kind` from its informers' caches, by key (no copy of the cache). */
  private object<T>(kind: Kind, namespace: string, name: string): T | undefined {
    for (const i of this.informers.get(kind) ?? []) {
      const o = i.get(namespace, name);
      if (o) return o as T;
    }
    return undefined;
  }

  private readonly replicaSet: ReplicaSetLookup = (namespace, name) => this.object<k8s.V1ReplicaSet>('replicasets', namespace, name);

  /**
   * What runs where, built once per change of the objects it reads: the pipeline, the evidence, the recorder, each
   * decision and verification read it several times an interval, and at 5,000 pods each build copied every cache and
   * allocated a few MB (bench:scale). The same object is handed out until something changes; readers do not mutate it.
   */
  inventory(): WorkloadInventory {
    let version = 0;
    for (const kind of INVENTORY_KINDS) for (const i of this.informers.get(kind) ?? []) version += i.version;
    if (this.cachedInventory?.version === version) return this.cachedInventory.inventory;
    const inventory = buildInventory({
      pods: this.objects<k8s.V1Pod>('pods'),
      deployments: this.objects<k8s.V1Deployment>('deployments'),
      replicaSets: this.objects<k8s.V1ReplicaSet>('replicasets'),
      nodes: this.objects<k8s.V1Node>('nodes'),
      statefulSets: this.objects<k8s.V1StatefulSet>('statefulsets'),
      daemonSets: this.objects<k8s.V1DaemonSet>('daemonsets'),
      controllerRevisions: this.objects<k8s.V1ControllerRevision>('controllerrevisions'),
    });
    this.cachedInventory = { version, inventory };
    return inventory;
  }

  /** Pods annotated prometheus.io/scrape=true, for the direct-scrape source. */
  scrapeTargets(): PodScrapeTarget[] {
    const rs = this.replicaSet;
    return this.objects<k8s.V1Pod>('pods')
      .filter((p) => p.metadata?.annotations?.['prometheus.io/scrape'] === 'true' && p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp)
      .map((p) => {
        const ann = p.metadata!.annotations!;
        const port = ann['prometheus.io/port'] ?? String(p.spec?.containers?.[0]?.ports?.[0]?.containerPort ?? 80);
        return { namespace: p.metadata!.namespace!, pod: p.metadata!.name!, port, path: ann['prometheus.io/path'] ?? '/metrics', deployment: owningDeployment(p, rs), node: p.spec?.nodeName };
      })
      .sort((a, b) => `${a.namespace}/${a.pod}`.localeCompare(`${b.namespace}/${b.pod}`));
  }

  subscribe(onFact: (fact: ClusterFact) => void): Disposable {
    this.factListeners.add(onFact);
    this.start();
    return { dispose: () => this.factListeners.delete(onFact) };
  }

  onStatus(listener: (status: SourceStatus) => void): Disposable {
    this.statusListeners.add(listener);
    listener(this.current);
    return { dispose: () => this.statusListeners.delete(listener) };
  }

  /** Matched lines the tailer kept; for a workload it does not tail, reads the last 5 minutes on demand. */
  async recentLogs(target: TargetRef, limit: number): Promise<ReadonlyArray<LogLine>> {
    const logs = this.options.logs;
    if (!logs) return [];
    const kept = logs.recentLines(target, limit);
    if (kept.length > 0 || !logs.isNew(target)) return kept;
    const svc = this.inventory().services.find((s) => s.target.namespace === target.namespace && s.target.name === target.name);
    if (!svc) return [];
    await logs.round([{ target: svc.target, pods: svc.pods.map((p) => p.name) }], 300, this.options.clock.now());
    return logs.recentLines(target, limit);
  }

  dispose(): void {
    for (const list of this.informers.values()) for (const inf of list) inf.stop();
    this.informers.clear();
    this.leaseInformer?.stop();
    this.leaseTimer?.dispose();
    this.leaseTimer = undefined;
    this.factListeners.clear();
    this.statusListeners.clear();
  }

  private readonly factContext: FactContext = {
    replicaSet: this.replicaSet,
    deployments: () => this.objects<k8s.V1Deployment>('deployments'),
    sets: () => [...this.objects<k8s.V1StatefulSet>('statefulsets'), ...this.objects<k8s.V1DaemonSet>('daemonsets')],
    controllerRevisions: () => this.objects<k8s.V1ControllerRevision>('controllerrevisions'),
    resolve: (ns, kind, name) => this.resolve(ns, kind, name),
  };

  /**
   * When a pod's current processes started: the latest of its running containers' starts, else its own start (the
   * kubelet took it), else its creation. The API gives whole seconds: this is the end of that second, so a pod started
   * just after an action is never placed before it. Undefined for a pod the informers no longer hold.
   */
  podStartedAt(namespace: string, pod: string): number | undefined {
    const p = this.object<k8s.V1Pod>('pods', namespace, pod);
    if (!p) return undefined;
    const started = (p.status?.containerStatuses ?? []).map((c) => time(c.state?.running?.startedAt)).filter((x): x is number => x !== undefined);
    const at = started.length ? Math.max(...started) : (time(p.status?.startTime) ?? time(p.metadata?.creationTimestamp));
    return at === undefined ? undefined : at + 999;
  }

  /** The workload target a pod's series count for (Deployment, StatefulSet, DaemonSet, bare ReplicaSet), also shortly after the pod is gone. */
  workloadOfPod(namespace: string, pod: string): TargetRef | undefined {
    const w = this.podWorkloads.workloadOf(namespace, pod);
    return w && workloadTarget(w);
  }

  private onChange(kind: Kind, prev: KubeObject | undefined, cur: KubeObject | undefined): void {
    const t = this.options.clock.now();
    if (kind === 'pods' || kind === 'replicasets') this.trackOwners(kind, prev, cur, t);
    let facts = factsOfChange(kind, prev, cur, this.factContext, t);
    // Events listed at start-up are history; keep only those from the last few minutes.
    if (kind === 'events' && prev === undefined) facts = facts.filter((f) => f.t >= this.startedAt - 5 * 60_000);
    for (const fact of facts) this.emit(fact);
  }

  private emit(fact: ClusterFact): void {
    for (const l of [...this.factListeners]) {
      try {
        l(fact);
      } catch (err) {
        this.options.logger?.log('error', 'fact listener threw', { error: (err as Error).message });
      }
    }
  }

  private trackOwners(kind: 'pods' | 'replicasets', prev: KubeObject | undefined, cur: KubeObject | undefined, t: number): void {
    const obj = (cur ?? prev) as k8s.V1Pod | k8s.V1ReplicaSet | undefined;
    if (!obj?.metadata?.name || !obj.metadata.namespace) return;
    const { namespace, name } = obj.metadata;
    if (kind === 'pods') {
      if (cur) this.podWorkloads.setPod(ownedObject(cur as k8s.V1Pod));
      else this.podWorkloads.deletePod(namespace, name, t);
    } else if (cur) this.podWorkloads.setReplicaSet(ownedObject(cur as k8s.V1ReplicaSet));
    else this.podWorkloads.deleteReplicaSet(namespace, name);
  }

  private resolve(namespace: string | undefined, kind: string | undefined, name: string): TargetRef | undefined {
    if (kind === 'Node') return { kind: 'node', name };
    if (!namespace) return undefined;
    if (kind === 'Deployment' || kind === 'StatefulSet' || kind === 'DaemonSet') return { kind: 'service', namespace, name };
    if (kind === 'ReplicaSet') {
      const rs = this.replicaSet(namespace, name);
      const dep = rs?.metadata?.ownerReferences?.find((o) => o.kind === 'Deployment')?.name;
      return dep ? { kind: 'service', namespace, name: dep } : undefined;
    }
    if (kind === 'Pod') {
      const pod = this.object<k8s.V1Pod>('pods', namespace, name);
      return (pod && serviceOfPod(pod, this.replicaSet)) ?? { kind: 'pod', namespace, name };
    }
    return undefined;
  }

  private onInformerState(path: string, state: 'synced' | 'failing', detail: string): void {
    if (state === 'synced') {
      this.synced.add(path);
      this.failing.delete(path);
    } else {
      this.failing.set(path, detail);
    }
    const server = this.options.conn.server;
    const next: Pick<SourceStatus, 'state' | 'message'> =
      this.failing.size > 0
        ? { state: 'down', message: `Kubernetes API unreachable at ${server}: ${[...this.failing.values()][0]}` }
        : this.ready
          ? { state: 'ok', message: `Watching ${this.options.namespaces?.length ? this.options.namespaces.join(', ') : 'all namespaces'} on ${server}` }
          : { state: 'connecting', message: `Listing objects from ${server}` };
    if (next.state === this.current.state && next.message === this.current.message) return;
    this.current = { source: 'kubernetes', ...next, since: this.options.clock.now() };
    this.options.logger?.log(next.state === 'down' ? 'warn' : 'info', next.message);
    for (const l of [...this.statusListeners]) {
      try {
        l(this.current);
      } catch {
        // a status listener must not stop the informers
      }
    }
  }
}

/** Scrape endpoints for annotated pods, fetched through the API server's pod proxy subresource. */
export function podProxyEndpoints(source: KubernetesSource, conn: KubeConnection, timeoutMs = 5_000): ScrapeEndpoint[] {
  return source.scrapeTargets().map((p) => ({
    name: `pod ${p.namespace}/${p.pod}`,
    labels: { namespace: p.namespace, pod: p.pod, deployment: p.deployment, node: p.node },
    fetch: () => conn.get(`/api/v1/namespaces/${encodeURIComponent(p.namespace)}/pods/${encodeURIComponent(p.pod)}:${encodeURIComponent(p.port)}/proxy${p.path.startsWith('/') ? p.path : `/${p.path}`}`, { timeoutMs }),
  }));
}

/** A time the client gives as a Date (or a string, from a raw list), as epoch ms. */
function time(x: Date | string | undefined): number | undefined {
  if (x === undefined || x === null) return undefined;
  const ms = x instanceof Date ? x.getTime() : Date.parse(x);
  return Number.isFinite(ms) ? ms : undefined;
}
