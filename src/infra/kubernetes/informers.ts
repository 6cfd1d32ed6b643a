import type * as k8s from '@kubernetes/client-node';
import type { KubeConnection } from './kubeClient';

export type KubeObject = k8s.KubernetesObject;

export interface InformerHandlers<T extends KubeObject> {
  /** Called for adds, updates and deletes with the object before and after (undefined when absent). */
  onChange(previous: T | undefined, current: T | undefined): void;
  /** Connection state, for the source's status. */
  onState(state: 'synced' | 'failing', detail: string): void;
}

export interface InformerOptions {
  /** API path of the collection, e.g. /api/v1/namespaces/shop/pods or /apis/apps/v1/deployments. */
  readonly path: string;
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
}

/**
 * A client-node ListWatch that does not give up: on any error it waits with jittered exponential
 * backoff and relists from scratch (so objects changed or deleted while the API was away are
 * reconciled); a 410 Gone during a watch relists too (client-node handles that one itself).
 * Keeps the previous version of each object so handlers can diff.
 */
export class ResilientInformer<T extends KubeObject> {
  private informer: k8s.ListWatch<T> | undefined;
  private readonly known = new Map<string, T>();
  private changes = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;

  constructor(
    private readonly conn: KubeConnection,
    private readonly options: InformerOptions,
    private readonly handlers: InformerHandlers<T>,
  ) {}

  get path(): string {
    return this.options.path;
  }

  /** Current objects, from the informer cache. */
  list(): T[] {
    return [...this.known.values()];
  }

  /** One cached object by namespace and name (a cluster-scoped object's namespace is ''), without copying the cache. */
  get(namespace: string, name: string): T | undefined {
    return this.known.get(`${namespace}/${name}`);
  }

  /** Counts every add, update and delete: a reader caching something derived from the objects compares it. */
  get version(): number {
    return this.changes;
  }

  start(): void {
    const { lib } = this.conn;
    const listFn = async (): Promise<k8s.KubernetesListObject<T>> => {
      const list = await this.conn.getJson<k8s.KubernetesListObject<T>>(this.options.path, { timeoutMs: 15_000 });
      this.failures = 0;
      queueMicrotask(() => this.handlers.onState('synced', `listed ${list.items?.length ?? 0} from ${this.options.path}`));
      return list;
    };
    const inf = new lib.ListWatch<T>(this.options.path, new lib.Watch(this.conn.kubeConfig), listFn, false);
    const key = (o: T) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
    const put = (o: T) => {
      const k = key(o);
      const prev = this.known.get(k);
      this.known.set(k, o);
      this.changes++;
      this.safely(() => this.handlers.onChange(prev, o));
    };
    inf.on(lib.ADD, put);
    inf.on(lib.UPDATE, put);
    inf.on(lib.DELETE, (o: T) => {
      const k = key(o);
      const prev = this.known.get(k) ?? o;
      this.known.delete(k);
      this.changes++;
      this.safely(() => this.handlers.onChange(prev, undefined));
    });
    inf.on(lib.ERROR, (err: unknown) => this.retry(err));
    this.informer = inf;
    void inf.start().catch((err: unknown) => this.retry(err));
  }

  private retry(err: unknown): void {
    if (this.stopped) return;
    this.failures++;
    const base = this.options.backoffBaseMs ?? 500;
    const max = this.options.backoffMaxMs ?? 30_000;
    const delay = Math.min(max, base * 2 ** Math.min(this.failures - 1, 10)) * (0.5 + Math.random() / 2);
    const cause = err instanceof Error ? err.message : String(err);
    this.handlers.onState('failing', `${this.options.path}: ${cause}; retrying in ${(delay / 1000).toFixed(1)}s`);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.stopped || !this.informer) return;
      // Relist rather than resume: the server may have restarted with new resource versions.
      (this.informer as unknown as { resourceVersion: string }).resourceVersion = '';
      void this.informer.start().catch((e: unknown) => this.retry(e));
    }, delay);
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.handlers.onState('failing', `handler for ${this.options.path} threw: ${(err as Error).message}`);
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    void this.informer?.stop();
  }
}
