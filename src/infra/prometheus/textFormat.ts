import type { ExpositionSample } from '../../core/observe/scrapeSignals';

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Exposition {
  readonly samples: ExpositionSample[];
  /** Family name → declared TYPE. */
  readonly types: Map<string, MetricType>;
  readonly help: Map<string, string>;
}

export class TextFormatError extends Error {
  constructor(
    readonly line: number,
    detail: string,
    readonly source: string,
  ) {
    super(`${source}: line ${line}: ${detail}`);
  }
}

const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/**
 * Parses the Prometheus text exposition format (0.0.4): HELP/TYPE comments, other comments,
 * labels with `\\`, `\"` and `\n` escapes, optional millisecond timestamps, NaN and ±Inf.
 * Errors name the source and line.
 */
export function parseTextFormat(text: string, source = 'exposition'): Exposition {
  const samples: ExpositionSample[] = [];
  const types = new Map<string, MetricType>();
  const help = new Map<string, string>();
  let lineNo = 0;
  let pos = 0;
  const len = text.length;
  while (pos < len) {
    lineNo++;
    let end = text.indexOf('\n', pos);
    if (end === -1) end = len;
    let line = text.slice(pos, end);
    pos = end + 1;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.length === 0) continue;
    if (line.charCodeAt(0) === 35 /* # */) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s+(.*))?$/.exec(line);
      if (!m) continue;
      if (m[1] === 'TYPE') {
        const type = (m[3] ?? '').trim();
        if (!TYPES.has(type)) throw new TextFormatError(lineNo, `unknown metric type "${type}" for ${m[2]}`, source);
        types.set(m[2], type as MetricType);
      } else {
        help.set(m[2], unescapeHelp(m[3] ?? ''));
      }
      continue;
    }
    samples.push(parseSampleLine(line, lineNo, source));
  }
  return { samples, types, help };
}

function isNameChar(c: number, first: boolean): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 58 || (!first && c >= 48 && c <= 57);
}

function parseSampleLine(line: string, lineNo: number, source: string): ExpositionSample {
  let i = 0;
  const n = line.length;
  while (i < n && (line[i] === ' ' || line[i] === '\t')) i++;
  const nameStart = i;
  if (i >= n || !isNameChar(line.charCodeAt(i), true)) throw new TextFormatError(lineNo, `expected a metric name, got "${line.slice(0, 40)}"`, source);
  while (i < n && isNameChar(line.charCodeAt(i), false)) i++;
  const name = line.slice(nameStart, i);
  const labels: Record<string, string> = {};
  while (i < n && line[i] === ' ') i++;
  if (line[i] === '{') {
    i++;
    for (;;) {
      while (i < n && (line[i] === ' ' || line[i] === ',')) i++;
      if (line[i] === '}') {
        i++;
        break;
      }
      const ls = i;
      if (i >= n || !isNameChar(line.charCodeAt(i), true)) throw new TextFormatError(lineNo, `bad label name in ${name}`, source);
      while (i < n && isNameChar(line.charCodeAt(i), false)) i++;
      const labelName = line.slice(ls, i);
      while (line[i] === ' ') i++;
      if (line[i] !== '=') throw new TextFormatError(lineNo, `expected = after label ${labelName} in ${name}`, source);
      i++;
      while (line[i] === ' ') i++;
      if (line[i] !== '"') throw new TextFormatError(lineNo, `expected a quoted value for label ${labelName} in ${name}`, source);
      i++;
      let value = '';
      {
        let chunk = i;
        for (;;) {
          if (i >= n) throw new TextFormatError(lineNo, `unterminated value of label ${labelName} in ${name}`, source);
          const c = line.charCodeAt(i);
          if (c === 34 /* " */) break;
          if (c === 92 /* \ */) {
            value += line.slice(chunk, i);
            const e = line[i + 1];
            if (e === 'n') value += '\n';
            else if (e === '\\' || e === '"') value += e;
            else throw new TextFormatError(lineNo, `invalid escape "\\${e ?? ''}" in label ${labelName} of ${name}`, source);
            i += 2;
            chunk = i;
            continue;
          }
          i++;
        }
        value += line.slice(chunk, i);
      }
      i++;
      if (labelName in labels) throw new TextFormatError(lineNo, `duplicate label ${labelName} in ${name}`, source);
      labels[labelName] = value;
    }
  }
  // value and optional timestamp, scanned without allocating a split array
  while (i < n && (line[i] === ' ' || line[i] === '\t')) i++;
  const vStart = i;
  while (i < n && line[i] !== ' ' && line[i] !== '\t') i++;
  if (vStart === i) throw new TextFormatError(lineNo, `missing value for ${name}`, source);
  const valueText = line.slice(vStart, i);
  const value = parseValue(valueText);
  if (value === undefined) throw new TextFormatError(lineNo, `invalid value "${valueText}" for ${name}`, source);
  while (i < n && (line[i] === ' ' || line[i] === '\t')) i++;
  let timestampMs: number | undefined;
  if (i < n) {
    const tStart = i;
    while (i < n && line[i] !== ' ' && line[i] !== '\t') i++;
    const tsText = line.slice(tStart, i);
    timestampMs = Number(tsText);
    if (!Number.isInteger(timestampMs)) throw new TextFormatError(lineNo, `invalid timestamp "${tsText}" for ${name} (milliseconds expected)`, source);
    while (i < n && (line[i] === ' ' || line[i] === '\t')) i++;
    if (i < n) throw new TextFormatError(lineNo, `unexpected text after the value of ${name}: "${line.slice(i)}"`, source);
  }
  return timestampMs === undefined ? { name, labels, value } : { name, labels, value, timestampMs };
}

export function parseValue(text: string): number | undefined {
  switch (text) {
    case 'NaN':
      return NaN;
    case '+Inf':
    case 'Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
  }
  const v = Number(text);
  return Number.isNaN(v) || text.trim() === '' ? undefined : v;
}

function unescapeHelp(text: string): string {
  return text.replace(/\\(n|\\)/g, (_m, e: string) => (e === 'n' ? '\n' : '\\'));
}
