import type { ClosedIncidentRecord, InFlightStep } from '../../src/core/model/inFlightStep';
import { IncidentResourcesAbsentError, type IncidentResource } from '../../src/core/model/incidentResource';
import type { InFlightStepsPort } from '../../src/core/ports';

/** The cluster's Incident resources as far as steps in flight go, shared by the replicas of a unit test. */
export class FakeInFlightSteps implements InFlightStepsPort {
  readonly steps = new Map<string, InFlightStep>();
  readonly resources = new Map<string, IncidentResource>();
  /** Every call, in order: `record <incident>/<step>`, `clear <incident>`, `list`. */
  readonly calls: string[] = [];
  absent = false;
  /** Incidents the cluster shows closed (their Incident resources' outcomes). */
  readonly closed: ClosedIncidentRecord[] = [];

  async record(step: InFlightStep, resource: IncidentResource): Promise<void> {
    this.calls.push(`record ${step.incidentId}/${step.stepId}`);
    if (this.absent) throw new IncidentResourcesAbsentError('POST: 404');
    this.resources.set(`${resource.namespace}/${resource.name}`, resource);
    this.steps.set(step.incidentId, structuredClone(step));
  }

  async clear(step: Pick<InFlightStep, 'incidentId' | 'namespace'>): Promise<void> {
    this.calls.push(`clear ${step.incidentId}`);
    if (this.absent) throw new IncidentResourcesAbsentError('PATCH: 404');
    this.steps.delete(step.incidentId);
  }

  async list(): Promise<ReadonlyArray<InFlightStep>> {
    this.calls.push('list');
    if (this.absent) throw new IncidentResourcesAbsentError('GET: 404');
    return [...this.steps.values()].map((s) => structuredClone(s));
  }

  async closedSince(since: number): Promise<ReadonlyArray<ClosedIncidentRecord>> {
    if (this.absent) throw new IncidentResourcesAbsentError('GET: 404');
    return this.closed.filter((c) => c.t >= since);
  }
}
