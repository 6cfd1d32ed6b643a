import { promises as fs } from 'node:fs';
import { parse, YAMLParseError } from 'yaml';
import { parseSignalQueries, type SignalQuery } from '../../core/observe/signalCatalogue';

/** Reads a signals YAML file (see config/signals.default.yaml) merged over the defaults; errors name file and line. */
export async function loadSignalQueriesFile(file: string): Promise<SignalQuery[]> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`Cannot read signals file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; check the path`);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    const line = err instanceof YAMLParseError ? err.linePos?.[0]?.line : undefined;
    throw new Error(`${file}${line ? `:${line}` : ''}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  return parseSignalQueries(doc, file);
}
