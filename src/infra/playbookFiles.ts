import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BUILTIN_PLAYBOOKS_SOURCE, BUILTIN_PLAYBOOKS_YAML } from '../core/decide/builtinPlaybooks';
import { formatPlaybookError, parsePlaybooks, type PlaybookError } from '../core/decide/playbookLoader';
import { mergePlaybooks } from '../core/decide/playbookMatcher';
import type { Playbook } from '../core/model/playbook';

/**
 * Built-in playbooks plus the user's `*.yaml` / `*.yml` files in a folder (`.vigil/playbooks/`).
 * A bad file or document is reported with file, line and field; everything else still loads.
 */
export async function loadPlaybooks(dir: string | undefined): Promise<{ playbooks: Playbook[]; errors: PlaybookError[]; messages: string[] }> {
  const builtin = parsePlaybooks(BUILTIN_PLAYBOOKS_YAML, BUILTIN_PLAYBOOKS_SOURCE);
  const errors: PlaybookError[] = [...builtin.errors];
  const user: Playbook[] = [];
  if (dir) {
    let names: string[] = [];
    try {
      names = (await fs.readdir(dir)).filter((n) => /\.ya?ml$/.test(n)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const name of names) {
      const file = path.join(dir, name);
      const r = parsePlaybooks(await fs.readFile(file, 'utf8'), file);
      user.push(...r.playbooks);
      errors.push(...r.errors);
    }
  }
  return { playbooks: mergePlaybooks(builtin.playbooks, user), errors, messages: errors.map(formatPlaybookError) };
}
