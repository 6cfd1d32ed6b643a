import assert from 'node:assert/strict';
import { AnomalyState } from '../../../src/core/detect/anomalyState';
import { CsvDetection, type CsvDetectionOptions } from '../../../src/core/detect/csvDetection';
import { CsvInputError } from '../../../src/core/detect/csvSignals';
import { JointModel, symmetricEigen } from '../../../src/core/detect/jointModel';

/** Deterministic uniform [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * A service-like row: traffic with a daily swing, CPU proportional to traffic, latency flat, all noisy. `cpuPerRequest`
 * breaks the relationship: at 1.5 the CPU stays inside the range it covers over a day, traffic and latency unchanged.
 */
function row(i: number, r: () => number, cpuPerRequest = 1): number[] {
  const rate = 10 * (1 + 0.45 * Math.sin((2 * Math.PI * i) / 120)) * (1 + 0.04 * (r() - 0.5));
  const cpu = 0.05 * rate * cpuPerRequest * (1 + 0.04 * (r() - 0.5));
  const latency = 0.08 * (1 + 0.1 * (r() - 0.5));
  return [rate, cpu, latency];
}

const NAMES = ['request_rate', 'cpu', 'latency'];
const asValues = (x: ReadonlyArray<number | undefined>) => Object.fromEntries(NAMES.map((n, j) => [n, x[j]]));

function csv(rows: ReadonlyArray<ReadonlyArray<number | string | undefined>>, names = NAMES): string {
  const t0 = Date.UTC(2026, 0, 5);
  return [`timestamp,${names.join(',')}`, ...rows.map((x, i) => `${new Date(t0 + i * 5000).toISOString()},${x.map((v) => (v === undefined ? '' : String(v))).join(',')}`)].join('\n');
}

function detect(text: string, options: CsvDetectionOptions): { lines: string[][]; summary: ReturnType<CsvDetection['finish']> } {
  const d = new CsvDetection('in.csv', options);
  const lines: string[][] = [];
  for (const l of text.split('\n')) {
    const o = d.push(l);
    if (o !== undefined) lines.push(o.split(','));
  }
  return { lines, summary: d.finish() };
}

describe('multi-signal model (vigil detect)', () => {
  it('decomposes a symmetric matrix: A v = λ v, eigenvalues descending', () => {
    const a = [
      [4, 1, 0.5],
      [1, 3, 0.2],
      [0.5, 0.2, 1],
    ];
    const { values, vectors } = symmetricEigen(a);
    assert.ok(values[0] >= values[1] && values[1] >= values[2]);
    vectors.forEach((v, k) => {
      for (let i = 0; i < 3; i++) {
        const av = a[i].reduce((s, x, j) => s + x * v[j], 0);
        assert.ok(Math.abs(av - values[k] * v[i]) < 1e-9, `A v = λ v for component ${k}`);
      }
    });
    assert.ok(Math.abs(values.reduce((s, v) => s + v, 0) - 8) < 1e-9, 'trace kept');
  });

  it('finds a broken relationship while every signal stays in its range, names the signals, and stays quiet on normal rows', () => {
    const r = rng(7);
    const train = Array.from({ length: 480 }, (_, i) => row(i, r));
    const fit = JointModel.fit(NAMES, train);
    assert.ok(fit.model, 'reason' in fit ? fit.reason : '');
    const model = fit.model;
    // two more simulated days of normal rows: the calibrated threshold (0.1 % of training rows) holds out of sample
    let flagged = 0;
    for (let i = 480; i < 720; i++) if (model.step(asValues(row(i, r))).score >= 0.9) flagged++;
    assert.ok(flagged <= 3, `${flagged} of 240 normal rows at or above the threshold`);
    const cpuRange = [Math.min(...train.map((x) => x[1])), Math.max(...train.map((x) => x[1]))];
    // CPU per request × 1.5 around the daily trough: CPU is still inside the range it covers every day
    let first: number | undefined;
    let top = '';
    for (let i = 0; i < 30; i++) {
      const x = row(720 + 90 + i, r, 1.5);
      assert.ok(x[1] > cpuRange[0] && x[1] < cpuRange[1], `cpu ${x[1]} inside its training range ${cpuRange}`);
      const s = model.step(asValues(x));
      if (s.score >= 0.9 && first === undefined) {
        first = i;
        top = [...s.contributions].sort((a, b) => b.share - a.share)[0].signal;
      }
    }
    assert.ok(first !== undefined && first <= 3, `detected after ${first} rows`);
    assert.ok(top === 'cpu' || top === 'request_rate', `top contribution ${top}`);
  });

  it('says why it cannot fit: too few rows, fewer than two usable signals', () => {
    const r = rng(1);
    const few = JointModel.fit(NAMES, Array.from({ length: 40 }, (_, i) => row(i, r)));
    assert.equal(few.model, undefined);
    assert.match('reason' in few ? few.reason : '', /40 training rows; the multi-signal model needs at least 60/);
    const empty = JointModel.fit(NAMES, Array.from({ length: 200 }, (_, i) => [row(i, r)[0], undefined, undefined]));
    assert.equal(empty.model, undefined);
    assert.match(empty.notes.join('\n'), /column "cpu" is empty in all 200 training rows/);
  });

  it('is_anomaly lasts while the anomaly lasts, alert marks its onset once; a short dip does not end it', () => {
    const s = new AnomalyState({ enter: 0.9, stay: 0.8, holdRows: 2 });
    const scores = [0.1, 0.95, 0.85, 0.7, 0.92, 0.81, 0.5, 0.4, 0.3, 0.95];
    const steps = scores.map((x) => s.step(x));
    assert.deepEqual(steps.map((x) => (x.inState ? 1 : 0)), [0, 1, 1, 1, 1, 1, 1, 0, 0, 1]);
    assert.deepEqual(steps.map((x) => (x.onset ? 1 : 0)), [0, 1, 0, 0, 0, 0, 0, 0, 0, 1]);
  });

  it('vigil detect on a multi-signal file: the model scores after --train-rows, the state spans the anomaly, one alert', () => {
    const r = rng(3);
    const rows = [...Array.from({ length: 300 }, (_, i) => row(i, r)), ...Array.from({ length: 40 }, (_, i) => row(300 + i, r, 1.6)), ...Array.from({ length: 60 }, (_, i) => row(340 + i, r))];
    const { lines, summary } = detect(csv(rows), { trainRows: 240 });
    assert.equal(summary.detector, 'multi-signal model');
    assert.deepEqual(lines[0], ['timestamp', 'anomaly_score', 'is_anomaly', 'alert', 'contribution_request_rate', 'contribution_cpu', 'contribution_latency']);
    const data = lines.slice(1);
    const state = data.map((l) => Number(l[2]));
    const alerts = data.map((l) => Number(l[3]));
    assert.ok(data.slice(0, 240).every((l) => l[1] === '0' && l[2] === '0'), 'training rows report 0');
    const inFault = state.slice(303, 340).filter(Boolean).length;
    assert.ok(inFault >= 35, `${inFault} of the last 37 fault rows in state`);
    assert.equal(alerts.slice(300, 345).filter(Boolean).length, 1, 'one alert for one anomaly');
    assert.ok(state.slice(350).every((x) => x === 0), 'the state ends after the fault');
  });

  it('bad input: constant and empty columns are documented skips, too few rows falls back with a note, never a crash', () => {
    const r = rng(5);
    const withExtra = Array.from({ length: 300 }, (_, i) => [...row(i, r), 3, undefined]);
    // the constant column (replicas) drops from 3 to 1 after training: a departure of its own
    for (let i = 280; i < 300; i++) withExtra[i][3] = 1;
    const names = [...NAMES, 'replicas', 'empty'];
    const { lines, summary } = detect(csv(withExtra, names), { trainRows: 240 });
    assert.equal(summary.detector, 'multi-signal model');
    assert.match(summary.notes.join('\n'), /column "replicas" is constant \(3\) over the training rows/);
    assert.match(summary.notes.join('\n'), /column "empty" is empty in all 240 training rows; the multi-signal model leaves it out/);
    assert.ok(lines.slice(1 + 282, 1 + 300).every((l) => l[2] === '1'), 'replicas 3 → 1 is an anomalous state');
    assert.ok(lines.slice(1 + 240, 1 + 270).filter((l) => l[2] === '1').length <= 2, 'quiet before it');

    const short = detect(csv(Array.from({ length: 100 }, (_, i) => row(i, r))), { trainRows: 30 });
    assert.equal(short.summary.detector, 'statistical stack');
    assert.match(short.summary.notes.join('\n'), /30 training rows; the multi-signal model needs at least 60 for 3 signals.*statistical stack alone/);

    assert.throws(
      () => detect(csv(Array.from({ length: 100 }, (_, i) => row(i, r))), { trainRows: 400 }),
      (err: unknown) => err instanceof CsvInputError && /100 data rows, but --train-rows is 400: no row is left to score; pass --train-rows below 100/.test(err.message),
    );
    for (const bad of ['NaN', 'Infinity', '-Inf']) {
      const rows: Array<Array<number | string>> = Array.from({ length: 10 }, (_, i) => row(i, r));
      rows[4][1] = bad;
      assert.throws(
        () => detect(csv(rows), { trainRows: 5 }),
        (err: unknown) => err instanceof CsvInputError && new RegExp(`line 6: column "cpu" has "${bad}", not a number; leave the cell empty for a gap`).test(err.message),
      );
    }
    // every column constant in training: nothing joint to learn, said so; the statistical stack scores, still flags the step
    const flat = detect(csv(Array.from({ length: 300 }, (_, i) => [3, 7, i >= 280 ? 9 : 7])), { trainRows: 240 });
    assert.equal(flat.summary.detector, 'statistical stack');
    assert.match(flat.summary.notes.join('\n'), /every signal column is constant over the training rows; there is no joint behaviour to learn; scoring with the statistical stack alone/);
    assert.equal(flat.lines.length, 301, 'a row out for every row in');
    assert.ok(flat.lines.slice(1 + 240, 1 + 280).every((l) => l[2] === '0'), 'quiet while nothing moves');
    assert.ok(flat.lines.slice(1 + 280).some((l) => l[2] === '1'), 'the constant column stepping 7 → 9 is still flagged');
    const none = detect(csv(Array.from({ length: 100 }, (_, i) => row(i, r))), {});
    assert.equal(none.summary.detector, 'statistical stack');
    assert.match(none.summary.notes.join('\n'), /pass --train-rows N/);
  });
});
