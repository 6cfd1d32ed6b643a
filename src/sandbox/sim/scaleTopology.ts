/**
 * A sandbox cluster at scale, beside the shop: N generated services in namespaces of SERVICES_PER_NAMESPACE, each an
 * ordinary Deployment behind a Service with the shop's pod template (so the usual metrics per pod), on as many nodes
 * as their pods need. The call graph is deterministic for a seed and acyclic: a service calls up to three services
 * of a later index, so a fault's callers are always earlier ones. `npm run bench:scale` runs the agent against it.
 */
import type { KubeObject, ObjectStore, ResourceName } from '../store';
import { Rng } from './rng';
import { deploymentManifest, nodeManifest, serviceManifest, type ServiceSpec, type TopologyOptions } from './topology';

export interface ScaleOptions {
  /** Generated services (each a Deployment and a Service). */
  readonly services: number;
  readonly podsPerService: number;
  /** Seed of the call graph and the traffic figures (default 1). */
  readonly seed?: number;
}

export const SERVICES_PER_NAMESPACE = 50;
/** Pods one generated node takes; below the node's `pods` capacity (110), as a real cluster keeps headroom. */
export const PODS_PER_NODE = 100;
const MAX_SERVICES = 20_000;
const MAX_PODS_PER_SERVICE = 50;
/** Node i has podCIDR 10.244.i.0/24: up to 250 nodes of PODS_PER_NODE. */
const MAX_PODS = 25_000;

/** The namespace of generated service `index` (0-based): `scale-000`, `scale-001`, … */
export function scaleNamespace(index: number): string {
  return `scale-${String(Math.floor(index / SERVICES_PER_NAMESPACE)).padStart(3, '0')}`;
}

/** The generated service `index` (0-based), e.g. `scale-000/svc-0007`. */
export function scaleServiceName(index: number): string {
  return `svc-${String(index).padStart(4, '0')}`;
}

/** Why the options cannot make a cluster (naming the flag and its range), or undefined. */
export function scaleOptionsProblem(o: ScaleOptions): string | undefined {
  if (!Number.isInteger(o.services) || o.services < 1 || o.services > MAX_SERVICES) return `--services must be a whole number from 1 to ${MAX_SERVICES}, got ${o.services}`;
  if (!Number.isInteger(o.podsPerService) || o.podsPerService < 1 || o.podsPerService > MAX_PODS_PER_SERVICE) return `--pods-per-service must be a whole number from 1 to ${MAX_PODS_PER_SERVICE}, got ${o.podsPerService}`;
  if (o.services * o.podsPerService > MAX_PODS) return `--services × --pods-per-service must be at most ${MAX_PODS} pods, got ${o.services * o.podsPerService}`;
  return undefined;
}

/** The generated services' specs, in index order. */
export function scaleServices(o: ScaleOptions): ServiceSpec[] {
  const problem = scaleOptionsProblem(o);
  if (problem) throw new Error(`sandbox at scale: ${problem}`);
  const rng = new Rng(o.seed ?? 1);
  const out: ServiceSpec[] = [];
  for (let i = 0; i < o.services; i++) {
    const calls = new Set<string>();
    const later = o.services - i - 1;
    // a quarter of the services are leaves; the others call one to three later services, mostly nearby ones
    const n = later === 0 || rng.next() < 0.25 ? 0 : Math.min(later, 1 + rng.int(3));
    while (calls.size < n) {
      const j = i + 1 + (rng.next() < 0.7 ? rng.int(Math.min(later, 20)) : rng.int(later));
      calls.add(`${scaleNamespace(j)}/${scaleServiceName(j)}`);
    }
    const perPod = 4 + rng.int(12);
    out.push({
      namespace: scaleNamespace(i),
      name: scaleServiceName(i),
      image: `scale/${scaleServiceName(i)}:1.0.${rng.int(10)}`,
      replicas: o.podsPerService,
      baseRps: perPod * o.podsPerService,
      latencyMs: 10 + rng.int(90),
      // sized for the daily peak as the shop's services are (2.4–2.7x their mean per pod): the weekday peak (1.45x the
      // mean, 1.08x more at the noise's top) stays under the 70 % of capacity where queueing starts. At 1.4x every
      // generated service saturated and shed 503s at once at each peak: bench:scale's storm of ~500 incidents.
      capacityRps: Math.ceil(perPod * 2.5),
      dependsOn: [...calls],
    });
  }
  return out;
}

/** All nodes: the default three (the shop's) and PODS_PER_NODE generated pods on each further one. */
export function scaleNodeCount(o: ScaleOptions): number {
  return 3 + Math.ceil((o.services * o.podsPerService) / PODS_PER_NODE);
}

/** Node-agent nodes (4 cores each) for `pods` of 100m: 40 fit on one, 35 leave room for a rollout's surge; at least 3. */
export function nodeAgentNodesFor(pods: number): number {
  return Math.max(3, Math.ceil(pods / 35));
}

/** The generated namespaces, Deployments and Services as manifests in apply order (no nodes: a real control plane has its own). */
export function scaleManifests(o: ScaleOptions, options: TopologyOptions = {}): KubeObject[] {
  const services = scaleServices(o);
  const namespaces = [...new Set(services.map((s) => s.namespace))];
  const out: KubeObject[] = namespaces.map((n) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: n, labels: { 'kubernetes.io/metadata.name': n } } }));
  for (const s of services) out.push(deploymentManifest(s, options), serviceManifest(s));
  return out;
}

/** The extra nodes the embedded sandbox needs beyond its three (node-4 …), with room for PODS_PER_NODE pods' requests (100m CPU each). */
export function scaleNodeManifests(o: ScaleOptions): KubeObject[] {
  const out: KubeObject[] = [];
  for (let i = 4; i <= scaleNodeCount(o); i++) out.push(nodeManifest(i, { cpu: '16', memory: '64Gi' }));
  return out;
}

const RESOURCE_OF: Readonly<Record<string, ResourceName>> = { Namespace: 'namespaces', Node: 'nodes', Deployment: 'deployments', Service: 'services' };

/** Writes the generated cluster (its nodes too) into the embedded sandbox's store; objects that exist already are left alone. */
export function seedScaleTopology(store: ObjectStore, o: ScaleOptions, options: TopologyOptions = {}): void {
  for (const obj of [...scaleNodeManifests(o), ...scaleManifests(o, options)]) {
    const resource = RESOURCE_OF[obj.kind as string];
    if (!store.get(resource, obj.metadata.namespace, obj.metadata.name)) store.create(resource, obj);
  }
}
