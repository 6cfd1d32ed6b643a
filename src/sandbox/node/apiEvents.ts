/**
 * Events written to the real API server as the kubelet's recorder does: a repeat of the same event (object,
 * reason, message, source) raises the count of the first instead of making a new one.
 */
import type { KubeConnection } from '../../infra/kubernetes/kubeClient';
import type { KubeObject } from '../store';
import { eventFoldKey, newEvent, type EventSink, type EventSource, type EventType } from '../sim/eventRecorder';
import { kubeTime } from '../sim/objects';

interface Folded {
  readonly name: string;
  count: number;
  /** Writes of one event in order: its create before any count patch. */
  chain: Promise<void>;
}

export class ApiEventSink implements EventSink {
  private readonly folded = new Map<string, Folded>();
  private seq = 0;

  constructor(
    private readonly conn: KubeConnection,
    private readonly track: (p: Promise<unknown>) => void,
    private readonly now: () => number = Date.now,
  ) {}

  record(involved: KubeObject, type: EventType, reason: string, message: string, source: EventSource, fieldPath?: string): void {
    const namespace = involved.metadata.namespace ?? 'default';
    const key = eventFoldKey(involved, reason, message, source, fieldPath);
    const stamp = kubeTime(this.now());
    const base = `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`;
    const existing = this.folded.get(key);
    if (existing) {
      existing.count++;
      const count = existing.count;
      existing.chain = existing.chain.catch(() => undefined).then(async () => {
        const r = await this.conn.request('PATCH', `${base}/${existing.name}`, { body: JSON.stringify({ count, lastTimestamp: stamp }), contentType: 'application/merge-patch+json' });
        if (r.status >= 300) throw new Error(`event ${reason} for ${involved.kind} ${namespace}/${involved.metadata.name}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
      });
      this.track(existing.chain);
      return;
    }
    const body = newEvent(involved, type, reason, message, source, fieldPath, this.now(), ++this.seq);
    const name = body.metadata.name;
    const chain = (async () => {
      const r = await this.conn.request('POST', base, { body: JSON.stringify(body) });
      if (r.status >= 300) throw new Error(`event ${reason} for ${involved.kind} ${namespace}/${involved.metadata.name}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
    })();
    this.folded.set(key, { name, count: 1, chain });
    this.track(chain);
  }

  /** Forgets the folding of a pod's events once it is gone. */
  forget(uid: string): void {
    for (const k of this.folded.keys()) if (k.includes(`/${uid}/`)) this.folded.delete(k);
  }
}
