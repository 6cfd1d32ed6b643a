import { DEFAULT_JOINT_CONFIG, JointModel, type JointModelConfig } from '../detect/jointModel';
import type { SampleFrame, SignalName } from '../model/signal';
import { targetKey } from '../model/target';
import type { LoggerPort, ModelScore } from '../ports';

/**
 * The multi-signal model of `vigil detect` in the live loop: per service, the joint behaviour of its signals learned
 * on its own normal frames and calibrated the same way (out-of-sample training scores, a 0.1 % false-alarm target).
 * It speaks on its own — no per-signal band has to agree — so it can raise an incident when the signals break their
 * usual relationship while each stays inside its own band (one pod burning twice the CPU per request). It leaves the
 * leading component (the load that moves every signal together over the day and week) to the baselines. Not saved:
 * after a restart it learns again (240 frames).
 */
export interface JointEvidenceOptions {
  /**
   * Normal frames before the model speaks. 240: the calibration's threshold sits at the 0.1 % tail, extrapolated from
   * an exponential fitted to the top 10 % of out-of-sample scores, so 240 rows give 24 tail points, and each of the two
   * folds keeps 120 rows, over 10 per signal for the nine service signals (20 minutes at a 5 s interval, 1 hour at 15 s).
   */
  readonly trustFrames?: number;
  /** Refit on the newest normal frames after this many more. */
  readonly refitEveryFrames?: number;
  /** Normal frames kept per service for (re)fitting. */
  readonly historyFrames?: number;
  /** Consecutive frames at or above the threshold before the model raises: the weakest of them is fused. */
  readonly persistFrames?: number;
  readonly model?: JointModelConfig;
}

/** Signals of a service the model reads; discrete events (log lines, probes) are left to the rules. */
export const JOINT_SIGNALS: ReadonlyArray<SignalName> = ['request_rate', 'error_ratio', 'latency_p50', 'latency_p95', 'latency_p99', 'cpu', 'memory', 'restarts', 'available_replicas'];

const DEFAULTS: Required<JointEvidenceOptions> = {
  trustFrames: 240,
  refitEveryFrames: 240,
  historyFrames: 2880,
  persistFrames: 2,
  // a departure must reach 2 × 5 % of the levels: at 1.4 × 5 % the sandbox's ordinary drift over an hour raised false
  // alarms; at 3 × 5 % the cpu-hog fault took 45 s instead of 30 s to reach the threshold (test/unit/loop/jointEvidence)
  model: { ...DEFAULT_JOINT_CONFIG, levelComponents: 1, minScaleShare: 0.05, minDeparture: 4 },
};

/** Frames after an anomalous one that are not learned from (the rate windows still carry it). */
const AFTER_ANOMALY = 12;

interface ServiceJoint {
  rows: Array<Array<number | undefined>>;
  anomalous: boolean[];
  model: JointModel | undefined;
  /** Normal frames learned since the last fit. */
  sinceFit: number;
  /** Frames since the last anomalous one. */
  clean: number;
  recent: ModelScore[];
}

export class JointEvidence {
  private readonly services = new Map<string, ServiceJoint>();
  private readonly options: Required<JointEvidenceOptions>;

  constructor(
    private readonly logger: LoggerPort,
    options: JointEvidenceOptions = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** True once the service's model speaks. */
  isReady(serviceKey: string): boolean {
    return this.services.get(serviceKey)?.model !== undefined;
  }

  /** The model's score of this frame (the weakest of the last persistFrames), or undefined before it speaks. */
  evidence(frame: SampleFrame): ModelScore | undefined {
    if (frame.target.kind !== 'service') return undefined;
    const svc = this.serviceOf(targetKey(frame.target));
    svc.rows.push(JOINT_SIGNALS.map((s) => frame.values[s]));
    svc.anomalous.push(false);
    const excess = svc.rows.length - this.options.historyFrames;
    if (excess > 0) {
      svc.rows.splice(0, excess);
      svc.anomalous.splice(0, excess);
    }
    if (!svc.model) return undefined;
    const step = svc.model.step(frame.values);
    const contributions: Partial<Record<SignalName, number>> = {};
    for (const c of step.contributions) contributions[c.signal as SignalName] = c.share;
    svc.recent.push({ score: step.score, contributions });
    if (svc.recent.length > this.options.persistFrames) svc.recent.shift();
    if (svc.recent.length < this.options.persistFrames) return undefined;
    return svc.recent.reduce((a, b) => (b.score < a.score ? b : a));
  }

  /** Records whether this frame was anomalous (by any detector); fits or refits the model when due. */
  settle(frame: SampleFrame, anomalous: boolean): void {
    if (frame.target.kind !== 'service') return;
    const key = targetKey(frame.target);
    const svc = this.services.get(key);
    if (!svc || svc.rows.length === 0) return;
    svc.anomalous[svc.anomalous.length - 1] = anomalous;
    svc.clean = anomalous ? 0 : svc.clean + 1;
    if (svc.clean <= AFTER_ANOMALY) {
      // a frame that turned out to be in or just after an anomaly is not normal history
      if (anomalous) this.dropUnsettled(svc);
      return;
    }
    svc.sinceFit++;
    const due = svc.model ? svc.sinceFit >= this.options.refitEveryFrames : this.normalRows(svc).length >= this.options.trustFrames;
    if (!due) return;
    const fit = JointModel.fit(JOINT_SIGNALS, this.normalRows(svc), this.options.model);
    svc.sinceFit = 0;
    if (!fit.model) {
      this.logger.log('debug', `multi-signal model of ${key} not fitted: ${fit.reason}`, { service: key });
      return;
    }
    const first = !svc.model;
    svc.model = fit.model;
    svc.recent = [];
    if (first) this.logger.log('info', `multi-signal model of ${key} calibrated on ${this.options.trustFrames} normal frames (${fit.model.signals.length} signals, ${fit.model.components} components); it now speaks`, { service: key });
  }

  private serviceOf(key: string): ServiceJoint {
    let svc = this.services.get(key);
    if (!svc) {
      svc = { rows: [], anomalous: [], model: undefined, sinceFit: 0, clean: 0, recent: [] };
      this.services.set(key, svc);
    }
    return svc;
  }

  /** Normal rows: not anomalous and not within AFTER_ANOMALY frames of one, oldest first. */
  private normalRows(svc: ServiceJoint): Array<Array<number | undefined>> {
    const out: Array<Array<number | undefined>> = [];
    let since = Infinity;
    for (let i = 0; i < svc.rows.length; i++) {
      since = svc.anomalous[i] ? 0 : since + 1;
      if (since > AFTER_ANOMALY) out.push(svc.rows[i]);
    }
    return out;
  }

  /** The frames just before an anomaly often carry its start: mark them anomalous too. */
  private dropUnsettled(svc: ServiceJoint): void {
    for (let i = Math.max(0, svc.anomalous.length - 1 - AFTER_ANOMALY); i < svc.anomalous.length; i++) svc.anomalous[i] = true;
  }
}
