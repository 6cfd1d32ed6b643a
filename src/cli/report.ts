import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RELEASES_STATE, type ReleaseLog } from '../core/learn/releaseLog';
import { reliabilityReport } from '../core/learn/reliabilityReport';
import { reportHtml, reportMarkdown } from '../core/learn/reportRendering';
import { LEARNING_STATE, type LearningState } from '../core/learn/thresholdTuning';
import { FileStore } from '../infra/store/fileStore';
import { parseCliArgs } from './args';

/** "30d", "12h", "90m", "2w" → milliseconds; anything else is named with the fix. */
export function parseSince(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(m|h|d|w)$/.exec(text.trim());
  if (!m) throw new Error(`vigil report: --since "${text}" is not a duration; use a number and a unit, e.g. 30d, 12h, 90m or 2w`);
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 }[m[2] as 'm' | 'h' | 'd' | 'w'];
  return Number(m[1]) * unit;
}

/** `vigil report [--since 30d] [--format md|html|json] [--state-dir DIR] [--out FILE]`: only reads the state directory. */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseCliArgs('report', argv, { 'state-dir': { type: 'string' }, since: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' } });
  const format = String(values.format ?? 'md');
  if (!['md', 'html', 'json'].includes(format)) throw new Error(`vigil report: --format "${format}" is not known; use md, html or json`);
  const since = parseSince(String(values.since ?? '30d'));
  const stateDir = path.resolve(String(values['state-dir'] ?? '.vigil-state'));
  const store = new FileStore(stateDir);
  const until = Date.now();
  const report = reliabilityReport({
    incidents: await store.listIncidents(),
    releases: await store.readState<ReleaseLog>(RELEASES_STATE),
    learning: await store.readState<LearningState>(LEARNING_STATE),
    since: until - since,
    until,
  });
  const text = format === 'md' ? reportMarkdown(report) : format === 'html' ? reportHtml(report, { nonce: randomBytes(16).toString('base64') }) : `${JSON.stringify(report, null, 1)}\n`;
  if (values.out) {
    await writeFile(String(values.out), text);
    console.log(`report written to ${path.resolve(String(values.out))} (${report.incidents.length} incidents)`);
  } else process.stdout.write(text);
  return 0;
}
