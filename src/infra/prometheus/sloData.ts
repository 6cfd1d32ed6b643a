/** SLIs of SLOs as code read from Prometheus: the error and total queries per step, and the ratio over the period. */
import type { SloPoint } from '../../core/detect/sloBurn';
import { withWindow, type SloDefinition } from '../../core/observe/sloDefinitions';
import type { SloDataPort } from '../../core/ports';
import type { PrometheusClient, RangeSeries } from './prometheusClient';

export class PrometheusSloData implements SloDataPort {
  constructor(private readonly client: PrometheusClient) {}

  async read(slo: SloDefinition, from: number, to: number, stepMs: number): Promise<{ points: SloPoint[]; periodErrorRatio?: number }> {
    // each point is the rate over the step ending at it, so the points of a window tile it without overlap
    const [bad, total, period] = await Promise.all([
      this.client.range(withWindow(slo.errorQuery, stepMs), from, to, stepMs),
      this.client.range(withWindow(slo.totalQuery, stepMs), from, to, stepMs),
      this.client.instant(`(${withWindow(slo.errorQuery, slo.periodMs)}) / (${withWindow(slo.totalQuery, slo.periodMs)})`, to),
    ]);
    const badAt = summed(bad);
    const points = [...summed(total)].sort(([a], [b]) => a - b).map(([t, v]) => ({ t, total: v, bad: badAt.get(t) ?? 0 }));
    const ratio = period.length ? Number(period[0].value[1]) : NaN;
    // no errors at all: the error query has no series (sum of nothing), which is a ratio of 0 while there is traffic
    const periodErrorRatio = Number.isFinite(ratio) ? ratio : points.length ? await this.noErrorsOverPeriod(slo, to) : undefined;
    return { points, ...(periodErrorRatio !== undefined ? { periodErrorRatio } : {}) };
  }

  private async noErrorsOverPeriod(slo: SloDefinition, to: number): Promise<number | undefined> {
    const [bad, total] = await Promise.all([this.client.instant(withWindow(slo.errorQuery, slo.periodMs), to), this.client.instant(withWindow(slo.totalQuery, slo.periodMs), to)]);
    const all = total.reduce((s, x) => s + Number(x.value[1]), 0);
    return bad.length === 0 && all > 0 ? 0 : undefined;
  }
}

/** Values per timestamp (ms), summed over the series (a query without `sum` may return several). */
function summed(series: ReadonlyArray<RangeSeries>): Map<number, number> {
  const out = new Map<number, number>();
  for (const s of series) {
    for (const [ts, v] of s.values) {
      const t = Math.round(ts * 1000);
      const n = Number(v);
      if (Number.isFinite(n)) out.set(t, (out.get(t) ?? 0) + n);
    }
  }
  return out;
}
