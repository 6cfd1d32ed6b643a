import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { formatReplay, replayIncident } from '../core/learn/replay';
import { DIAGNOSIS_TITLES } from '../core/model/diagnosis';
import { describeTimelineEntry, type Incident } from '../core/model/incident';
import { targetLabel } from '../core/model/target';
import { loadPlaybooks } from '../infra/playbookFiles';
import { loadAgentSettings } from '../infra/settingsFile';
import { FileStore } from '../infra/store/fileStore';
import { parseCliArgs } from './args';

/**
 * `vigil replay --list` lists recorded incidents; `vigil replay <id|file>` runs the live core again on one's
 * recording (virtual clock, recorded data, dry cluster) and compares with what ran then: with today's playbooks and
 * settings (`--with current`, the what-if), with the recorded ones (`--with unchanged`), or prints the recorded timeline.
 */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCliArgs('replay', argv, { list: { type: 'boolean' }, 'state-dir': { type: 'string' }, with: { type: 'string' }, export: { type: 'string' }, json: { type: 'boolean' }, playbooks: { type: 'string' }, config: { type: 'string' } }, true);
  const stateDir = path.resolve(String(values['state-dir'] ?? '.vigil-state'));
  const store = new FileStore(stateDir);
  if (values.list) {
    const incidents = await store.listIncidents();
    if (values.json) {
      console.log(JSON.stringify(incidents.map(summary)));
      return 0;
    }
    if (incidents.length === 0) {
      console.log(`No incidents recorded in ${stateDir}.`);
      return 0;
    }
    const rows = incidents.map((i) => Object.values(summary(i)).map(String));
    const header = ['id', 'opened (UTC)', 'target', 'diagnosis', 'outcome'];
    const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
    const line = (cells: string[]) => cells.map((cell, c) => cell.padEnd(widths[c])).join('  ');
    console.log([line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n'));
    return 0;
  }
  const ref = positionals[0];
  if (!ref) throw new Error('vigil replay: name an incident id or an exported file, or use --list');
  const incident = await load(ref, store, stateDir);
  if (values.export) {
    const out = path.resolve(String(values.export));
    await fs.writeFile(out, `${JSON.stringify(incident, null, 1)}\n`);
    console.log(`Exported ${incident.id} (${incident.recording.frames.length} frames, ${incident.recording.facts.length} facts) to ${out}; replay it anywhere with \`vigil replay ${out}\`.`);
    return 0;
  }
  const mode = String(values.with ?? 'current');
  if (mode !== 'current' && mode !== 'recorded' && mode !== 'unchanged') throw new Error(`vigil replay: --with must be current, unchanged or recorded, got "${mode}"`);
  const start = Math.min(incident.openedAt, ...incident.recording.frames.map((f) => f.t), ...incident.recording.facts.map((f) => f.t));
  if (mode === 'recorded') {
    const lines = [`Recorded timeline of ${incident.id} (${targetLabel(incident.target)})`, ''];
    for (const e of incident.timeline) lines.push(`  +${String(Math.round((e.t - start) / 1000)).padStart(5)}s  ${e.kind.padEnd(10)} ${describeTimelineEntry(e)}`);
    console.log(values.json ? JSON.stringify(incident.timeline) : lines.join('\n'));
    return 0;
  }
  let config = {};
  if (mode === 'current') {
    // today's configuration: the agent's settings (file, environment) and playbooks
    const { settings } = loadAgentSettings(values.config ? { config: String(values.config) } : {}, process.env);
    const loaded = await loadPlaybooks(values.playbooks ? String(values.playbooks) : settings.agent.playbooksDir || path.join(process.cwd(), '.vigil', 'playbooks'));
    for (const m of loaded.messages) console.error(`playbook not loaded: ${m}`);
    config = { playbooks: loaded.playbooks, settings };
  }
  const result = await replayIncident(incident, config);
  console.log(values.json ? JSON.stringify(result) : formatReplay(result, start));
  return 0;
}

function summary(i: Incident) {
  return {
    id: i.id,
    opened: new Date(i.openedAt).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ''),
    target: targetLabel(i.target),
    diagnosis: i.diagnosis ? DIAGNOSIS_TITLES[i.diagnosis.kind] : '—',
    outcome: i.outcome ? `${i.outcome.kind}${i.outcome.recoveredBy ? ` (${i.outcome.recoveredBy})` : ''}${i.outcome.label ? `, labelled ${i.outcome.label}` : ''}` : i.state,
  };
}

async function load(ref: string, store: FileStore, stateDir: string): Promise<Incident> {
  if (ref.endsWith('.json') || existsSync(ref)) {
    let parsed: Incident;
    try {
      parsed = JSON.parse(await fs.readFile(ref, 'utf8')) as Incident;
    } catch (err) {
      throw new Error(`vigil replay: cannot read ${ref}: ${(err as Error).message}`);
    }
    if (!parsed?.id || !parsed.recording) throw new Error(`vigil replay: ${ref} is not an exported Vigil incident (no id or recording)`);
    return parsed;
  }
  const i = await store.loadIncident(ref);
  if (!i) throw new Error(`vigil replay: no incident "${ref}" in ${stateDir}; list them with \`vigil replay --list --state-dir ${stateDir}\``);
  return i;
}
