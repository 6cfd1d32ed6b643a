import type { TargetRef } from './target';

/** Where an edge of the service graph comes from: a `vigil.dev/depends-on` annotation, mesh metrics, or trace-derived metrics. */
export type CallSource = 'annotation' | 'istio' | 'linkerd' | 'tracing';

/** A call from one workload to another seen in telemetry, at `perSecond` requests per second over the query's window. */
export interface ObservedCall {
  readonly caller: TargetRef;
  readonly callee: TargetRef;
  readonly source: Exclude<CallSource, 'annotation'>;
  readonly perSecond: number;
}
