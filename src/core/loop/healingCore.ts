import { silentNodeOf } from '../observe/nodeHeartbeats';
import { Correlator } from '../diagnose/correlation';
import { DEFAULT_RULES } from '../detect/defaultRules';
import type { Rule } from '../detect/rules';
import { SymptomSpells } from '../detect/flapping';
import { ThresholdLearner } from '../learn/learningStore';
import { stepRanker } from '../learn/remediationRanking';
import { describeChange, isReal, type ThresholdChange } from '../learn/thresholdTuning';
import { shardLeaseName } from '../model/automation';
import type { Anomaly } from '../model/anomaly';
import type { EscalationContext, Incident } from '../model/incident';
import { isOpen } from '../model/incident';
import type { Playbook } from '../model/playbook';
import type { SignalName } from '../model/signal';
import { targetKey } from '../model/target';
import type { AlertsPort, ClockPort, ClusterPort, Disposable, EventsPort, IncidentResourcesPort, InFlightStepsPort, LoggerPort, MetricsPort, ModelPort, NotifierPort, ProbeResultsPort, RetrainRecord, ServiceGraphPort, StorePort } from '../ports';
import { ExternalEvidence, type ExternalEvidenceDeps } from './externalEvidence';
import { InferredCalls } from './inferredCalls';
import type { ObservedCall } from '../model/serviceCall';
import { RemediationSilences } from './remediationSilences';
import { rateWindowMs, type VigilSettings } from '../settings';
import { LiveEvidence } from '../verify/liveEvidence';
import { backToNormal } from '../verify/verifier';
import { DetectionPipeline } from './detectionPipeline';
import { LeaseKeeper } from './leaseKeeper';
import { IncidentPublisher } from './incidentPublisher';
import type { JointEvidenceOptions } from './jointEvidence';
import type { ModelEvidenceOptions } from './modelEvidence';
import { RecoveryWindow } from './recoveryWindow';
import { IncidentRecorder } from './incidentRecorder';
import { Remediator, untouched } from './remediator';
import { targetContext } from './targetContext';
import { ReleaseRecorder } from '../learn/releaseLog';

/** The world the core talks to. Adapters in infra/ (or a bench's virtual cluster, or replay's recording) implement them. */
export interface HealingCorePorts {
  readonly clock: ClockPort;
  readonly logger: LoggerPort;
  readonly store: StorePort;
  readonly cluster: ClusterPort;
  readonly metrics: MetricsPort;
  readonly events: EventsPort;
  /** The UI, Slack, PagerDuty; the core adds a log line per escalation and approval request. */
  readonly notifiers?: ReadonlyArray<NotifierPort>;
  /** The multi-signal model; undefined when it is off. */
  readonly model?: ModelPort;
  /** The synthetic probes' runs: escalation context and `probe-passing` checks. Undefined when none run (replay answers from frames). */
  readonly probes?: ProbeResultsPort;
  /** Firing alerts (Alertmanager or Prometheus) and, with Alertmanager, silences during remediation. */
  readonly alerts?: AlertsPort;
  /** SLO definitions and where their SLIs are read. */
  readonly slos?: ExternalEvidenceDeps['slos'];
  /** Pod → workload from the informers' owner references, to attach alerts labelled by pod. */
  readonly resolvePod?: ExternalEvidenceDeps['resolvePod'];
  /** Incident resources in the cluster, written while this instance leads; undefined: none (the extension, replay). */
  readonly incidentResources?: IncidentResourcesPort;
  /** Calls seen in mesh and trace-derived metrics, joined to the declared dependency graph; undefined: declared edges only. */
  readonly serviceGraph?: ServiceGraphPort;
  /** Steps in flight kept in the cluster, so a replica taking the Lease over resumes them; undefined: the local store only. */
  readonly inFlightSteps?: InFlightStepsPort;
}

export interface HealingCoreOptions {
  /** Who acts: `vigil-agent@host-pid`, `vscode@host`. Goes into every audit entry. */
  readonly identity: string;
  /** Built-in and file playbooks, loaded by the caller. */
  readonly playbooks: () => ReadonlyArray<Playbook>;
  /** Take the cluster Lease before acting (default true; a bench with one instance may skip it). */
  readonly lease?: boolean;
  /** Save detector state every this many frames per target. */
  readonly persistEvery?: number;
  readonly modelOptions?: ModelEvidenceOptions;
  /**
   * The joint (relationship) model of each service; on by default whenever the multi-signal model is (a model port is
   * given), so replay, which runs without the model, runs without it too. false: off; options: on, with them.
   */
  readonly relationships?: JointEvidenceOptions | false;
  /** A correlator with other tunables (benches sweep them). */
  readonly correlator?: Correlator;
  readonly rules?: ReadonlyArray<Rule>;
  /** False: the learned state is read once and never tuned (replay decides with the thresholds it recorded). */
  readonly learn?: boolean;
  /**
   * While true, the remediator decides nothing (see RemediatorDeps.holdDecisions). Replay holds its lead-in: what
   * the live remediator decided before the replayed incident opened is already in the state replay seeds.
   */
  readonly holdDecisions?: () => boolean;
}

export interface HealingCore {
  readonly remediator: Remediator;
  readonly pipeline: DetectionPipeline;
  readonly evidence: LiveEvidence;
  readonly recovery: RecoveryWindow;
  readonly learner: ThresholdLearner;
  readonly recorder: IncidentRecorder;
  readonly lease: LeaseKeeper | undefined;
  /** Alerts and SLOs; undefined when neither is configured. */
  readonly external: ExternalEvidence | undefined;
  /** Alertmanager silences held during remediation; undefined without Alertmanager or with silences off. */
  readonly silences: RemediationSilences | undefined;
  /** Calls seen in telemetry and remembered (the service map draws them); empty without a service-graph source. */
  observedCalls(): ReadonlyArray<ObservedCall>;
  readonly settings: VigilSettings;
  /** Takes effect at the next decision: mode, safety gates, namespace modes. */
  applySettings(settings: VigilSettings): void;
  start(): Promise<void>;
  /** Learns thresholds from closed incidents with a label or a verified outcome; see ThresholdLearner. */
  learnSoon(): Promise<ThresholdChange[]>;
  retrainModel(serviceKeys?: ReadonlyArray<string>): Promise<{ records: RetrainRecord[]; skipped: string[] }>;
  dispose(): Promise<void>;
}

/**
 * The healing loop, composed once: the detection pipeline, the remediator, the verification evidence they share,
 * what happens after a fix, and the learner. The extension, the agent, replay and every bench build it here.
 */
export function createHealingCore(ports: HealingCorePorts, initial: VigilSettings, options: HealingCoreOptions): HealingCore {
  let settings = initial;
  const { clock, logger, store } = ports;
  const windowMs = rateWindowMs(settings);
  const recovery = new RecoveryWindow(windowMs);
  const flaps = new SymptomSpells();
  const correlator = options.correlator ?? new Correlator();
  const learner = new ThresholdLearner(store, clock, logger.child('learn'));
  const recorder = new IncidentRecorder({
    clock,
    correlator,
    recovery,
    learning: () => learner.state,
    settings: () => settings,
    playbooks: options.playbooks,
    identity: options.identity,
    notCaptured: () => [...(ports.model ? ["the multi-signal model's scores (replay runs without the model)"] : []), ...(ports.alerts || ports.slos ? ['firing alerts and burning SLOs (replay reads neither Alertmanager nor the SLOs)'] : [])],
  });
  // every cluster call of a step, and each rollout status read, is recorded on its incident
  const cluster = recorder.recordingCluster(ports.cluster);
  // and every read of the inventory by a decision or a verification
  const events = recorder.recordingEvents(ports.events);
  // the kubelets' Leases are read live, not through the recording wrapper (replay records none): in replay a cordon waits
  // for NotReady, and no step is held for a silent node
  const heartbeats = () => ports.events.nodeHeartbeats?.() ?? [];
  const evidence = new LiveEvidence({ clock, logger: logger.child('verify'), cluster, events, rateWindowMs: windowMs, probes: ports.probes, heartbeats });
  const notifier = new FanOutNotifier([new LogNotifier(logger.child('engine')), ...(ports.notifiers ?? [])], logger);
  const lease = options.lease === false ? undefined : new LeaseKeeper(ports.cluster, clock, logger.child('lease'), shardLeaseName(settings.safety.leaseName, settings.kubernetes.namespaces), settings.agent.leaseNamespace, options.identity);
  const rules = options.rules ?? DEFAULT_RULES;
  const remediator: Remediator = new Remediator({
    clock,
    logger: logger.child('engine'),
    store,
    cluster,
    notifier,
    evidence,
    recovery,
    playbooks: options.playbooks,
    settings: () => ({ mode: settings.automation.mode, safety: settings.safety, namespaceModes: settings.automation.namespaceModes, shardNamespaces: settings.kubernetes.namespaces }),
    targetContext: (i) => targetContext(i, events.inventory()),
    // steps ranked by what worked before this incident opened, so the order cannot shift under a running incident
    rankSteps: (playbook, incident) => stepRanker(() => remediator.list().filter((x) => !isOpen(x) && x.updatedAt < incident.openedAt))(playbook, incident),
    lease: () => (lease ? lease.state : { holder: options.identity, held: true }),
    identity: options.identity,
    recentLogs: (t) => ports.events.recentLogs(t, 20),
    recentProbes: (t) => ports.probes?.recent(t, 10) ?? [],
    recorder,
    holdDecisions: options.holdDecisions,
    inFlight: ports.inFlightSteps,
    nodeNamespace: settings.agent.leaseNamespace,
    // the next interval normally releases it; the bound is for frames that stop coming
    oneScrapeHoldMs: 2 * settings.prometheus.scrapeIntervalSeconds * 1000,
    flaps,
    silentNode: (t, now) => silentNodeOf(t, () => events.inventory(), heartbeats(), now),
  });
  // every release seen is recorded (the reliability report's change failure rate); replay records none
  const releases = options.learn === false ? undefined : new ReleaseRecorder(store, logger.child('releases'));
  const external =
    ports.alerts || ports.slos
      ? new ExternalEvidence({ clock, logger: logger.child('alerts'), intervalMs: settings.prometheus.scrapeIntervalSeconds * 1000, inventory: () => ports.events.inventory(), resolvePod: ports.resolvePod, alerts: ports.alerts, slos: ports.slos })
      : undefined;
  const silences = ports.alerts?.silences && settings.alertmanager.silenceDuringRemediation ? new RemediationSilences({ clock, logger: logger.child('alerts'), silences: ports.alerts.silences, playbooks: options.playbooks }) : undefined;
  const pipeline = new DetectionPipeline({
    clock,
    logger: logger.child('loop'),
    store,
    metrics: ports.metrics,
    events: releases ? releases.tap(ports.events) : ports.events,
    cluster,
    remediator,
    evidence,
    recovery,
    rules,
    correlator,
    recorder,
    persistEvery: options.persistEvery,
    model: ports.model,
    modelOptions: options.modelOptions,
    relationships: options.relationships ?? (ports.model ? {} : false),
    thresholds: () => learner.state,
    external,
    flaps,
  });
  const inferredCalls = ports.serviceGraph
    ? new InferredCalls({ clock, logger: logger.child('graph'), source: ports.serviceGraph, inventory: () => ports.events.inventory(), apply: (calls) => correlator.graph.setObservedCalls(calls) })
    : undefined;
  const quiet = new SymptomsBackInBand(evidence, Math.max(2 * windowMs, 60_000));

  const timers: Disposable[] = [];
  let learning: Promise<unknown> = Promise.resolve();
  let disposed = false;

  const learnSoon = (): Promise<ThresholdChange[]> => {
    const run = learning.then(async () => {
      if (disposed || options.learn === false) return [];
      const changes = await learner.learnFromOutcomes(remediator.list(), rules, settings.automation.mode);
      for (const c of changes) logger.log('info', `${c.status === 'proposed' ? 'THRESHOLD PROPOSED' : 'THRESHOLD CHANGED'} ${describeChange(c)}${c.status === 'proposed' ? ` — \`vigil thresholds accept ${c.id}\` to apply` : ` — \`vigil thresholds revert ${c.id}\` to undo`}`);
      return changes;
    });
    learning = run.catch((err: Error) => logger.log('warn', `threshold learning failed: ${err.message}; the current thresholds stay`));
    return run;
  };

  const every = (ms: number, fn: () => Promise<unknown> | void): void => {
    if (disposed || ms <= 0) return;
    const t = clock.setTimeout(() => {
      const i = timers.indexOf(t);
      if (i >= 0) timers.splice(i, 1);
      void Promise.resolve(fn()).finally(() => every(ms, fn));
    }, ms);
    timers.push(t);
  };

  const retrainModel = async (serviceKeys?: ReadonlyArray<string>): Promise<{ records: RetrainRecord[]; skipped: string[] }> => {
    const model = pipeline.modelEvidence;
    if (!model) throw new Error('the multi-signal model is turned off (model.enabled: false); nothing to retrain');
    if (model.failure) throw new Error(`the multi-signal model is not running: ${model.failure}`);
    const records: RetrainRecord[] = [];
    const skipped: string[] = [];
    for (const key of serviceKeys ?? model.serviceKeys()) {
      if (disposed) break;
      try {
        const r = await model.retrain(key);
        if (!r) {
          skipped.push(key);
          continue;
        }
        records.push(r);
        await store.appendAudit({ t: clock.now(), actor: options.identity, kind: 'model-retrain', object: key, summary: `model of ${key} retrained: kept the ${r.kept} model; ${r.reason}`, detail: r });
      } catch (err) {
        skipped.push(key);
        logger.log('warn', `retraining the model of ${key} failed: ${(err as Error).message}; the previous model stays`, { service: key });
      }
    }
    return { records, skipped };
  };

  const subscriptions: Disposable[] = [];
  return {
    remediator,
    pipeline,
    evidence,
    recovery,
    learner,
    recorder,
    lease,
    external,
    silences,
    observedCalls: () => inferredCalls?.calls() ?? [],
    get settings() {
      return settings;
    },
    applySettings(next: VigilSettings) {
      settings = next;
    },
    async start() {
      await lease?.start();
      await learner.load(); // a corrupted file is reported by the learner; the defaults are used
      await remediator.start();
      const publisher = ports.incidentResources && new IncidentPublisher(ports.incidentResources, () => (lease ? lease.state : { holder: options.identity, held: true }), settings.agent.leaseNamespace, logger.child('incidents'), clock);
      if (publisher) {
        subscriptions.push(publisher, remediator.onChange((i) => publisher.publish(i)), pipeline.onInterval(() => publisher.checkLeadership(() => remediator.list())));
        publisher.checkLeadership(() => remediator.list());
      }
      subscriptions.push(
        remediator.onChange((i) => {
          if (!isOpen(i) && isReal(i) !== undefined) void learnSoon().catch(() => undefined);
          void silences?.onIncident(i);
        }),
        // a replica that took the Lease over resumes what the old leader had in flight
        pipeline.onInterval(() => {
          void remediator.resumeInFlight();
        }),
        // a first step held on one scrape's signals goes once the next interval is scored
        pipeline.onInterval((t) => remediator.intervalObserved(t)),
        // an incident nobody acted on whose symptoms stay back in band resolves itself
        pipeline.onInterval((t) => {
          for (const id of quiet.resolvedNow(remediator.list(), t)) {
            void remediator.resolveWithoutAction(id.id, id.why).catch((err: Error) => logger.log('warn', `could not close ${id.id}: ${err.message}`));
          }
        }),
      );
      void learnSoon().catch(() => undefined);
      await pipeline.start();
      external?.start();
      inferredCalls?.start();
      if (ports.model) every(settings.model.retrainEveryHours * 3_600_000, () => retrainModel().then(() => undefined));
    },
    learnSoon,
    retrainModel,
    async dispose() {
      disposed = true;
      for (const t of timers.splice(0)) t.dispose();
      for (const s of subscriptions.splice(0)) s.dispose();
      pipeline.dispose();
      external?.dispose();
      inferredCalls?.dispose();
      silences?.dispose();
      remediator.dispose();
      await lease?.dispose();
      await pipeline.persist();
      await learning.catch(() => undefined);
      await releases?.flush();
      await pipeline.modelEvidence?.flush().catch((err: Error) => logger.log('warn', `could not save the models: ${err.message}`));
    },
  };
}

/**
 * Which untouched incidents (no step run: awaiting approval, held by a gate, snoozed) have had every symptom
 * signal of their target back in band for `holdMs`. Symptoms are the signals the detections and the diagnosis
 * named; an incident resting only on cluster facts (a node down) has none and is left to a human.
 */
class SymptomsBackInBand {
  private readonly since = new Map<string, number>();

  constructor(
    private readonly evidence: LiveEvidence,
    private readonly holdMs: number,
  ) {}

  resolvedNow(incidents: ReadonlyArray<Incident>, now: number): Array<{ id: string; why: string }> {
    const out: Array<{ id: string; why: string }> = [];
    const live = new Set<string>();
    for (const i of incidents) {
      if (!isOpen(i) || !untouched(i)) continue;
      live.add(i.id);
      const signals = symptomSignals(i);
      const inBand = signals.length > 0 && signals.every((s) => {
        const v = this.evidence.latest(i.target, s);
        const band = this.evidence.band(i.target, s);
        return v !== undefined && band !== undefined && now - v.t <= this.holdMs && backToNormal(s, v.v, band);
      });
      if (!inBand) {
        this.since.delete(i.id);
        continue;
      }
      const from = this.since.get(i.id) ?? now;
      this.since.set(i.id, from);
      if (now - from >= this.holdMs) out.push({ id: i.id, why: `${signals.join(', ')} of ${targetKey(i.target)} back in band for ${Math.round((now - from) / 1000)} s before any step ran` });
    }
    for (const id of [...this.since.keys()]) if (!live.has(id)) this.since.delete(id);
    return out;
  }
}

function symptomSignals(i: Incident): SignalName[] {
  const own = targetKey(i.target);
  const out = new Set<SignalName>();
  const anomalies: Anomaly[] = [];
  for (const e of i.timeline) if (e.kind === 'detected') anomalies.push(e.anomaly);
  for (const ev of i.diagnosis?.evidence ?? []) {
    if (ev.kind === 'anomaly') anomalies.push(ev.anomaly);
    if (ev.kind === 'signal-trend') out.add(ev.signal);
  }
  for (const a of anomalies) if (targetKey(a.target) === own) for (const c of a.contributions) if (c.share >= 0.15) out.add(c.signal);
  return [...out];
}

/** A log line per escalation, approval request and recovery, so the agent's stdout tells the story. */
class LogNotifier implements NotifierPort {
  constructor(private readonly logger: LoggerPort) {}
  async escalate(c: EscalationContext): Promise<void> {
    this.logger.log('warn', `ESCALATION ${c.incidentId}: ${c.reason}`, { incident: c.incidentId, target: targetKey(c.target) });
  }
  async approvalNeeded(i: Incident, stepId: string, summary: string): Promise<void> {
    this.logger.log('info', `APPROVAL NEEDED ${i.id}: ${summary} — run \`vigil approve ${i.id}\``, { incident: i.id, step: stepId });
  }
  async resolved(i: Incident): Promise<void> {
    this.logger.log('info', `RECOVERED ${i.id} (${targetKey(i.target)}) by step ${i.outcome?.recoveredBy ?? '?'}`, { incident: i.id });
  }
}

/** Every notifier hears every message; one that fails is logged and does not stop the others. */
class FanOutNotifier implements NotifierPort {
  constructor(
    private readonly notifiers: ReadonlyArray<NotifierPort>,
    private readonly logger: LoggerPort,
  ) {}
  private async each(fn: (n: NotifierPort) => Promise<void>): Promise<void> {
    await Promise.all(this.notifiers.map((n) => fn(n).catch((err: Error) => this.logger.log('warn', `notifier failed: ${err.message}`))));
  }
  escalate(c: EscalationContext): Promise<void> {
    return this.each((n) => n.escalate(c));
  }
  approvalNeeded(i: Incident, stepId: string, summary: string): Promise<void> {
    return this.each((n) => n.approvalNeeded(i, stepId, summary));
  }
  resolved(i: Incident): Promise<void> {
    return this.each((n) => n.resolved(i));
  }
}
