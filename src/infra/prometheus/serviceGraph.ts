/**
 * ServiceGraphPort on Prometheus: one instant query per telemetry shape (Istio, Linkerd, trace-derived service-graph
 * metrics; see core/observe/serviceGraphQueries). A shape whose metric the Prometheus does not have answers an empty
 * vector, which is no edge and no error.
 */
import { CALL_QUERIES, callsFromSeries, type CallReading } from '../../core/observe/serviceGraphQueries';
import type { ServiceGraphPort, WorkloadInventory } from '../../core/ports';
import type { PrometheusClient } from './prometheusClient';

export class PrometheusServiceGraph implements ServiceGraphPort {
  readonly description: string;

  constructor(
    private readonly client: PrometheusClient,
    /** The rate window of the queries: calls seen within it are edges. */
    private readonly window = '10m',
  ) {
    this.description = `service graph from Prometheus at ${client.url}`;
  }

  async calls(t: number, inventory: WorkloadInventory): Promise<CallReading> {
    const readings = await Promise.all(
      CALL_QUERIES.map(async (q) => {
        const vector = await this.client.instant(q.query(this.window), t);
        return callsFromSeries(q, vector.map((v) => ({ metric: v.metric, value: Number(v.value[1]) })), inventory);
      }),
    );
    return { calls: readings.flatMap((r) => r.calls), unresolved: readings.flatMap((r) => r.unresolved) };
  }
}
