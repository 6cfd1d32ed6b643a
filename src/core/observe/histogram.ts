/** One cumulative histogram bucket: count of observations <= le. */
export interface Bucket {
  readonly le: number;
  readonly count: number;
}

/** A bucket's upper bound from its `le` label as Prometheus writes it ("0.25", "+Inf"). */
export function bucketBound(le: string | undefined): number {
  return le === '+Inf' ? Infinity : Number(le);
}

/**
 * The quantile of a cumulative histogram with linear interpolation inside the bucket, as
 * Prometheus's histogram_quantile does: NaN without buckets or a +Inf bucket, the upper bound of
 * the highest finite bucket when the rank falls in +Inf, and a lower bound of 0 for the first bucket
 * (when its upper bound is positive). Non-monotonic counts (from rate jitter) are made monotonic.
 */
export function histogramQuantile(q: number, buckets: ReadonlyArray<Bucket>): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const sorted = [...buckets].filter((b) => !Number.isNaN(b.le)).sort((a, b) => a.le - b.le);
  const merged: Bucket[] = [];
  for (const b of sorted) {
    const last = merged[merged.length - 1];
    if (last && last.le === b.le) merged[merged.length - 1] = { le: b.le, count: last.count + b.count };
    else merged.push(b);
  }
  if (merged.length < 2 || merged[merged.length - 1].le !== Infinity) return NaN;
  for (let i = 1; i < merged.length; i++) {
    if (merged[i].count < merged[i - 1].count) merged[i] = { le: merged[i].le, count: merged[i - 1].count };
  }
  const total = merged[merged.length - 1].count;
  if (!(total > 0)) return NaN;
  const rank = q * total;
  const i = merged.findIndex((b) => b.count >= rank);
  if (i === merged.length - 1) return merged[merged.length - 2].le;
  if (i === 0 && merged[0].le <= 0) return merged[0].le;
  const bucketStart = i > 0 ? merged[i - 1].le : 0;
  const countBefore = i > 0 ? merged[i - 1].count : 0;
  const inBucket = merged[i].count - countBefore;
  if (inBucket === 0) return bucketStart;
  return bucketStart + (merged[i].le - bucketStart) * ((rank - countBefore) / inBucket);
}
