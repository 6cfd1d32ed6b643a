import { promises as fs } from 'node:fs';
import path from 'node:path';
import { mergeSloFiles, parseSloFile, type SloLoadResult } from '../core/observe/sloDefinitions';

/**
 * The SLOs of `slos.paths`: files, or folders of `*.yaml`/`*.yml` files. A path that cannot be read and a definition
 * that is not supported are problems naming file (and line and field); everything else still loads.
 */
export async function loadSloFiles(paths: ReadonlyArray<string>): Promise<SloLoadResult> {
  const results: SloLoadResult[] = [];
  for (const p of paths) {
    let files: string[];
    try {
      const stat = await fs.stat(p);
      files = stat.isDirectory() ? (await fs.readdir(p)).filter((n) => /\.ya?ml$/.test(n)).sort().map((n) => path.join(p, n)) : [p];
    } catch (err) {
      results.push({ slos: [], problems: [`${p}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : (err as Error).message}; fix slos.paths`] });
      continue;
    }
    for (const file of files) {
      try {
        results.push(parseSloFile(file, await fs.readFile(file, 'utf8')));
      } catch (err) {
        results.push({ slos: [], problems: [`${file}: ${(err as Error).message}`] });
      }
    }
  }
  return mergeSloFiles(results);
}
