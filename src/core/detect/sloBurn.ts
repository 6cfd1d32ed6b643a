/**
 * Error-budget burn with multi-window, multi-burn-rate alerting (Google SRE workbook, ch. 5): an SLO burns when,
 * for one of its window pairs, both the long and the short window consume the budget at least `factor` times
 * faster than the rolling period allows. A window holding less than 90 % of its expected samples reads
 * "not enough data" and neither fires nor clears a pair. Pure: the points come from a port.
 */
import type { Incident } from '../model/incident';
import type { BurnWindowPair, SloDefinition } from '../observe/sloDefinitions';
import { formatDurationMs } from '../observe/signalWording';

/** One step of an SLI: bad and all events per second over the step ending at `t` (NaN: no data). */
export interface SloPoint {
  readonly t: number;
  readonly bad: number;
  readonly total: number;
}

export const MIN_COVERAGE = 0.9;

export interface WindowBurn {
  readonly windowMs: number;
  /** Share of the window's steps with data, in [0, 1]. */
  readonly coverage: number;
  /** Error ratio over the window divided by the budget (1 − objective); undefined with not enough data. */
  readonly burn?: number;
}

export interface PairReading {
  readonly pair: BurnWindowPair;
  readonly long: WindowBurn;
  readonly short: WindowBurn;
  readonly state: 'burning' | 'ok' | 'not enough data';
}

export interface SloReading {
  readonly slo: SloDefinition;
  readonly t: number;
  readonly pairs: ReadonlyArray<PairReading>;
  /** The fastest burning pair, if any pair burns. */
  readonly burning?: PairReading;
  /** Budget left over the rolling period, in [−∞, 1]: 1 − error ratio / (1 − objective); undefined without data. */
  readonly budgetRemaining?: number;
  /** One line for the status, the sidebar and the incident. */
  readonly text: string;
}

/** Burn over the window (now − windowMs, now]: mean bad rate / mean total rate / (1 − objective). */
export function windowBurn(points: ReadonlyArray<SloPoint>, now: number, windowMs: number, stepMs: number, objective: number): WindowBurn {
  const expected = Math.max(1, Math.round(windowMs / stepMs));
  let n = 0;
  let bad = 0;
  let total = 0;
  for (const p of points) {
    if (p.t <= now - windowMs || p.t > now) continue;
    if (!Number.isFinite(p.bad) || !Number.isFinite(p.total)) continue;
    n++;
    bad += p.bad;
    total += p.total;
  }
  const coverage = Math.min(1, n / expected);
  if (coverage < MIN_COVERAGE) return { windowMs, coverage };
  const ratio = total > 0 ? bad / total : 0;
  return { windowMs, coverage, burn: ratio / (1 - objective) };
}

/** Every window pair of the SLO at `now`; `periodErrorRatio` is the error ratio over the whole rolling period. */
export function readSlo(slo: SloDefinition, points: ReadonlyArray<SloPoint>, now: number, stepMs: number, periodErrorRatio?: number): SloReading {
  const pairs: PairReading[] = slo.windows.map((pair) => {
    const long = windowBurn(points, now, pair.longMs, stepMs, slo.objective);
    const short = windowBurn(points, now, pair.shortMs, stepMs, slo.objective);
    const state = long.burn === undefined || short.burn === undefined ? 'not enough data' : long.burn >= pair.factor && short.burn >= pair.factor ? 'burning' : 'ok';
    return { pair, long, short, state };
  });
  const burning = pairs.filter((p) => p.state === 'burning').sort((a, b) => b.pair.factor - a.pair.factor)[0];
  const budgetRemaining = periodErrorRatio !== undefined && Number.isFinite(periodErrorRatio) ? 1 - periodErrorRatio / (1 - slo.objective) : undefined;
  return { slo, t: now, pairs, ...(burning ? { burning } : {}), ...(budgetRemaining !== undefined ? { budgetRemaining } : {}), text: describeReading(slo, pairs, burning, budgetRemaining) };
}

const pct = (x: number) => `${(Math.round(x * 1000) / 10).toString()} %`;
const times = (x: number) => `${Math.round(x * 10) / 10}×`;
const pairName = (p: BurnWindowPair) => `${times(p.factor)} over ${formatDurationMs(p.longMs)}/${formatDurationMs(p.shortMs)}`;

function describeReading(slo: SloDefinition, pairs: ReadonlyArray<PairReading>, burning: PairReading | undefined, budget: number | undefined): string {
  const head = `SLO ${slo.id} (${pct(slo.objective)} over ${formatDurationMs(slo.periodMs)})`;
  const left = budget === undefined ? 'error budget unknown (no data)' : `${pct(Math.max(budget, -9.99))} of the error budget left`;
  if (burning) return `${head} burning: ${times(burning.long.burn!)} over ${formatDurationMs(burning.pair.longMs)} and ${times(burning.short.burn!)} over ${formatDurationMs(burning.pair.shortMs)} (alert at ${pairName(burning.pair)}); ${left}`;
  if (pairs.every((p) => p.state === 'not enough data')) return `${head}: not enough data (< ${pct(MIN_COVERAGE)} of the samples in every window); ${left}`;
  return `${head} ok; ${left}`;
}

/**
 * How urgent an incident is by the SLOs it burns: the factor of the fastest burning window pair in its evidence
 * (14.4 pages before 6, 6 before 1), 0 when it burns none. Views rank open incidents by it.
 */
export function sloUrgency(i: Pick<Incident, 'diagnosis'>): number {
  let best = 0;
  for (const e of i.diagnosis?.evidence ?? []) if (e.kind === 'slo-burn') best = Math.max(best, e.factor);
  return best;
}
