import path from 'node:path';
import { FileStore } from '../infra/store/fileStore';
import { parseCliArgs } from './args';

/** `vigil audit verify --state-dir DIR` and `vigil audit show --state-dir DIR [--tail N]`. */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCliArgs('audit', argv, { 'state-dir': { type: 'string' }, tail: { type: 'string' }, json: { type: 'boolean' } }, true);
  const sub = positionals[0];
  const stateDir = path.resolve(String(values['state-dir'] ?? '.vigil-state'));
  const store = new FileStore(stateDir);
  if (sub === 'verify') {
    const r = await store.verifyAudit();
    if (values.json) console.log(JSON.stringify(r));
    if (r.ok) {
      if (!values.json) console.log(`audit log OK: ${r.entries} entries, hash chain intact (${path.join(stateDir, 'audit.jsonl')})`);
      return 0;
    }
    if (!values.json) console.error(`audit log FAILED verification at line ${r.firstBadLine}: ${r.problem}\n(${path.join(stateDir, 'audit.jsonl')}; ${r.entries} entries before it verify)`);
    return 1;
  }
  if (sub === 'show') {
    const entries = await store.readAudit();
    const tail = values.tail ? Number(values.tail) : entries.length;
    for (const e of entries.slice(-tail)) {
      console.log(values.json ? JSON.stringify(e) : `${String(e.seq).padStart(5)}  ${new Date(e.t).toISOString()}  ${e.kind.padEnd(16)} ${e.actor.padEnd(22)} ${e.summary}`);
    }
    return 0;
  }
  console.error('vigil audit: expected a subcommand: `verify` or `show`.\nUsage: vigil audit verify --state-dir DIR | vigil audit show --state-dir DIR [--tail N] [--json]');
  return 2;
}
