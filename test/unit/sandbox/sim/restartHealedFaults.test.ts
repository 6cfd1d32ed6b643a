import assert from 'node:assert/strict';
import type { Deployment } from '../../../../src/sandbox/sim/objects';
import { meanLatency, scrape, SimHarness, window } from './simHarness';

function inject(h: SimHarness, body: Record<string, unknown>): Record<string, unknown> {
  const r = h.control('POST', '/sandbox/v1/faults', body);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

const fault = (h: SimHarness, id: unknown) => h.control('GET', `/sandbox/v1/faults/${id}`).body;

function restartRollout(h: SimHarness, ns: string, name: string): void {
  h.store.mutate('deployments', ns, name, (o) => {
    const t = (o as Deployment).spec.template;
    t.metadata = { ...t.metadata, annotations: { ...t.metadata?.annotations, 'kubectl.kubernetes.io/restartedAt': new Date(h.t).toISOString() } };
  });
}

/** The playbooks of these faults restart the rollout; the fault sits in the pods of injection time, like a wedged process. */
describe('sandbox faults a rollout restart heals', () => {
  it('latency-spike: slow while the old pods run, healed (ground truth) once fresh pods replace them', () => {
    const h = new SimHarness();
    h.run(3000);
    const a = scrape(h);
    h.run(20_000);
    const b = scrape(h);
    const f = inject(h, { fault: 'latency-spike', target: 'payments/payments-api', factor: 8, durationSeconds: 900 });
    h.run(20_000);
    const c = scrape(h);
    assert.ok(meanLatency(b, c, 'payments-api') > 6 * meanLatency(a, b, 'payments-api'));
    assert.equal(fault(h, f.id).recoveredAt, undefined);
    restartRollout(h, 'payments', 'payments-api');
    h.run(15_000);
    const d = scrape(h);
    h.run(20_000);
    assert.ok(meanLatency(d, scrape(h), 'payments-api') < 1.5 * meanLatency(a, b, 'payments-api'));
    assert.ok(fault(h, f.id).recoveredAt, 'recovery recorded while the fault is still active');
    assert.equal(fault(h, f.id).active, true);
  });

  it('dependency-outage: callers fail while the old pods answer 503, and recover after the restart', () => {
    const h = new SimHarness();
    h.run(3000);
    const f = inject(h, { fault: 'dependency-outage', target: 'payments/payments-api', durationSeconds: 900 });
    h.run(2000);
    const a = scrape(h);
    h.run(20_000);
    assert.ok(window(a, scrape(h), 'checkout').errorShare > 0.4);
    restartRollout(h, 'payments', 'payments-api');
    h.run(15_000);
    const c = scrape(h);
    h.run(20_000);
    const after = scrape(h);
    assert.ok(window(c, after, 'payments-api').errorShare < 0.02);
    assert.ok(window(c, after, 'checkout').errorShare < 0.02);
    assert.ok(fault(h, f.id).recoveredAt);
  });
});
