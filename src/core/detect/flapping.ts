import type { Band, SampleFrame, SignalName } from '../model/signal';
import { targetKey, type TargetRef } from '../model/target';
import { formatDurationMs } from '../observe/signalWording';

/**
 * Flapping, read from a service's own symptoms: the history of its bad and healthy spells, frame by frame, whatever
 * incidents were open or quiet meanwhile. An incident on a flapping service stays open (or its recovery hold keeps
 * the next one from opening) longer than one healthy spell, so counting closed incidents never sees the returns.
 *
 * A spell is bad while the last interval's errors or latency are a symptom, healthy once they are back; a return is
 * a bad spell after a healthy spell that followed a bad one, each at least `minSpellMs` long (the rate window's tail
 * and a single clean scrape in a crash loop are no healthy spell).
 */
export interface FlapConfig {
  /** Shortest bad or healthy spell that counts. */
  readonly minSpellMs: number;
  /** Returns counted within this long before now. */
  readonly windowMs: number;
  /** Returns (bad, healthy, bad again = 1) that make a flap. */
  readonly returns: number;
  /** Errors of the last interval at or above this ratio (and above the band) are a symptom... */
  readonly errorRatio: number;
  /** ...and below this one healthy again. */
  readonly healthyErrorRatio: number;
  /** p95 latency at least this many times its expected level (and above its band) is a symptom... */
  readonly latencyRatio: number;
  /** ...and at least this much above it, in seconds. */
  readonly latencyStepSeconds: number;
  /** ...and healthy again at or below this many times its expected level (or its band). */
  readonly healthyLatencyRatio: number;
  /** A hold on an oscillating target ends once its current bad spell lasts this many times its longest earlier one... */
  readonly holdFactor: number;
  /** ...and at least this long: then it is a problem that came back to stay, and the playbook runs. */
  readonly minHoldMs: number;
}

export const DEFAULT_FLAP_CONFIG: FlapConfig = {
  minSpellMs: 20_000,
  windowMs: 15 * 60_000,
  returns: 2,
  errorRatio: 0.05,
  healthyErrorRatio: 0.025,
  latencyRatio: 3,
  latencyStepSeconds: 0.1,
  healthyLatencyRatio: 1.5,
  holdFactor: 2,
  minHoldMs: 60_000,
};

export interface Spell {
  readonly bad: boolean;
  readonly from: number;
  /** The last frame of the spell so far. */
  readonly to: number;
  /** The signal that made the spell bad (the first one seen). */
  readonly signal?: SignalName;
}

/**
 * What the spells say now:
 * - steady: no return in the window;
 * - oscillating: it came back after clearing by itself, fewer than `returns` times: hold before acting, it may flap;
 * - flapping: `returns` returns or more: no step will hold, a human must look.
 */
export interface FlapReading {
  readonly state: 'steady' | 'oscillating' | 'flapping';
  readonly returns: number;
  /** Median lengths of the counted bad and healthy spells. */
  readonly badMs?: number;
  readonly healthyMs?: number;
  /** When the first counted bad spell began. */
  readonly since?: number;
  /** True while oscillating and the current bad spell has outlasted the hold (see FlapConfig.holdFactor). */
  readonly holdOver: boolean;
  readonly signal?: SignalName;
  /** One phrase, e.g. "its errors cleared and came back 2 times in 3 min and are back (bad ~45 s, healthy ~45 s each time)". */
  readonly text: string;
}

/** Is the frame a symptom (true), healthy (false), or in between / without data (undefined)? Reads the last interval where the source has it. */
export function symptomOf(frame: SampleFrame, bands: Readonly<Partial<Record<SignalName, Band>>>, config: FlapConfig = DEFAULT_FLAP_CONFIG): { bad: boolean; signal?: SignalName } | undefined {
  const err = frame.fresh?.error_ratio ?? frame.values.error_ratio;
  const p95 = frame.fresh?.latency_p95 ?? frame.values.latency_p95;
  const eb = bands.error_ratio;
  const lb = bands.latency_p95;
  const errBad = err !== undefined && Number.isFinite(err) && err >= config.errorRatio && err > (eb?.upper ?? 0);
  const expected = lb && Number.isFinite(lb.expected) && lb.expected > 0 ? lb.expected : undefined;
  const latBad = p95 !== undefined && Number.isFinite(p95) && expected !== undefined && p95 >= config.latencyRatio * expected && p95 > lb!.upper && p95 - expected >= config.latencyStepSeconds;
  if (errBad) return { bad: true, signal: 'error_ratio' };
  if (latBad) return { bad: true, signal: 'latency_p95' };
  const errOk = err === undefined || !Number.isFinite(err) || err < config.healthyErrorRatio || (eb !== undefined && err <= eb.upper);
  const latOk = p95 === undefined || !Number.isFinite(p95) || expected === undefined || p95 <= Math.max(config.healthyLatencyRatio * expected, lb!.upper);
  if (err === undefined && p95 === undefined) return undefined;
  return errOk && latOk ? { bad: false } : undefined;
}

/** Reads the spells (oldest first) at `now`. Pure: the unit tests feed it recorded on/off sequences. */
export function readFlapping(spells: ReadonlyArray<Spell>, now: number, config: FlapConfig = DEFAULT_FLAP_CONFIG): FlapReading {
  const recent = spells.filter((s) => s.to >= now - config.windowMs);
  // a spell shorter than minSpellMs joins the one before it: it neither ends a bad spell nor starts one; the
  // current bad spell counts as soon as it begins (it is the return the incident is about)
  const seq: Spell[] = [];
  recent.forEach((s, k) => {
    const counts = s.to - s.from >= config.minSpellMs || (k === recent.length - 1 && s.bad);
    const last = seq.at(-1);
    if (!last) {
      if (s.bad && counts) seq.push(s);
    } else if (last.bad === s.bad || !counts) seq[seq.length - 1] = { ...last, to: s.to };
    else seq.push(s);
  });
  const bad = seq.filter((s) => s.bad);
  const healthy = seq.filter((s, k) => !s.bad && k < seq.length - 1);
  const returns = Math.max(0, bad.length - 1);
  const state = returns >= config.returns ? 'flapping' : returns > 0 ? 'oscillating' : 'steady';
  const current = seq.at(-1);
  const earlierBad = bad.slice(0, current?.bad ? -1 : undefined).map((s) => s.to - s.from);
  const holdMs = Math.max(config.minHoldMs, config.holdFactor * Math.max(0, ...earlierBad));
  const holdOver = state === 'oscillating' && current?.bad === true && current.to - current.from >= holdMs;
  const badMs = median(earlierBad);
  const healthyMs = median(healthy.map((s) => s.to - s.from));
  const signal = bad[0]?.signal;
  const what = signal === 'latency_p95' ? 'latency' : signal === 'error_ratio' ? 'errors' : 'symptoms';
  const since = bad[0]?.from;
  const text =
    returns === 0
      ? `its ${what} have not cleared and come back lately`
      : `its ${what} cleared and came back ${returns} time${returns === 1 ? '' : 's'} in ${formatDurationMs(Math.max(60_000, now - (since ?? now)))}${current?.bad ? ' and are back' : ''} (bad ~${formatDurationMs(badMs ?? 0)}, healthy ~${formatDurationMs(healthyMs ?? 0)} each time)`;
  return { state, returns, badMs, healthyMs, since, holdOver, signal, text };
}

/**
 * The bad and healthy spells of every service, fed one frame at a time by the detection pipeline and read by the
 * remediator before each step. In memory: after a restart the history starts afresh (closed incidents still count).
 */
export class SymptomSpells {
  private readonly spells = new Map<string, Spell[]>();

  constructor(private readonly config: FlapConfig = DEFAULT_FLAP_CONFIG) {}

  observe(frame: SampleFrame, bands: Readonly<Partial<Record<SignalName, Band>>>): void {
    const s = symptomOf(frame, bands, this.config);
    if (!s) return;
    const key = targetKey(frame.target);
    const list = this.spells.get(key) ?? [];
    const last = list.at(-1);
    if (last && last.bad === s.bad) list[list.length - 1] = { ...last, to: frame.t };
    // a spell runs from the last frame of the one before it (a 45 s spell of 5 s frames is 45 s, not 40)
    else list.push({ bad: s.bad, from: last ? last.to : frame.t, to: frame.t, ...(s.signal ? { signal: s.signal } : {}) });
    // the window, and one spell before it (where the first counted spell began)
    while (list.length > 2 && list[1].to < frame.t - this.config.windowMs) list.shift();
    this.spells.set(key, list);
  }

  reading(target: TargetRef, now: number): FlapReading {
    return readFlapping(this.spells.get(targetKey(target)) ?? [], now, this.config);
  }
}

function median(xs: ReadonlyArray<number>): number | undefined {
  if (!xs.length) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}
