import type { Band } from '../model/signal';
import type { Severity } from '../model/anomaly';
import { normalTail } from './robustStats';

/** Tuning of score calibration; one configuration for every target (chosen on the NAB corpus, see bench:nab). */
export interface FusionConfig {
  /** Samples before any score is given: the detectors are still learning. */
  readonly warmup: number;
  /** Half-life (samples) of the remembered largest surprise the score is relative to. */
  readonly recordHalfLife: number;
  /** The detector's own decision threshold on the calibrated score. */
  readonly threshold: number;
  /** Samples after a detection during which further scores are damped: one incident, one alert. */
  readonly quietSamples: number;
  readonly quietDamping: number;
  readonly mode: number;
  readonly likeHalfLife: number;
  readonly shortHalfLife: number;
  readonly likeScale: number;
}

export const DEFAULT_FUSION_CONFIG: FusionConfig = {
  warmup: 64,
  recordHalfLife: 100000,
  threshold: 0.9,
  quietSamples: 200,
  quietDamping: 0.5,
  mode: 0,
  likeHalfLife: 1000,
  shortHalfLife: 2,
  likeScale: 8,
};

export interface FusionState {
  /** Largest surprise seen so far, slowly forgotten. */
  record: number;
  n: number;
  /** Samples left in the quiet period after a detection. */
  quiet: number;
  mu: number;
  m2: number;
  short: number;
}

export function newFusionState(): FusionState {
  return { record: 0, n: 0, quiet: 0, mu: 0, m2: 0, short: 0 };
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
 * One score per target and time. The statistical surprise is calibrated against the largest surprise this target
 * has shown before (a new record is an anomaly, the hundredth wiggle of a noisy signal is not); rule and model
 * evidence can only raise it. After a detection the score is damped for a quiet period, because the first alert of
 * an incident is the one that matters and repeats are noise to the on-call human.
 */
export class ScoreFusion {
  private readonly decay: number;

  constructor(
    readonly state: FusionState = newFusionState(),
    private readonly config: FusionConfig = DEFAULT_FUSION_CONFIG,
  ) {
    this.decay = Math.pow(2, -1 / config.recordHalfLife);
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
    let score = 0;
    const c = this.config;
    if (c.mode === 0) {
      if (s.n >= c.warmup && raw > 0) {
        score = s.record > 0 ? Math.min(1, raw / s.record) : 1;
      }
    } else {
      const aS = 1 - Math.pow(2, -1 / c.shortHalfLife);
      s.short = s.n === 0 ? raw : s.short + aS * (raw - s.short);
      if (s.n >= c.warmup) {
        const sd = Math.sqrt(Math.max(s.m2 - s.mu * s.mu, 1e-12));
        const z = (s.short - s.mu) / sd;
        score = z <= 0 ? 0 : Math.min(1, -Math.log(Math.max(normalTail(z), 1e-300)) / c.likeScale / Math.LN10);
      }
      const aL = s.n < c.likeHalfLife ? 1 / (s.n + 1) : 1 - Math.pow(2, -1 / c.likeHalfLife);
      s.mu += aL * (s.short - s.mu);
      s.m2 += aL * (s.short * s.short - s.m2);
    }
    if (s.quiet > 0) score *= c.quietDamping;
    s.record = Math.max(raw, s.record * this.decay);
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

function describe(e: SignalEvidence): string {
  const where = e.observed > e.band.upper ? 'above' : e.observed < e.band.lower ? 'below' : 'inside';
  const what: Record<string, string> = {
    seasonal: `${where} its seasonal band`,
    level: `${where} its recent level`,
    spike: 'jumped',
    shift: 'shifted level',
    novel: 'moved in a pattern not seen before',
  };
  return `${e.signal} ${fmt(e.observed)} ${what[e.cause] ?? e.cause} (${e.surprise.toFixed(1)}σ; expected ${fmt(e.band.lower)}–${fmt(e.band.upper)})`;
}

function fmt(v: number): string {
  return Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toPrecision(3) : String(Math.round(v * 1000) / 1000);
}
