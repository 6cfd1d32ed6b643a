/**
 * The agent's settings: a YAML file (`--config FILE` or VIGIL_CONFIG) nested like the VS Code keys without
 * `vigil.`, `VIGIL_*` environment variables and flags. Precedence: flag > environment > file > default.
 * Validation is the table's (core/settingsSchema); this module adds where each value came from.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import type { VigilSettings } from '../core/settings';
import { nearestKey, SETTINGS_SCHEMA, SettingsError, setValueAt, settingDescriptor, validateSettings, valueAt, type SettingDescriptor } from '../core/settingsSchema';

/** Keys that hold secrets: refused in the file, whatever section they are in. */
const SECRET_KEY = /(token|password|passwd|secret|webhook|routing[-_]?key|api[-_]?key|credential|private[-_]?key)/i;

const SECRET_FIX = 'secrets are never read from the settings file; set VIGIL_PROMETHEUS_TOKEN (or VIGIL_PROMETHEUS_USERNAME/VIGIL_PROMETHEUS_PASSWORD), VIGIL_SLACK_WEBHOOK_URL or VIGIL_PAGERDUTY_ROUTING_KEY in the environment, e.g. from a Kubernetes Secret (env valueFrom.secretKeyRef)';

/** A parsed settings file: the values of the table's keys, and the line of any path in it. */
export interface SettingsFile {
  readonly path: string;
  /** Table key → value as written. */
  readonly values: ReadonlyMap<string, unknown>;
  /** The 1-based line of a path (`['probes', 0, 'steps']`), or of its nearest written ancestor. */
  lineOf(path: ReadonlyArray<string | number>): number;
}

/** Parses a settings file's text. Unknown keys, secrets and YAML errors throw, naming file:line. */
export function parseSettingsFile(text: string, file: string): SettingsFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const at = (node: YamlNode | null | undefined): string => `${file}:${node?.range ? lines.linePos(node.range[0]).line : 1}`;
  if (doc.errors.length) {
    throw new SettingsError(file, doc.errors.map((e) => `${file}:${lines.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}; fix the YAML`));
  }
  const problems: string[] = [];
  findSecrets(doc.contents, at, problems);
  const values = new Map<string, unknown>();
  const plain: unknown = doc.toJS();
  const root = doc.contents;
  if (root !== null && !isMap(root) && !(isScalar(root) && root.value === null)) {
    problems.push(`${at(root)}: the file is a ${isSeq(root) ? 'list' : 'value'}; write a map of sections, e.g. "automation: {mode: suggest}"`);
  }
  const walk = (map: unknown, prefix: string): void => {
    if (!isMap(map)) return;
    for (const pair of map.items) {
      const keyNode = pair.key as YamlNode | null;
      const name = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
      const key = prefix ? `${prefix}.${name}` : name;
      if (SECRET_KEY.test(name)) continue; // reported by findSecrets
      if (settingDescriptor(key)) {
        values.set(key, valueAt(plain, key));
        continue;
      }
      const section = SETTINGS_SCHEMA.filter((d) => d.key.startsWith(`${key}.`));
      if (section.length && isMap(pair.value)) walk(pair.value, key);
      else if (section.length) problems.push(`${at(keyNode)}: ${key} is a section; write its settings under it (${section.map((d) => d.key.slice(key.length + 1)).join(', ')})`);
      else if (key === 'vigil') problems.push(`${at(keyNode)}: vigil is not a setting; write the keys without the vigil. prefix, e.g. "safety: {dryRun: true}"`);
      else {
        const near = nearestKey(key);
        problems.push(`${at(keyNode)}: unknown key ${key}${near ? `; did you mean ${near}?` : ''} (every key is listed by \`vigil agent --print-config\`)`);
      }
    }
  };
  walk(root, '');
  const lineOfProblem = (p: string) => Number(/^.*?:(\d+): /.exec(p)?.[1] ?? 0);
  if (problems.length) throw new SettingsError(file, problems.sort((a, b) => lineOfProblem(a) - lineOfProblem(b)));
  return {
    path: file,
    values,
    lineOf: (p) => {
      for (let n = p.length; n > 0; n--) {
        const node = nodeAt(doc, p.slice(0, n));
        if (node?.range) return lines.linePos(node.range[0]).line;
      }
      return 1;
    },
  };
}

function nodeAt(doc: Document, p: ReadonlyArray<string | number>): YamlNode | undefined {
  // the key's own line for map entries: `deniedNamespaces: [...]` is where a reader looks
  const parent = p.length > 1 ? doc.getIn(p.slice(0, -1), true) : doc.contents;
  const last = p[p.length - 1];
  if (isMap(parent)) {
    const pair = parent.items.find((i) => (isScalar(i.key) ? i.key.value : i.key) === last);
    return (pair?.key as YamlNode | undefined) ?? undefined;
  }
  if (isSeq(parent) && typeof last === 'number') return (parent.items[last] as YamlNode | undefined) ?? undefined;
  return undefined;
}

function findSecrets(node: unknown, at: (n: YamlNode | null | undefined) => string, problems: string[]): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      const keyNode = pair.key as YamlNode | null;
      const name = isScalar(keyNode) ? String(keyNode.value) : '';
      if (SECRET_KEY.test(name)) problems.push(`${at(keyNode)}: ${name} looks like a secret; ${SECRET_FIX}`);
      else findSecrets(pair.value, at, problems);
    }
  } else if (isSeq(node)) {
    for (const item of node.items) findSecrets(item, at, problems);
  }
}

export function loadSettingsFile(file: string): SettingsFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(`settings file ${file}: ${e.code === 'ENOENT' ? 'not found' : e.message}; check --config or VIGIL_CONFIG`);
  }
  return parseSettingsFile(text, file);
}

/** Where an effective value came from: `flag --mode`, `env VIGIL_MODE`, `file /etc/vigil/vigil.yaml:3` or `default`. */
export type SettingSource = `flag --${string}` | `env ${string}` | `file ${string}` | 'default';

export interface ResolvedSettings {
  readonly settings: VigilSettings;
  /** Table key → where its value came from. */
  readonly sources: Readonly<Record<string, SettingSource>>;
}

/** Flag values as node:util parseArgs returns them, keyed by flag name without `--`. */
export type FlagValues = Readonly<Record<string, string | boolean | ReadonlyArray<string | boolean> | undefined>>;

/** Turns text from the environment or a flag into the setting's type; what cannot be read stays text, for the validator to name. */
function fromText(d: SettingDescriptor, text: string): unknown {
  const t = text.trim();
  switch (d.type) {
    case 'number':
    case 'integer':
      return t !== '' && Number.isFinite(Number(t)) ? Number(t) : text;
    case 'boolean':
      if (/^(1|true|on|yes)$/i.test(t)) return true;
      if (/^(0|false|off|no)$/i.test(t)) return false;
      return text;
    case 'array':
      return t === '' ? [] : t.split(',').map((s) => s.trim()).filter(Boolean);
    case 'object':
      try {
        return JSON.parse(t) as unknown;
      } catch {
        return text;
      }
    default:
      return text;
  }
}

function fromFlag(d: SettingDescriptor, v: FlagValues[string]): unknown {
  if (v === undefined) return undefined;
  if (Array.isArray(v)) return d.type === 'array' ? v.flatMap((s) => String(s).split(',')).map((s) => s.trim()).filter(Boolean) : fromText(d, String(v[v.length - 1]));
  if (typeof v === 'boolean') return v;
  return fromText(d, v as string);
}

/**
 * Resolves the agent's settings: for every key of the table, the flag, else the `VIGIL_*` variable, else the
 * file, else the default; then validates them all at once. Every problem names the key, the bad value, the fix
 * and where the value came from. Throws a SettingsError listing them.
 */
export function resolveAgentSettings(input: { flags: FlagValues; env: NodeJS.ProcessEnv; file?: SettingsFile }): ResolvedSettings {
  const raw: Record<string, unknown> = {};
  const sources: Record<string, SettingSource> = {};
  for (const d of SETTINGS_SCHEMA) {
    const flag = d.flag ? fromFlag(d, input.flags[d.flag]) : undefined;
    const envText = d.env ? input.env[d.env] : undefined;
    let value: unknown;
    if (flag !== undefined) {
      value = flag;
      sources[d.key] = `flag --${d.flag}`;
    } else if (envText !== undefined && envText !== '') {
      value = fromText(d, envText);
      sources[d.key] = `env ${d.env}`;
    } else if (input.file?.values.has(d.key)) {
      value = input.file.values.get(d.key);
      sources[d.key] = `file ${input.file.path}:${input.file.lineOf(d.key.split('.'))}`;
    } else {
      sources[d.key] = 'default';
      continue;
    }
    setValueAt(raw, d.key, value);
  }
  const { settings, problems } = validateSettings(raw, 'agent settings');
  if (problems.length) {
    const where = (key: string, p: ReadonlyArray<string | number>): string => {
      const s = sources[key];
      if (s?.startsWith('file ') && input.file) return `${input.file.path}:${input.file.lineOf(p)}`;
      return s ?? 'default';
    };
    throw new SettingsError(
      input.file ? `settings (file ${input.file.path}, environment, flags)` : 'settings (environment, flags)',
      problems.map((p) => (where(p.key, p.path).includes(':') ? `${where(p.key, p.path)}: ${p.message}` : `${p.message} (from ${where(p.key, p.path)})`)),
    );
  }
  return { settings, sources };
}

/** `--config FILE`, else VIGIL_CONFIG, else none. */
export function settingsFilePath(flags: FlagValues, env: NodeJS.ProcessEnv): string | undefined {
  const f = typeof flags.config === 'string' && flags.config ? flags.config : env.VIGIL_CONFIG || undefined;
  return f ? path.resolve(f) : undefined;
}

/** Reads the file named by --config / VIGIL_CONFIG (if any) and resolves. */
export function loadAgentSettings(flags: FlagValues, env: NodeJS.ProcessEnv): ResolvedSettings {
  const file = settingsFilePath(flags, env);
  return resolveAgentSettings({ flags, env, file: file ? loadSettingsFile(file) : undefined });
}

/**
 * One line per key: `safety.deniedNamespaces = ["shop"]   (file /etc/vigil/vigil.yaml:3)`, then which
 * secrets are set in the environment (never their values).
 */
export function formatEffectiveSettings(resolved: ResolvedSettings, env: NodeJS.ProcessEnv): string {
  const rows = SETTINGS_SCHEMA.map((d) => {
    return { left: `${d.key} = ${JSON.stringify(valueAt(resolved.settings, d.key))}`, source: resolved.sources[d.key] ?? 'default' };
  });
  const width = Math.min(72, Math.max(...rows.map((r) => r.left.length)));
  const lines = rows.map((r) => `${r.left.padEnd(width)}   (${r.source})`);
  const secrets = ['VIGIL_PROMETHEUS_TOKEN', 'VIGIL_PROMETHEUS_USERNAME', 'VIGIL_PROMETHEUS_PASSWORD', 'VIGIL_PROMETHEUS_HEADERS', 'VIGIL_SLACK_WEBHOOK_URL', 'VIGIL_PAGERDUTY_ROUTING_KEY'];
  lines.push(`# secrets from the environment: ${secrets.map((s) => `${s} ${env[s] ? 'set' : 'unset'}`).join(', ')}`);
  return `${lines.join('\n')}\n`;
}
