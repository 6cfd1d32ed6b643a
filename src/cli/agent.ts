import path from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { SETTINGS_SCHEMA } from '../core/settingsSchema';
import { JsonLogger } from '../infra/jsonLogger';
import { formatEffectiveSettings, loadAgentSettings } from '../infra/settingsFile';
import { parseCliArgs } from './args';

/** The agent's flags: one per setting the table gives a flag (lists repeat), plus the file and --print-config. */
export const AGENT_FLAGS: NonNullable<ParseArgsConfig['options']> = {
  ...Object.fromEntries(
    SETTINGS_SCHEMA.filter((d) => d.flag).map((d) => [d.flag as string, d.type === 'boolean' ? { type: 'boolean' as const } : d.type === 'array' ? { type: 'string' as const, multiple: true } : { type: 'string' as const }]),
  ),
  config: { type: 'string' },
  'print-config': { type: 'boolean' },
};

/**
 * `vigil agent`: the headless loop. JSON lines on stdout; SIGTERM/SIGINT stop it cleanly.
 * Settings: flag > VIGIL_* environment > `--config FILE` (or VIGIL_CONFIG) > default.
 */
export async function run(argv: string[], io: { env: NodeJS.ProcessEnv; write: (text: string) => void } = { env: process.env, write: (t) => process.stdout.write(t) }): Promise<number> {
  const { values } = parseCliArgs('agent', argv, AGENT_FLAGS);
  const resolved = loadAgentSettings(values, io.env);
  if (values['print-config']) {
    io.write(formatEffectiveSettings(resolved, io.env));
    return 0;
  }
  const { settings, sources } = resolved;
  if (!settings.agent.stateDir) throw new Error('vigil agent: a state directory is required: --state-dir DIR, VIGIL_STATE_DIR or agent.stateDir in the settings file (incidents, the audit log and learned state live there)');
  const logger = new JsonLogger(undefined, settings.agent.logLevel);
  const counts = Object.values(sources).reduce<Record<string, number>>((acc, s) => ({ ...acc, [s.split(' ')[0]]: (acc[s.split(' ')[0]] ?? 0) + 1 }), {});
  logger.log('info', `settings: ${Object.entries(counts).map(([k, n]) => `${n} from ${k}`).join(', ')} (\`vigil agent --print-config\` shows each)`, { sources: Object.fromEntries(Object.entries(sources).filter(([, s]) => s !== 'default')) });
  // loaded here, not at the top: --print-config and a bad setting need no Kubernetes client
  const { VigilRuntime } = await import('../infra/runtime');
  const runtime = await VigilRuntime.create({ settings: { ...settings, agent: { ...settings.agent, stateDir: path.resolve(settings.agent.stateDir) } }, logger, incidentResources: true });
  await runtime.start();
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.log('info', `received ${signal}, stopping`);
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await runtime.dispose();
  logger.log('info', 'stopped cleanly');
  return 0;
}
