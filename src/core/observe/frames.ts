import type { PodInterval, SampleFrame, SignalName } from '../model/signal';
import { targetKey, type TargetRef } from '../model/target';

/** Collects signal values per (aligned time, target) into frames; non-finite values are dropped. */
export class FrameAssembler {
  private readonly byTime = new Map<number, Map<string, { target: TargetRef; values: Partial<Record<SignalName, number>>; fresh?: Partial<Record<SignalName, number>>; freshPodsSince?: number; freshPods?: ReadonlyArray<PodInterval> }>>();

  add(t: number, target: TargetRef, signal: SignalName, v: number): void {
    if (!Number.isFinite(v)) return;
    this.entry(t, target).values[signal] = v;
  }

  /** A value over the last interval alone (see SampleFrame.fresh). */
  addFresh(t: number, target: TargetRef, signal: SignalName, v: number): void {
    if (!Number.isFinite(v)) return;
    const e = this.entry(t, target);
    (e.fresh ??= {})[signal] = v;
  }

  /** When the pods behind this frame's fresh values started (see SampleFrame.freshPodsSince). */
  setFreshPodsSince(t: number, target: TargetRef, since: number): void {
    if (Number.isFinite(since)) this.entry(t, target).freshPodsSince = since;
  }

  /** Each pod's requests, 5xx and latency buckets over the last interval (see SampleFrame.freshPods). */
  setFreshPods(t: number, target: TargetRef, pods: ReadonlyArray<PodInterval>): void {
    if (pods.length) this.entry(t, target).freshPods = pods;
  }

  private entry(t: number, target: TargetRef) {
    let targets = this.byTime.get(t);
    if (!targets) this.byTime.set(t, (targets = new Map()));
    const key = targetKey(target);
    let entry = targets.get(key);
    if (!entry) targets.set(key, (entry = { target, values: {} }));
    return entry;
  }

  /** Frames oldest first, targets in key order within a time, so output is deterministic. */
  frames(): SampleFrame[] {
    const out: SampleFrame[] = [];
    for (const t of [...this.byTime.keys()].sort((a, b) => a - b)) {
      const targets = this.byTime.get(t)!;
      for (const key of [...targets.keys()].sort()) {
        const { target, values, fresh, freshPodsSince, freshPods } = targets.get(key)!;
        out.push({ target, t, values, ...(fresh ? { fresh } : {}), ...(fresh && freshPodsSince !== undefined ? { freshPodsSince } : {}), ...(fresh && freshPods ? { freshPods } : {}) });
      }
    }
    return out;
  }
}

/** Groups frames by time, oldest first: one group per aligned interval. */
export function groupByTime(frames: ReadonlyArray<SampleFrame>): Array<{ t: number; frames: SampleFrame[] }> {
  const map = new Map<number, SampleFrame[]>();
  for (const f of frames) {
    const list = map.get(f.t);
    if (list) list.push(f);
    else map.set(f.t, [f]);
  }
  return [...map.entries()].sort((a, b) => a[0] - b[0]).map(([t, fs]) => ({ t, frames: fs }));
}

/** Merges frames of the same target and time from several sources (metrics, logs, probes). */
export function mergeFrames(...sets: ReadonlyArray<ReadonlyArray<SampleFrame>>): SampleFrame[] {
  const asm = new FrameAssembler();
  for (const set of sets) {
    for (const f of set) {
      for (const [signal, v] of Object.entries(f.values)) asm.add(f.t, f.target, signal as SignalName, v as number);
      for (const [signal, v] of Object.entries(f.fresh ?? {})) asm.addFresh(f.t, f.target, signal as SignalName, v as number);
      if (f.freshPodsSince !== undefined) asm.setFreshPodsSince(f.t, f.target, f.freshPodsSince);
      if (f.freshPods) asm.setFreshPods(f.t, f.target, f.freshPods);
    }
  }
  return asm.frames();
}
