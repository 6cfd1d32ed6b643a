import assert from 'node:assert/strict';
import { Correlator } from '../../../src/core/diagnose/correlation';
import { Scenario, T, healthy, ramp, shopInventory, svc } from '../../fixtures/correlation/scenario';

describe('a flag named for a callee, whose caller\'s errors show an interval before its own', () => {
  it('opens on the callee the key names (bench:heal 33803b9, bad flag seed 2): the caller joins it, no incident on the caller', () => {
    const s = new Scenario();
    s.inventory = shopInventory({ configMaps: { frontend: ['feature-flags'], checkout: ['feature-flags'] } });
    s.fact('configmap-changed', svc('shop', 'feature-flags'), T, 'configmap shop/feature-flags changed key checkout.new-pricing-engine', {
      attributes: { configMap: 'feature-flags', key: 'checkout.new-pricing-engine', previousValue: 'false', value: 'true' },
    });
    // frontend's 502s land in the interval ending T + 5 s; checkout's own 5xx only in the next one
    s.series(svc('shop', 'frontend'), T - 600_000, T + 60_000, (t) => ({ ...healthy(), error_ratio: 0.002 + 0.06 * ramp(t, T + 1_000, 3_000) }));
    s.series(svc('shop', 'checkout'), T - 600_000, T + 60_000, (t) => ({ ...healthy(), error_ratio: 0.002 + 0.35 * ramp(t, T + 6_000, 3_000) }));
    const updates = s.run(new Correlator());
    const opened = updates.filter((u) => u.isNew).map((u) => `${(u.diagnosis.t - T) / 1000} s ${u.target.kind}:${u.target.name} ${u.diagnosis.kind} ${u.diagnosis.confidence}`);
    const first = updates.find((u) => u.isNew && u.diagnosis.kind === 'bad-feature-flag');
    assert.ok(first, opened.join('\n'));
    assert.deepEqual(first.target, svc('shop', 'checkout'), opened.join('\n'));
    assert.ok(!updates.some((u) => u.target.name === 'frontend'), `no incident on the caller: ${opened.join('; ')}`);
    assert.ok(first.diagnosis.t - T <= 10_000, `named at ${(first.diagnosis.t - T) / 1000} s`);
    const last = updates.filter((u) => u.incidentKey === first.incidentKey).at(-1)!;
    assert.ok(last.members.some((m) => m.name === 'frontend'), `frontend a member: ${last.members.map((m) => m.name).join(', ')}`);
  });

  it('a flag that breaks only the caller (the callee it names stays healthy) is still named on the caller, two settles later', () => {
    const s = new Scenario();
    s.inventory = shopInventory({ configMaps: { frontend: ['feature-flags'], checkout: ['feature-flags'] } });
    s.fact('configmap-changed', svc('shop', 'feature-flags'), T, 'configmap shop/feature-flags changed key checkout.response-format', {
      attributes: { configMap: 'feature-flags', key: 'checkout.response-format', previousValue: 'v1', value: 'v2' },
    });
    s.series(svc('shop', 'frontend'), T - 600_000, T + 60_000, (t) => ({ ...healthy(), error_ratio: 0.002 + 0.2 * ramp(t, T + 1_000, 3_000) }));
    const updates = s.run(new Correlator());
    const first = updates.find((u) => u.isNew);
    assert.ok(first, 'an incident');
    assert.equal(first.diagnosis.kind, 'bad-feature-flag', first.diagnosis.summary);
    assert.deepEqual(first.target, svc('shop', 'frontend'));
    assert.deepEqual(first.diagnosis.details?.flag, { namespace: 'shop', configMap: 'feature-flags', key: 'checkout.response-format', previousValue: 'v1' });
    assert.ok(first.diagnosis.t - T >= 10_000 && first.diagnosis.t - T <= 20_000, `named at ${(first.diagnosis.t - T) / 1000} s`);
  });
});
