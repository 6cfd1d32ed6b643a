/**
 * `npm run bench:replay -- DIR [DIR …]`: replays every incident recorded in the state directories (for example
 * those `npm run bench:heal` prints) through the live core with unchanged configuration, and prints per incident
 * whether replay reached the live decisions: the same detection frame within one interval, the same diagnosis,
 * the same steps in order; then "N of M match".
 */
import path from 'node:path';
import { textTable } from '../../src/cli/faultDrill';
import { replayIncident } from '../../src/core/learn/replay';
import { DIAGNOSIS_TITLES, type DiagnosisKind } from '../../src/core/model/diagnosis';
import { targetLabel } from '../../src/core/model/target';
import { FileStore } from '../../src/infra/store/fileStore';

const yes = (b: boolean | undefined) => (b ? 'yes' : 'NO');
const title = (k: DiagnosisKind | undefined) => (k ? DIAGNOSIS_TITLES[k] : '—');
const seconds = (ms: number | undefined) => (ms === undefined ? '—' : `${ms >= 0 ? '+' : ''}${Math.round(ms / 1000)} s`);

async function main(): Promise<void> {
  const dirs = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  if (dirs.length === 0) throw new Error('name one or more state directories (bench:heal prints them at its end)');
  const rows: string[][] = [];
  const notes: string[] = [];
  let matched = 0;
  let total = 0;
  for (const dir of dirs) {
    const incidents = await new FileStore(path.resolve(dir)).listIncidents();
    if (incidents.length === 0) console.error(`no incidents in ${dir}`);
    for (const incident of incidents) {
      total++;
      const r = await replayIncident(incident);
      const eq = r.equivalent;
      if (eq?.all) matched++;
      const dt = r.replayed.firstDetection !== undefined && r.recorded.firstDetection !== undefined ? r.replayed.firstDetection - r.recorded.firstDetection : undefined;
      rows.push([
        incident.id,
        targetLabel(incident.target),
        `${yes(eq?.detection)} (${seconds(dt)})`,
        `${yes(eq?.diagnosis)} (${title(r.recorded.diagnosis)}${eq?.diagnosis ? '' : ` → ${title(r.replayed.diagnosis)}`})`,
        `${yes(eq?.steps)} (${(r.recorded.steps ?? []).join(', ') || 'none'}${eq?.steps ? '' : ` → ${(r.replayed.steps ?? []).join(', ') || 'none'}`})`,
        yes(eq?.all),
      ]);
      for (const n of r.notes ?? []) notes.push(`${incident.id}: ${n}`);
    }
  }
  console.log(`\nbench:replay — every recorded incident through the live core on a virtual clock, configuration unchanged\n`);
  console.log(textTable(['incident', 'target', 'detection ±1 interval', 'diagnosis', 'steps in order', 'match'], rows));
  if (notes.length) console.log(`\nReplay assumed:\n${notes.map((n) => `  - ${n}`).join('\n')}`);
  console.log(`\n${matched} of ${total} match the live decisions`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
