/**
 * The service map: the dependency graph the core diagnoses with (declared edges from `vigil.dev/depends-on`, and calls
 * seen in mesh and trace-derived metrics), each
 * service's health from the sidebar's history, the open incidents and their blamed causes, laid out in columns from
 * callers to callees. Pure: no 'vscode' import, unit tested under plain mocha.
 */
import { DependencyGraph } from '../core/diagnose/dependencyGraph';
import { DIAGNOSIS_TITLES } from '../core/model/diagnosis';
import { isOpen, type Incident } from '../core/model/incident';
import { targetKey, targetLabel, type TargetRef } from '../core/model/target';
import type { WorkloadInventory } from '../core/ports';
import type { ObservedCall } from '../core/model/serviceCall';
import type { MapEdgeView, MapNodeView, ServiceMapView, ServiceView } from '../webview/protocol';

export interface ServiceMapInputs {
  readonly inventory: WorkloadInventory;
  /** Calls seen in mesh and trace-derived metrics (the core's `observedCalls()`); drawn beside the declared edges. */
  readonly observedCalls?: ReadonlyArray<ObservedCall>;
  /** The sidebar's services (health and latest signals), built with the open incidents' targets. */
  readonly services: ReadonlyArray<ServiceView>;
  readonly incidents: ReadonlyArray<Incident>;
  /** The room's incident: its target, cause and affected services are marked. */
  readonly focus?: Incident;
}

export const MAP_NODE_WIDTH = 170;
export const MAP_NODE_HEIGHT = 40;
const COLUMN_GAP = 70;
const ROW_GAP = 18;
const MARGIN = 8;

export function serviceMapView(input: ServiceMapInputs): ServiceMapView {
  const graph = DependencyGraph.fromInventory(input.inventory);
  graph.setObservedCalls(input.observedCalls ?? []);
  const refs = new Map<string, TargetRef>();
  const add = (t: TargetRef) => {
    if (t.kind === 'service' && !refs.has(targetKey(t))) refs.set(targetKey(t), t);
  };
  for (const s of input.inventory.services) add(s.target);
  const edges: Array<[string, string]> = [];
  for (const caller of [...refs.keys()]) {
    for (const callee of graph.callees(caller)) {
      const ref = graph.ref(callee);
      if (ref) add(ref);
      edges.push([caller, callee]);
    }
  }
  const open = input.incidents.filter(isOpen);
  const notes: string[] = [];
  // per service: the open incidents that show there or blame it, and the keys each incident involves
  const incidentsAt = new Map<string, Array<{ id: string; title: string; cause: boolean }>>();
  const involved = new Map<string, Set<string>>();
  for (const i of open) {
    const title = `${i.diagnosis ? DIAGNOSIS_TITLES[i.diagnosis.kind] : 'anomaly'} — ${targetLabel(i.target)}`;
    const keys = new Set<string>();
    const mark = (t: TargetRef, cause: boolean) => {
      if (t.kind !== 'service') return;
      add(t);
      const k = targetKey(t);
      keys.add(k);
      const list = incidentsAt.get(k) ?? [];
      const same = list.find((x) => x.id === i.id);
      if (same) same.cause ||= cause;
      else list.push({ id: i.id, title, cause });
      incidentsAt.set(k, list);
    };
    mark(i.target, false);
    if (i.diagnosis) mark(i.diagnosis.target, true);
    for (const a of i.diagnosis?.details?.affected ?? []) if (a.kind === 'service') keys.add(targetKey(a));
    involved.set(i.id, keys);
    if (i.diagnosis && i.diagnosis.target.kind !== 'service') notes.push(`${i.id}: the blamed cause is ${targetLabel(i.diagnosis.target)}, not a service; it is not on the map.`);
  }
  const focus = input.focus;
  const focusOf = (k: string): MapNodeView['focus'] => {
    if (!focus) return undefined;
    if (focus.diagnosis?.target.kind === 'service' && targetKey(focus.diagnosis.target) === k) return 'cause';
    if (targetKey(focus.target) === k) return 'target';
    if ((focus.diagnosis?.details?.affected ?? []).some((a) => targetKey(a) === k)) return 'affected';
    return undefined;
  };
  const byKey = new Map(input.services.map((s) => [s.key, s]));
  const keys = [...refs.keys()].sort();
  const place = layoutColumns(keys, edges);
  const nodes: MapNodeView[] = keys.map((k) => {
    const s = byKey.get(k);
    const at = place.get(k) ?? { column: 0, row: 0 };
    const inInventory = input.inventory.services.some((x) => targetKey(x.target) === k);
    const atIncident = incidentsAt.get(k) ?? [];
    return {
      key: k,
      label: targetLabel(refs.get(k) as TargetRef),
      health: atIncident.length ? 'incident' : (s?.health ?? 'unknown'),
      reason: s?.reason ?? (inInventory ? 'no samples yet' : 'declared as a dependency; not in the cluster inventory'),
      x: MARGIN + at.column * (MAP_NODE_WIDTH + COLUMN_GAP),
      y: MARGIN + at.row * (MAP_NODE_HEIGHT + ROW_GAP),
      focus: focusOf(k),
      incidents: atIncident,
      signals: (s?.series ?? []).map((x) => ({ label: x.label, latest: x.latest, outside: x.outside })),
    };
  });
  const edgeViews: MapEdgeView[] = edges.map(([from, to]) => {
    const via = graph.sourcesOf(from, to);
    return {
      from,
      to,
      source: via.includes('annotation') ? 'declared' : 'inferred',
      via,
      incident: [...involved.values()].some((ks) => ks.has(from) && ks.has(to)),
    };
  });
  const columns = Math.max(0, ...[...place.values()].map((p) => p.column + 1));
  const rows = Math.max(0, ...[...place.values()].map((p) => p.row + 1));
  return {
    nodes,
    edges: edgeViews,
    width: 2 * MARGIN + columns * MAP_NODE_WIDTH + Math.max(0, columns - 1) * COLUMN_GAP,
    height: 2 * MARGIN + rows * MAP_NODE_HEIGHT + Math.max(0, rows - 1) * ROW_GAP,
    nodeWidth: MAP_NODE_WIDTH,
    nodeHeight: MAP_NODE_HEIGHT,
    notes,
  };
}

/**
 * Columns by call depth (a service sits one column right of its deepest caller; services nobody calls in column 0),
 * rows ordered by the mean row of their callers, then by key. A call cycle is cut at the edge that closes it
 * (found by a depth-first walk in key order), so the layout is the same for the same graph.
 */
export function layoutColumns(keys: ReadonlyArray<string>, edges: ReadonlyArray<readonly [string, string]>): Map<string, { column: number; row: number }> {
  const known = new Set(keys);
  const out = new Map<string, string[]>();
  for (const [a, b] of edges) if (known.has(a) && known.has(b) && a !== b) out.set(a, [...(out.get(a) ?? []), b].sort());
  const sortedKeys = [...keys].sort();
  // depth-first, in key order: edges to a node still on the stack close a cycle and are left out
  const state = new Map<string, 'open' | 'done'>();
  const order: string[] = [];
  const forward: Array<[string, string]> = [];
  const visit = (k: string) => {
    state.set(k, 'open');
    for (const c of out.get(k) ?? []) {
      if (state.get(c) === 'open') continue;
      forward.push([k, c]);
      if (!state.has(c)) visit(c);
    }
    state.set(k, 'done');
    order.push(k);
  };
  const called = new Set(edges.map(([, b]) => b));
  for (const k of sortedKeys) if (!called.has(k) && !state.has(k)) visit(k);
  for (const k of sortedKeys) if (!state.has(k)) visit(k);
  const column = new Map(sortedKeys.map((k) => [k, 0]));
  const callers = new Map<string, string[]>();
  for (const [a, b] of forward) callers.set(b, [...(callers.get(b) ?? []), a]);
  for (const k of order.reverse()) for (const c of out.get(k) ?? []) if (forward.some(([a, b]) => a === k && b === c)) column.set(c, Math.max(column.get(c) ?? 0, (column.get(k) ?? 0) + 1));
  const rows = new Map<string, number>();
  const maxColumn = Math.max(0, ...column.values());
  for (let col = 0; col <= maxColumn; col++) {
    const here = sortedKeys.filter((k) => column.get(k) === col);
    const weight = (k: string) => {
      const rs = (callers.get(k) ?? []).map((c) => rows.get(c)).filter((r): r is number => r !== undefined);
      return rs.length ? rs.reduce((x, y) => x + y, 0) / rs.length : Infinity;
    };
    here.sort((a, b) => weight(a) - weight(b) || (a < b ? -1 : 1)).forEach((k, r) => rows.set(k, r));
  }
  return new Map(sortedKeys.map((k) => [k, { column: column.get(k) ?? 0, row: rows.get(k) ?? 0 }]));
}
