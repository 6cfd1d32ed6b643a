import os from 'node:os';
import path from 'node:path';
import { createHealingCore, type HealingCore } from '../core/loop/healingCore';
import { applyHumanDecision, DecisionLedger } from '../core/loop/humanDecisions';
import { describeDecision } from '../core/model/decision';
import type { Playbook } from '../core/model/playbook';
import type { ClockPort, Disposable, LoggerPort, MetricsPort, NotifierPort } from '../core/ports';
import type { VigilSettings } from '../core/settings';
import { AgentLock, describeHolder, LockHeldError } from './control/agentLock';
import { AgentEndpoints } from './control/agentEndpoints';
import { AgentMetrics } from './control/agentMetrics';
import { ControlServer } from './control/controlServer';
import { KubernetesCluster } from './kubernetes/clusterActions';
import { KubernetesIncidentResources } from './kubernetes/incidentResources';
import { connectKube, type KubeConnection } from './kubernetes/kubeClient';
import { KubernetesSource } from './kubernetes/kubernetesSource';
import { WebhookNotifier } from './notify/webhookNotifier';
import { loadPlaybooks } from './playbookFiles';
import { createObserveAdapters, type ObserveAdapters } from './observeAdapters';
import { FileStore } from './store/fileStore';
import { SystemClock } from './systemClock';
import { LazyTfjsModel } from './tfjs/lazyModel';
import { ModelProcess } from './tfjs/modelProcess';

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
  /** Publish incidents as Incident resources (incidents.vigil.dev) while leading: the agent does, the extension does not. */
  readonly incidentResources?: boolean;
  /** Where the shipped base model is; found next to the bundle or in the checkout when omitted. */
  readonly baseModelDir?: string;
  /**
   * Run the model in a child process (ModelProcess) instead of loading tfjs here: the extension does, so its host
   * holds only the UI (the 200 MB bound of issue 18); the agent and the CLI are processes of their own already.
   */
  readonly modelProcess?: boolean;
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
  readonly identity: string;
  /** Undefined when the model is turned off. tfjs loads (or the model process starts) on its first window, not here. */
  readonly model: LazyTfjsModel | ModelProcess | undefined;
  private playbooks: Playbook[] = [];
  private readonly incidentResources: KubernetesIncidentResources | undefined;
  private decisionWatch: Disposable | undefined;

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
    this.cluster = new KubernetesCluster(conn.lib, conn.kubeConfig, () => this.clock.now());
    this.observe = observe;
    this.incidentResources = options.incidentResources ? new KubernetesIncidentResources(conn) : undefined;
    this.events = observe.events;
    this.metrics = timedFrames(observe.metrics, (seconds) => this.agentMetrics?.observeLoop(seconds));
    const webhooks = new WebhookNotifier({ slackWebhookUrl: env.VIGIL_SLACK_WEBHOOK_URL, pagerDutyRoutingKey: env.VIGIL_PAGERDUTY_ROUTING_KEY, pagerDutyUrl: env.VIGIL_PAGERDUTY_URL }, logger.child('notify'));
    const modelOptions = { stateDir: settings.agent.stateDir, baseModelDir: options.baseModelDir, logger };
    this.model = settings.model.enabled ? (options.modelProcess ? new ModelProcess(modelOptions) : new LazyTfjsModel(modelOptions)) : undefined;
    this.core = createHealingCore(
      { clock: this.clock, logger, store: this.store, cluster: this.cluster, metrics: this.metrics, events: this.events, probes: observe.probes, alerts: observe.alerts, slos: observe.slos, serviceGraph: observe.serviceGraph, resolvePod: observe.resolvePod, model: this.model, incidentResources: this.incidentResources, inFlightSteps: this.incidentResources, notifiers: [...(webhooks.enabled ? [webhooks] : []), ...(options.notifiers ?? [])] },
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
    await this.takeStateDir();
    await this.openEndpoints();
    const loaded = await loadPlaybooks(settings.agent.playbooksDir || path.join(process.cwd(), '.vigil', 'playbooks'));
    this.playbooks = loaded.playbooks;
    for (const m of loaded.messages) logger.log('error', `playbook not loaded: ${m}`);
    logger.log('info', `loaded ${this.playbooks.length} playbooks (${this.playbooks.map((p) => p.name).join(', ')})`);
    this.events.start();
    await this.core.start();
    await this.openControl();
    this.agentMetrics = new AgentMetrics({
      core: this.core,
      metricsStatus: (l) => this.metrics.onStatus(l),
      kubernetesStatus: (l) => this.events.onStatus(l),
      metricsSource: settings.prometheus.url ? 'prometheus' : 'scrape',
    });
    this.started = true;
    logger.log('info', `watching ${this.conn.server} (context ${this.conn.context}) in ${settings.automation.mode} mode; metrics from ${this.observe.description}; state in ${settings.agent.stateDir}`);
  }

  // ---- /healthz, /readyz, /metrics (agent.httpPort) -----------------------------------------
  private endpoints: AgentEndpoints | undefined;
  private agentMetrics: AgentMetrics | undefined;
  private started = false;

  /** Served from before the loop starts, so a slow first sync is "not ready", not "dead". */
  private async openEndpoints(): Promise<void> {
    const { httpPort, httpHost } = this.core.settings.agent;
    if (!httpPort) return;
    this.endpoints = await AgentEndpoints.listen(httpPort, httpHost, {
      notReady: () => {
        if (!this.started) return 'starting';
        const k8s = this.events.status;
        return k8s.state === 'ok' || k8s.state === 'degraded' ? undefined : `Kubernetes API ${k8s.state}: ${k8s.message}`;
      },
      metrics: () => this.agentMetrics?.render() ?? '',
    });
    this.options.logger.log('info', `serving /healthz, /readyz and /metrics on ${httpHost || '*'}:${this.endpoints.port}`);
  }

  // ---- human decisions: the state directory's lock and the control socket ------------------
  private stateDirLock: AgentLock | undefined;
  private control: ControlServer | undefined;

  /** The agent is the only writer of its state directory; a second one on it is refused, naming the first. */
  private async takeStateDir(): Promise<void> {
    const stateDir = this.core.settings.agent.stateDir;
    const started = Date.now();
    for (;;) {
      try {
        this.stateDirLock = await AgentLock.acquire(stateDir, 'agent');
        return;
      } catch (err) {
        if (!(err instanceof LockHeldError)) throw err;
        // a vigil command holds it for one decision; another agent holds it for good
        if (err.holder.role === 'agent' || Date.now() - started > 10_000) throw new Error(`${describeHolder(err.holder)} already uses the state directory ${stateDir} (lock ${err.file}); stop it or give this one another state directory`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  /** `vigil approve|reject|snooze|feedback|thresholds` reach the running agent here (`<stateDir>/agent.sock`). */
  private async openControl(): Promise<void> {
    const target = { incidents: this.core.remediator, thresholds: this.core.learner, store: this.store, clock: this.clock, ledger: new DecisionLedger(this.store) };
    this.control = await ControlServer.listen(this.core.settings.agent.stateDir, (d) => applyHumanDecision(target, d), this.options.logger.child('control'));
    // spec.decision of Incident resources: the same path as the socket; only the acting replica applies them
    const log = this.options.logger.child('decisions');
    let failing = '';
    this.decisionWatch = this.incidentResources?.watchDecisions(
      (d) => {
        if (!this.core.lease?.state?.held) return;
        void applyHumanDecision(target, d).then((v) => log.log(v.applied ? 'info' : 'warn', `${describeDecision(d)} by ${d.by} (spec.decision): ${v.applied ? 'applied' : 'refused'} — ${v.message}`));
      },
      (state, detail) => {
        if (state === 'failing' && detail !== failing) log.log('warn', `cannot watch Incident resources for decisions: ${detail}`);
        failing = state === 'failing' ? detail : '';
      },
    );
  }

  private async closeControl(): Promise<void> {
    this.decisionWatch?.dispose();
    this.decisionWatch = undefined;
    await this.control?.close();
    this.control = undefined;
  }

  private async releaseStateDir(): Promise<void> {
    await this.stateDirLock?.release();
    this.stateDirLock = undefined;
  }
  // ---- end of human decisions ------------------------------------------------------------------

  async dispose(): Promise<void> {
    await this.closeControl(); // first: decisions being applied still find the remediator
    await this.endpoints?.close();
    this.agentMetrics?.dispose();
    // a runtime refused its state directory (another agent holds it) never started and must not save its state there
    if (this.stateDirLock) await this.core.dispose();
    this.observe.dispose();
    await this.model?.dispose();
    await this.releaseStateDir(); // last: nothing of this agent writes the state directory after it
  }
}

/** The metrics port with each interval's frames callback timed: the loop's scoring is synchronous, so this is its duration. */
function timedFrames(port: MetricsPort & Disposable, observe: (seconds: number) => void): MetricsPort & Disposable {
  return {
    discoverTargets: () => port.discoverTargets(),
    range: (from, to, stepMs) => port.range(from, to, stepMs),
    onStatus: (listener) => port.onStatus(listener),
    dispose: () => port.dispose(),
    subscribe: (onFrames) =>
      port.subscribe((frames) => {
        const t0 = performance.now();
        try {
          onFrames(frames);
        } finally {
          observe((performance.now() - t0) / 1000);
        }
      }),
  };
}
