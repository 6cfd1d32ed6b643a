/** Messages between the extension host and the Vigil webviews. Shared by src/vscode and src/webview. */

export type ConnectionState = 'disconnected' | 'connecting' | 'connected' | 'error';

export interface ConnectionView {
  readonly state: ConnectionState;
  readonly message: string;
  /** What to do next, when something is wrong. */
  readonly fix?: string;
}

/** One signal's recent values with the expected band, for a sparkline. Nulls are gaps. */
export interface SeriesView {
  readonly signal: string;
  readonly label: string;
  readonly values: ReadonlyArray<number | null>;
  readonly lower: ReadonlyArray<number | null>;
  readonly upper: ReadonlyArray<number | null>;
  readonly latest: string;
  readonly outside: boolean;
}

export type Health = 'healthy' | 'degraded' | 'incident' | 'unknown';

export interface ServiceView {
  readonly key: string;
  readonly name: string;
  readonly health: Health;
  readonly reason: string;
  readonly series: ReadonlyArray<SeriesView>;
}

export interface GateView {
  readonly gate: string;
  readonly allowed: boolean;
  readonly reason: string;
}

export interface DiffView {
  readonly path: string;
  readonly before: string;
  readonly after: string;
}

export interface ProposalView {
  readonly stepId: string;
  readonly action: string;
  readonly gates: ReadonlyArray<GateView>;
  readonly dryRun?: string;
  readonly diff: ReadonlyArray<DiffView>;
  /** True while the step waits for a human. */
  readonly awaitingApproval: boolean;
}

export interface TimelineView {
  readonly at: string;
  readonly kind: string;
  readonly text: string;
}

export interface IncidentView {
  readonly id: string;
  /** The kubeconfig context of an in-cluster agent's incident (the console of several clusters names it on the card). */
  readonly cluster?: string;
  readonly target: string;
  readonly state: string;
  readonly open: boolean;
  readonly diagnosis?: string;
  readonly confidence?: number;
  readonly summary?: string;
  readonly evidence: ReadonlyArray<{ readonly kind: string; readonly text: string }>;
  readonly proposal?: ProposalView;
  readonly verification?: { readonly status: string; readonly summary: string; readonly checks: ReadonlyArray<{ readonly status: string; readonly detail: string }> };
  readonly outcome?: string;
  readonly timeline: ReadonlyArray<TimelineView>;
}

export interface CopilotModel {
  readonly connection: ConnectionView;
  readonly mode: string;
  readonly paused: boolean;
  readonly services: ReadonlyArray<ServiceView>;
  readonly incidents: ReadonlyArray<IncidentView>;
  /** `details`: per-part lines, e.g. per signal which metric the Prometheus has and, when none, the signals-file fix. */
  readonly sources: ReadonlyArray<{ readonly source: string; readonly state: string; readonly message: string; readonly details?: ReadonlyArray<string> }>;
}

export type ReplayMode = 'recorded' | 'current';

/** One signal over the incident's time range, with its expected band (nulls are gaps). Times are epoch ms. */
export interface ChartView {
  readonly signal: string;
  readonly label: string;
  readonly t: ReadonlyArray<number>;
  readonly values: ReadonlyArray<number | null>;
  readonly lower: ReadonlyArray<number | null>;
  readonly upper: ReadonlyArray<number | null>;
}

export interface MarkerView {
  readonly t: number;
  /** change, coincident-change, onset, detection, action, verification, recovery, escalation; what-if markers start with "whatif-". */
  readonly kind: string;
  readonly label: string;
}

export interface RoomTimelineLine {
  readonly t: number;
  readonly at: string;
  readonly kind: string;
  readonly text: string;
}

/** One service on the service map; x, y are its box's top-left corner in the map's own units. */
export interface MapNodeView {
  readonly key: string;
  readonly label: string;
  readonly health: Health;
  readonly reason: string;
  readonly x: number;
  readonly y: number;
  /** The room's incident here: where it shows (target), the blamed cause, or a service it affects. */
  readonly focus?: 'target' | 'cause' | 'affected';
  /** Open incidents on this service (their target or their blamed cause). */
  readonly incidents: ReadonlyArray<{ readonly id: string; readonly title: string; readonly cause: boolean }>;
  /** Its key signals now, for the details shown on click. */
  readonly signals: ReadonlyArray<{ readonly label: string; readonly latest: string; readonly outside: boolean }>;
}

/** caller → callee; `declared` from the vigil.dev/depends-on annotation, `inferred` when only telemetry shows it. */
export interface MapEdgeView {
  readonly from: string;
  readonly to: string;
  readonly source: 'declared' | 'inferred';
  /** Where the edge was seen: `annotation`, `istio`, `linkerd`, `tracing`. */
  readonly via: ReadonlyArray<string>;
  /** Both ends are part of one open incident (its target, cause or affected services). */
  readonly incident: boolean;
}

/** The dependency graph with each service's health, laid out in columns from callers (left) to callees (right). */
export interface ServiceMapView {
  readonly nodes: ReadonlyArray<MapNodeView>;
  readonly edges: ReadonlyArray<MapEdgeView>;
  readonly width: number;
  readonly height: number;
  readonly nodeWidth: number;
  readonly nodeHeight: number;
  /** What the map cannot show (e.g. a cause that is a node, not a service). */
  readonly notes: ReadonlyArray<string>;
}

/** The incident room: one incident in the editor area, live or replayed. */
export interface RoomView {
  readonly incidentId: string;
  readonly target: string;
  readonly cluster: string;
  readonly state: string;
  readonly open: boolean;
  readonly diagnosis?: string;
  readonly confidence?: number;
  readonly summary?: string;
  readonly outcome?: string;
  /** live: the incident as it happens; recorded / current: a replay, as recorded or with today's detectors and playbooks. */
  readonly mode: 'live' | ReplayMode;
  readonly from: number;
  readonly to: number;
  readonly charts: ReadonlyArray<ChartView>;
  readonly markers: ReadonlyArray<MarkerView>;
  readonly findings: ReadonlyArray<{ readonly kind: string; readonly text: string }>;
  readonly alternatives: ReadonlyArray<{ readonly diagnosis: string; readonly confidence: number }>;
  readonly proposal?: ProposalView;
  readonly verification?: IncidentView['verification'];
  readonly logs: ReadonlyArray<{ readonly at: string; readonly source: string; readonly text: string }>;
  readonly probes: ReadonlyArray<{ readonly at: string; readonly name: string; readonly ok: boolean; readonly detail: string }>;
  readonly timeline: { readonly focused: ReadonlyArray<RoomTimelineLine>; readonly all: ReadonlyArray<RoomTimelineLine> };
  readonly comparison: ReadonlyArray<string>;
  readonly notes: ReadonlyArray<string>;
  /** The service map as it is now (live rooms, while connected). */
  readonly map?: ServiceMapView;
}

export type HostToWebview =
  | { readonly type: 'model'; readonly model: CopilotModel }
  | { readonly type: 'room'; readonly room: RoomView }
  | { readonly type: 'error'; readonly message: string };

export type WebviewToHost =
  | { readonly type: 'ready' }
  | { readonly type: 'command'; readonly command: string }
  /** `stepId`: the step the human saw proposed; the host refuses if the proposal changed meanwhile. */
  | { readonly type: 'approve'; readonly incidentId: string; readonly stepId?: string }
  | { readonly type: 'reject'; readonly incidentId: string }
  | { readonly type: 'snooze'; readonly incidentId: string; readonly minutes: number }
  | { readonly type: 'replayMode'; readonly incidentId: string; readonly mode: ReplayMode }
  /** Open an incident in the room (from the sidebar card). */
  | { readonly type: 'openIncident'; readonly incidentId: string }
  /** A Content-Security-Policy violation the webview saw: reported to the extension's log. */
  | { readonly type: 'cspViolation'; readonly directive: string; readonly blocked: string; readonly sample: string };

/** Commands the webview may ask the host to run (anything else is ignored). */
export const WEBVIEW_COMMANDS = ['vigil.startSandbox', 'vigil.connectCluster', 'vigil.runChaosExperiment', 'vigil.replayIncident', 'vigil.pauseAutomation', 'vigil.resumeAutomation', 'vigil.showReliabilityReport'] as const;
