/**
 * How a signal and its values are said, in one place for diagnoses, verification, the CLI, the views and replay.
 */
import type { SignalName } from '../model/signal';
import { isSignalName, signalDefinition } from './signalCatalogue';

/** A value in the signal's unit, as a person reads it: "6.4%", "180 ms", "512 MiB", "42 req/s". */
export function formatValue(signal: SignalName, v: number | undefined): string {
  if (v === undefined) return '?';
  switch (signalDefinition(signal).unit) {
    case 'ratio':
      return pct(v);
    case 'seconds':
      return Math.abs(v) < 1 ? `${round(v * 1000)} ms` : `${round(v)} s`;
    case 'bytes':
      return Math.abs(v) >= 1024 ** 3 ? `${round(v / 1024 ** 3)} GiB` : `${round(v / 1024 ** 2)} MiB`;
    case 'cores':
      return `${round(v)} cores`;
    case 'req/s':
      return `${round(v)} req/s`;
    default:
      return `${round(v)}`;
  }
}

/** A value of a catalogue signal in its unit, of any other named series (a CSV column) as a plain number. */
export function valueWording(signal: string, v: number): string {
  return isSignalName(signal) ? formatValue(signal, v) : formatNumber(v);
}

const SIGNAL_WORDS: Partial<Record<SignalName, string>> = {
  error_ratio: '5xx',
  latency_p50: 'p50 latency',
  latency_p95: 'p95 latency',
  latency_p99: 'p99 latency',
  request_rate: 'requests',
  available_replicas: 'available replicas',
  log_errors: 'error log lines',
  probe_success: 'probe success',
  probe_latency: 'probe latency',
};
export const signalWords = (s: SignalName) => SIGNAL_WORDS[s] ?? s;

/** A ratio as a percentage: "9.1%", "0.2%", "<0.01%" for a tiny share, "0%" for nothing or a band's tiny negative edge. */
export function pct(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const p = v * 100;
  const a = Math.abs(p);
  if (a < 0.01) return p > 0 ? '<0.01%' : '0%';
  return `${plain(a >= 10 ? Math.round(p) : a >= 1 ? Math.round(p * 10) / 10 : Number(p.toPrecision(1)))}%`;
}

/** A plain number: at most two decimals, never scientific notation ("0" for what rounds to nothing). */
export function round(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  const r = a >= 100 ? Math.round(v) : a >= 10 ? Math.round(v * 10) / 10 : Math.round(v * 100) / 100;
  return plain(r === 0 ? 0 : r);
}

/**
 * A number without an exponent whatever its size (String(1e21) is "1e+21", String(1e-7) is "1e-7"). Between 1e-4
 * and 1e21 the callers' values (at most 6 decimals) print the same through String, which is what the detector's
 * reason line takes on every step: toLocaleString cost 40 % of bench:detect's time.
 */
function plain(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e-4 && a < 1e21) return String(v);
  return v.toLocaleString('en-US', { useGrouping: false, maximumFractionDigits: 6 });
}

/**
 * A value of an unnamed quantity (a score, a threshold of a custom rule) for people: no scientific notation;
 * small values keep three significant digits ("0.000123"), large ones are whole.
 */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1000) return plain(Math.round(v));
  if (a >= 0.01) return plain(Math.round(v * 1000) / 1000);
  if (a < 1e-6) return v > 0 ? '<0.000001' : '0';
  return plain(Number(v.toPrecision(3)));
}

/** A duration for people: "850 ms", "14 s", "2 min 5 s", "3 h 20 min". */
export function formatDurationMs(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const a = Math.abs(ms);
  if (a < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (Math.abs(s) < 120) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 120) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  return `${Math.round(h / 24)} d`;
}

/** The signals a service's sparklines show, in order, with their short labels. */
export const SPARKLINE_SIGNALS: ReadonlyArray<{ readonly signal: SignalName; readonly label: string }> = [
  { signal: 'error_ratio', label: 'errors' },
  { signal: 'latency_p95', label: 'p95' },
  { signal: 'request_rate', label: 'req/s' },
  { signal: 'memory', label: 'memory' },
];
