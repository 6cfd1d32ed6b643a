import type { ClockPort, Disposable } from '../ports';

/**
 * A clock that only moves when told to: replay, tests and benchmarks run the loop deterministically,
 * faster than real time. Timers fire in time order (ties in creation order).
 */
export class VirtualClock implements ClockPort {
  private current: number;
  private seq = 0;
  private timers: Array<{ at: number; seq: number; fn: () => void }> = [];

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): Disposable {
    const timer = { at: this.current + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return { dispose: () => (this.timers = this.timers.filter((t) => t !== timer)) };
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }

  /** Moves time forward to `target`, firing due timers in order and letting their promise chains settle. */
  async advanceTo(target: number): Promise<void> {
    for (;;) {
      await settle();
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (!next || next.at > target) break;
      this.timers.shift();
      this.current = Math.max(this.current, next.at);
      next.fn();
    }
    this.current = Math.max(this.current, target);
    await settle();
  }

  advance(ms: number): Promise<void> {
    return this.advanceTo(this.current + ms);
  }

  /** Runs until no timer is left (or `limitMs` of virtual time passed). */
  async runAll(limitMs = 24 * 3_600_000): Promise<void> {
    const end = this.current + limitMs;
    while (this.timers.length > 0 && this.current < end) {
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      await this.advanceTo(Math.min(end, this.timers[0].at));
    }
  }

  get pendingTimers(): number {
    return this.timers.length;
  }
}

/** Lets queued promise callbacks run (a few macrotask turns are enough for chained awaits). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}
