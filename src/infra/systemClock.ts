import type { ClockPort, Disposable } from '../core/ports';

/** Wall-clock time and real timers, for the agent and the extension. */
export class SystemClock implements ClockPort {
  now(): number {
    return Date.now();
  }
  setTimeout(fn: () => void, ms: number): Disposable {
    const h = setTimeout(fn, ms);
    return { dispose: () => clearTimeout(h) };
  }
  sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
  }
}
