import assert from 'node:assert/strict';
import { formatDurationMs, formatNumber, formatValue, pct, round, valueWording } from '../../../src/core/observe/signalWording';

const SCIENTIFIC = /\d[eE][+-]?\d/;

describe('value wording', () => {
  it('says an expected band of a near-zero ratio as people read it, never in scientific notation', () => {
    // the band the sidebar printed as [-8.75e-7, 1.09e-6]
    assert.equal(formatValue('error_ratio', -8.75e-7), '0%');
    assert.equal(formatValue('error_ratio', 1.09e-6), '<0.01%');
    assert.equal(formatValue('error_ratio', 0.0643), '6.4%');
    assert.equal(formatValue('error_ratio', 0.002), '0.2%');
    assert.equal(pct(0), '0%');
  });

  it('uses ms/s, MiB/GiB and plain numbers', () => {
    assert.equal(formatValue('latency_p95', 0.18), '180 ms');
    assert.equal(formatValue('latency_p95', 2.5), '2.5 s');
    assert.equal(formatValue('latency_p99', 1e-7), '0 ms');
    assert.equal(formatValue('memory', 512 * 1024 ** 2), '512 MiB');
    assert.equal(formatValue('memory', 3 * 1024 ** 3), '3 GiB');
    assert.equal(formatValue('request_rate', 42.04), '42 req/s');
    assert.equal(round(1e21), '1000000000000000000000');
    assert.equal(round(-3e-9), '0');
  });

  it('formats any other quantity without an exponent', () => {
    for (const v of [1.09e-6, -8.75e-7, 1e-9, 1e-300, 123456789, 1e21, 0.000123456, 0.5, -42.4242]) {
      assert.doesNotMatch(formatNumber(v), SCIENTIFIC, String(v));
      assert.doesNotMatch(valueWording('cpu', v), SCIENTIFIC, String(v));
      assert.doesNotMatch(valueWording('some_csv_column', v), SCIENTIFIC, String(v));
      for (const s of ['error_ratio', 'latency_p95', 'memory', 'request_rate', 'restarts'] as const) assert.doesNotMatch(formatValue(s, v), SCIENTIFIC, `${s} ${v}`);
    }
    assert.equal(formatNumber(0.000123456), '0.000123');
    assert.equal(formatNumber(1e-9), '<0.000001');
    assert.equal(formatNumber(1234.6), '1235');
  });

  it('prints every value as the locale formatter would (the fast path of plain numbers changes no text)', () => {
    const locale = (v: number) => v.toLocaleString('en-US', { useGrouping: false, maximumFractionDigits: 6 });
    for (let e = -12; e <= 24; e++) {
      for (const m of [1, -1, 1.005, 2.675, 3.14159, 9.999, -7.25, 0.5]) {
        const v = m * 10 ** e;
        const r = Math.abs(v) >= 100 ? Math.round(v) : Math.abs(v) >= 10 ? Math.round(v * 10) / 10 : Math.round(v * 100) / 100;
        assert.equal(round(v), locale(r === 0 ? 0 : r), `round(${v})`);
        const a = Math.abs(v);
        if (a >= 1e-6 && a < 1000) assert.equal(formatNumber(v), locale(a >= 0.01 ? Math.round(v * 1000) / 1000 : Number(v.toPrecision(3))), `formatNumber(${v})`);
        const p = Math.abs(v * 100);
        if (p >= 0.01) assert.equal(pct(v), `${locale(p >= 10 ? Math.round(v * 100) : p >= 1 ? Math.round(v * 1000) / 10 : Number((v * 100).toPrecision(1)))}%`, `pct(${v})`);
      }
    }
  });

  it('says durations in ms, s, min and h', () => {
    assert.equal(formatDurationMs(850), '850 ms');
    assert.equal(formatDurationMs(14_200), '14 s');
    assert.equal(formatDurationMs(125_000), '2 min 5 s');
    assert.equal(formatDurationMs(3 * 3600_000 + 20 * 60_000), '3 h 20 min');
  });
});
