/**
 * Alerts and silences behind the AlertsPort: Alertmanager's API v2 (`/api/v2/alerts`, `/api/v2/silences`), or,
 * with Prometheus only, its `/api/v1/alerts` (read-only, no silences). Errors name the URL and the fix.
 */
import axios, { type AxiosError, type AxiosInstance } from 'axios';
import { SILENCE_AUTHOR, type FiringAlert, type SilenceMatcher } from '../../core/model/alert';
import type { AlertsPort, SilencesPort } from '../../core/ports';
import type { PrometheusClient } from './prometheusClient';

interface AmAlert {
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly startsAt?: string;
  readonly fingerprint?: string;
  readonly status?: { readonly state?: string };
}

interface AmSilence {
  readonly id: string;
  readonly createdBy?: string;
  readonly status?: { readonly state?: string };
}

/** A firing alert from the labels and annotations both APIs share. */
export function firingAlert(labels: Readonly<Record<string, string>>, annotations: Readonly<Record<string, string>> | undefined, startsAt: string | undefined, fingerprint: string | undefined, source: FiringAlert['source']): FiringAlert {
  const a = annotations ?? {};
  const summary = a.summary || a.description || a.message;
  const t = startsAt ? Date.parse(startsAt) : NaN;
  return {
    name: labels.alertname ?? '(no alertname)',
    labels: { ...labels },
    startsAt: Number.isFinite(t) ? t : 0,
    ...(summary ? { summary } : {}),
    ...(a.runbook_url ? { runbookUrl: a.runbook_url } : {}),
    ...(labels.severity ? { severity: labels.severity } : {}),
    fingerprint: fingerprint ?? labelFingerprint(labels),
    source,
  };
}

/** FNV-1a over the sorted labels: stable across polls, as Alertmanager's fingerprint is. */
function labelFingerprint(labels: Readonly<Record<string, string>>): string {
  let h = 0x811c9dc5;
  const text = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join('\u0000');
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

export class AlertmanagerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AlertmanagerError';
  }
}

/** Alertmanager API v2: firing alerts, and the silences Vigil makes (createdBy `vigil`; no other is changed). */
export class AlertmanagerClient implements AlertsPort, SilencesPort {
  readonly url: string;
  readonly description: string;
  readonly silences: SilencesPort = this;
  private readonly http: AxiosInstance;

  constructor(options: { readonly url: string; readonly timeoutMs?: number }) {
    let u: URL;
    try {
      u = new URL(options.url.trim());
    } catch {
      throw new AlertmanagerError(`Invalid alertmanager.url "${options.url}": use e.g. http://alertmanager.monitoring:9093`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new AlertmanagerError(`Invalid alertmanager.url "${options.url}": only http and https are supported`);
    this.url = u.toString().replace(/\/+$/, '');
    this.description = `Alertmanager at ${this.url}`;
    this.http = axios.create({ baseURL: this.url, timeout: options.timeoutMs ?? 5_000, headers: { Accept: 'application/json' }, validateStatus: () => true, proxy: false, maxContentLength: 16 * 1024 * 1024, maxRedirects: 3 });
  }

  async firing(): Promise<FiringAlert[]> {
    // silenced and inhibited alerts too: the ones Vigil silences itself stay evidence of their incident
    const data = await this.request<AmAlert[]>('get', '/api/v2/alerts', { params: { active: true, silenced: true, inhibited: true, unprocessed: false } });
    if (!Array.isArray(data)) throw this.notAlertmanager('/api/v2/alerts returned no list of alerts');
    return data.filter((a) => a.labels && a.status?.state !== 'unprocessed').map((a) => firingAlert(a.labels!, a.annotations, a.startsAt, a.fingerprint, 'alertmanager'));
  }

  async upsert(s: { readonly id?: string; readonly matchers: ReadonlyArray<SilenceMatcher>; readonly startsAt: number; readonly endsAt: number; readonly comment: string }): Promise<string> {
    if (s.id) {
      const existing = await this.silence(s.id);
      if (existing && existing.createdBy !== SILENCE_AUTHOR) throw new AlertmanagerError(`silence ${s.id} was created by ${existing.createdBy ?? 'someone else'}, not ${SILENCE_AUTHOR}; Vigil leaves it alone`);
    }
    const body = {
      ...(s.id ? { id: s.id } : {}),
      matchers: s.matchers.map((m) => ({ name: m.name, value: m.value, isRegex: false, isEqual: true })),
      startsAt: new Date(s.startsAt).toISOString(),
      endsAt: new Date(s.endsAt).toISOString(),
      createdBy: SILENCE_AUTHOR,
      comment: s.comment,
    };
    const data = await this.request<{ silenceID?: string }>('post', '/api/v2/silences', { data: body });
    if (!data?.silenceID) throw this.notAlertmanager('POST /api/v2/silences returned no silenceID');
    return data.silenceID;
  }

  async expire(id: string): Promise<boolean> {
    const existing = await this.silence(id);
    if (!existing || existing.createdBy !== SILENCE_AUTHOR || existing.status?.state === 'expired') return false;
    await this.request('delete', `/api/v2/silence/${encodeURIComponent(id)}`);
    return true;
  }

  /** The silence with that id, or undefined when Alertmanager has none. */
  async silence(id: string): Promise<AmSilence | undefined> {
    try {
      return await this.request<AmSilence>('get', `/api/v2/silence/${encodeURIComponent(id)}`);
    } catch (err) {
      if (err instanceof AlertmanagerError && /HTTP 404/.test(err.message)) return undefined;
      throw err;
    }
  }

  private async request<T>(method: 'get' | 'post' | 'delete', path: string, options: { params?: Record<string, unknown>; data?: unknown } = {}): Promise<T> {
    let res;
    try {
      res = await this.http.request<T>({ method, url: path, params: options.params, data: options.data });
    } catch (err) {
      const e = err as AxiosError;
      const why = e.code === 'ECONNREFUSED' ? 'connection refused' : e.code === 'ECONNABORTED' || e.code === 'ETIMEDOUT' ? 'no answer in time' : e.code === 'ENOTFOUND' ? 'the host name does not resolve' : e.message;
      throw new AlertmanagerError(`${this.description} is unreachable (${why}); check alertmanager.url and that Alertmanager is running`);
    }
    if (res.status === 404 && path.startsWith('/api/v2/silence/')) throw new AlertmanagerError(`HTTP 404 for ${path}`);
    if (res.status === 404) throw this.notAlertmanager(`HTTP 404 for ${path}: is it Alertmanager 0.16 or later (API v2)?`);
    if (res.status === 401 || res.status === 403) throw new AlertmanagerError(`${this.description} refused ${method.toUpperCase()} ${path} (HTTP ${res.status}); Vigil sends no credentials to Alertmanager: expose its API to Vigil without authentication (e.g. in-cluster)`);
    if (res.status >= 300) throw new AlertmanagerError(`${this.description} answered HTTP ${res.status} to ${method.toUpperCase()} ${path}: ${String(typeof res.data === 'string' ? res.data : JSON.stringify(res.data)).slice(0, 200)}`);
    return res.data;
  }

  private notAlertmanager(detail: string): AlertmanagerError {
    return new AlertmanagerError(`${this.url} does not look like Alertmanager: ${detail}; set alertmanager.url to its base URL, e.g. http://alertmanager.monitoring:9093`);
  }
}

/** Prometheus' own alerts (`/api/v1/alerts`), when no Alertmanager is configured: read-only, firing ones only. */
export class PrometheusAlerts implements AlertsPort {
  readonly description: string;

  constructor(private readonly client: PrometheusClient) {
    this.description = `the alerting rules of Prometheus at ${client.url}`;
  }

  async firing(): Promise<FiringAlert[]> {
    let alerts;
    try {
      alerts = await this.client.alerts();
    } catch (err) {
      throw new Error(`could not read alerts from ${this.description}: ${(err as Error).message}`);
    }
    return alerts.filter((a) => a.state === 'firing').map((a) => firingAlert(a.labels, a.annotations, a.activeAt, undefined, 'prometheus'));
  }
}
