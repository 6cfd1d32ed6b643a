/** Aligned time: every sample sits on a multiple of the step, so frames from different sources line up. */

export function alignDown(t: number, stepMs: number): number {
  if (!(stepMs > 0)) throw new Error(`Step must be a positive number of milliseconds, got ${stepMs}`);
  return Math.floor(t / stepMs) * stepMs;
}

export function alignUp(t: number, stepMs: number): number {
  return Math.ceil(t / alignGuard(stepMs)) * stepMs;
}

function alignGuard(stepMs: number): number {
  if (!(stepMs > 0)) throw new Error(`Step must be a positive number of milliseconds, got ${stepMs}`);
  return stepMs;
}

/** Aligned times in [from, to], oldest first. */
export function stepTimes(from: number, to: number, stepMs: number): number[] {
  const out: number[] = [];
  for (let t = alignUp(from, stepMs); t <= to; t += stepMs) out.push(t);
  return out;
}

/** `15s` → 15000; accepts ms, s, m, h. Throws naming the input. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new Error(`Invalid duration "${text}": use e.g. 500ms, 15s, 1m or 1h`);
  const n = Number(m[1]);
  return n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

/** PromQL duration text for a step or window, in whole seconds (at least 1s). */
export function promDuration(ms: number): string {
  return `${Math.max(1, Math.round(ms / 1000))}s`;
}
