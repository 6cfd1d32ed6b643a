/**
 * Prometheus text exposition format 0.0.4: one HELP and TYPE line per family, all samples of a
 * family together, label values escaped.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram';

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function formatValue(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Number.isNaN(v)) return 'NaN';
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(12)));
}

/** Pre-rendered `{a="b",...}` body without braces, so shared pod labels are escaped once. */
export function renderLabels(labels: Readonly<Record<string, string>>): string {
  let s = '';
  for (const k of Object.keys(labels)) s += `${s ? ',' : ''}${k}="${escapeLabel(labels[k])}"`;
  return s;
}

export class ExpositionWriter {
  private readonly parts: string[] = [];

  family(name: string, type: MetricType, help: string): this {
    this.parts.push(`# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`);
    return this;
  }

  /** `labels` is a rendered label body (see renderLabels); `extra` appends more rendered labels. */
  sample(name: string, labels: string, value: number, extra?: string): this {
    const body = extra ? (labels ? `${labels},${extra}` : extra) : labels;
    this.parts.push(body ? `${name}{${body}} ${formatValue(value)}\n` : `${name} ${formatValue(value)}\n`);
    return this;
  }

  toString(): string {
    return this.parts.join('');
  }
}
