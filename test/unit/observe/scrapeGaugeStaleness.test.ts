import assert from 'node:assert/strict';
import { ScrapeSignalComputer, type ExpositionSample } from '../../../src/core/observe/scrapeSignals';

const labels = (podName: string) => ({ namespace: 'shop', deployment: 'cart', pod: podName, node: 'n1' });
const scrape = (podName: string, t: number, memory: number, failing = true): ExpositionSample[] => [
  { name: 'http_requests_total', labels: { ...labels(podName), code: '500' }, value: failing ? t / 100 : 0 },
  { name: 'http_requests_total', labels: { ...labels(podName), code: '200' }, value: t / 100 },
  { name: 'process_resident_memory_bytes', labels: labels(podName), value: memory },
];

/** Rounds every 5 s, as the direct-scrape source runs them: ingest each live pod, then compute. */
describe('direct scrape: gauges of a pod that is gone', () => {
  it('stop counting at the first round without it, while its counters stay in their rate window', () => {
    const c = new ScrapeSignalComputer(30_000);
    let frame = c.compute(0);
    for (let t = 5_000; t <= 30_000; t += 5_000) {
      c.ingest(t, scrape('cart-old', t, 600e6));
      frame = c.compute(t);
    }
    assert.equal(frame.find((f) => f.target.kind === 'service')?.values.memory, 600e6);
    // the rollout replaced the leaking pod at 30 s: only the fresh one answers from now on
    const cart = (t: number) => {
      c.ingest(t, scrape('cart-new', t, 90e6, false));
      return c.compute(t).find((f) => f.target.kind === 'service')!.values;
    };
    cart(35_000);
    const at40 = cart(40_000);
    assert.equal(at40.memory, 90e6, 'a deleted pod\'s last memory reading is not part of the service any more');
    // its errors are: rate() over the window still holds the samples it took before it went
    assert.ok((at40.error_ratio ?? 0) > 0.2, `error ratio ${at40.error_ratio}`);
    const later = cart(65_000);
    assert.equal(later.error_ratio, 0, 'once the window has moved past the old pod, only the new one counts');
  });

  it('frames computed once for many ingested rounds keep every gauge seen in them', () => {
    const c = new ScrapeSignalComputer(30_000);
    for (let t = 0; t <= 10_000; t += 5_000) c.ingest(t, [...scrape('a', t, 100e6), ...scrape('b', t, 100e6)]);
    assert.equal(c.compute(10_000).find((f) => f.target.kind === 'service')?.values.memory, 200e6);
  });
});
