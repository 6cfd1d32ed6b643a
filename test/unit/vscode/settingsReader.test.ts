import assert from 'node:assert/strict';
import Module from 'node:module';
import { DEFAULT_SETTINGS } from '../../../src/core/settings';
import type * as Reader from '../../../src/vscode/settingsReader';

/** The reader with a fake 'vscode': configuration values from `values`, warnings recorded, change events fired by hand. */
function loadReader(values: Record<string, unknown>) {
  const warnings: string[] = [];
  const listeners: Array<(e: { affectsConfiguration(section: string): boolean }) => void> = [];
  const api = {
    window: {
      showWarningMessage: async (m: string) => {
        warnings.push(m);
        return undefined;
      },
    },
    commands: { executeCommand: async () => undefined },
    workspace: {
      getConfiguration: (section: string) => ({ get: (key: string) => (section === 'vigil' ? values[key] : undefined) }),
      onDidChangeConfiguration: (l: (e: { affectsConfiguration(section: string): boolean }) => void) => {
        listeners.push(l);
        return { dispose: () => undefined };
      },
    },
  };
  const mod = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
  const original = mod._load;
  mod._load = function (request: string, ...rest: unknown[]) {
    return request === 'vscode' ? api : original.call(this, request, ...rest);
  };
  try {
    const file = require.resolve('../../../src/vscode/settingsReader');
    delete require.cache[file];
    const reader = require(file) as typeof Reader;
    const change = (section: string) => listeners.forEach((l) => l({ affectsConfiguration: (s) => section === s || section.startsWith(`${s}.`) }));
    return { reader, warnings, change };
  } finally {
    mod._load = original;
  }
}

describe('VS Code settings reader', () => {
  it('reads every contributed vigil.* key into VigilSettings', () => {
    const { reader } = loadReader({ 'safety.deniedNamespaces': ['prod'], 'safety.dryRun': true, 'automation.mode': 'auto', 'kubernetes.namespaces': ['shop'], 'model.enabled': false });
    const { settings, problems } = reader.currentVigilSettings();
    assert.deepEqual(problems, []);
    assert.deepEqual(settings.safety.deniedNamespaces, ['prod']);
    assert.equal(settings.safety.dryRun, true);
    assert.equal(settings.automation.mode, 'auto');
    assert.deepEqual(settings.kubernetes.namespaces, ['shop']);
    assert.equal(settings.model.enabled, false);
    assert.deepEqual(settings.agent, DEFAULT_SETTINGS.agent);
  });

  it('warns naming the key, the value, the fix and the default kept', () => {
    const { reader, warnings } = loadReader({ 'safety.maxBlastRadiusPercent': 150, 'automation.mode': 'auto' });
    const { settings, problems } = reader.currentVigilSettings();
    assert.equal(settings.safety.maxBlastRadiusPercent, 34);
    assert.equal(settings.automation.mode, 'auto');
    reader.warnAboutSettings(problems);
    assert.deepEqual(warnings, ['Vigil: vigil.safety.maxBlastRadiusPercent is 150; use a number from 1 to 100 (using the default, 34)']);
  });

  it('re-reads all settings when any vigil.* setting changes', () => {
    const values: Record<string, unknown> = { 'automation.mode': 'suggest' };
    const { reader, change } = loadReader(values);
    const seen: string[] = [];
    reader.onDidChangeVigilSettings(({ settings }) => seen.push(`${settings.automation.mode} ${settings.safety.dryRun}`));
    values['automation.mode'] = 'auto';
    values['safety.dryRun'] = true;
    change('vigil.safety.dryRun');
    change('editor.fontSize');
    assert.deepEqual(seen, ['auto true']);
  });
});
