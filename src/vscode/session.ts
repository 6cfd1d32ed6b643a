import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import { isOpen, type Incident } from '../core/model/incident';
import type { LoggerPort, NotifierPort } from '../core/ports';
import { withSettings, type VigilSettings } from '../core/settings';
import { changedKeys } from '../core/settingsSchema';
import type { VigilRuntime } from '../infra/runtime';
import type { ConnectionView } from '../webview/protocol';
import { connectionFix } from './connectionHelp';
import { COMMAND } from './ids';
import { SandboxProcess, type SandboxCommand } from './sandboxProcess';
import { currentVigilSettings, onDidChangeVigilSettings, warnAboutSettings } from './settingsReader';
import { pastForViews, SeriesHistory } from './viewModel';

export interface ConnectOptions {
  /** What this connection fixes over the user's settings: cluster, context, state directory (the sandbox's interval). */
  readonly forConnection: (settings: VigilSettings) => VigilSettings;
  readonly prometheusToken?: string;
  /** Shown in the view: "the sandbox", "context prod". */
  readonly label: string;
}

/** Settings the core reads at each decision; the others are read when the adapters are built, at connect. */
const LIVE_SECTIONS = ['automation.', 'safety.'];

const DISCONNECTED: ConnectionView = { state: 'disconnected', message: 'Not connected. Run "Vigil: Start Sandbox Cluster" or "Vigil: Connect to Cluster".' };

/**
 * The one engine the extension runs: a VigilRuntime (the same composition the headless agent uses),
 * loaded lazily so activation stays light, and optionally the sandbox, a child process like a real cluster.
 */
export class VigilSession implements vscode.Disposable {
  runtime: VigilRuntime | undefined;
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
  private pastIncidents: Incident[] = [];

  constructor(
    private readonly logger: LoggerPort,
    private readonly notifier: NotifierPort,
  ) {}

  get connected(): boolean {
    return this.connection.state === 'connected' && this.runtime !== undefined;
  }

  /** Live incidents of the engine plus those persisted before this session. */
  incidents(): Incident[] {
    const live = this.runtime?.core.remediator.list() ?? [];
    const ids = new Set(live.map((i) => i.id));
    return [...live, ...this.pastIncidents.filter((i) => !ids.has(i.id))];
  }

  /** The incident with its recording (replay, export): live from the engine, else read back from the store. */
  async fullIncident(id: string): Promise<Incident | undefined> {
    const live = this.runtime?.core.remediator.get(id);
    if (live && isOpen(live)) return live;
    // a closed incident's recording is read back from the store, not kept in memory
    return (await this.runtime?.store.loadIncident(id)) ?? live ?? this.incidents().find((i) => i.id === id);
  }

  private set(connection: ConnectionView): void {
    this.connection = connection;
    this.changed.fire();
  }

  async connect(options: ConnectOptions): Promise<void> {
    await this.disconnect();
    this.set({ state: 'connecting', message: `Connecting to ${options.label}…` });
    try {
      const { VigilRuntime } = await import('../infra/runtime');
      const env = options.prometheusToken ? { ...process.env, VIGIL_PROMETHEUS_TOKEN: options.prometheusToken } : process.env;
      const read = currentVigilSettings();
      warnAboutSettings(read.problems);
      let applied = options.forConnection(read.settings);
      // the model runs in a child process: the extension host keeps only the UI (memory, issue 18)
      const runtime = await VigilRuntime.create({ settings: applied, logger: this.logger, identity: `vscode@${os.hostname()}`, notifiers: [this.notifier], env, modelProcess: true });
      // a cheap authenticated call first, so unreachable / forbidden / expired show up now, with the fix
      await runtime.conn.get('/version', { timeoutMs: 5000 });
      this.runtime = runtime;
      this.subscriptions.push(
        runtime.core.remediator.onChange((i) => {
          this.incidentChanged.fire(i);
          this.changed.fire();
        }),
        runtime.core.pipeline.onSnapshot((s) => {
          this.history.record(s.targets, s.t);
          this.changed.fire();
        }),
      );
      this.subscriptions.push(
        // settings follow the configuration while connected; the connection's own (cluster, Prometheus) need a reconnect
        onDidChangeVigilSettings(({ settings: next, problems }) => {
          warnAboutSettings(problems);
          const previous = applied;
          applied = options.forConnection(next);
          const changed = changedKeys(previous, applied);
          if (!changed.length) return;
          runtime.applySettings(applied);
          const later = changed.filter((k) => !LIVE_SECTIONS.some((p) => k.startsWith(p)));
          if (later.length) void vscode.window.showInformationMessage(`Vigil: ${later.map((k) => `vigil.${k}`).join(', ')} take effect when you reconnect.`);
          this.logger.log('info', `settings changed: ${changed.join(', ')}; automation mode is ${applied.automation.mode}`);
          this.set({ ...this.connection, message: `Connected to ${options.label} (${runtime.conn.server}), ${applied.automation.mode} mode.` });
        }),
      );
      await runtime.start();
      this.pastIncidents = pastForViews(await runtime.store.listIncidents());
      this.connectionLabel = options.label;
      this.set({ state: 'connected', message: `Connected to ${options.label} (${runtime.conn.server}), ${applied.automation.mode} mode.` });
    } catch (err) {
      const message = (err as Error).message;
      this.logger.log('error', `connecting to ${options.label} failed: ${message}`);
      await this.disconnect(false);
      const fix = connectionFix(message);
      this.set({ state: 'error', message: `Could not connect to ${options.label}: ${message}`, fix });
      throw new Error(`Could not connect to ${options.label}: ${message}. ${fix}`);
    }
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
    const runtime = this.runtime;
    this.runtime = undefined;
    if (runtime) await runtime.dispose().catch((e: Error) => this.logger.log('warn', `stopping the engine: ${e.message}`));
    this.history = new SeriesHistory();
    if (announce) this.set(DISCONNECTED);
  }

  private async stopSandbox(): Promise<void> {
    await this.disconnect(false);
    const sandbox = this.sandbox;
    this.sandbox = undefined;
    if (sandbox) await sandbox.stop().catch((e: Error) => this.logger.log('warn', `stopping the sandbox: ${e.message}`));
  }

  private mustRuntime(): VigilRuntime {
    if (!this.runtime || !this.connected) throw new Error('Vigil is not connected. Run "Vigil: Start Sandbox Cluster" or "Vigil: Connect to Cluster" first.');
    return this.runtime;
  }

  async approve(id: string, by: string, stepId?: string): Promise<void> {
    await this.mustRuntime().core.remediator.approve(id, by, stepId);
    this.logger.log('info', `${by} approved the proposed step of ${id}`);
    // completes the walkthrough's "Approve the fix" step, whichever way the approval came (view, notification, tree)
    void vscode.commands.executeCommand('setContext', 'vigil.approvedOnce', true);
  }

  async reject(id: string, by: string): Promise<void> {
    await this.mustRuntime().core.remediator.reject(id, by, 'rejected in VS Code');
    this.logger.log('info', `${by} rejected the proposed step of ${id}`);
  }

  async snooze(id: string, by: string, minutes: number): Promise<void> {
    await this.mustRuntime().core.remediator.snooze(id, by, minutes * 60_000);
  }

  /** Something outside the engine's change events changed (e.g. paused). */
  touch(): void {
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
