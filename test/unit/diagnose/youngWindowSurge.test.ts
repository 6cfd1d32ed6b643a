import assert from 'node:assert/strict';
import { Correlator } from '../../../src/core/diagnose/correlation';
import { Scenario, T, healthy, shopInventory, svc } from '../../fixtures/correlation/scenario';

/**
 * bench:heal at 651ccf5, dependency outage seed 3: payments-api's pods had started 49 s before the outage, so its 30 s
 * rate window read a fraction of its requests at first (1.5, 1.8, 2.9 req/s) while the last interval read all of them
 * (3.1–3.9). The young window's climb looked like a step the pods had absorbed, its 1.8 req/s the level before it, and
 * the outage was named a surge "2.39x above baseline", scaled out twice and escalated.
 */
describe('a rate window younger than itself is no level before a surge (diagnosis)', () => {
  it('names the dependency outage of a service whose window was still filling, not a surge from it', () => {
    const windowed = [1.48, 1.79, 2.91, 3.13, 3.29, 3.25, 3.35, 3.64, 3.67, 3.71, 3.94, 4.0, 5.07, 5.76];
    const fresh = [1.48, 3.08, 3.68, 3.48, 3.73, 3.12, 3.84, 4.06, 3.63, 3.9, 4.28, 4.13, 3.81, 4.47];
    const errors = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0.022, 0.214, 0.4, 0.41, 0.402];
    const freshErrors = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0.1, 0.905, 0.905, 0.635, 0.273];
    const start = T - 50_000;
    const at = (t: number) => Math.round((t - start) / 5_000);
    const s = new Scenario();
    s.inventory = shopInventory();
    s.series(
      svc('payments', 'payments-api'),
      start,
      T + 15_000,
      (t) => ({ ...healthy(), request_rate: windowed[at(t)], error_ratio: errors[at(t)], cpu: 0.19, latency_p99: 0.48 }),
      true,
      (t) => ({ request_rate: fresh[at(t)], error_ratio: freshErrors[at(t)], cpu: 0.2 }),
    );
    s.series(svc('shop', 'checkout'), start, T + 15_000, (t) => ({ ...healthy(), request_rate: 4.5, error_ratio: t >= T ? 0.074 + 0.1 * ((t - T) / 5_000) : 0 }), true, (t) => ({ request_rate: 4.8, error_ratio: t >= T ? 0.41 : 0 }));
    const updates = s.run(new Correlator(), { batched: true });
    const onPayments = updates.filter((u) => u.target.name === 'payments-api');
    assert.ok(onPayments.length > 0, updates.map((u) => `${u.target.name} ${u.diagnosis.kind}`).join('; '));
    const kinds = [...new Set(onPayments.map((u) => u.diagnosis.kind))];
    assert.deepEqual(kinds, ['dependency-outage'], onPayments.map((u) => `${(u.diagnosis.t - T) / 1000} s ${u.diagnosis.kind} ${u.diagnosis.confidence}: ${u.diagnosis.summary}`).join('\n'));
  });
});
