import { MEAN_ABS_TO_SIGMA, alphaForHalfLife, ewUpdate, newEw, scaleFloor, type EwState } from './robustStats';

/**
 * Contextual novelty (in the spirit of CAD-OSE): the value is quantised into 16 levels, one sigma wide, around
 * its long-run location, and every run of three levels is a context. A context never seen before is surprising in
 * proportion to how rarely new contexts have been appearing lately — a flat line in the middle of a daily swing,
 * or a new shape, shows up even when no single value is extreme. On NAB this is the strongest single detector.
 */
export interface NoveltyState {
  /** 4096-bit set of seen contexts, 32 bits per entry. */
  seen: number[];
  /** The last two levels, oldest first. */
  prev: number[];
  /** Recent rate of unseen contexts. */
  rate: number;
  loc: EwState;
}

const LEVELS = 16;
const GRAM = 3;
const LEVELS_PER_SIGMA = 1;
const LOC_ALPHA = alphaForHalfLife(8192);
const RATE_ALPHA = alphaForHalfLife(512);

export function newNovelty(): NoveltyState {
  return { seen: new Array<number>(LEVELS ** GRAM / 32).fill(0), prev: [], rate: 1, loc: newEw() };
}

/** Returns the surprise (natural-log units, 0 when the context is known) and learns the context. */
export function noveltyStep(s: NoveltyState, x: number): number {
  ewUpdate(s.loc, x, LOC_ALPHA, 8);
  const sigma = MEAN_ABS_TO_SIGMA * s.loc.d + scaleFloor(s.loc.m);
  const q = Math.floor(((x - s.loc.m) / sigma) * LEVELS_PER_SIGMA + LEVELS / 2);
  const level = q < 0 ? 0 : q >= LEVELS ? LEVELS - 1 : q;
  let surprise = 0;
  if (s.prev.length === GRAM - 1) {
    let ctx = 0;
    for (const p of s.prev) ctx = ctx * LEVELS + p;
    ctx = ctx * LEVELS + level;
    const word = ctx >>> 5;
    const bit = 1 << (ctx & 31);
    const isNew = (s.seen[word] & bit) === 0;
    if (isNew) {
      surprise = -Math.log(Math.max(s.rate, 1e-4));
      s.seen[word] |= bit;
    }
    s.rate += RATE_ALPHA * ((isNew ? 1 : 0) - s.rate);
    s.prev.shift();
  }
  s.prev.push(level);
  return surprise;
}

