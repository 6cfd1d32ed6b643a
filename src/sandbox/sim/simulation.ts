/**
 * The sandbox's simulated cluster: controllers, kubelet, workloads with metrics and logs, faults.
 * The API server and metrics port call this; everything it changes goes through the ObjectStore.
 */
import type { ObjectStore } from '../store';

export interface SimulationOptions {
  seed: number;
  daySeconds: number;
  /** ms between controller ticks */
  tickMs?: number;
  podStartDelayMs?: number;
  now?: () => number;
}

export class Simulation {
  constructor(
    private readonly store: ObjectStore,
    private readonly options: SimulationOptions,
  ) {}

  seedTopology(): void {
    // filled in by the topology module
  }

  start(): void {}

  stop(): void {}

  podMetrics(namespace: string, pod: string): string | undefined {
    return this.store.get('pods', namespace, pod) ? '' : undefined;
  }

  allMetrics(): string {
    return '';
  }

  podLogs(
    namespace: string,
    pod: string,
    _opts: { tailLines?: number; follow?: boolean; container?: string },
    _onLine: (line: string) => void,
  ): { lines: string[]; stop(): void } | undefined {
    if (!this.store.get('pods', namespace, pod)) return undefined;
    return { lines: [], stop: () => undefined };
  }

  handleControl(_method: string, _path: string, _body: unknown): { status: number; body: unknown } {
    return { status: 404, body: { message: `fault control is not ready yet (seed ${this.options.seed})` } };
  }
}
