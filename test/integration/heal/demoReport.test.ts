import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { incidentTimes } from '../../../src/core/learn/incidentStory';
import type { Incident } from '../../../src/core/model/incident';
import { formatDurationMs } from '../../../src/core/observe/signalWording';
import { cli } from './agentProcess';

/**
 * `vigil report --since 1d --format md` on the state directory `vigil demo` (what `npm run demo` runs) leaves: the
 * shipped CLI twice, as a user runs it, then every printed figure recomputed from the incident files on disk.
 * Onset, detection and recovery of one incident are core/learn/incidentStory's (their one home); the counts,
 * medians, p90s and rates are recomputed here from the files, not through the report's code.
 */
const DEMO_TIMEOUT_MS = 9 * 60_000;

interface IncidentFile extends Incident {
  readonly outcome?: Incident['outcome'];
}

/** Nearest rank, as the report says it computes (and as anyone checking by hand would). */
function nearestRank(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(q * s.length) - 1)];
}

describe('vigil report on the demo\'s state directory', function () {
  this.timeout(DEMO_TIMEOUT_MS + 120_000);
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-demo-report-'));
  after(() => rmSync(stateDir, { recursive: true, force: true }));

  it('prints the figures the incident files give', async () => {
    const demo = await cli(['demo', '--state-dir', stateDir], DEMO_TIMEOUT_MS);
    const summary = demo.stdout.slice(demo.stdout.indexOf('Summary'));
    console.log(`      vigil demo exited ${demo.status}:\n${summary.split('\n').slice(0, 8).map((l) => `        ${l}`).join('\n')}`);
    assert.ok(demo.status === 0 || demo.status === 1, `vigil demo ran to its summary (exit ${demo.status}):\n${demo.stdout.slice(-2000)}\n${demo.stderr.slice(-2000)}`);

    const report = await cli(['report', '--since', '1d', '--format', 'md', '--state-dir', stateDir], 60_000);
    assert.equal(report.status, 0, report.stderr);
    const md = report.stdout;
    console.log(`      vigil report --since 1d --format md:\n${md.split('\n').filter((l) => l.startsWith('- **')).map((l) => `        ${l}`).join('\n')}`);
    const headline = (label: string): string => {
      const line = md.split('\n').find((l) => l.startsWith(`- **${label}**: `));
      assert.ok(line, `the report has a "${label}" line:\n${md}`);
      return line.slice(`- **${label}**: `.length);
    };

    // the incident files, as the agent wrote them
    const dir = path.join(stateDir, 'incidents');
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    const incidents = files.map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as IncidentFile);
    assert.ok(incidents.length >= 3, `the demo's three faults left incidents (${files.join(', ')})`);

    // resolutions, from the raw outcome and timeline
    const resolution = (i: IncidentFile): string =>
      i.outcome?.kind === 'false-alarm' || i.outcome?.label === 'false-alarm'
        ? 'false alarm'
        : i.outcome?.kind === 'recovered'
          ? i.timeline.some((e) => e.kind === 'approved')
            ? 'by approval'
            : 'automatically'
          : i.outcome?.kind === 'resolved-without-action'
            ? 'without action'
            : i.outcome?.kind === 'escalated' || i.state === 'escalated'
              ? 'escalated'
              : i.outcome?.kind === 'rejected'
                ? 'rejected'
                : 'open';
    const counts = new Map<string, number>();
    for (const i of incidents) counts.set(resolution(i), (counts.get(resolution(i)) ?? 0) + 1);
    const order = ['automatically', 'by approval', 'without action', 'escalated', 'rejected', 'false alarm', 'open'];
    assert.equal(headline('Incidents'), `${incidents.length}: ${order.filter((k) => counts.get(k)).map((k) => `${counts.get(k)} ${k}`).join(', ')}`);
    // the demo runs in auto mode: its recovered incidents recovered without a human
    assert.ok((counts.get('automatically') ?? 0) >= 1, 'at least one incident recovered automatically');
    assert.equal(counts.get('by approval') ?? 0, 0, 'nobody approved anything in the demo');

    // MTTR and time to detect, median and p90 over the incidents that were not false alarms
    const real = incidents.filter((i) => resolution(i) !== 'false alarm');
    const ttr: number[] = [];
    const ttd: number[] = [];
    for (const i of real) {
      const t = incidentTimes(i);
      ttd.push(Math.max(0, t.detection - t.onset));
      if (i.outcome?.kind === 'recovered') {
        // recovery is the verified outcome's time in the file
        assert.equal(t.recovery, i.outcome.t);
        assert.ok(t.onset <= t.detection && t.detection <= i.outcome.t, `${i.id}: onset ≤ detection ≤ recovery`);
        ttr.push(Math.max(0, i.outcome.t - t.onset));
      }
    }
    const q = (xs: number[]) => `median ${formatDurationMs(nearestRank(xs, 0.5))}, p90 ${formatDurationMs(nearestRank(xs, 0.9))} (${xs.length} incident${xs.length === 1 ? '' : 's'})`;
    assert.equal(headline('MTTR (symptom onset → verified recovery)'), q(ttr));
    assert.equal(headline('Time to detect (symptom onset → detection)'), q(ttd));
    // the demo's own clock agrees: an incident recovers within the drill's time (injection → healed, 100 s at most per fault)
    for (const x of ttr) assert.ok(x > 0 && x <= 100_000 + 60_000, `time to recover ${x} ms`);

    // the change failure rate: the demo's bad release is a release Vigil saw and blamed
    const cfr = headline('Change failure rate');
    const m = /^(\d+(?:\.\d+)?)% \((\d+) of (\d+) releases blamed for an incident\)$/.exec(cfr);
    assert.ok(m, `change failure rate as a figure: ${cfr}`);
    const [failed, releases] = [Number(m[2]), Number(m[3])];
    assert.ok(failed >= 1 && releases >= failed, `the bad release was seen and blamed: ${cfr}`);
    assert.ok(Math.abs(Number(m[1]) - (100 * failed) / releases) < 0.51, `the rate is failed / releases: ${cfr}`);
    const blamedRelease = real.some((i) => i.diagnosis?.kind === 'bad-release' && `${i.diagnosis.target.namespace}/${i.diagnosis.target.name}` === 'shop/frontend');
    assert.ok(blamedRelease, 'an incident file blames the bad release of shop/frontend');

    // one table row per incident file, with its resolution and times
    for (const i of incidents) {
      const row = md.split('\n').find((l) => l.startsWith('|') && l.includes(`| ${i.id} |`));
      assert.ok(row, `the incidents table lists ${i.id}`);
      const t = incidentTimes(i);
      assert.ok(row.includes(`| ${resolution(i)}`), `${i.id} resolved ${resolution(i)}: ${row}`);
      assert.ok(row.includes(`| ${formatDurationMs(Math.max(0, t.detection - t.onset))} |`), `${i.id} time to detect: ${row}`);
    }
  });
});
