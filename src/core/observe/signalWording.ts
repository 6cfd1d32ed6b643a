/**
 * How a signal and its values are said, in one place for diagnoses, verification, the CLI, the views and replay.
 */
import type { SignalName } from '../model/signal';
import { signalDefinition } from './signalCatalogue';

/** A value in the signal's unit, as a person reads it: "6.4%", "180 ms", "512 MiB", "42 req/s". */
export function formatValue(signal: SignalName, v: number | undefined): string {
  if (v === undefined) return '?';
  switch (signalDefinition(signal).unit) {
    case 'ratio':
      return pct(v);
    case 'seconds':
      return v < 1 ? `${round(v * 1000)} ms` : `${round(v)} s`;
    case 'bytes':
      return v >= 1024 ** 3 ? `${round(v / 1024 ** 3)} GiB` : `${round(v / 1024 ** 2)} MiB`;
    case 'cores':
      return `${round(v)} cores`;
    case 'req/s':
      return `${round(v)} req/s`;
    default:
      return `${round(v)}`;
  }
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

export function pct(v: number): string {
  const p = v * 100;
  const a = Math.abs(p);
  return `${a >= 10 ? Math.round(p) : a >= 1 ? Math.round(p * 10) / 10 : Number(p.toPrecision(1))}%`;
}

export function round(v: number): string {
  const a = Math.abs(v);
  const r = a >= 100 ? Math.round(v) : a >= 10 ? Math.round(v * 10) / 10 : Math.round(v * 100) / 100;
  return String(r);
}

/** The signals a service's sparklines show, in order, with their short labels. */
export const SPARKLINE_SIGNALS: ReadonlyArray<{ readonly signal: SignalName; readonly label: string }> = [
  { signal: 'error_ratio', label: 'errors' },
  { signal: 'latency_p95', label: 'p95' },
  { signal: 'request_rate', label: 'req/s' },
  { signal: 'memory', label: 'memory' },
];
