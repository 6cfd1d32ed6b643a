import * as vscode from 'vscode';
import { ClusterConsole } from './vscode/clusterConsole';
import { automationMode, humanIdentity, registerCommands } from './vscode/commands';
import { CopilotViewProvider } from './vscode/copilotView';
import { COMMAND, VIEW } from './vscode/ids';
import { IncidentPanel } from './vscode/incidentPanel';
import { IncidentsTreeProvider } from './vscode/incidentsTree';
import { OutputChannelLogger } from './vscode/logger';
import { VscodeNotifier, type NotificationActions } from './vscode/notifier';
import { VigilSession } from './vscode/session';
import { VigilStatusBar } from './vscode/statusBar';
import { buildCopilotModel } from './vscode/viewModel';
import { isOpen } from './core/model/incident';

let current: VigilSession | undefined;

/**
 * Composition root. Activation stays light: the runtime (Kubernetes client, detectors) and the
 * sandbox are imported when the user connects or starts the sandbox, never here.
 */
export function activate(context: vscode.ExtensionContext): void {
  const started = Date.now();
  const channel = vscode.window.createOutputChannel('Vigil', { log: true });
  context.subscriptions.push(channel);
  const logger = new OutputChannelLogger(channel);

  const openIncident = (id: string) => void vscode.commands.executeCommand(COMMAND.openIncident, id);
  const notifier: VscodeNotifier = new VscodeNotifier((): NotificationActions => ({
    approve: (id, stepId) => session.approve(id, humanIdentity(), stepId),
    reject: (id) => session.reject(id, humanIdentity()),
    show: openIncident,
    decided: (id) => {
      const i = session.incidents().find((x) => x.id === id);
      if (!i) return 'no longer known';
      if (i.state === 'awaiting-approval') return undefined;
      return i.outcome ? `${i.outcome.kind}${i.outcome.labelledBy ? ` by ${i.outcome.labelledBy}` : ''}` : i.state;
    },
  }));
  const session: VigilSession = new VigilSession(logger.child('engine'), notifier);
  current = session;
  // the console of an in-cluster agent, when "Connect to Cluster" finds one and the user watches it: the views show it instead
  const clusterConsole = new ClusterConsole(logger.child('console'));
  const copilot = new CopilotViewProvider(context.extensionUri, logger.child('view'), {
    model: () =>
      clusterConsole.active ? clusterConsole.model() : buildCopilotModel({
        connection: session.connection,
        mode: session.state?.mode ?? automationMode(),
        paused: session.state?.paused ?? false,
        incidents: session.incidents(),
        history: session.history,
        sources: session.state?.sources ?? [],
      }),
    openIncident: async (id) => openIncident(id),
    approve: (id, stepId) => (clusterConsole.active ? clusterConsole.decide(id, 'approve', stepId) : session.approve(id, humanIdentity(), stepId)),
    reject: (id) => (clusterConsole.active ? clusterConsole.decide(id, 'reject') : session.reject(id, humanIdentity())),
    snooze: (id, minutes) => {
      if (clusterConsole.active) throw new Error('snoozing is not available for an in-cluster agent\'s incident (only spec.decision is written from here); approve or reject it');
      return session.snooze(id, humanIdentity(), minutes);
    },
  });
  const incidents = new IncidentsTreeProvider(() => session.incidents(), () => (clusterConsole.active ? clusterConsole.groups() : undefined));
  const statusBar = new VigilStatusBar();
  // the console of in-cluster agents, while it runs, is what the status bar counts: summed over its clusters
  const showStatus = () =>
    clusterConsole.active
      ? statusBar.showConsole(clusterConsole.status())
      : statusBar.show(session.connection.state, session.incidents().filter(isOpen).length, session.connection.fix ?? session.connection.message);
  context.subscriptions.push(
    session,
    clusterConsole,
    clusterConsole.onDidChange(() => {
      copilot.refresh();
      incidents.refresh();
      showStatus();
    }),
    copilot,
    incidents,
    statusBar,
    vscode.window.registerWebviewViewProvider(VIEW.copilot, copilot),
    vscode.window.registerTreeDataProvider(VIEW.incidents, incidents),
    session.onDidChange(() => {
      copilot.refresh();
      showStatus();
    }),
    session.onDidChangeIncident((i) => {
      incidents.refresh();
      IncidentPanel.changed(i.id);
    }),
  );
  registerCommands(context, session, logger.child('commands'), started, clusterConsole);
  logger.log('info', `activated in ${Date.now() - started} ms`);
}

export async function deactivate(): Promise<void> {
  // the sandbox's servers and the engine's timers must stop before the host exits
  await current?.shutdown();
}
