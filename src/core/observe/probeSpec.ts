import { parseTargetKey, type TargetRef } from '../model/target';

/** A synthetic HTTP check, reported as probe_success and probe_latency of its service. */
export interface ProbeSpec {
  readonly target: TargetRef;
  readonly url: string;
  readonly method: 'GET' | 'HEAD' | 'POST';
  /** Status codes that count as success. */
  readonly expectStatus: ReadonlyArray<number>;
  /** Slower than this counts as a failure. */
  readonly latencyBudgetMs: number;
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

const METHODS = new Set(['GET', 'HEAD', 'POST']);

/**
 * Reads `probes:` entries ({service: ns/name, url, method?, expectStatus?, latencyBudgetMs?,
 * intervalSeconds?, timeoutMs?}); errors name the entry, the field and the fix.
 */
export function parseProbeSpecs(doc: unknown, source: string): ProbeSpec[] {
  if (doc === undefined || doc === null) return [];
  const list = (doc as { probes?: unknown }).probes;
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new Error(`${source}: "probes" must be a list`);
  return list.map((e: unknown, i: number) => {
    const where = `${source}: probes[${i}]`;
    if (typeof e !== 'object' || e === null) throw new Error(`${where}: expected {service, url, ...}`);
    const o = e as Record<string, unknown>;
    if (typeof o.service !== 'string' || !/^[^/\s]+\/[^/\s]+$/.test(o.service)) throw new Error(`${where}.service: write it as namespace/deployment, e.g. shop/checkout`);
    const target = parseTargetKey(`service:${o.service}`);
    let url: URL;
    try {
      url = new URL(String(o.url));
    } catch {
      throw new Error(`${where}.url: "${String(o.url)}" is not a URL; use e.g. http://checkout.shop.svc:8080/healthz`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${where}.url: only http and https probes are supported`);
    const method = String(o.method ?? 'GET').toUpperCase();
    if (!METHODS.has(method)) throw new Error(`${where}.method: "${method}" must be GET, HEAD or POST`);
    const expect = o.expectStatus === undefined ? [200] : Array.isArray(o.expectStatus) ? o.expectStatus : [o.expectStatus];
    if (!expect.every((s) => Number.isInteger(s) && (s as number) >= 100 && (s as number) <= 599)) throw new Error(`${where}.expectStatus: use an HTTP status or a list of them, e.g. [200, 204]`);
    const num = (name: string, dflt: number, min: number): number => {
      const v = o[name] === undefined ? dflt : Number(o[name]);
      if (!Number.isFinite(v) || v < min) throw new Error(`${where}.${name}: must be a number ≥ ${min}`);
      return v;
    };
    const intervalMs = num('intervalSeconds', 15, 1) * 1000;
    return { target, url: url.toString(), method: method as ProbeSpec['method'], expectStatus: expect as number[], latencyBudgetMs: num('latencyBudgetMs', 1000, 1), intervalMs, timeoutMs: num('timeoutMs', Math.min(10_000, intervalMs), 1) };
  });
}
