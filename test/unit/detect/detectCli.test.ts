import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CsvDetection } from '../../../src/core/detect/csvDetection';
import { CsvInputError, CsvSignalParser, parseTimestamp } from '../../../src/core/detect/csvSignals';

function runCsv(text: string, options = {}): string[] {
  const d = new CsvDetection('in.csv', options);
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const o = d.push(line);
    if (o !== undefined) out.push(o);
  }
  d.finish();
  return out;
}

function series(n: number, sep = ','): string {
  const rows = ['timestamp' + sep + 'value'];
  for (let i = 0; i < n; i++) rows.push(`${new Date(Date.UTC(2024, 0, 1) + i * 300_000).toISOString()}${sep}${10 + Math.sin(i / 5) + (i === n - 5 ? 50 : 0)}`);
  return rows.join('\n');
}

describe('vigil detect input handling', () => {
  it('parses timestamps as UTC and rejects impossible dates', () => {
    assert.equal(parseTimestamp('2014-04-10 07:15:00.000000'), Date.UTC(2014, 3, 10, 7, 15));
    assert.equal(parseTimestamp('2024-01-31T12:00:00+01:00'), Date.UTC(2024, 0, 31, 11));
    assert.equal(parseTimestamp('1700000000'), 1_700_000_000_000);
    assert.equal(parseTimestamp('2024-02-31 00:00:00'), undefined);
    assert.equal(parseTimestamp('yesterday'), undefined);
  });

  it('writes one output row per input row, wide files get contributions, ; works', () => {
    const out = runCsv(series(1000));
    assert.equal(out[0], 'timestamp,anomaly_score,is_anomaly,alert');
    assert.equal(out.length, 1001);
    // The spike is input row 995, output line 996: the alert fires there and the state begins.
    assert.match(out[996], /,1,1$/, out.slice(990).join('\n'));
    assert.ok(out.slice(1, 996).every((l) => l.endsWith(',0,0')), 'no alarm on the plain sine before it');
    const wide = runCsv('timestamp;cpu;memory\n2024-01-01 00:00:00;1;2\n2024-01-01 00:01:00;1.1;;\n'.replace(';;', ';'));
    assert.equal(wide[0], 'timestamp,anomaly_score,is_anomaly,alert,contribution_cpu,contribution_memory');
    assert.equal(wide.length, 3);
  });

  it('treats --train-rows as known-normal history', () => {
    const out = runCsv(series(1000), { trainRows: 999 });
    assert.ok(out.slice(1, 1000).every((l) => l.endsWith(',0,0,0')));
  });

  const bad: Array<[string, string, RegExp]> = [
    ['empty file', '', /the file is empty/],
    ['header only', 'timestamp,value\n', /no data rows/],
    ['missing timestamp column', 'time,value\n1,2\n', /line 1: no "timestamp" column/],
    ['no signal column', 'timestamp\n2024-01-01 00:00:00\n', /no signal column/],
    ['non-numeric cell', 'timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,abc\n', /line 3: column "value" has "abc", not a number/],
    ['bad timestamp', 'timestamp,value\nnoon,1\n', /line 2: timestamp "noon" is not a date/],
    ['duplicate timestamp', 'timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:00:00,2\n', /line 3: duplicate timestamp .*same as line 2/],
    ['unsorted timestamps', 'timestamp,value\n2024-01-01 00:05:00,1\n2024-01-01 00:00:00,2\n', /line 3: .* earlier than line 2; sort the file/],
    ['wrong cell count', 'timestamp,value\n2024-01-01 00:00:00,1,2\n', /line 2: 3 cells, expected 2/],
  ];
  for (const [name, text, message] of bad) {
    it(`reports ${name} naming the line`, () => {
      assert.throws(() => runCsv(text), (err: unknown) => err instanceof CsvInputError && message.test(err.message));
    });
  }

  it('skips an empty cell as a gap and can keep unordered rows when asked', () => {
    const p = new CsvSignalParser('x.csv', 'keep');
    p.header('timestamp,a,b');
    assert.deepEqual(p.row('2024-01-01 00:00:00,1,', 2)?.values, { a: 1, b: undefined });
    assert.ok(p.row('2024-01-01 00:00:00,1,2', 3));
    assert.equal(p.unordered, 1);
  });

  describe('the command', function () {
    this.timeout(60_000);
    let dir: string;
    before(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'vigil-detect-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'detect', ...args], { encoding: 'utf8' });

    it('writes the output file and exits 0', () => {
      const input = path.join(dir, 'in.csv');
      writeFileSync(input, series(200, ';'));
      const output = path.join(dir, 'out.csv');
      const r = cli('--input', input, '--output', output);
      assert.equal(r.status, 0, r.stderr);
      const lines = readFileSync(output, 'utf8').trim().split('\n');
      assert.equal(lines.length, 201);
      assert.match(r.stderr, /scored 200 rows/);
    });

    it('exits 2 with a clear message on bad input and leaves no partial output', () => {
      const input = path.join(dir, 'bad.csv');
      writeFileSync(input, 'timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,oops\n');
      const output = path.join(dir, 'bad-out.csv');
      const r = cli('--input', input, '--output', output);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /line 3: column "value" has "oops"/);
      assert.equal(existsSync(output), false);
      assert.equal(existsSync(`${output}.partial`), false);
    });

    it('names a missing input file and a bad --train-rows', () => {
      const missing = cli('--input', path.join(dir, 'nope.csv'));
      assert.equal(missing.status, 2);
      assert.match(missing.stderr, /nope\.csv does not exist/);
      const r = cli('--input', path.join(dir, 'in.csv'), '--train-rows', 'ten');
      assert.equal(r.status, 2);
      assert.match(r.stderr, /--train-rows must be a whole number/);
    });
  });
});
