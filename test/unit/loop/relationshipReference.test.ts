/**
 * The slowest cpu-hog run of bench:diagnose's sweep (10 times of the sandbox day × 6 seeds), recorded: shop/cart,
 * seed 53, one of its pods burning twice the CPU per request from +1 h 02 min, at the trough of the sandbox day
 * (test/fixtures/relationship/cart-seed53-trough.json.gz: the service's frames from start to 60 s after the injection,
 * through the agent's own scrape pipeline, recorded with VIGIL_BENCH_RECORD, each with `normal`: whether the live loop
 * let the model learn from it). CPU per request jumps by 40 % at the first frame. On cart the model keeps one
 * component (the day's load), so Q pools every signal's residual, and its reference, the 0.1 % tail of 720 training
 * rows, was their largest: one p99 jump to 1.46 × its median (Q reference 18.5, 4 without that row). The fault departed
 * below it for two frames and the model reached its threshold 45 s after the symptoms (9 intervals in the live loop;
 * fails on de52e73, the commit before the fix). A latency-alone row now sets no Q reference
 * (JointModelConfig.setAside), as it already added nothing to the sequential sum.
 */
import assert from 'node:assert/strict';
import { replayRecorded, SCRAPE_MS } from './liveDrill';

const SYMPTOMS = Date.parse('2026-03-02T01:02:00Z');

describe('joint (relationship) model: a latency jump in training sets no reference for CPU per request, recorded', () => {
  it('raises cpu-hog at the trough within 3 intervals of the symptoms (it took 9), and never before them', () => {
    const { frames, joint, raised } = replayRecorded('cart-seed53-trough.json.gz');
    assert.equal(frames.length, 756, 'an hour and two minutes of normal frames, then a minute of the fault');
    assert.ok(joint.isReady('service:shop/cart'), 'the model speaks before the fault');
    assert.deepEqual(raised.filter((t) => t < SYMPTOMS).map((t) => new Date(t).toISOString()), [], 'no frame at its threshold before the fault');
    const first = raised.find((t) => t >= SYMPTOMS);
    assert.ok(first !== undefined && first - SYMPTOMS <= 3 * SCRAPE_MS, `the model reaches its threshold ${first === undefined ? 'never in 60 s' : `${(first - SYMPTOMS) / 1000} s`} after the symptoms`);
  });
});
