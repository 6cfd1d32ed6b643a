/** Tunables of correlation and diagnosis, with their defaults and validation. */
export interface CorrelationConfig {
  /** Anomalies further apart than this start a new episode; an episode is active this long after its last anomaly. */
  readonly episodeGapMs: number;
  /** Without a supporting fact, symptoms must last this long (and count `minAnomaliesToOpen`) before an incident opens. */
  readonly settleMs: number;
  readonly minAnomaliesToOpen: number;
  /** A cause this confident opens an incident at once (facts back it). */
  readonly openConfidence: number;
  /** Below this, nothing is opened at all. */
  readonly minConfidence: number;
  /** A contribution share from which a signal counts as a symptom of an anomaly. */
  readonly minContributionShare: number;
  /** Symptoms starting up to this long after a new revision count against it. */
  readonly releaseWindowMs: number;
  /** Symptoms starting up to this long after a configmap change count against it. */
  readonly flagWindowMs: number;
  /** Facts may be observed up to this long after the symptoms they explain began. */
  readonly factLagMs: number;
  readonly oomWindowMs: number;
  readonly crashWindowMs: number;
  readonly nodeWindowMs: number;
  /** Services may show symptoms this long before their node is reported NotReady (node-monitor grace period). */
  readonly nodeLeadMs: number;
  /** How far back the memory trend is read, and the shortest climb that counts. */
  readonly trendWindowMs: number;
  readonly minTrendSpanMs: number;
  /** Memory growth per minute, relative to its level, from which it counts as a leak. */
  readonly minLeakPerMinute: number;
  /** Request rate over its pre-onset baseline from which it counts as a surge. */
  readonly surgeRatio: number;
  /** Window before an onset used as baseline for "rose from … to …". */
  readonly baselineMs: number;
  /** A caller's symptoms may start this long before its callee's and still be blamed on it. */
  readonly onsetToleranceMs: number;
  /** A member changes incident only when the new cause beats the current one by this much. */
  readonly switchMargin: number;
  /** Smallest confidence change that is reported as an update. */
  readonly confidenceStep: number;
  readonly frameHistoryMs: number;
  readonly factRetentionMs: number;
  /** `closeIdle` closes incidents without a member anomaly or fact for this long. */
  readonly incidentIdleMs: number;
  /**
   * After an incident is resolved, its members' error and latency signals still carry the bad minutes in their
   * rate windows. For up to this long, such an anomaly opens nothing while the signal only falls (or stays at
   * the lowest level seen since the fix); a rise, or a symptom on another signal, is a new problem at once.
   */
  readonly afterglowMs: number;
  /**
   * An incident that its cause's confidence alone does not open (under `openConfidence`) opens only while its symptoms
   * are current: the episode's last anomaly at most this long ago. An episode stays active for `episodeGapMs` after its
   * last anomaly and is re-diagnosed as its frames arrive; without this, minutes-old symptoms plus a slow drift of one
   * signal (the day's climb read as a rise of requests) opened an incident with nothing wrong now.
   */
  readonly currentSymptomsMs: number;
}

export const DEFAULT_CORRELATION_CONFIG: CorrelationConfig = {
  episodeGapMs: 3 * 60_000,
  // two anomalous scrapes in a row (5 s apart) open an incident: what `for 5s` would ask of an alert
  settleMs: 5_000,
  minAnomaliesToOpen: 2,
  openConfidence: 0.6,
  minConfidence: 0.15,
  minContributionShare: 0.15,
  releaseWindowMs: 10 * 60_000,
  flagWindowMs: 10 * 60_000,
  factLagMs: 30_000,
  oomWindowMs: 10 * 60_000,
  crashWindowMs: 5 * 60_000,
  nodeWindowMs: 10 * 60_000,
  nodeLeadMs: 2 * 60_000,
  trendWindowMs: 10 * 60_000,
  minTrendSpanMs: 20_000,
  minLeakPerMinute: 0.02,
  surgeRatio: 2,
  baselineMs: 10 * 60_000,
  onsetToleranceMs: 30_000,
  switchMargin: 0.05,
  confidenceStep: 0.05,
  frameHistoryMs: 15 * 60_000,
  factRetentionMs: 30 * 60_000,
  incidentIdleMs: 10 * 60_000,
  afterglowMs: 5 * 60_000,
  currentSymptomsMs: 30_000,
};

/** Fields that are shares or confidences, so must lie in [0, 1]; every other field is a non-negative number. */
const UNIT_FIELDS: ReadonlySet<keyof CorrelationConfig> = new Set(['openConfidence', 'minConfidence', 'minContributionShare', 'switchMargin', 'confidenceStep']);

/**
 * Fills a partial config with defaults. A field that is not a finite number in its range keeps its
 * default, and a problem names it, its value and what it should be.
 */
export function resolveCorrelationConfig(partial: Partial<Record<keyof CorrelationConfig, unknown>> = {}): { config: CorrelationConfig; problems: string[] } {
  const config: Record<string, number> = { ...DEFAULT_CORRELATION_CONFIG };
  const problems: string[] = [];
  for (const [name, value] of Object.entries(partial)) {
    if (value === undefined) continue;
    if (!(name in DEFAULT_CORRELATION_CONFIG)) {
      problems.push(`correlation.${name} is not a setting; known: ${Object.keys(DEFAULT_CORRELATION_CONFIG).join(', ')}`);
      continue;
    }
    const unit = UNIT_FIELDS.has(name as keyof CorrelationConfig);
    const ok = typeof value === 'number' && Number.isFinite(value) && value >= 0 && (!unit || value <= 1) && (name !== 'confidenceStep' || value > 0);
    if (!ok) {
      const def = DEFAULT_CORRELATION_CONFIG[name as keyof CorrelationConfig];
      problems.push(`correlation.${name} is ${typeof value === 'number' ? String(value) : JSON.stringify(value)}; use ${unit ? 'a number from 0 to 1' : 'a number of 0 or more'} (kept the default ${def})`);
      continue;
    }
    config[name] = value as number;
  }
  return { config: config as unknown as CorrelationConfig, problems };
}
