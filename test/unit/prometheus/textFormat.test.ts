import assert from 'node:assert/strict';
import { parseTextFormat, TextFormatError } from '../../../src/infra/prometheus/textFormat';

describe('Prometheus text format parser', () => {
  it('reads HELP/TYPE, counters, gauges and timestamps', () => {
    const text = [
      '# HELP http_requests_total The total number of HTTP requests.',
      '# TYPE http_requests_total counter',
      'http_requests_total{method="post",code="200"} 1027 1395066363000',
      'http_requests_total{method="post",code="400"}    3 1395066363000',
      '',
      '# a free comment',
      '# TYPE temperature gauge',
      'temperature -3.5e2',
    ].join('\n');
    const e = parseTextFormat(text);
    assert.equal(e.types.get('http_requests_total'), 'counter');
    assert.equal(e.types.get('temperature'), 'gauge');
    assert.equal(e.help.get('http_requests_total'), 'The total number of HTTP requests.');
    assert.deepEqual(e.samples, [
      { name: 'http_requests_total', labels: { method: 'post', code: '200' }, value: 1027, timestampMs: 1395066363000 },
      { name: 'http_requests_total', labels: { method: 'post', code: '400' }, value: 3, timestampMs: 1395066363000 },
      { name: 'temperature', labels: {}, value: -350 },
    ]);
  });

  it('unescapes backslash, quote and newline in label values', () => {
    const e = parseTextFormat('msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9\n');
    assert.equal(e.samples[0].labels.path, 'C:\\DIR\\FILE.TXT');
    assert.equal(e.samples[0].labels.error, 'Cannot find file:\n"FILE.TXT"');
    assert.equal(e.samples[0].value, 1458255915);
  });

  it('keeps commas, braces and spaces inside quoted values', () => {
    const e = parseTextFormat('m{a="x,y}",b=" z "} 1\n');
    assert.deepEqual(e.samples[0].labels, { a: 'x,y}', b: ' z ' });
  });

  it('reads NaN, +Inf and -Inf values and a trailing comma in labels', () => {
    const e = parseTextFormat('a NaN\nb{x="1",} +Inf\nc -Inf\n');
    assert.ok(Number.isNaN(e.samples[0].value));
    assert.equal(e.samples[1].value, Infinity);
    assert.deepEqual(e.samples[1].labels, { x: '1' });
    assert.equal(e.samples[2].value, -Infinity);
  });

  it('reads a histogram and a summary with all their series', () => {
    const text = [
      '# TYPE http_request_duration_seconds histogram',
      'http_request_duration_seconds_bucket{le="0.05"} 24054',
      'http_request_duration_seconds_bucket{le="0.1"} 33444',
      'http_request_duration_seconds_bucket{le="+Inf"} 144320',
      'http_request_duration_seconds_sum 53423',
      'http_request_duration_seconds_count 144320',
      '# TYPE rpc_duration_seconds summary',
      'rpc_duration_seconds{quantile="0.5"} 4773',
      'rpc_duration_seconds{quantile="0.99"} 76656',
      'rpc_duration_seconds_sum 1.7560473e+07',
      'rpc_duration_seconds_count 2693',
    ].join('\r\n');
    const e = parseTextFormat(text);
    assert.equal(e.types.get('http_request_duration_seconds'), 'histogram');
    assert.equal(e.types.get('rpc_duration_seconds'), 'summary');
    const buckets = e.samples.filter((s) => s.name === 'http_request_duration_seconds_bucket');
    assert.deepEqual(buckets.map((b) => b.labels.le), ['0.05', '0.1', '+Inf']);
    assert.equal(buckets[2].value, 144320);
    assert.equal(e.samples.find((s) => s.name === 'rpc_duration_seconds' && s.labels.quantile === '0.99')?.value, 76656);
    assert.equal(e.samples.find((s) => s.name === 'rpc_duration_seconds_sum')?.value, 17560473);
  });

  it('names the source and line of a malformed sample', () => {
    assert.throws(() => parseTextFormat('ok 1\nbad{a="1" 2\n', 'pod shop/a'), (err: unknown) => err instanceof TextFormatError && err.line === 2 && /pod shop\/a: line 2/.test(err.message));
    assert.throws(() => parseTextFormat('x{a="\\q"} 1\n'), /invalid escape/);
    assert.throws(() => parseTextFormat('x abc\n'), /invalid value "abc"/);
    assert.throws(() => parseTextFormat('x 1 1.5\n'), /invalid timestamp/);
    assert.throws(() => parseTextFormat('# TYPE x countr\n'), /unknown metric type "countr"/);
    assert.throws(() => parseTextFormat('x{a="1",a="2"} 1\n'), /duplicate label a/);
  });
});
