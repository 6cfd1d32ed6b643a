import type { TargetRef } from './target';

/** The signal catalogue: every signal Vigil knows, with its unit and which way is bad. */
export type SignalName =
  | 'request_rate'
  | 'error_ratio'
  | 'latency_p50'
  | 'latency_p95'
  | 'latency_p99'
  | 'cpu'
  | 'memory'
  | 'restarts'
  | 'available_replicas'
  | 'log_errors'
  | 'probe_success'
  | 'probe_latency';

export type SignalUnit = 'req/s' | 'ratio' | 'seconds' | 'cores' | 'bytes' | 'count' | 'replicas' | 'lines/interval';

/** Which direction of change is a symptom: memory going up is bad, available replicas going down is. */
export type BadDirection = 'up' | 'down' | 'both';

export interface SignalDefinition {
  readonly name: SignalName;
  readonly unit: SignalUnit;
  readonly bad: BadDirection;
  readonly description: string;
  /** Target kinds this signal exists for. */
  readonly targetKinds: ReadonlyArray<TargetRef['kind']>;
  /**
   * A rate or increase over the source's window (error ratio, latency quantiles, CPU, restarts): one sample
   * reaches back a whole window, so a fixed problem lingers in it that long. Gauges and per-interval counts are not.
   */
  readonly windowed: boolean;
}

/** A signal of one target: the unit of a time series. */
export interface SeriesRef {
  readonly target: TargetRef;
  readonly signal: SignalName;
}

/** One observation. `t` is epoch milliseconds, aligned to the scrape step. */
export interface Sample {
  readonly series: SeriesRef;
  readonly t: number;
  readonly v: number;
}

/** All samples of one target at one aligned time: what detectors consume. */
export interface SampleFrame {
  readonly target: TargetRef;
  readonly t: number;
  readonly values: Readonly<Partial<Record<SignalName, number>>>;
  /**
   * Windowed signals over the last scrape interval alone (the increase since the previous scrape), where the
   * source has it: what changed just now, free of the minutes a rate window still holds. Only the series scraped
   * in this round count, so after a rollout it speaks for the new pods alone.
   */
  readonly fresh?: Readonly<Partial<Record<SignalName, number>>>;
  /**
   * When the pods whose requests make up `fresh` started (the earliest of their process starts), where every one is
   * known: at or after an action, `fresh` measures only pods that action made (the new revision's, say).
   */
  readonly freshPodsSince?: number;
  /**
   * The last interval's requests, 5xx and latency buckets of each pod behind `fresh` (counts, not rates), with its start
   * where known: a release's new pods against its old ones while both serve, and a rollout's new pods judged on their
   * own before the old ones are gone. Where the source reads per-pod series (a direct scrape; Prometheus's per-pod defaults).
   */
  readonly freshPods?: ReadonlyArray<PodInterval>;
}

/** One pod's requests and 5xx over the last scrape interval (see SampleFrame.freshPods). */
export interface PodInterval {
  readonly pod: string;
  /** When it started, epoch ms: its process start where the pod exports it, else its containers' start from the API. */
  readonly since?: number;
  readonly requests: number;
  readonly errors: number;
  /** Requests per latency bucket over the interval, cumulative, keyed by the bucket's `le` as Prometheus writes it ("0.1", "+Inf"). */
  readonly buckets?: Readonly<Record<string, number>>;
}

/** Expected range of a signal at a time, from the seasonal baseline. */
export interface Band {
  readonly lower: number;
  readonly expected: number;
  readonly upper: number;
}
