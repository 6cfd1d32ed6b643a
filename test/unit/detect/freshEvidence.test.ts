import assert from 'node:assert/strict';
import { DEFAULT_FRESH_EVIDENCE, FRESH_RULES, MemoryHeadroom, freshAnomalies, lineFit } from '../../../src/core/detect/freshEvidence';
import type { Band, SampleFrame } from '../../../src/core/model/signal';
import type { TargetRef } from '../../../src/core/model/target';

const target: TargetRef = { kind: 'service', namespace: 'shop', name: 'frontend' };
const p95: Band = { lower: 0.05, expected: 0.09, upper: 0.13 };
const errors: Band = { lower: 0, expected: 0.003, upper: 0.01 };
const MiB = 1024 * 1024;

describe('freshAnomalies', () => {
  const frame = (fresh: SampleFrame['fresh'], values: SampleFrame['values'] = { latency_p95: 0.1, error_ratio: 0.003 }): SampleFrame => ({ target, t: 5_000, values, fresh });

  it('flags the last interval\'s latency while the rate window still averages it away', () => {
    // a 10x slowdown 5 s ago: the 30 s window reads 0.2 s, the fresh interval 0.9 s
    const [a, ...rest] = freshAnomalies(frame({ latency_p95: 0.9 }, { latency_p95: 0.2 }), { latency_p95: p95 });
    assert.equal(rest.length, 0);
    assert.equal(a.rule, FRESH_RULES.latency);
    assert.equal(a.contributions[0].signal, 'latency_p95');
    assert.match(a.reason, /over the last interval, 10\.0x its expected/);
  });

  it('needs both the ratio and the absolute step, above the band', () => {
    assert.deepEqual(freshAnomalies(frame({ latency_p95: 0.3 }), { latency_p95: p95 }), [], '3.3x is under the 4x ratio');
    const tiny: Band = { lower: 0.001, expected: 0.002, upper: 0.004 };
    assert.deepEqual(freshAnomalies(frame({ latency_p95: 0.05 }), { latency_p95: tiny }), [], '25x of 2 ms is still under the 0.15 s step');
    assert.deepEqual(freshAnomalies(frame({ latency_p95: 0.9 }), {}), [], 'no band, no judgement');
    assert.deepEqual(freshAnomalies(frame(undefined), { latency_p95: p95 }), [], 'a source without fresh values');
  });

  it('flags a failing interval by the HighErrorRatioNow level', () => {
    const [a] = freshAnomalies(frame({ error_ratio: 0.25 }), { error_ratio: errors });
    assert.equal(a.rule, FRESH_RULES.errors);
    assert.equal(freshAnomalies(frame({ error_ratio: DEFAULT_FRESH_EVIDENCE.errorRatio }), { error_ratio: errors }).length, 0);
    assert.equal(freshAnomalies(frame({ error_ratio: 0.2 }), { error_ratio: { lower: 0, expected: 0.2, upper: 0.3 } }).length, 0, 'within a band that is used to it');
  });
});

describe('MemoryHeadroom', () => {
  const at = (t: number, memory: number): SampleFrame => ({ target, t, values: { memory } });

  it('warns of a straight climb that reaches the limit within the horizon, before any OOMKill', () => {
    const h = new MemoryHeadroom();
    const limit = 512 * MiB;
    // two pods from 180 MiB, +8.5 MiB/s: the limit is 39 s away at 0 s
    const found: number[] = [];
    for (let t = 0; t <= 20_000; t += 5_000) {
      const a = h.step('svc', at(t, 180 * MiB + 8.5 * MiB * (t / 1000)), limit, 2);
      if (a) {
        found.push(t);
        assert.equal(a.rule, FRESH_RULES.memory);
        assert.match(a.reason, /reaches its limit of 512 MiB in \d+ s/);
      }
    }
    assert.deepEqual(found, [15_000, 20_000], 'from the fourth sample spanning 15 s');
  });

  it('stays quiet on flat memory, a slow climb far from the limit, an unknown limit, or pods coming and going', () => {
    const flat = new MemoryHeadroom();
    const slow = new MemoryHeadroom();
    const unknown = new MemoryHeadroom();
    const rollout = new MemoryHeadroom();
    const out: unknown[] = [];
    for (let t = 0; t <= 60_000; t += 5_000) {
      out.push(flat.step('a', at(t, 180 * MiB + (t % 10_000 ? MiB : 0)), 512 * MiB, 2));
      // +20% in a minute: hours from the limit
      out.push(slow.step('b', at(t, 180 * MiB * (1 + (0.2 * t) / 60_000)), 4096 * MiB, 2));
      out.push(unknown.step('c', at(t, 180 * MiB + 8.5 * MiB * (t / 1000)), undefined, 2));
      // a rollout adds a pod each scrape: the sum climbs, the pod count (and the limit sum) changes with it
      const pods = 2 + Math.floor(t / 5_000);
      out.push(rollout.step('d', at(t, 90 * MiB * pods), 256 * MiB * pods, pods));
    }
    assert.deepEqual(out.filter(Boolean), []);
  });

  it('fits a line: slope per ms and r²', () => {
    const fit = lineFit([{ t: 0, v: 1 }, { t: 1000, v: 3 }, { t: 2000, v: 5 }])!;
    assert.ok(Math.abs(fit.slope - 0.002) < 1e-12);
    assert.ok(Math.abs(fit.r2 - 1) < 1e-12);
    assert.equal(lineFit([{ t: 0, v: 1 }]), undefined);
  });
});
