import os from 'node:os';
import path from 'node:path';
import { MODEL_HISTORY_STATE, RETRAIN_MIN_WINDOWS, normalWindowsOf, retrainHoldout, type ModelHistoryDocument } from '../core/loop/modelEvidence';
import type { LogFields, LoggerPort, LogLevel } from '../core/ports';
import { FileStore } from '../infra/store/fileStore';
import { TfjsModel } from '../infra/tfjs/tfjsModel';
import { MODEL_SIGNALS, WINDOW_SIZE } from '../infra/tfjs/windowSpec';
import { parseCliArgs } from './args';

export interface RetrainOutput {
  out(line: string): void;
  err(line: string): void;
}

const consoleOutput: RetrainOutput = { out: (l) => console.log(l), err: (l) => process.stderr.write(`${l}\n`) };

/**
 * `vigil retrain-model --state-dir DIR [--service KEY] [--base-model DIR]`: retrains each service's model on the
 * normal windows the agent recorded (state/model-history.json), keeping the previous model where the new one
 * is worse on the held-out recent windows; every record is audited. Run it with the agent stopped (a running
 * agent retrains on its own schedule, and on `vigil.retrainModel` in VS Code).
 */
export async function run(argv: string[], output: RetrainOutput = consoleOutput): Promise<number> {
  const { values } = parseCliArgs('retrain-model', argv, { 'state-dir': { type: 'string' }, service: { type: 'string', multiple: true }, 'base-model': { type: 'string' } });
  const stateDir = path.resolve(String(values['state-dir'] ?? '.vigil-state'));
  const store = new FileStore(stateDir);
  const history = await store.readState<ModelHistoryDocument>(MODEL_HISTORY_STATE);
  if (!history || typeof history.services !== 'object') {
    output.err(`vigil retrain-model: no recorded model history in ${stateDir} (state/${MODEL_HISTORY_STATE}.json); run the agent with the model on (the default) until it has seen normal traffic, then retry.`);
    return 1;
  }
  if (history.windowSize !== WINDOW_SIZE || history.signals?.join() !== MODEL_SIGNALS.join()) {
    output.err(`vigil retrain-model: the history in ${stateDir} was recorded for other signals or window size; it cannot train this version's model. Let the agent record a new one.`);
    return 1;
  }
  const wanted = ((values.service as string[] | undefined) ?? Object.keys(history.services)).map((k) => (k.includes(':') ? k : `service:${k}`));
  const unknown = wanted.filter((k) => !history.services[k]);
  if (unknown.length) {
    output.err(`vigil retrain-model: no history for ${unknown.join(', ')}; recorded services: ${Object.keys(history.services).join(', ') || 'none'}`);
    return 1;
  }
  const model = new TfjsModel({ stateDir, baseModelDir: values['base-model'] ? path.resolve(String(values['base-model'])) : undefined, logger: stderrLogger(output) });
  const actor = `user:${os.userInfo().username} (cli)`;
  let retrained = 0;
  try {
    for (const key of wanted) {
      const h = history.services[key];
      const { windows, ends } = normalWindowsOf(h, WINDOW_SIZE, -Infinity, false);
      if (windows.length < RETRAIN_MIN_WINDOWS) {
        output.out(`${key}: skipped, ${windows.length} normal windows recorded (${RETRAIN_MIN_WINDOWS} needed)`);
        continue;
      }
      const r = await model.retrain(key, windows, { holdout: retrainHoldout(ends, h.tunedUpTo ?? -Infinity) });
      await store.appendAudit({ t: r.t, actor, kind: 'model-retrain', object: key, summary: `model of ${key} retrained: kept the ${r.kept} model; ${r.reason}`, detail: r });
      output.out(`${key}: kept the ${r.kept} model — held-out mean error ${r.oldLoss} (previous) vs ${r.newLoss} (new), false-positive rate ${pct(r.oldFalsePositiveRate)} vs ${pct(r.newFalsePositiveRate)}; ${r.windows} windows trained, ${r.holdout} held out`);
      retrained++;
    }
  } finally {
    await model.dispose();
  }
  output.out(`${retrained} of ${wanted.length} service model(s) retrained; records in ${path.join(stateDir, 'models', '<service>', 'retrain.json')} and the audit log.`);
  return 0;
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

function stderrLogger(output: RetrainOutput): LoggerPort {
  const logger: LoggerPort = {
    log(level: LogLevel, message: string, fields?: LogFields) {
      if (level === 'warn' || level === 'error') output.err(`[model] ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`);
    },
    child: () => logger,
  };
  return logger;
}
