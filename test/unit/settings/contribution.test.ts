import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SETTINGS_SCHEMA, vscodeConfigurationProperties } from '../../../src/core/settingsSchema';

/** package.json's contributed settings are generated from the settings table: `npm run settings:generate`. */
describe('contributed settings', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { vscode: string }; contributes: { configuration: { title: string; properties: Record<string, unknown> } } };
  const contributed = pkg.contributes.configuration.properties;
  const table = vscodeConfigurationProperties();

  it('are exactly the keys of VigilSettings the extension reads (agent-only keys excluded)', () => {
    const extra = Object.keys(contributed).filter((k) => !(k in table));
    const missing = Object.keys(table).filter((k) => !(k in contributed));
    assert.deepEqual(extra, [], `contributed in package.json but not a field of VigilSettings: ${extra.join(', ')}; remove them or add them to src/core/settingsSchema.ts, then run npm run settings:generate`);
    assert.deepEqual(missing, [], `in the settings table but not contributed: ${missing.join(', ')}; run npm run settings:generate`);
    assert.ok(Object.keys(contributed).every((k) => /^vigil\.[a-z]+(\.[a-zA-Z]+)?$/.test(k)));
    assert.ok(SETTINGS_SCHEMA.filter((d) => d.key.startsWith('agent.')).every((d) => d.agentOnly && !(`vigil.${d.key}` in contributed)));
  });

  it('match the table in type, default, wording and limits', () => {
    for (const key of Object.keys(table)) assert.deepEqual(contributed[key], table[key], `${key} differs from the settings table; run npm run settings:generate`);
    assert.equal(pkg.contributes.configuration.title, 'Vigil');
    assert.equal(pkg.engines.vscode, '^1.100.0');
  });

  it('keep the ids users already have in their settings.json', () => {
    const kept = ['vigil.kubernetes.context', 'vigil.kubernetes.kubeconfig', 'vigil.kubernetes.namespaces', 'vigil.prometheus.url', 'vigil.prometheus.scrapeIntervalSeconds', 'vigil.automation.mode'];
    for (const k of kept) assert.ok(k in contributed, k);
    assert.equal(Object.keys(contributed).filter((k) => k.startsWith('vigil.safety.')).length, 12);
  });
});
