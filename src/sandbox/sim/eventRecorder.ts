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

export class EventRecorder implements EventSink {
  private readonly folded = new Map<string, string>();
  private seq = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly now: () => number,
  ) {}

  record(involved: KubeObject, type: EventType, reason: string, message: string, source: EventSource, fieldPath?: string): void {
    const namespace = involved.metadata.namespace ?? 'default';
    const key = `${involved.kind}/${namespace}/${involved.metadata.name}/${involved.metadata.uid}/${reason}/${message}/${source.component}`;
    const stamp = kubeTime(this.now());
    const existing = this.folded.get(key);
    if (existing && this.store.get('events', namespace, existing)) {
      this.store.mutate('events', namespace, existing, (e) => {
        e.count = ((e.count as number) ?? 1) + 1;
        e.lastTimestamp = stamp;
      });
      return;
    }
    const name = `${involved.metadata.name}.${(0x180000000000 + this.now() * 1000 + ++this.seq).toString(16).slice(-16)}`;
    this.folded.set(key, name);
    this.store.create('events', {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
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
    });
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
