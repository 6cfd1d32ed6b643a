/**
 * Seeded randomness. Metric noise is a pure function of (seed, key, step) rather than a stream,
 * so the trajectory depends only on the clock, not on how often someone scrapes.
 */

/** 32-bit FNV-1a of a string. */
export function fnv32a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Mixes integers into a uniform number in [0, 1). */
export function hashUnit(seed: number, key: number, step: number): number {
  let x = (seed ^ Math.imul(key, 0x9e3779b1) ^ Math.imul(step, 0x85ebca6b)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d) >>> 0;
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b) >>> 0;
  x = (x ^ (x >>> 16)) >>> 0;
  return x / 4294967296;
}

/** A seeded stream (mulberry32) for decisions that happen in order, e.g. pod names. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }

  pick<T>(items: ReadonlyArray<T>): T {
    return items[this.int(items.length)];
  }
}

const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

/** Kubernetes-style name suffix from the stream (the alphabet kube uses for generateName). */
export function kubeSuffix(rng: Rng, length = 5): string {
  let s = '';
  for (let i = 0; i < length; i++) s += NAME_CHARS[rng.int(NAME_CHARS.length)];
  return s;
}

/** Kubernetes' "safe encode" of a hash (pod-template-hash): no vowels, no look-alike digits. */
export function safeEncodeHash(h: number): string {
  let s = '';
  let x = h >>> 0;
  do {
    s += NAME_CHARS[x % NAME_CHARS.length];
    x = Math.floor(x / NAME_CHARS.length);
  } while (x > 0);
  return s;
}

/** JSON with sorted keys, so equal objects hash equally. */
export function stableStringify(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stableStringify(o[k])}`)
    .join(',')}}`;
}
