/**
 * The simulated workloads behind the pods, one model for the embedded sandbox and for the node agent of
 * a real control plane: each deployment's service profile, traffic split over its ready pods, faults'
 * effects, the metrics and logs a pod exposes and what it answers over HTTP (the shop's API).
 */
import type { PodRuntime } from './containerLifecycle';
import { renderMetrics, renderPodTarget, type MetricShape } from './metrics';
import type { Deployment } from './objects';
import { fnv32a, hashUnit } from './rng';
import { serveShopRequest, type HttpAnswer, type HttpRequest } from './shopApi';
import { profileOf, type Effects, type ServiceProfile } from './workload';

export interface WorkloadModelHost {
  now(): number;
  /** The pods whose containers the model runs. */
  runtimes(): Iterable<PodRuntime>;
  deployments(): Iterable<Deployment>;
  /** What faults do to a pod's requests at a time (FaultBook.effectsFor). */
  effects(pod: PodRuntime, profile: ServiceProfile, atMs: number, withDependencies: boolean): Effects;
}

export interface PodLogOptions {
  readonly tailLines?: number;
  readonly follow?: boolean;
  /** The container that ran before the last restart (`kubectl logs --previous`). */
  readonly previous?: boolean;
}

export class WorkloadModel {
  private profiles = new Map<string, ServiceProfile>();
  private readyByKey = new Map<string, number>();
  private errorShareByKey = new Map<string, number>();
  /** Requests served over HTTP so far: each draws its own number, so a request sequence is reproducible. */
  private requestSeq = 0;
  private readonly roundRobin = new Map<string, number>();

  constructor(
    private readonly host: WorkloadModelHost,
    private readonly options: { readonly seed: number; readonly daySeconds: number; readonly metricShape?: MetricShape },
  ) {}

  /** Share of a service's requests that fail now (1 when it has no ready pod). */
  errorShare(key: string): number {
    return this.errorShareByKey.get(key) ?? 0;
  }

  /** One tick: profiles from the deployments, then every pod's service advanced to now. */
  tick(): void {
    const next = new Map<string, ServiceProfile>();
    for (const d of this.host.deployments()) {
      const ns = d.metadata.namespace as string;
      next.set(`${ns}/${d.metadata.name}`, profileOf(ns, d.metadata.name, d));
    }
    this.profiles = next;
    const now = this.host.now();
    const ready = new Map<string, number>();
    const errSum = new Map<string, number>();
    for (const rt of this.host.runtimes()) {
      const key = `${rt.namespace}/${rt.deployment}`;
      if (!ready.has(key)) {
        ready.set(key, 0);
        errSum.set(key, 0);
      }
      if (!rt.ready) continue;
      ready.set(key, (ready.get(key) ?? 0) + 1);
      errSum.set(key, (errSum.get(key) ?? 0) + rt.service.lastErrorShare);
    }
    const shares = new Map<string, number>();
    for (const [key, n] of ready) shares.set(key, n === 0 ? 1 : (errSum.get(key) ?? 0) / n);
    // a service with no ready pod has no endpoints: every call to it fails
    for (const key of this.profiles.keys()) if (!shares.has(key)) shares.set(key, 1);
    this.readyByKey = ready;
    this.errorShareByKey = shares;
    for (const rt of this.host.runtimes()) this.advance(rt, now);
  }

  private profileFor(rt: PodRuntime): ServiceProfile {
    const key = `${rt.namespace}/${rt.deployment}`;
    let p = this.profiles.get(key);
    if (!p) {
      p = profileOf(rt.namespace, rt.deployment, undefined);
      this.profiles.set(key, p);
    }
    return p;
  }

  private effectsAt(rt: PodRuntime, profile: ServiceProfile, atMs: number, withDependencies = true): Effects {
    const fx = this.host.effects(rt, profile, atMs, withDependencies);
    const frac = rt.service.memoryBytes / rt.memoryLimitBytes;
    if (frac > 0.6) {
      fx.latencyFactor *= 1 + 5 * ((Math.min(frac, 1) - 0.6) / 0.4) ** 2;
      fx.errorCause ??= `GC pause ${Math.round(frac * 900)}ms: heap ${(rt.service.memoryBytes / 1048576).toFixed(0)}Mi of ${(rt.memoryLimitBytes / 1048576).toFixed(0)}Mi`;
    }
    return fx;
  }

  /** Integrates one pod's service up to `now`. */
  advance(rt: PodRuntime, now: number): void {
    const profile = this.profileFor(rt);
    rt.service.advance(now, {
      seed: this.options.seed,
      daySeconds: this.options.daySeconds,
      profile,
      readyPods: this.readyByKey.get(profile.key) ?? 1,
      serving: rt.ready,
      running: rt.running && !rt.nodeDown,
      cpuLimitCores: rt.cpuLimitCores,
      effects: (t) => this.effectsAt(rt, profile, t),
    });
  }

  /** The pod's own /metrics (application series only; kube-state series are not the pod's). */
  podMetrics(rt: PodRuntime): string {
    this.advance(rt, this.host.now());
    return renderMetrics([rt], [], [], { kubeState: false, shape: this.options.metricShape });
  }

  /** The pod's /metrics as a scrape target discovered by kubernetes_sd (the node agent's pods): see renderPodTarget. */
  podTargetMetrics(rt: PodRuntime): string {
    this.advance(rt, this.host.now());
    return renderPodTarget(rt, this.options.metricShape?.application ?? 'prometheus');
  }

  /** The pod's log lines now; with `follow`, later lines go to `onLine` until `stop()`. */
  podLogs(rt: PodRuntime, opts: PodLogOptions, onLine: (line: string) => void): { lines: string[]; stop(): void } {
    this.advance(rt, this.host.now());
    return rt.service.readLogs(opts, onLine);
  }

  /** An HTTP request to the pod; a pod whose container is not running refuses the connection. */
  serve(rt: PodRuntime, req: HttpRequest): HttpAnswer {
    if (!rt.running || rt.nodeDown) return { status: 503, contentType: 'text/plain', body: `dial tcp ${rt.podIP ?? rt.name}:8080: connect: connection refused`, delayMs: 1 };
    return this.serveOn(rt, req, 0);
  }

  /** Ready pods of a workload, in turn, as a Service's endpoints are picked. */
  readyPod(namespace: string, deployment: string): PodRuntime | undefined {
    const ready = [...this.host.runtimes()].filter((rt) => rt.namespace === namespace && rt.deployment === deployment && rt.ready && rt.running && !rt.nodeDown);
    if (ready.length === 0) return undefined;
    const key = `${namespace}/${deployment}`;
    const n = this.roundRobin.get(key) ?? 0;
    this.roundRobin.set(key, n + 1);
    return ready[n % ready.length];
  }

  private serveOn(rt: PodRuntime, req: HttpRequest, depth: number): HttpAnswer {
    const now = this.host.now();
    this.advance(rt, now);
    const profile = this.profileFor(rt);
    // its dependencies' failures reach it through the calls it makes, not as a share
    const fx = this.effectsAt(rt, profile, now, false);
    const util = rt.service.lastUtilisation;
    const shed = util > 1 ? (util - 1) / util : 0;
    const unavailable = fx.share502 + fx.share503 + shed;
    const answer = serveShopRequest(profile.key, req, {
      pod: rt.name,
      failureShare: Math.min(1, fx.share500 + unavailable),
      failureStatus: unavailable >= fx.share500 ? 503 : 500,
      failureCause: fx.errorCause ?? (shed > 0 ? `overloaded: ${Math.round(util * 100)}% of capacity, request shed` : 'internal error'),
      latencyMs: (rt.service.lastMedianSeconds || profile.medianLatencySeconds) * 1000,
      draw: () => hashUnit(this.options.seed, fnv32a(rt.name), ++this.requestSeq),
      call: (service, r) => {
        const [ns, name] = service.split('/');
        const to = depth < 4 ? this.readyPod(ns, name) : undefined;
        if (!to) return { status: 503, contentType: 'application/json', body: JSON.stringify({ error: `no healthy upstream: ${service} has no ready pod` }), delayMs: 1 };
        return this.serveOn(to, r, depth + 1);
      },
    });
    rt.service.log(`${new Date(now).toISOString()} ${answer.status >= 500 ? 'ERROR' : 'INFO '} ${req.method} ${req.path} ${answer.status} ${Math.round(answer.delayMs)}ms${answer.status >= 500 ? ` ${answer.body}` : ''}`);
    return answer;
  }
}
