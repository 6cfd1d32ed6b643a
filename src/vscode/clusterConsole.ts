import * as vscode from 'vscode';
import type { LoggerPort } from '../core/ports';
import type { ConnectionView, CopilotModel } from '../webview/protocol';
import {
  clusterGroups,
  consoleConnection,
  consoleCopilotModel,
  consoleStatus,
  newlyAwaiting,
  routeDecision,
  type ConsoleCluster,
  type ConsoleClusterGroup,
  type ConsoleIncident,
} from './clusterConsoleModel';
import { ClusterConsoleProcess } from './clusterConsoleProcess';
import type { ConsoleEvent } from './clusterConsoleProtocol';

/** Where the console reads from: a kubeconfig file and one of its contexts. */
export interface ConsoleTarget {
  readonly kubeconfig: string;
  readonly context: string;
}

export const WATCH_AGENT = 'Watch the in-cluster agent';
/** Read-only documents of Incident resources ("Open Incident" in console mode). */
const RESOURCE_SCHEME = 'vigil-incident';
export const RUN_LOCAL_LOOP = 'Run a local loop';

interface WatchedCluster {
  cluster: string;
  server: string;
  holder: string;
  items: ConsoleIncident[];
  watch: ConsoleCluster['watch'];
  /** The first list arrived: later changes are news (notified), not what already waited when the console connected. */
  synced: boolean;
}

/**
 * The sidebar as the console of in-cluster agents, one per kubeconfig context, several at once: no local loop runs;
 * the views list the Incident resources the agents write (list + watch) grouped by cluster, and Approve/Reject write
 * their spec.decision with that context's credentials, as `vigil approve --kubeconfig` does (the same writeDecision).
 * The list+watch runs in the console's own process (ClusterConsoleProcess): client-node never loads into the host.
 */
export class ClusterConsole implements vscode.Disposable {
  /** By context, in the order they were connected. */
  private readonly clusters = new Map<string, WatchedCluster>();
  private readonly process: ClusterConsoleProcess;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private resources: vscode.Disposable | undefined;
  /** The resources opened as documents, by their URI. */
  private readonly opened = new Map<string, ConsoleIncident>();
  /** Why the last context offered had no agent to watch (the command says it when consoles already run). */
  lastDetail = '';

  constructor(private readonly logger: LoggerPort, worker?: { readonly path: string }) {
    this.process = new ClusterConsoleProcess({ event: (e) => this.received(e), lost: (reason) => void this.lost(reason), logger, ...(worker ? { worker } : {}) });
  }

  get active(): boolean {
    return this.clusters.size > 0;
  }

  /** The contexts watched, in the order they were connected. */
  contexts(): string[] {
    return [...this.clusters.keys()];
  }

  /** The console's process while it runs (its rss is stated beside the host's in Debug Stats). */
  get pid(): number | undefined {
    return this.process.pid;
  }

  /**
   * "Connect to Cluster": when the context has an in-cluster Vigil (its CRD served, its Lease held), offers to watch
   * it instead of running a local loop, beside the contexts watched already. 'handled' when the console took it
   * (`stopLocal` ran first) or the user dismissed the choice; 'local' when the user chose a local loop; 'no-agent'
   * when none was found (`lastDetail` says why).
   */
  async offer(target: ConsoleTarget, o: { readonly leaseName: string; readonly ownIdentity: string; readonly stopLocal: () => Promise<void> }): Promise<'handled' | 'local' | 'no-agent'> {
    if (this.clusters.has(target.context)) {
      void vscode.window.showInformationMessage(`Vigil: already watching the in-cluster agent of ${target.context}.`);
      return 'handled';
    }
    let probe;
    try {
      probe = await this.process.call('probe', { kubeconfig: target.kubeconfig, context: target.context, leaseName: o.leaseName, ownIdentity: o.ownIdentity });
    } catch (err) {
      // unreadable kubeconfig, no answer or an odd one: the local loop's connect says what is wrong, with its fix
      this.lastDetail = (err as Error).message;
      this.logger.log('warn', `looking for an in-cluster Vigil in context ${target.context}: ${this.lastDetail}`);
      await this.dropIfIdle(target.context);
      return 'no-agent';
    }
    const { found, server } = probe;
    this.lastDetail = found.detail;
    this.logger.log('info', `context ${target.context}: ${found.detail}`);
    if (!found.lease) {
      await this.dropIfIdle(target.context);
      return 'no-agent';
    }
    const others = this.contexts();
    const picked = await vscode.window.showQuickPick(
      [
        { label: WATCH_AGENT, detail: `${found.lease.holder} holds ${found.lease.namespace}/${found.lease.name}: show its Incident resources${others.length ? ` beside ${others.join(', ')}` : ''} and approve with your own credentials; nothing runs here` },
        { label: RUN_LOCAL_LOOP, detail: `Detect and diagnose in this window, as without an agent${others.length ? ` (stops watching ${others.join(', ')})` : ''}` },
      ],
      { placeHolder: `An in-cluster Vigil runs in ${target.context}` },
    );
    if (picked?.label !== WATCH_AGENT) await this.dropIfIdle(target.context);
    if (!picked) return 'handled'; // dismissed: neither
    if (picked.label !== WATCH_AGENT) return 'local';
    await o.stopLocal();
    this.clusters.set(target.context, { cluster: target.context, server, holder: found.lease.holder, items: [], watch: { state: 'starting', detail: `listing Incident resources of context ${target.context}…` }, synced: false });
    try {
      await this.process.call('watch', target.context);
    } catch (err) {
      this.clusters.delete(target.context);
      throw err;
    }
    this.logger.log('info', `console of the in-cluster agent of context ${target.context} (${server}); Lease held by ${found.lease.holder}; ${this.clusters.size} cluster(s) watched`);
    this.changed.fire();
    return 'handled';
  }

  /** A probed context that is not watched: its connection is dropped, and with none watched the process stops. */
  private async dropIfIdle(context: string): Promise<void> {
    if (this.clusters.has(context)) return;
    if (!this.clusters.size) await this.process.dispose();
    else await this.process.call('remove', context).catch(() => undefined);
  }

  private received(e: ConsoleEvent): void {
    if (e.kind === 'log') {
      this.logger.child(e.component).log(e.level, e.message, e.fields);
      return;
    }
    const c = this.clusters.get(e.cluster);
    if (!c) return; // disconnected meanwhile
    if (e.kind === 'incidents') {
      const before = c.synced ? c.items : undefined;
      c.items = [...e.incidents];
      c.synced = true;
      for (const i of newlyAwaiting(before, c.items)) void this.notify(i);
    } else {
      if (e.state === 'failing' && c.watch.detail !== e.detail) this.logger.log('warn', `watching Incident resources of context ${c.cluster}: ${e.detail}`);
      c.watch = { state: e.state, detail: e.state === 'synced' ? `watching the Incident resources of context ${c.cluster}` : e.detail };
    }
    this.changed.fire();
  }

  /** The console's process died: its watches with it; the user is told, with the fix. */
  private async lost(reason: string): Promise<void> {
    if (!this.clusters.size) return;
    const were = this.contexts();
    this.clusters.clear();
    this.logger.log('error', `${reason}; stopped watching ${were.join(', ')}`);
    this.changed.fire();
    void vscode.window.showErrorMessage(`Vigil: stopped watching the in-cluster agents of ${were.join(', ')}: ${reason}. Run "Vigil: Connect to Cluster" to watch them again.`);
  }

  /** A new proposal of an agent, naming the cluster it is in. */
  private async notify(i: ConsoleIncident): Promise<void> {
    const choice = await vscode.window.showWarningMessage(`Vigil [${i.cluster}]: ${i.diagnosis ?? 'anomaly'} on ${i.target} needs a decision: ${i.proposal?.action ?? '?'}`, 'Approve', 'Show');
    try {
      if (choice === 'Approve') await this.decide(i.id, 'approve', i.proposal?.stepId);
      else if (choice === 'Show') await this.showResource(i);
    } catch (err) {
      void vscode.window.showErrorMessage(`Vigil [${i.cluster}]: ${(err as Error).message}`);
    }
  }

  private state(): ConsoleCluster[] {
    return [...this.clusters.values()].map((c) => ({ cluster: c.cluster, server: c.server, holder: c.holder, watch: c.watch, incidents: c.items }));
  }

  connection(): ConnectionView {
    return consoleConnection(this.state());
  }

  model(): CopilotModel {
    return consoleCopilotModel(this.state());
  }

  /** The Incidents tree's nodes: one per cluster. */
  groups(): ConsoleClusterGroup[] {
    return clusterGroups(this.state());
  }

  status(): ReturnType<typeof consoleStatus> {
    return consoleStatus(this.state());
  }

  /** A card's or row's incident (by its key `<context>/<id>`), or undefined. */
  find(arg: unknown): ConsoleIncident | undefined {
    const key = typeof arg === 'string' ? arg : arg && typeof arg === 'object' && 'id' in arg ? String((arg as { id: unknown }).id) : undefined;
    if (key === undefined) return undefined;
    for (const c of this.clusters.values()) {
      const i = c.items.find((x) => x.id === key);
      if (i) return i;
    }
    return undefined;
  }

  /** Writes spec.decision, in the incident's own cluster, for the step shown (`stepId`); a proposal changed since is refused by writeDecision. */
  async decide(key: string, action: 'approve' | 'reject', stepId?: string): Promise<void> {
    if (!this.active) throw new Error('Vigil is not watching an in-cluster agent. Run "Vigil: Connect to Cluster" first.');
    const { cluster, incident: i } = routeDecision(this.state(), key);
    const d = await this.process.call('decide', cluster, { namespace: i.namespace, name: i.name, action, expectedStepId: stepId ?? i.proposal?.stepId });
    this.logger.log('info', `${d.by} ${action === 'approve' ? 'approved' : 'rejected'} step ${d.stepId} of ${d.namespace}/${d.name} in context ${cluster} (spec.decision written)`);
    void vscode.window.showInformationMessage(`Vigil [${cluster}]: ${action === 'approve' ? 'approved' : 'rejected'} step "${d.stepId}" of ${d.namespace}/${d.name} as ${d.by}; the agent ${action === 'approve' ? 'runs it' : 'closes the incident'} and reports in the Incident's status.`);
  }

  /** Approve / Reject from the tree's menu or the palette: the row's incident, else one picked among those awaiting a decision in any cluster. */
  async decideFromCommand(arg: unknown, action: 'approve' | 'reject'): Promise<void> {
    let i = this.find(arg);
    if (!i) {
      const awaiting = [...this.clusters.values()].flatMap((c) => c.items).filter((x) => x.open && x.proposal?.awaitingApproval);
      if (!awaiting.length) {
        void vscode.window.showInformationMessage(`Vigil: no Incident in ${this.contexts().join(', ')} waits for a decision.`);
        return;
      }
      const picked = await vscode.window.showQuickPick(
        awaiting.map((x) => ({ label: `[${x.cluster}] ${x.diagnosis ?? 'anomaly'} — ${x.target}`, description: x.proposal?.action, detail: x.id, incident: x })),
        { placeHolder: `Remediation to ${action}` },
      );
      i = picked?.incident;
    }
    if (i) await this.decide(i.id, action);
  }

  /**
   * The Incident resource as its cluster has it, for "Open Incident" (the room needs the agent's recording): a
   * read-only document whose tab names the cluster ("inc-… (prod-eu).jsonc"), read again from the cluster when reopened.
   */
  async showResource(i: ConsoleIncident): Promise<void> {
    if (!this.resources) {
      this.resources = vscode.workspace.registerTextDocumentContentProvider(RESOURCE_SCHEME, { provideTextDocumentContent: (uri) => this.resourceText(uri) });
    }
    const uri = vscode.Uri.from({ scheme: RESOURCE_SCHEME, path: `/${i.cluster}/${i.namespace}/${i.name} (${i.cluster}).jsonc` });
    this.opened.set(uri.toString(), i);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc, { preview: true });
  }

  private async resourceText(uri: vscode.Uri): Promise<string> {
    const i = this.opened.get(uri.toString());
    if (!i) return `// ${uri.path}: not an Incident this window opened`;
    const body = await this.process.call('resource', i.cluster, i.namespace, i.name);
    return `// Incident ${i.namespace}/${i.name} in cluster (context) ${i.cluster}, as its API server returned it at ${new Date().toISOString()}\n${JSON.stringify(body, null, 2)}\n`;
  }

  /** Stops watching one context, or all of them; with none left the console's process stops. */
  async stop(context?: string, announce = true): Promise<void> {
    const gone = context === undefined ? this.contexts() : this.clusters.has(context) ? [context] : [];
    for (const c of gone) this.clusters.delete(c);
    if (!this.clusters.size) await this.process.dispose();
    else for (const c of gone) await this.process.call('remove', c).catch((e: Error) => this.logger.log('warn', `stopping the watch of ${c}: ${e.message}`));
    if (gone.length) this.logger.log('info', `stopped watching the in-cluster agent of ${gone.join(', ')}`);
    if (announce && gone.length) this.changed.fire();
  }

  dispose(): void {
    void this.stop(undefined, false);
    this.resources?.dispose();
    this.changed.dispose();
  }
}
