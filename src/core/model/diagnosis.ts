import type { FiringAlert } from './alert';
import type { Anomaly } from './anomaly';
import type { ClusterFact, LogLine } from './fact';
import type { SignalName } from './signal';
import type { TargetRef } from './target';

export type DiagnosisKind =
  | 'memory-leak'
  | 'bad-release'
  | 'crash-loop'
  | 'node-failure'
  | 'traffic-surge'
  | 'bad-feature-flag'
  | 'dependency-outage'
  | 'latency-spike'
  | 'cpu-hog'
  | 'unknown';

export const DIAGNOSIS_TITLES: Readonly<Record<DiagnosisKind, string>> = {
  'memory-leak': 'memory leak',
  'bad-release': 'bad release',
  'crash-loop': 'crash loop',
  'node-failure': 'node failure',
  'traffic-surge': 'traffic surge',
  'bad-feature-flag': 'bad feature flag',
  'dependency-outage': 'dependency outage',
  'latency-spike': 'latency spike',
  'cpu-hog': 'CPU per request regressed',
  unknown: 'unexplained anomaly',
};

/** One piece of evidence behind a diagnosis. */
export type Evidence =
  | { readonly kind: 'anomaly'; readonly anomaly: Anomaly }
  | { readonly kind: 'fact'; readonly fact: ClusterFact }
  | { readonly kind: 'log'; readonly line: LogLine }
  /** `spanMs`: how long the trend was measured over (a climb across scrapes); absent for a step measured before/after an onset. */
  | { readonly kind: 'signal-trend'; readonly signal: SignalName; readonly slopePerMinute: number; readonly note: string; readonly spanMs?: number }
  /** A change (release, configmap) near the symptoms that the rules of blame did not blame, and why. */
  | { readonly kind: 'coincident-change'; readonly fact: ClusterFact; readonly note: string }
  /** An alert firing on the workload (Alertmanager or Prometheus), with its summary and runbook. */
  | { readonly kind: 'alert'; readonly alert: FiringAlert }
  /** An SLO of the workload burning its error budget too fast (multi-window, multi-burn-rate). */
  | { readonly kind: 'slo-burn'; readonly t: number; readonly slo: string; readonly burn: number; readonly factor: number; readonly budgetRemaining?: number; readonly text: string };

export interface Diagnosis {
  readonly kind: DiagnosisKind;
  /** The workload or node the cause sits on (may differ from where symptoms show, e.g. a dependency). */
  readonly target: TargetRef;
  /** In [0, 1]. */
  readonly confidence: number;
  readonly t: number;
  /** One sentence for the on-call engineer: what is wrong and why Vigil thinks so. */
  readonly summary: string;
  readonly evidence: ReadonlyArray<Evidence>;
  /** Other candidate causes, best first, so a human can see what was ruled out. */
  readonly alternatives?: ReadonlyArray<{ readonly kind: DiagnosisKind; readonly confidence: number }>;
  /** Specifics a playbook needs, taken from the evidence (fills TemplateContext). */
  readonly details?: DiagnosisDetails;
}

export interface DiagnosisDetails {
  /** The revision that introduced the fault and the one before it (bad release). */
  readonly revision?: number;
  readonly previousRevision?: number;
  readonly image?: string;
  /** The failed node (node failure) or the node of the worst pod. */
  readonly node?: string;
  /** Pod with the most restarts/OOMKills (crash loop, memory leak). */
  readonly worstPod?: string;
  /** The flag change to revert (bad feature flag). */
  readonly flag?: { readonly namespace: string; readonly configMap: string; readonly key: string; readonly previousValue: string };
  /** The request rate over its baseline before the onset (traffic surge): how many times the load each pod had. */
  readonly loadRatio?: number;
  /** Targets showing symptoms of this cause (callers of a failed dependency, services on a failed node). */
  readonly affected?: ReadonlyArray<TargetRef>;
}
