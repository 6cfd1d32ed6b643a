import type { WorkloadInventory } from '../ports';
import type { CallSource, ObservedCall } from '../model/serviceCall';
import type { TargetRef } from '../model/target';
import { targetKey } from '../model/target';

/** Deployment annotation naming the services a workload calls: `"payments/payments-api, shop/cart"`. */
export const DEPENDS_ON_ANNOTATION = 'vigil.dev/depends-on';
/** Deployment annotation naming the configmap(s) it reads feature flags from, when not mounted. */
export const FEATURE_FLAGS_ANNOTATION = 'vigil.dev/feature-flags';

export interface DependsOnParse {
  readonly services: ReadonlyArray<TargetRef>;
  /** One message per entry that could not be read, naming the entry and the fix. */
  readonly problems: ReadonlyArray<string>;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Reads a depends-on annotation; `name` alone means the caller's own namespace. */
export function parseDependsOn(value: string, callerNamespace: string, owner = 'deployment'): DependsOnParse {
  const services: TargetRef[] = [];
  const problems: string[] = [];
  for (const raw of value.split(',')) {
    const entry = raw.trim();
    if (!entry) continue;
    const parts = entry.split('/');
    const [ns, name] = parts.length === 2 ? parts : parts.length === 1 ? [callerNamespace, parts[0]] : ['', ''];
    if (!DNS_LABEL.test(ns) || !DNS_LABEL.test(name)) {
      problems.push(`${owner}: annotation ${DEPENDS_ON_ANNOTATION} has entry "${entry}"; write it as namespace/deployment (e.g. payments/payments-api), entries separated by commas`);
      continue;
    }
    services.push({ kind: 'service', namespace: ns, name });
  }
  return { services, problems };
}

interface PodPlacement {
  readonly service: string;
  node?: string;
  /** Last time the pod was seen; pods gone from the inventory are remembered for a while (evicted pods' facts arrive late). */
  seenAt: number;
}

/**
 * Who calls whom (declared in annotations and seen in telemetry), and what runs where: service → callees, pod → service and node, node → services,
 * service → configmaps it references. Keys are `targetKey`s.
 */
export class DependencyGraph {
  private readonly calls = new Map<string, Set<string>>();
  private readonly calledBy = new Map<string, Set<string>>();
  private readonly refs = new Map<string, TargetRef>();
  private readonly pods = new Map<string, PodPlacement>();
  private readonly nodeServices = new Map<string, Set<string>>();
  private readonly serviceNodes = new Map<string, Set<string>>();
  private readonly configMaps = new Map<string, Set<string>>();
  private readonly annotationProblems: string[] = [];
  /** `caller>callee` → where the edge was seen; an edge may come from an annotation and from telemetry at once. */
  private readonly sources = new Map<string, Set<CallSource>>();
  private observed: ReadonlyArray<ObservedCall> = [];

  /** Builds the graph from an inventory; `annotations`/`configMaps` on services are read when present. */
  static fromInventory(inventory: WorkloadInventory, now = 0): DependencyGraph {
    const g = new DependencyGraph();
    g.applyInventory(inventory, now);
    return g;
  }

  /** Problems found in depends-on annotations, for the user to fix. */
  get problems(): ReadonlyArray<string> {
    return this.annotationProblems;
  }

  addCall(caller: TargetRef, callee: TargetRef, source: CallSource = 'annotation'): void {
    const a = this.remember(caller);
    const b = this.remember(callee);
    if (a === b) return;
    setOf(this.calls, a).add(b);
    setOf(this.calledBy, b).add(a);
    setOf(this.sources, `${a}>${b}`).add(source);
  }

  /**
   * Calls seen in telemetry (mesh or trace-derived metrics), kept until the next call of this: the graph is the union
   * of these and the inventory's depends-on annotations, each edge with where it came from.
   */
  setObservedCalls(calls: ReadonlyArray<ObservedCall>): void {
    this.observed = calls;
    for (const c of calls) this.addCall(c.caller, c.callee, c.source);
  }

  /** Where the edge caller → callee (target keys) came from, sorted; empty when there is none. */
  sourcesOf(caller: string, callee: string): ReadonlyArray<CallSource> {
    return [...(this.sources.get(`${caller}>${callee}`) ?? [])].sort();
  }

  /**
   * Replaces placement and call edges with the inventory's. Pods that left are kept for `podMemoryMs`
   * so late facts about evicted pods still find their service and node.
   */
  applyInventory(inventory: WorkloadInventory, now: number, podMemoryMs = 15 * 60_000): void {
    this.calls.clear();
    this.calledBy.clear();
    this.sources.clear();
    this.nodeServices.clear();
    this.serviceNodes.clear();
    this.configMaps.clear();
    this.annotationProblems.length = 0;
    for (const [k, p] of [...this.pods]) if (now - p.seenAt > podMemoryMs) this.pods.delete(k);
    for (const s of inventory.services) {
      const sk = this.remember(s.target);
      for (const pod of s.pods) {
        const ref: TargetRef = { kind: 'pod', namespace: s.target.namespace, name: pod.name };
        this.placePod(ref, s.target, pod.node, now);
      }
      const annotation = s.annotations?.[DEPENDS_ON_ANNOTATION];
      if (annotation) {
        const parsed = parseDependsOn(annotation, s.target.namespace ?? 'default', `deployment ${s.target.namespace}/${s.target.name}`);
        this.annotationProblems.push(...parsed.problems);
        for (const callee of parsed.services) this.addCall(s.target, callee);
      }
      for (const cm of s.configMaps ?? []) setOf(this.configMaps, sk).add(cm);
      for (const cm of (s.annotations?.[FEATURE_FLAGS_ANNOTATION] ?? '').split(',')) if (cm.trim()) setOf(this.configMaps, sk).add(cm.trim());
    }
    for (const c of this.observed) this.addCall(c.caller, c.callee, c.source);
    for (const p of this.pods.values()) {
      if (!p.node) continue;
      setOf(this.nodeServices, `node:${p.node}`).add(p.service);
      setOf(this.serviceNodes, p.service).add(`node:${p.node}`);
    }
  }

  /** Records where a pod runs, e.g. from a fact's attributes. */
  placePod(pod: TargetRef, service: TargetRef, node: string | undefined, now: number): void {
    const pk = targetKey(pod);
    const sk = this.remember(service);
    this.remember(pod);
    const prev = this.pods.get(pk);
    const placement: PodPlacement = { service: sk, node: node ?? prev?.node, seenAt: now };
    this.pods.set(pk, placement);
    if (placement.node) {
      const nk = `node:${placement.node}`;
      this.remember({ kind: 'node', name: placement.node });
      setOf(this.nodeServices, nk).add(sk);
      setOf(this.serviceNodes, sk).add(nk);
    }
  }

  /** The service a pod belongs to; falls back to the Deployment naming scheme `<deploy>-<rs hash>-<5 chars>`. */
  serviceOfPod(pod: TargetRef): string | undefined {
    const known = this.pods.get(targetKey(pod));
    if (known) return known.service;
    const m = /^(.+)-[a-z0-9]{6,10}-[a-z0-9]{5}$/.exec(pod.name) ?? /^(.+)-[a-z0-9]{5}$/.exec(pod.name);
    if (!m || !pod.namespace) return undefined;
    const guess = `service:${pod.namespace}/${m[1]}`;
    return this.refs.has(guess) ? guess : undefined;
  }

  nodeOfPod(pod: TargetRef): string | undefined {
    const n = this.pods.get(targetKey(pod))?.node;
    return n ? `node:${n}` : undefined;
  }

  /** Services `service` calls. */
  callees(service: string): ReadonlyArray<string> {
    return sorted(this.calls.get(service));
  }

  /** Services that call `service`. */
  callers(service: string): ReadonlyArray<string> {
    return sorted(this.calledBy.get(service));
  }

  servicesOnNode(node: string): ReadonlyArray<string> {
    return sorted(this.nodeServices.get(node));
  }

  nodesOfService(service: string): ReadonlyArray<string> {
    return sorted(this.serviceNodes.get(service));
  }

  /** Whether the deployment references the configmap (volume, envFrom, env valueFrom), when the inventory says so. */
  references(service: string, configMap: string): boolean {
    return this.configMaps.get(service)?.has(configMap) ?? false;
  }

  hasConfigMapInfo(service: string): boolean {
    return this.configMaps.has(service);
  }

  /** Services known in a namespace (from inventory and edges). */
  servicesIn(namespace: string): ReadonlyArray<string> {
    const out: string[] = [];
    for (const [k, r] of this.refs) if (r.kind === 'service' && r.namespace === namespace) out.push(k);
    return out.sort();
  }

  ref(key: string): TargetRef | undefined {
    return this.refs.get(key);
  }

  private remember(t: TargetRef): string {
    const k = targetKey(t);
    if (!this.refs.has(k)) this.refs.set(k, t);
    return k;
  }
}

function setOf(m: Map<string, Set<string>>, k: string): Set<string> {
  let s = m.get(k);
  if (!s) m.set(k, (s = new Set()));
  return s;
}

const sortedCache = new WeakMap<Set<string>, { size: number; list: ReadonlyArray<string> }>();

/** Sorted view of a set, reused while the set does not grow (the sets here only grow until rebuilt). */
function sorted(s: Set<string> | undefined): ReadonlyArray<string> {
  if (!s) return [];
  const hit = sortedCache.get(s);
  if (hit && hit.size === s.size) return hit.list;
  const list = [...s].sort();
  sortedCache.set(s, { size: s.size, list });
  return list;
}
