/** A Simulation on an in-memory store with a hand-driven clock, plus readers for its output. */
import { ObjectStore, type KubeObject } from '../../../../src/sandbox/store';
import { Simulation, type SimulationOptions } from '../../../../src/sandbox/sim/simulation';
import type { Deployment, Pod, ReplicaSet } from '../../../../src/sandbox/sim/objects';

export const T0 = Date.parse('2026-03-02T12:00:00Z');

export class SimHarness {
  t = T0;
  readonly store: ObjectStore;
  readonly sim: Simulation;

  constructor(options: Partial<SimulationOptions> = {}, seed = true) {
    const now = () => this.t;
    this.store = new ObjectStore(20_000, now);
    this.sim = new Simulation(this.store, { seed: 42, daySeconds: 86_400, podStartDelayMs: 1000, evictionTimeoutMs: 5000, ...options, now });
    if (seed) this.sim.seedTopology();
  }

  /** Advances the clock by `ms` in ticks of `stepMs`, running the controllers each tick. */
  run(ms: number, stepMs = 100, each?: () => void): void {
    const end = this.t + ms;
    while (this.t < end) {
      this.t = Math.min(end, this.t + stepMs);
      this.sim.tick();
      if (this.sim.lastError) throw this.sim.lastError;
      each?.();
    }
  }

  pods(namespace?: string, app?: string): Pod[] {
    return (this.store.list('pods', namespace).items as Pod[]).filter((p) => !app || p.metadata.labels?.app === app);
  }

  deployment(ns: string, name: string): Deployment {
    return this.store.mustGet('deployments', ns, name) as Deployment;
  }

  replicaSets(ns: string, app: string): ReplicaSet[] {
    return (this.store.list('replicasets', ns).items as ReplicaSet[]).filter((r) => r.metadata.labels?.app === app);
  }

  events(filter: { reason?: string; name?: string; kind?: string } = {}): KubeObject[] {
    return this.store.list('events').items.filter((e) => {
      const io = e.involvedObject as { name: string; kind: string };
      return (!filter.reason || e.reason === filter.reason) && (!filter.name || io.name.startsWith(filter.name)) && (!filter.kind || io.kind === filter.kind);
    });
  }

  setImage(ns: string, name: string, image: string): void {
    this.store.mutate('deployments', ns, name, (o) => {
      (o as Deployment).spec.template.spec.containers[0].image = image;
    });
  }

  control(method: string, path: string, body?: unknown): { status: number; body: Record<string, unknown> } {
    const r = this.sim.handleControl(method, path, body);
    return { status: r.status, body: r.body as Record<string, unknown> };
  }
}

export const ready = (p: Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict reader of the text exposition format; throws on anything malformed. */
export function parseExposition(text: string): { samples: Sample[]; types: Map<string, string>; helps: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const helps = new Map<string, string>();
  const closed = new Set<string>();
  let current = '';
  const familyOf = (name: string) => {
    for (const suffix of ['_bucket', '_sum', '_count']) {
      if (name.endsWith(suffix) && types.get(name.slice(0, -suffix.length)) === 'histogram') return name.slice(0, -suffix.length);
    }
    return name;
  };
  if (text.length && !text.endsWith('\n')) throw new Error('exposition must end with a newline');
  for (const line of text.split('\n')) {
    if (!line) continue;
    let m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (m) {
      if (helps.has(m[1])) throw new Error(`second HELP for ${m[1]}`);
      helps.set(m[1], m[2]);
      continue;
    }
    m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (m) {
      if (types.has(m[1])) throw new Error(`second TYPE for ${m[1]}`);
      if (current && current !== m[1]) closed.add(current);
      current = m[1];
      types.set(m[1], m[2]);
      continue;
    }
    if (line.startsWith('#')) continue;
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`malformed sample line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/gy;
      let lm: RegExpExecArray | null;
      let consumed = 0;
      while ((lm = re.exec(m[2]))) {
        labels[lm[1]] = lm[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
        consumed = re.lastIndex;
      }
      if (consumed !== m[2].length) throw new Error(`malformed labels: ${line}`);
    }
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    if (Number.isNaN(value) && m[3] !== 'NaN') throw new Error(`bad value: ${line}`);
    const family = familyOf(m[1]);
    if (family !== current) throw new Error(`sample ${m[1]} outside its family block (current ${current})`);
    if (closed.has(family)) throw new Error(`family ${family} split`);
    samples.push({ name: m[1], labels, value });
  }
  return { samples, types, helps };
}

/** Sum of a metric's samples matching labels. */
export function total(samples: Sample[], name: string, match: Record<string, string | RegExp> = {}): number {
  let s = 0;
  for (const x of samples) {
    if (x.name !== name) continue;
    let ok = true;
    for (const [k, v] of Object.entries(match)) {
      const lv = x.labels[k] ?? '';
      if (typeof v === 'string' ? lv !== v : !v.test(lv)) ok = false;
    }
    if (ok) s += x.value;
  }
  return s;
}

/** Requests and 5xx share of a deployment between two scrapes (per series, reset-aware). */
export function window(before: Sample[], after: Sample[], deployment: string): { requests: number; errorShare: number; byCode: Record<string, number> } {
  const key = (s: Sample) => `${s.labels.pod}/${s.labels.code}/${s.labels.method}`;
  const prev = new Map(before.filter((s) => s.name === 'http_requests_total').map((s) => [key(s), s.value]));
  const byCode: Record<string, number> = {};
  let requests = 0;
  for (const s of after) {
    if (s.name !== 'http_requests_total' || s.labels.deployment !== deployment) continue;
    const p = prev.get(key(s)) ?? 0;
    const d = s.value >= p ? s.value - p : s.value;
    byCode[s.labels.code] = (byCode[s.labels.code] ?? 0) + d;
    requests += d;
  }
  const errors = (byCode['500'] ?? 0) + (byCode['502'] ?? 0) + (byCode['503'] ?? 0);
  return { requests, errorShare: requests ? errors / requests : 0, byCode };
}

/** Mean latency of a deployment between two scrapes, from the histogram sum and count. */
export function meanLatency(before: Sample[], after: Sample[], deployment: string): number {
  const pick = (xs: Sample[], name: string) => total(xs, name, { deployment });
  const dc = pick(after, 'http_request_duration_seconds_count') - pick(before, 'http_request_duration_seconds_count');
  const ds = pick(after, 'http_request_duration_seconds_sum') - pick(before, 'http_request_duration_seconds_sum');
  return dc > 0 ? ds / dc : NaN;
}

export function scrape(h: SimHarness): Sample[] {
  return parseExposition(h.sim.allMetrics()).samples;
}
