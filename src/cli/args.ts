import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Thin wrapper over node:util parseArgs that turns its errors into one clear line. */
export function parseCliArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  command: string,
  argv: string[],
  options: T,
  allowPositionals = false,
): { values: Record<string, string | boolean | string[] | boolean[] | undefined>; positionals: string[] } {
  try {
    const r = parseArgs({ args: argv, options, allowPositionals, strict: true });
    return { values: r.values as Record<string, string | boolean | undefined>, positionals: r.positionals };
  } catch (err) {
    throw new Error(`vigil ${command}: ${(err as Error).message}. Run \`vigil ${command} --help\`.`);
  }
}

/** Parses a whole number option, naming the flag when it is not one. */
export function intOption(command: string, flag: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new Error(`vigil ${command}: --${flag} must be a whole number, got "${String(value)}"`);
  return n;
}
