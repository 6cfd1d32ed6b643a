import assert from 'node:assert/strict';
import { parseProbeSpecs } from '../../../src/core/observe/probeSpec';
import { compileLogPatterns, matchLogLine, splitTimestamp } from '../../../src/core/observe/logPatterns';

describe('probe specs', () => {
  it('reads a probe with defaults', () => {
    const [p] = parseProbeSpecs({ probes: [{ service: 'shop/checkout', url: 'http://checkout.shop:8080/healthz' }] }, 'probes.yaml');
    assert.deepEqual(p, { target: { kind: 'service', namespace: 'shop', name: 'checkout' }, url: 'http://checkout.shop:8080/healthz', method: 'GET', expectStatus: [200], latencyBudgetMs: 1000, intervalMs: 15_000, timeoutMs: 10_000 });
  });

  it('names the entry and field of bad input', () => {
    const bad = (o: Record<string, unknown>) => () => parseProbeSpecs({ probes: [{ service: 'shop/a', url: 'http://a/', ...o }] }, 'p.yaml');
    assert.throws(bad({ service: 'checkout' }), /p\.yaml: probes\[0\]\.service: write it as namespace\/deployment/);
    assert.throws(bad({ url: 'checkout:80' }), /probes\[0\]\.url: only http and https/);
    assert.throws(bad({ url: 'not a url' }), /probes\[0\]\.url: "not a url" is not a URL/);
    assert.throws(bad({ method: 'DELETE' }), /probes\[0\]\.method: "DELETE" must be GET, HEAD or POST/);
    assert.throws(bad({ expectStatus: [200, 'ok'] }), /probes\[0\]\.expectStatus/);
    assert.throws(bad({ intervalSeconds: 0 }), /probes\[0\]\.intervalSeconds: must be a number ≥ 1/);
  });
});

describe('log patterns', () => {
  it('matches the most specific pattern first and names a bad regex', () => {
    const ps = compileLogPatterns();
    assert.equal(matchLogLine('java.lang.OutOfMemoryError: Java heap space', ps), 'oom');
    assert.equal(matchLogLine('Unhandled exception in handler', ps), 'exception');
    assert.equal(matchLogLine('upstream request timed out after 5s', ps), 'timeout');
    assert.equal(matchLogLine('2026 ERROR db pool exhausted', ps), 'error');
    assert.equal(matchLogLine('INFO GET /healthz 200', ps), undefined);
    assert.throws(() => compileLogPatterns([{ name: 'x', pattern: '(' }]), /Log pattern "x" is not a valid regular expression/);
  });

  it('splits kubectl --timestamps lines', () => {
    assert.deepEqual(splitTimestamp('2026-11-23T19:46:43.046Z INFO  listening', 5), { t: Date.parse('2026-11-23T19:46:43.046Z'), text: 'INFO  listening' });
    assert.deepEqual(splitTimestamp('no timestamp here', 5), { t: 5, text: 'no timestamp here' });
  });
});
