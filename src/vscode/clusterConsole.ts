import * as vscode from 'vscode';
import type { LoggerPort } from '../core/ports';
import type { IncidentObject } from '../infra/kubernetes/incidentResources';
import type { KubeConnection } from '../infra/kubernetes/kubeClient';
import type { ConnectionView, CopilotModel } from '../webview/protocol';
import { consoleCopilotModel, incidentResourceView, newlyAwaiting, sortForViews, type ConsoleIncident } from './clusterConsoleModel';

/** Where the console reads from: a kubeconfig file and one of its contexts. */
export interface ConsoleTarget {
  readonly kubeconfig: string;
  readonly context: string;
}

export const WATCH_AGENT = 'Watch the in-cluster agent';
export const RUN_LOCAL_LOOP = 'Run a local loop';

/**
 * The sidebar as the console of an in-cluster agent: no local loop runs; the views list the Incident resources the
 * agent writes (list + watch) and Approve/Reject write their spec.decision with the user's own credentials, as
 * `vigil approve --kubeconfig` does (the same writeDecision).
 */
export class ClusterConsole implements vscode.Disposable {
  private conn: KubeConnection | undefined;
  private watch: { dispose(): void } | undefined;
  private items: ConsoleIncident[] = [];
  private watchState: { state: 'synced' | 'failing' | 'starting'; detail: string } = { state: 'starting', detail: 'listing Incident resources…' };
  private holder: string | undefined;
  private label = '';
  /** The first list arrived: later changes are news (notified), not what already waited when the console connected. */
  private synced = false;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly logger: LoggerPort) {}

  get active(): boolean {
    return this.conn !== undefined;
  }

  /**
   * "Connect to Cluster": when the context has an in-cluster Vigil (its CRD served, its Lease held), offers to watch
   * it instead of running a local loop. True when the console took over (`stopLocal` ran first); false to run a loop.
   */
  async offer(target: ConsoleTarget, o: { readonly leaseName: string; readonly ownIdentity: string; readonly stopLocal: () => Promise<void> }): Promise<boolean> {
    const [{ connectKube }, { findInClusterVigil }] = await Promise.all([import('../infra/kubernetes/kubeClient'), import('../infra/kubernetes/incidentResources')]);
    let conn: KubeConnection;
    let found;
    try {
      conn = await connectKube({ kubeconfig: target.kubeconfig, context: target.context });
      found = await findInClusterVigil(conn, { leaseName: o.leaseName, ownIdentity: o.ownIdentity });
    } catch (err) {
      // unreadable kubeconfig, no answer or an odd one: the local loop's connect says what is wrong, with its fix
      this.logger.log('warn', `looking for an in-cluster Vigil in context ${target.context}: ${(err as Error).message}`);
      return false;
    }
    this.logger.log('info', `context ${target.context}: ${found.detail}`);
    if (!found.lease) return false;
    const picked = await vscode.window.showQuickPick(
      [
        { label: WATCH_AGENT, detail: `${found.lease.holder} holds ${found.lease.namespace}/${found.lease.name}: show its Incident resources and approve with your own credentials; nothing runs here` },
        { label: RUN_LOCAL_LOOP, detail: 'Detect and diagnose in this window, as without an agent' },
      ],
      { placeHolder: `An in-cluster Vigil runs in ${target.context}` },
    );
    if (!picked) return true; // dismissed: neither
    if (picked.label !== WATCH_AGENT) return false;
    await o.stopLocal();
    await this.start(conn, `context ${target.context}`, found.lease.holder);
    return true;
  }

  private async start(conn: KubeConnection, label: string, holder: string): Promise<void> {
    await this.stop(false);
    const { watchIncidents } = await import('../infra/kubernetes/incidentResources');
    this.conn = conn;
    this.synced = false;
    this.label = label;
    this.holder = holder;
    this.watchState = { state: 'starting', detail: `listing Incident resources of ${label}…` };
    this.watch = watchIncidents(
      conn,
      (items: ReadonlyArray<IncidentObject>) => {
        const before = this.synced ? this.items : undefined;
        this.items = items.map((o) => incidentResourceView(o, conn.context));
        this.synced = true;
        for (const i of newlyAwaiting(before, this.items)) void this.notify(i);
        this.changed.fire();
      },
      (state, detail) => {
        if (state === 'failing' && this.watchState.detail !== detail) this.logger.log('warn', `watching Incident resources of ${label}: ${detail}`);
        this.watchState = { state, detail: state === 'synced' ? `watching the Incident resources of ${label}` : detail };
        this.changed.fire();
      },
    );
    this.logger.log('info', `console of the in-cluster agent of ${label} (${conn.server}); Lease held by ${holder}`);
    this.changed.fire();
  }

  /** A new proposal of the agent, naming the cluster it is in. */
  private async notify(i: ConsoleIncident): Promise<void> {
    const choice = await vscode.window.showWarningMessage(`Vigil (${i.cluster}): ${i.diagnosis ?? 'anomaly'} on ${i.target} needs a decision: ${i.proposal?.action ?? '?'}`, 'Approve', 'Show');
    try {
      if (choice === 'Approve') await this.decide(i.id, 'approve', i.proposal?.stepId);
      else if (choice === 'Show') await this.showResource(i);
    } catch (err) {
      void vscode.window.showErrorMessage(`Vigil: ${(err as Error).message}`);
    }
  }

  connection(): ConnectionView {
    return { state: 'connected', message: `Watching the in-cluster agent of ${this.label} (${this.conn?.server ?? ''}); no local loop runs.` };
  }

  model(): CopilotModel {
    return consoleCopilotModel({ connection: this.connection(), incidents: this.items, holder: this.holder, watch: this.watchState });
  }

  incidents(): ConsoleIncident[] {
    return sortForViews(this.items, 50);
  }

  openCount(): number {
    return this.items.filter((i) => i.open).length;
  }

  find(arg: unknown): ConsoleIncident | undefined {
    const id = typeof arg === 'string' ? arg : arg && typeof arg === 'object' && 'id' in arg ? String((arg as { id: unknown }).id) : undefined;
    return this.items.find((i) => i.id === id);
  }

  /** Writes spec.decision for the step shown (`stepId`); a proposal changed since is refused by writeDecision, not approved. */
  async decide(incidentId: string, action: 'approve' | 'reject', stepId?: string): Promise<void> {
    const conn = this.conn;
    if (!conn) throw new Error('Vigil is not watching an in-cluster agent. Run "Vigil: Connect to Cluster" first.');
    const i = this.items.find((x) => x.id === incidentId);
    if (!i) throw new Error(`No Incident resource for ${incidentId} in ${this.label}; list them with kubectl get incidents -A --context ${conn.context}`);
    const { writeDecision } = await import('../infra/kubernetes/incidentResources');
    const d = await writeDecision(conn, { incident: i.name, namespace: i.namespace, action, expectedStepId: stepId ?? i.proposal?.stepId });
    this.logger.log('info', `${d.by} ${action === 'approve' ? 'approved' : 'rejected'} step ${d.stepId} of ${d.namespace}/${d.name} in ${this.label} (spec.decision written)`);
    void vscode.window.showInformationMessage(`Vigil: ${action === 'approve' ? 'approved' : 'rejected'} step "${d.stepId}" of ${d.namespace}/${d.name} as ${d.by} in ${this.label}; the agent ${action === 'approve' ? 'runs it' : 'closes the incident'} and reports in the Incident's status.`);
  }

  /** Approve / Reject from the tree's menu or the palette: the row's incident, else one picked among those awaiting a decision. */
  async decideFromCommand(arg: unknown, action: 'approve' | 'reject'): Promise<void> {
    let i = this.find(arg);
    if (!i) {
      const awaiting = this.items.filter((x) => x.open && x.proposal?.awaitingApproval);
      if (!awaiting.length) {
        void vscode.window.showInformationMessage(`Vigil: no Incident in ${this.label} waits for a decision.`);
        return;
      }
      const picked = await vscode.window.showQuickPick(
        awaiting.map((x) => ({ label: `${x.diagnosis ?? 'anomaly'} — ${x.target}`, description: x.proposal?.action, detail: x.id, incident: x })),
        { placeHolder: `Remediation to ${action} (${this.label})` },
      );
      i = picked?.incident;
    }
    if (i) await this.decide(i.id, action);
  }

  /** The Incident resource as the cluster has it, for "Open Incident" (the room needs the agent's recording). */
  async showResource(i: ConsoleIncident): Promise<void> {
    const conn = this.conn;
    if (!conn) return;
    const path = `/apis/vigil.dev/v1alpha1/namespaces/${encodeURIComponent(i.namespace)}/incidents/${encodeURIComponent(i.name)}`;
    const res = await conn.request('GET', path);
    if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status}`);
    const doc = await vscode.workspace.openTextDocument({ content: JSON.stringify(JSON.parse(res.body), null, 2), language: 'json' });
    await vscode.window.showTextDocument(doc, { preview: true });
  }

  async stop(announce = true): Promise<void> {
    this.watch?.dispose();
    this.watch = undefined;
    const was = this.conn;
    this.conn = undefined;
    this.items = [];
    this.holder = undefined;
    if (was) this.logger.log('info', `stopped watching the in-cluster agent of ${this.label}`);
    if (announce && was) this.changed.fire();
  }

  dispose(): void {
    void this.stop(false);
    this.changed.dispose();
  }
}
