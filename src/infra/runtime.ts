import os from 'node:os';
import path from 'node:path';
import { createHealingCore, type HealingCore } from '../core/loop/healingCore';
import type { Playbook } from '../core/model/playbook';
import type { ClockPort, Disposable, LoggerPort, MetricsPort, NotifierPort } from '../core/ports';
import type { VigilSettings } from '../core/settings';
import { ApprovalInbox } from './approvalInbox';
import { KubernetesCluster } from './kubernetes/clusterActions';
import { connectKube, type KubeConnection } from './kubernetes/kubeClient';
import { KubernetesSource } from './kubernetes/kubernetesSource';
import { WebhookNotifier } from './notify/webhookNotifier';
import { loadPlaybooks } from './playbookFiles';
import { createObserveAdapters, type ObserveAdapters } from './observeAdapters';
import { FileStore } from './store/fileStore';
import { SystemClock } from './systemClock';
import { LazyTfjsModel } from './tfjs/lazyModel';

export interface RuntimeOptions {
  /** Everything the user set; `agent.stateDir` is required. */
  readonly settings: VigilSettings;
  readonly logger: LoggerPort;
  /** Default `vigil-agent@<host>-<pid>`; the extension passes `vscode@<host>`. */
  readonly identity?: string;
  /** Extra notifiers (the VS Code UI). */
  readonly notifiers?: ReadonlyArray<NotifierPort>;
  readonly clock?: ClockPort;
  /** Where secrets come from (VIGIL_PROMETHEUS_TOKEN, VIGIL_SLACK_WEBHOOK_URL, ...); never logged. */
  readonly env?: NodeJS.ProcessEnv;
  /** Where the shipped base model is; found next to the bundle or in the checkout when omitted. */
  readonly baseModelDir?: string;
}

/**
 * The adapters for one connection (Kubernetes, Prometheus or direct scrape, the store, the model, webhooks),
 * handed to createHealingCore: the composition shared by `vigil agent`, `vigil demo` and the extension. No policy here.
 */
export class VigilRuntime implements Disposable {
  readonly clock: ClockPort;
  readonly store: FileStore;
  readonly core: HealingCore;
  readonly events: KubernetesSource;
  readonly metrics: MetricsPort & Disposable;
  /** Metrics, logs and probes, built from the settings for this connection. */
  readonly observe: ObserveAdapters;
  readonly cluster: KubernetesCluster;
  readonly inbox: ApprovalInbox;
  readonly identity: string;
  /** Undefined when the model is turned off. tfjs loads on its first window, not here. */
  readonly model: LazyTfjsModel | undefined;
  private playbooks: Playbook[] = [];
  private inboxTimer: Disposable | undefined;
  private disposed = false;

  private constructor(
    readonly options: RuntimeOptions,
    readonly conn: KubeConnection,
    observe: ObserveAdapters,
  ) {
    const { settings, logger } = options;
    const env = options.env ?? process.env;
    this.clock = options.clock ?? new SystemClock();
    this.identity = options.identity ?? `vigil-agent@${os.hostname()}-${process.pid}`;
    this.store = new FileStore(settings.agent.stateDir);
    this.inbox = new ApprovalInbox(settings.agent.stateDir);
    this.cluster = new KubernetesCluster(conn.lib, conn.kubeConfig, () => this.clock.now());
    this.observe = observe;
    this.events = observe.events;
    this.metrics = observe.metrics;
    const webhooks = new WebhookNotifier({ slackWebhookUrl: env.VIGIL_SLACK_WEBHOOK_URL, pagerDutyRoutingKey: env.VIGIL_PAGERDUTY_ROUTING_KEY, pagerDutyUrl: env.VIGIL_PAGERDUTY_URL }, logger.child('notify'));
    this.model = settings.model.enabled ? new LazyTfjsModel({ stateDir: settings.agent.stateDir, baseModelDir: options.baseModelDir, logger }) : undefined;
    this.core = createHealingCore(
      { clock: this.clock, logger, store: this.store, cluster: this.cluster, metrics: this.metrics, events: this.events, probes: observe.probes, model: this.model, notifiers: [...(webhooks.enabled ? [webhooks] : []), ...(options.notifiers ?? [])] },
      settings,
      { identity: this.identity, playbooks: () => this.playbooks },
    );
  }

  static async create(options: RuntimeOptions): Promise<VigilRuntime> {
    const { settings } = options;
    if (!settings.agent.stateDir) throw new Error('no state directory: set agent.stateDir (`--state-dir DIR`); incidents, the audit log and learned state live there');
    const conn = await connectKube({ kubeconfig: settings.kubernetes.kubeconfig || undefined, context: settings.kubernetes.context || undefined });
    // the signals file and the probes are read and checked here: a bad one stops the start, naming the key
    const clock = options.clock ?? new SystemClock();
    const observe = await createObserveAdapters(settings, conn, clock, options.logger, options.env ?? process.env);
    return new VigilRuntime({ ...options, clock }, conn, observe);
  }

  get settings(): VigilSettings {
    return this.core.settings;
  }

  /** Settings changed while running (VS Code configuration): mode, safety gates and namespace modes apply at the next decision. */
  applySettings(settings: VigilSettings): void {
    this.core.applySettings(settings);
  }

  async start(): Promise<void> {
    const logger = this.options.logger;
    const settings = this.core.settings;
    const loaded = await loadPlaybooks(settings.agent.playbooksDir || path.join(process.cwd(), '.vigil', 'playbooks'));
    this.playbooks = loaded.playbooks;
    for (const m of loaded.messages) logger.log('error', `playbook not loaded: ${m}`);
    logger.log('info', `loaded ${this.playbooks.length} playbooks (${this.playbooks.map((p) => p.name).join(', ')})`);
    this.events.start();
    await this.core.start();
    this.pollInbox();
    logger.log('info', `watching ${this.conn.server} (context ${this.conn.context}) in ${settings.automation.mode} mode; metrics from ${this.observe.description}; state in ${settings.agent.stateDir}`);
  }

  /** Approvals and rejections dropped by `vigil approve` / `vigil reject`. */
  private pollInbox(): void {
    if (this.disposed) return;
    this.inboxTimer = this.clock.setTimeout(async () => {
      for (const d of await this.inbox.take((file, problem) => this.options.logger.log('warn', `ignored ${file}: ${problem}`))) {
        try {
          if (d.decision === 'approve') await this.core.remediator.approve(d.incidentId, d.by, d.stepId);
          else await this.core.remediator.reject(d.incidentId, d.by, d.note);
        } catch (err) {
          this.options.logger.log('warn', `${d.decision} of ${d.incidentId} by ${d.by} not applied: ${(err as Error).message}`);
        }
      }
      this.pollInbox();
    }, 1000);
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.inboxTimer?.dispose();
    await this.core.dispose();
    this.observe.dispose();
    await this.model?.dispose();
  }
}
