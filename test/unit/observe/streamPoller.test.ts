import assert from 'node:assert/strict';
import { VirtualClock } from '../../../src/core/loop/virtualClock';
import type { SampleFrame } from '../../../src/core/model/signal';
import type { SourceStatus } from '../../../src/core/ports';
import { StreamPoller, type FrameFetcher } from '../../../src/core/observe/streamPoller';

const svc = { kind: 'service' as const, namespace: 'shop', name: 'cart' };
const frameAt = (t: number): SampleFrame => ({ target: svc, t, values: { request_rate: t / 1000 } });

/** A fetcher whose source can be switched off; records what was asked. */
class FakeFetcher implements FrameFetcher {
  down = false;
  calls: string[] = [];
  problems: string[] = [];
  async instant(t: number) {
    this.calls.push(`instant ${t}`);
    if (this.down) throw new Error('connection refused');
    return { frames: [frameAt(t)], problems: this.problems };
  }
  async range(from: number, to: number, step: number) {
    this.calls.push(`range ${from}-${to}`);
    if (this.down) throw new Error('connection refused');
    const frames: SampleFrame[] = [];
    for (let t = from; t <= to; t += step) frames.push(frameAt(t));
    return { frames, problems: this.problems };
  }
}

describe('StreamPoller', () => {
  it('emits one aligned interval at a time, in order', async () => {
    const clock = new VirtualClock(100_000 + 3_000);
    const fetcher = new FakeFetcher();
    const poller = new StreamPoller(fetcher, { source: 'test', describeDown: (e) => `down: ${(e as Error).message}`, clock, intervalMs: 10_000, lagMs: 1_000 });
    const seen: number[][] = [];
    const sub = poller.subscribe((fs) => seen.push(fs.map((f) => f.t)));
    await clock.advance(30_000);
    sub.dispose();
    assert.deepEqual(seen, [[100_000], [110_000], [120_000], [130_000]]);
    assert.equal(poller.status.state, 'ok');
    assert.equal(clock.pendingTimers, 0, 'the last unsubscribe stops the timer');
  });

  it('raises a clear down status during an outage and backfills the gap on recovery', async () => {
    const clock = new VirtualClock(0);
    const fetcher = new FakeFetcher();
    const statuses: SourceStatus[] = [];
    const poller = new StreamPoller(fetcher, { source: 'test', describeDown: (e) => `Test unreachable at http://x: ${(e as Error).message}`, clock, intervalMs: 10_000 });
    poller.onStatus((s) => statuses.push(s));
    const times: number[] = [];
    poller.subscribe((fs) => times.push(...fs.map((f) => f.t)));
    await clock.advanceTo(20_000);
    fetcher.down = true;
    await clock.advanceTo(65_000);
    assert.equal(poller.status.state, 'down');
    assert.equal(poller.status.message, 'Test unreachable at http://x: connection refused');
    fetcher.down = false;
    await clock.advanceTo(71_000);
    assert.deepEqual(times, [0, 10_000, 20_000, 30_000, 40_000, 50_000, 60_000, 70_000]);
    assert.ok(fetcher.calls.some((c) => c.startsWith('range 30000-')), fetcher.calls.join(','));
    assert.equal(poller.status.state, 'ok');
    assert.match(statuses.map((s) => s.message).join('|'), /recovered; backfilled \d+ missed interval/);
    poller.dispose();
  });

  it('reports intervals beyond the backfill limit as lost, not silently', async () => {
    const clock = new VirtualClock(0);
    const fetcher = new FakeFetcher();
    const poller = new StreamPoller(fetcher, { source: 'test', describeDown: () => 'down', clock, intervalMs: 1_000, maxBackfillMs: 5_000 });
    const statuses: SourceStatus[] = [];
    poller.onStatus((st) => statuses.push(st));
    const times: number[] = [];
    poller.subscribe((fs) => times.push(...fs.map((f) => f.t)));
    await clock.advanceTo(0);
    fetcher.down = true;
    await clock.advanceTo(20_500);
    fetcher.down = false;
    await clock.advanceTo(21_900);
    const lostStatus = statuses.find((st) => st.state === 'degraded');
    assert.match(lostStatus?.message ?? '', /interval\(s\) older than the backfill limit were lost/);
    const last = times[times.length - 1];
    assert.ok(last >= 21_000, `resumed at ${last}`);
    assert.deepEqual(times, [0, ...[0, 1, 2, 3, 4, 5].map((k) => last - 5_000 + k * 1_000)]);
    poller.dispose();
  });

  it('keeps going when a listener throws, and shows partial query problems as degraded', async () => {
    const clock = new VirtualClock(0);
    const fetcher = new FakeFetcher();
    fetcher.problems = ['signal cpu: bad query'];
    const poller = new StreamPoller(fetcher, { source: 'test', describeDown: () => 'down', clock, intervalMs: 1_000 });
    let calls = 0;
    poller.subscribe(() => {
      calls++;
      throw new Error('listener bug');
    });
    await clock.advanceTo(3_000);
    assert.equal(calls, 4);
    assert.equal(poller.status.state, 'degraded');
    assert.match(poller.status.message, /signal cpu: bad query/);
    poller.dispose();
  });
});
