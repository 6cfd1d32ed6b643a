import { parse } from 'yaml';
import type { Anomaly, Severity } from '../model/anomaly';
import type { SampleFrame, SignalName } from '../model/signal';
import type { TargetRef } from '../model/target';

/**
 * Prometheus-alert-style threshold rules: `error_ratio > 0.05 for 1m`, with a separate clear level (hysteresis)
 * so a signal hovering at the threshold does not flap, and a severity.
 */
export interface Rule {
  readonly name: string;
  readonly signal: SignalName;
  readonly op: '>' | '<';
  readonly value: number;
  /** The rule clears only when the signal is back past this level (defaults to `value`). */
  readonly clear: number;
  /** How long the condition must hold before the rule fires, in ms (0: at once). */
  readonly forMs: number;
  readonly severity: Severity;
}

const SIGNALS: ReadonlyArray<SignalName> = [
  'request_rate', 'error_ratio', 'latency_p50', 'latency_p95', 'latency_p99', 'cpu', 'memory', 'restarts',
  'available_replicas', 'log_errors', 'probe_success', 'probe_latency',
];
const SEVERITIES: ReadonlyArray<Severity> = ['info', 'warning', 'critical'];
const SCORE: Readonly<Record<Severity, number>> = { info: 0.5, warning: 0.9, critical: 1 };

export class RuleError extends Error {}

/** Parses `30s`, `1m`, `1m30s`, `2h`, `500ms` into milliseconds; undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
    matched = re.lastIndex;
  }
  return matched === s.length && matched > 0 ? total : undefined;
}

/**
 * Rules from a parsed config object: `{ rules: [{ name, expr: "error_ratio > 0.05", for: "1m", clear: 0.03,
 * severity: "critical" }] }` (or a bare list). `expr` may carry the `for` too: "error_ratio > 0.05 for 1m".
 * Errors name the rule and the field.
 */
export function parseRules(doc: unknown, source = 'rules'): Rule[] {
  const list = Array.isArray(doc) ? doc : (doc as { rules?: unknown } | null)?.rules;
  if (!Array.isArray(list)) throw new RuleError(`${source}: expected a list of rules under "rules:"`);
  const names = new Set<string>();
  return list.map((raw, i) => {
    const at = `${source}: rules[${i}]`;
    if (typeof raw !== 'object' || raw === null) throw new RuleError(`${at}: expected a mapping with name and expr`);
    const r = raw as Record<string, unknown>;
    const name = typeof r.name === 'string' && r.name.trim() ? r.name.trim() : undefined;
    if (!name) throw new RuleError(`${at}.name: required, e.g. "HighErrorRatio"`);
    if (names.has(name)) throw new RuleError(`${at}.name: "${name}" is used twice`);
    names.add(name);
    const where = `${source}: rule "${name}"`;
    if (typeof r.expr !== 'string') throw new RuleError(`${where}.expr: required, e.g. "error_ratio > 0.05 for 1m"`);
    const m = /^\s*([a-z_0-9]+)\s*(>|<)\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?)\s*(?:for\s+(\S+))?\s*$/i.exec(r.expr);
    if (!m) throw new RuleError(`${where}.expr: "${r.expr}" is not "<signal> > <number> [for <duration>]"`);
    const signal = m[1] as SignalName;
    if (!SIGNALS.includes(signal)) throw new RuleError(`${where}.expr: unknown signal "${m[1]}"; known: ${SIGNALS.join(', ')}`);
    const op = m[2] as '>' | '<';
    const value = Number(m[3]);
    const forText = r.for === undefined ? m[4] : String(r.for);
    const forMs = forText === undefined ? 0 : parseDuration(forText);
    if (forMs === undefined) throw new RuleError(`${where}.for: "${forText}" is not a duration like 30s, 1m or 1m30s`);
    let clear = value;
    if (r.clear !== undefined) {
      if (typeof r.clear !== 'number' || !Number.isFinite(r.clear)) throw new RuleError(`${where}.clear: must be a number`);
      clear = r.clear;
      if ((op === '>' && clear > value) || (op === '<' && clear < value)) {
        throw new RuleError(`${where}.clear: ${clear} must be on the healthy side of ${value} (${op === '>' ? '<=' : '>='} ${value})`);
      }
    }
    const severity = (r.severity ?? 'warning') as Severity;
    if (!SEVERITIES.includes(severity)) throw new RuleError(`${where}.severity: "${String(r.severity)}" is not one of ${SEVERITIES.join(', ')}`);
    return { name, signal, op, value, clear, forMs, severity };
  });
}

/** Rules from YAML text. */
export function parseRulesYaml(text: string, source: string): Rule[] {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new RuleError(`${source}: not valid YAML: ${(err as Error).message}`);
  }
  return parseRules(doc, source);
}

/** Per rule: since when the condition holds (pending) and whether it fires. Plain JSON. */
export type RuleState = Record<string, { pendingSince: number | null; firing: boolean }>;

/** Evaluates rules on a stream of frames of one target. Pure: the state is all it remembers. */
export class RuleEngine {
  constructor(
    private readonly rules: ReadonlyArray<Rule>,
    readonly state: RuleState = {},
  ) {}

  /** Anomalies of the rules firing at this frame (a missing signal keeps a rule's state as it was). */
  step(frame: SampleFrame): Anomaly[] {
    const out: Anomaly[] = [];
    for (const rule of this.rules) {
      const st = (this.state[rule.name] ??= { pendingSince: null, firing: false });
      const v = frame.values[rule.signal];
      if (v !== undefined && Number.isFinite(v)) {
        const breach = rule.op === '>' ? v > rule.value : v < rule.value;
        const healthy = rule.op === '>' ? v <= rule.clear : v >= rule.clear;
        if (st.firing) {
          if (healthy) {
            st.firing = false;
            st.pendingSince = null;
          }
        } else if (breach) {
          st.pendingSince ??= frame.t;
          if (frame.t - st.pendingSince >= rule.forMs) st.firing = true;
        } else st.pendingSince = null;
      }
      if (st.firing) out.push(this.anomaly(rule, frame.target, frame.t, v));
    }
    return out;
  }

  private anomaly(rule: Rule, target: TargetRef, t: number, v: number | undefined): Anomaly {
    const held = rule.forMs > 0 ? ` for ${formatDuration(rule.forMs)}` : '';
    const observed = v === undefined ? 'no sample' : String(Math.round(v * 1e4) / 1e4);
    // hysteresis keeps a rule firing between its clear level and its threshold: say so rather than "0.03 > 0.05"
    const breaching = v === undefined || (rule.op === '>' ? v > rule.value : v < rule.value);
    return {
      target,
      t,
      detector: 'rule',
      score: SCORE[rule.severity],
      isAnomaly: true,
      severity: rule.severity,
      contributions: [{ signal: rule.signal, share: 1, ...(v === undefined ? {} : { observed: v }) }],
      reason: breaching ? `${rule.signal} ${observed} ${rule.op} ${rule.value}${held}` : `${rule.signal} ${observed}, not yet back ${rule.op === '>' ? 'under' : 'over'} its clear level ${rule.clear} (fired at ${rule.op} ${rule.value}${held})`,
      rule: rule.name,
    };
  }
}

function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
