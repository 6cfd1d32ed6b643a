import { COMMANDS, type CliCommand } from './commands';

const VERSION = '0.1.0';

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = [
    'vigil — self-healing on-call copilot for Kubernetes',
    '',
    'Usage: vigil <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `vigil <command> --help` for the options of one command.',
  ];
  return lines.join('\n');
}

function commandHelp(c: CliCommand): string {
  return `${c.summary}\n\nUsage: ${c.usage}${c.details ? `\n\n${c.details}` : ''}`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return 0;
  }
  if (name === '--version' || name === '-v') {
    console.log(VERSION);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    console.error(`vigil: unknown command "${name}".\n\n${help()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(commandHelp(command));
    return 0;
  }
  const mod = await command.load();
  return mod.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`vigil: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
