import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RELEASES_STATE, type ReleaseLog } from '../core/learn/releaseLog';
import { reliabilityReport, type SloReportInput } from '../core/learn/reliabilityReport';
import { reportHtml, reportMarkdown } from '../core/learn/reportRendering';
import { LEARNING_STATE, type LearningState } from '../core/learn/thresholdTuning';
import type { SloDefinition } from '../core/observe/sloDefinitions';
import type { SloDataPort } from '../core/ports';
import type { VigilSettings } from '../core/settings';
import { PrometheusClient, prometheusAuthFromEnv } from '../infra/prometheus/prometheusClient';
import { PrometheusSloData } from '../infra/prometheus/sloData';
import { loadAgentSettings } from '../infra/settingsFile';
import { loadSloFiles } from '../infra/sloFiles';
import { FileStore } from '../infra/store/fileStore';
import { AGENT_FLAGS } from './agent';
import { parseCliArgs } from './args';

/** Prometheus answers at most 11,000 points per series: the period's step is at least a minute and keeps under that. */
const MAX_POINTS = 10_000;

/** "30d", "12h", "90m", "2w" → milliseconds; anything else is named with the fix. */
export function parseSince(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(m|h|d|w)$/.exec(text.trim());
  if (!m) throw new Error(`vigil report: --since "${text}" is not a duration; use a number and a unit, e.g. 30d, 12h, 90m or 2w`);
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 }[m[2] as 'm' | 'h' | 'd' | 'w'];
  return Number(m[1]) * unit;
}

/**
 * `vigil report [--since 30d] [--format md|html|json] [--state-dir DIR] [--out FILE]`: reads the state directory, and
 * with SLOs configured as for the agent (`--slos`, `--config`, VIGIL_SLOS; `--prometheus` for their SLIs) their budgets.
 */
export async function run(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values } = parseCliArgs('report', argv, { ...AGENT_FLAGS, since: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' } });
  const format = String(values.format ?? 'md');
  if (!['md', 'html', 'json'].includes(format)) throw new Error(`vigil report: --format "${format}" is not known; use md, html or json`);
  const since = parseSince(String(values.since ?? '30d'));
  const { settings } = loadAgentSettings(values, env);
  const stateDir = path.resolve(settings.agent.stateDir || '.vigil-state');
  const store = new FileStore(stateDir);
  const until = Date.now();
  const slos = await readSlos(settings, until - since, until, env);
  const report = reliabilityReport({
    incidents: await store.listIncidents(),
    releases: await store.readState<ReleaseLog>(RELEASES_STATE),
    learning: await store.readState<LearningState>(LEARNING_STATE),
    since: until - since,
    until,
    slos: slos.inputs,
    sloProblems: slos.problems,
  });
  const text = format === 'md' ? reportMarkdown(report) : format === 'html' ? reportHtml(report, { nonce: randomBytes(16).toString('base64') }) : `${JSON.stringify(report, null, 1)}\n`;
  if (values.out) {
    await writeFile(String(values.out), text);
    console.log(`report written to ${path.resolve(String(values.out))} (${report.incidents.length} incidents)`);
  } else process.stdout.write(text);
  return 0;
}

/** The SLOs of `slos.paths` and each one's SLI over [from, to] from Prometheus; a read that fails is that SLO's `unread`. */
async function readSlos(settings: VigilSettings, from: number, to: number, env: NodeJS.ProcessEnv): Promise<{ inputs: SloReportInput[]; problems: string[] }> {
  if (!settings.slos.paths.length) return { inputs: [], problems: [] };
  const loaded = await loadSloFiles(settings.slos.paths);
  const data: SloDataPort | undefined = settings.prometheus.url ? new PrometheusSloData(new PrometheusClient({ url: settings.prometheus.url, auth: prometheusAuthFromEnv(env) })) : undefined;
  const stepMs = Math.max(60_000, Math.ceil((to - from) / MAX_POINTS / 60_000) * 60_000);
  const inputs = await Promise.all(
    loaded.slos.map(async (slo: SloDefinition): Promise<SloReportInput> => {
      if (!data) return { slo, points: [], stepMs, unread: 'unknown: the SLIs are read from Prometheus; pass --prometheus URL (or set prometheus.url)' };
      try {
        return { slo, points: (await data.read(slo, from, to, stepMs)).points, stepMs };
      } catch (err) {
        return { slo, points: [], stepMs, unread: `unknown: ${(err as Error).message}` };
      }
    }),
  );
  return { inputs, problems: loaded.problems };
}
