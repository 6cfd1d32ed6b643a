/**
 * The sandbox SIMULATION in virtual time, observed the way the agent observes a real cluster: its
 * metrics through the real Prometheus text parser and ScrapeSignalComputer, its objects through
 * buildInventory, and (when asked) its object changes and Events as facts through the same pure
 * functions KubernetesSource applies to informer updates. Shared by bench:learn and bench:diagnose.
 */
import type * as k8s from '@kubernetes/client-node';
import type { ClusterFact } from '../../src/core/model/fact';
import type { SampleFrame } from '../../src/core/model/signal';
import type { TargetRef } from '../../src/core/model/target';
import { ScrapeSignalComputer } from '../../src/core/observe/scrapeSignals';
import type { ClusterPort, WorkloadInventory } from '../../src/core/ports';
import { factsOfChange, type FactContext } from '../../src/infra/kubernetes/facts';
import { buildInventory, serviceOfPod, type ClusterObjects } from '../../src/infra/kubernetes/inventory';
import { parseTextFormat } from '../../src/infra/prometheus/textFormat';
import type { FaultRecord } from '../../src/sandbox/sim/faults';
import { Simulation } from '../../src/sandbox/sim/simulation';
import { ObjectStore, type ChangeEvent, type KubeObject } from '../../src/sandbox/store';

export interface VirtualClusterOptions {
  readonly seed: number;
  readonly daySeconds: number;
  readonly t0: number;
  readonly podStartDelayMs?: number;
  readonly evictionTimeoutMs?: number;
  /** Rate window of the scrape signal computer. */
  readonly rateWindowMs?: number;
  /** Derive facts from object changes and Events (off by default: it costs a clone per write). */
  readonly facts?: boolean;
}

export class VirtualCluster {
  t: number;
  readonly store: ObjectStore;
  readonly sim: Simulation;
  private readonly scraper: ScrapeSignalComputer;
  private readonly pendingFacts: ClusterFact[] = [];
  /** Last version of every object, as an informer cache holds it (facts are diffs against it). */
  private readonly cache = new Map<string, KubeObject>();
  private inventoryCache: { rv: number; inventory: WorkloadInventory } | undefined;

  constructor(options: VirtualClusterOptions) {
    this.t = options.t0;
    this.store = new ObjectStore(20_000, () => this.t);
    this.sim = new Simulation(this.store, { seed: options.seed, daySeconds: options.daySeconds, podStartDelayMs: options.podStartDelayMs ?? 1000, evictionTimeoutMs: options.evictionTimeoutMs ?? 20_000, now: () => this.t });
    this.sim.seedTopology();
    this.scraper = new ScrapeSignalComputer(options.rateWindowMs ?? 30_000);
    if (options.facts) {
      for (const resource of ['pods', 'deployments', 'replicasets', 'nodes', 'configmaps', 'events'] as const) {
        for (const o of this.store.list(resource).items) this.cache.set(cacheKey(resource, o), o);
      }
      this.store.onChange((e) => this.onChange(e));
    }
  }

  /** Moves virtual time by `ms` in ticks of `tickMs`; `each` runs after every tick (e.g. to drain facts). */
  advance(ms: number, tickMs: number, each?: () => void): void {
    const end = this.t + ms;
    while (this.t < end) {
      this.t = Math.min(end, this.t + tickMs);
      this.sim.tick();
      each?.();
    }
  }

  /** One scrape of every pod and kube-state metric at the current time: service, pod and node frames. */
  scrape(): SampleFrame[] {
    this.scraper.ingest(this.t, parseTextFormat(this.sim.allMetrics(), 'sandbox').samples);
    return this.scraper.compute(this.t);
  }

  inventory(): WorkloadInventory {
    const rv = this.store.resourceVersion;
    if (this.inventoryCache?.rv === rv) return this.inventoryCache.inventory;
    const list = (r: 'pods' | 'deployments' | 'replicasets' | 'nodes') => this.store.list(r).items as unknown[];
    const inventory = buildInventory({ pods: list('pods'), deployments: list('deployments'), replicaSets: list('replicasets'), nodes: list('nodes') } as unknown as ClusterObjects);
    this.inventoryCache = { rv, inventory };
    return inventory;
  }

  /** Injects a fault through the sandbox's control API; throws when the sandbox refuses it. */
  inject(request: Record<string, unknown>): FaultRecord {
    const r = this.sim.handleControl('POST', '/sandbox/v1/faults', request);
    if (r.status !== 201) throw new Error(`fault ${JSON.stringify(request)} refused: ${JSON.stringify(r.body)}`);
    return r.body as FaultRecord;
  }

  faultRecords(): FaultRecord[] {
    return (this.sim.handleControl('GET', '/sandbox/v1/faults', undefined).body as { items: FaultRecord[] }).items;
  }

  /** Facts derived since the last call, oldest first. */
  drainFacts(): ClusterFact[] {
    return this.pendingFacts.splice(0);
  }

  // ---- facts, as KubernetesSource.onChange derives them from informer updates ----

  private readonly factContext: FactContext = {
    replicaSet: (ns, name) => this.cache.get(`replicasets|${ns}/${name}`) as k8s.V1ReplicaSet | undefined,
    deployments: () => this.cached('deployments') as k8s.V1Deployment[],
    sets: () => [...this.cached('statefulsets'), ...this.cached('daemonsets')] as Array<k8s.V1StatefulSet | k8s.V1DaemonSet>,
    controllerRevisions: () => this.cached('controllerrevisions') as unknown as k8s.V1ControllerRevision[],
    resolve: (ns, kind, name) => this.resolve(ns, kind, name),
  };

  private onChange(e: ChangeEvent): void {
    const key = cacheKey(e.resource, e.object);
    const prev = this.cache.get(key);
    const cur = e.type === 'DELETED' ? undefined : e.object;
    if (cur) this.cache.set(key, cur);
    else this.cache.delete(key);
    const facts = factsOfChange(e.resource, prev, cur, this.factContext, this.t);
    this.pendingFacts.push(...facts);
  }

  private cached(resource: string): KubeObject[] {
    const out: KubeObject[] = [];
    for (const [k, o] of this.cache) if (k.startsWith(`${resource}|`)) out.push(o);
    return out;
  }

  /** Same resolution as KubernetesSource: an Event's involved object → its service (or node). */
  private resolve(namespace: string | undefined, kind: string | undefined, name: string): TargetRef | undefined {
    if (kind === 'Node') return { kind: 'node', name };
    if (!namespace) return undefined;
    if (kind === 'Deployment') return { kind: 'service', namespace, name };
    if (kind === 'ReplicaSet') {
      const rs = this.cache.get(`replicasets|${namespace}/${name}`) as k8s.V1ReplicaSet | undefined;
      const dep = rs?.metadata?.ownerReferences?.find((o) => o.kind === 'Deployment')?.name;
      return dep ? { kind: 'service', namespace, name: dep } : undefined;
    }
    if (kind === 'Pod') {
      const pod = this.cache.get(`pods|${namespace}/${name}`) as k8s.V1Pod | undefined;
      return (pod && serviceOfPod(pod, this.factContext.replicaSet)) ?? { kind: 'pod', namespace, name };
    }
    return undefined;
  }
}

const cacheKey = (resource: string, o: KubeObject) => `${resource}|${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** The cluster of a bench that runs the loop in mode off: it diagnoses and never writes (a write is a bench bug). */
export const READ_ONLY_CLUSTER: ClusterPort = {
  execute: async () => {
    throw new Error('bench: mode off never writes');
  },
  rolloutStatus: async () => ({ complete: true, message: 'bench', revision: 1 }),
  acquireLease: async () => ({ holder: 'bench', held: true }),
  releaseLease: async () => undefined,
};
