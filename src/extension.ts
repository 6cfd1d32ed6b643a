import * as vscode from 'vscode';
import { registerCommands } from './vscode/commands';
import { CopilotViewProvider } from './vscode/copilotView';
import { VIEW } from './vscode/ids';
import { IncidentsTreeProvider } from './vscode/incidentsTree';
import { OutputChannelLogger } from './vscode/logger';
import { VigilStatusBar } from './vscode/statusBar';

/**
 * Composition root. Activation stays light: tfjs and the Kubernetes client are imported lazily,
 * when the user connects or detection starts, never here.
 */
export function activate(context: vscode.ExtensionContext): void {
  const started = Date.now();
  const channel = vscode.window.createOutputChannel('Vigil', { log: true });
  context.subscriptions.push(channel);
  const logger = new OutputChannelLogger(channel);

  const copilot = new CopilotViewProvider(context.extensionUri, logger.child('view'));
  const incidents = new IncidentsTreeProvider();
  const statusBar = new VigilStatusBar();
  context.subscriptions.push(
    copilot,
    incidents,
    statusBar,
    vscode.window.registerWebviewViewProvider(VIEW.copilot, copilot),
    vscode.window.registerTreeDataProvider(VIEW.incidents, incidents),
  );
  registerCommands(context, logger.child('commands'));
  logger.log('info', `activated in ${Date.now() - started} ms`);
}

export function deactivate(): void {
  // everything is disposed through context.subscriptions
}
