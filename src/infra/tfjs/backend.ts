import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { LoggerPort } from '../../core/ports';

export type Tf = typeof import('@tensorflow/tfjs');
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

export interface TfRuntime {
  readonly tf: Tf;
  readonly backend: BackendName;
  /** Why this backend, in words, for the log and the bench output. */
  readonly reason: string;
}

let runtime: Promise<TfRuntime> | undefined;

/**
 * Loads tfjs lazily (a separate webpack chunk, never at extension activation) and picks a backend:
 * tfjs-node if it resolves, else wasm with the .wasm files next to the bundle or in node_modules, else cpu.
 * The choice is made once per process and logged.
 */
export function loadTf(logger?: LoggerPort): Promise<TfRuntime> {
  runtime ??= selectBackend().then((r) => {
    logger?.child('model').log('info', `tfjs backend: ${r.backend} (${r.reason})`, { backend: r.backend });
    return r;
  });
  return runtime;
}

// webpack turns this into the bundle's own Node `require` (and compiles createRequire() away).
declare const __non_webpack_require__: NodeJS.Require | undefined;

// Node's own require, not webpack's: tfjs-node is external and the wasm files are found on disk at run time.
function nodeRequire(): ModuleLoader {
  if (typeof __non_webpack_require__ === 'function') return __non_webpack_require__;
  return createRequire(typeof __filename === 'string' ? __filename : path.join(process.cwd(), 'index.js'));
}

/** The part of Node's `require` backend selection uses; tests pass a stand-in. */
export interface ModuleLoader {
  (id: string): unknown;
  resolve(id: string): string;
}

/** Exported for tests; everything else goes through loadTf. */
export async function selectBackend(req: ModuleLoader = nodeRequire()): Promise<TfRuntime> {
  const notes: string[] = [];
  let hasTfjsNode = false;
  try {
    req.resolve('@tensorflow/tfjs-node');
    hasTfjsNode = true;
  } catch {
    notes.push('@tensorflow/tfjs-node is not installed');
  }
  const tf = await import('@tensorflow/tfjs');
  // Prod mode silences tfjs's console banners (we log the choice ourselves) and skips debug checks.
  tf.env().set('PROD', true);
  if (hasTfjsNode) {
    try {
      req('@tensorflow/tfjs-node');
      if (tf.findBackend('tensorflow') && (await tf.setBackend('tensorflow'))) return { tf, backend: 'tensorflow', reason: '@tensorflow/tfjs-node resolved and loaded' };
      notes.push('@tensorflow/tfjs-node loaded but registered no backend with this tfjs');
    } catch (err) {
      notes.push(`@tensorflow/tfjs-node failed to load: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  const wasmDir = findWasmDir(req);
  if (wasmDir) {
    try {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      // Node has no cross-origin isolation for the threaded build; the SIMD build is the fast one here.
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      wasm.setWasmPaths(wasmDir + path.sep);
      if (await tf.setBackend('wasm')) {
        await tf.ready();
        return { tf, backend: 'wasm', reason: [...notes, `wasm files from ${wasmDir}`].join('; ') };
      }
      notes.push(`the wasm backend did not initialise from ${wasmDir}`);
    } catch (err) {
      notes.push(`the wasm backend failed: ${(err as Error).message.split('\n')[0]}`);
    }
  } else {
    notes.push('no tfjs-backend-wasm*.wasm found next to the bundle or in node_modules');
  }
  await tf.setBackend('cpu');
  await tf.ready();
  return { tf, backend: 'cpu', reason: [...notes, 'falling back to the pure-JS cpu backend'].join('; ') };
}

/**
 * The bundle's folder when webpack copied the .wasm files there (this code runs from dist/chunks/,
 * so its parent too), else the installed package's dist/.
 */
export function findWasmDir(req: Pick<ModuleLoader, 'resolve'> = nodeRequire()): string | undefined {
  const candidates: string[] = [];
  if (typeof __dirname === 'string') candidates.push(__dirname, path.dirname(__dirname));
  try {
    candidates.push(path.join(path.dirname(req.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist'));
  } catch {
    // not resolvable from here; try the working directory below
  }
  candidates.push(path.resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist'));
  return candidates.find((dir) => existsSync(dir) && readdirSync(dir).includes('tfjs-backend-wasm-simd.wasm'));
}
