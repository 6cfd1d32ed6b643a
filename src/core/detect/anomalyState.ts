/**
 * Anomalous state with hysteresis, as a firing Prometheus alert: it starts on the row whose score reaches `enter`
 * (the alert, the onset), lasts while the score stays at or above `stay`, and ends only after `holdRows` rows in a
 * row below it, so a score hovering near the line does not flicker.
 */
export interface AnomalyStateConfig {
  readonly enter: number;
  readonly stay: number;
  readonly holdRows: number;
}

export interface AnomalyStateStep {
  /** The row is in an anomalous state. */
  readonly inState: boolean;
  /** A new alert fires on this row (the state's first row). */
  readonly onset: boolean;
}

export class AnomalyState {
  private active = false;
  private below = 0;

  constructor(private readonly config: AnomalyStateConfig) {}

  /** `fires` forces an onset (a detector that decides itself, like the fused score's alert). */
  step(score: number, fires = false): AnomalyStateStep {
    const c = this.config;
    if (!this.active) {
      if (fires || score >= c.enter) {
        this.active = true;
        this.below = 0;
        return { inState: true, onset: true };
      }
      return { inState: false, onset: false };
    }
    if (score >= c.stay || fires) this.below = 0;
    else if (++this.below >= c.holdRows) {
      this.active = false;
      this.below = 0;
      return { inState: false, onset: false };
    }
    return { inState: true, onset: false };
  }
}
