/** Named error patterns counted in pod logs as the log_errors signal. Configurable; these are the defaults. */
export interface LogPattern {
  readonly name: string;
  readonly regex: RegExp;
}

export const DEFAULT_LOG_PATTERNS: ReadonlyArray<{ readonly name: string; readonly pattern: string }> = [
  { name: 'oom', pattern: 'out of memory|OutOfMemory|OOMKilled|Cannot allocate memory' },
  { name: 'exception', pattern: 'exception|traceback|panic:|uncaught|stack trace' },
  { name: 'timeout', pattern: 'timed out|timeout|deadline exceeded' },
  { name: 'error', pattern: '\\b(ERROR|FATAL|CRITICAL)\\b|level=error|"level":"error"' },
];

/** Compiles patterns (case-insensitive); a bad regex is named with the fix. */
export function compileLogPatterns(specs: ReadonlyArray<{ readonly name: string; readonly pattern: string }> = DEFAULT_LOG_PATTERNS): LogPattern[] {
  return specs.map((s) => {
    try {
      return { name: s.name, regex: new RegExp(s.pattern, 'i') };
    } catch (err) {
      throw new Error(`Log pattern "${s.name}" is not a valid regular expression (${(err as Error).message}); fix /${s.pattern}/`);
    }
  });
}

/** The first pattern a line matches (most specific first), or undefined. */
export function matchLogLine(line: string, patterns: ReadonlyArray<LogPattern>): string | undefined {
  for (const p of patterns) if (p.regex.test(line)) return p.name;
  return undefined;
}

/** Splits a `kubectl logs --timestamps` line into time (ms) and text; lines without a timestamp keep `fallback`. */
export function splitTimestamp(line: string, fallback: number): { t: number; text: string } {
  const sp = line.indexOf(' ');
  if (sp > 0) {
    const t = Date.parse(line.slice(0, sp));
    if (Number.isFinite(t) && /^\d{4}-\d\d-\d\dT/.test(line)) return { t, text: line.slice(sp + 1) };
  }
  return { t: fallback, text: line };
}
