import assert from 'node:assert/strict';
import { PROBE_STEP_DEFAULTS, probeJourneys } from '../../../src/core/observe/probeSpec';
import { compileLogPatterns, matchLogLine, splitTimestamp } from '../../../src/core/observe/logPatterns';
import type { ProbeSettings } from '../../../src/core/settings';

const probe = (over: Partial<ProbeSettings> = {}): ProbeSettings => ({
  name: 'shop journey',
  target: 'shop/frontend',
  intervalSeconds: 15,
  timeoutMs: 5000,
  steps: [
    { ...PROBE_STEP_DEFAULTS, name: 'list products', service: 'shop/frontend:8080', path: '/products', expectBody: '"products"' },
    { ...PROBE_STEP_DEFAULTS, name: 'health', url: 'http://shop.example.com/healthz', method: 'HEAD' },
  ],
  ...over,
});

describe('probe journeys from settings', () => {
  it('resolves targets and endpoints', () => {
    const [j] = probeJourneys([probe()]);
    assert.deepEqual(j.target, { kind: 'service', namespace: 'shop', name: 'frontend' });
    assert.equal(j.intervalMs, 15_000);
    assert.deepEqual(j.steps[0].endpoint, { kind: 'service', namespace: 'shop', name: 'frontend', port: '8080', path: '/products' });
    assert.ok(j.steps[0].expectBody?.test('{"products":[]}'));
    assert.deepEqual(j.steps[1].endpoint, { kind: 'url', url: 'http://shop.example.com/healthz' });
    assert.equal(j.steps[1].method, 'HEAD');
  });

  it('names the probe, the step and the field of bad input', () => {
    const step = (o: Record<string, unknown>) => () => probeJourneys([probe({ steps: [{ ...PROBE_STEP_DEFAULTS, name: 's', url: 'http://a/', ...o }] })], 'vigil.yaml: probes');
    assert.throws(step({ url: '', service: 'frontend' }), /vigil\.yaml: probes\[0\]\.steps\[0\]\.service: "frontend" is not namespace\/name:port/);
    assert.throws(step({ service: 'shop/a:80' }), /probes\[0\]\.steps\[0\]: set either url or service, not both/);
    assert.throws(step({ url: '' }), /probes\[0\]\.steps\[0\]: set url .* or service/);
    assert.throws(step({ url: 'checkout:80' }), /steps\[0\]\.url: only http and https/);
    assert.throws(step({ url: 'not a url' }), /steps\[0\]\.url: "not a url" is not a URL/);
    assert.throws(step({ method: 'PATCH' }), /steps\[0\]\.method: "PATCH" must be GET, HEAD, POST, PUT or DELETE/);
    assert.throws(step({ expectStatus: [200, 999] }), /steps\[0\]\.expectStatus/);
    assert.throws(step({ expectBody: '(' }), /steps\[0\]\.expectBody: not a valid regular expression/);
    assert.throws(step({ url: '', service: 'shop/a:80', path: 'cart' }), /steps\[0\]\.path: "cart" must start with \//);
    assert.throws(() => probeJourneys([probe({ target: 'frontend' })]), /probes\[0\]\.target: "frontend" is not namespace\/workload/);
    assert.throws(() => probeJourneys([probe({ steps: [] })]), /probes\[0\]\.steps: a probe needs at least one step/);
    assert.throws(() => probeJourneys([probe({ intervalSeconds: 0 })]), /probes\[0\]\.intervalSeconds: must be at least 1/);
    assert.throws(() => probeJourneys([probe(), probe()]), /probes\[1\]\.name: "shop journey" is used by another probe/);
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
