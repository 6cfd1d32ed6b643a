import * as vscode from 'vscode';

/** Connection state and open incidents, always visible. */
export class VigilStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('vigil.status', vscode.StatusBarAlignment.Left, 50);

  constructor() {
    this.item.name = 'Vigil';
    this.show('disconnected', 0);
    this.item.show();
  }

  show(connection: 'disconnected' | 'connecting' | 'connected' | 'error', openIncidents: number, detail?: string): void {
    const icon = connection === 'connected' ? (openIncidents > 0 ? '$(warning)' : '$(pulse)') : connection === 'error' ? '$(error)' : '$(debug-disconnect)';
    this.item.text = `${icon} Vigil${connection === 'connected' ? `: ${openIncidents} open` : ` (${connection})`}`;
    this.item.tooltip = detail ?? `Vigil is ${connection}. ${openIncidents} open incident(s).`;
    this.item.command = 'workbench.view.extension.vigil';
  }

  /** The console of in-cluster agents: open incidents summed over its clusters, per cluster in the tooltip. */
  showConsole(summary: { readonly open: number; readonly text: string; readonly tooltip: string }): void {
    this.item.text = `${summary.open > 0 ? '$(warning)' : '$(pulse)'} ${summary.text}`;
    this.item.tooltip = summary.tooltip;
    this.item.command = 'workbench.view.extension.vigil';
  }

  dispose(): void {
    this.item.dispose();
  }
}
