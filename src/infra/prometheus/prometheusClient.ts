import axios, { AxiosError, type AxiosInstance } from 'axios';

/** Credentials for hosted Prometheus; from env vars or SecretStorage, never from settings, never logged. */
export interface PrometheusAuth {
  readonly bearerToken?: string;
  readonly basic?: { readonly username: string; readonly password: string };
  readonly headers?: Readonly<Record<string, string>>;
}

export interface PrometheusClientOptions {
  readonly url: string;
  readonly auth?: PrometheusAuth;
  readonly timeoutMs?: number;
  /** Retries of transient failures (connection, 5xx, 429), with jittered exponential backoff. */
  readonly retries?: number;
  readonly retryBaseMs?: number;
  /** Responses larger than this are refused, so one bad query cannot exhaust memory. */
  readonly maxResponseBytes?: number;
  /** Random source for jitter (tests inject it). */
  readonly random?: () => number;
}

export type PrometheusErrorKind = 'unreachable' | 'timeout' | 'auth' | 'not-prometheus' | 'bad-query' | 'too-large' | 'server' | 'bad-url';

/** A failure with a message that names the cause and the fix; `kind` says which. */
export class PrometheusError extends Error {
  constructor(
    readonly kind: PrometheusErrorKind,
    message: string,
    readonly query?: string,
  ) {
    super(message);
    this.name = 'PrometheusError';
  }

  /** True when the source as a whole is unusable (as opposed to one bad query). */
  get sourceDown(): boolean {
    return this.kind !== 'bad-query';
  }
}

export interface InstantVectorSample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: readonly [number, string];
}

export interface RangeSeries {
  readonly metric: Readonly<Record<string, string>>;
  readonly values: ReadonlyArray<readonly [number, string]>;
}

export interface PrometheusAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly state: string;
  readonly activeAt?: string;
}

/** Reads credentials from the agent's environment: VIGIL_PROMETHEUS_TOKEN, _USERNAME/_PASSWORD, _HEADERS (JSON). */
export function prometheusAuthFromEnv(env: NodeJS.ProcessEnv = process.env): PrometheusAuth | undefined {
  const token = env.VIGIL_PROMETHEUS_TOKEN?.trim();
  const username = env.VIGIL_PROMETHEUS_USERNAME;
  const password = env.VIGIL_PROMETHEUS_PASSWORD ?? '';
  let headers: Record<string, string> | undefined;
  if (env.VIGIL_PROMETHEUS_HEADERS) {
    try {
      const parsed = JSON.parse(env.VIGIL_PROMETHEUS_HEADERS) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== 'string')) throw new Error('not an object of strings');
      headers = parsed as Record<string, string>;
    } catch {
      throw new Error('VIGIL_PROMETHEUS_HEADERS must be a JSON object of header names to string values, e.g. {"X-Scope-OrgID":"team-a"}');
    }
  }
  if (!token && !username && !headers) return undefined;
  return { bearerToken: token || undefined, basic: username ? { username, password } : undefined, headers };
}

const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;

/** The Prometheus HTTP API (instant and range queries, series, label values) over axios. */
export class PrometheusClient {
  readonly url: string;
  private readonly http: AxiosInstance;
  private readonly retries: number;
  private readonly retryBaseMs: number;
  private readonly maxBytes: number;
  private readonly timeoutMs: number;
  private readonly random: () => number;

  constructor(options: PrometheusClientOptions) {
    this.url = normaliseUrl(options.url);
    this.retries = options.retries ?? 2;
    this.retryBaseMs = options.retryBaseMs ?? 250;
    this.maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_BYTES;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.random = options.random ?? Math.random;
    const headers: Record<string, string> = { Accept: 'application/json', ...(options.auth?.headers ?? {}) };
    if (options.auth?.bearerToken) headers.Authorization = `Bearer ${options.auth.bearerToken}`;
    this.http = axios.create({
      baseURL: this.url,
      timeout: this.timeoutMs,
      headers,
      auth: options.auth?.basic ? { username: options.auth.basic.username, password: options.auth.basic.password } : undefined,
      maxContentLength: this.maxBytes,
      maxBodyLength: 1024 * 1024,
      responseType: 'text',
      transformResponse: [(d: unknown) => d],
      validateStatus: () => true,
      proxy: false,
      maxRedirects: 3,
    });
  }

  /** Instant query at `t` (ms). */
  async instant(query: string, t: number): Promise<InstantVectorSample[]> {
    const data = await this.call('/api/v1/query', { query, time: (t / 1000).toFixed(3) }, query);
    return this.expect<InstantVectorSample[]>(data, 'vector', query);
  }

  /** Range query over [from, to] (ms) at `stepMs`; points land on from + k*step. */
  async range(query: string, from: number, to: number, stepMs: number): Promise<RangeSeries[]> {
    const data = await this.call('/api/v1/query_range', { query, start: (from / 1000).toFixed(3), end: (to / 1000).toFixed(3), step: `${stepMs / 1000}` }, query);
    return this.expect<RangeSeries[]>(data, 'matrix', query);
  }

  /** Label sets of series matching any selector in [from, to]. */
  async series(match: ReadonlyArray<string>, from: number, to: number): Promise<Array<Record<string, string>>> {
    const params = new URLSearchParams();
    for (const m of match) params.append('match[]', m);
    params.set('start', (from / 1000).toFixed(3));
    params.set('end', (to / 1000).toFixed(3));
    const data = await this.call('/api/v1/series', params, match.join(', '));
    if (!Array.isArray(data)) throw this.notPrometheus('/api/v1/series returned no list of series');
    return data as Array<Record<string, string>>;
  }

  /** Values of a label; with `match`, only of series matching a selector (in [from, to] when given, ms). */
  async labelValues(label: string, match: ReadonlyArray<string> = [], from?: number, to?: number): Promise<string[]> {
    const params = new URLSearchParams();
    for (const m of match) params.append('match[]', m);
    if (from !== undefined) params.set('start', (from / 1000).toFixed(3));
    if (to !== undefined) params.set('end', (to / 1000).toFixed(3));
    const data = await this.call(`/api/v1/label/${encodeURIComponent(label)}/values`, params, match.length > 0 ? `${label} of ${match.join(', ')}` : label);
    if (!Array.isArray(data)) throw this.notPrometheus(`/api/v1/label/${label}/values returned no list`);
    return data as string[];
  }

  /** The alerting rules' alerts (`/api/v1/alerts`): firing and pending. */
  async alerts(): Promise<PrometheusAlert[]> {
    const data = (await this.call('/api/v1/alerts', {}, 'alerts')) as { alerts?: unknown } | null;
    if (!data || !Array.isArray(data.alerts)) throw this.notPrometheus('/api/v1/alerts returned no list of alerts');
    return data.alerts as PrometheusAlert[];
  }

  private expect<T>(data: unknown, resultType: string, query: string): T {
    const d = data as { resultType?: unknown; result?: unknown } | null;
    if (!d || typeof d !== 'object' || !Array.isArray(d.result)) throw this.notPrometheus('the answer has no data.result');
    if (d.resultType !== resultType) {
      throw new PrometheusError('bad-query', `Query ${JSON.stringify(query)} returned a ${String(d.resultType)}, not a ${resultType}; signal queries must return an instant vector (wrap scalars in vector())`, query);
    }
    return d.result as T;
  }

  private async call(path: string, params: Record<string, string> | URLSearchParams, query: string): Promise<unknown> {
    let attempt = 0;
    for (;;) {
      try {
        return await this.once(path, params, query);
      } catch (err) {
        const retryable = err instanceof PrometheusError && (err.kind === 'unreachable' || err.kind === 'timeout' || err.kind === 'server');
        if (!retryable || attempt >= this.retries) throw err;
        const delay = this.retryBaseMs * 2 ** attempt * (0.5 + this.random());
        attempt++;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private async once(path: string, params: Record<string, string> | URLSearchParams, query: string): Promise<unknown> {
    let res;
    try {
      res = await this.http.get<string>(path, { params });
    } catch (err) {
      throw this.transportError(err);
    }
    const body = typeof res.data === 'string' ? res.data : String(res.data ?? '');
    if (res.status === 401 || res.status === 403) {
      const what = res.status === 401 ? '401 Unauthorized' : '403 Forbidden';
      throw new PrometheusError('auth', `HTTP ${what}: the server refused the credentials; set VIGIL_PROMETHEUS_TOKEN (bearer) or VIGIL_PROMETHEUS_USERNAME and VIGIL_PROMETHEUS_PASSWORD, or check that they are still valid`);
    }
    const contentType = String(res.headers['content-type'] ?? '');
    const looksHtml = contentType.includes('text/html') || /^\s*<(!doctype|html)/i.test(body);
    if (looksHtml) {
      const title = /<title>([^<]{0,120})<\/title>/i.exec(body)?.[1]?.trim();
      throw this.notPrometheus(`it answered HTTP ${res.status} with an HTML page${title ? ` titled "${title}"` : ''}, not the Prometheus API`);
    }
    let json: { status?: unknown; data?: unknown; errorType?: unknown; error?: unknown; warnings?: unknown };
    try {
      json = JSON.parse(body) as typeof json;
    } catch {
      if (res.status >= 500) throw new PrometheusError('server', `HTTP ${res.status} from ${path}: ${snippet(body)}`);
      throw this.notPrometheus(`HTTP ${res.status} from ${path} is not JSON (${snippet(body)})`);
    }
    if (json === null || typeof json !== 'object' || (json.status !== 'success' && json.status !== 'error')) {
      throw this.notPrometheus(`HTTP ${res.status} from ${path} is JSON without a Prometheus "status" field`);
    }
    if (json.status === 'error') {
      const errorType = String(json.errorType ?? 'error');
      const detail = String(json.error ?? 'no detail');
      if (errorType === 'bad_data' || errorType === 'execution' || res.status === 400 || res.status === 422) {
        throw new PrometheusError('bad-query', `Prometheus rejected the query ${JSON.stringify(query)}: ${detail} (${errorType}); fix the PromQL in the signals config`, query);
      }
      if (errorType === 'timeout') throw new PrometheusError('timeout', `Prometheus timed out evaluating ${JSON.stringify(query)}: ${detail}`, query);
      throw new PrometheusError('server', `Prometheus answered ${errorType} (HTTP ${res.status}): ${detail}`, query);
    }
    if (res.status >= 300) throw new PrometheusError('server', `HTTP ${res.status} from ${path}`);
    return json.data;
  }

  private notPrometheus(detail: string): PrometheusError {
    return new PrometheusError('not-prometheus', `${this.url} does not look like a Prometheus server: ${detail}; set the URL of the Prometheus HTTP API, e.g. http://prometheus.monitoring:9090`);
  }

  private transportError(err: unknown): PrometheusError {
    const e = err as AxiosError;
    const code = e.code ?? '';
    if (code === 'ERR_BAD_RESPONSE' && /maxContentLength/i.test(e.message)) {
      return new PrometheusError('too-large', `the response exceeded the ${Math.round(this.maxBytes / 1024 / 1024)} MiB size cap; narrow the query (fewer series) or raise the cap`);
    }
    if (/maxContentLength/i.test(e.message ?? '')) {
      return new PrometheusError('too-large', `the response exceeded the ${Math.round(this.maxBytes / 1024 / 1024)} MiB size cap; narrow the query (fewer series) or raise the cap`);
    }
    if (code === 'ECONNABORTED' || code === 'ETIMEDOUT') return new PrometheusError('timeout', `no answer within ${this.timeoutMs / 1000}s (timeout); check the network path or raise the timeout`);
    if (code === 'ECONNREFUSED') return new PrometheusError('unreachable', 'connection refused; is Prometheus running and listening on that port?');
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new PrometheusError('unreachable', 'the host name does not resolve; check the URL');
    if (code === 'ECONNRESET' || code === 'EPIPE') return new PrometheusError('unreachable', 'the connection was reset');
    return new PrometheusError('unreachable', e.message || String(err));
  }
}

function snippet(body: string): string {
  const s = body.replace(/\s+/g, ' ').trim();
  return s.length > 80 ? `${s.slice(0, 80)}…` : s || 'empty body';
}

function normaliseUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    throw new PrometheusError('bad-url', `Invalid Prometheus URL "${url}": use e.g. http://prometheus.monitoring:9090`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new PrometheusError('bad-url', `Invalid Prometheus URL "${url}": only http and https are supported`);
  if (u.username || u.password) throw new PrometheusError('bad-url', `Prometheus URL "${u.protocol}//${u.host}" carries credentials; put them in VIGIL_PROMETHEUS_USERNAME/PASSWORD instead`);
  return u.toString().replace(/\/+$/, '');
}
