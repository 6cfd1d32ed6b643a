import assert from 'node:assert/strict';
import { VirtualClock } from '../../../src/core/loop/virtualClock';
import type { SampleFrame, SignalName } from '../../../src/core/model/signal';
import type { Disposable, MetricsPort, SourceStatus } from '../../../src/core/ports';
import { MergedMetrics } from '../../../src/core/observe/mergedMetrics';

const cart = { kind: 'service' as const, namespace: 'shop', name: 'cart' };

/** A source the test pushes frames and status into. */
class PushSource implements MetricsPort {
  private frameL: Array<(f: ReadonlyArray<SampleFrame>) => void> = [];
  private statusL: Array<(s: SourceStatus) => void> = [];
  constructor(private readonly signal: SignalName) {}
  push(t: number, v: number): void {
    this.frameL.forEach((l) => l([{ target: cart, t, values: { [this.signal]: v } }]));
  }
  status(state: SourceStatus['state']): void {
    this.statusL.forEach((l) => l({ source: this.signal, state, message: state, since: 0 }));
  }
  async discoverTargets() {
    return [{ target: cart, signals: [this.signal] }];
  }
  async range() {
    return [];
  }
  subscribe(l: (f: ReadonlyArray<SampleFrame>) => void): Disposable {
    this.frameL.push(l);
    return { dispose: () => (this.frameL = this.frameL.filter((x) => x !== l)) };
  }
  onStatus(l: (s: SourceStatus) => void): Disposable {
    this.statusL.push(l);
    return { dispose: () => (this.statusL = this.statusL.filter((x) => x !== l)) };
  }
}

describe('MergedMetrics', () => {
  it('merges sources per interval once all keeping pace have delivered', async () => {
    const clock = new VirtualClock(0);
    const metrics = new PushSource('request_rate');
    const logs = new PushSource('log_errors');
    const merged = new MergedMetrics([metrics, logs], { clock, graceMs: 1_000 });
    const out: SampleFrame[][] = [];
    merged.subscribe((f) => out.push([...f]));
    metrics.push(0, 5);
    logs.push(0, 1);
    await clock.advance(1_500);
    metrics.push(10, 6);
    assert.equal(out.length, 1, 'waits for logs, which kept pace');
    logs.push(10, 2);
    assert.deepEqual(out.map((fs) => fs.map((f) => [f.t, f.values])), [[[0, { request_rate: 5, log_errors: 1 }]], [[10, { request_rate: 6, log_errors: 2 }]]]);
    assert.deepEqual((await merged.discoverTargets())[0].signals, ['log_errors', 'request_rate']);
    merged.dispose();
  });

  it("keeps the primary's last-interval values whole: fresh values, their pods' start and each pod's interval", async () => {
    // each pod's interval was dropped here before (blame by new pods and verification on them saw none live)
    const clock = new VirtualClock(0);
    const frame: SampleFrame = { target: cart, t: 0, values: { error_ratio: 0.1 }, fresh: { error_ratio: 0.25 }, freshPodsSince: 1_000, freshPods: [{ pod: 'cart-1', since: 1_000, requests: 20, errors: 5, buckets: { '0.1': 12, '+Inf': 20 } }] };
    const metrics: MetricsPort = { ...new PushSource('error_ratio'), discoverTargets: async () => [], range: async () => [frame], subscribe: () => ({ dispose: () => undefined }), onStatus: () => ({ dispose: () => undefined }) };
    const merged = new MergedMetrics([metrics, new PushSource('log_errors')], { clock, graceMs: 1_000 });
    assert.deepEqual(await merged.range(0, 0, 5_000), [frame]);
    merged.dispose();
  });

  it('emits the primary alone after the grace time, and drops a part that comes later', async () => {
    const clock = new VirtualClock(0);
    const metrics = new PushSource('request_rate');
    const probes = new PushSource('probe_success');
    const merged = new MergedMetrics([metrics, probes], { clock, graceMs: 1_000 });
    const out: SampleFrame[][] = [];
    merged.subscribe((f) => out.push([...f]));
    metrics.push(0, 5);
    probes.push(0, 1);
    metrics.push(10, 6);
    await clock.advance(999);
    assert.equal(out.length, 1);
    await clock.advance(1);
    assert.deepEqual(out[1][0].values, { request_rate: 6 });
    probes.push(10, 0);
    assert.equal(out.length, 2, 'late part of an emitted interval is dropped');
    merged.dispose();
  });

  it('holds the others while the primary is down, then joins them with its backfill in order', async () => {
    const clock = new VirtualClock(0);
    const metrics = new PushSource('request_rate');
    const logs = new PushSource('log_errors');
    const merged = new MergedMetrics([metrics, logs], { clock, graceMs: 1_000, maxHoldMs: 60_000 });
    const out: SampleFrame[][] = [];
    merged.subscribe((f) => out.push([...f]));
    metrics.push(0, 1);
    logs.push(0, 0);
    metrics.status('down');
    for (const t of [10, 20, 30]) {
      logs.push(t, t);
      await clock.advance(10_000);
    }
    assert.equal(out.length, 1, 'nothing flushed while metrics is down (within the hold time)');
    metrics.status('ok');
    for (const t of [10, 20, 30]) metrics.push(t, t / 10);
    assert.deepEqual(out.map((fs) => [fs[0].t, fs[0].values]), [
      [0, { request_rate: 1, log_errors: 0 }],
      [10, { request_rate: 1, log_errors: 10 }],
      [20, { request_rate: 2, log_errors: 20 }],
      [30, { request_rate: 3, log_errors: 30 }],
    ]);
    merged.dispose();
  });

  it('lets the others through alone when the primary stays down past the hold time', async () => {
    const clock = new VirtualClock(0);
    const metrics = new PushSource('request_rate');
    const probes = new PushSource('probe_success');
    const merged = new MergedMetrics([metrics, probes], { clock, graceMs: 1_000, maxHoldMs: 5_000 });
    const out: SampleFrame[][] = [];
    merged.subscribe((f) => out.push([...f]));
    metrics.status('down');
    probes.push(0, 0);
    await clock.advance(5_000);
    assert.deepEqual(out.map((fs) => fs[0].values), [{ probe_success: 0 }]);
    merged.dispose();
  });
});
