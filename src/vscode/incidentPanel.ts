import * as vscode from 'vscode';
import type { LoggerPort } from '../core/ports';
import type { ReplayMode, RoomView, WebviewToHost } from '../webview/protocol';
import { webviewHtml } from './copilotView';

export interface RoomActions {
  /** The room's whole view, built where the loop runs (CoreCalls.room); undefined when the incident is unknown. */
  room(incidentId: string, mode: 'live' | ReplayMode): Promise<RoomView | undefined>;
  approve(incidentId: string, stepId?: string): Promise<void>;
  reject(incidentId: string): Promise<void>;
  snooze(incidentId: string, minutes: number): Promise<void>;
}

/**
 * The incident room: one editor panel per incident, live (header, charts, evidence, the proposed step with Approve,
 * logs, the focused timeline) or as a replay (the same view with a time scrubber and the what-if of today's
 * detectors and playbooks). The view is built in the loop's process (the recording, the replay behind the bands and
 * the service map stay there); this panel only shows it and sends the human's decisions.
 */
export class IncidentPanel {
  private static readonly open = new Map<string, IncidentPanel>();
  private ready = false;
  private pending: ReturnType<typeof setTimeout> | undefined;

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly incidentId: string,
    private mode: 'live' | ReplayMode,
    private readonly actions: RoomActions,
    private readonly logger: LoggerPort,
    private readonly extensionUri: vscode.Uri,
  ) {
    panel.webview.onDidReceiveMessage((m: WebviewToHost) => void this.receive(m));
    panel.onDidDispose(() => {
      if (this.pending) clearTimeout(this.pending);
      IncidentPanel.open.delete(incidentId);
    });
  }

  /** Opens (or reveals) the room of an incident; `mode` live for the incident as it is, recorded/current for a replay. */
  static show(extensionUri: vscode.Uri, incidentId: string, mode: 'live' | ReplayMode, actions: RoomActions, logger: LoggerPort): void {
    const existing = IncidentPanel.open.get(incidentId);
    if (existing) {
      existing.mode = mode;
      existing.panel.reveal();
      void existing.render();
      return;
    }
    const title = `${mode === 'live' ? 'Incident' : 'Replay'} ${incidentId}`;
    const panel = vscode.window.createWebviewPanel('vigil.incident', title, vscode.ViewColumn.Active, {
      enableScripts: true,
      retainContextWhenHidden: false,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media')],
    });
    panel.webview.html = webviewHtml(panel.webview, extensionUri, 'room', title);
    IncidentPanel.open.set(incidentId, new IncidentPanel(panel, incidentId, mode, actions, logger, extensionUri));
  }

  /** The engine changed an incident: its open room shows it (coalesced). */
  static changed(incidentId: string): void {
    IncidentPanel.open.get(incidentId)?.refresh();
  }

  private refresh(): void {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      void this.render();
    }, 500);
  }

  private async receive(m: WebviewToHost): Promise<void> {
    try {
      switch (m.type) {
        case 'ready':
          this.ready = true;
          await this.render();
          return;
        case 'replayMode':
          this.mode = m.mode;
          this.panel.title = `Replay ${this.incidentId}`;
          await this.render();
          return;
        case 'approve':
          await this.actions.approve(m.incidentId, m.stepId);
          return;
        case 'reject':
          await this.actions.reject(m.incidentId);
          return;
        case 'snooze':
          await this.actions.snooze(m.incidentId, m.minutes);
          return;
        case 'openIncident':
          // from the service map: another incident's room
          IncidentPanel.show(this.extensionUri, m.incidentId, 'live', this.actions, this.logger);
          return;
        case 'cspViolation':
          this.logger.log('error', `content security policy violation in the incident room: ${m.directive} blocked ${m.blocked || 'inline'}${m.sample ? ` (${m.sample.slice(0, 80)})` : ''}`);
          return;
        default:
          return;
      }
    } catch (err) {
      const message = (err as Error).message;
      this.logger.log('error', `${m.type} failed: ${message}`);
      void vscode.window.showErrorMessage(`Vigil: ${m.type} failed: ${message}`);
    }
  }

  private async render(): Promise<void> {
    if (!this.ready) return;
    try {
      const room = await this.actions.room(this.incidentId, this.mode);
      if (!room) {
        void this.panel.webview.postMessage({ type: 'error', message: `Incident ${this.incidentId} is no longer known.` });
        return;
      }
      void this.panel.webview.postMessage({ type: 'room', room });
    } catch (err) {
      this.logger.log('error', `incident room of ${this.incidentId} failed: ${(err as Error).message}`);
      void this.panel.webview.postMessage({ type: 'error', message: `The incident room failed: ${(err as Error).message}` });
    }
  }
}
