import type { Band } from '../model/signal';
import type { Severity } from '../model/anomaly';
import { normalTail } from './robustStats';
import { valueWording } from '../observe/signalWording';

/** Tuning of the fused score; one configuration for every target (chosen on the whole NAB corpus, see bench:nab). */
export interface FusionConfig {
  /** Samples before any score is given (250 ≈ an hour at a 15 s step): the calibrations are still learning. */
  readonly warmup: number;
  /** Score 1 means evidence whose normal tail probability is 10^-decades. */
  readonly decades: number;
  /** The detector's own decision threshold on the score. */
  readonly threshold: number;
  /** Samples after a detection during which the score is damped: one incident, one alert. */
  readonly quietSamples: number;
  readonly quietDamping: number;
  /** Alert fatigue: each detection raises the evidence needed by this share, forgotten with this half-life. */
  readonly fatigueGain: number;
  readonly fatigueHalfLife: number;
}

export const DEFAULT_FUSION_CONFIG: FusionConfig = {
  warmup: 250,
  decades: 4,
  threshold: 0.9,
  quietSamples: 100,
  quietDamping: 0.5,
  fatigueGain: 0.5,
  fatigueHalfLife: 2000,
};

export interface FusionState {
  n: number;
  /** Samples left in the quiet period after a detection. */
  quiet: number;
  /** Recent detections, decayed. */
  fatigue: number;
}

export function newFusionState(): FusionState {
  return { n: 0, quiet: 0, fatigue: 0 };
}

/** Evidence of one signal at one time (from SignalDetector). */
export interface SignalEvidence {
  readonly signal: string;
  /** Calibrated evidence in standard-normal sigmas. */
  readonly evidence: number;
  /** Distance from the seasonal expectation, in robust sigmas (for the reason line). */
  readonly deviation: number;
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
 * One score per target and time: the strongest signal's calibrated evidence as a tail probability in decades,
 * scaled to [0, 1]; rule and model evidence can only raise it. After a detection the score is damped for a quiet
 * period and the bar rises a little (alert fatigue), because the first alert of an incident is the one that
 * matters and a chatty target should not page again and again.
 */
export class ScoreFusion {
  private readonly fatigueDecay: number;

  constructor(
    readonly state: FusionState = newFusionState(),
    private readonly config: FusionConfig = DEFAULT_FUSION_CONFIG,
  ) {
    this.fatigueDecay = Math.pow(2, -1 / config.fatigueHalfLife);
  }

  get threshold(): number {
    return this.config.threshold;
  }

  fuse(signals: ReadonlyArray<SignalEvidence>, external: ReadonlyArray<ExternalEvidence> = []): FusedScore {
    const s = this.state;
    const c = this.config;
    let best = 0;
    let top: SignalEvidence | undefined;
    let total = 0;
    for (const e of signals) {
      total += e.evidence;
      if (e.evidence > best) {
        best = e.evidence;
        top = e;
      }
    }
    let score = 0;
    if (s.n >= c.warmup) {
      // Bonferroni: the strongest of k signals is k times likelier to look extreme by chance.
      score = tailScore(best, c.decades * (1 + c.fatigueGain * s.fatigue), signals.length);
      if (s.quiet > 0) score *= c.quietDamping;
    }
    s.n++;

    let reason = top && score > 0 ? describe(top) : 'within expected bands';
    let severity: Severity = score >= 0.97 ? 'critical' : score >= c.threshold ? 'warning' : 'info';
    let contributions: FusedContribution[] = signals.map((e) => ({
      signal: e.signal,
      share: total > 0 ? e.evidence / total : 1 / Math.max(1, signals.length),
      observed: e.observed,
      band: e.band,
    }));
    for (const x of external) {
      if (x.score <= score) continue;
      score = x.score;
      reason = `${x.source}: ${x.reason}`;
      severity = x.severity ?? (x.score >= 0.97 ? 'critical' : 'warning');
      if (x.contributions) {
        const byName = new Map(contributions.map((e) => [e.signal, e]));
        contributions = Object.entries(x.contributions).map(([signal, share]) => ({ ...byName.get(signal), signal, share }));
      }
    }
    const isAnomaly = score >= c.threshold;
    s.fatigue *= this.fatigueDecay;
    if (isAnomaly && s.quiet === 0) {
      s.fatigue += 1;
      s.quiet = c.quietSamples;
    } else if (s.quiet > 0) s.quiet--;
    return { score, isAnomaly, severity, contributions, reason };
  }
}

/** Score in [0, 1] from a z: the decades of its tail probability (times `tests`) over `decades`. */
function tailScore(z: number, decades: number, tests = 1): number {
  if (z <= 0) return 0;
  const d = -Math.log10(Math.max(normalTail(z), 1e-300)) - Math.log10(Math.max(1, tests));
  return Math.max(0, Math.min(1, d / decades));
}

function describe(e: SignalEvidence): string {
  const where = e.observed > e.band.upper ? 'above' : e.observed < e.band.lower ? 'below' : undefined;
  const what = where
    ? `${where} its seasonal band`
    : e.cause === 'shift'
      ? 'shifted its level'
      : e.cause === 'novel'
        ? 'moved in a pattern not seen before'
        : 'left its seasonal pattern';
  const fmt = (v: number) => valueWording(e.signal, v);
  return `${e.signal} ${fmt(e.observed)} ${what} (${e.deviation.toFixed(1)}σ from ${fmt(e.band.expected)}; band ${fmt(e.band.lower)}–${fmt(e.band.upper)})`;
}
