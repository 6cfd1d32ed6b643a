import type { Remediator } from '../../../src/core/loop/remediator';
import { DetectionPipeline, type DetectionPipelineDeps } from '../../../src/core/loop/detectionPipeline';
import { RecoveryWindow } from '../../../src/core/loop/recoveryWindow';
import { LiveEvidence } from '../../../src/core/verify/liveEvidence';
import { VirtualClock } from '../../../src/core/loop/virtualClock';
import type { SampleFrame, SignalName } from '../../../src/core/model/signal';
import type { EventsPort, MetricsPort, StorePort } from '../../../src/core/ports';
import { FakeCluster } from '../../fakes/fakeCluster';
import { MemoryStore } from '../../fakes/memoryStore';
import { MemoryLogger } from '../../fakes/nullLogger';

export const SERVICE = { kind: 'service' as const, namespace: 'shop', name: 'cart' };
export const T0 = Date.UTC(2026, 10, 23, 12);
export const STEP_MS = 5_000;

/**
 * A DetectionPipeline fed frames by hand (no sources), with an engine that only listens: these tests are about
 * what the loop raises, not what the engine does with it.
 */
export function loopRig(over: Partial<DetectionPipelineDeps> & { store?: StorePort; rateWindowMs?: number } = {}) {
  const clock = new VirtualClock(T0);
  const logger = new MemoryLogger();
  const none = { dispose: () => undefined };
  const metrics: MetricsPort = { discoverTargets: async () => [], range: async () => [], subscribe: () => none, onStatus: () => none };
  const events: EventsPort = { inventory: () => ({ services: [], nodes: [] }), subscribe: () => none, onStatus: () => none, recentLogs: async () => [] };
  const remediator = { record: () => undefined, recordFact: () => undefined, onChange: () => none, actedOn: () => false, onDiagnosis: async () => undefined } as unknown as Remediator;
  const cluster = new FakeCluster();
  const rateWindowMs = over.rateWindowMs ?? 60_000;
  const evidence = new LiveEvidence({ clock, logger, cluster, events: over.events ?? events, rateWindowMs, heartbeats: () => (over.events ?? events).nodeHeartbeats?.() ?? [] });
  const recovery = new RecoveryWindow(rateWindowMs);
  const loop = new DetectionPipeline({ clock, logger, store: over.store ?? new MemoryStore(), metrics, events, cluster, remediator, evidence, recovery, ...over });
  let t = T0;
  return {
    clock,
    logger,
    loop,
    evidence: over.evidence ?? evidence,
    /** Feeds one frame of the service, STEP_MS after the last, and returns what the loop made of it. */
    frame(values: Partial<Record<SignalName, number>>) {
      t += STEP_MS;
      const frame: SampleFrame = { target: SERVICE, t, values };
      loop.onFrames([frame]);
      const s = loop.snapshot().targets.find((x) => x.target.name === SERVICE.name)!;
      return { t, frame, isAnomaly: s.isAnomaly, reason: s.reason, score: s.score };
    },
  };
}

/** A calm service with a little deterministic wobble; `k` is the step. */
export function normalValues(k: number): Partial<Record<SignalName, number>> {
  const w = Math.sin(k * 0.7) * 0.5 + Math.sin(k * 1.9) * 0.3;
  return {
    request_rate: 50 * (1 + 0.04 * w),
    error_ratio: 0.001 * (1 + 0.3 * w),
    latency_p50: 0.02 * (1 + 0.05 * w),
    latency_p95: 0.05 * (1 + 0.05 * w),
    latency_p99: 0.08 * (1 + 0.06 * w),
    cpu: 0.2 * (1 + 0.04 * w),
    memory: 200e6 * (1 + 0.005 * w),
    available_replicas: 3,
  };
}
