import { MEAN_ABS_TO_SIGMA, alphaForHalfLife, ewUpdate, newEw, scaleFloor, type EwState } from './robustStats';

/**
 * Contextual novelty (in the spirit of CAD-OSE): the value is quantised into 16 levels around its long-run
 * location, and every run of three levels is a context. A context never seen before is surprising in proportion
 * to how rarely new contexts have been appearing lately — a flat line in the middle of a daily swing, or a
 * new shape, shows up even when no single value is extreme.
 */
export interface NoveltyState {
  /** 4096-bit set of seen contexts, 32 bits per entry. */
  seen: number[];
  prev1: number;
  prev2: number;
  /** Recent rate of unseen contexts. */
  rate: number;
  loc: EwState;
  n: number;
}

const LEVELS = 16;
const LOC_ALPHA = alphaForHalfLife(2048);
const RATE_ALPHA = alphaForHalfLife(512);

export function newNovelty(): NoveltyState {
  return { seen: new Array<number>(128).fill(0), prev1: -1, prev2: -1, rate: 1, loc: newEw(), n: 0 };
}

/** Returns the surprise (natural-log units, 0 when the context is known) and learns the context. */
export function noveltyStep(s: NoveltyState, x: number): number {
  ewUpdate(s.loc, x, LOC_ALPHA, 8);
  const sigma = MEAN_ABS_TO_SIGMA * s.loc.d + scaleFloor(s.loc.m);
  const q = Math.floor(((x - s.loc.m) / sigma) * 1.5 + LEVELS / 2);
  const level = q < 0 ? 0 : q >= LEVELS ? LEVELS - 1 : q;
  let surprise = 0;
  if (s.prev2 >= 0) {
    const ctx = (s.prev2 << 8) | (s.prev1 << 4) | level;
    const word = ctx >>> 5;
    const bit = 1 << (ctx & 31);
    const isNew = (s.seen[word] & bit) === 0;
    if (isNew) {
      surprise = -Math.log(Math.max(s.rate, 1e-4));
      s.seen[word] |= bit;
    }
    s.rate += RATE_ALPHA * ((isNew ? 1 : 0) - s.rate);
  }
  s.prev2 = s.prev1;
  s.prev1 = level;
  s.n++;
  return surprise;
}
