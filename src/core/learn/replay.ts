import { Correlator } from '../diagnose/correlation';
import type { CorrelationUpdate } from '../diagnose/incidentGrouping';
import { DEFAULT_RULES } from '../detect/defaultRules';
import { RuleEngine, type Rule } from '../detect/rules';
import { StreamingDetector, stepFrame, toAnomaly } from '../detect/streamingDetector';
import { matchPlaybook } from '../decide/playbookMatcher';
import { resolveStep, type TemplateContext } from '../decide/playbookTemplates';
import { describeAction } from '../model/action';
import { DIAGNOSIS_TITLES, type DiagnosisKind } from '../model/diagnosis';
import type { ClusterFact } from '../model/fact';
import type { Incident } from '../model/incident';
import type { Playbook } from '../model/playbook';
import type { BadDirection, SampleFrame } from '../model/signal';
import { targetKey, targetLabel } from '../model/target';
import { SIGNAL_DEFINITIONS } from '../observe/signalCatalogue';
import { badDirectionOnly } from '../loop/detectionPipeline';

/** One line of a replayed timeline. */
export interface ReplayEvent {
  readonly t: number;
  readonly kind: 'fact' | 'detected' | 'diagnosed' | 'decided';
  readonly text: string;
}

export interface ReplayOutcome {
  readonly firstDetection?: number;
  readonly diagnosis?: DiagnosisKind;
  readonly firstAction?: string;
}

export interface ReplayResult {
  readonly incidentId: string;
  readonly events: ReadonlyArray<ReplayEvent>;
  readonly replayed: ReplayOutcome;
  readonly recorded: ReplayOutcome;
  /** Plain sentences: "detected 10 s earlier", "same diagnosis", "different first action: …". */
  readonly comparison: ReadonlyArray<string>;
}

export interface ReplayConfig {
  readonly playbooks: ReadonlyArray<Playbook>;
  readonly rules?: ReadonlyArray<Rule>;
}

const DIRECTIONS: Readonly<Record<string, BadDirection>> = Object.fromEntries(SIGNAL_DEFINITIONS.map((d) => [d.name, d.bad]));

/**
 * Re-runs an incident's recorded frames and facts, in time order, through fresh detectors, the
 * correlator and the playbooks, and compares with what happened then. Pure and deterministic: no
 * clock but the recorded timestamps, no cluster (the decision is resolved, never executed).
 */
export function replayIncident(incident: Incident, config: ReplayConfig): ReplayResult {
  const correlator = new Correlator();
  const detectors = new Map<string, { d: StreamingDetector; r: RuleEngine }>();
  const events: ReplayEvent[] = [];
  const replayed: { firstDetection?: number; diagnosis?: DiagnosisKind; firstAction?: string } = {};
  type Input = { t: number; order: number; frame?: SampleFrame; fact?: ClusterFact };
  const inputs: Input[] = [
    ...incident.recording.frames.map((frame, i) => ({ t: frame.t, order: i * 2 + 1, frame })),
    ...incident.recording.facts.map((fact, i) => ({ t: fact.t, order: i * 2, fact })),
  ];
  // facts before frames of the same instant, as the live loop sees events as they happen
  inputs.sort((a, b) => a.t - b.t || (a.fact ? 0 : 1) - (b.fact ? 0 : 1) || a.order - b.order);

  const onUpdates = (updates: ReadonlyArray<CorrelationUpdate>) => {
    for (const u of updates) {
      if (replayed.diagnosis !== u.diagnosis.kind) {
        replayed.firstDetection ??= u.diagnosis.t;
        events.push({ t: u.diagnosis.t, kind: 'diagnosed', text: `${DIAGNOSIS_TITLES[u.diagnosis.kind]} on ${targetLabel(u.diagnosis.target)} (${Math.round(u.diagnosis.confidence * 100)}%): ${u.diagnosis.summary}` });
        replayed.diagnosis = u.diagnosis.kind;
        const playbook = matchPlaybook(config.playbooks, u.diagnosis);
        const step = playbook?.steps[0];
        if (!playbook || !step) {
          events.push({ t: u.diagnosis.t, kind: 'decided', text: `no playbook for ${DIAGNOSIS_TITLES[u.diagnosis.kind]}: escalate to a human` });
          replayed.firstAction ??= 'escalate';
          continue;
        }
        const d = u.diagnosis.details;
        const ctx: TemplateContext = { target: { namespace: u.diagnosis.target.namespace, name: u.diagnosis.target.name }, revision: d?.revision, previousRevision: d?.previousRevision, worstPod: d?.worstPod, node: d?.node ?? (u.diagnosis.target.kind === 'node' ? u.diagnosis.target.name : undefined), flag: d?.flag, replicas: undefined };
        let text: string;
        try {
          text = describeAction(resolveStep(step, ctx));
        } catch {
          // values read from the live inventory at run time (the worst pod, replicas) are not in a recording
          text = `${step.action} ${targetLabel(u.diagnosis.target)} (details chosen from the live cluster at run time)`;
        }
        events.push({ t: u.diagnosis.t, kind: 'decided', text: `playbook ${playbook.name}, step "${step.id}": ${text}` });
        replayed.firstAction ??= text;
      }
    }
  };

  for (const input of inputs) {
    if (input.fact) {
      const f = input.fact;
      events.push({ t: f.t, kind: 'fact', text: `${f.reason ?? f.kind} ${targetLabel(f.target)}: ${f.message}` });
      onUpdates(correlator.observeFact(f));
      continue;
    }
    const frame = input.frame as SampleFrame;
    if (frame.target.kind === 'pod') continue;
    const key = targetKey(frame.target);
    let st = detectors.get(key);
    if (!st) detectors.set(key, (st = { d: new StreamingDetector(DIRECTIONS), r: new RuleEngine(config.rules ?? DEFAULT_RULES) }));
    const anomaly = badDirectionOnly(toAnomaly(frame.target, stepFrame(st.d, frame, undefined, st.r.step(frame))));
    if (anomaly.isAnomaly) {
      if (replayed.firstDetection === undefined) {
        replayed.firstDetection = anomaly.t;
        events.push({ t: anomaly.t, kind: 'detected', text: `${targetLabel(anomaly.target)} score ${anomaly.score.toFixed(2)}: ${anomaly.reason}` });
      }
      onUpdates(correlator.observeAnomaly(anomaly));
    }
    onUpdates(correlator.observeFrame(frame));
  }

  const recorded = recordedOutcome(incident);
  return { incidentId: incident.id, events, replayed, recorded, comparison: compare(recorded, replayed) };
}

function recordedOutcome(i: Incident): ReplayOutcome {
  const detected = i.timeline.filter((e) => e.kind === 'detected').map((e) => e.t);
  const firstAction = i.timeline.find((e) => e.kind === 'acted' || e.kind === 'proposed');
  return {
    firstDetection: detected.length ? Math.min(...detected) : i.openedAt,
    diagnosis: i.diagnosis?.kind,
    firstAction: firstAction ? describeAction(firstAction.kind === 'acted' ? firstAction.result.action : (firstAction as { action: Parameters<typeof describeAction>[0] }).action) : undefined,
  };
}

function compare(then: ReplayOutcome, now: ReplayOutcome): string[] {
  const out: string[] = [];
  if (now.firstDetection === undefined) out.push('not detected at all with the current configuration');
  else if (then.firstDetection !== undefined) {
    const d = Math.round((now.firstDetection - then.firstDetection) / 1000);
    out.push(d === 0 ? 'detected at the same time' : d < 0 ? `detected ${-d} s earlier` : `detected ${d} s later`);
  }
  if (now.diagnosis !== then.diagnosis) out.push(`different diagnosis: ${then.diagnosis ? DIAGNOSIS_TITLES[then.diagnosis] : 'none'} then, ${now.diagnosis ? DIAGNOSIS_TITLES[now.diagnosis] : 'none'} now`);
  else out.push(`same diagnosis (${now.diagnosis ? DIAGNOSIS_TITLES[now.diagnosis] : 'none'})`);
  if (actionKey(now.firstAction) !== actionKey(then.firstAction)) out.push(`different first action: "${then.firstAction ?? 'none'}" then, "${now.firstAction ?? 'none'}" now`);
  else out.push(`same first action (${now.firstAction ?? 'none'})`);
  return out;
}

/** Compares actions by verb and object kind ("delete pod", "rollout restart deployment"), not by the pod picked. */
function actionKey(a: string | undefined): string {
  if (!a) return 'none';
  const m = /^(delete pod|delete-pod|rollout restart|rollout-restart|rollout undo|rollback|scale|cordon|uncordon|drain|patch configmap|patch-configmap)/.exec(a);
  return (m?.[1] ?? a).replace('-', ' ').replace('delete pod', 'delete pod').replace('rollback', 'rollout undo').replace('rollout restart', 'rollout restart');
}

/** The timeline as text, one line per event, times relative to the first input: what `vigil replay` prints. */
export function formatReplay(r: ReplayResult, start: number): string {
  const lines = [`Replay of ${r.incidentId}`, ''];
  for (const e of r.events) lines.push(`  +${String(Math.round((e.t - start) / 1000)).padStart(5)}s  ${e.kind.padEnd(9)} ${e.text}`);
  lines.push('', 'Compared with what ran then:', ...r.comparison.map((c) => `  - ${c}`));
  return lines.join('\n');
}
