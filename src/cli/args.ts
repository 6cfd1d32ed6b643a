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

/**
 * Serves until SIGINT or SIGTERM (or `stopWithStdin`: until the parent closes our stdin), then runs `stop` once.
 * Resolves to the exit code: 0 after a clean stop, 1 when stopping failed.
 */
export function serveUntilStopped(what: string, stop: () => Promise<void>, log: (line: string) => void, options: { readonly stopWithStdin?: boolean } = {}): Promise<number> {
  return new Promise<number>((resolve) => {
    const onStop = (why: string) => {
      log(`${why}: stopping the ${what}`);
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      if (options.stopWithStdin) process.stdin.pause();
      stop().then(
        () => resolve(0),
        (err: unknown) => {
          log(`stop failed: ${(err as Error).message}`);
          resolve(1);
        },
      );
    };
    const onInt = () => onStop('SIGINT');
    const onTerm = () => onStop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    if (options.stopWithStdin) {
      process.stdin.once('end', () => onStop('stdin closed'));
      process.stdin.resume();
    }
  });
}
