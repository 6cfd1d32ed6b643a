import * as vscode from 'vscode';
import type { Incident } from '../core/model/incident';
import type { LoggerPort } from '../core/ports';
import type { ReplayMode, WebviewToHost } from '../webview/protocol';
import { webviewHtml } from './copilotView';
import { currentVigilSettings } from './settingsReader';
import { replayView } from './viewModel';

/** One editor panel per incident: its timeline as recorded, or the live core replayed on it with today's settings and playbooks. */
export class ReplayPanel {
  private static readonly open = new Map<string, ReplayPanel>();
  private ready = false;

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly incident: Incident,
    private mode: ReplayMode,
    private readonly playbooksDir: string | undefined,
    private readonly logger: LoggerPort,
  ) {
    panel.webview.onDidReceiveMessage((m: WebviewToHost) => {
      if (m.type === 'ready') {
        this.ready = true;
        void this.render();
      } else if (m.type === 'replayMode') {
        this.mode = m.mode;
        void this.render();
      }
    });
    panel.onDidDispose(() => ReplayPanel.open.delete(incident.id));
  }

  static show(extensionUri: vscode.Uri, incident: Incident, mode: ReplayMode, playbooksDir: string | undefined, logger: LoggerPort): void {
    const existing = ReplayPanel.open.get(incident.id);
    if (existing) {
      existing.mode = mode;
      existing.panel.reveal();
      void existing.render();
      return;
    }
    const panel = vscode.window.createWebviewPanel('vigil.replay', `Replay ${incident.id}`, vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media')],
    });
    panel.webview.html = webviewHtml(panel.webview, extensionUri, 'replay', `Replay ${incident.id}`);
    ReplayPanel.open.set(incident.id, new ReplayPanel(panel, incident, mode, playbooksDir, logger));
  }

  private async render(): Promise<void> {
    if (!this.ready) return;
    try {
      let result;
      if (this.mode === 'current') {
        const [{ replayIncident }, { loadPlaybooks }] = await Promise.all([import('../core/learn/replay'), import('../infra/playbookFiles')]);
        const loaded = await loadPlaybooks(this.playbooksDir);
        for (const m of loaded.messages) this.logger.log('warn', `playbook not loaded: ${m}`);
        result = await replayIncident(this.incident, { playbooks: loaded.playbooks, settings: currentVigilSettings().settings });
      }
      void this.panel.webview.postMessage({ type: 'replay', replay: replayView(this.incident, this.mode, result) });
    } catch (err) {
      this.logger.log('error', `replay of ${this.incident.id} failed: ${(err as Error).message}`);
      void this.panel.webview.postMessage({ type: 'error', message: `Replay failed: ${(err as Error).message}` });
    }
  }
}
