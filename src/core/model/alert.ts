/** A firing alert from Alertmanager (API v2) or Prometheus (`/api/v1/alerts`), as evidence of an incident. */
export interface FiringAlert {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly startsAt: number;
  /** The `summary` annotation (or `description`, `message` when it has none). */
  readonly summary?: string;
  /** The `runbook_url` annotation as written; only an http(s) URL becomes a link. */
  readonly runbookUrl?: string;
  readonly severity?: string;
  /** Alertmanager's fingerprint, or one made from the labels (Prometheus). */
  readonly fingerprint: string;
  readonly source: 'alertmanager' | 'prometheus';
}

/** An exact label matcher of a silence (`isEqual: true, isRegex: false` in Alertmanager's API). */
export interface SilenceMatcher {
  readonly name: string;
  readonly value: string;
}

/** Author of the silences Vigil creates; the only ones it ever changes. */
export const SILENCE_AUTHOR = 'vigil';

/** The exact matchers of a silence that covers these alerts: every label, as Alertmanager matches an alert. */
export function silenceMatchers(alert: FiringAlert): SilenceMatcher[] {
  return Object.entries(alert.labels)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => ({ name, value }));
}
