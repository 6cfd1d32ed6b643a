/**
 * Writes core/v1 Events the way the kubelet and controllers do: repeated events (same object,
 * reason, message, source) are folded into one with a rising count, as the client-go recorder does.
 */
import type { KubeObject, ObjectStore } from '../store';
import { kubeTime } from './objects';

export type EventType = 'Normal' | 'Warning';

export interface EventSource {
  component: string;
  host?: string;
}

/** Where a kubelet or controller records an event: the store here, the real API server in the node agent. */
export interface EventSink {
  record(involved: KubeObject, type: EventType, reason: string, message: string, source: EventSource, fieldPath?: string): void;
}

/** The fold key of an event: a repeat of the same object, reason, message, source and field raises one event's count. */
export function eventFoldKey(involved: KubeObject, reason: string, message: string, source: EventSource, fieldPath?: string): string {
  return `${involved.kind}/${involved.metadata.namespace ?? 'default'}/${involved.metadata.name}/${involved.metadata.uid}/${reason}/${message}/${source.component}/${fieldPath ?? ''}`;
}

/**
 * A new core/v1 Event as the client-go recorder writes it (count 1; a cluster-scoped object's events go to
 * `default` and their involvedObject has no namespace). `seq` makes names unique within one recorder.
 */
export function newEvent(involved: KubeObject, type: EventType, reason: string, message: string, source: EventSource, fieldPath: string | undefined, now: number, seq: number): KubeObject {
  const stamp = kubeTime(now);
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${involved.metadata.name}.${(0x180000000000 + now * 1000 + seq).toString(16).slice(-16)}`, namespace: involved.metadata.namespace ?? 'default' },
    involvedObject: {
      apiVersion: involved.apiVersion,
      kind: involved.kind,
      namespace: involved.metadata.namespace,
      name: involved.metadata.name,
      uid: involved.metadata.uid,
      resourceVersion: involved.metadata.resourceVersion,
      ...(fieldPath ? { fieldPath } : {}),
    },
    reason,
    message,
    type,
    count: 1,
    firstTimestamp: stamp,
    lastTimestamp: stamp,
    source,
    reportingComponent: source.component,
    reportingInstance: source.host ?? '',
    eventTime: null,
  };
}

export class EventRecorder implements EventSink {
  private readonly folded = new Map<string, string>();
  private seq = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly now: () => number,
  ) {}

  record(involved: KubeObject, type: EventType, reason: string, message: string, source: EventSource, fieldPath?: string): void {
    const namespace = involved.metadata.namespace ?? 'default';
    const key = eventFoldKey(involved, reason, message, source, fieldPath);
    const existing = this.folded.get(key);
    if (existing && this.store.get('events', namespace, existing)) {
      const stamp = kubeTime(this.now());
      this.store.mutate('events', namespace, existing, (e) => {
        e.count = ((e.count as number) ?? 1) + 1;
        e.lastTimestamp = stamp;
      });
      return;
    }
    const event = newEvent(involved, type, reason, message, source, fieldPath, this.now(), ++this.seq);
    this.folded.set(key, event.metadata.name);
    this.store.create('events', event);
  }

  /** Drops events not seen for `ttlMs`, as the API server's event TTL does. */
  expire(ttlMs: number): void {
    const cutoff = this.now() - ttlMs;
    for (const e of this.store.list('events').items) {
      const last = Date.parse(String(e.lastTimestamp ?? e.metadata.creationTimestamp));
      if (Number.isFinite(last) && last < cutoff) {
        this.store.delete('events', e.metadata.namespace, e.metadata.name);
      }
    }
    for (const [k, name] of this.folded) {
      const ns = k.split('/')[1];
      if (!this.store.get('events', ns, name)) this.folded.delete(k);
    }
  }
}
