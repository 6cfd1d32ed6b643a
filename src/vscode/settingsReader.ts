/**
 * The VS Code side of VigilSettings: `vigil.*` read and validated by the same table as the agent's file,
 * problems shown as one warning naming the key, and a hook that re-reads everything on change.
 */
import * as vscode from 'vscode';
import type { VigilSettings } from '../core/settings';
import { SETTINGS_SCHEMA, setValueAt, showValue, validateSettings, type SettingProblem } from '../core/settingsSchema';
import { SETTING } from './ids';

/** The part of vscode.WorkspaceConfiguration the reader needs (the `vigil` section). */
export interface ConfigurationLike {
  get<T>(key: string): T | undefined;
}

export interface ReadSettings {
  readonly settings: VigilSettings;
  readonly problems: ReadonlyArray<SettingProblem>;
}

/** Every contributed `vigil.*` key → VigilSettings; agent-only keys keep their defaults. A bad value keeps its default. */
export function readVigilSettings(config: ConfigurationLike): ReadSettings {
  const raw: Record<string, unknown> = {};
  for (const d of SETTINGS_SCHEMA) {
    if (d.agentOnly) continue;
    const v = config.get<unknown>(d.key);
    if (v !== undefined && v !== null) setValueAt(raw, d.key, v);
  }
  return validateSettings(raw, 'VS Code settings');
}

/** `vigil.safety.maxBlastRadiusPercent is 150; use a number from 1 to 100 (using the default, 34)`. */
export function describeProblem(p: SettingProblem): string {
  const d = SETTINGS_SCHEMA.find((x) => x.key === p.key);
  return `vigil.${p.message}${d ? ` (using the default, ${showValue(d.default)})` : ''}`;
}

export function currentVigilSettings(): ReadSettings {
  return readVigilSettings(vscode.workspace.getConfiguration(SETTING.section));
}

/** One warning for all problems, with a button to the first bad setting. */
export function warnAboutSettings(problems: ReadonlyArray<SettingProblem>): void {
  if (!problems.length) return;
  const text = problems.length === 1 ? describeProblem(problems[0]) : `${problems.length} settings are invalid: ${problems.map(describeProblem).join('; ')}`;
  void vscode.window.showWarningMessage(`Vigil: ${text}`, 'Open Settings').then((choice) => {
    if (choice) void vscode.commands.executeCommand('workbench.action.openSettings', `vigil.${problems[0].key}`);
  });
}

/** Calls `listener` with all settings, re-read and validated, whenever any `vigil.*` setting changes. */
export function onDidChangeVigilSettings(listener: (read: ReadSettings) => void): vscode.Disposable {
  return vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration(SETTING.section)) listener(currentVigilSettings());
  });
}
