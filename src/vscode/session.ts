import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import { isOpen, type Incident } from '../core/model/incident';
import type { LoggerPort, NotifierPort } from '../core/ports';
import { withSettings, type VigilSettings } from '../core/settings';
import { changedKeys } from '../core/settingsSchema';
import type { ConnectionView, ReplayMode, RoomView } from '../webview/protocol';
import type { CoreClient, CoreEvent, CoreStarted, CoreState } from './coreClient';
import { CoreProcess, type CoreProcessOptions } from './coreProcess';
import { connectionFix } from './connectionHelp';
import { COMMAND } from './ids';
import { roomView } from './roomModel';
import { SandboxProcess, type SandboxCommand } from './sandboxProcess';
import { currentVigilSettings, onDidChangeVigilSettings, warnAboutSettings } from './settingsReader';
import { PAST_INCIDENTS_KEPT, SeriesHistory } from './viewModel';

export interface ConnectOptions {
  /** What this connection fixes over the user's settings: cluster, context, state directory (the sandbox's interval). */
  readonly forConnection: (settings: VigilSettings) => VigilSettings;
  readonly prometheusToken?: string;
  /** Shown in the view: "the sandbox", "context prod". */
  readonly label: string;
}

/** Settings the core reads at each decision; the others are read when the adapters are built, at connect. */
const LIVE_SECTIONS = ['automation.', 'safety.'];
/** Who this window's loop is, as Lease holder and in the audit; the console tells its own loop's Lease by it. */
export const WINDOW_IDENTITY = `vscode@${os.hostname()}`;

const DISCONNECTED: ConnectionView = { state: 'disconnected', message: 'Not connected. Run "Vigil: Start Sandbox Cluster" or "Vigil: Connect to Cluster".' };
const NOT_CONNECTED = 'Vigil is not connected. Run "Vigil: Start Sandbox Cluster" or "Vigil: Connect to Cluster" first.';

/**
 * What the extension shows of the one engine it runs: the healing loop runs in a child process (CoreProcess, the same
 * composition the headless agent uses) and the host keeps only a view model of it: the incidents without their
 * recordings, the services' recent series, the mode. Optionally the sandbox, a child process like a real cluster.
 */
export class VigilSession implements vscode.Disposable {
  core: CoreClient | undefined;
  /** The loop's mode, pause and sources, as of its last snapshot or call. */
  state: CoreState | undefined;
  sandbox: SandboxProcess | undefined;
  connection: ConnectionView = DISCONNECTED;
  /** What the engine is connected to, as the views say it: "the sandbox cluster", "context prod-eu". */
  connectionLabel: string | undefined;
  history = new SeriesHistory();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly incidentChanged = new vscode.EventEmitter<Incident>();
  readonly onDidChangeIncident = this.incidentChanged.event;
  private subscriptions: Array<{ dispose(): void }> = [];
  /** Live and past incidents without their recordings, by id: open ones and the newest PAST_INCIDENTS_KEPT closed. */
  private readonly known = new Map<string, Incident>();

  constructor(
    private readonly logger: LoggerPort,
    private readonly notifier: NotifierPort,
    /** Where the loop runs: its own process (dist/coreWorker.js); another CoreClient (tests, another source) may stand in. */
    private readonly createCore: (options: CoreProcessOptions) => CoreClient = (options) => new CoreProcess(options),
  ) {}

  get connected(): boolean {
    return this.connection.state === 'connected' && this.core !== undefined;
  }

  /** The incidents the views show (without recordings): the engine's and those persisted before this session. */
  incidents(): Incident[] {
    return [...this.known.values()];
  }

  /** The incident with its recording (export): from the engine, which reads a closed one back from the store. */
  async fullIncident(id: string): Promise<Incident | undefined> {
    return (this.core && (await this.core.call('incident', id))) ?? this.known.get(id);
  }

  /** The incident room's view, built where the loop runs; without a connection, what this window knows of it. */
  async room(id: string, mode: 'live' | ReplayMode): Promise<RoomView | undefined> {
    if (this.core) return this.core.call('room', id, mode, this.connectionLabel ?? 'not connected');
    const i = this.known.get(id);
    return i && roomView({ incident: i, cluster: 'not connected', mode });
  }

  private set(connection: ConnectionView): void {
    this.connection = connection;
    this.changed.fire();
  }

  private remember(i: Incident): void {
    this.known.set(i.id, i);
    const closed = [...this.known.values()].filter((x) => !isOpen(x));
    if (closed.length <= PAST_INCIDENTS_KEPT) return;
    for (const x of closed.sort((a, b) => b.openedAt - a.openedAt).slice(PAST_INCIDENTS_KEPT)) this.known.delete(x.id);
  }

  /** The incidents a (re)started loop begins with; one its events already brought (they may come before the start's answer) is newer. */
  private adopt(started: CoreStarted): void {
    for (const i of started.incidents) if ((this.known.get(i.id)?.updatedAt ?? -Infinity) <= i.updatedAt) this.remember(i);
    this.state = started.state;
  }

  private received(core: CoreClient, e: CoreEvent): void {
    if (this.core !== core) return;
    switch (e.kind) {
      case 'incident':
        this.remember(e.incident);
        this.incidentChanged.fire(e.incident);
        this.changed.fire();
        return;
      case 'snapshot':
        this.history.record(e.targets, e.t);
        this.state = e.state;
        this.changed.fire();
        return;
      case 'approvalNeeded':
        void this.notifier.approvalNeeded(e.incident, e.stepId, e.summary);
        return;
      case 'escalate':
        void this.notifier.escalate(e.context);
        return;
      case 'resolved':
        void this.notifier.resolved(e.incident);
        return;
      case 'log':
        this.logger.child(e.component).log(e.level, e.message, e.fields);
        return;
    }
  }

  private connectedMessage(label: string, server: string): string {
    return `Connected to ${label} (${server}), ${this.state?.mode ?? 'suggest'} mode.`;
  }

  async connect(options: ConnectOptions): Promise<void> {
    await this.disconnect();
    this.set({ state: 'connecting', message: `Connecting to ${options.label}…` });
    try {
      const read = currentVigilSettings();
      warnAboutSettings(read.problems);
      let applied = options.forConnection(read.settings);
      let server = '';
      this.known.clear();
      const core: CoreClient = this.createCore({
        logger: this.logger,
        env: options.prometheusToken ? { VIGIL_PROMETHEUS_TOKEN: options.prometheusToken } : {},
        listener: {
          event: (e) => this.received(core, e),
          lost: (reason, restarting) => void this.coreLost(core, options.label, reason, restarting),
          restarted: (started) => {
            if (this.core !== core) return;
            this.adopt(started);
            this.set({ state: 'connected', message: this.connectedMessage(options.label, started.server) });
          },
        },
      });
      this.core = core;
      const started = await core.start({ settings: applied, identity: WINDOW_IDENTITY });
      server = started.server;
      this.adopt(started);
      this.subscriptions.push(
        // settings follow the configuration while connected; the connection's own (cluster, Prometheus) need a reconnect
        onDidChangeVigilSettings(({ settings: next, problems }) => {
          warnAboutSettings(problems);
          const previous = applied;
          applied = options.forConnection(next);
          const changed = changedKeys(previous, applied);
          if (!changed.length) return;
          const later = changed.filter((k) => !LIVE_SECTIONS.some((p) => k.startsWith(p)));
          if (later.length) void vscode.window.showInformationMessage(`Vigil: ${later.map((k) => `vigil.${k}`).join(', ')} take effect when you reconnect.`);
          void core.call('applySettings', applied).then(
            (state) => {
              if (this.core !== core) return;
              this.state = state;
              this.logger.log('info', `settings changed: ${changed.join(', ')}; automation mode is ${state.mode}`);
              this.set({ ...this.connection, message: this.connectedMessage(options.label, server) });
            },
            (err: Error) => this.logger.log('error', `settings changed (${changed.join(', ')}) but the engine did not take them: ${err.message}`),
          );
        }),
      );
      this.connectionLabel = options.label;
      this.set({ state: 'connected', message: this.connectedMessage(options.label, server) });
    } catch (err) {
      const message = (err as Error).message;
      this.logger.log('error', `connecting to ${options.label} failed: ${message}`);
      await this.disconnect(false);
      const fix = connectionFix(message);
      this.set({ state: 'error', message: `Could not connect to ${options.label}: ${message}`, fix });
      throw new Error(`Could not connect to ${options.label}: ${message}. ${fix}`);
    }
  }

  /** The loop's process died: while it is started again the views say so; once it stays down, the user is told, with the fix. */
  private async coreLost(core: CoreClient, label: string, reason: string, restarting: boolean): Promise<void> {
    if (this.core !== core) return;
    this.logger.log(restarting ? 'warn' : 'error', `${reason}${restarting ? '; starting it again' : ''}`);
    if (restarting) {
      this.set({ state: 'connecting', message: `Vigil's healing loop stopped (${reason}); starting it again on ${label}…` });
      return;
    }
    await this.disconnect(false);
    this.set({ state: 'error', message: `Detection has stopped: ${reason}.`, fix: 'The "Vigil" output channel has its last lines. Run "Vigil: Start Sandbox Cluster" or "Vigil: Connect to Cluster" to start it again.' });
    void vscode.window.showErrorMessage(`Vigil: detection has stopped: ${reason}.`);
  }

  /**
   * Starts `vigil sandbox` as a child process and connects to it. Out of process, its simulation
   * costs the extension host no memory (measured: ~25 MB less rss).
   */
  async startSandbox(stateDir: string, command: SandboxCommand): Promise<SandboxProcess> {
    await this.stopSandbox();
    this.set({ state: 'connecting', message: 'Starting the sandbox cluster…' });
    let sandbox: SandboxProcess;
    try {
      sandbox = await SandboxProcess.start({
        command,
        kubeconfigPath: path.join(stateDir, 'sandbox.kubeconfig'),
        seed: 7,
        daySeconds: 600,
        metrics: currentVigilSettings().settings.sandbox,
        logger: this.logger,
        onUnexpectedExit: (reason) => void this.sandboxLost(sandbox, reason),
      });
    } catch (err) {
      const message = (err as Error).message;
      this.logger.log('error', message);
      this.set({ state: 'error', message: `Could not start the sandbox cluster: ${message}`, fix: 'See the "Vigil" output channel, then run "Vigil: Start Sandbox Cluster" again.' });
      throw err;
    }
    this.sandbox = sandbox;
    this.logger.log('info', `sandbox cluster up at ${sandbox.apiServer} (pid ${sandbox.pid}); kubeconfig ${sandbox.kubeconfig}`);
    // the sandbox compresses time: it is sampled every 5 s whatever the setting for real clusters says
    const forConnection = (s: VigilSettings) => withSettings(s, { kubernetes: { kubeconfig: sandbox.kubeconfig, context: '' }, prometheus: { url: '', scrapeIntervalSeconds: 5 }, agent: { stateDir } });
    await this.connect({ forConnection, label: 'the sandbox cluster' });
    return sandbox;
  }

  /** The sandbox died under the engine: say so where the user looks, with the fix; the engine would only see refused connections. */
  private async sandboxLost(sandbox: SandboxProcess, reason: string): Promise<void> {
    if (this.sandbox !== sandbox) return;
    this.sandbox = undefined;
    await this.disconnect(false);
    this.set({ state: 'error', message: `Disconnected: ${reason}.`, fix: 'Run "Vigil: Start Sandbox Cluster" to start a new one; the "Vigil" output channel has its last lines.' });
    const choice = await vscode.window.showErrorMessage(`Vigil: ${reason}. Detection has stopped.`, 'Start Sandbox Cluster');
    if (choice) void vscode.commands.executeCommand(COMMAND.startSandbox);
  }

  async disconnect(announce = true): Promise<void> {
    for (const s of this.subscriptions.splice(0)) s.dispose();
    const core = this.core;
    this.core = undefined;
    this.state = undefined;
    if (core) await core.dispose().catch((e: Error) => this.logger.log('warn', `stopping the engine: ${e.message}`));
    this.history = new SeriesHistory();
    if (announce) this.set(DISCONNECTED);
  }

  private async stopSandbox(): Promise<void> {
    await this.disconnect(false);
    const sandbox = this.sandbox;
    this.sandbox = undefined;
    if (sandbox) await sandbox.stop().catch((e: Error) => this.logger.log('warn', `stopping the sandbox: ${e.message}`));
  }

  /** The engine, or an error saying how to connect. */
  mustCore(): CoreClient {
    if (!this.core || !this.connected) throw new Error(NOT_CONNECTED);
    return this.core;
  }

  async approve(id: string, by: string, stepId?: string): Promise<void> {
    await this.mustCore().call('approve', id, by, stepId);
    this.logger.log('info', `${by} approved the proposed step of ${id}`);
    // completes the walkthrough's "Approve the fix" step, whichever way the approval came (view, notification, tree)
    void vscode.commands.executeCommand('setContext', 'vigil.approvedOnce', true);
  }

  async reject(id: string, by: string): Promise<void> {
    await this.mustCore().call('reject', id, by, 'rejected in VS Code');
    this.logger.log('info', `${by} rejected the proposed step of ${id}`);
  }

  async snooze(id: string, by: string, minutes: number): Promise<void> {
    await this.mustCore().call('snooze', id, by, minutes * 60_000);
  }

  async setPaused(paused: boolean, by: string): Promise<void> {
    this.state = await this.mustCore().call('setPaused', paused, by);
    this.changed.fire();
  }

  async shutdown(): Promise<void> {
    await this.stopSandbox();
  }

  dispose(): void {
    void this.shutdown();
    this.changed.dispose();
    this.incidentChanged.dispose();
  }
}
