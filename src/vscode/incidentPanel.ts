import * as vscode from 'vscode';
import type { ReplayResult } from '../core/learn/replay';
import { isOpen, type Incident } from '../core/model/incident';
import type { SignalName } from '../core/model/signal';
import type { LoggerPort } from '../core/ports';
import type { ReplayMode, ServiceMapView, WebviewToHost } from '../webview/protocol';
import { webviewHtml } from './copilotView';
import { roomView } from './roomModel';
import { currentVigilSettings } from './settingsReader';

export interface RoomActions {
  /** The incident with its recording (live from the engine while open, else from the store). */
  incident(id: string): Promise<Incident | undefined>;
  /** "the sandbox cluster", "context prod-eu". */
  cluster(): string;
  approve(incidentId: string, stepId?: string): Promise<void>;
  reject(incidentId: string): Promise<void>;
  snooze(incidentId: string, minutes: number): Promise<void>;
  playbooksDir(): string | undefined;
  /** The live loop's bands of the incident's target by snapshot time, when this window saw its opening; else undefined. */
  liveBands(incident: Incident): ((signal: SignalName) => ReadonlyMap<number, { readonly lower: number | null; readonly upper: number | null }>) | undefined;
  /** The service map now, with this incident marked; undefined when not connected. */
  serviceMap(incident: Incident): ServiceMapView | undefined;
}

/** Bands of an open incident are replayed again at most this often (a replay costs ~150 ms of the host's CPU). */
const LIVE_REPLAY_EVERY_MS = 15_000;

/**
 * The incident room: one editor panel per incident, live (header, charts, evidence, the proposed step with Approve,
 * logs, the focused timeline) or as a replay (the same view with a time scrubber and the what-if of today's
 * detectors and playbooks). The expected bands are the live loop's while this window saw the incident; otherwise
 * (and for a replay) they come from replaying the recording through the live core, which costs the host a whole
 * core for a moment: it is done once per mode and state, not on every change of a live incident.
 */
export class IncidentPanel {
  private static readonly open = new Map<string, IncidentPanel>();
  private ready = false;
  private replayed: { at: number; mode: ReplayMode; updatedAt: number; state: string; result: ReplayResult } | undefined;
  private pending: ReturnType<typeof setTimeout> | undefined;

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly incidentId: string,
    private mode: 'live' | ReplayMode,
    private readonly actions: RoomActions,
    private readonly logger: LoggerPort,
    private readonly extensionUri: vscode.Uri,
  ) {
    panel.webview.onDidReceiveMessage((m: WebviewToHost) => void this.receive(m));
    panel.onDidDispose(() => {
      if (this.pending) clearTimeout(this.pending);
      IncidentPanel.open.delete(incidentId);
    });
  }

  /** Opens (or reveals) the room of an incident; `mode` live for the incident as it is, recorded/current for a replay. */
  static show(extensionUri: vscode.Uri, incidentId: string, mode: 'live' | ReplayMode, actions: RoomActions, logger: LoggerPort): void {
    const existing = IncidentPanel.open.get(incidentId);
    if (existing) {
      existing.mode = mode;
      existing.panel.reveal();
      void existing.render();
      return;
    }
    const title = `${mode === 'live' ? 'Incident' : 'Replay'} ${incidentId}`;
    const panel = vscode.window.createWebviewPanel('vigil.incident', title, vscode.ViewColumn.Active, {
      enableScripts: true,
      retainContextWhenHidden: false,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media')],
    });
    panel.webview.html = webviewHtml(panel.webview, extensionUri, 'room', title);
    IncidentPanel.open.set(incidentId, new IncidentPanel(panel, incidentId, mode, actions, logger, extensionUri));
  }

  /** The engine changed an incident: its open room shows it (coalesced). */
  static changed(incidentId: string): void {
    IncidentPanel.open.get(incidentId)?.refresh();
  }

  private refresh(): void {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      void this.render();
    }, 500);
  }

  private async receive(m: WebviewToHost): Promise<void> {
    try {
      switch (m.type) {
        case 'ready':
          this.ready = true;
          await this.render();
          return;
        case 'replayMode':
          this.mode = m.mode;
          this.panel.title = `Replay ${this.incidentId}`;
          await this.render();
          return;
        case 'approve':
          await this.actions.approve(m.incidentId, m.stepId);
          return;
        case 'reject':
          await this.actions.reject(m.incidentId);
          return;
        case 'snooze':
          await this.actions.snooze(m.incidentId, m.minutes);
          return;
        case 'openIncident':
          // from the service map: another incident's room
          IncidentPanel.show(this.extensionUri, m.incidentId, 'live', this.actions, this.logger);
          return;
        case 'cspViolation':
          this.logger.log('error', `content security policy violation in the incident room: ${m.directive} blocked ${m.blocked || 'inline'}${m.sample ? ` (${m.sample.slice(0, 80)})` : ''}`);
          return;
        default:
          return;
      }
    } catch (err) {
      const message = (err as Error).message;
      this.logger.log('error', `${m.type} failed: ${message}`);
      void vscode.window.showErrorMessage(`Vigil: ${m.type} failed: ${message}`);
    }
  }

  /** The replay that gives the bands: the recorded configuration, or today's for the what-if. */
  private async replay(i: Incident, mode: ReplayMode): Promise<ReplayResult | undefined> {
    const r = this.replayed;
    const fresh = r && r.mode === mode && r.state === i.state && (r.updatedAt === i.updatedAt || !isOpen(i) || Date.now() - r.at < LIVE_REPLAY_EVERY_MS);
    if (fresh) return r.result;
    try {
      const { replayIncident } = await import('../core/learn/replay');
      let result: ReplayResult;
      if (mode === 'current') {
        const { loadPlaybooks } = await import('../infra/playbookFiles');
        const loaded = await loadPlaybooks(this.actions.playbooksDir());
        for (const msg of loaded.messages) this.logger.log('warn', `playbook not loaded: ${msg}`);
        result = await replayIncident(i, { playbooks: loaded.playbooks, settings: currentVigilSettings().settings });
      } else result = await replayIncident(i);
      this.replayed = { at: Date.now(), mode, updatedAt: i.updatedAt, state: i.state, result };
      return result;
    } catch (err) {
      this.logger.log('warn', `replay of ${i.id} for its bands failed: ${(err as Error).message}`);
      return r?.result;
    }
  }

  private async render(): Promise<void> {
    if (!this.ready) return;
    try {
      const i = await this.actions.incident(this.incidentId);
      if (!i) {
        void this.panel.webview.postMessage({ type: 'error', message: `Incident ${this.incidentId} is no longer known.` });
        return;
      }
      const liveBands = this.mode === 'live' ? this.actions.liveBands(i) : undefined;
      const replay = liveBands ? undefined : await this.replay(i, this.mode === 'current' ? 'current' : 'recorded');
      const map = this.mode === 'live' ? this.actions.serviceMap(i) : undefined;
      void this.panel.webview.postMessage({ type: 'room', room: roomView({ incident: i, cluster: this.actions.cluster(), mode: this.mode, replay, liveBands, map }) });
    } catch (err) {
      this.logger.log('error', `incident room of ${this.incidentId} failed: ${(err as Error).message}`);
      void this.panel.webview.postMessage({ type: 'error', message: `The incident room failed: ${(err as Error).message}` });
    }
  }
}
