/**
 * Synthetic probes: one HTTP check or a user journey of several steps run in order, read from the
 * `probes` settings (ProbeSettings) and reported as probe_success / probe_latency of the probe's target.
 */
import type { ProbeSettings, ProbeStepSettings } from '../settings';
import type { TargetRef } from '../model/target';

/** Where a step's request goes: a URL as is, or a Service through the API server's service proxy. */
export type ProbeEndpoint =
  | { readonly kind: 'url'; readonly url: string }
  | { readonly kind: 'service'; readonly namespace: string; readonly name: string; readonly port: string; readonly path: string };

export interface ProbeStep {
  readonly name: string;
  readonly endpoint: ProbeEndpoint;
  readonly method: ProbeStepSettings['method'];
  /** Sent as given; empty means no body. */
  readonly body: string;
  readonly expectStatus: ReadonlyArray<number>;
  readonly expectBody?: RegExp;
  readonly latencyBudgetMs: number;
}

/** A probe ready to run: its steps resolved and checked. */
export interface ProbeJourney {
  readonly name: string;
  readonly target: TargetRef;
  readonly steps: ReadonlyArray<ProbeStep>;
  readonly intervalMs: number;
  /** For each step's request. */
  readonly timeoutMs: number;
}

/** One run of a probe: passed, or the first step that failed and why. */
export interface ProbeRun {
  readonly name: string;
  readonly target: TargetRef;
  /** When the run started. */
  readonly t: number;
  readonly success: boolean;
  /** The whole journey's time. */
  readonly latencyMs: number;
  readonly failedStep?: string;
  /** Why it failed, naming the step and its request. */
  readonly reason?: string;
}

/** Defaults of a step a settings reader fills in: one GET that must answer 200 within a second. */
export const PROBE_STEP_DEFAULTS: Omit<ProbeStepSettings, 'name'> = { url: '', service: '', path: '/', method: 'GET', body: '', expectStatus: [200], expectBody: '', latencyBudgetMs: 1000 };

const METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE']);

/**
 * Resolves and checks the probes of the settings; errors name the probe, the step and the field
 * (`probes[0].steps[1].service: ...`) and say what a good value looks like.
 */
export function probeJourneys(probes: ReadonlyArray<ProbeSettings>, where = 'probes'): ProbeJourney[] {
  const names = new Set<string>();
  return probes.map((p, i) => {
    const at = `${where}[${i}]`;
    if (!p.name || !p.name.trim()) throw new Error(`${at}.name: give the probe a name, e.g. "checkout journey"`);
    if (names.has(p.name)) throw new Error(`${at}.name: "${p.name}" is used by another probe; probe names must be unique (verify conditions name them)`);
    names.add(p.name);
    const t = /^([^/\s]+)\/([^/\s]+)$/.exec(p.target ?? '');
    if (!t) throw new Error(`${at}.target: "${p.target}" is not namespace/workload, e.g. shop/frontend`);
    if (!Number.isFinite(p.intervalSeconds) || p.intervalSeconds < 1) throw new Error(`${at}.intervalSeconds: must be at least 1, got ${p.intervalSeconds}`);
    if (!Number.isFinite(p.timeoutMs) || p.timeoutMs < 1) throw new Error(`${at}.timeoutMs: must be at least 1, got ${p.timeoutMs}`);
    if (!p.steps || p.steps.length === 0) throw new Error(`${at}.steps: a probe needs at least one step (a URL, or a service and path)`);
    return {
      name: p.name,
      target: { kind: 'service', namespace: t[1], name: t[2] },
      steps: p.steps.map((s, j) => probeStep(s, `${at}.steps[${j}]`, j)),
      intervalMs: p.intervalSeconds * 1000,
      timeoutMs: p.timeoutMs,
    };
  });
}

function probeStep(s: ProbeStepSettings, at: string, index: number): ProbeStep {
  const name = s.name?.trim() || `step ${index + 1}`;
  let endpoint: ProbeEndpoint;
  if (s.url && s.service) throw new Error(`${at}: set either url or service, not both`);
  if (s.url) {
    let url: URL;
    try {
      url = new URL(s.url);
    } catch {
      throw new Error(`${at}.url: "${s.url}" is not a URL; use e.g. http://checkout.shop.svc:8080/healthz`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${at}.url: only http and https probes are supported, not ${url.protocol}`);
    endpoint = { kind: 'url', url: url.toString() };
  } else if (s.service) {
    const m = /^([a-z0-9][-a-z0-9]*)\/([a-z0-9][-a-z0-9]*):([a-z0-9][-a-z0-9]*)$/.exec(s.service);
    if (!m) throw new Error(`${at}.service: "${s.service}" is not namespace/name:port, e.g. shop/frontend:8080`);
    const path = s.path || '/';
    if (!path.startsWith('/')) throw new Error(`${at}.path: "${path}" must start with /`);
    endpoint = { kind: 'service', namespace: m[1], name: m[2], port: m[3], path };
  } else {
    throw new Error(`${at}: set url (e.g. http://shop.example.com/) or service (namespace/name:port) and path`);
  }
  const method = String(s.method ?? 'GET').toUpperCase();
  if (!METHODS.has(method)) throw new Error(`${at}.method: "${s.method}" must be GET, HEAD, POST, PUT or DELETE`);
  const expectStatus = s.expectStatus && s.expectStatus.length > 0 ? s.expectStatus : [200];
  if (!expectStatus.every((c) => Number.isInteger(c) && c >= 100 && c <= 599)) throw new Error(`${at}.expectStatus: use HTTP statuses, e.g. [200, 201]`);
  let expectBody: RegExp | undefined;
  if (s.expectBody) {
    try {
      expectBody = new RegExp(s.expectBody);
    } catch (err) {
      throw new Error(`${at}.expectBody: not a valid regular expression: ${(err as Error).message}`);
    }
  }
  const budget = s.latencyBudgetMs ?? PROBE_STEP_DEFAULTS.latencyBudgetMs;
  if (!Number.isFinite(budget) || budget <= 0) throw new Error(`${at}.latencyBudgetMs: must be a positive number of milliseconds, got ${budget}`);
  return { name, endpoint, method: method as ProbeStep['method'], body: s.body ?? '', expectStatus, expectBody, latencyBudgetMs: budget };
}

/** `GET http://host/path` or `POST shop/cart:8080/cart`: how a failure names the request. */
export function describeRequest(step: ProbeStep): string {
  const e = step.endpoint;
  return `${step.method} ${e.kind === 'url' ? e.url : `${e.namespace}/${e.name}:${e.port}${e.path}`}`;
}

/** A probe run in a line, for escalations and verification details. */
export function describeProbeRun(r: ProbeRun): string {
  return r.success ? `${r.name} passed in ${Math.round(r.latencyMs)} ms` : `${r.name} failed${r.reason ? `: ${r.reason}` : ''}`;
}
