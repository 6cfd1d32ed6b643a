import path from 'node:path';
import type { AutomationMode } from '../core/model/automation';
import { DEFAULT_SETTINGS, withSettings } from '../core/settings';
import { JsonLogger } from '../infra/jsonLogger';
import { VigilRuntime } from '../infra/runtime';
import { intOption, parseCliArgs } from './args';

const MODES: ReadonlyArray<AutomationMode> = ['off', 'suggest', 'auto'];

/** `vigil agent`: the headless loop. JSON lines on stdout; SIGTERM/SIGINT stop it cleanly. */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseCliArgs('agent', argv, {
    kubeconfig: { type: 'string' },
    context: { type: 'string' },
    prometheus: { type: 'string' },
    mode: { type: 'string' },
    'state-dir': { type: 'string' },
    'interval-seconds': { type: 'string' },
    namespace: { type: 'string', multiple: true },
    playbooks: { type: 'string' },
    'log-level': { type: 'string' },
  });
  const mode = (values.mode as string | undefined) ?? 'suggest';
  if (!MODES.includes(mode as AutomationMode)) throw new Error(`vigil agent: --mode must be off, suggest or auto, got "${mode}"`);
  if (!values['state-dir']) throw new Error('vigil agent: --state-dir DIR is required (incidents, the audit log and learned state live there)');
  const level = (values['log-level'] as string | undefined) ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new Error(`vigil agent: --log-level must be debug, info, warn or error`);
  const logger = new JsonLogger(undefined, level as 'info');
  const settings = withSettings(DEFAULT_SETTINGS, {
    kubernetes: { kubeconfig: (values.kubeconfig as string | undefined) ?? '', context: (values.context as string | undefined) ?? '', namespaces: (values.namespace as string[] | undefined) ?? [] },
    prometheus: { url: (values.prometheus as string | undefined) ?? process.env.VIGIL_PROMETHEUS_URL ?? '', scrapeIntervalSeconds: intOption('agent', 'interval-seconds', values['interval-seconds'], 15) },
    automation: { mode: mode as AutomationMode },
    model: { enabled: process.env.VIGIL_MODEL !== 'off' },
    agent: { stateDir: path.resolve(String(values['state-dir'])), playbooksDir: (values.playbooks as string | undefined) ?? '', logLevel: level as 'info' },
  });
  const runtime = await VigilRuntime.create({ settings, logger });
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
