import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../../../src/cli/report';
import { RELEASES_STATE, ReleaseRecorder, type ReleaseLog } from '../../../src/core/learn/releaseLog';
import type { ReliabilityReport } from '../../../src/core/learn/reliabilityReport';
import { reportHtml } from '../../../src/core/learn/reportRendering';
import type { Incident } from '../../../src/core/model/incident';
import { FileStore } from '../../../src/infra/store/fileStore';
import { badRelease, HOSTILE } from './storyFixtures';

const HOUR = 3_600_000;

async function cli(args: string[]): Promise<{ code: number; out: string }> {
  const write = process.stdout.write.bind(process.stdout);
  let out = '';
  process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write;
  try {
    const code = await run(args);
    return { code, out };
  } finally {
    process.stdout.write = write;
  }
}

describe('reliability report', () => {
  let dir: string;
  const now = Date.now();
  const t0 = now - 10 * HOUR;
  const auto = badRelease('inc-a', t0, { label: 'real', detectAfterMs: 15_000, recoverAfterMs: 30_000 });
  const approved = badRelease('inc-b', t0 + HOUR, { approved: true, detectAfterMs: 5_000, recoverAfterMs: 60_000 });
  const falseAlarm = badRelease('inc-c', t0 + 2 * HOUR, { label: 'false-alarm' });
  const quiet = badRelease('inc-d', t0 + 3 * HOUR, { detectAfterMs: 10_000 });
  const old = badRelease('inc-old', now - 40 * 24 * HOUR);
  const withoutAction: Incident = {
    ...quiet.incident,
    state: 'closed',
    timeline: quiet.incident.timeline.filter((e) => e.kind === 'detected' || e.kind === 'diagnosed'),
    outcome: { kind: 'resolved-without-action', t: quiet.times.detection + 60_000 },
  };

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-report-'));
    const store = new FileStore(dir);
    for (const i of [auto.incident, approved.incident, falseAlarm.incident, withoutAction, old.incident]) await store.saveIncident(i);
    // releases as the agent records them, from its facts: the four bad ones, Vigil's own rollbacks, two good releases of cart
    const recorder = new ReleaseRecorder(store, { log: () => undefined, child: () => ({ log: () => undefined, child: () => undefined as never }) });
    for (const x of [auto, approved, falseAlarm]) for (const f of x.incident.recording.facts) recorder.fact(f);
    // nobody acted on the last one: no rollback after it
    for (const f of quiet.incident.recording.facts) if (f.t < quiet.times.acted) recorder.fact(f);
    recorder.fact(auto.incident.recording.facts.find((f) => f.kind === 'revision-changed')!); // seen twice, recorded once
    for (const k of [1, 2]) recorder.fact({ kind: 'revision-changed', t: t0 + k * 2 * HOUR + 5 * 60_000, target: { kind: 'service', namespace: 'shop', name: 'cart' }, message: 'cart moved', attributes: { from: k, to: k + 1 } });
    await recorder.flush();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('records every release it sees, once', async () => {
    const log = JSON.parse(readFileSync(path.join(dir, 'state', `${RELEASES_STATE}.json`), 'utf8')) as ReleaseLog;
    // 4 bad releases + the rollbacks of the 3 that acted + 2 cart releases
    assert.equal(log.releases.length, 4 + 3 + 2);
  });

  it('recomputes MTTR, time to detect, resolutions, false-alarm and change failure rates from the incident files', async () => {
    const { code, out } = await cli(['--state-dir', dir, '--since', '1d', '--format', 'json']);
    assert.equal(code, 0);
    const r = JSON.parse(out) as ReliabilityReport;
    // recomputed by hand from the files: onset → recovery and onset → detection, false alarms left out
    const files = readdirSync(path.join(dir, 'incidents')).map((f) => JSON.parse(readFileSync(path.join(dir, 'incidents', f), 'utf8')) as Incident);
    assert.equal(files.length, 5);
    const recent = files.filter((i) => i.openedAt >= now - 24 * HOUR);
    assert.deepEqual(r.incidents.map((i) => i.id), recent.map((i) => i.id).sort());
    const ttr = [auto, approved].map((x) => x.times.recovered - x.times.onset).sort((a, b) => a - b);
    assert.deepEqual(ttr, [46_000, 86_000]);
    assert.deepEqual(r.mttr, { n: 2, median: ttr[0], p90: ttr[1] });
    const ttd = [auto, approved, quiet].map((x) => x.times.detection - x.times.onset).sort((a, b) => a - b);
    assert.deepEqual(r.timeToDetect, { n: 3, median: ttd[1], p90: ttd[2] });
    assert.deepEqual(r.byResolution, { automatically: 1, 'by approval': 1, 'without action': 1, escalated: 0, rejected: 0, 'false alarm': 1, open: 0 });
    assert.deepEqual(r.falseAlarms, { falseAlarms: 1, labelled: 2, rate: 0.5 });
    // the team's releases: 4 bad + 2 good (Vigil's rollbacks are not releases); blamed by a real incident: a, b, d
    assert.deepEqual(r.changeFailure, { releases: 6, failed: 3, rate: 0.5, recorded: true });
    assert.deepEqual(r.actions, { rollback: { recovered: 3 } });
    assert.equal(r.weeks.reduce((n, w) => n + w.incidents, 0), 4);
  });

  it('prints the figures as Markdown for people', async () => {
    const { out } = await cli(['--state-dir', dir, '--since', '1d', '--format', 'md']);
    assert.match(out, /\*\*MTTR \(symptom onset → verified recovery\)\*\*: median 46 s, p90 86 s \(2 incidents\)/);
    assert.match(out, /\*\*Time to detect \(symptom onset → detection\)\*\*: median 10 s, p90 15 s \(3 incidents\)/);
    assert.match(out, /\*\*Change failure rate\*\*: 50% \(3 of 6 releases blamed for an incident\)/);
    assert.match(out, /\*\*False-alarm rate \(from labels\)\*\*: 50% \(1 of 2 labelled\)/);
    assert.match(out, /\| rollback \| 3 recovered \|/);
    assert.doesNotMatch(out, /\d[eE][+-]?\d/);
  });

  it('writes one self-contained HTML file: strict CSP, no script, SVG charts, every string escaped', async () => {
    const { out } = await cli(['--state-dir', dir, '--since', '30d', '--format', 'html']);
    assert.match(out, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-[^']+';">/);
    assert.doesNotMatch(out, /<script|src=|href=|url\(/i);
    assert.equal((out.match(/<svg /g) ?? []).length, 2);
    assert.match(out, /MTTR \(symptom onset → verified recovery\)<\/th><td>median 46 s, p90 86 s/);
    const hostile = reportHtml({ ...(JSON.parse((await cli(['--state-dir', dir, '--format', 'json'])).out) as ReliabilityReport), incidents: [{ id: HOSTILE, target: HOSTILE, openedAt: now, resolution: 'open', timeToDetectMs: 0 }] }, { nonce: 'n"><script>' });
    assert.doesNotMatch(hostile, /<img|<script/);
  });

  it('names a bad --since or --format with the fix', async () => {
    await assert.rejects(run(['--state-dir', dir, '--since', 'a month']), /--since "a month" is not a duration; use a number and a unit, e\.g\. 30d/);
    await assert.rejects(run(['--state-dir', dir, '--format', 'pdf']), /--format "pdf" is not known; use md, html or json/);
  });
});
