import assert from 'node:assert/strict';
import { DEFAULT_RULES } from '../../../src/core/detect/defaultRules';
import { RuleEngine } from '../../../src/core/detect/rules';
import type { SampleFrame } from '../../../src/core/model/signal';

const target = { kind: 'service' as const, namespace: 'shop', name: 'checkout' };
const frame = (t: number, values: SampleFrame['values']): SampleFrame => ({ target, t, values });
const fired = (e: RuleEngine, f: SampleFrame) => e.step(f).map((a) => a.rule).sort();

describe('default rules', () => {
  it('early evidence: 8% 5xx or a 1 s p95 fire on the first scrape; the held rules need their hold time', () => {
    const e = new RuleEngine(DEFAULT_RULES);
    assert.deepEqual(fired(e, frame(0, { error_ratio: 0.09, latency_p95: 1.2, latency_p99: 1.6 })), ['HighErrorRatioNow', 'HighLatencyP95Now']);
    assert.deepEqual(fired(e, frame(15_000, { error_ratio: 0.09, latency_p95: 1.2, latency_p99: 1.6 })), ['HighErrorRatio', 'HighErrorRatioNow', 'HighLatencyP95Now']);
    assert.deepEqual(fired(e, frame(30_000, { error_ratio: 0.09, latency_p95: 1.2, latency_p99: 1.6 })), ['HighErrorRatio', 'HighErrorRatioNow', 'HighLatencyP95Now', 'HighLatencyP99']);
  });

  it('what a healthy service reaches at its daily peak fires nothing at once', () => {
    const e = new RuleEngine(DEFAULT_RULES);
    // the sandbox's busiest services peak near 4.9% 5xx, p95 0.43 s and a jumpy p99 of up to 2.5 s
    assert.deepEqual(fired(e, frame(0, { error_ratio: 0.049, latency_p95: 0.43, latency_p99: 2.5, available_replicas: 2 })), []);
    assert.deepEqual(fired(e, frame(5_000, { error_ratio: 0.06, latency_p95: 0.9, latency_p99: 1.9, available_replicas: 2 })), []);
  });

  it('early rules clear with hysteresis, not at the first dip below the threshold', () => {
    const e = new RuleEngine(DEFAULT_RULES);
    assert.deepEqual(fired(e, frame(0, { error_ratio: 0.1 })), ['HighErrorRatioNow']);
    assert.deepEqual(fired(e, frame(5_000, { error_ratio: 0.06 })), ['HighErrorRatioNow']);
    assert.deepEqual(fired(e, frame(10_000, { error_ratio: 0.03 })), []);
  });
});
