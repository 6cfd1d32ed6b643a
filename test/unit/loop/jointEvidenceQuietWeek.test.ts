/**
 * The real case behind bench:diagnose's false incidents with the relationship model on: shop/cart's frames of the
 * fault-free week (seed 11) from +92 h to +98 h 36 min, recorded from the bench's virtual cluster through the agent's
 * own scrape pipeline (test/fixtures/quietWeek/cart-92h-98h.json.gz). At +98 h 31 min 05 s the baselines raised a p99
 * move (92 → 107 ms), which alone opens no incident; 45 s later the relationship model raised the same move (p99
 * alone 99 % of its departure) and the two anomalies opened a false latency-spike incident. Fed these frames, the
 * model must not add a latency-alone departure to its sequential sum: such frames are there (the p95 and p99 jump now
 * and then), and before the fix they took the sum to half its threshold and more, a frame or two from raising.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { JointEvidence } from '../../../src/core/loop/jointEvidence';
import type { SampleFrame } from '../../../src/core/model/signal';
import { MemoryLogger } from '../../fakes/nullLogger';

const FIXTURE = path.join(__dirname, '../../fixtures/quietWeek/cart-92h-98h.json.gz');
const T0 = Date.parse('2026-03-02T00:00:00Z');
const LATENCY = ['latency_p50', 'latency_p95', 'latency_p99'];
const at = (t: number) => `+${((t - T0) / 3_600_000).toFixed(3)} h`;

describe('joint (relationship) model: the fault-free week, recorded', () => {
  it("adds nothing for a latency quantile's jump alone on shop/cart's recorded frames, and never nears its threshold", () => {
    const frames = JSON.parse(gunzipSync(readFileSync(FIXTURE)).toString('utf8')) as SampleFrame[];
    assert.ok(frames.length > 4000 && frames.at(-1)!.t > T0 + 98.55 * 3_600_000, `${frames.length} frames recorded`);
    const joint = new JointEvidence(new MemoryLogger());
    let prev = 0;
    let latencyAlone = 0;
    const added: string[] = [];
    let highest = { t: 0, score: 0 };
    for (const f of frames) {
      const e = joint.evidence(f);
      joint.settle(f, false);
      if (!e) continue;
      const share = LATENCY.reduce((s, k) => s + (e.contributions[k as keyof typeof e.contributions] ?? 0), 0);
      if (share >= 0.9) {
        latencyAlone++;
        if (e.score > prev + 1e-9) added.push(`${at(f.t)} ${prev.toFixed(2)} → ${e.score.toFixed(2)} (latency ${(share * 100).toFixed(0)} %)`);
      }
      if (e.score > highest.score) highest = { t: f.t, score: e.score };
      prev = e.score;
    }
    assert.ok(latencyAlone > 50, `frames whose departure is latency alone: ${latencyAlone}`);
    assert.deepEqual(added, [], 'a latency-alone frame never raises the sum');
    assert.ok(highest.score < 0.5, `highest score ${highest.score.toFixed(2)} at ${at(highest.t)} (threshold 0.9)`);
  });
});
