import assert from 'node:assert/strict';
import { readSlo, windowBurn, type SloPoint } from '../../../src/core/detect/sloBurn';
import { DEFAULT_BURN_WINDOWS, type SloDefinition } from '../../../src/core/observe/sloDefinitions';

const MIN = 60_000;
const HOUR = 60 * MIN;

const slo = (windows = DEFAULT_BURN_WINDOWS, objective = 0.999): SloDefinition => ({
  id: 'checkout/availability',
  name: 'availability',
  service: 'checkout',
  namespace: 'shop',
  workload: 'checkout',
  objective,
  errorQuery: 'e[{{.window}}]',
  totalQuery: 't[{{.window}}]',
  periodMs: 30 * 24 * HOUR,
  windows,
  origin: 'slo.yaml:1',
});

/** One point per minute over (now − span, now], with the error ratio `ratioAt(t)` on 100 requests/s. */
function series(now: number, spanMs: number, ratioAt: (t: number) => number, missing: (t: number) => boolean = () => false): SloPoint[] {
  const out: SloPoint[] = [];
  for (let t = now - spanMs + MIN; t <= now; t += MIN) out.push(missing(t) ? { t, bad: NaN, total: NaN } : { t, bad: 100 * ratioAt(t), total: 100 });
  return out;
}

describe('SLOs as code: multi-window multi-burn-rate', () => {
  const now = 10 * 24 * HOUR;

  it('matches hand-computed burn rates on a synthetic series', () => {
    // 2 % errors in the last 10 min, 0.1 % before: objective 99.9 % leaves a 0.1 % budget
    const points = series(now, 3 * 24 * HOUR, (t) => (t > now - 10 * MIN ? 0.02 : 0.001));
    // 5 m: all at 2 % → 0.02 / 0.001 = 20×
    const short = windowBurn(points, now, 5 * MIN, MIN, 0.999);
    assert.equal(short.coverage, 1);
    assert.ok(Math.abs(short.burn! - 20) < 1e-9, String(short.burn));
    // 1 h: 10 min at 2 %, 50 at 0.1 % → (10·0.02 + 50·0.001) / 60 = 0.0041667 → 4.1667×
    const long = windowBurn(points, now, HOUR, MIN, 0.999);
    assert.ok(Math.abs(long.burn! - 0.25 / 60 / 0.001) < 1e-9, String(long.burn));
    const r = readSlo(slo(), points, now, MIN, 0.0011);
    // 14.4× pair: 20× short but 4.17× long → ok; 6× over 6 h/30 m: 30 m = (10·0.02+20·0.001)/30 = 7.33×, 6 h = (0.2+350·0.001)/360 = 1.53× → ok;
    // 1× over 3 d/6 h: 3 d = (0.2 + 4310·0.001)/4320 = 1.044×, 6 h = 1.53× → the slow burn fires
    assert.deepEqual(r.pairs.map((p) => p.state), ['ok', 'ok', 'burning']);
    assert.ok(Math.abs(r.pairs[1].short.burn! - 0.22 / 30 / 0.001) < 1e-9);
    assert.ok(Math.abs(r.pairs[1].long.burn! - 0.55 / 360 / 0.001) < 1e-9);
    assert.ok(Math.abs(r.pairs[2].long.burn! - 4.51 / 4320 / 0.001) < 1e-9);
    assert.equal(r.burning?.pair.factor, 1);
    // budget: 0.11 % errors over the period against 0.1 % → −10 %
    assert.ok(Math.abs(r.budgetRemaining! - -0.1) < 1e-9, String(r.budgetRemaining));
    assert.match(r.text, /^SLO checkout\/availability \(99\.9 % over 30 d\) burning: 1× over 3 d and 1\.5× over 6 h \(alert at 1× over 3 d\/6 h\); -10 % of the error budget left$/);
    // the same series ending before the spike: nothing burns
    const calm = readSlo(slo(), series(now, 3 * 24 * HOUR, () => 0.0005), now, MIN, 0.0005);
    assert.deepEqual(calm.pairs.map((p) => p.state), ['ok', 'ok', 'ok']);
    assert.match(calm.text, / ok; 50 % of the error budget left$/);
  });

  it('fires the 14.4× pair when both the hour and the last 5 minutes burn that fast', () => {
    // 2 % errors for the last 50 min: 1 h = (50·0.02 + 10·0.001)/60/0.001 = 16.83×, 5 m = 20×
    const points = series(now, 7 * HOUR, (t) => (t > now - 50 * MIN ? 0.02 : 0.001));
    const r = readSlo(slo(), points, now, MIN, 0.0005);
    assert.equal(r.pairs[0].state, 'burning');
    assert.ok(Math.abs(r.pairs[0].long.burn! - 1.01 / 60 / 0.001) < 1e-9);
    assert.equal(r.burning?.pair.factor, 14.4);
    assert.ok(Math.abs(r.budgetRemaining! - 0.5) < 1e-9);
    assert.match(r.text, /burning: 16.8× over 60 min and 20× over 5 min \(alert at 14\.4× over 60 min\/5 min\); 50 % of the error budget left/);
    // the 3 d window has 7 h of data: not enough
    assert.equal(r.pairs[2].state, 'not enough data');
  });

  it('reads "not enough data" below 90 % coverage, and counts only present samples above it', () => {
    const gappy = series(now, HOUR, () => 0.02, (t) => Math.round((now - t) / MIN) % 10 === 0); // 6 of 60 missing: 90 %
    const w = windowBurn(gappy, now, HOUR, MIN, 0.999);
    assert.equal(w.coverage, 0.9);
    assert.ok(Math.abs(w.burn! - 20) < 1e-9);
    const sparse = series(now, HOUR, () => 0.02, (t) => Math.round((now - t) / MIN) % 5 === 0); // 12 of 60 missing: 80 %
    const s = windowBurn(sparse, now, HOUR, MIN, 0.999);
    assert.equal(s.coverage, 0.8);
    assert.equal(s.burn, undefined);
    const r = readSlo(slo([{ longMs: HOUR, shortMs: 5 * MIN, factor: 14.4 }]), sparse, now, MIN);
    assert.equal(r.pairs[0].state, 'not enough data');
    assert.match(r.text, /not enough data .*; error budget unknown \(no data\)$/);
  });

  it('honours per-SLO windows (short ones, as the sandbox ships)', () => {
    const points = series(now, 10 * MIN, (t) => (t > now - 3 * MIN ? 0.5 : 0), undefined);
    const r = readSlo(slo([{ longMs: 4 * MIN, shortMs: 2 * MIN, factor: 14.4 }], 0.99), points, now, MIN);
    // 4 m: (3·0.5)/4 = 0.375 / 0.01 = 37.5×; 2 m: 0.5/0.01 = 50×
    assert.ok(Math.abs(r.pairs[0].long.burn! - 37.5) < 1e-9);
    assert.ok(Math.abs(r.pairs[0].short.burn! - 50) < 1e-9);
    assert.equal(r.burning?.pair.longMs, 4 * MIN);
  });
});
