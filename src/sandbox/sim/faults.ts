/**
 * Fault injection with ground truth. Each fault is designed so the remediation an SRE would pick
 * heals it: crash-loop, memory-leak, latency-spike and dependency-outage live in the pods that ran
 * at injection (a wedged process: new pods are fine, so a restart heals), bad-release is an image
 * version (rollback heals), traffic-surge saturates per-pod capacity (scaling out heals),
 * bad-feature-flag follows the ConfigMap's current value. cpu-hog breaks a relationship, not a level: one pod
 * burns `factor` times the CPU per request at normal traffic, latency and errors (a restart heals it); started while
 * the day's traffic eases, the service's total CPU stays inside its band although each request costs a third or half
 * more, so only a model of CPU against requests sees it (test/unit/loop/relationshipFault.test.ts).
 *
 * Faults that fight back (FIGHTING_FAULTS) do not yield to the first remedy that comes to mind: a bad config value
 * crash-loops new pods too (restart does not help, reverting the value does), a crashing release only rolls back,
 * a full disk and a flapping service are fixed by no action (a human is), and a healthy release is no fault at all
 * (ground truth for "innocent release" drills: any write to it is harm). Each record names its cause and remedy.
 */
import { StatusError, type KubeObject, type ObjectStore } from '../store';
import type { PodRuntime } from './containerLifecycle';
import type { ConfigMap, Deployment, NodeObject } from './objects';
import { noEffects, type Effects, type ServiceProfile } from './workload';

export const FAULT_KINDS = [
  'crash-loop',
  'memory-leak',
  'bad-release',
  'latency-spike',
  'node-failure',
  'traffic-surge',
  'bad-feature-flag',
  'dependency-outage',
  'cpu-hog',
  'bad-config',
  'crash-release',
  'disk-full',
  'flapping',
  'healthy-release',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Faults that no restart heals; see the header. */
export const FIGHTING_FAULTS: ReadonlySet<FaultKind> = new Set(['bad-config', 'crash-release', 'disk-full', 'flapping', 'healthy-release']);

/** The remedy that works, per fault: the action kinds that heal it, or none (a human must, or nothing is wrong). */
export const FAULT_REMEDIES: Readonly<Record<FaultKind, { readonly actions: ReadonlyArray<string>; readonly words: string }>> = {
  'crash-loop': { actions: ['delete-pod', 'rollout-restart'], words: 'replace the crashing pods' },
  'memory-leak': { actions: ['rollout-restart', 'delete-pod'], words: 'restart the rollout (fresh pods)' },
  'bad-release': { actions: ['rollback'], words: 'roll back the release' },
  'latency-spike': { actions: ['rollout-restart', 'delete-pod'], words: 'restart the rollout' },
  'node-failure': { actions: ['cordon', 'drain'], words: 'cordon and drain the node' },
  'traffic-surge': { actions: ['scale'], words: 'scale out' },
  'bad-feature-flag': { actions: ['patch-configmap'], words: 'put the flag back' },
  'dependency-outage': { actions: ['rollout-restart', 'delete-pod'], words: 'restart the failing dependency' },
  'cpu-hog': { actions: ['rollout-restart', 'delete-pod'], words: 'restart the rollout (replace the hogging pod)' },
  'bad-config': { actions: ['patch-configmap'], words: 'revert the config value (restarts do not help)' },
  'crash-release': { actions: ['rollback'], words: 'roll back the release (restarts do not help)' },
  'disk-full': { actions: [], words: 'none: a human frees or grows the volume; escalate with context' },
  flapping: { actions: [], words: 'none: escalate, naming the flapping' },
  'healthy-release': { actions: [], words: 'none: the release is healthy, leave it alone' },
};

/** Faults that live in the pods running at injection: replacing the pods heals them. */
const POD_BOUND: ReadonlySet<FaultKind> = new Set(['crash-loop', 'memory-leak', 'latency-spike', 'dependency-outage', 'cpu-hog']);
/** Faults that roll out a new image. */
const RELEASES: ReadonlySet<FaultKind> = new Set(['bad-release', 'crash-release', 'healthy-release']);

export interface FaultRequest {
  fault?: unknown;
  target?: unknown;
  durationSeconds?: unknown;
  /** traffic-surge: rate multiplier (default 4); latency-spike: latency multiplier (default 10); cpu-hog: CPU per request (default 2). */
  factor?: unknown;
  /** memory-leak: seconds from start to OOM (default 40). */
  leakSeconds?: unknown;
  /** bad-feature-flag, bad-config: which ConfigMap key to flip. */
  flag?: unknown;
  /** flapping: seconds on, then off, alternating (default 45). */
  periodSeconds?: unknown;
}

/** The ground-truth record a benchmark reads back. Times are ISO 8601 with milliseconds. */
export interface FaultRecord {
  id: string;
  fault: FaultKind;
  target: string;
  startedAt: string;
  endsAt?: string;
  symptomsAt?: string;
  endedAt?: string;
  recoveredAt?: string;
  /** Whether the fault's service is healthy right now (healed, or never hurt yet): false again after recoveredAt is a relapse. */
  healthyNow?: boolean;
  active: boolean;
  description: string;
  /** Ground truth: the workload whose fault this is, and the remedy that works (see FAULT_REMEDIES). */
  cause: string;
  remedy: { actions: ReadonlyArray<string>; words: string };
}

/** A pod as faults see it. */
export interface FaultPodView {
  uid: string;
  namespace: string;
  deployment: string;
  node?: string;
  image: string;
  ready: boolean;
  started: boolean;
  restartCount: number;
  utilisation: number;
}

/**
 * The cluster objects faults read and the two writes they make (a release, a flag). The embedded sandbox
 * answers from its ObjectStore; the node agent from its informer caches, writing through the real API server.
 */
export interface FaultCluster {
  nodeNames(): string[];
  deployment(namespace: string, name: string): Deployment | undefined;
  /** A StatefulSet or DaemonSet of that name (a release fault changes its template as a Deployment's). */
  podSet(namespace: string, name: string): PodSet | undefined;
  deploymentNames(namespace: string): string[];
  podUid(namespace: string, name: string): string | undefined;
  /** Images of every ReplicaSet and ControllerRevision template in the namespace (a bad release picks a version none ran). */
  templateImages(namespace: string): string[];
  configMap(namespace: string, name: string): ConfigMap | undefined;
  /** Sets the first container's image and the change-cause annotation of a Deployment (or a `kind` set), as `kubectl set image --record` would. */
  setImage(namespace: string, deployment: string, image: string, changeCause: string, kind?: PodSet['kind']): void;
  /** Sets (or with undefined removes) one key of a ConfigMap's data. */
  setConfigMapKey(namespace: string, name: string, key: string, value: string | undefined): void;
}

/** A StatefulSet or DaemonSet, as release faults read it. */
export interface PodSet {
  readonly kind: 'StatefulSet' | 'DaemonSet';
  readonly metadata: Deployment['metadata'];
  readonly spec: { template: Deployment['spec']['template']; replicas?: number };
}

/** A ControllerRevision's template images. */
export function revisionImages(cr: KubeObject): string[] {
  const data = (cr as { data?: { spec?: { template?: Deployment['spec']['template'] } } }).data;
  return (data?.spec?.template?.spec?.containers ?? []).map((c) => c.image);
}

/** FaultCluster over the embedded sandbox's ObjectStore. */
export function storeFaultCluster(store: ObjectStore): FaultCluster {
  return {
    nodeNames: () => store.list('nodes').items.map((n) => (n as NodeObject).metadata.name),
    deployment: (ns, name) => store.get('deployments', ns, name) as Deployment | undefined,
    deploymentNames: (ns) => store.list('deployments', ns).items.map((d) => d.metadata.name),
    podUid: (ns, name) => store.get('pods', ns, name)?.metadata.uid as string | undefined,
    podSet: (ns, name) => {
      const sts = store.get('statefulsets', ns, name);
      if (sts) return { ...(sts as unknown as PodSet), kind: 'StatefulSet' };
      const ds = store.get('daemonsets', ns, name);
      return ds ? { ...(ds as unknown as PodSet), kind: 'DaemonSet' } : undefined;
    },
    templateImages: (ns) => [
      ...store.list('replicasets', ns).items.flatMap((rs) => ((rs.spec as Deployment['spec']).template?.spec.containers ?? []).map((c) => c.image)),
      ...store.list('controllerrevisions', ns).items.flatMap(revisionImages),
    ],
    configMap: (ns, name) => store.get('configmaps', ns, name) as ConfigMap | undefined,
    setImage: (ns, name, image, changeCause, kind) =>
      void store.mutate(kind === 'StatefulSet' ? 'statefulsets' : kind === 'DaemonSet' ? 'daemonsets' : 'deployments', ns, name, (o) => {
        const dep = o as Deployment;
        dep.spec.template.spec.containers[0].image = image;
        dep.metadata.annotations = { ...dep.metadata.annotations, 'kubernetes.io/change-cause': changeCause };
      }),
    setConfigMapKey: (ns, name, key, value) =>
      void store.mutate('configmaps', ns, name, (o) => {
        const data = { ...(o as ConfigMap).data };
        if (value === undefined) delete data[key];
        else data[key] = value;
        (o as ConfigMap).data = data;
      }),
  };
}

/** A running pod as faults see it. */
export function faultPodView(rt: PodRuntime): FaultPodView {
  return { uid: rt.uid, namespace: rt.namespace, deployment: rt.deployment, node: rt.node, image: rt.image, ready: rt.ready, started: rt.running, restartCount: rt.restartCount, utilisation: rt.service.lastUtilisation };
}

/** Whether a fault shows in its pods yet (ground truth `symptomsAt`); traffic-surge is judged by FaultBook itself. */
export function faultShows(f: { kind: FaultKind; podUids: Set<string>; badImage?: string; namespace: string; name: string }, runtimes: Iterable<PodRuntime>): boolean {
  for (const rt of runtimes) {
    if (f.kind === 'crash-loop' && f.podUids.has(rt.uid) && rt.lastTerminated?.reason === 'Error') return true;
    if (f.kind === 'memory-leak' && f.podUids.has(rt.uid) && (rt.service.memoryBytes / rt.memoryLimitBytes > 0.8 || rt.lastTerminated?.reason === 'OOMKilled')) return true;
    if (f.kind === 'bad-release' && rt.image === f.badImage && rt.ready) return true;
    if (f.kind === 'crash-release' && rt.image === f.badImage && rt.lastTerminated?.reason === 'Error') return true;
    if (f.kind === 'bad-config' && rt.namespace === f.namespace && rt.deployment === f.name && rt.lastTerminated?.reason === 'Error') return true;
  }
  return false;
}

/** What the simulation lets faults read and change. */
export interface FaultHost {
  readonly cluster: FaultCluster;
  now(): number;
  pods(): Iterable<FaultPodView>;
  /** Share of a service's requests that fail right now (1 when no pod is ready). */
  serviceErrorShare(key: string): number;
}

interface Fault {
  id: string;
  kind: FaultKind;
  target: string;
  namespace: string;
  name: string;
  startedMs: number;
  endsMs?: number;
  endedMs?: number;
  symptomsMs?: number;
  recoveredMs?: number;
  podUids: Set<string>;
  factor: number;
  leakSeconds: number;
  badImage?: string;
  previousImage?: string;
  flag?: { configMap: string; key: string; badValue: string; previousValue: string | undefined };
  /** bad-feature-flag: the cluster has shown the bad value (its write is visible), so a good value now is a revert. */
  flagSeenBad?: boolean;
  /** node-failure: deployments that ran pods on the node. */
  affectedDeployments: Set<string>;
  description: string;
  /** flapping: length of one on (and one off) spell. */
  periodMs: number;
}

export class FaultError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

export class FaultBook {
  private readonly faults: Fault[] = [];
  private seq = 0;
  private readonly badImages = new Map<string, Fault>();
  private flagValues = new Map<string, string | undefined>();

  constructor(private readonly host: FaultHost) {}

  private isActive(f: Fault, atMs: number): boolean {
    const end = f.endedMs ?? f.endsMs;
    return f.startedMs <= atMs && (end === undefined || atMs < end);
  }

  inject(req: FaultRequest): FaultRecord {
    const kind = req.fault;
    if (typeof kind !== 'string' || !(FAULT_KINDS as ReadonlyArray<string>).includes(kind)) {
      throw new FaultError(400, `unknown fault ${JSON.stringify(kind)}: use one of ${FAULT_KINDS.join(', ')}`);
    }
    if (typeof req.target !== 'string' || !req.target.trim()) {
      throw new FaultError(400, `fault ${kind} needs a target: "namespace/deployment"${kind === 'node-failure' ? ' (for node-failure: the node name, e.g. "node-2")' : ''}`);
    }
    let durationMs: number | undefined;
    if (req.durationSeconds !== undefined && req.durationSeconds !== null) {
      const d = Number(req.durationSeconds);
      if (!Number.isFinite(d) || d <= 0) throw new FaultError(400, `durationSeconds must be a positive number of seconds, got ${JSON.stringify(req.durationSeconds)}`);
      durationMs = d * 1000;
    }
    const now = this.host.now();
    const f: Fault = {
      id: `fault-${++this.seq}`,
      kind: kind as FaultKind,
      target: req.target.trim(),
      namespace: '',
      name: '',
      startedMs: now,
      endsMs: durationMs === undefined ? undefined : now + durationMs,
      podUids: new Set(),
      factor: positive(req.factor, kind === 'latency-spike' ? 10 : kind === 'cpu-hog' ? 2 : 4, 'factor'),
      leakSeconds: positive(req.leakSeconds, 40, 'leakSeconds'),
      affectedDeployments: new Set(),
      description: '',
      periodMs: positive(req.periodSeconds, 45, 'periodSeconds') * 1000,
    };
    if (f.kind === 'node-failure') this.prepareNodeFailure(f);
    else this.prepareWorkloadFault(f, req);
    this.faults.push(f);
    if (f.kind === 'latency-spike' || f.kind === 'dependency-outage' || f.kind === 'node-failure' || f.kind === 'bad-feature-flag' || f.kind === 'cpu-hog' || f.kind === 'disk-full' || f.kind === 'flapping') {
      f.symptomsMs = now;
    }
    return this.record(f);
  }

  private prepareNodeFailure(f: Fault): void {
    const name = f.target.replace(/^(nodes?\/|\/)/, '');
    const known = this.host.cluster.nodeNames();
    if (!known.includes(name)) {
      throw new FaultError(404, `node "${name}" not found: node-failure targets a node, one of ${known.join(', ') || '(none)'}`);
    }
    f.name = name;
    f.target = name;
    for (const p of this.host.pods()) if (p.node === name) f.affectedDeployments.add(`${p.namespace}/${p.deployment}`);
    f.description = `node ${name} stops reporting Ready; its pods are evicted after the eviction timeout`;
  }

  private prepareWorkloadFault(f: Fault, req: FaultRequest): void {
    const m = /^([a-z0-9][-a-z0-9]*)\/([a-z0-9][-a-z0-9.]*)$/.exec(f.target);
    if (!m) throw new FaultError(400, `target "${f.target}" is not "namespace/name": e.g. "shop/checkout"`);
    const [, ns, name] = m;
    f.namespace = ns;
    f.name = name;
    const cluster = this.host.cluster;
    const deployment = cluster.deployment(ns, name);
    // a release changes a StatefulSet's or DaemonSet's template as a Deployment's
    const podSet = !deployment && RELEASES.has(f.kind) ? cluster.podSet(ns, name) : undefined;
    const podUid = !deployment && (f.kind === 'crash-loop' || f.kind === 'memory-leak') ? cluster.podUid(ns, name) : undefined;
    // a StatefulSet or DaemonSet (on the real control plane, whose controllers run them) is known by its pods
    const ofWorkload = !!podSet || (!deployment && !podUid && POD_BOUND.has(f.kind)) && [...this.host.pods()].some((p) => p.namespace === ns && p.deployment === name);
    if (!deployment && !podUid && !ofWorkload) {
      const known = cluster.deploymentNames(ns).map((d) => `${ns}/${d}`);
      throw new FaultError(404, `deployment "${f.target}" not found${f.kind === 'crash-loop' || f.kind === 'memory-leak' ? ' (nor a pod of that name)' : ''}${POD_BOUND.has(f.kind) ? ' (nor a workload with pods of that name)' : ''}; deployments in ${ns}: ${known.join(', ') || '(none)'}`);
    }
    if (podUid) {
      f.podUids.add(podUid);
      const v = [...this.host.pods()].find((p) => p.uid === podUid);
      f.namespace = ns;
      f.name = v?.deployment ?? name;
    } else if (f.kind === 'cpu-hog') {
      // one pod: the service's CPU rises by a share, not a multiple, so every signal can stay in its band
      const first = [...this.host.pods()].filter((p) => p.namespace === ns && p.deployment === name && p.ready).sort((a, b) => (a.uid < b.uid ? -1 : 1))[0];
      if (first) f.podUids.add(first.uid);
    } else if (POD_BOUND.has(f.kind)) {
      for (const p of this.host.pods()) if (p.namespace === ns && p.deployment === name) f.podUids.add(p.uid);
    }
    switch (f.kind) {
      case 'crash-loop':
        f.description = `containers of ${f.podUids.size} pod(s) exit with an error shortly after start; new pods are not affected`;
        break;
      case 'memory-leak':
        f.description = `memory of ${f.podUids.size} pod(s) grows to the limit in ~${f.leakSeconds}s, then OOMKilled; new pods start fresh`;
        break;
      case 'bad-release':
        this.rollOutBadRelease(f, deployment ?? podSet!);
        break;
      case 'latency-spike':
        f.description = `latency of ${f.podUids.size} pod(s) of ${f.target} × ${f.factor}; new pods are not affected`;
        break;
      case 'traffic-surge':
        f.description = `request rate of ${f.target} × ${f.factor}; pods saturate until scaled out`;
        break;
      case 'cpu-hog':
        f.description = `${f.podUids.size} pod(s) of ${f.target} burn ${f.factor} × the CPU per request at normal traffic, latency and errors; new pods are not affected. A relationship fault: while traffic eases the service's total CPU can stay inside its usual band, so per-signal baselines may not see it, a model of CPU against requests does`;
        break;
      case 'dependency-outage':
        f.description = `${f.podUids.size} pod(s) of ${f.target} answer 503 to most requests; services that depend on it fail too; new pods are not affected`;
        break;
      case 'bad-feature-flag':
        this.flipFlag(f, deployment as Deployment, req.flag);
        break;
      case 'bad-config':
        this.flipFlag(f, deployment as Deployment, req.flag);
        f.description = `config ${f.flag!.key} in configmap ${f.namespace}/${f.flag!.configMap} set to "${f.flag!.badValue}" (was "${f.flag!.previousValue}"); every pod of ${f.target} exits at start-up while it keeps that value, new ones too`;
        break;
      case 'crash-release':
        this.rollOutBadRelease(f, deployment ?? podSet!);
        f.description = `rolled out ${f.badImage} (was ${f.previousImage}); its containers exit at start-up; rollback heals, restarts do not`;
        break;
      case 'healthy-release':
        this.rollOutBadRelease(f, deployment ?? podSet!);
        this.badImages.delete(f.badImage!);
        f.description = `rolled out ${f.badImage} (was ${f.previousImage}), a healthy image: nothing to fix`;
        break;
      case 'disk-full':
        f.description = `the volume of ${f.target} is full: every pod (new ones too) answers 503 "No space left on device"; no restart, rollback or scale heals it`;
        break;
      case 'flapping':
        f.description = `${f.target} answers 503 to most requests for ${f.periodMs / 1000} s, then is fine for ${f.periodMs / 1000} s, and again; no action heals it`;
        break;
      default:
        break;
    }
  }

  private rollOutBadRelease(f: Fault, d: Deployment | PodSet): void {
    const container = d.spec.template.spec.containers[0];
    const used = new Set(this.host.cluster.templateImages(f.namespace));
    used.add(container.image);
    let image = bumpVersion(container.image);
    while (used.has(image)) image = bumpVersion(image);
    f.previousImage = container.image;
    f.badImage = image;
    this.badImages.set(image, f);
    this.host.cluster.setImage(f.namespace, f.name, image, `release ${image}`, 'kind' in d && (d.kind === 'StatefulSet' || d.kind === 'DaemonSet') ? d.kind : undefined);
    f.description = `rolled out ${image} (was ${container.image}); it answers 5xx to a quarter of requests; rollback heals`;
  }

  private flipFlag(f: Fault, d: Deployment, requested: unknown): void {
    const cmName = d.metadata.annotations?.['vigil.dev/feature-flags'];
    if (!cmName) throw new FaultError(400, `deployment ${f.target} reads no feature flags (annotation vigil.dev/feature-flags is not set); pick one that does, e.g. shop/checkout`);
    const cm = this.host.cluster.configMap(f.namespace, cmName);
    if (!cm) throw new FaultError(404, `configmap ${f.namespace}/${cmName} (feature flags of ${f.target}) not found`);
    const keys = Object.keys(cm.data ?? {});
    const key = typeof requested === 'string' ? requested : keys.find((k) => k.startsWith(`${f.name}.`));
    if (!key || !keys.includes(key)) {
      throw new FaultError(400, `no feature flag ${key ? `"${key}"` : `for ${f.name}`} in configmap ${f.namespace}/${cmName}; flags: ${keys.join(', ')}`);
    }
    const previous = cm.data?.[key];
    const badValue = previous === 'false' ? 'true' : previous === 'true' ? 'false' : 'broken';
    f.flag = { configMap: cmName, key, badValue, previousValue: previous };
    this.host.cluster.setConfigMapKey(f.namespace, cmName, key, badValue);
    this.flagValues.set(`${f.namespace}/${cmName}/${key}`, badValue);
    f.description = `flag ${key} in configmap ${f.namespace}/${cmName} set to "${badValue}" (was "${previous}"); errors last while it keeps that value`;
  }

  end(id: string): FaultRecord {
    const f = this.faults.find((x) => x.id === id);
    if (!f) throw new FaultError(404, `fault "${id}" not found; GET /sandbox/v1/faults lists them`);
    if (f.endedMs === undefined) this.finish(f, Math.min(this.host.now(), f.endsMs ?? Infinity));
    return this.record(f);
  }

  private finish(f: Fault, atMs: number): void {
    f.endedMs = atMs;
    if (f.badImage) this.badImages.delete(f.badImage);
    if (f.flag) {
      const { configMap, key, badValue, previousValue } = f.flag;
      const cm = this.host.cluster.configMap(f.namespace, configMap);
      if (cm && cm.data?.[key] === badValue) this.host.cluster.setConfigMapKey(f.namespace, configMap, key, previousValue);
    }
  }

  list(): FaultRecord[] {
    return this.faults.map((f) => this.record(f));
  }

  get(id: string): FaultRecord {
    const f = this.faults.find((x) => x.id === id);
    if (!f) throw new FaultError(404, `fault "${id}" not found; GET /sandbox/v1/faults lists them`);
    return this.record(f);
  }

  private record(f: Fault): FaultRecord {
    return {
      id: f.id,
      fault: f.kind,
      target: f.target,
      startedAt: iso(f.startedMs) as string,
      endsAt: iso(f.endsMs),
      symptomsAt: iso(f.symptomsMs),
      endedAt: iso(f.endedMs ?? (f.endsMs !== undefined && f.endsMs <= this.host.now() ? f.endsMs : undefined)),
      recoveredAt: iso(f.recoveredMs),
      healthyNow: this.healed(f, this.host.now()),
      active: this.isActive(f, this.host.now()),
      description: f.description,
      cause: f.kind === 'node-failure' ? `node/${f.name}` : `${f.namespace}/${f.name}`,
      remedy: FAULT_REMEDIES[f.kind],
    };
  }

  /** Nodes whose kubelet is down at `atMs`. */
  failedNodes(atMs: number): Set<string> {
    const out = new Set<string>();
    for (const f of this.faults) if (f.kind === 'node-failure' && this.isActive(f, atMs)) out.add(f.name);
    return out;
  }

  crashing(uid: string, atMs: number): boolean {
    if (this.faults.some((f) => f.kind === 'crash-loop' && f.podUids.has(uid) && this.isActive(f, atMs))) return true;
    const fighting = this.faults.filter((f) => (f.kind === 'bad-config' || f.kind === 'crash-release') && f.startedMs <= atMs);
    if (!fighting.length) return false;
    const pod = [...this.host.pods()].find((p) => p.uid === uid);
    if (!pod) return false;
    return fighting.some((f) =>
      f.kind === 'crash-release'
        ? pod.image === f.badImage && this.badImages.has(pod.image)
        : pod.namespace === f.namespace && pod.deployment === f.name && this.flagIsBad(f),
    );
  }

  private flagIsBad(f: Fault): boolean {
    return !!f.flag && this.flagValues.get(`${f.namespace}/${f.flag.configMap}/${f.flag.key}`) === f.flag.badValue;
  }

  /** flapping: on for one period, off for the next, from its start. */
  private flappingOn(f: Fault, atMs: number): boolean {
    return this.isActive(f, atMs) && Math.floor((atMs - f.startedMs) / f.periodMs) % 2 === 0;
  }

  /** Flag values as the pods read them: refreshed from the store once per tick. */
  refreshFlags(): void {
    const next = new Map<string, string | undefined>();
    for (const f of this.faults) {
      if (!f.flag) continue;
      const cm = this.host.cluster.configMap(f.namespace, f.flag.configMap);
      next.set(`${f.namespace}/${f.flag.configMap}/${f.flag.key}`, cm?.data?.[f.flag.key]);
      if (cm?.data?.[f.flag.key] === f.flag.badValue) f.flagSeenBad = true;
    }
    this.flagValues = next;
  }

  /** What faults do to a pod's requests; `withDependencies` false leaves out its dependencies' failures (a caller that calls them itself). */
  effectsFor(pod: { uid: string; image: string }, profile: ServiceProfile, atMs: number, withDependencies = true): Effects {
    const fx = noEffects();
    const bad = this.badImages.get(pod.image);
    if (bad && bad.startedMs <= atMs) {
      fx.share500 += 0.25;
      fx.latencyFactor *= 1.3;
      fx.errorCause = `TypeError: Cannot read properties of undefined (reading 'currency') at PriceService.total (/app/dist/price.js:88:31) [release ${pod.image}]`;
    }
    for (const f of this.faults) {
      if (f.kind === 'bad-config') continue;
      if (f.kind === 'bad-feature-flag' && f.flag && f.namespace === profile.namespace && profile.flagsConfigMap === f.flag.configMap && f.flag.key.startsWith(`${profile.deployment}.`)) {
        if (this.flagValues.get(`${f.namespace}/${f.flag.configMap}/${f.flag.key}`) === f.flag.badValue && f.startedMs <= atMs) {
          fx.share500 += 0.35;
          fx.errorCause = `feature flag ${f.flag.key}=${f.flag.badValue}: Error: pricing rule set "v2" not found (configmap ${f.namespace}/${f.flag.configMap})`;
        }
        continue;
      }
      if (!this.isActive(f, atMs)) continue;
      const onTarget = f.namespace === profile.namespace && f.name === profile.deployment;
      if (f.kind === 'memory-leak' && f.podUids.has(pod.uid)) fx.leakBytesPerSecond += this.leakRate(f);
      else if (f.kind === 'latency-spike' && f.podUids.has(pod.uid)) fx.latencyFactor *= f.factor;
      else if (f.kind === 'cpu-hog' && f.podUids.has(pod.uid)) fx.cpuFactor *= f.factor;
      else if (f.kind === 'traffic-surge' && onTarget) fx.trafficFactor *= f.factor;
      else if (f.kind === 'dependency-outage' && f.podUids.has(pod.uid)) {
        fx.share503 += 0.9;
        fx.errorCause = `upstream connect error or disconnect/reset before headers. reset reason: connection failure (${f.target} unavailable)`;
      } else if (f.kind === 'disk-full' && onTarget) {
        fx.share503 += 0.9;
        fx.errorCause = `ERROR: could not extend file "base/16384/2619": No space left on device (volume data-${f.name}-0 100% full)`;
      } else if (f.kind === 'flapping' && onTarget && this.flappingOn(f, atMs)) {
        fx.share503 += 0.8;
        fx.errorCause = `upstream connect error or disconnect/reset before headers. reset reason: connection timeout (${f.target} intermittently unavailable)`;
      }
    }
    for (const dep of withDependencies ? profile.dependsOn : []) {
      const share = this.host.serviceErrorShare(dep);
      if (share > 0.01) {
        fx.share502 += 0.6 * share;
        if (share > 0.5) fx.latencyFactor *= 2;
        fx.errorCause ??= `call to ${dep} failed: 503 Service Unavailable (dependency error rate ${(share * 100).toFixed(0)}%)`;
      }
    }
    return fx;
  }

  private leakRate(f: Fault): number {
    // Sized so a default 256Mi container from ~90Mi baseline reaches its limit in leakSeconds.
    return (170 * 1024 * 1024) / f.leakSeconds;
  }

  /** Marks planned ends, first symptoms and recovery (ground truth for benchmarks). */
  update(atMs: number, symptom: (f: { kind: FaultKind; podUids: Set<string>; badImage?: string; namespace: string; name: string }) => boolean): void {
    const saturated = (f: Fault) => [...this.host.pods()].some((p) => p.namespace === f.namespace && p.deployment === f.name && p.ready && p.utilisation > 0.85);
    for (const f of this.faults) {
      if (f.endedMs === undefined && f.endsMs !== undefined && f.endsMs <= atMs) this.finish(f, f.endsMs);
      if (f.symptomsMs === undefined && this.isActive(f, atMs) && (f.kind === 'traffic-surge' ? saturated(f) : symptom(f))) f.symptomsMs = atMs;
      if (f.symptomsMs !== undefined && f.recoveredMs === undefined && atMs > f.symptomsMs && this.healed(f, atMs)) f.recoveredMs = atMs;
    }
  }

  private healed(f: Fault, atMs: number): boolean {
    const active = this.isActive(f, atMs);
    const pods = [...this.host.pods()];
    const fullyAvailable = (key: string) => {
      const [ns, name] = key.split('/');
      const d = this.host.cluster.deployment(ns, name);
      if (!d) {
        // a StatefulSet's replicas, or a DaemonSet's pod per node, all ready
        const set = this.host.cluster.podSet(ns, name);
        const mine = pods.filter((p) => p.namespace === ns && p.deployment === name);
        return !set || (mine.length >= (set.kind === 'StatefulSet' ? (set.spec.replicas ?? 1) : 1) && mine.every((p) => p.ready));
      }
      const ready = pods.filter((p) => p.namespace === ns && p.deployment === name && p.ready).length;
      return ready >= (d.spec.replicas ?? 1) && (d.status?.updatedReplicas ?? 0) >= (d.spec.replicas ?? 1);
    };
    const key = `${f.namespace}/${f.name}`;
    switch (f.kind) {
      case 'crash-loop':
      case 'memory-leak':
      case 'latency-spike':
      case 'dependency-outage':
      case 'cpu-hog':
        return (!active || !pods.some((p) => f.podUids.has(p.uid))) && fullyAvailable(key);
      case 'bad-release':
      case 'crash-release':
        return !pods.some((p) => p.image === f.badImage && this.badImages.has(p.image)) && fullyAvailable(key);
      case 'bad-config':
        return !this.flagIsBad(f) && fullyAvailable(key);
      case 'healthy-release':
        return fullyAvailable(key);
      case 'node-failure':
        return !active || [...f.affectedDeployments].every((k) => fullyAvailable(k) && !pods.some((p) => p.node === f.name && `${p.namespace}/${p.deployment}` === k));
      case 'traffic-surge':
        return !active || !pods.some((p) => p.namespace === f.namespace && p.deployment === f.name && p.ready && p.utilisation > 0.85);
      case 'bad-feature-flag': {
        if (!f.flag) return false;
        // on a real API server (the node agent) the flag's write reaches the informer a moment after the
        // injection: the old value read before it is not a revert
        return f.flagSeenBad === true && this.flagValues.get(`${f.namespace}/${f.flag.configMap}/${f.flag.key}`) !== f.flag.badValue;
      }
      default:
        return !active;
    }
  }

  /** The control API under /sandbox/v1. */
  handle(method: string, path: string, body: unknown): { status: number; body: unknown } {
    const clean = path.split('?')[0].replace(/\/+$/, '');
    const m = /^(?:\/sandbox\/v1)?\/faults(?:\/([^/]+))?$/.exec(clean);
    try {
      if (!m) {
        if (method === 'GET' && (clean === '/sandbox/v1' || clean === '')) {
          return { status: 200, body: { faults: FAULT_KINDS, endpoints: ['GET /sandbox/v1/faults', 'POST /sandbox/v1/faults', 'GET /sandbox/v1/faults/ID', 'DELETE /sandbox/v1/faults/ID'] } };
        }
        return { status: 404, body: { message: `no sandbox control endpoint ${method} ${path}; use /sandbox/v1/faults` } };
      }
      const id = m[1] ? decodeURIComponent(m[1]) : undefined;
      if (!id && method === 'GET') return { status: 200, body: { items: this.list() } };
      if (!id && method === 'POST') {
        if (body === null || typeof body !== 'object' || Array.isArray(body)) {
          return { status: 400, body: { message: 'body must be a JSON object: {"fault": "crash-loop", "target": "shop/checkout", "durationSeconds": 120}' } };
        }
        return { status: 201, body: this.inject(body as FaultRequest) };
      }
      if (id && method === 'GET') return { status: 200, body: this.get(id) };
      if (id && method === 'DELETE') return { status: 200, body: this.end(id) };
      return { status: 405, body: { message: `${method} is not allowed on ${clean}; faults support GET, POST, and DELETE on /sandbox/v1/faults/ID` } };
    } catch (err) {
      if (err instanceof FaultError) return { status: err.status, body: { message: err.message } };
      if (err instanceof StatusError) return { status: err.code, body: { message: err.message } };
      return { status: 500, body: { message: `fault control failed: ${(err as Error).message}` } };
    }
  }
}

function positive(v: unknown, fallback: number, name: string): number {
  if (v === undefined || v === null) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new FaultError(400, `${name} must be a positive number, got ${JSON.stringify(v)}`);
  return n;
}

/** shop/checkout:1.4.2 → shop/checkout:1.4.3; a non-semver tag gets a -r2 suffix. */
export function bumpVersion(image: string): string {
  const at = image.lastIndexOf(':');
  const slash = image.lastIndexOf('/');
  const repo = at > slash ? image.slice(0, at) : image;
  const tag = at > slash ? image.slice(at + 1) : 'latest';
  const sem = /^(v?\d+)\.(\d+)\.(\d+)(.*)$/.exec(tag);
  if (sem) return `${repo}:${sem[1]}.${sem[2]}.${Number(sem[3]) + 1}${sem[4]}`;
  const r = /^(.*)-r(\d+)$/.exec(tag);
  return r ? `${repo}:${r[1]}-r${Number(r[2]) + 1}` : `${repo}:${tag}-r2`;
}
