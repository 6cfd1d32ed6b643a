/**
 * What the incident room shows, built from an incident (with its recording) and, for the bands and the what-if,
 * a replay of it through the live core. Pure: no 'vscode' import, unit tested under plain mocha.
 */
import type { ReplayResult } from '../core/learn/replay';
import { evidenceSignals, focusedTimeline, incidentTimes, rankedFindings, type StoryLine } from '../core/learn/incidentStory';
import { DIAGNOSIS_TITLES } from '../core/model/diagnosis';
import { isOpen, type Incident } from '../core/model/incident';
import type { SignalName } from '../core/model/signal';
import { targetKey, targetLabel } from '../core/model/target';
import { signalWords } from '../core/observe/signalWording';
import type { ChartView, MarkerView, ReplayMode, RoomTimelineLine, RoomView, ServiceMapView } from '../webview/protocol';
import { incidentView, timeText } from './viewModel';

export interface RoomInputs {
  readonly incident: Incident;
  /** The cluster it happened on: "the sandbox cluster", "context prod-eu". */
  readonly cluster: string;
  readonly mode: 'live' | ReplayMode;
  /** The replay that gives the expected bands (and, in mode current, what today's core would do). */
  readonly replay?: ReplayResult;
  /** Without a replay: the live loop's bands of the incident's target, by snapshot time (the sidebar's history). */
  readonly liveBands?: (signal: SignalName) => ReadonlyMap<number, { readonly lower: number | null; readonly upper: number | null }>;
  /** The service map now (serviceMapModel), shown in a live room. */
  readonly map?: ServiceMapView;
}

/** Time before the first marker and after the last one that the charts show. */
const LEAD_MS = 60_000;
const TAIL_MS = 30_000;

export function roomView(input: RoomInputs): RoomView {
  const i = input.incident;
  const card = incidentView(i);
  const times = incidentTimes(i);
  const key = targetKey(i.target);
  const frames = i.recording.frames.filter((f) => targetKey(f.target) === key).sort((a, b) => a.t - b.t);
  const lastT = Math.max(frames[frames.length - 1]?.t ?? i.updatedAt, i.updatedAt, i.outcome?.t ?? 0);
  const from = Math.max(Math.min(times.onset, ...times.markers.map((m) => m.t)) - LEAD_MS, frames[0]?.t ?? -Infinity);
  const to = Math.min(Math.max(...times.markers.map((m) => m.t), i.updatedAt) + TAIL_MS, lastT);
  const replayed = new Map((input.replay?.series ?? []).map((s) => [s.t, s.bands]));
  const band = (signal: SignalName): ((t: number) => { readonly lower: number | null; readonly upper: number | null } | undefined) => {
    if (input.replay) return (t) => replayed.get(t)?.[signal];
    const live = input.liveBands?.(signal);
    return (t) => live?.get(t);
  };
  const inRange = frames.filter((f) => f.t >= from && f.t <= to);
  const signals = evidenceSignals(i);
  const charts: ChartView[] = signals
    .filter((s) => inRange.some((f) => f.values[s] !== undefined))
    .map((signal: SignalName) => {
      const at = band(signal);
      return {
        signal,
        label: signalWords(signal),
        t: inRange.map((f) => f.t),
        values: inRange.map((f) => finite(f.values[signal])),
        lower: inRange.map((f) => finite(at(f.t)?.lower ?? undefined)),
        upper: inRange.map((f) => finite(at(f.t)?.upper ?? undefined)),
      };
    });
  const markers: MarkerView[] = times.markers.map((m) => ({ t: m.t, kind: m.kind, label: m.label }));
  if (input.mode === 'current' && input.replay) {
    // what today's detectors and playbooks would do, on the same chart
    const r = input.replay.replayed;
    if (r.firstDetection !== undefined) markers.push({ t: r.firstDetection, kind: 'whatif-detection', label: 'today: detected' });
    for (const e of input.replay.events) if (e.kind === 'acted' || e.kind === 'proposed') markers.push({ t: e.t, kind: 'whatif-action', label: `today: ${e.kind}` });
  }
  const start = i.openedAt;
  const line = (l: StoryLine | { t: number; kind: string; text: string }): RoomTimelineLine => ({ t: l.t, at: relTime(l.t, start), kind: l.kind, text: l.text });
  const story = focusedTimeline(i);
  const timeline =
    input.mode === 'current' && input.replay
      ? { focused: input.replay.events.filter((e) => e.kind !== 'fact').map(line), all: input.replay.events.map(line) }
      : { focused: story.focused.map(line), all: story.all.map(line) };
  const probeLines: Array<RoomView['probes'][number]> = [];
  let lastProbe: number | undefined;
  for (const f of frames) {
    const v = f.values.probe_success;
    if (v === undefined || v === lastProbe) continue;
    lastProbe = v;
    probeLines.push({ at: relTime(f.t, start), name: 'probes', ok: v >= 1, detail: v >= 1 ? 'passing' : `failing (probe success ${Math.round(v * 100)}%)` });
  }
  return {
    incidentId: i.id,
    target: targetLabel(i.target),
    cluster: input.cluster,
    state: i.state,
    open: isOpen(i),
    diagnosis: card.diagnosis,
    confidence: card.confidence,
    summary: card.summary,
    outcome: card.outcome,
    mode: input.mode,
    from,
    to,
    charts,
    markers: markers.sort((a, b) => a.t - b.t),
    findings: rankedFindings(i).map((f) => ({ kind: f.kind, text: f.text })),
    alternatives: (i.diagnosis?.alternatives ?? []).map((a) => ({ diagnosis: DIAGNOSIS_TITLES[a.kind], confidence: Math.round(a.confidence * 100) })),
    proposal: input.mode === 'live' ? card.proposal : undefined,
    verification: card.verification,
    logs: i.recording.logs.slice(-20).map((l) => ({ at: relTime(l.t, start), source: l.pod.name, text: l.text })),
    probes: probeLines.slice(-10),
    timeline,
    comparison: input.mode === 'current' ? (input.replay?.comparison ?? []) : [],
    notes: input.replay?.notes ?? [],
    ...(input.mode === 'live' && input.map ? { map: input.map } : {}),
  };
}

function finite(v: number | undefined): number | null {
  return v !== undefined && Number.isFinite(v) ? v : null;
}

/** Time from the incident's opening: "+35s", "−16s" before it. */
function relTime(t: number, start: number): string {
  return t >= start ? timeText(t, start) : `−${Math.round((start - t) / 1000)}s`;
}
