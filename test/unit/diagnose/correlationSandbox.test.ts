/**
 * The correlator on the sandbox's own faults, in process and in virtual time: the simulation's
 * metrics go through the real text-format parser and scrape signal computer every 5 s, its
 * Kubernetes objects and events become facts, and a plain threshold detector stands in for the
 * detectors. Each fault must come out as its own diagnosis, on the right target, as one incident.
 */
import assert from 'node:assert/strict';
import { Correlator } from '../../../src/core/diagnose/correlation';
import type { CorrelationUpdate } from '../../../src/core/diagnose/incidentGrouping';
import type { Anomaly, Contribution } from '../../../src/core/model/anomaly';
import type { DiagnosisKind } from '../../../src/core/model/diagnosis';
import type { ClusterFact } from '../../../src/core/model/fact';
import type { SampleFrame, SignalName } from '../../../src/core/model/signal';
import type { TargetRef } from '../../../src/core/model/target';
import { targetKey } from '../../../src/core/model/target';
import { ScrapeSignalComputer } from '../../../src/core/observe/scrapeSignals';
import { buildInventory, type ClusterObjects } from '../../../src/infra/kubernetes/inventory';
import { parseTextFormat } from '../../../src/infra/prometheus/textFormat';
import type { KubeObject } from '../../../src/sandbox/store';
import { SimHarness } from '../sandbox/sim/simHarness';
import { finalIncidents } from '../../fixtures/correlation/scenario';

const SCRAPE = 5_000;
const WARMUP = 150_000;
const FAULT_TIME = 100_000;

/** Facts from the simulated cluster's objects, the way the observe layer derives them from informers. */
class FactDeriver {
  private readonly events = new Map<string, number>();
  private readonly revisions = new Map<string, string>();
  private readonly configs = new Map<string, Record<string, string>>();
  private readonly restarts = new Map<string, number>();
  private readonly backoff = new Set<string>();
  private readonly nodeReady = new Map<string, boolean>();
  private primed = false;

  collect(h: SimHarness): ClusterFact[] {
    const out: ClusterFact[] = [];
    const t = h.t;
    const emit = (f: ClusterFact) => this.primed && out.push(f);
    for (const e of h.store.list('events').items) {
      const count = Number(e.count ?? 1);
      const uid = String(e.metadata.uid);
      if ((this.events.get(uid) ?? 0) >= count) continue;
      this.events.set(uid, count);
      const io = e.involvedObject as { kind: string; name: string; namespace?: string };
      const target: TargetRef | undefined =
        io.kind === 'Pod' ? { kind: 'pod', namespace: io.namespace, name: io.name } : io.kind === 'Node' ? { kind: 'node', name: io.name } : io.kind === 'Deployment' ? { kind: 'service', namespace: io.namespace, name: io.name } : undefined;
      if (target) emit({ kind: 'k8s-event', t, target, reason: String(e.reason), message: String(e.message), severity: e.type === 'Warning' ? 'Warning' : 'Normal' });
    }
    for (const d of h.store.list('deployments').items) {
      const key = `${d.metadata.namespace}/${d.metadata.name}`;
      const rev = d.metadata.annotations?.['deployment.kubernetes.io/revision'];
      const prev = this.revisions.get(key);
      if (rev && prev !== rev) {
        this.revisions.set(key, rev);
        const image = (d.spec as { template: { spec: { containers: Array<{ image: string }> } } }).template.spec.containers[0].image;
        if (prev) emit({ kind: 'revision-changed', t, target: { kind: 'service', namespace: d.metadata.namespace, name: d.metadata.name }, message: `revision ${prev} → ${rev}`, attributes: { revision: Number(rev), previousRevision: Number(prev), image } });
      }
    }
    for (const cm of h.store.list('configmaps').items) {
      const key = `${cm.metadata.namespace}/${cm.metadata.name}`;
      const data = { ...((cm.data as Record<string, string>) ?? {}) };
      const prev = this.configs.get(key);
      this.configs.set(key, data);
      if (!prev) continue;
      for (const k of Object.keys(data)) {
        if (prev[k] === data[k]) continue;
        emit({ kind: 'configmap-changed', t, target: { kind: 'service', namespace: cm.metadata.namespace, name: cm.metadata.name }, message: `${key} ${k} changed`, attributes: { configMap: cm.metadata.name, key: k, previousValue: prev[k] ?? '', value: data[k] } });
      }
    }
    for (const p of h.store.list('pods').items) {
      const uid = String(p.metadata.uid);
      const target: TargetRef = { kind: 'pod', namespace: p.metadata.namespace, name: p.metadata.name };
      const node = (p.spec as { nodeName?: string }).nodeName;
      const statuses = ((p.status as { containerStatuses?: KubeObject[] })?.containerStatuses ?? []) as Array<{ restartCount?: number; state?: { waiting?: { reason?: string } }; lastState?: { terminated?: { reason?: string } } }>;
      const restarts = statuses.reduce((n, c) => n + (c.restartCount ?? 0), 0);
      const before = this.restarts.get(uid);
      this.restarts.set(uid, restarts);
      if (before !== undefined && restarts > before) {
        const reason = statuses.find((c) => c.lastState?.terminated)?.lastState?.terminated?.reason ?? 'Error';
        emit({ kind: 'pod-restarted', t, target, reason, message: `restarted (${reason})`, attributes: { reason, restarts, ...(node ? { node } : {}) } });
        if (reason === 'OOMKilled') emit({ kind: 'oom-killed', t, target, reason, message: 'OOMKilled', attributes: node ? { node } : {} });
      }
      const waiting = statuses.some((c) => c.state?.waiting?.reason === 'CrashLoopBackOff');
      if (waiting && !this.backoff.has(uid)) emit({ kind: 'crash-backoff', t, target, reason: 'CrashLoopBackOff', message: 'CrashLoopBackOff' });
      if (waiting) this.backoff.add(uid);
      else this.backoff.delete(uid);
    }
    for (const n of h.store.list('nodes').items) {
      const ready = ((n.status as { conditions?: Array<{ type: string; status: string }> })?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
      const before = this.nodeReady.get(n.metadata.name);
      this.nodeReady.set(n.metadata.name, ready);
      if (before !== undefined && before !== ready) emit({ kind: ready ? 'node-ready' : 'node-not-ready', t, target: { kind: 'node', name: n.metadata.name }, message: `Ready=${ready}` });
    }
    this.primed = true;
    return out;
  }
}

const RULES: Array<{ signal: SignalName; bad: (v: number, base: number) => number }> = [
  { signal: 'error_ratio', bad: (v, b) => (v > Math.max(0.05, 3 * b) ? v / Math.max(0.05, 3 * b) : 0) },
  { signal: 'latency_p95', bad: (v, b) => (v > 2 * b && v > b + 0.05 ? v / (2 * b) : 0) },
  { signal: 'memory', bad: (v, b) => (v > 1.3 * b ? v / (1.3 * b) : 0) },
  { signal: 'request_rate', bad: (v, b) => (v > 1.8 * b ? v / (1.8 * b) : 0) },
  { signal: 'cpu', bad: (v, b) => (v > 2 * b && v > b + 0.05 ? v / (2 * b) : 0) },
  { signal: 'available_replicas', bad: (v, b) => (v < b - 0.5 ? b / Math.max(v, 0.5) : 0) },
  { signal: 'restarts', bad: (v) => (v > 0.5 ? 1 + v : 0) },
];

/** A threshold detector against each service's warm-up median: a stand-in for rules + baseline. */
class ThresholdDetector {
  private readonly history = new Map<string, SampleFrame[]>();
  private readonly base = new Map<string, Partial<Record<SignalName, number>>>();

  learn(f: SampleFrame): void {
    const k = targetKey(f.target);
    this.history.set(k, [...(this.history.get(k) ?? []), f]);
  }

  freeze(): void {
    for (const [k, frames] of this.history) {
      const base: Partial<Record<SignalName, number>> = {};
      for (const { signal } of RULES) {
        const xs = frames.slice(-24).map((f) => f.values[signal]).filter((v): v is number => v !== undefined).sort((a, b) => a - b);
        if (xs.length) base[signal] = xs[xs.length >> 1];
      }
      this.base.set(k, base);
    }
  }

  detect(f: SampleFrame): Anomaly | undefined {
    const base = this.base.get(targetKey(f.target));
    if (!base || f.target.kind !== 'service') return undefined;
    const hits: Contribution[] = [];
    for (const r of RULES) {
      const v = f.values[r.signal];
      const b = base[r.signal];
      if (v === undefined || (b === undefined && r.signal !== 'restarts')) continue;
      const x = r.bad(v, b ?? 0);
      if (x > 0) hits.push({ signal: r.signal, share: x, observed: v, band: { lower: 0, expected: b ?? 0, upper: b ?? 0 } });
    }
    if (!hits.length) return undefined;
    const sum = hits.reduce((s, h) => s + h.share, 0);
    return { target: f.target, t: f.t, detector: 'rule', score: 0.8, isAnomaly: true, severity: 'warning', contributions: hits.map((h) => ({ ...h, share: h.share / sum })), reason: hits.map((h) => `${h.signal}=${h.observed}`).join(', ') };
  }
}

function inventoryOf(h: SimHarness) {
  const list = (r: 'pods' | 'deployments' | 'replicasets' | 'nodes') => h.store.list(r).items as unknown[];
  return buildInventory({ pods: list('pods'), deployments: list('deployments'), replicaSets: list('replicasets'), nodes: list('nodes') } as unknown as ClusterObjects);
}

function runFault(fault: string, target: string): { updates: CorrelationUpdate[]; faultAt: number } {
  const h = new SimHarness({ evictionTimeoutMs: 20_000 });
  const scraper = new ScrapeSignalComputer(30_000);
  const facts = new FactDeriver();
  const detector = new ThresholdDetector();
  const c = new Correlator();
  const updates: CorrelationUpdate[] = [];
  let faultAt = 0;
  const end = h.t + WARMUP + FAULT_TIME;
  while (h.t < end) {
    h.run(SCRAPE, 500);
    const warm = h.t - (end - FAULT_TIME - WARMUP) < WARMUP;
    if (!faultAt && !warm) {
      detector.freeze();
      const r = h.control('POST', '/sandbox/v1/faults', { fault, target });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      faultAt = h.t;
    }
    scraper.ingest(h.t, parseTextFormat(h.sim.allMetrics(), 'sandbox').samples);
    const frames = scraper.compute(h.t);
    c.setInventory(inventoryOf(h));
    for (const f of facts.collect(h)) updates.push(...c.observeFact(f));
    updates.push(...c.observeFrames(frames));
    for (const f of frames) {
      if (warm) detector.learn(f);
      else {
        const a = detector.detect(f);
        if (a) updates.push(...c.observeAnomaly(a));
      }
    }
  }
  return { updates, faultAt };
}

const CASES: Array<{ fault: string; target: string; kind: DiagnosisKind; cause: string }> = [
  { fault: 'bad-release', target: 'shop/checkout', kind: 'bad-release', cause: 'service:shop/checkout' },
  { fault: 'crash-loop', target: 'shop/cart', kind: 'crash-loop', cause: 'service:shop/cart' },
  { fault: 'memory-leak', target: 'shop/cart', kind: 'memory-leak', cause: 'service:shop/cart' },
  { fault: 'latency-spike', target: 'shop/cart', kind: 'latency-spike', cause: 'service:shop/cart' },
  { fault: 'traffic-surge', target: 'shop/frontend', kind: 'traffic-surge', cause: 'service:shop/frontend' },
  { fault: 'bad-feature-flag', target: 'shop/checkout', kind: 'bad-feature-flag', cause: 'service:shop/checkout' },
  { fault: 'dependency-outage', target: 'payments/payments-api', kind: 'dependency-outage', cause: 'service:payments/payments-api' },
  { fault: 'node-failure', target: 'node-2', kind: 'node-failure', cause: 'node:node-2' },
];

describe('correlation on the sandbox faults (in process, virtual time)', function () {
  this.timeout(120_000);
  for (const k of CASES) {
    it(`${k.fault} on ${k.target} → ${k.kind}`, () => {
      const { updates, faultAt } = runFault(k.fault, k.target);
      if (process.env.VIGIL_DEBUG_CORRELATION) {
        for (const u of updates) console.log(`  +${(u.diagnosis.t - faultAt) / 1000}s ${u.incidentKey} ${u.diagnosis.kind} ${u.diagnosis.confidence} [${u.members.map(targetKey).join(',')}] ${u.diagnosis.summary}`);
      }
      const open = finalIncidents(updates);
      const mine = open.find((u) => targetKey(u.target) === k.cause);
      assert.ok(mine, `no incident on ${k.cause}; open: ${open.map((u) => `${targetKey(u.target)} ${u.diagnosis.kind}`).join('; ')}`);
      assert.equal(mine.diagnosis.kind, k.kind, mine.diagnosis.summary);
      const others = open.filter((u) => u !== mine && u.diagnosis.confidence >= 0.5);
      assert.deepEqual(others.map((u) => `${targetKey(u.target)} ${u.diagnosis.kind}`), [], 'one incident per fault');
      // Diagnosed within 45 s of injection (frames every 5 s, 30 s rate window), and never retracted.
      const first = updates.find((u) => u.diagnosis.kind === k.kind && targetKey(u.target) === k.cause)!;
      const after = (first.diagnosis.t - faultAt) / 1000;
      assert.ok(after <= 45, `diagnosed ${after} s after injection`);
      assert.ok(updates.filter((u) => u.incidentKey === mine.incidentKey && u.diagnosis.t >= first.diagnosis.t).every((u) => u.diagnosis.kind === k.kind));
      if (process.env.VIGIL_DEBUG_CORRELATION) console.log(`  ${k.fault}: ${k.kind} after ${after} s, confidence ${mine.diagnosis.confidence}`);
    });
  }
});
