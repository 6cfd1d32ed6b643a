/**
 * The console's side in its own process: one connection per kubeconfig context, each with its user's own credentials,
 * the list+watch of its Incident resources mapped to views, and the decisions written to the cluster a card came from.
 * Several contexts at once (prod-eu and prod-us). No 'vscode' import.
 */
import type { Disposable, LoggerPort } from '../core/ports';
import type { WrittenDecision } from '../infra/kubernetes/incidentResources';
import type { KubeConnection } from '../infra/kubernetes/kubeClient';
import { incidentResourceView } from './clusterConsoleModel';
import type { ConsoleCalls, ConsoleEvent, ConsoleProbe, ConsoleProbeRequest } from './clusterConsoleProtocol';

export class ClusterConsoleService implements ConsoleCalls, Disposable {
  private readonly clusters = new Map<string, { conn: KubeConnection; watch?: Disposable }>();

  constructor(
    private readonly emit: (e: ConsoleEvent) => void,
    private readonly logger: LoggerPort,
  ) {}

  async probe(r: ConsoleProbeRequest): Promise<ConsoleProbe> {
    const [{ connectKube }, { findInClusterVigil }] = await Promise.all([import('../infra/kubernetes/kubeClient'), import('../infra/kubernetes/incidentResources')]);
    const kept = this.clusters.get(r.context);
    const conn = kept?.conn ?? (await connectKube({ kubeconfig: r.kubeconfig, context: r.context }));
    const found = await findInClusterVigil(conn, { leaseName: r.leaseName, ownIdentity: r.ownIdentity });
    if (!kept) this.clusters.set(r.context, { conn });
    return { server: conn.server, found };
  }

  async watch(cluster: string): Promise<void> {
    const c = this.must(cluster);
    if (c.watch) return;
    const { watchIncidents } = await import('../infra/kubernetes/incidentResources');
    c.watch = watchIncidents(
      c.conn,
      (items) => this.emit({ kind: 'incidents', cluster, incidents: items.map((o) => incidentResourceView(o, cluster)) }),
      (state, detail) => this.emit({ kind: 'watch', cluster, state, detail }),
    );
    this.logger.log('info', `watching the Incident resources of context ${cluster} (${c.conn.server})`);
  }

  async decide(cluster: string, d: Parameters<ConsoleCalls['decide']>[1]): Promise<WrittenDecision> {
    const { writeDecision } = await import('../infra/kubernetes/incidentResources');
    return writeDecision(this.must(cluster).conn, { incident: d.name, namespace: d.namespace, action: d.action, expectedStepId: d.expectedStepId });
  }

  async resource(cluster: string, namespace: string, name: string): Promise<unknown> {
    const path = `/apis/vigil.dev/v1alpha1/namespaces/${encodeURIComponent(namespace)}/incidents/${encodeURIComponent(name)}`;
    const res = await this.must(cluster).conn.request('GET', path);
    if (res.status !== 200) throw new Error(`GET ${path} in context ${cluster}: HTTP ${res.status}`);
    return JSON.parse(res.body) as unknown;
  }

  async remove(cluster: string): Promise<void> {
    this.clusters.get(cluster)?.watch?.dispose();
    this.clusters.delete(cluster);
  }

  private must(cluster: string): { conn: KubeConnection; watch?: Disposable } {
    const c = this.clusters.get(cluster);
    if (!c) throw new Error(`the console does not watch context ${cluster}; run "Vigil: Connect to Cluster" to add it`);
    return c;
  }

  dispose(): void {
    for (const c of this.clusters.values()) c.watch?.dispose();
    this.clusters.clear();
  }
}
