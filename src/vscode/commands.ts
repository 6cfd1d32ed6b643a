import * as vscode from 'vscode';
import type { LoggerPort } from '../core/ports';
import { COMMAND, type CommandId } from './ids';

/** What each command needs before it can work; said plainly rather than pretending. */
const NOT_BUILT: Readonly<Record<CommandId, string>> = {
  [COMMAND.connectCluster]: 'Connecting to a cluster',
  [COMMAND.setPrometheusUrl]: 'Setting the Prometheus URL',
  [COMMAND.replayIncident]: 'Incident replay',
  [COMMAND.pauseAutomation]: 'Pausing automation',
  [COMMAND.resumeAutomation]: 'Resuming automation',
  [COMMAND.startSandbox]: 'The sandbox cluster',
  [COMMAND.runChaosExperiment]: 'Chaos experiments',
  [COMMAND.showAuditLog]: 'The audit log',
  [COMMAND.verifyAuditLog]: 'Audit log verification',
  [COMMAND.retrainModel]: 'Model retraining',
};

export function registerCommands(context: vscode.ExtensionContext, logger: LoggerPort): void {
  for (const [id, feature] of Object.entries(NOT_BUILT)) {
    context.subscriptions.push(
      vscode.commands.registerCommand(id, () => {
        logger.log('info', `command ${id} invoked; feature not built yet`);
        void vscode.window.showInformationMessage(`Vigil: ${feature} is not built yet in this version. Nothing was changed.`);
      }),
    );
  }
}
