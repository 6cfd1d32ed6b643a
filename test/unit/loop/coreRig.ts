import { BUILTIN_PLAYBOOKS_SOURCE, BUILTIN_PLAYBOOKS_YAML } from '../../../src/core/decide/builtinPlaybooks';
import { parsePlaybooks } from '../../../src/core/decide/playbookLoader';
import { createHealingCore, type HealingCore } from '../../../src/core/loop/healingCore';
import { VirtualClock } from '../../../src/core/loop/virtualClock';
import type { SampleFrame } from '../../../src/core/model/signal';
import type { EventsPort, LeaseState, MetricsPort, NodeHeartbeat, WorkloadInventory } from '../../../src/core/ports';
import { DEFAULT_SETTINGS, withSettings, type SettingsPatch } from '../../../src/core/settings';
import { FakeCluster } from '../../fakes/fakeCluster';
import { MemoryStore } from '../../fakes/memoryStore';
import { MemoryLogger } from '../../fakes/nullLogger';

export const CORE_T0 = Date.UTC(2026, 10, 23, 12); // a Monday, 12:00 UTC
export const IDENTITY = 'agent-a';
const playbooks = parsePlaybooks(BUILTIN_PLAYBOOKS_YAML, BUILTIN_PLAYBOOKS_SOURCE).playbooks;

/** A FakeCluster whose Leases are kept per name, some held by other instances; it records every Lease asked for. */
export class LeasedCluster extends FakeCluster {
  readonly leaseNames: string[] = [];
  readonly holders = new Map<string, string>();
  override async acquireLease(name: string, _ns: string, identity: string): Promise<LeaseState> {
    this.leaseNames.push(name);
    const holder = this.holders.get(name) ?? identity;
    this.holders.set(name, holder);
    return { holder, held: holder === identity };
  }
}

export interface ServiceSpec {
  readonly name: string;
  readonly replicas?: number;
  readonly rolloutInProgress?: boolean;
}

/** An inventory of services in `shop`, three ready pods each unless told otherwise. */
export function inventoryOf(services: ReadonlyArray<ServiceSpec>): WorkloadInventory {
  return {
    services: services.map((s) => {
      const replicas = s.replicas ?? 3;
      return {
        target: { kind: 'service' as const, namespace: 'shop', name: s.name },
        revision: 5,
        image: `shop/${s.name}:1.5`,
        replicas,
        availableReplicas: replicas,
        rolloutInProgress: s.rolloutInProgress ?? false,
        pods: Array.from({ length: replicas }, (_, k) => ({ name: `${s.name}-7d9f-${k}`, node: `node-${k}`, ready: true, restarts: 0, phase: 'Running' })),
        labels: { app: s.name },
      };
    }),
    nodes: [0, 1, 2].map((k) => ({ name: `node-${k}`, ready: true, unschedulable: false, pods: services.length })),
  };
}

/**
 * createHealingCore with in-memory ports on a virtual clock: the product's composition, fed by hand. `frame`
 * pushes one interval of samples through the metrics port the pipeline subscribed to.
 */
export async function coreRig(patch: SettingsPatch, over: { cluster?: FakeCluster; inventory?: WorkloadInventory; identity?: string; heartbeats?: () => ReadonlyArray<NodeHeartbeat> } = {}) {
  const clock = new VirtualClock(CORE_T0);
  const logger = new MemoryLogger();
  const store = new MemoryStore();
  const cluster = over.cluster ?? new FakeCluster();
  const none = { dispose: () => undefined };
  let onFrames: ((frames: ReadonlyArray<SampleFrame>) => void) | undefined;
  const metrics: MetricsPort = {
    discoverTargets: async () => [],
    range: async () => [],
    subscribe: (l) => ((onFrames = l), { dispose: () => (onFrames = undefined) }),
    onStatus: () => none,
  };
  const inventory = over.inventory ?? inventoryOf([{ name: 'checkout' }, { name: 'cart' }]);
  const events: EventsPort = { inventory: () => inventory, subscribe: () => none, onStatus: () => none, recentLogs: async () => [], ...(over.heartbeats ? { nodeHeartbeats: over.heartbeats } : {}) };
  const core: HealingCore = createHealingCore({ clock, logger, store, cluster, metrics, events }, withSettings(DEFAULT_SETTINGS, patch), {
    identity: over.identity ?? IDENTITY,
    playbooks: () => playbooks,
  });
  await core.start();
  return {
    clock,
    logger,
    store,
    cluster,
    core,
    frame(f: Omit<SampleFrame, 't'>): void {
      if (!onFrames) throw new Error('the pipeline did not subscribe to the metrics port');
      onFrames([{ ...f, t: clock.now() }]);
    },
    async dispose(): Promise<void> {
      await core.remediator.idle();
      await core.dispose();
    },
  };
}
