import type { Band } from '../model/signal';
import type { Severity } from '../model/anomaly';
import { MEAN_ABS_TO_SIGMA, alphaForHalfLife, normalTail } from './robustStats';

/** Tuning of score calibration; one configuration for every target (chosen on the NAB corpus, see bench:nab). */
export interface FusionConfig {
  /** Samples before any score is given: the detectors are still learning. */
  readonly warmup: number;
  /** Half-life (samples) of the short average of surprise, and of its long-run typical level and spread. */
  readonly shortHalfLife: number;
  readonly longHalfLife: number;
  /** Tail probability 10^-(decades * score): score 1 means the short surprise is `decades` decades unlikely. */
  readonly decades: number;
  /** The same test on the single latest surprise, so one huge outlier is flagged at once (0: off; 12 costs ~2 NAB points). */
  readonly instantDecades: number;
  /** The detector's own decision threshold on the calibrated score. */
  readonly threshold: number;
  /** Samples after a detection during which further scores are damped: one incident, one alert. */
  readonly quietSamples: number;
  readonly quietDamping: number;
}

export const DEFAULT_FUSION_CONFIG: FusionConfig = {
  warmup: 64,
  shortHalfLife: 16,
  longHalfLife: 1000,
  decades: 3,
  instantDecades: 0,
  threshold: 0.9,
  quietSamples: 100,
  quietDamping: 0.5,
};

export interface FusionState {
  n: number;
  /** Samples left in the quiet period after a detection. */
  quiet: number;
  /** Short average of log(1 + surprise), and the long-run robust location and mean absolute deviation of it. */
  short: number;
  mu: number;
  dev: number;
  /** Long-run robust location and mean absolute deviation of log(1 + surprise) itself. */
  muX: number;
  devX: number;
}

export function newFusionState(): FusionState {
  return { n: 0, quiet: 0, short: 0, mu: 0, dev: 0, muX: 0, devX: 0 };
}

/** Evidence of one signal at one time. */
export interface SignalEvidence {
  readonly signal: string;
  /** Surprise in robust sigmas from the statistical detectors. */
  readonly surprise: number;
  readonly observed: number;
  readonly band: Band;
  readonly cause: string;
}

/** Evidence from outside the statistical stack: a firing rule or a model score. */
export interface ExternalEvidence {
  readonly source: 'rule' | 'model';
  /** Calibrated score in [0, 1]. */
  readonly score: number;
  readonly reason: string;
  readonly severity?: Severity;
  /** Share per signal, summing to about 1. */
  readonly contributions?: Readonly<Record<string, number>>;
}

export interface FusedContribution {
  readonly signal: string;
  readonly share: number;
  readonly observed?: number;
  readonly band?: Band;
}

export interface FusedScore {
  readonly score: number;
  readonly isAnomaly: boolean;
  readonly severity: Severity;
  readonly contributions: ReadonlyArray<FusedContribution>;
  readonly reason: string;
}

/**
 * One score per target and time. The statistical surprise is calibrated like an anomaly likelihood: its short
 * average is compared with what is usual for this target (the hundredth wiggle of a noisy signal is not an
 * anomaly, a sustained burst on a calm one is), and the tail probability becomes a score; rule and model
 * evidence can only raise it. After a detection the score is damped for a quiet period, because the first alert of
 * an incident is the one that matters and repeats are noise to the on-call human.
 */
export class ScoreFusion {
  private readonly shortAlpha: number;
  private readonly longAlpha: number;

  constructor(
    readonly state: FusionState = newFusionState(),
    private readonly config: FusionConfig = DEFAULT_FUSION_CONFIG,
  ) {
    this.shortAlpha = alphaForHalfLife(config.shortHalfLife);
    this.longAlpha = alphaForHalfLife(config.longHalfLife);
  }

  get threshold(): number {
    return this.config.threshold;
  }

  fuse(signals: ReadonlyArray<SignalEvidence>, external: ReadonlyArray<ExternalEvidence> = []): FusedScore {
    const s = this.state;
    let raw = 0;
    let top: SignalEvidence | undefined;
    let total = 0;
    for (const e of signals) {
      total += e.surprise;
      if (e.surprise > raw) {
        raw = e.surprise;
        top = e;
      }
    }
    const c = this.config;
    const x = Math.log1p(raw);
    s.short = s.n === 0 ? x : s.short + this.shortAlpha * (x - s.short);
    let score = 0;
    if (s.n >= c.warmup) {
      const z = (s.short - s.mu) / (MEAN_ABS_TO_SIGMA * s.dev + 1e-9);
      score = tailScore(z, c.decades);
      if (c.instantDecades > 0) score = Math.max(score, tailScore((x - s.muX) / (MEAN_ABS_TO_SIGMA * s.devX + 1e-9), c.instantDecades));
      if (s.quiet > 0) score *= c.quietDamping;
    }
    // Robust update: a burst of surprise moves the long-run level by a bounded step.
    const a = s.n < c.longHalfLife ? 1 / (s.n + 1) : this.longAlpha;
    const r = s.short - s.mu;
    const limit = 4 * (MEAN_ABS_TO_SIGMA * s.dev + 1e-9);
    s.mu += a * (s.n < 10 ? r : Math.max(-limit, Math.min(limit, r)));
    s.dev += a * (Math.min(Math.abs(r), 2 * limit) - s.dev);
    const rx = x - s.muX;
    const limitX = 4 * (MEAN_ABS_TO_SIGMA * s.devX + 1e-9);
    s.muX += a * (s.n < 10 ? rx : Math.max(-limitX, Math.min(limitX, rx)));
    s.devX += a * (Math.min(Math.abs(rx), 2 * limitX) - s.devX);
    s.n++;

    let reason = top && score > 0 ? describe(top) : 'within expected bands';
    let severity: Severity = score >= 0.97 ? 'critical' : score >= this.config.threshold ? 'warning' : 'info';
    let contributions: FusedContribution[] = signals.map((e) => ({
      signal: e.signal,
      share: total > 0 ? e.surprise / total : 1 / Math.max(1, signals.length),
      observed: e.observed,
      band: e.band,
    }));
    for (const x of external) {
      if (x.score <= score) continue;
      score = x.score;
      reason = `${x.source}: ${x.reason}`;
      severity = x.severity ?? (x.score >= 0.97 ? 'critical' : 'warning');
      if (x.contributions) {
        const byName = new Map(contributions.map((c) => [c.signal, c]));
        contributions = Object.entries(x.contributions).map(([signal, share]) => ({ ...byName.get(signal), signal, share }));
      }
    }
    const isAnomaly = score >= this.config.threshold;
    if (isAnomaly && s.quiet === 0) s.quiet = this.config.quietSamples;
    else if (s.quiet > 0) s.quiet--;
    return { score, isAnomaly, severity, contributions, reason };
  }
}

/** Score in [0, 1] from a z: the tail probability's decades over `decades`. */
function tailScore(z: number, decades: number): number {
  return z <= 0 ? 0 : Math.min(1, -Math.log10(Math.max(normalTail(z), 1e-300)) / decades);
}

function describe(e: SignalEvidence): string {
  const where = e.observed > e.band.upper ? 'above' : e.observed < e.band.lower ? 'below' : 'inside';
  const what: Record<string, string> = {
    seasonal: `${where} its seasonal band`,
    level: `${where} its recent level`,
    shift: 'shifted level',
    novel: 'moved in a pattern not seen before',
  };
  return `${e.signal} ${fmt(e.observed)} ${what[e.cause] ?? e.cause} (${e.surprise.toFixed(1)}σ; expected ${fmt(e.band.lower)}–${fmt(e.band.upper)})`;
}

function fmt(v: number): string {
  return Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toPrecision(3) : String(Math.round(v * 1000) / 1000);
}
