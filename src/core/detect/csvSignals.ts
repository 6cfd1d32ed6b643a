/**
 * Rows of a signals CSV, checked one at a time so a file can be streamed: a `timestamp` column and one or more
 * numeric signal columns, separated by `,` or `;`. Errors name the line and the fix. An empty cell is a gap in
 * that signal (documented skip); anything else that is not a number is an error.
 */
export interface CsvRow {
  /** Epoch milliseconds. */
  readonly t: number;
  /** The timestamp as written, echoed to the output. */
  readonly timestamp: string;
  readonly values: Readonly<Record<string, number | undefined>>;
}

export class CsvInputError extends Error {}

export class CsvSignalParser {
  private separator = ',';
  private timeIndex = -1;
  private signalColumns: Array<{ readonly name: string; readonly index: number }> = [];
  private prevT: number | undefined;
  private prevLine = 0;

  /** Rows whose timestamp repeats or goes back, kept in file order under `disorder: 'keep'`. */
  unordered = 0;

  /**
   * `disorder: 'error'` (the default) refuses a duplicate or earlier timestamp; `'keep'` scores such a row in file
   * order and counts it (real exports have daylight-saving repeats; the NAB corpus has a few).
   */
  constructor(
    private readonly source: string,
    private readonly disorder: 'error' | 'keep' = 'error',
  ) {}

  get signals(): ReadonlyArray<string> {
    return this.signalColumns.map((c) => c.name);
  }

  /** Reads the header line; throws when there is no timestamp column or no signal column. */
  header(line: string): void {
    const text = line.replace(/^\uFEFF/, '').trim();
    if (text === '') throw new CsvInputError(`${this.source}: the file is empty; expected a header such as "timestamp,value"`);
    this.separator = text.includes(';') && !text.includes(',') ? ';' : ',';
    const names = text.split(this.separator).map((c) => unquote(c.trim()));
    this.timeIndex = names.findIndex((n) => n.toLowerCase() === 'timestamp');
    if (this.timeIndex < 0) {
      throw new CsvInputError(`${this.source}, line 1: no "timestamp" column in the header (${names.join(this.separator)}); name the time column "timestamp"`);
    }
    const seen = new Set<string>();
    this.signalColumns = [];
    names.forEach((name, index) => {
      if (index === this.timeIndex) return;
      if (name === '') throw new CsvInputError(`${this.source}, line 1: column ${index + 1} has no name`);
      if (seen.has(name)) throw new CsvInputError(`${this.source}, line 1: column "${name}" appears twice`);
      seen.add(name);
      this.signalColumns.push({ name, index });
    });
    if (this.signalColumns.length === 0) throw new CsvInputError(`${this.source}, line 1: no signal column next to "timestamp"; add at least one numeric column`);
  }

  /** Parses one data line (1-based `lineNo`); returns undefined for a blank line. */
  row(line: string, lineNo: number): CsvRow | undefined {
    if (line.trim() === '') return undefined;
    const cells = line.split(this.separator);
    const expected = this.signalColumns.length + 1;
    if (cells.length !== expected) {
      throw new CsvInputError(`${this.source}, line ${lineNo}: ${cells.length} cells, expected ${expected} like the header`);
    }
    const timestamp = unquote(cells[this.timeIndex].trim());
    const t = parseTimestamp(timestamp);
    if (t === undefined) {
      throw new CsvInputError(`${this.source}, line ${lineNo}: timestamp "${timestamp}" is not a date; use ISO 8601 (2024-01-31T12:00:00Z), "YYYY-MM-DD HH:MM:SS" (UTC) or epoch seconds/milliseconds`);
    }
    if (this.prevT !== undefined && t <= this.prevT && this.disorder === 'keep') this.unordered++;
    else if (this.prevT !== undefined && t === this.prevT) {
      throw new CsvInputError(`${this.source}, line ${lineNo}: duplicate timestamp "${timestamp}" (same as line ${this.prevLine}); keep one row per time`);
    }
    else if (this.prevT !== undefined && t < this.prevT) {
      throw new CsvInputError(`${this.source}, line ${lineNo}: timestamp "${timestamp}" is earlier than line ${this.prevLine}; sort the file by time (detection streams in order)`);
    }
    const values: Record<string, number | undefined> = {};
    for (const c of this.signalColumns) {
      const cell = unquote(cells[c.index].trim());
      if (cell === '') {
        values[c.name] = undefined;
        continue;
      }
      const v = Number(cell);
      if (!Number.isFinite(v)) {
        throw new CsvInputError(`${this.source}, line ${lineNo}: column "${c.name}" has "${cell}", not a number; leave the cell empty for a gap`);
      }
      values[c.name] = v;
    }
    this.prevT = t;
    this.prevLine = lineNo;
    return { t, timestamp, values };
  }
}

function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;
}

/** Epoch ms of ISO 8601, "YYYY-MM-DD HH:MM:SS[.ffffff]" read as UTC, or epoch seconds/ms. */
export function parseTimestamp(s: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(s)) {
    const n = Number(s);
    return n < 1e11 ? n * 1000 : n;
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(s);
  if (m) {
    const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
    let t = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], m[6] ? +m[6] : 0, ms);
    if (m[8] && m[8] !== 'Z') {
      const sign = m[8][0] === '-' ? -1 : 1;
      const digits = m[8].slice(1).replace(':', '');
      t -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
    }
    const d = new Date(t);
    // Reject 2024-02-31 and friends rather than rolling over.
    return d.getUTCDate() === +m[3] && d.getUTCMonth() === +m[2] - 1 ? t : undefined;
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) {
    const t = Date.parse(`${s}T00:00:00Z`);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}
