import { createReadStream, createWriteStream, existsSync, renameSync, rmSync, statSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { CsvDetection } from '../core/detect/csvDetection';
import { CsvInputError } from '../core/detect/csvSignals';
import { intOption, parseCliArgs } from './args';

const USAGE = 'vigil detect --input FILE.csv [--output FILE.csv] [--train-rows N] [--keep-unordered]';

/**
 * `vigil detect`: streams a CSV of signals row by row (no look-ahead) through the multi-signal model (two or more
 * signal columns and enough --train-rows) or the statistical detector, and writes
 * `timestamp,anomaly_score,is_anomaly,alert[,contribution_<signal>...]` (see `vigil detect --help`). Exit 0 on
 * success, 2 on bad input.
 */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseCliArgs('detect', argv, {
    input: { type: 'string' },
    output: { type: 'string' },
    'train-rows': { type: 'string' },
    'keep-unordered': { type: 'boolean' },
  });
  const input = values.input as string | undefined;
  if (!input) {
    console.error(`vigil detect: --input FILE.csv is required.\nUsage: ${USAGE}`);
    return 2;
  }
  if (!existsSync(input) || !statSync(input).isFile()) {
    console.error(`vigil detect: input file ${path.resolve(input)} does not exist; pass the path of a CSV with a "timestamp" column.`);
    return 2;
  }
  let trainRows: number;
  try {
    trainRows = intOption('detect', 'train-rows', values['train-rows'], 0);
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  if (trainRows < 0) {
    console.error('vigil detect: --train-rows must be 0 or more.');
    return 2;
  }
  const output = values.output as string | undefined;
  const detection = new CsvDetection(input, { trainRows, disorder: values['keep-unordered'] ? 'keep' : 'error' });
  const outLines: string[] = [];
  let out: WriteStream | undefined;
  const tmp = output ? `${output}.partial` : undefined;
  try {
    if (tmp) out = createWriteStream(tmp);
    const reader = createInterface({ input: createReadStream(input, 'utf8'), crlfDelay: Infinity });
    for await (const line of reader) {
      const o = detection.push(line);
      if (o === undefined) continue;
      if (out) {
        if (!out.write(`${o}\n`)) await new Promise<void>((r) => out?.once('drain', () => r()));
      } else outLines.push(o);
      if (!out && outLines.length >= 4096) flushStdout(outLines);
    }
    const summary = detection.finish();
    if (out && tmp && output) {
      await close(out);
      renameSync(tmp, output);
    } else flushStdout(outLines);
    const note = summary.unordered ? `, ${summary.unordered} rows with a repeated or earlier timestamp scored in file order` : '';
    for (const n of summary.notes) console.error(`vigil detect: note: ${n}`);
    console.error(`vigil detect: scored ${summary.rows} rows of ${input} with the ${summary.detector} (threshold ${summary.threshold}${note})${output ? ` -> ${output}` : ''}`);
    return 0;
  } catch (err) {
    if (out) await close(out).catch(() => undefined);
    if (tmp) rmSync(tmp, { force: true });
    if (err instanceof CsvInputError) {
      const hint = /duplicate timestamp|is earlier than/.test(err.message) ? '\n(or pass --keep-unordered to score such rows in file order)' : '';
      console.error(`vigil detect: ${err.message}${hint}`);
      return 2;
    }
    throw err;
  }
}

function close(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.once('error', reject);
    stream.end(() => resolve());
  });
}

function flushStdout(lines: string[]): void {
  if (lines.length) process.stdout.write(`${lines.join('\n')}\n`);
  lines.length = 0;
}
