import * as vscode from 'vscode';
import { DIAGNOSIS_TITLES } from '../core/model/diagnosis';
import { isOpen, type Incident } from '../core/model/incident';
import { targetLabel } from '../core/model/target';

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

function outcomeIcon(i: Incident): vscode.ThemeIcon {
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

/** Open incidents first, then past ones, newest first. */
export class IncidentsTreeProvider implements vscode.TreeDataProvider<Incident>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Incident | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly incidents: () => ReadonlyArray<Incident> = () => []) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  getTreeItem(incident: Incident): vscode.TreeItem {
    return incidentItem(incident);
  }

  getChildren(): Incident[] {
    return [...this.incidents()].sort((a, b) => Number(isOpen(b)) - Number(isOpen(a)) || b.openedAt - a.openedAt);
  }

  dispose(): void {
    this.changed.dispose();
  }
}
