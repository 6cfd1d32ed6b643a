/**
 * The published NAB scoring (numenta/NAB sweeper): probationary rows, scaled-sigmoid weights in and after
 * windows, one corpus-wide threshold chosen to maximise the raw score, normalised between null and perfect.
 */

export interface CostProfile {
  readonly tpWeight: number;
  readonly fpWeight: number;
  readonly fnWeight: number;
}

export const NAB_PROFILES: Readonly<Record<'standard' | 'reward_low_FP_rate' | 'reward_low_FN_rate', CostProfile>> = {
  standard: { tpWeight: 1, fpWeight: 0.11, fnWeight: 1 },
  reward_low_FP_rate: { tpWeight: 1, fpWeight: 0.22, fnWeight: 1 },
  reward_low_FN_rate: { tpWeight: 1, fpWeight: 0.11, fnWeight: 2 },
};

/** One scored file: detector scores per row and the labelled windows as inclusive row-index ranges. */
export interface NabFile {
  readonly name: string;
  readonly scores: ReadonlyArray<number>;
  readonly windows: ReadonlyArray<readonly [number, number]>;
}

export function scaledSigmoid(x: number): number {
  if (x >= 3) return -1;
  return 2 / (1 + Math.exp(5 * x)) - 1;
}

export function probationLength(rows: number): number {
  return Math.min(Math.floor(0.15 * rows), 750);
}

/** Maps windows given as [start, end] timestamps (epoch ms, inclusive) to row indices of the file. */
export function windowsToRows(timestamps: ReadonlyArray<number>, windows: ReadonlyArray<readonly [number, number]>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const [start, end] of windows) {
    let left = -1;
    let right = -1;
    for (let i = 0; i < timestamps.length; i++) {
      if (timestamps[i] >= start && timestamps[i] <= end) {
        if (left < 0) left = i;
        right = i;
      }
    }
    if (left >= 0) out.push([left, right]);
  }
  return out;
}

/** A scorable row: its detector score, its sweep weight and which window it falls in (-1 outside). */
interface Point {
  readonly score: number;
  readonly weight: number;
  readonly window: number;
}

/** Sweep weights of every scorable row, exactly as NAB's Sweeper.calcSweepScore assigns them. */
function sweepPoints(file: NabFile, profile: CostProfile, windowBase: number): { points: Point[]; windows: number; perfect: number } {
  const n = file.scores.length;
  const probation = probationLength(n);
  const maxTp = scaledSigmoid(-1);
  const windowOf = new Int32Array(n).fill(-1);
  file.windows.forEach(([l, r], w) => {
    for (let i = l; i <= r; i++) windowOf[i] = w;
  });
  const points: Point[] = [];
  const best = new Map<number, number>();
  let prevRight = -1;
  let prevWidth = 0;
  for (let i = 0; i < n; i++) {
    const w = windowOf[i];
    let weight: number;
    if (w >= 0) {
      const [l, r] = file.windows[w];
      const width = r - l + 1;
      weight = (scaledSigmoid(-(r - i + 1) / width) * profile.tpWeight) / maxTp;
      if (i === r) {
        prevRight = r;
        prevWidth = width;
      }
    } else {
      // NAB divides by (width - 1); a one-row window would divide by zero there too, so treat it as far past.
      const pos = prevRight < 0 || prevWidth <= 1 ? 3 : Math.abs(prevRight - i) / (prevWidth - 1);
      weight = scaledSigmoid(pos) * profile.fpWeight;
    }
    if (i < probation) continue;
    points.push({ score: file.scores[i], weight, window: w < 0 ? -1 : windowBase + w });
    if (w >= 0 && !best.has(w)) best.set(w, weight);
  }
  let perfect = 0;
  for (const v of best.values()) perfect += v;
  return { points, windows: best.size, perfect };
}

export interface ThresholdResult {
  readonly threshold: number;
  readonly raw: number;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
}

export interface ProfileResult extends ThresholdResult {
  readonly profile: string;
  readonly nullRaw: number;
  readonly perfectRaw: number;
  readonly normalised: number;
}

/**
 * Sweeps every distinct score as the threshold (highest first, detections are score >= threshold) and returns the
 * corpus-wide threshold with the highest total raw score, as NAB's optimiser does.
 */
export function optimiseThreshold(files: ReadonlyArray<NabFile>, profile: CostProfile, name = 'custom'): ProfileResult {
  const all: Point[] = [];
  const windowCounted: boolean[] = [];
  let windowBase = 0;
  let perfectRaw = 0;
  for (const f of files) {
    const s = sweepPoints(f, profile, windowBase);
    for (const p of s.points) all.push(p);
    for (let w = 0; w < f.windows.length; w++) windowCounted[windowBase + w] = false;
    for (const p of s.points) if (p.window >= 0) windowCounted[p.window] = true;
    windowBase += f.windows.length;
    perfectRaw += s.perfect;
  }
  const counted = windowCounted.filter(Boolean).length;
  const nullRaw = -profile.fnWeight * counted;
  all.sort((a, b) => b.score - a.score);
  const windowScore = new Float64Array(windowBase).fill(-profile.fnWeight);
  const detected = new Uint8Array(windowBase);
  let fpSum = 0;
  let windowSum = nullRaw;
  let tp = 0;
  let fp = 0;
  let best: ThresholdResult = { threshold: Number.POSITIVE_INFINITY, raw: nullRaw, tp: 0, fp: 0, fn: counted };
  let i = 0;
  while (i < all.length) {
    const threshold = all[i].score;
    while (i < all.length && all[i].score === threshold) {
      const p = all[i++];
      if (p.window < 0) {
        fpSum += p.weight;
        fp++;
      } else if (p.weight > windowScore[p.window]) {
        if (!detected[p.window]) {
          detected[p.window] = 1;
          tp++;
        }
        windowSum += p.weight - windowScore[p.window];
        windowScore[p.window] = p.weight;
      }
    }
    const raw = windowSum + fpSum;
    if (raw > best.raw) best = { threshold, raw, tp, fp, fn: counted - tp };
  }
  const normalised = perfectRaw === nullRaw ? 0 : (100 * (best.raw - nullRaw)) / (perfectRaw - nullRaw);
  return { ...best, profile: name, nullRaw, perfectRaw, normalised };
}

/** Raw score of the corpus at a fixed threshold (detections are score >= threshold). */
export function scoreAtThreshold(files: ReadonlyArray<NabFile>, profile: CostProfile, threshold: number): ThresholdResult {
  let raw = 0;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  files.forEach((f) => {
    const s = sweepPoints(f, profile, 0);
    const windowBest = new Map<number, number>();
    const seen = new Set<number>();
    for (const p of s.points) {
      if (p.window >= 0) seen.add(p.window);
      if (p.score < threshold) continue;
      if (p.window < 0) {
        raw += p.weight;
        fp++;
      } else windowBest.set(p.window, Math.max(windowBest.get(p.window) ?? -Infinity, p.weight));
    }
    for (const w of seen) {
      const b = windowBest.get(w);
      if (b === undefined) {
        raw -= profile.fnWeight;
        fn++;
      } else {
        raw += b;
        tp++;
      }
    }
  });
  return { threshold, raw, tp, fp, fn };
}

/** Where one file's raw score comes from at a threshold: window rewards, misses, and false positives. */
export interface FileBreakdown {
  readonly name: string;
  readonly windows: number;
  readonly tp: number;
  /** Sum of the rewards of detected windows (1 per window at its very start). */
  readonly tpReward: number;
  readonly fn: number;
  readonly fp: number;
  /** Cost of the false positives (negative), and the part of it before the first window. */
  readonly fpCost: number;
  readonly fpBeforeFirst: number;
  readonly raw: number;
}

/** Per-file raw score contributions at a fixed threshold (detections are score >= threshold). */
export function breakdown(files: ReadonlyArray<NabFile>, profile: CostProfile, threshold: number): FileBreakdown[] {
  return files.map((f) => {
    const s = sweepPoints(f, profile, 0);
    const firstWindow = f.windows.length ? f.windows[0][0] : Number.POSITIVE_INFINITY;
    const probation = probationLength(f.scores.length);
    const windowBest = new Map<number, number>();
    const seen = new Set<number>();
    let fp = 0;
    let fpCost = 0;
    let fpBeforeFirst = 0;
    s.points.forEach((p, k) => {
      if (p.window >= 0) seen.add(p.window);
      if (p.score < threshold) return;
      if (p.window < 0) {
        fp++;
        fpCost += p.weight;
        if (probation + k < firstWindow) fpBeforeFirst += p.weight;
      } else windowBest.set(p.window, Math.max(windowBest.get(p.window) ?? -Infinity, p.weight));
    });
    let tpReward = 0;
    for (const v of windowBest.values()) tpReward += v;
    const fn = seen.size - windowBest.size;
    return { name: f.name, windows: seen.size, tp: windowBest.size, tpReward, fn, fp, fpCost, fpBeforeFirst, raw: tpReward + fpCost - fn * profile.fnWeight };
  });
}
