import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DEFAULT_SETTINGS } from '../../../src/core/settings';
import { SETTINGS_SCHEMA } from '../../../src/core/settingsSchema';
import { formatEffectiveSettings, parseSettingsFile, resolveAgentSettings } from '../../../src/infra/settingsFile';

const FILE = '/etc/vigil/vigil.yaml';
const YAML_TEXT = `# the agent's settings
automation:
  mode: auto
safety:
  deniedNamespaces: [shop]
  dryRun: true
prometheus:
  url: http://prometheus.monitoring:9090
  scrapeIntervalSeconds: 30
`;

const errorOf = (f: () => unknown): string => {
  try {
    f();
  } catch (err) {
    return (err as Error).message;
  }
  return assert.fail('expected an error');
};

describe('agent settings file', () => {
  it('reads the nested keys and knows their lines', () => {
    const file = parseSettingsFile(YAML_TEXT, FILE);
    assert.deepEqual([...file.values.keys()].sort(), ['automation.mode', 'prometheus.scrapeIntervalSeconds', 'prometheus.url', 'safety.deniedNamespaces', 'safety.dryRun']);
    assert.deepEqual(file.values.get('safety.deniedNamespaces'), ['shop']);
    assert.equal(file.lineOf(['safety', 'deniedNamespaces']), 5);
    assert.equal(file.lineOf(['automation', 'mode']), 3);
  });

  it('an empty file is no settings', () => {
    assert.equal(parseSettingsFile('', FILE).values.size, 0);
    assert.equal(parseSettingsFile('# nothing yet\n', FILE).values.size, 0);
  });

  it('names file:line of an unknown key, with the nearest real one', () => {
    const msg = errorOf(() => parseSettingsFile('safety:\n  dryRun: true\n  deniedNamespace: [shop]\n', FILE));
    assert.match(msg, /\/etc\/vigil\/vigil\.yaml:3: unknown key safety\.deniedNamespace; did you mean safety\.deniedNamespaces\?/);
    assert.match(errorOf(() => parseSettingsFile('vigil:\n  safety: {}\n', FILE)), /vigil\.yaml:1: vigil is not a setting; write the keys without the vigil\. prefix/);
    assert.match(errorOf(() => parseSettingsFile('safety: true\n', FILE)), /vigil\.yaml:1: safety is a section; write its settings under it \(dryRun, approvalRequiredForRisk/);
    assert.match(errorOf(() => parseSettingsFile('- a\n- b\n', FILE)), /vigil\.yaml:1: the file is a list/);
    assert.match(errorOf(() => parseSettingsFile('safety:\n  dryRun: [unclosed\n', FILE)), /vigil\.yaml:\d+: .*fix the YAML/);
  });

  it('refuses secrets, naming file:line and where secrets go', () => {
    const msg = errorOf(() => parseSettingsFile('prometheus:\n  url: http://p:9090\n  token: abc\nnotify:\n  slackWebhookUrl: https://hooks.slack.com/x\n  pagerdutyRoutingKey: k\n', FILE));
    assert.match(msg, /vigil\.yaml:3: token looks like a secret; secrets are never read from the settings file; set VIGIL_PROMETHEUS_TOKEN/);
    assert.match(msg, /vigil\.yaml:5: slackWebhookUrl looks like a secret; .*VIGIL_SLACK_WEBHOOK_URL/);
    assert.match(msg, /vigil\.yaml:6: pagerdutyRoutingKey looks like a secret; .*VIGIL_PAGERDUTY_ROUTING_KEY .*Kubernetes Secret/);
    assert.match(errorOf(() => parseSettingsFile('probes:\n  - name: a\n    apiKey: x\n', FILE)), /vigil\.yaml:3: apiKey looks like a secret/);
  });

  it('names file:line of a bad value when resolving', () => {
    const file = parseSettingsFile('safety:\n  dryRun: true\n  maxBlastRadiusPercent: 150\nautomation:\n  mode: off\n', FILE);
    const msg = errorOf(() => resolveAgentSettings({ flags: {}, env: {}, file }));
    assert.match(msg, /\/etc\/vigil\/vigil\.yaml:3: safety\.maxBlastRadiusPercent is 150; use a number from 1 to 100/);
    // YAML 1.2: `off` is the string, as the mode wants
    assert.equal(resolveAgentSettings({ flags: {}, env: {}, file: parseSettingsFile('automation:\n  mode: off\n', FILE) }).settings.automation.mode, 'off');
    const probe = parseSettingsFile('probes:\n  - name: shop\n    target: shop/frontend\n    steps:\n      - url: http://a/\n        expectStatus: [999]\n', FILE);
    assert.match(errorOf(() => resolveAgentSettings({ flags: {}, env: {}, file: probe })), /vigil\.yaml:6: probes\[0\]\.steps\[0\]\.expectStatus\[0\] is 999; use a whole number from 100 to 599/);
  });

  it('precedence: flag > VIGIL_* environment > file > default, with the source of each', () => {
    const file = parseSettingsFile(YAML_TEXT, FILE);
    const r = resolveAgentSettings({
      flags: { mode: 'off', namespace: ['shop', 'pay'] },
      env: { VIGIL_MODE: 'suggest', VIGIL_PROMETHEUS_URL: 'http://other:9090', VIGIL_DRY_RUN: 'off', VIGIL_MODEL: 'off', VIGIL_STATE_DIR: '/var/lib/vigil' },
      file,
    });
    assert.equal(r.settings.automation.mode, 'off');
    assert.equal(r.sources['automation.mode'], 'flag --mode');
    assert.equal(r.settings.prometheus.url, 'http://other:9090');
    assert.equal(r.sources['prometheus.url'], 'env VIGIL_PROMETHEUS_URL');
    assert.equal(r.settings.safety.dryRun, false);
    assert.equal(r.sources['safety.dryRun'], 'env VIGIL_DRY_RUN');
    assert.equal(r.settings.model.enabled, false);
    assert.deepEqual(r.settings.safety.deniedNamespaces, ['shop']);
    assert.equal(r.sources['safety.deniedNamespaces'], `file ${FILE}:5`);
    assert.equal(r.settings.prometheus.scrapeIntervalSeconds, 30);
    assert.deepEqual(r.settings.kubernetes.namespaces, ['shop', 'pay']);
    assert.equal(r.sources['kubernetes.namespaces'], 'flag --namespace');
    assert.equal(r.settings.agent.stateDir, '/var/lib/vigil');
    assert.equal(r.settings.safety.cooldownSeconds, DEFAULT_SETTINGS.safety.cooldownSeconds);
    assert.equal(r.sources['safety.cooldownSeconds'], 'default');
    assert.deepEqual(Object.keys(r.sources).sort(), SETTINGS_SCHEMA.map((d) => d.key).sort());
  });

  it('reads environment lists, numbers and booleans, and names a bad one with its variable', () => {
    const r = resolveAgentSettings({ flags: { 'dry-run': true, 'deny-namespace': ['kube-system', 'prod'] }, env: { VIGIL_NAMESPACES: 'shop, pay', VIGIL_INTERVAL_SECONDS: '5' }, file: undefined });
    assert.deepEqual(r.settings.kubernetes.namespaces, ['shop', 'pay']);
    assert.equal(r.settings.prometheus.scrapeIntervalSeconds, 5);
    assert.equal(r.settings.safety.dryRun, true);
    assert.deepEqual(r.settings.safety.deniedNamespaces, ['kube-system', 'prod']);
    assert.match(errorOf(() => resolveAgentSettings({ flags: {}, env: { VIGIL_INTERVAL_SECONDS: 'fast' } })), /prometheus\.scrapeIntervalSeconds is "fast"; use a number from 1 to 300 \(from env VIGIL_INTERVAL_SECONDS\)/);
    assert.match(errorOf(() => resolveAgentSettings({ flags: { mode: 'yolo' }, env: {} })), /automation\.mode is "yolo"; use one of "off", "suggest", "auto" \(from flag --mode\)/);
    assert.match(errorOf(() => resolveAgentSettings({ flags: {}, env: { VIGIL_MODEL: 'maybe' } })), /model\.enabled is "maybe"; use true or false \(from env VIGIL_MODEL\)/);
  });

  it('--print-config: one line per key with its value and where it came from; secrets only as set/unset', () => {
    const r = resolveAgentSettings({ flags: { mode: 'auto' }, env: { VIGIL_STATE_DIR: '/var/lib/vigil' }, file: parseSettingsFile(YAML_TEXT, FILE) });
    const out = formatEffectiveSettings(r, { VIGIL_PROMETHEUS_TOKEN: 's3cret' });
    const lines = out.trimEnd().split('\n');
    assert.equal(lines.length, SETTINGS_SCHEMA.length + 1);
    assert.match(out, /^safety\.deniedNamespaces = \["shop"\] +\(file \/etc\/vigil\/vigil\.yaml:5\)$/m);
    assert.match(out, /^automation\.mode = "auto" +\(flag --mode\)$/m);
    assert.match(out, /^agent\.stateDir = "\/var\/lib\/vigil" +\(env VIGIL_STATE_DIR\)$/m);
    assert.match(out, /^safety\.leaseName = "vigil-copilot" +\(default\)$/m);
    assert.match(out, /VIGIL_PROMETHEUS_TOKEN set, /);
    assert.doesNotMatch(out, /s3cret/);
  });
});

describe('config/vigil.example.yaml', () => {
  it('is valid, sets every section, and has no secrets', () => {
    const file = parseSettingsFile(readFileSync('config/vigil.example.yaml', 'utf8'), 'config/vigil.example.yaml');
    const { settings } = resolveAgentSettings({ flags: {}, env: {}, file });
    assert.deepEqual(SETTINGS_SCHEMA.map((d) => d.key).filter((k) => !file.values.has(k)), [], 'the example shows every key');
    assert.equal(settings.probes[0].steps.length, 3);
    assert.equal(settings.probes[1].steps[0].method, 'GET');
  });
});
