import * as vscode from 'vscode';
import type { LoggerPort } from '../core/ports';
import { WEBVIEW_COMMANDS, type CopilotModel, type HostToWebview, type WebviewToHost } from '../webview/protocol';

export interface CopilotActions {
  model(): CopilotModel;
  /** Opens the incident room. */
  openIncident(incidentId: string): Promise<void>;
  /** `stepId`: the step shown; a proposal that changed since is refused, not approved. */
  approve(incidentId: string, stepId?: string): Promise<void>;
  reject(incidentId: string): Promise<void>;
  snooze(incidentId: string, minutes: number): Promise<void>;
}

/** The Copilot sidebar: a webview with a strict CSP; all state goes through typed messages. */
export class CopilotViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private ready = false;
  private pending: ReturnType<typeof setTimeout> | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly logger: LoggerPort,
    private readonly actions: CopilotActions,
  ) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.ready = false;
    view.webview.options = { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'media')] };
    view.webview.html = webviewHtml(view.webview, this.extensionUri, 'copilot', 'Vigil Copilot');
    this.disposables.push(
      view.webview.onDidReceiveMessage((msg: WebviewToHost) => void this.receive(msg)),
      view.onDidDispose(() => {
        this.view = undefined;
        this.ready = false;
      }),
    );
  }

  private async receive(msg: WebviewToHost): Promise<void> {
    try {
      switch (msg.type) {
        case 'ready':
          this.ready = true;
          this.refreshNow();
          return;
        case 'command':
          if ((WEBVIEW_COMMANDS as readonly string[]).includes(msg.command)) await vscode.commands.executeCommand(msg.command);
          else this.logger.log('warn', `webview asked for unknown command ${msg.command}`);
          return;
        case 'approve':
          await this.actions.approve(msg.incidentId, msg.stepId);
          return;
        case 'reject':
          await this.actions.reject(msg.incidentId);
          return;
        case 'snooze':
          await this.actions.snooze(msg.incidentId, msg.minutes);
          return;
        case 'openIncident':
          await this.actions.openIncident(msg.incidentId);
          return;
        case 'cspViolation':
          this.logger.log('error', `content security policy violation in the Copilot view: ${msg.directive} blocked ${msg.blocked || 'inline'}`);
          return;
        default:
          this.logger.log('debug', `webview message ${msg.type}`);
      }
    } catch (err) {
      const message = (err as Error).message;
      this.logger.log('error', `${msg.type} failed: ${message}`);
      void vscode.window.showErrorMessage(`Vigil: ${msg.type} failed: ${message}`);
    }
  }

  /** Coalesces bursts of engine and loop changes into one message per 250 ms. */
  refresh(): void {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.refreshNow();
    }, 250);
  }

  private refreshNow(): void {
    if (this.view && this.ready) this.post({ type: 'model', model: this.actions.model() });
  }

  post(message: HostToWebview): void {
    void this.view?.webview.postMessage(message);
  }

  dispose(): void {
    if (this.pending) clearTimeout(this.pending);
    for (const d of this.disposables) d.dispose();
  }
}

/** The HTML shell of a Vigil webview: strict CSP with a nonce, the one bundle, `view` picks what it renders. */
export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, view: 'copilot' | 'room', title: string): string {
  const nonce = makeNonce();
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'dist', 'webview.js'));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'copilot.css'));
  const chartStyle = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'dist', 'uPlot.min.css'));
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src ${webview.cspSource} data:; style-src ${webview.cspSource}; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link href="${chartStyle}" rel="stylesheet">
<link href="${style}" rel="stylesheet">
<title>${title}</title>
</head>
<body data-view="${view}">
<main id="app" class="${view}"></main>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}

export function makeNonce(): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < 32; i++) s += chars.charAt(Math.floor(Math.random() * chars.length));
  return s;
}
