/**
 * The loop's side of the CoreClient boundary: a VigilRuntime (the composition the agent uses) answering the UI's calls
 * and sending its events. It runs in the loop's process (dist/coreWorker.js), so the incident recordings, the replays
 * behind the incident room and the reliability report's reading of the store never enter the extension host.
 * No 'vscode' import.
 */
import path from 'node:path';
import type { ReplayResult } from '../core/learn/replay';
import { isOpen, type HumanLabel, type Incident } from '../core/model/incident';
import { targetKey } from '../core/model/target';
import type { Disposable, LoggerPort, NotifierPort } from '../core/ports';
import type { LoopSnapshot } from '../core/loop/detectionPipeline';
import { SPARKLINE_SIGNALS } from '../core/observe/signalWording';
import type { VigilSettings } from '../core/settings';
import type { VigilRuntime } from '../infra/runtime';
import type { ReplayMode, RoomView } from '../webview/protocol';
import type { CoreCalls, CoreEvent, CoreStart, CoreStarted, CoreState, CoreStats } from './coreClient';
import { roomView } from './roomModel';
import { serviceMapView } from './serviceMapModel';
import { openIncidentTargets, pastForViews, SeriesHistory, withoutRecording, type SnapshotTarget } from './viewModel';

/** Bands of an open incident are replayed again at most this often (a replay costs ~150 ms of CPU). */
const LIVE_REPLAY_EVERY_MS = 15_000;
/** Replays kept for the rooms open (per incident and mode). */
const REPLAYS_KEPT = 4;

/** The notifications the core sends, as events to the UI (it shows them with their buttons). */
export function notifierToEvents(emit: (e: CoreEvent) => void): NotifierPort {
  return {
    approvalNeeded: async (incident, stepId, summary) => emit({ kind: 'approvalNeeded', incident: withoutRecording(incident), stepId, summary }),
    escalate: async (context) => emit({ kind: 'escalate', context }),
    resolved: async (incident) => emit({ kind: 'resolved', incident: withoutRecording(incident) }),
  };
}

/** A snapshot target as the views need it: the sparkline signals only. */
export function targetForViews(t: SnapshotTarget): SnapshotTarget {
  const values: Partial<Record<string, number>> = {};
  const bands: Partial<Record<string, { lower: number; upper: number }>> = {};
  for (const { signal } of SPARKLINE_SIGNALS) {
    if (t.values[signal] !== undefined) values[signal] = t.values[signal];
    const b = t.bands[signal];
    if (b) bands[signal] = { lower: b.lower, upper: b.upper };
  }
  return { target: t.target, values, bands, score: t.score, isAnomaly: t.isAnomaly, reason: t.reason } as SnapshotTarget;
}

/** The services of a loop snapshot, for the views. */
export function snapshotForViews(s: LoopSnapshot): ReadonlyArray<SnapshotTarget> {
  return s.targets.filter((t) => t.target.kind === 'service').map(targetForViews);
}

export class CoreService implements CoreCalls, Disposable {
  /** The loop's own history of the services' bands: the room's live bands and the service map's health. */
  private readonly history = new SeriesHistory();
  private readonly replays = new Map<string, { at: number; updatedAt: number; state: string; result: ReplayResult }>();
  private readonly subscriptions: Disposable[];

  private constructor(
    private readonly runtime: VigilRuntime,
    emit: (e: CoreEvent) => void,
    private readonly logger: LoggerPort,
  ) {
    this.subscriptions = [
      runtime.core.remediator.onChange((i) => emit({ kind: 'incident', incident: withoutRecording(i) })),
      runtime.core.pipeline.onSnapshot((s) => {
        this.history.record(s.targets, s.t);
        emit({ kind: 'snapshot', t: s.t, targets: snapshotForViews(s), state: { mode: runtime.settings.automation.mode, paused: runtime.core.remediator.paused, sources: s.sources } });
      }),
    ];
  }

  /**
   * Builds the runtime for a connection (the composition `vigil agent` uses), checks the API server answers, starts
   * the loop. A failure (unreachable, forbidden, a bad signals file) rejects with the runtime's message.
   */
  static async start(options: CoreStart, emit: (e: CoreEvent) => void, logger: LoggerPort, env: NodeJS.ProcessEnv): Promise<{ service: CoreService; started: CoreStarted }> {
    const { VigilRuntime } = await import('../infra/runtime');
    // the model runs in a child process of this one: tfjs, its wasm and the weights stay out of the loop's heap too
    const runtime = await VigilRuntime.create({ settings: options.settings, logger, identity: options.identity, notifiers: [notifierToEvents(emit)], env, modelProcess: true });
    try {
      // a cheap authenticated call first, so unreachable / forbidden / expired show up now, with the fix
      await runtime.conn.get('/version', { timeoutMs: 5000 });
      const service = new CoreService(runtime, emit, logger);
      await runtime.start();
      const live = runtime.core.remediator.list().map(withoutRecording);
      const ids = new Set(live.map((i) => i.id));
      const past = pastForViews(await runtime.store.listIncidents()).filter((i) => !ids.has(i.id));
      return { service, started: { server: runtime.conn.server, state: service.state(), incidents: [...live, ...past] } };
    } catch (err) {
      await runtime.dispose().catch(() => undefined);
      throw err;
    }
  }

  private state(): CoreState {
    return { mode: this.runtime.settings.automation.mode, paused: this.runtime.core.remediator.paused, sources: this.runtime.core.pipeline.snapshot().sources };
  }

  async approve(incidentId: string, by: string, stepId?: string): Promise<void> {
    await this.runtime.core.remediator.approve(incidentId, by, stepId);
  }

  async reject(incidentId: string, by: string, note: string): Promise<void> {
    await this.runtime.core.remediator.reject(incidentId, by, note);
  }

  async snooze(incidentId: string, by: string, ms: number): Promise<void> {
    await this.runtime.core.remediator.snooze(incidentId, by, ms);
  }

  async label(incidentId: string, label: HumanLabel, by: string): Promise<void> {
    await this.runtime.core.remediator.label(incidentId, label, by);
  }

  async setPaused(paused: boolean, by: string): Promise<CoreState> {
    await this.runtime.core.remediator.setPaused(paused, by);
    return this.state();
  }

  async applySettings(settings: VigilSettings): Promise<CoreState> {
    this.runtime.applySettings(settings);
    return this.state();
  }

  async incident(incidentId: string): Promise<Incident | undefined> {
    const live = this.runtime.core.remediator.get(incidentId);
    if (live && isOpen(live)) return live;
    // a closed incident's recording is read back from the store, not kept in memory
    return (await this.runtime.store.loadIncident(incidentId)) ?? live;
  }

  async room(incidentId: string, mode: 'live' | ReplayMode, cluster: string): Promise<RoomView | undefined> {
    const i = await this.incident(incidentId);
    if (!i) return undefined;
    const liveBands = mode === 'live' ? this.liveBands(i) : undefined;
    const replay = liveBands ? undefined : await this.replay(i, mode === 'current' ? 'current' : 'recorded');
    const map = mode === 'live' ? this.serviceMap(i) : undefined;
    return roomView({ incident: i, cluster, mode, replay, liveBands, map });
  }

  /** The loop's bands of the incident's target, when its history reaches back to the opening (the last 15 minutes). */
  private liveBands(i: Incident): ((signal: Parameters<SeriesHistory['bands']>[1]) => ReturnType<SeriesHistory['bands']>) | undefined {
    const key = targetKey(i.target);
    const times = [...this.history.bands(key, 'error_ratio').keys()];
    if (!times.length || Math.min(...times) > i.openedAt) return undefined;
    return (signal) => this.history.bands(key, signal);
  }

  private serviceMap(focus: Incident): RoomView['map'] {
    const incidents = this.runtime.core.remediator.list();
    return serviceMapView({ inventory: this.runtime.events.inventory(), observedCalls: this.runtime.core.observedCalls(), services: this.history.services(openIncidentTargets(incidents)), incidents, focus });
  }

  /** The replay that gives the bands: the recorded configuration, or today's for the what-if; done once per mode and state. */
  private async replay(i: Incident, mode: ReplayMode): Promise<ReplayResult | undefined> {
    const cacheKey = `${i.id} ${mode}`;
    const r = this.replays.get(cacheKey);
    if (r && r.state === i.state && (r.updatedAt === i.updatedAt || !isOpen(i) || Date.now() - r.at < LIVE_REPLAY_EVERY_MS)) return r.result;
    try {
      const { replayIncident } = await import('../core/learn/replay');
      let result: ReplayResult;
      if (mode === 'current') {
        const { loadPlaybooks } = await import('../infra/playbookFiles');
        const settings = this.runtime.settings;
        const loaded = await loadPlaybooks(settings.agent.playbooksDir || path.join(process.cwd(), '.vigil', 'playbooks'));
        for (const msg of loaded.messages) this.logger.log('warn', `playbook not loaded: ${msg}`);
        result = await replayIncident(i, { playbooks: loaded.playbooks, settings });
      } else result = await replayIncident(i);
      this.replays.delete(cacheKey);
      this.replays.set(cacheKey, { at: Date.now(), updatedAt: i.updatedAt, state: i.state, result });
      for (const k of [...this.replays.keys()].slice(0, Math.max(0, this.replays.size - REPLAYS_KEPT))) this.replays.delete(k);
      return result;
    } catch (err) {
      this.logger.log('warn', `replay of ${i.id} for its bands failed: ${(err as Error).message}`);
      return r?.result;
    }
  }

  async inventory(): Promise<ReturnType<VigilRuntime['events']['inventory']>> {
    return this.runtime.events.inventory();
  }

  async readAudit(incidentId?: string): ReturnType<CoreCalls['readAudit']> {
    const entries = await this.runtime.store.readAudit();
    return incidentId === undefined ? entries : entries.filter((e) => e.incidentId === incidentId);
  }

  verifyAudit(): ReturnType<CoreCalls['verifyAudit']> {
    return this.runtime.store.verifyAudit();
  }

  retrainModel(): ReturnType<CoreCalls['retrainModel']> {
    return this.runtime.core.retrainModel();
  }

  async report(since: number, until: number): ReturnType<CoreCalls['report']> {
    const [{ reliabilityReport }, { RELEASES_STATE }, { LEARNING_STATE }] = await Promise.all([import('../core/learn/reliabilityReport'), import('../core/learn/releaseLog'), import('../core/learn/thresholdTuning')]);
    const store = this.runtime.store;
    return reliabilityReport({
      incidents: await store.listIncidents(),
      releases: await store.readState(RELEASES_STATE),
      learning: await store.readState(LEARNING_STATE),
      since,
      until,
    });
  }

  async stats(): Promise<CoreStats> {
    const m = process.memoryUsage();
    const model = this.runtime.model;
    const modelPid = model && 'pid' in model ? model.pid : undefined;
    const text = model ? (model.loaded ? `model ${await model.backend()}${modelPid ? ` in its own process (pid ${modelPid})` : ''}` : 'model not loaded') : 'model off';
    return { pid: process.pid, rssBytes: m.rss, heapUsedBytes: m.heapUsed, heapTotalBytes: m.heapTotal, model: text, ...(modelPid ? { modelPid } : {}) };
  }

  async dispose(): Promise<void> {
    for (const s of this.subscriptions.splice(0)) s.dispose();
    await this.runtime.dispose();
  }
}
