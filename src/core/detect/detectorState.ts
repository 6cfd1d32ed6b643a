import type { FusionState } from './fusion';
import type { SignalDetectorState } from './signalDetector';

/** Bumped when the shape of the state changes; an older state is refused rather than misread. */
export const DETECTOR_STATE_VERSION = 2;

/** Everything a target's detector remembers, as plain JSON (StorePort.writeState). */
export interface DetectorState {
  version: number;
  signals: Record<string, SignalDetectorState>;
  fusion: FusionState;
  lastT: number | null;
}

/**
 * Checks a state read back from disk before the detector trusts it. Returns the state, or throws a message
 * naming what is wrong so the caller can fall back to a fresh warm-up.
 */
export function parseDetectorState(value: unknown, source = 'detector state'): DetectorState {
  if (typeof value !== 'object' || value === null) throw new Error(`${source}: expected a JSON object`);
  const v = value as Partial<DetectorState>;
  if (v.version !== DETECTOR_STATE_VERSION) {
    throw new Error(`${source}: version ${String(v.version)} is not ${DETECTOR_STATE_VERSION}; delete it to start a fresh warm-up`);
  }
  if (typeof v.signals !== 'object' || v.signals === null) throw new Error(`${source}: missing "signals"`);
  if (typeof v.fusion !== 'object' || v.fusion === null) throw new Error(`${source}: missing "fusion"`);
  for (const [name, s] of Object.entries(v.signals)) {
    if (!s || !Array.isArray(s.baseline?.buf) || !Array.isArray(s.novelty?.seen) || !Array.isArray(s.cal)) throw new Error(`${source}: signal "${name}" is incomplete`);
  }
  return v as DetectorState;
}
