import * as vscode from 'vscode';
import { DIAGNOSIS_TITLES } from '../core/model/diagnosis';
import { isOpen, type Incident } from '../core/model/incident';
import { targetLabel } from '../core/model/target';
import { clusterGroupDescription, type ConsoleClusterGroup, type ConsoleIncident } from './clusterConsoleModel';

/** A tree row for one incident; `contextValue` drives the context menu (Replay, labels, Export, audit). */
export function incidentItem(incident: Incident): vscode.TreeItem {
  const item = new vscode.TreeItem(`${incident.diagnosis ? DIAGNOSIS_TITLES[incident.diagnosis.kind] : 'anomaly'} — ${targetLabel(incident.target)}`, vscode.TreeItemCollapsibleState.None);
  item.id = incident.id;
  item.description = `${incident.outcome?.kind ?? incident.state} · ${new Date(incident.openedAt).toISOString().slice(11, 19)}`;
  item.tooltip = `${incident.id}\n${incident.diagnosis?.summary ?? ''}\nstate: ${incident.state}${incident.outcome?.label ? `\nlabelled ${incident.outcome.label}` : ''}`;
  item.iconPath = outcomeIcon(incident);
  item.contextValue = isOpen(incident) ? (incident.state === 'awaiting-approval' ? 'vigilIncidentAwaiting' : 'vigilIncidentOpen') : 'vigilIncidentPast';
  item.command = { command: 'vigil.openIncident', title: 'Open Incident', arguments: [incident] };
  return item;
}

/** A cluster's node while the console watches in-cluster agents: its context name, open incidents and who acts there. */
export function clusterGroupItem(g: ConsoleClusterGroup): vscode.TreeItem {
  const item = new vscode.TreeItem(g.cluster, vscode.TreeItemCollapsibleState.Expanded);
  item.id = `cluster:${g.cluster}`;
  item.description = clusterGroupDescription(g);
  item.tooltip = `context ${g.cluster} (${g.server})${g.holder ? `\nagent: ${g.holder}` : ''}\n${g.watch.detail}`;
  item.iconPath = g.watch.state === 'failing' ? new vscode.ThemeIcon('error', new vscode.ThemeColor('charts.red')) : g.awaiting ? new vscode.ThemeIcon('bell-dot', new vscode.ThemeColor('charts.yellow')) : new vscode.ThemeIcon('server-environment');
  item.contextValue = 'vigilCluster';
  return item;
}

/** A row for an in-cluster agent's Incident resource; the same context values, so the same menu (Approve, Reject). */
export function consoleIncidentItem(i: ConsoleIncident): vscode.TreeItem {
  const item = new vscode.TreeItem(`${i.diagnosis ?? 'anomaly'} — ${i.target}`, vscode.TreeItemCollapsibleState.None);
  item.id = i.id;
  item.description = `${i.state} · ${i.cluster}`;
  item.tooltip = `${i.incidentId} (${i.namespace}/${i.name} in cluster ${i.cluster})\n${i.summary ?? ''}\nstate: ${i.state}${i.outcome ? `\noutcome: ${i.outcome}` : ''}`;
  item.iconPath = outcomeIcon({ state: i.state as Incident['state'], outcome: i.outcome ? { kind: i.outcome.split(' ')[0] as NonNullable<Incident['outcome']>['kind'], t: 0 } : undefined });
  item.contextValue = i.open ? (i.state === 'awaiting-approval' ? 'vigilIncidentAwaiting' : 'vigilIncidentOpen') : 'vigilIncidentPast';
  item.command = { command: 'vigil.openIncident', title: 'Open Incident', arguments: [i.id] };
  return item;
}

function outcomeIcon(i: Pick<Incident, 'state' | 'outcome'>): vscode.ThemeIcon {
  if (i.state === 'awaiting-approval') return new vscode.ThemeIcon('bell-dot', new vscode.ThemeColor('charts.yellow'));
  if (isOpen(i)) return new vscode.ThemeIcon('flame', new vscode.ThemeColor('charts.red'));
  switch (i.outcome?.kind) {
    case 'recovered':
      return new vscode.ThemeIcon('pass', new vscode.ThemeColor('charts.green'));
    case 'escalated':
      return new vscode.ThemeIcon('report', new vscode.ThemeColor('charts.orange'));
    case 'false-alarm':
      return new vscode.ThemeIcon('circle-slash');
    case 'rejected':
      return new vscode.ThemeIcon('close');
    default:
      return new vscode.ThemeIcon('circle-large-outline');
  }
}

type Row = Incident | ConsoleIncident | ConsoleClusterGroup;

const isGroup = (r: Row): r is ConsoleClusterGroup => 'incidents' in r;

/**
 * Open incidents first, then past ones, newest first; while the console watches in-cluster agents, one node per
 * cluster with its Incident resources under it, so which cluster a row is in is never a guess.
 */
export class IncidentsTreeProvider implements vscode.TreeDataProvider<Row>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Row | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(
    private readonly incidents: () => ReadonlyArray<Incident> = () => [],
    /** The console's clusters with their rows (already sorted), or undefined when no console runs. */
    private readonly consoleGroups: () => ReadonlyArray<ConsoleClusterGroup> | undefined = () => undefined,
  ) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  getTreeItem(row: Row): vscode.TreeItem {
    if (isGroup(row)) return clusterGroupItem(row);
    return 'cluster' in row ? consoleIncidentItem(row) : incidentItem(row);
  }

  getChildren(parent?: Row): Row[] {
    if (parent) return isGroup(parent) ? [...parent.incidents] : [];
    const groups = this.consoleGroups();
    if (groups) return [...groups];
    return [...this.incidents()].sort((a, b) => Number(isOpen(b)) - Number(isOpen(a)) || b.openedAt - a.openedAt);
  }

  dispose(): void {
    this.changed.dispose();
  }
}
