import assert from 'node:assert/strict';
import { seasonalFactor } from '../../../../src/sandbox/sim/workload';
import { scaleManifests, scaleNodeCount, scaleOptionsProblem, scaleServices, seedScaleTopology } from '../../../../src/sandbox/sim/scaleTopology';
import type { Deployment } from '../../../../src/sandbox/sim/objects';
import { ready, scrape, SimHarness } from './simHarness';

describe('sandbox topology at scale', () => {
  it('generates the same services for a seed, in namespaces of 50, calling only later services (no cycle)', () => {
    const a = scaleServices({ services: 120, podsPerService: 5, seed: 3 });
    assert.deepEqual(scaleServices({ services: 120, podsPerService: 5, seed: 3 }), a);
    assert.notDeepEqual(scaleServices({ services: 120, podsPerService: 5, seed: 4 }), a);
    assert.equal(a.length, 120);
    assert.deepEqual([...new Set(a.map((s) => s.namespace))], ['scale-000', 'scale-001', 'scale-002']);
    const index = new Map(a.map((s, i) => [`${s.namespace}/${s.name}`, i]));
    let edges = 0;
    for (const [i, s] of a.entries()) {
      assert.equal(s.replicas, 5);
      for (const d of s.dependsOn ?? []) {
        assert.ok((index.get(d) ?? -1) > i, `${s.name} calls ${d}, which is not a later service`);
        edges++;
      }
    }
    // most services call someone, the last calls no one
    assert.ok(edges > 120 && edges < 3 * 120, `${edges} calls`);
    assert.deepEqual(a[119].dependsOn, []);
    const kinds = scaleManifests({ services: 120, podsPerService: 5, seed: 3 }).map((o) => o.kind);
    assert.deepEqual([kinds.filter((k) => k === 'Namespace').length, kinds.filter((k) => k === 'Deployment').length, kinds.filter((k) => k === 'Service').length], [3, 120, 120]);
  });

  it('sizes every generated service for its daily peak: under the 70 % of capacity where its latency starts to climb', () => {
    const daySeconds = 600;
    let peak = 0;
    for (let s = 0; s < daySeconds * 7; s++) peak = Math.max(peak, seasonalFactor(s * 1000, daySeconds));
    assert.ok(peak > 1.4, `the seasonal peak ${peak}`);
    // the per-step noise adds up to 8 % on top
    for (const s of scaleServices({ services: 1000, podsPerService: 5, seed: 1 })) {
      const perPodAtPeak = (s.baseRps / s.replicas) * peak * 1.08;
      assert.ok(perPodAtPeak < 0.7 * s.capacityRps!, `${s.name}: ${perPodAtPeak.toFixed(1)} rps per pod at the peak, capacity ${s.capacityRps}`);
    }
  });

  it('refuses sizes it cannot place, naming the flag', () => {
    assert.match(scaleOptionsProblem({ services: 0, podsPerService: 5 }) ?? '', /--services must be a whole number from 1/);
    assert.match(scaleOptionsProblem({ services: 10, podsPerService: 51 }) ?? '', /--pods-per-service must be a whole number from 1 to 50/);
    assert.match(scaleOptionsProblem({ services: 10_000, podsPerService: 5 }) ?? '', /at most 25000 pods/);
    assert.equal(scaleOptionsProblem({ services: 1000, podsPerService: 5 }), undefined);
    assert.equal(scaleNodeCount({ services: 1000, podsPerService: 5 }), 53);
  });

  it('runs beside the shop: every generated pod scheduled and Ready, with its metrics', () => {
    const h = new SimHarness();
    seedScaleTopology(h.store, { services: 60, podsPerService: 3 });
    assert.equal(h.store.list('nodes').items.length, scaleNodeCount({ services: 60, podsPerService: 3 }));
    h.run(10_000, 500);
    const generated = h.store.list('pods').items.filter((p) => p.metadata.namespace?.startsWith('scale-'));
    assert.equal(generated.length, 180);
    assert.equal(generated.filter((p) => ready(p as never)).length, 180);
    assert.equal(h.pods('shop').length + h.pods('payments').length, 10);
    assert.equal((h.store.mustGet('deployments', 'scale-001', 'svc-0059') as Deployment).spec.replicas, 3);
    const samples = scrape(h).filter((s) => s.name === 'http_requests_total' && s.labels.namespace === 'scale-001' && s.labels.deployment === 'svc-0059');
    assert.ok(samples.length >= 3, `${samples.length} request series of scale-001/svc-0059`);
  });
});
