import type { ClockPort, Disposable } from '../../../src/core/ports';

/** Wall-clock ClockPort for integration tests and benchmarks. */
export class RealClock implements ClockPort {
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
