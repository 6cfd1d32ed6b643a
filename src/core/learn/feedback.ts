import type { HumanLabel, Incident, Outcome } from '../model/incident';

export const HUMAN_LABELS: ReadonlyArray<HumanLabel> = ['false-alarm', 'real', 'right-diagnosis-wrong-fix'];

export function parseLabel(text: string | undefined): HumanLabel {
  const label = HUMAN_LABELS.find((l) => l === text);
  if (!label) throw new Error(`--label must be one of ${HUMAN_LABELS.join(', ')}, got ${text === undefined ? 'nothing' : `"${text}"`}`);
  return label;
}

/**
 * A human's verdict on an incident, for learning: kept on its outcome (an incident without one gets
 * false-alarm or resolved-without-action, as the engine does) and noted on its timeline. A second label replaces the first.
 */
export function applyLabel(i: Incident, label: HumanLabel, by: string, now: number, note?: string): Incident {
  const base: Outcome = i.outcome ?? { kind: label === 'false-alarm' ? 'false-alarm' : 'resolved-without-action', t: now };
  const { note: _previous, ...rest } = base;
  const outcome: Outcome = { ...rest, label, labelledBy: by, ...(note ? { note } : {}) };
  return {
    ...i,
    outcome,
    updatedAt: now,
    timeline: [...i.timeline, { t: now, kind: 'note', text: `labelled ${label} by ${by}${note ? `: ${note}` : ''}` }],
  };
}
