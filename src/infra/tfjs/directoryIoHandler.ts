import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { io } from '@tensorflow/tfjs';

export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';

/** The model.json layout tfjs itself writes (tfjs-layers format), with weights in one weights.bin. */
interface ModelJson {
  readonly format?: string;
  readonly generatedBy?: string;
  readonly convertedBy?: string | null;
  readonly modelTopology: unknown;
  readonly weightsManifest: Array<{ paths: string[]; weights: io.WeightsManifestEntry[] }>;
  readonly userDefinedMetadata?: Record<string, unknown>;
}

/**
 * A tfjs IOHandler over a directory: `model.save(handler)` writes model.json + weights.bin,
 * `tf.loadLayersModel(handler)` reads them back. tfjs only ships this for tfjs-node (file://),
 * which cannot be installed here. Files are written to a temp name and renamed, so a crash
 * mid-save leaves the previous model whole.
 */
export function directoryIoHandler(dir: string): io.IOHandler {
  return {
    async save(artifacts: io.ModelArtifacts): Promise<io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) throw new Error('directoryIoHandler saves layers models (JSON topology) only');
      const weights = joinWeights(artifacts.weightData);
      const json: ModelJson = {
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
      };
      await mkdir(dir, { recursive: true });
      const text = JSON.stringify(json);
      await writeAtomic(path.join(dir, WEIGHTS_FILE), new Uint8Array(weights));
      await writeAtomic(path.join(dir, MODEL_FILE), text);
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          modelTopologyBytes: JSON.stringify(artifacts.modelTopology).length,
          weightSpecsBytes: JSON.stringify(artifacts.weightSpecs ?? []).length,
          weightDataBytes: weights.byteLength,
        },
      };
    },

    async load(): Promise<io.ModelArtifacts> {
      const file = path.join(dir, MODEL_FILE);
      let json: ModelJson;
      try {
        json = JSON.parse(await readFile(file, 'utf8')) as ModelJson;
      } catch (err) {
        throw new Error(`cannot read the model at ${file}: ${(err as Error).message}`);
      }
      if (!json.modelTopology || !Array.isArray(json.weightsManifest)) throw new Error(`${file} is not a tfjs layers model.json (no modelTopology/weightsManifest)`);
      const specs: io.WeightsManifestEntry[] = [];
      const buffers: Buffer[] = [];
      for (const group of json.weightsManifest) {
        specs.push(...group.weights);
        for (const p of group.paths) buffers.push(await readFile(path.join(dir, p)));
      }
      const all = Buffer.concat(buffers);
      return {
        modelTopology: json.modelTopology as io.ModelArtifacts['modelTopology'],
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy ?? undefined,
        weightSpecs: specs,
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer,
        userDefinedMetadata: json.userDefinedMetadata as io.ModelArtifacts['userDefinedMetadata'],
      };
    },
  };
}

function joinWeights(data: io.ModelArtifacts['weightData']): ArrayBuffer {
  if (!data) return new ArrayBuffer(0);
  if (!Array.isArray(data)) return data;
  const total = data.reduce((n, b) => n + b.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const b of data) {
    out.set(new Uint8Array(b), offset);
    offset += b.byteLength;
  }
  return out.buffer;
}

async function writeAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}
