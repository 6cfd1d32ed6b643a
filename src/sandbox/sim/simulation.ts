/**
 * The sandbox's simulated cluster: controllers, kubelet, node lifecycle, workloads with Prometheus
 * metrics and logs, and fault injection. The API server and the metrics port call this;
 * everything it changes in the cluster goes through the ObjectStore, like a real control plane.
 */
import { StatusError, type KubeObject, type ObjectStore, type ResourceName } from '../store';
import { DeploymentController } from './deploymentController';
import { EventRecorder } from './eventRecorder';
import { FaultBook, faultPodView, faultShows, storeFaultCluster, type FaultPodView } from './faults';
import { DEFAULT_KUBELET_OPTIONS, type KubeletOptions, type PodRuntime } from './containerLifecycle';
import { Kubelet } from './kubelet';
import { renderMetrics, type MetricShape } from './metrics';
import { NodeLifecycle } from './nodeLifecycle';
import { controllerOf, labelsMatch, podReady, type Deployment, type NodeObject, type Pod } from './objects';
import { ReplicaSetController } from './replicaSetController';
import { StatefulSetController } from './statefulSetController';
import { DaemonSetController } from './daemonSetController';
import { Rng } from './rng';
import type { HttpAnswer, HttpRequest } from './shopApi';
import { seedDefaultTopology } from './topology';
import { WorkloadModel } from './workloadModel';

export interface SimulationOptions {
  seed: number;
  daySeconds: number;
  /** ms between controller ticks */
  tickMs?: number;
  podStartDelayMs?: number;
  now?: () => number;
  /** How long pods stay on a NotReady node before they are evicted (default 20 s). */
  evictionTimeoutMs?: number;
  /** Restart timing of crashing containers. */
  kubelet?: Partial<Omit<KubeletOptions, 'podStartDelayMs'>>;
  /** How /metrics names the series (default: Prometheus client names with a `deployment` label). */
  metricShape?: MetricShape;
  /** false: the shop's Deployments carry no `vigil.dev/depends-on`; who calls whom shows only in (Istio) telemetry. */
  declareDependencies?: boolean;
}

const EVENT_TTL_MS = 60 * 60 * 1000;

export class Simulation {
  readonly faults: FaultBook;
  readonly kubelet: Kubelet;
  /** The last error a tick swallowed, for diagnostics. */
  lastError?: Error;
  private readonly now: () => number;
  private readonly recorder: EventRecorder;
  private readonly deployments: DeploymentController;
  private readonly replicaSets: ReplicaSetController;
  private readonly statefulSets: StatefulSetController;
  private readonly daemonSets: DaemonSetController;
  private readonly nodes: NodeLifecycle;
  private readonly workloads: WorkloadModel;
  private timer?: ReturnType<typeof setInterval>;
  private lastExpiry = 0;
  private ticking = false;
  private readonly listed = new Map<ResourceName, { rv: number; items: KubeObject[] }>();

  constructor(
    private readonly store: ObjectStore,
    private readonly options: SimulationOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.recorder = new EventRecorder(store, this.now);
    const rng = new Rng(options.seed);
    const list = (r: ResourceName) => this.list(r);
    this.deployments = new DeploymentController(store, this.recorder, this.now, list);
    this.replicaSets = new ReplicaSetController(store, this.recorder, rng, list);
    this.statefulSets = new StatefulSetController(store, this.recorder, list);
    this.daemonSets = new DaemonSetController(store, this.recorder, rng, list);
    this.nodes = new NodeLifecycle(store, this.recorder, this.now, options.evictionTimeoutMs ?? 20_000);
    this.faults = new FaultBook({
      cluster: storeFaultCluster(store),
      now: this.now,
      pods: () => this.podViews(),
      serviceErrorShare: (key) => this.workloads.errorShare(key),
    });
    this.workloads = new WorkloadModel(
      {
        now: this.now,
        runtimes: () => this.kubelet.runtimes.values(),
        deployments: () => this.list('deployments') as Deployment[],
        effects: (pod, profile, atMs, withDependencies) => this.faults.effectsFor(pod, profile, atMs, withDependencies),
      },
      { seed: options.seed, daySeconds: options.daySeconds, metricShape: options.metricShape },
    );
    this.kubelet = new Kubelet(store, this.recorder, this.now, options.seed, { ...DEFAULT_KUBELET_OPTIONS, ...options.kubelet, podStartDelayMs: options.podStartDelayMs ?? DEFAULT_KUBELET_OPTIONS.podStartDelayMs }, {
      crashing: (uid, at) => this.faults.crashing(uid, at),
      failedNodes: (at) => this.faults.failedNodes(at),
    });
    store.onChange((e) => {
      if (e.resource === 'pods' && e.type === 'DELETED') this.kubelet.forget(e.object as Pod);
    });
  }

  seedTopology(): void {
    seedDefaultTopology(this.store, { declareDependencies: this.options.declareDependencies });
  }

  start(): void {
    if (this.timer) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.options.tickMs ?? 250);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One pass of every controller; tests call it with a fake clock. */
  tick(): void {
    if (this.ticking) return;
    this.ticking = true;
    try {
      this.faults.refreshFlags();
      this.collectGarbage();
      this.deployments.reconcile(this.list('pods') as Pod[]);
      this.replicaSets.reconcile(this.list('pods') as Pod[]);
      this.statefulSets.reconcile(this.list('pods') as Pod[]);
      this.daemonSets.reconcile(this.list('pods') as Pod[], this.list('nodes') as NodeObject[]);
      this.nodes.sync(this.list('nodes') as NodeObject[], this.list('pods') as Pod[], this.faults.failedNodes(this.now()));
      this.kubelet.sync(this.list('pods') as Pod[], this.list('nodes') as NodeObject[]);
      this.workloads.tick();
      this.updateDisruptionBudgets();
      this.faults.update(this.now(), (f) => faultShows(f, this.kubelet.runtimes.values()));
      if (this.now() - this.lastExpiry > 60_000) {
        this.lastExpiry = this.now();
        this.recorder.expire(EVENT_TTL_MS);
      }
    } catch (err) {
      // the simulation must keep running whatever a client wrote; the next tick retries
      this.lastError = err as Error;
    } finally {
      this.ticking = false;
    }
  }

  /**
   * A list of one resource as of the store's current version; reused until anything changes, so a
   * tick does not clone every object once per controller. Callers must not keep it across writes.
   */
  private list(resource: ResourceName): KubeObject[] {
    const rv = this.store.resourceVersion;
    const hit = this.listed.get(resource);
    if (hit && hit.rv === rv) return hit.items;
    const items = this.store.list(resource).items;
    this.listed.set(resource, { rv, items });
    return items;
  }

  private podViews(): FaultPodView[] {
    return [...this.kubelet.runtimes.values()].map(faultPodView);
  }

  /** Owner chains broken by deletes: ReplicaSets of deleted Deployments, pods of deleted ReplicaSets. */
  private collectGarbage(): void {
    const live = (resource: 'deployments' | 'replicasets', o: KubeObject) => {
      const owner = controllerOf(o.metadata);
      if (!owner || (owner.kind !== 'Deployment' && owner.kind !== 'ReplicaSet')) return true;
      return this.store.get(resource, o.metadata.namespace, owner.name)?.metadata.uid === owner.uid;
    };
    const uids = (resource: ResourceName) => new Set(this.list(resource).map((o) => o.metadata.uid));
    const deploymentUids = uids('deployments');
    for (const rs of this.list('replicasets')) {
      const owner = controllerOf(rs.metadata);
      if (owner?.kind === 'Deployment' && !deploymentUids.has(owner.uid) && !live('deployments', rs)) this.store.delete('replicasets', rs.metadata.namespace, rs.metadata.name);
    }
    const rsUids = uids('replicasets');
    const setUids = new Set([...uids('statefulsets'), ...uids('daemonsets')]);
    const setKinds = new Set(['StatefulSet', 'DaemonSet']);
    for (const p of this.list('pods')) {
      const owner = controllerOf(p.metadata);
      if (owner?.kind === 'ReplicaSet' && !rsUids.has(owner.uid) && !live('replicasets', p)) this.store.delete('pods', p.metadata.namespace, p.metadata.name);
      else if (owner && setKinds.has(owner.kind) && !setUids.has(owner.uid)) this.store.delete('pods', p.metadata.namespace, p.metadata.name);
    }
    for (const r of this.list('controllerrevisions')) {
      const owner = controllerOf(r.metadata);
      if (owner && setKinds.has(owner.kind) && !setUids.has(owner.uid)) this.store.delete('controllerrevisions', r.metadata.namespace, r.metadata.name);
    }
  }

  private updateDisruptionBudgets(): void {
    const pdbs = this.list('poddisruptionbudgets');
    if (!pdbs.length) return;
    const pods = this.list('pods') as Pod[];
    for (const b of pdbs) {
      const spec = (b.spec ?? {}) as { minAvailable?: number | string; maxUnavailable?: number | string; selector?: { matchLabels?: Record<string, string> } };
      const matched = pods.filter((p) => p.metadata.namespace === b.metadata.namespace && labelsMatch(spec.selector?.matchLabels, p.metadata.labels));
      const expected = matched.length;
      const healthy = matched.filter(podReady).length;
      const pct = (v: number | string, up: boolean) => (typeof v === 'number' ? v : up ? Math.ceil((parseInt(v, 10) * expected) / 100) : Math.floor((parseInt(v, 10) * expected) / 100));
      const desired = spec.minAvailable !== undefined ? pct(spec.minAvailable, true) : Math.max(0, expected - pct(spec.maxUnavailable ?? 0, false));
      const allowed = Math.max(0, healthy - desired);
      const prev = (b.status ?? {}) as { conditions?: Array<{ status: string; lastTransitionTime?: string }> };
      const condStatus = allowed > 0 ? 'True' : 'False';
      const transition = prev.conditions?.[0]?.status === condStatus ? prev.conditions[0].lastTransitionTime : new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
      const status = {
        observedGeneration: b.metadata.generation ?? 1,
        disruptionsAllowed: allowed,
        currentHealthy: healthy,
        desiredHealthy: desired,
        expectedPods: expected,
        conditions: [{ type: 'DisruptionAllowed', status: condStatus, reason: allowed > 0 ? 'SufficientPods' : 'InsufficientPods', message: '', observedGeneration: b.metadata.generation ?? 1, lastTransitionTime: transition }],
      };
      if (JSON.stringify(b.status ?? {}) !== JSON.stringify(status)) this.store.mutate('poddisruptionbudgets', b.metadata.namespace, b.metadata.name, (o) => void (o.status = status));
    }
  }

  private runtimeOf(namespace: string, pod: string): { pod: KubeObject; rt?: PodRuntime } | undefined {
    const p = this.store.get('pods', namespace, pod);
    if (!p) return undefined;
    return { pod: p, rt: this.kubelet.runtimes.get(p.metadata.uid as string) };
  }

  podMetrics(namespace: string, pod: string): string | undefined {
    const found = this.runtimeOf(namespace, pod);
    if (!found) return undefined;
    return found.rt ? this.workloads.podMetrics(found.rt) : '';
  }

  allMetrics(): string {
    const now = this.now();
    const runtimes = [...this.kubelet.runtimes.values()];
    for (const rt of runtimes) this.workloads.advance(rt, now);
    return renderMetrics(runtimes, this.list('deployments') as Deployment[], this.list('nodes') as NodeObject[], { kubeState: true, shape: this.options.metricShape });
  }

  podLogs(
    namespace: string,
    pod: string,
    opts: { tailLines?: number; follow?: boolean; container?: string; previous?: boolean },
    onLine: (line: string) => void,
  ): { lines: string[]; stop(): void } | undefined {
    const found = this.runtimeOf(namespace, pod);
    if (!found) return undefined;
    const containers = ((found.pod as Pod).spec?.containers ?? []).map((c) => c.name);
    if (opts.container && !containers.includes(opts.container)) {
      throw new StatusError('BadRequest', `container ${opts.container} is not valid for pod ${pod}`);
    }
    if (!found.rt) return { lines: [], stop: () => undefined };
    return this.workloads.podLogs(found.rt, opts, onLine);
  }

  /**
   * An HTTP request to a pod (through the pod or service proxy): the shop's API, `/healthz` on every pod.
   * Undefined when the pod does not exist; a pod whose container is not running refuses the connection.
   */
  serveHttp(namespace: string, pod: string, req: HttpRequest): HttpAnswer | undefined {
    const found = this.runtimeOf(namespace, pod);
    if (!found) return undefined;
    const rt = found.rt;
    if (!rt) return { status: 503, contentType: 'text/plain', body: `dial tcp ${pod}:8080: connect: connection refused`, delayMs: 1 };
    return this.workloads.serve(rt, req);
  }

  /** Ready pods of a workload, in turn, as a Service's endpoints are picked. */
  readyPod(namespace: string, deployment: string): PodRuntime | undefined {
    return this.workloads.readyPod(namespace, deployment);
  }

  handleControl(method: string, path: string, body: unknown): { status: number; body: unknown } {
    const result = this.faults.handle(method, path, body);
    if (method !== 'GET' && result.status < 300) this.tick();
    return result;
  }
}
