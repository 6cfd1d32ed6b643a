import assert from 'node:assert/strict';
import { DEFAULT_SETTINGS } from '../../../src/core/settings';
import { parseSettings, SETTINGS_SCHEMA, validateSettings } from '../../../src/core/settingsSchema';

const messages = (raw: unknown) => validateSettings(raw, 'test').problems.map((p) => p.message);

/** Leaves of DEFAULT_SETTINGS at the table's granularity: objects are sections unless empty (maps) or under safety's lists. */
function leaves(o: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) => {
    const key = prefix ? `${prefix}.${k}` : k;
    return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length ? leaves(v as Record<string, unknown>, key) : [key];
  });
}

describe('settings schema', () => {
  it('has exactly one entry per field of VigilSettings, with its default from DEFAULT_SETTINGS', () => {
    assert.deepEqual(SETTINGS_SCHEMA.map((d) => d.key).sort(), leaves(DEFAULT_SETTINGS as unknown as Record<string, unknown>).sort());
    assert.equal(SETTINGS_SCHEMA.filter((d) => d.key.startsWith('safety.')).length, 12);
    for (const d of SETTINGS_SCHEMA) assert.ok(d.description || d.markdownDescription, `${d.key} has a description`);
  });

  it('gives the defaults for nothing, and keeps good values', () => {
    assert.deepEqual(validateSettings(undefined, 'test'), { settings: DEFAULT_SETTINGS, problems: [] });
    const s = parseSettings({ safety: { deniedNamespaces: ['shop'], maxBlastRadiusPercent: 50 }, automation: { mode: 'auto', namespaceModes: { prod: 'suggest' } } }, 'test');
    assert.deepEqual(s.safety.deniedNamespaces, ['shop']);
    assert.equal(s.safety.maxBlastRadiusPercent, 50);
    assert.equal(s.safety.cooldownSeconds, DEFAULT_SETTINGS.safety.cooldownSeconds);
    assert.equal(s.automation.mode, 'auto');
    assert.deepEqual(s.automation.namespaceModes, { prod: 'suggest' });
  });

  it('names the key, the bad value and the fix; a bad key keeps its default', () => {
    const r = validateSettings({ safety: { maxBlastRadiusPercent: 150, dryRun: true } }, 'test');
    assert.deepEqual(r.problems.map((p) => p.message), ['safety.maxBlastRadiusPercent is 150; use a number from 1 to 100']);
    assert.equal(r.settings.safety.maxBlastRadiusPercent, 34);
    assert.equal(r.settings.safety.dryRun, true);
    assert.deepEqual(messages({ automation: { mode: 'yolo' } }), ['automation.mode is "yolo"; use one of "off", "suggest", "auto"']);
    assert.deepEqual(messages({ safety: { circuitBreakerFailures: 1.5 } }), ['safety.circuitBreakerFailures is 1.5; use a whole number ≥ 1']);
    assert.deepEqual(messages({ safety: { dryRun: 'yes' } }), ['safety.dryRun is "yes"; use true or false']);
    assert.deepEqual(messages({ automation: { namespaceModes: { prod: 'always' } } }), ['automation.namespaceModes.prod is "always"; use one of "off", "suggest", "auto"']);
    assert.throws(() => parseSettings({ safety: { maxActionsPerHour: -1 } }, 'my source'), /^SettingsError: my source: safety.maxActionsPerHour is -1; use a whole number ≥ 0$/m);
  });

  it('names unknown keys, with the nearest real one', () => {
    assert.deepEqual(messages({ safety: { deniedNamespace: ['x'] } }), ['safety.deniedNamespace is not a setting; did you mean safety.deniedNamespaces?']);
    assert.deepEqual(messages({ vigil: { safety: {} } }), ['vigil is not a setting; write the keys without the vigil. prefix, e.g. {safety: {dryRun: true}}']);
  });

  it('checks maintenance windows with the gate’s own parser', () => {
    assert.deepEqual(messages({ safety: { maintenanceWindows: ['Sun 02:00-04:00', '* 23:00-23:30'] } }), []);
    assert.deepEqual(messages({ safety: { maintenanceWindows: ['Sunday 2am'] } }), ['safety.maintenanceWindows[0] is "Sunday 2am"; use "DAY HH:MM-HH:MM" in UTC, DAY one of Mon..Sun or *, e.g. "Sun 02:00-04:00"']);
    assert.equal(messages({ safety: { maintenanceWindows: ['Mon 25:00-26:00'] } }).length, 1);
  });

  it('checks log patterns compile and log services name workloads', () => {
    assert.deepEqual(messages({ logs: { services: ['shop/checkout', '*'], patterns: [{ name: 'oom', pattern: 'OOMKilled' }] } }), []);
    assert.match(messages({ logs: { patterns: [{ name: 'bad', pattern: '(unclosed' }] } })[0], /^logs\.patterns\[0\]\.pattern is "\(unclosed"; use a valid regular expression/);
    assert.deepEqual(messages({ logs: { services: ['checkout'] } }), ['logs.services[0] is "checkout"; use namespace/workload, e.g. "shop/checkout", or * for every watched workload']);
    assert.match(messages({ logs: { patterns: [{ name: 'x' }] } })[0], /^logs\.patterns\[0\]\.pattern is missing; add it/);
  });

  it('checks probes: url xor service, method, status, body regex, latency budget; fills step defaults', () => {
    const journey = {
      name: 'checkout journey',
      target: 'shop/frontend',
      steps: [
        { name: 'list products', service: 'shop/frontend:8080', path: '/api/products' },
        { name: 'check out', url: 'http://frontend.shop.svc:8080/api/checkout', method: 'POST', body: '{}', expectStatus: [200, 201], expectBody: '"ok":\\s*true', latencyBudgetMs: 800 },
      ],
    };
    const s = parseSettings({ probes: [journey] }, 'test');
    assert.deepEqual(s.probes[0].steps[0], { name: 'list products', url: '', service: 'shop/frontend:8080', path: '/api/products', method: 'GET', body: '', expectStatus: [200], expectBody: '', latencyBudgetMs: 1000 });
    assert.equal(s.probes[0].intervalSeconds, 15);
    const bad = (step: Record<string, unknown>) => messages({ probes: [{ ...journey, steps: [step] }] });
    assert.deepEqual(bad({ url: 'http://a/', service: 'shop/a:80' }), ['probes[0].steps[0] is {"url":"http://a/","service":"shop/a:80"}; use exactly one of url (a full URL) or service (namespace/name:port) in each step']);
    assert.deepEqual(bad({}), ['probes[0].steps[0] is {}; use exactly one of url (a full URL) or service (namespace/name:port) in each step']);
    assert.deepEqual(bad({ service: 'frontend' }), ['probes[0].steps[0].service is "frontend"; use namespace/name:port, e.g. "shop/frontend:8080"']);
    assert.deepEqual(bad({ url: 'ftp://x' }), ['probes[0].steps[0].url is "ftp://x"; use an http:// or https:// URL, e.g. http://checkout.shop.svc:8080/healthz']);
    assert.deepEqual(bad({ url: 'http://a/', method: 'PATCH' }), ['probes[0].steps[0].method is "PATCH"; use one of "GET", "HEAD", "POST", "PUT", "DELETE"']);
    assert.deepEqual(bad({ url: 'http://a/', expectStatus: [700] }), ['probes[0].steps[0].expectStatus[0] is 700; use a whole number from 100 to 599']);
    assert.match(bad({ url: 'http://a/', expectBody: '[' })[0], /^probes\[0\]\.steps\[0\]\.expectBody is "\["; use a valid regular expression/);
    assert.deepEqual(bad({ url: 'http://a/', latencyBudgetMs: 0 }), ['probes[0].steps[0].latencyBudgetMs is 0; use a number ≥ 1']);
    assert.deepEqual(bad({ url: 'http://a/', header: 'x' }), ['probes[0].steps[0].header is not a setting; use one of name, url, service, path, method, body, expectStatus, expectBody, latencyBudgetMs']);
    assert.deepEqual(messages({ probes: [{ ...journey, steps: [] }] }), ['probes[0].steps is []; use a list of at least 1']);
    assert.deepEqual(messages({ probes: [{ ...journey, target: 'frontend' }] }), ['probes[0].target is "frontend"; use namespace/workload, e.g. "shop/frontend"']);
  });

  it('refuses credentials in the Prometheus URL', () => {
    assert.match(messages({ prometheus: { url: 'http://u:p@prom:9090' } })[0], /^prometheus\.url is "http:\/\/u:p@prom:9090"; use a URL without credentials; put them in VIGIL_PROMETHEUS_USERNAME/);
  });
});
