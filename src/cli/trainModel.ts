import { constants } from 'node:fs';
import { access, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LogFields, LoggerPort, LogLevel } from '../core/ports';
import { trainBaseModel } from '../infra/tfjs/baseModel';
import { loadTf } from '../infra/tfjs/backend';
import { directoryIoHandler } from '../infra/tfjs/directoryIoHandler';
import { intOption, parseCliArgs } from './args';

export const DEFAULT_SEED = 42;
export const DEFAULT_EPOCHS = 20;

/** Where the command writes: progress to stderr, so stdout carries only the summary. Tests pass their own. */
export interface TrainModelOutput {
  out(line: string): void;
  err(line: string): void;
}

const consoleOutput: TrainModelOutput = {
  out: (line) => console.log(line),
  err: (line) => process.stderr.write(`${line}\n`),
};

function progressLogger(output: TrainModelOutput): LoggerPort {
  const logger: LoggerPort = {
    log(level: LogLevel, message: string, fields?: LogFields) {
      if (level !== 'debug') output.err(`[model] ${message}${fields && level !== 'info' ? ` ${JSON.stringify(fields)}` : ''}`);
    },
    child: () => logger,
  };
  return logger;
}

/** `vigil train-model [--out DIR] [--seed S] [--epochs N] [--services N] [--days N]` */
export async function run(argv: string[], output: TrainModelOutput = consoleOutput): Promise<number> {
  const { values } = parseCliArgs('train-model', argv, {
    out: { type: 'string' },
    seed: { type: 'string' },
    epochs: { type: 'string' },
    services: { type: 'string' },
    days: { type: 'string' },
  });
  const out = path.resolve(String(values.out ?? path.join('models', 'base')));
  const seed = intOption('train-model', 'seed', values.seed, DEFAULT_SEED);
  const epochs = intOption('train-model', 'epochs', values.epochs, DEFAULT_EPOCHS);
  const services = intOption('train-model', 'services', values.services, 16);
  const days = intOption('train-model', 'days', values.days, 4);
  if (epochs < 1) throw new Error(`vigil train-model: --epochs must be at least 1, got ${epochs}`);
  if (services < 1) throw new Error(`vigil train-model: --services must be at least 1, got ${services}`);
  if (days < 2) throw new Error(`vigil train-model: --days must be at least 2 (the last day is held out), got ${days}`);

  // Fail before a minute of training, not after it.
  try {
    await mkdir(out, { recursive: true });
    await access(out, constants.W_OK);
  } catch (err) {
    throw new Error(`vigil train-model: cannot write to --out ${out}: ${(err as Error).message}. Pass a writable directory.`);
  }
  const { tf, backend } = await loadTf(progressLogger(output));
  const t0 = Date.now();
  const result = trainBaseModel(tf, {
    seed,
    epochs,
    services,
    days,
    onEpoch: (epoch, loss) => output.err(`[model] epoch ${epoch}/${epochs} loss ${loss.toFixed(5)}`),
  });
  const seconds = (Date.now() - t0) / 1000;
  await result.model.save(directoryIoHandler(out));
  const training = {
    ...result.report,
    backend,
    trainingSeconds: Math.round(seconds * 10) / 10,
    command: `vigil train-model --seed ${seed} --epochs ${epochs}${services !== 16 ? ` --services ${services}` : ''}${days !== 4 ? ` --days ${days}` : ''}`,
  };
  await writeFile(path.join(out, 'training.json'), JSON.stringify(training, null, 2) + '\n');
  result.model.dispose();
  const c = result.report.calibration;
  output.out(
    `trained the base model on ${backend} in ${training.trainingSeconds}s: seed ${seed}, ${epochs} epochs, final loss ${result.report.finalLoss}, ` +
      `held-out normal windows scoring ≥ 0.9: ${(c.heldOutShareAtLeast09 * 100).toFixed(2)}%; injected faults scoring ≥ 0.9: ` +
      `${Object.entries(c.detectedShareAtLeast09).map(([name, share]) => `${name} ${(share * 100).toFixed(1)}%`).join(', ')}\n` +
      `wrote ${path.join(out, 'model.json')}, weights.bin, training.json`,
  );
  return 0;
}
