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

  it('says durations in ms, s, min and h', () => {
    assert.equal(formatDurationMs(850), '850 ms');
    assert.equal(formatDurationMs(14_200), '14 s');
    assert.equal(formatDurationMs(125_000), '2 min 5 s');
    assert.equal(formatDurationMs(3 * 3600_000 + 20 * 60_000), '3 h 20 min');
  });
});
