import * as vscode from 'vscode';
import { DIAGNOSIS_TITLES } from '../core/model/diagnosis';
import { isOpen, type Incident } from '../core/model/incident';
import { targetLabel } from '../core/model/target';
import type { ConsoleIncident } from './clusterConsoleModel';

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

/** A row for an in-cluster agent's Incident resource; the same context values, so the same menu (Approve, Reject). */
export function consoleIncidentItem(i: ConsoleIncident): vscode.TreeItem {
  const item = new vscode.TreeItem(`${i.diagnosis ?? 'anomaly'} — ${i.target}`, vscode.TreeItemCollapsibleState.None);
  item.id = `${i.cluster}/${i.id}`;
  item.description = `${i.state} · ${i.cluster}`;
  item.tooltip = `${i.id} (${i.namespace}/${i.name} in ${i.cluster})\n${i.summary ?? ''}\nstate: ${i.state}${i.outcome ? `\noutcome: ${i.outcome}` : ''}`;
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

/** Open incidents first, then past ones, newest first; an in-cluster agent's Incident resources while its console runs. */
export class IncidentsTreeProvider implements vscode.TreeDataProvider<Incident | ConsoleIncident>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Incident | ConsoleIncident | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(
    private readonly incidents: () => ReadonlyArray<Incident> = () => [],
    /** The console's rows (already sorted), or undefined when no console runs. */
    private readonly consoleIncidents: () => ReadonlyArray<ConsoleIncident> | undefined = () => undefined,
  ) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  getTreeItem(incident: Incident | ConsoleIncident): vscode.TreeItem {
    return 'cluster' in incident ? consoleIncidentItem(incident) : incidentItem(incident);
  }

  getChildren(): Array<Incident | ConsoleIncident> {
    const rows = this.consoleIncidents();
    if (rows) return [...rows];
    return [...this.incidents()].sort((a, b) => Number(isOpen(b)) - Number(isOpen(a)) || b.openedAt - a.openedAt);
  }

  dispose(): void {
    this.changed.dispose();
  }
}
