import type { Diagnosis, DiagnosisKind } from '../model/diagnosis';
import type { TargetRef } from '../model/target';
import { parseTargetKey } from '../model/target';

/** One change of one incident, as the correlator reports it. */
export interface CorrelationUpdate {
  /** Stable for the life of the incident, whatever its diagnosis becomes. */
  readonly incidentKey: string;
  /** Where the cause sits (the diagnosis target). */
  readonly target: TargetRef;
  readonly diagnosis: Diagnosis;
  /** True the first time this incident is reported. */
  readonly isNew: boolean;
  /** Every target whose symptoms belong to this incident, the cause's target included. */
  readonly members: ReadonlyArray<TargetRef>;
  /** Keys of incidents reported earlier that turned out to share this cause; close them. */
  readonly absorbed?: ReadonlyArray<string>;
}

/** An open incident while the correlator groups symptoms into it. */
export interface GroupedIncident {
  key: string;
  openedAt: number;
  lastActivity: number;
  /** targetKey of the cause. */
  root: string;
  readonly members: Set<string>;
  /** Causes each member's symptoms could also have, for the diagnosis' alternatives. */
  readonly competing: Map<string, ReadonlyArray<{ readonly kind: DiagnosisKind; readonly confidence: number }>>;
  diagnosis?: Diagnosis;
  /** Signature of the last reported state; undefined until first reported. */
  reported?: string;
  /** Reported keys folded into this one since the last report. */
  absorbed: string[];
  /** Set once merged away or closed. */
  closed?: boolean;
}

/**
 * The open incidents and two indexes over them: member → incident (a target belongs to at most one
 * open incident) and cause → incident. Merging keeps the older key, so a key once reported lives on.
 */
export class IncidentBook {
  private readonly byMember = new Map<string, GroupedIncident>();
  private readonly byRoot = new Map<string, GroupedIncident>();
  private readonly incidents = new Set<GroupedIncident>();
  private readonly keys = new Set<string>();

  ofMember(member: string): GroupedIncident | undefined {
    return this.byMember.get(member);
  }

  rootedAt(root: string): GroupedIncident | undefined {
    return this.byRoot.get(root);
  }

  byKey(key: string): GroupedIncident | undefined {
    for (const i of this.incidents) if (i.key === key) return i;
    return undefined;
  }

  all(): ReadonlyArray<GroupedIncident> {
    return [...this.incidents];
  }

  open(root: string, t: number): GroupedIncident {
    const base = `${root}@${new Date(t).toISOString()}`;
    let key = base;
    for (let n = 2; this.keys.has(key); n++) key = `${base}#${n}`;
    const inc: GroupedIncident = { key, openedAt: t, lastActivity: t, root, members: new Set(), competing: new Map(), absorbed: [] };
    this.keys.add(key);
    this.incidents.add(inc);
    this.byRoot.set(root, inc);
    return inc;
  }

  /** Makes `root` the cause of `inc`; an incident already rooted there is merged in. */
  reroot(inc: GroupedIncident, root: string): GroupedIncident {
    if (inc.root === root) return inc;
    const other = this.byRoot.get(root);
    if (other && other !== inc) return this.merge(inc, other);
    if (this.byRoot.get(inc.root) === inc) this.byRoot.delete(inc.root);
    inc.root = root;
    this.byRoot.set(root, inc);
    return inc;
  }

  /** Puts a member in `inc`, taking it out of its previous incident; returns that one if it is now empty. */
  place(member: string, inc: GroupedIncident, t: number): GroupedIncident | undefined {
    const prev = this.byMember.get(member);
    inc.lastActivity = Math.max(inc.lastActivity, t);
    if (prev === inc) return undefined;
    inc.members.add(member);
    this.byMember.set(member, inc);
    if (!prev) return undefined;
    prev.members.delete(member);
    const alts = prev.competing.get(member);
    prev.competing.delete(member);
    if (alts) inc.competing.set(member, alts);
    return prev.members.size === 0 ? prev : undefined;
  }

  /** Folds `from` into `into`. The survivor keeps `into`'s cause and the older of the two keys. */
  merge(from: GroupedIncident, into: GroupedIncident): GroupedIncident {
    if (from === into) return into;
    for (const m of from.members) {
      into.members.add(m);
      this.byMember.set(m, into);
    }
    for (const [m, alts] of from.competing) if (!into.competing.has(m)) into.competing.set(m, alts);
    into.lastActivity = Math.max(into.lastActivity, from.lastActivity);
    const keepFromKey = from.openedAt < into.openedAt || (from.openedAt === into.openedAt && from.key < into.key);
    const gone = keepFromKey ? into : from;
    const goneKey = gone.key;
    const goneReported = gone.reported !== undefined;
    const inherited = from.absorbed;
    if (keepFromKey) {
      into.openedAt = from.openedAt;
      into.key = from.key;
      if (from.reported !== undefined) into.reported = from.reported;
    }
    if (goneReported) into.absorbed.push(goneKey);
    into.absorbed.push(...inherited.filter((k) => k !== into.key && !into.absorbed.includes(k)));
    this.incidents.delete(from);
    from.closed = true;
    if (this.byRoot.get(from.root) === from) this.byRoot.delete(from.root);
    return into;
  }

  close(inc: GroupedIncident): void {
    this.incidents.delete(inc);
    inc.closed = true;
    for (const m of inc.members) if (this.byMember.get(m) === inc) this.byMember.delete(m);
    if (this.byRoot.get(inc.root) === inc) this.byRoot.delete(inc.root);
  }

  /** Incidents with no activity since `before`, oldest first. */
  idleSince(before: number): GroupedIncident[] {
    return [...this.incidents].filter((i) => i.lastActivity < before).sort((a, b) => a.openedAt - b.openedAt);
  }
}

/** Members as TargetRefs, the cause first, the rest in key order. */
export function memberRefs(inc: GroupedIncident): TargetRef[] {
  const keys = [...inc.members].sort();
  const ordered = inc.members.has(inc.root) ? [inc.root, ...keys.filter((k) => k !== inc.root)] : keys;
  return ordered.map(parseTargetKey);
}
