/**
 * The incident room's DOM, built with createElement and text nodes only (see render.ts). The charts are empty
 * containers here; main.ts mounts uPlot into them. Each chart has a table toggle as its text alternative.
 */
import { formatNumber, valueWording } from '../core/observe/signalWording';
import type { ChartView, RoomTimelineLine, RoomView } from './protocol';
import { gatesSummary, h, type Dom, type DomElement, type Post } from './render';
import { renderServiceMap } from './serviceMap';

export interface RoomUiState {
  /** Show every event instead of the focused timeline. */
  readonly showAll: boolean;
  /** Charts shown as tables. */
  readonly tables: boolean;
  /** Replay's scrubber: the time shown up to (undefined: the whole range). */
  readonly scrubT?: number;
  /** The service selected on the map (its key), whose signals show below it. */
  readonly mapNode?: string;
}

export interface ChartMount {
  readonly el: DomElement;
  readonly chart: ChartView;
  readonly readout: DomElement;
}

/** Only http(s) URLs become links; anything else (javascript:, data:) stays text. */
export function linkified(dom: Dom, text: string): Array<DomElement | string> {
  const out: Array<DomElement | string> = [];
  const re = /\bhttps?:\/\/[^\s<>"'`]+/gi;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const url = m[0].replace(/[).,;:!?]+$/, '');
    let href: string | undefined;
    try {
      const u = new URL(url);
      if (u.protocol === 'http:' || u.protocol === 'https:') href = u.href;
    } catch {
      href = undefined;
    }
    if (!href) continue;
    if (m.index > last) out.push(text.slice(last, m.index));
    out.push(h(dom, 'a', { href, title: href }, url));
    last = m.index + url.length;
    re.lastIndex = last;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

function clock(t: number): string {
  return new Date(t).toISOString().slice(11, 19);
}

function toggle(dom: Dom, label: string, pressed: boolean, onClick: () => void): DomElement {
  const b = h(dom, 'button', { type: 'button', class: 'secondary', 'aria-pressed': String(pressed), 'aria-label': label }, label);
  b.addEventListener('click', onClick);
  return b;
}

function chartTable(dom: Dom, c: ChartView, until: number): DomElement {
  const rows: DomElement[] = [];
  c.t.forEach((t, k) => {
    if (t > until) return;
    const fmt = (v: number | null) => (v === null ? '—' : valueWording(c.signal, v));
    rows.push(h(dom, 'tr', {}, h(dom, 'td', {}, clock(t)), h(dom, 'td', {}, fmt(c.values[k])), h(dom, 'td', {}, c.lower[k] === null && c.upper[k] === null ? '—' : `${fmt(c.lower[k])} to ${fmt(c.upper[k])}`)));
  });
  return h(dom, 'table', { class: 'chart-table', 'aria-label': `${c.label} as a table` }, h(dom, 'thead', {}, h(dom, 'tr', {}, h(dom, 'th', {}, 'time (UTC)'), h(dom, 'th', {}, c.label), h(dom, 'th', {}, 'expected'))), h(dom, 'tbody', {}, ...rows));
}

function timelineList(dom: Dom, lines: ReadonlyArray<RoomTimelineLine>, label: string): DomElement {
  return h(dom, 'ol', { class: 'timeline room-timeline', 'aria-label': label }, ...lines.map((e) => h(dom, 'li', { 'data-kind': e.kind }, h(dom, 'span', { class: 'at' }, e.at), ' ', h(dom, 'span', { class: 'tag' }, e.kind), ' ', ...linkified(dom, e.text))));
}

/** The room; `ui` changes re-render without a message to the host. Returns the chart containers to mount uPlot into. */
export function renderRoom(dom: Dom, r: RoomView, ui: RoomUiState, post: Post, setUi: (next: RoomUiState) => void): { nodes: DomElement[]; charts: ChartMount[] } {
  const until = ui.scrubT ?? Infinity;
  const nodes: DomElement[] = [];
  const title = `${r.diagnosis ?? 'anomaly'} — ${r.target}`;
  nodes.push(
    h(
      dom,
      'header',
      { class: 'room-head', 'aria-label': 'Incident' },
      h(dom, 'h2', {}, title),
      h(
        dom,
        'dl',
        { class: 'facts' },
        h(dom, 'dt', {}, 'target'), h(dom, 'dd', {}, r.target),
        h(dom, 'dt', {}, 'cluster'), h(dom, 'dd', {}, r.cluster),
        h(dom, 'dt', {}, 'diagnosis'), h(dom, 'dd', {}, r.diagnosis ?? 'not yet diagnosed'),
        h(dom, 'dt', {}, 'confidence'), h(dom, 'dd', {}, r.confidence !== undefined ? `${r.confidence}%` : '—'),
        h(dom, 'dt', {}, 'state'), h(dom, 'dd', { class: `state ${r.open ? 'open' : 'closed'}` }, `${r.state}${r.outcome ? ` (${r.outcome})` : ''}`),
      ),
      r.summary !== undefined && h(dom, 'p', { class: 'summary' }, r.summary),
      h(dom, 'p', { class: 'meta' }, r.incidentId),
    ),
  );
  if (r.mode !== 'live') {
    const mode = (m: 'recorded' | 'current', label: string) => {
      const b = h(dom, 'button', { type: 'button', class: r.mode === m ? 'primary' : 'secondary', 'aria-pressed': String(r.mode === m), 'aria-label': label }, label);
      b.addEventListener('click', () => post({ type: 'replayMode', incidentId: r.incidentId, mode: m }));
      return b;
    };
    const scrub = h(dom, 'input', { type: 'range', min: String(r.from), max: String(r.to), step: '1000', value: String(Math.min(until, r.to)), 'aria-label': 'Replay time', class: 'scrubber' });
    // on release (and each arrow key): a re-render while dragging would take the thumb from under the pointer
    scrub.addEventListener('change', () => setUi({ ...ui, scrubT: Number((scrub as unknown as { value: string }).value) }));
    nodes.push(
      h(dom, 'div', { class: 'toolbar', role: 'group', 'aria-label': 'Replay' }, h(dom, 'strong', {}, 'Replay'), mode('recorded', 'As recorded'), mode('current', 'What if: today’s detectors and playbooks')),
      h(dom, 'div', { class: 'toolbar scrub', role: 'group', 'aria-label': 'Time scrubber' }, h(dom, 'label', {}, 'time '), scrub, h(dom, 'output', { 'aria-live': 'polite' }, Number.isFinite(until) ? clock(Math.min(until, r.to)) : 'whole incident')),
    );
  }
  // charts
  const charts: ChartMount[] = [];
  const chartSection = h(dom, 'section', { class: 'charts', 'aria-label': 'Signals' }, h(dom, 'h3', {}, 'Signals'), h(dom, 'div', { class: 'toolbar' }, toggle(dom, ui.tables ? 'Show charts' : 'Show as tables', ui.tables, () => setUi({ ...ui, tables: !ui.tables }))));
  if (!r.charts.length) chartSection.append(h(dom, 'p', { class: 'status' }, 'No recorded samples of the signals the evidence names.'));
  for (const c of r.charts) {
    const fig = h(dom, 'figure', { class: 'room-chart', 'data-signal': c.signal }, h(dom, 'figcaption', {}, c.label));
    if (ui.tables) fig.append(chartTable(dom, c, until));
    else {
      const el = h(dom, 'div', { class: 'uplot-host', tabindex: '0', role: 'img', 'aria-label': `${c.label} over the incident, with its expected band and markers; arrow keys move the cursor` });
      const readout = h(dom, 'div', { class: 'readout', 'aria-live': 'polite' }, 'Use the arrow keys to read values.');
      fig.append(el, readout);
      charts.push({ el, chart: c, readout });
    }
    chartSection.append(fig);
  }
  if (r.markers.length) chartSection.append(h(dom, 'ul', { class: 'markers', 'aria-label': 'Markers' }, ...r.markers.filter((m) => m.t <= until).map((m) => h(dom, 'li', { 'data-kind': m.kind }, h(dom, 'span', { class: `swatch ${m.kind}` }, '│'), ` ${clock(m.t)} ${m.label}`))));
  nodes.push(chartSection);
  // evidence
  if (r.findings.length) nodes.push(h(dom, 'section', { 'aria-label': 'Evidence' }, h(dom, 'h3', {}, 'Evidence'), h(dom, 'ul', { class: 'evidence' }, ...r.findings.map((f) => h(dom, 'li', {}, h(dom, 'span', { class: 'tag' }, f.kind), ' ', ...linkified(dom, f.text))))));
  if (r.alternatives.length) nodes.push(h(dom, 'section', { 'aria-label': 'Competing explanations' }, h(dom, 'h3', {}, 'Competing explanations'), h(dom, 'ul', {}, ...r.alternatives.map((a) => h(dom, 'li', {}, `${a.diagnosis}: ${a.confidence}%`)))));
  if (r.map && r.map.nodes.length) nodes.push(renderServiceMap(dom, r.map, ui.mapNode, (key) => setUi({ ...ui, mapNode: key }), post));
  // the proposed step
  const p = r.proposal;
  if (p) {
    const section = h(dom, 'section', { class: 'proposal', 'aria-label': 'Proposed remediation' }, h(dom, 'h3', {}, r.open ? 'Proposed step' : 'Last step proposed'), h(dom, 'p', {}, h(dom, 'code', {}, p.action)));
    if (p.dryRun) section.append(h(dom, 'p', { class: 'dry-run' }, /^dry run/i.test(p.dryRun) ? p.dryRun : `Dry run: ${p.dryRun}`));
    if (p.diff.length) section.append(h(dom, 'ul', { class: 'diff', 'aria-label': 'Dry-run diff' }, ...p.diff.map((d) => h(dom, 'li', {}, h(dom, 'code', { class: 'path' }, d.path), h(dom, 'div', { class: 'before' }, `− ${d.before}`), h(dom, 'div', { class: 'after' }, `+ ${d.after}`)))));
    section.append(h(dom, 'details', { class: 'gates-box' }, h(dom, 'summary', {}, gatesSummary(p.gates)), h(dom, 'ul', { class: 'gates', 'aria-label': 'Safety gates' }, ...p.gates.map((g) => h(dom, 'li', { class: g.allowed ? 'pass' : 'fail' }, g.allowed ? '✓ ' : '✗ ', h(dom, 'strong', {}, g.gate), `: ${g.reason}`)))));
    if (p.awaitingApproval && r.open) {
      const btn = (label: string, aria: string, m: Parameters<Post>[0], cls: string) => {
        const b = h(dom, 'button', { type: 'button', class: cls, 'aria-label': aria }, label);
        b.addEventListener('click', () => post(m));
        return b;
      };
      section.append(
        h(
          dom,
          'div',
          { class: 'actions', role: 'group', 'aria-label': 'Decision' },
          btn('Approve', `Approve: ${p.action}`, { type: 'approve', incidentId: r.incidentId, stepId: p.stepId }, 'primary'),
          btn('Reject', `Reject: ${p.action}`, { type: 'reject', incidentId: r.incidentId }, 'secondary'),
          btn('Snooze 15 min', `Snooze incident ${r.incidentId} for 15 minutes`, { type: 'snooze', incidentId: r.incidentId, minutes: 15 }, 'secondary'),
        ),
      );
    }
    nodes.push(section);
  }
  if (r.verification) nodes.push(h(dom, 'section', { class: `verification ${r.verification.status}`, 'aria-label': 'Verification' }, h(dom, 'h3', {}, 'Verification'), h(dom, 'p', {}, `${r.verification.status}: ${r.verification.summary}`), r.verification.checks.length > 0 && h(dom, 'ul', {}, ...r.verification.checks.map((c) => h(dom, 'li', {}, `${c.status}: ${c.detail}`)))));
  if (r.logs.length || r.probes.length) {
    nodes.push(
      h(
        dom,
        'section',
        { 'aria-label': 'Logs and probes' },
        h(dom, 'h3', {}, 'Recent logs and probes'),
        r.logs.length > 0 && h(dom, 'ul', { class: 'logs' }, ...r.logs.map((l) => h(dom, 'li', {}, h(dom, 'span', { class: 'at' }, l.at), ' ', h(dom, 'code', {}, `${l.source}: `, ...linkified(dom, l.text))))),
        r.probes.length > 0 && h(dom, 'ul', { class: 'probes' }, ...r.probes.map((x) => h(dom, 'li', { class: x.ok ? 'pass' : 'fail' }, h(dom, 'span', { class: 'at' }, x.at), ` ${x.name}: ${x.detail}`))),
      ),
    );
  }
  // the timeline: focused, or every event
  const lines = (ui.showAll ? r.timeline.all : r.timeline.focused).filter((e) => e.t <= until);
  const more = r.timeline.all.length - r.timeline.focused.length;
  nodes.push(
    h(
      dom,
      'section',
      { 'aria-label': 'Timeline' },
      h(dom, 'h3', {}, ui.showAll ? `Timeline: all ${r.timeline.all.length} events` : 'Timeline: what mattered'),
      timelineList(dom, lines, ui.showAll ? 'All events' : 'Focused timeline'),
      more > 0 || ui.showAll ? toggle(dom, ui.showAll ? 'Show what mattered' : `Show all events (${formatNumber(r.timeline.all.length)})`, ui.showAll, () => setUi({ ...ui, showAll: !ui.showAll })) : false,
    ),
  );
  if (r.comparison.length) nodes.push(h(dom, 'section', { 'aria-label': 'Comparison' }, h(dom, 'h3', {}, 'Compared with what ran then'), h(dom, 'ul', {}, ...r.comparison.map((c) => h(dom, 'li', {}, c)))));
  if (r.notes.length) nodes.push(h(dom, 'details', {}, h(dom, 'summary', {}, 'Replay notes'), h(dom, 'ul', {}, ...r.notes.map((n) => h(dom, 'li', {}, n)))));
  return { nodes, charts };
}
