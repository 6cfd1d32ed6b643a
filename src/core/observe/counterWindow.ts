/**
 * Rates from counter samples of one series, as Prometheus's rate() reads them: the increase over
 * the samples in the window (a drop means the counter reset, so the new value counts from zero),
 * divided by the time those samples span. Kept per series by the direct-scrape source.
 */
export class CounterWindow {
  private readonly points: Array<{ t: number; v: number }> = [];
  /** The first point is the process start, not a sample (until a sample follows it). */
  private origin = false;

  /**
   * `startedAt`: when the series' process started, if known and before its first sample. A counter starts at 0 with
   * its process, so the first sample is already an increase over a known span: a new pod's series has a rate and a
   * fresh interval from its first scrape, not only from its second.
   */
  constructor(
    private readonly windowMs: number,
    startedAt?: number,
  ) {
    if (startedAt !== undefined && Number.isFinite(startedAt)) {
      this.points.push({ t: startedAt, v: 0 });
      this.origin = true;
    }
  }

  add(t: number, v: number): void {
    if (!Number.isFinite(v)) return;
    // a first sample at or before the stated start (clocks apart): the start tells nothing, drop it
    if (this.origin && this.points.length === 1 && t <= this.points[0].t) this.points.length = 0;
    this.origin = false;
    const last = this.points[this.points.length - 1];
    if (last && t <= last.t) return;
    this.points.push({ t, v });
    // keep one point older than the window so a window edge always has a start
    while (this.points.length > 2 && this.points[1].t <= t - this.windowMs) this.points.shift();
  }

  /** Increase over the window ending at `now`; undefined with fewer than two samples in it. */
  increase(now: number): { increase: number; spanMs: number } | undefined {
    const inWindow = this.points.filter((p) => p.t > now - this.windowMs && p.t <= now);
    if (inWindow.length < 2) return undefined;
    let inc = 0;
    for (let i = 1; i < inWindow.length; i++) {
      const d = inWindow[i].v - inWindow[i - 1].v;
      inc += d >= 0 ? d : inWindow[i].v;
    }
    return { increase: inc, spanMs: inWindow[inWindow.length - 1].t - inWindow[0].t };
  }

  /**
   * Increase between the last two samples at or before `now` (a drop counts from zero), and their span: the
   * fresh interval alone, like Prometheus's irate. Undefined with fewer than two samples.
   */
  lastIncrease(now: number): { increase: number; spanMs: number; from: number } | undefined {
    let i = this.points.length - 1;
    while (i >= 0 && this.points[i].t > now) i--;
    if (i < 1) return undefined;
    const [a, b] = [this.points[i - 1], this.points[i]];
    const d = b.v - a.v;
    return { increase: d >= 0 ? d : b.v, spanMs: b.t - a.t, from: a.t };
  }

  /** Per-second rate over the window; undefined without two samples. */
  rate(now: number): number | undefined {
    const r = this.increase(now);
    return r && r.spanMs > 0 ? r.increase / (r.spanMs / 1000) : undefined;
  }

  /** When the last sample was taken (the process start alone is no sample). */
  get lastSeen(): number | undefined {
    return this.origin ? undefined : this.points[this.points.length - 1]?.t;
  }
}
