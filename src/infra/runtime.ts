import os from 'node:os';
import path from 'node:path';
import { Correlator } from '../core/diagnose/correlation';
import { Remediator, type RemediationSettings, type TargetContext } from '../core/loop/remediator';
import { DetectionPipeline, evidenceThrough } from '../core/loop/detectionPipeline';
import { LeaseKeeper } from '../core/loop/leaseKeeper';
import type { AutomationMode, SafetySettings } from '../core/model/automation';
import { DEFAULT_SAFETY } from '../core/model/automation';
import { isOpen, type Incident } from '../core/model/incident';
import { ThresholdLearner } from '../core/learn/learningStore';
import { stepRanker } from '../core/learn/remediationRanking';
import { describeChange, isReal, type ThresholdChange } from '../core/learn/thresholdTuning';
import { DEFAULT_RULES } from '../core/detect/defaultRules';
import type { Playbook } from '../core/model/playbook';
import { targetKey } from '../core/model/target';
import type { ClockPort, Disposable, LoggerPort, MetricsPort, NotifierPort, RetrainRecord, WorkloadInventory } from '../core/ports';
import { ApprovalInbox } from './approvalInbox';
import { KubernetesCluster } from './kubernetes/clusterActions';
import { connectKube, type KubeConnection } from './kubernetes/kubeClient';
import { KubernetesSource } from './kubernetes/kubernetesSource';
import { CompositeNotifier, WebhookNotifier } from './notify/webhookNotifier';
import { loadPlaybooks } from './playbookFiles';
import { PrometheusClient, prometheusAuthFromEnv } from './prometheus/prometheusClient';
import { PrometheusSource } from './prometheus/prometheusSource';
import { ScrapeSource, type ScrapeEndpoint } from './prometheus/scrapeSource';
import { FileStore } from './store/fileStore';
import { SystemClock } from './systemClock';
import { LazyTfjsModel } from './tfjs/lazyModel';

export interface RuntimeOptions {
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly prometheusUrl?: string;
  readonly mode: AutomationMode;
  readonly stateDir: string;
  readonly intervalMs: number;
  /** Window of rates and quantiles; default max(4 × interval, 60 s), as a Prometheus `rate(...[1m])`. */
  readonly rateWindowMs?: number;
  readonly namespaces?: ReadonlyArray<string>;
  readonly playbooksDir?: string;
  readonly safety?: Partial<SafetySettings>;
  readonly logger: LoggerPort;
  /** Default `vigil-agent@<host>`; the extension passes `vscode@<host>`. */
  readonly identity?: string;
  /** Extra notifiers (the VS Code UI). */
  readonly notifiers?: ReadonlyArray<NotifierPort>;
  readonly clock?: ClockPort;
  readonly leaseNamespace?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** The multi-signal model in the live loop (default on; `VIGIL_MODEL=off` in the environment turns it off). */
  readonly model?: boolean;
  /** Where the shipped base model is; found next to the bundle or in the checkout when omitted. */
  readonly baseModelDir?: string;
  /** Retrain every service's model on its accumulated normal windows this often (default 6 h; 0 = only on command). */
  readonly retrainEveryMs?: number;
}

const DEFAULT_RETRAIN_EVERY_MS = 6 * 3_600_000;
/** The learning file is re-read this often, so `vigil thresholds accept|reject|revert` reaches a running agent. */
const LEARNING_RELOAD_MS = 15_000;

/** A log line per escalation and approval request, so the agent's stdout tells the story. */
class LogNotifier implements NotifierPort {
  constructor(private readonly logger: LoggerPort) {}
  async escalate(c: Parameters<NotifierPort['escalate']>[0]): Promise<void> {
    this.logger.log('warn', `ESCALATION ${c.incidentId}: ${c.reason}`, { incident: c.incidentId, target: targetKey(c.target) });
  }
  async approvalNeeded(i: Incident, stepId: string, summary: string): Promise<void> {
    this.logger.log('info', `APPROVAL NEEDED ${i.id}: ${summary} — run \`vigil approve ${i.id}\``, { incident: i.id, step: stepId });
  }
  async resolved(i: Incident): Promise<void> {
    this.logger.log('info', `RECOVERED ${i.id} (${targetKey(i.target)}) by step ${i.outcome?.recoveredBy ?? '?'}`, { incident: i.id });
  }
}

/**
 * Everything the loop needs, wired to real adapters: the composition root shared by `vigil agent`,
 * `vigil demo` and the extension, so all three run the same engine.
 */
export class VigilRuntime implements Disposable {
  readonly clock: ClockPort;
  readonly store: FileStore;
  readonly engine: Remediator;
  readonly loop: DetectionPipeline;
  readonly events: KubernetesSource;
  readonly metrics: MetricsPort & Disposable;
  readonly cluster: KubernetesCluster;
  readonly lease: LeaseKeeper;
  readonly inbox: ApprovalInbox;
  readonly identity: string;
  /** Learned alerting thresholds; the loop honours them, labels and verified outcomes move them. */
  readonly learner: ThresholdLearner;
  /** Undefined when the model is turned off. tfjs loads on its first window, not here. */
  readonly model: LazyTfjsModel | undefined;
  private playbooks: Playbook[] = [];
  private learnTimer: Disposable | undefined;
  private retrainTimer: Disposable | undefined;
  private outcomeListener: Disposable | undefined;
  private learning: Promise<unknown> = Promise.resolve();
  private settings: RemediationSettings;
  private inboxTimer: Disposable | undefined;
  private disposed = false;

  private constructor(
    readonly options: RuntimeOptions,
    readonly conn: KubeConnection,
  ) {
    const logger = options.logger;
    this.clock = options.clock ?? new SystemClock();
    this.identity = options.identity ?? `vigil-agent@${os.hostname()}-${process.pid}`;
    this.store = new FileStore(options.stateDir);
    this.inbox = new ApprovalInbox(options.stateDir);
    this.cluster = new KubernetesCluster(conn.lib, conn.kubeConfig, () => this.clock.now());
    this.events = new KubernetesSource({ conn, clock: this.clock, namespaces: options.namespaces, logger: logger.child('kubernetes') });
    this.settings = { mode: options.mode, safety: { ...DEFAULT_SAFETY, ...options.safety } };
    this.metrics = options.prometheusUrl
      ? new PrometheusSource({
          client: new PrometheusClient({ url: options.prometheusUrl, auth: prometheusAuthFromEnv(options.env ?? process.env) }),
          clock: this.clock,
          intervalMs: options.intervalMs,
          windowMs: options.rateWindowMs,
          namespaces: options.namespaces,
          logger: logger.child('prometheus'),
          inventory: () => this.events.inventory(),
        })
      : new ScrapeSource({ clock: this.clock, intervalMs: options.intervalMs, windowMs: options.rateWindowMs, endpoints: () => this.podEndpoints(), logger: logger.child('scrape'), describe: `pods through the API server ${conn.server}` });
    this.lease = new LeaseKeeper(this.cluster, this.clock, logger.child('lease'), this.settings.safety.leaseName, options.leaseNamespace ?? 'default', this.identity);
    const env = options.env ?? process.env;
    const webhooks = new WebhookNotifier({ slackWebhookUrl: env.VIGIL_SLACK_WEBHOOK_URL, pagerDutyRoutingKey: env.VIGIL_PAGERDUTY_ROUTING_KEY, pagerDutyUrl: env.VIGIL_PAGERDUTY_URL }, logger.child('notify'));
    const notifier = new CompositeNotifier([new LogNotifier(logger.child('engine')), ...(webhooks.enabled ? [webhooks] : []), ...(options.notifiers ?? [])]);
    // the engine and the loop need each other: the loop feeds the engine, the engine verifies through the loop
    const ref: { loop?: DetectionPipeline } = {};
    this.engine = new Remediator({
      clock: this.clock,
      logger: logger.child('engine'),
      store: this.store,
      cluster: this.cluster,
      notifier,
      evidence: evidenceThrough(ref),
      playbooks: () => this.playbooks,
      settings: () => this.settings,
      targetContext: (i) => targetContext(i, this.events.inventory()),
      // steps ranked by what worked before this incident opened, so the order cannot shift under a running incident
      rankSteps: (playbook, incident) => stepRanker(() => this.engine.list().filter((x) => !isOpen(x) && x.updatedAt < incident.openedAt))(playbook, incident),
      lease: () => this.lease.state,
      identity: this.identity,
      recentLogs: (t) => this.events.recentLogs(t, 20),
    });
    this.learner = new ThresholdLearner(this.store, this.clock, logger.child('learn'));
    const modelOn = (options.model ?? true) && (options.env ?? process.env).VIGIL_MODEL !== 'off';
    this.model = modelOn ? new LazyTfjsModel({ stateDir: options.stateDir, baseModelDir: options.baseModelDir, logger }) : undefined;
    ref.loop = new DetectionPipeline({
      clock: this.clock,
      logger: logger.child('loop'),
      store: this.store,
      metrics: this.metrics,
      events: this.events,
      cluster: this.cluster,
      engine: this.engine,
      // the sources' own default window when none is given; verification reads how far a rate sample reaches
      rateWindowMs: options.rateWindowMs ?? Math.max(4 * options.intervalMs, 60_000),
      correlator: new Correlator(),
      model: this.model,
      thresholds: () => this.learner.state,
    });
    this.loop = ref.loop;
  }

  static async create(options: RuntimeOptions): Promise<VigilRuntime> {
    const conn = await connectKube({ kubeconfig: options.kubeconfig, context: options.context });
    return new VigilRuntime(options, conn);
  }

  get mode(): AutomationMode {
    return this.settings.mode;
  }

  setMode(mode: AutomationMode): void {
    this.settings = { ...this.settings, mode };
  }

  async start(): Promise<void> {
    const logger = this.options.logger;
    const loaded = await loadPlaybooks(this.options.playbooksDir ?? path.join(process.cwd(), '.vigil', 'playbooks'));
    this.playbooks = loaded.playbooks;
    for (const m of loaded.messages) logger.log('error', `playbook not loaded: ${m}`);
    logger.log('info', `loaded ${this.playbooks.length} playbooks (${this.playbooks.map((p) => p.name).join(', ')})`);
    this.events.start();
    await this.lease.start();
    await this.learner.load(); // a corrupted file is reported by the learner; the defaults are used
    await this.engine.start();
    this.outcomeListener = this.engine.onChange((i) => {
      if (!isOpen(i) && isReal(i) !== undefined) void this.learnSoon().catch(() => undefined);
    });
    void this.learnSoon().catch(() => undefined);
    await this.loop.start();
    this.pollInbox();
    this.reloadLearning();
    this.scheduleRetrain();
    logger.log('info', `watching ${this.conn.server} (context ${this.conn.context}) in ${this.settings.mode} mode; metrics from ${this.options.prometheusUrl ?? 'direct scrape of annotated pods'}; state in ${this.options.stateDir}`);
  }

  /**
   * Learns thresholds from every closed incident with a human label or a verified outcome, once per new
   * outcome: suggest mode records proposals, auto applies them, off learns nothing. Re-reads the learning
   * file first, so a decision made with `vigil thresholds` meanwhile is not overwritten.
   */
  learnSoon(): Promise<ThresholdChange[]> {
    const run = this.learning.then(async () => {
      if (this.disposed) return [];
      const changes = await this.learner.learnFromOutcomes(this.engine.list(), DEFAULT_RULES, this.settings.mode);
      for (const c of changes) this.options.logger.log('info', `${c.status === 'proposed' ? 'THRESHOLD PROPOSED' : 'THRESHOLD CHANGED'} ${describeChange(c)}${c.status === 'proposed' ? ` — \`vigil thresholds accept ${c.id}\` to apply` : ` — \`vigil thresholds revert ${c.id}\` to undo`}`);
      return changes;
    });
    this.learning = run.catch((err: Error) => this.options.logger.log('warn', `threshold learning failed: ${err.message}; the current thresholds stay`));
    return run;
  }

  private reloadLearning(): void {
    if (this.disposed) return;
    this.learnTimer = this.clock.setTimeout(() => {
      this.learning = this.learning.then(() => this.learner.load()).catch(() => undefined);
      this.reloadLearning();
    }, LEARNING_RELOAD_MS);
  }

  private scheduleRetrain(): void {
    const every = this.options.retrainEveryMs ?? DEFAULT_RETRAIN_EVERY_MS;
    if (this.disposed || !this.model || every <= 0) return;
    this.retrainTimer = this.clock.setTimeout(() => {
      void this.retrainModel().finally(() => this.scheduleRetrain());
    }, every);
  }

  /**
   * Retrains each service's model on its accumulated normal windows, keeping the previous model where the
   * new one is worse on held-out recent data; every record goes to the audit log. `vigil.retrainModel` runs it.
   */
  async retrainModel(serviceKeys?: ReadonlyArray<string>): Promise<{ records: RetrainRecord[]; skipped: string[] }> {
    const evidence = this.loop.modelEvidence;
    if (!evidence) throw new Error('the multi-signal model is turned off (VIGIL_MODEL=off); nothing to retrain');
    if (evidence.failure) throw new Error(`the multi-signal model is not running: ${evidence.failure}`);
    const records: RetrainRecord[] = [];
    const skipped: string[] = [];
    for (const key of serviceKeys ?? evidence.serviceKeys()) {
      if (this.disposed) break;
      try {
        const r = await evidence.retrain(key);
        if (!r) {
          skipped.push(key);
          continue;
        }
        records.push(r);
        await this.store.appendAudit({ t: this.clock.now(), actor: this.identity, kind: 'model-retrain', object: key, summary: `model of ${key} retrained: kept the ${r.kept} model; ${r.reason}`, detail: r });
      } catch (err) {
        skipped.push(key);
        this.options.logger.log('warn', `retraining the model of ${key} failed: ${(err as Error).message}; the previous model stays`, { service: key });
      }
    }
    return { records, skipped };
  }

  /** Approvals and rejections dropped by `vigil approve` / `vigil reject`. */
  private pollInbox(): void {
    if (this.disposed) return;
    this.inboxTimer = this.clock.setTimeout(async () => {
      for (const d of await this.inbox.take((file, problem) => this.options.logger.log('warn', `ignored ${file}: ${problem}`))) {
        try {
          if (d.decision === 'approve') await this.engine.approve(d.incidentId, d.by, d.stepId);
          else await this.engine.reject(d.incidentId, d.by, d.note);
        } catch (err) {
          this.options.logger.log('warn', `${d.decision} of ${d.incidentId} by ${d.by} not applied: ${(err as Error).message}`);
        }
      }
      this.pollInbox();
    }, 1000);
  }

  private podEndpoints(): ScrapeEndpoint[] {
    return this.events.scrapeTargets().map((p) => ({
      name: `${p.namespace}/${p.pod}`,
      labels: { namespace: p.namespace, pod: p.pod, deployment: p.deployment, node: p.node },
      fetch: () => this.conn.get(`/api/v1/namespaces/${p.namespace}/pods/${p.pod}:${p.port}/proxy${p.path.startsWith('/') ? p.path : `/${p.path}`}`, { timeoutMs: 5000 }),
    }));
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.inboxTimer?.dispose();
    this.learnTimer?.dispose();
    this.retrainTimer?.dispose();
    this.outcomeListener?.dispose();
    this.loop.dispose();
    this.engine.dispose();
    this.metrics.dispose();
    this.events.dispose();
    await this.lease.dispose();
    await this.loop.persist();
    await this.learning.catch(() => undefined);
    await this.loop.modelEvidence?.flush().catch((err: Error) => this.options.logger.log('warn', `could not save the models: ${err.message}`));
    await this.model?.dispose();
  }
}

/** Template and gate context of an incident, from the live inventory and the diagnosis' details. */
export function targetContext(i: Incident, inv: WorkloadInventory): TargetContext {
  const d = i.diagnosis?.details;
  const svc = inv.services.find((s) => s.target.namespace === i.target.namespace && s.target.name === i.target.name);
  const worst = svc ? [...svc.pods].sort((a, b) => Number(a.ready) - Number(b.ready) || b.restarts - a.restarts)[0] : undefined;
  const node = d?.node ?? (i.target.kind === 'node' ? i.target.name : undefined);
  return {
    target: { namespace: i.target.namespace, name: i.target.name },
    replicas: svc?.replicas,
    revision: d?.revision ?? svc?.revision,
    previousRevision: d?.previousRevision,
    worstPod: d?.worstPod ?? worst?.name,
    node,
    flag: d?.flag,
    labels: svc?.labels,
    rolloutInProgress: svc?.rolloutInProgress,
    deploymentPods: svc ? { total: svc.replicas, unavailable: Math.max(0, svc.replicas - svc.availableReplicas) } : undefined,
    // the node being cordoned is not counted twice
    nodes: { total: inv.nodes.length, unschedulable: inv.nodes.filter((n) => n.name !== node && (n.unschedulable || !n.ready)).length },
  };
}
