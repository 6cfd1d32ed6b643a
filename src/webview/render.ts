/**
 * Rendering of the Vigil webviews with createElement and text nodes only: every string may come
 * from the cluster (pod names, log lines, event messages), so nothing is ever parsed as HTML.
 * The document is passed in, so tests run these functions against a small fake DOM under mocha.
 */
import type { CopilotModel, IncidentView, SeriesView, ServiceView, WebviewToHost } from './protocol';

export interface DomElement {
  append(...nodes: Array<DomElement | DomText>): void;
  setAttribute(name: string, value: string): void;
  addEventListener(type: string, listener: (event: DomEvent) => void): void;
}
/** The part of an event the render functions read (a key press's key). */
export interface DomEvent {
  readonly key?: string;
  preventDefault(): void;
}
export type DomText = object;
export interface Dom {
  createElement(tag: string): DomElement;
  createElementNS(ns: string, tag: string): DomElement;
  createTextNode(text: string): DomText;
}

export type Post = (message: WebviewToHost) => void;
type Child = DomElement | string | undefined | false;

export const SVG_NS = 'http://www.w3.org/2000/svg';

/** An element with attributes and children; strings become text nodes. */
export function h(dom: Dom, tag: string, attrs: Record<string, string | undefined> = {}, ...children: Child[]): DomElement {
  const el = dom.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, v);
  appendAll(dom, el, children);
  return el;
}

function appendAll(dom: Dom, el: DomElement, children: Child[]): void {
  for (const c of children) {
    if (c === undefined || c === false) continue;
    el.append(typeof c === 'string' ? dom.createTextNode(c) : c);
  }
}

function button(dom: Dom, label: string, aria: string, onClick: () => void, cls = ''): DomElement {
  const b = h(dom, 'button', { type: 'button', class: cls || undefined, 'aria-label': aria }, label);
  b.addEventListener('click', onClick);
  return b;
}

/** Polyline points of `values` scaled into width × height; gaps (null) split nothing, they are skipped. */
export function sparkPoints(values: ReadonlyArray<number | null>, min: number, max: number, width: number, height: number): string {
  const n = values.length;
  const span = max - min || 1;
  const pts: string[] = [];
  values.forEach((v, i) => {
    if (v === null) return;
    const x = n <= 1 ? width : (i / (n - 1)) * width;
    const y = height - ((v - min) / span) * height;
    pts.push(`${x.toFixed(1)},${y.toFixed(1)}`);
  });
  return pts.join(' ');
}

/** A small SVG sparkline of one signal with its expected band as a shaded area. */
export function sparkline(dom: Dom, s: SeriesView, width = 120, height = 24): DomElement {
  const all = [...s.values, ...s.lower, ...s.upper].filter((v): v is number => v !== null);
  // a flat series sits mid-height instead of on the edge
  const lo = all.length ? Math.min(...all) : 0;
  const hi = all.length ? Math.max(...all) : 1;
  const pad = hi - lo > 1e-12 ? (hi - lo) * 0.1 : Math.abs(hi) * 0.1 || 1;
  const min = lo - pad;
  const max = hi + pad;
  const svg = dom.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `${s.label}: ${s.latest}${s.outside ? ', outside its expected band' : ''}`);
  svg.setAttribute('class', `spark${s.outside ? ' outside' : ''}`);
  const upper = sparkPoints(s.upper, min, max, width, height);
  const lower = sparkPoints(s.lower, min, max, width, height);
  if (upper && lower) {
    const band = dom.createElementNS(SVG_NS, 'polygon');
    band.setAttribute('points', `${upper} ${lower.split(' ').reverse().join(' ')}`);
    band.setAttribute('class', 'band');
    svg.append(band);
  }
  const line = dom.createElementNS(SVG_NS, 'polyline');
  line.setAttribute('points', sparkPoints(s.values, min, max, width, height));
  line.setAttribute('class', 'line');
  svg.append(line);
  const last = [...s.values].reverse().find((v) => v !== null);
  if (last !== undefined && last !== null) {
    // the latest value as a dot, so a series of one point still shows
    const [x, y] = sparkPoints([last], min, max, width, height).split(',');
    const dot = dom.createElementNS(SVG_NS, 'circle');
    dot.setAttribute('cx', String(Math.min(Number(x), width - 2)));
    dot.setAttribute('cy', y);
    dot.setAttribute('r', '2');
    dot.setAttribute('class', 'dot');
    svg.append(dot);
  }
  return svg;
}

const HEALTH_TEXT: Readonly<Record<ServiceView['health'], string>> = { healthy: 'healthy', degraded: 'degraded', incident: 'incident', unknown: 'no data yet' };

export function renderService(dom: Dom, s: ServiceView): DomElement {
  return h(
    dom,
    'li',
    { class: `service ${s.health}`, 'aria-label': `${s.name}: ${HEALTH_TEXT[s.health]}` },
    h(dom, 'div', { class: 'service-head' }, h(dom, 'span', { class: `badge ${s.health}` }, HEALTH_TEXT[s.health]), ' ', h(dom, 'span', { class: 'name' }, s.name)),
    s.health !== 'healthy' && h(dom, 'div', { class: 'reason' }, s.reason),
    h(dom, 'div', { class: 'sparks' }, ...s.series.map((x) => h(dom, 'figure', { class: 'spark-cell' }, sparkline(dom, x), h(dom, 'figcaption', {}, `${x.label} ${x.latest}`)))),
  );
}

/** "12 of 12 gates passed", or which gates hold the step. */
export function gatesSummary(gates: ReadonlyArray<{ gate: string; allowed: boolean }>): string {
  const held = gates.filter((g) => !g.allowed).map((g) => g.gate);
  return `Safety gates: ${gates.length - held.length} of ${gates.length} passed${held.length ? `; waiting on ${held.join(', ')}` : ''}`;
}

export function renderIncident(dom: Dom, i: IncidentView, post: Post): DomElement {
  const title = `${i.cluster !== undefined ? `[${i.cluster}] ` : ''}${i.diagnosis ?? 'anomaly'} — ${i.target}`;
  const article = h(dom, 'article', { class: `incident ${i.open ? 'open' : 'closed'}`, 'aria-label': `Incident ${title}, ${i.state}`, 'data-incident': i.id });
  appendAll(dom, article, [
    h(dom, 'div', { class: 'card-head' }, h(dom, 'h3', {}, title), button(dom, 'Open', `Open the incident room of ${title}`, () => post({ type: 'openIncident', incidentId: i.id }), 'secondary open-room')),
    h(dom, 'div', { class: 'meta' }, `state: ${i.state}`, i.confidence !== undefined ? ` · confidence ${i.confidence}%` : '', i.outcome ? ` · outcome: ${i.outcome}` : '', ` · ${i.id}`),
    i.summary !== undefined && h(dom, 'p', { class: 'summary' }, i.summary),
  ]);
  if (i.evidence.length) {
    article.append(h(dom, 'h4', {}, 'Evidence'), h(dom, 'ul', { class: 'evidence' }, ...i.evidence.map((e) => h(dom, 'li', {}, h(dom, 'span', { class: 'tag' }, e.kind), ' ', h(dom, 'code', {}, e.text)))));
  }
  const p = i.proposal;
  if (p) {
    // once decided, the proposal is history: folded away so the outcome stays in view
    const section = i.open
      ? h(dom, 'section', { class: 'proposal', 'aria-label': 'Proposed remediation' }, h(dom, 'h4', {}, 'Proposed remediation'), h(dom, 'p', {}, h(dom, 'code', {}, p.action)))
      : h(dom, 'details', { class: 'proposal' }, h(dom, 'summary', {}, 'Remediation: ', h(dom, 'code', {}, p.action)));
    if (p.dryRun) section.append(h(dom, 'p', { class: 'dry-run' }, /^dry run/i.test(p.dryRun) ? p.dryRun : `Dry run: ${p.dryRun}`));
    if (p.diff.length) {
      // stacked rather than a table: the sidebar is narrow and field paths are long
      section.append(
        h(
          dom,
          'ul',
          { class: 'diff', 'aria-label': 'Dry-run diff' },
          ...p.diff.map((d) =>
            h(dom, 'li', {}, h(dom, 'code', { class: 'path' }, d.path), h(dom, 'div', { class: 'before', 'aria-label': `now: ${d.before}` }, `− ${d.before}`), h(dom, 'div', { class: 'after', 'aria-label': `after: ${d.after}` }, `+ ${d.after}`)),
          ),
        ),
      );
    }
    section.append(
      h(
        dom,
        'details',
        { class: 'gates-box' },
        h(dom, 'summary', {}, gatesSummary(p.gates)),
        h(dom, 'ul', { class: 'gates', 'aria-label': 'Safety gates' }, ...p.gates.map((g) => h(dom, 'li', { class: g.allowed ? 'pass' : 'fail' }, g.allowed ? '✓ ' : '✗ ', h(dom, 'strong', {}, g.gate), `: ${g.reason}`))),
      ),
    );
    if (p.awaitingApproval && i.open) {
      section.append(
        h(
          dom,
          'div',
          { class: 'actions', role: 'group', 'aria-label': 'Decision' },
          button(dom, 'Approve', `Approve: ${p.action}`, () => post({ type: 'approve', incidentId: i.id, stepId: p.stepId }), 'primary'),
          button(dom, 'Reject', `Reject: ${p.action}`, () => post({ type: 'reject', incidentId: i.id }), 'secondary'),
          button(dom, 'Snooze 15 min', `Snooze incident ${i.id} for 15 minutes`, () => post({ type: 'snooze', incidentId: i.id, minutes: 15 }), 'secondary'),
        ),
      );
    }
    article.append(section);
  }
  if (i.verification) {
    article.append(
      h(
        dom,
        'section',
        { class: `verification ${i.verification.status}`, 'aria-label': 'Verification' },
        h(dom, 'h4', {}, 'Verification'),
        h(dom, 'p', {}, `${i.verification.status}: ${i.verification.summary}`),
        i.verification.checks.length > 0 && h(dom, 'ul', {}, ...i.verification.checks.map((c) => h(dom, 'li', {}, `${c.status}: ${c.detail}`))),
      ),
    );
  }
  if (i.timeline.length) {
    article.append(h(dom, 'details', {}, h(dom, 'summary', {}, `Timeline (${i.timeline.length})`), h(dom, 'ol', { class: 'timeline' }, ...i.timeline.map((e) => h(dom, 'li', {}, h(dom, 'span', { class: 'at' }, e.at), ' ', h(dom, 'span', { class: 'tag' }, e.kind), ' ', e.text)))));
  }
  return article;
}

/** The whole Copilot view. */
export function renderCopilot(dom: Dom, m: CopilotModel, post: Post): DomElement[] {
  const run = (command: string) => () => post({ type: 'command', command });
  const connected = m.connection.state === 'connected';
  const status = h(dom, 'p', { class: m.connection.state === 'error' ? 'error' : 'status', role: 'status' }, m.connection.message);
  const out: DomElement[] = [status];
  if (m.connection.fix) out.push(h(dom, 'p', { class: 'fix' }, m.connection.fix));
  const toolbar = h(dom, 'div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Vigil actions' });
  if (!connected) {
    toolbar.append(button(dom, 'Start sandbox', 'Start the sandbox cluster', run('vigil.startSandbox'), 'primary'), button(dom, 'Connect to cluster', 'Connect to a cluster', run('vigil.connectCluster'), 'secondary'));
  } else {
    toolbar.append(
      h(dom, 'span', { class: 'mode' }, `mode: ${m.mode}${m.paused ? ' (paused)' : ''}`),
      m.paused ? button(dom, 'Resume', 'Resume automation', run('vigil.resumeAutomation'), 'secondary') : button(dom, 'Pause', 'Pause automation', run('vigil.pauseAutomation'), 'secondary'),
      button(dom, 'Chaos…', 'Run a chaos experiment', run('vigil.runChaosExperiment'), 'secondary'),
      button(dom, 'Replay…', 'Replay an incident', run('vigil.replayIncident'), 'secondary'),
      button(dom, 'Report', 'Show the reliability report', run('vigil.showReliabilityReport'), 'secondary'),
    );
  }
  out.push(toolbar);
  const down = m.sources.filter((s) => s.state === 'down' || s.state === 'degraded');
  if (down.length) out.push(h(dom, 'ul', { class: 'sources error' }, ...down.map((s) => h(dom, 'li', {}, `${s.source}: ${s.message}`))));
  for (const s of m.sources.filter((x) => x.details?.length)) {
    const missing = s.details!.filter((d) => / not found — /.test(d)).length;
    out.push(
      h(
        dom,
        'details',
        { class: 'source-details' },
        h(dom, 'summary', {}, `${s.source}: ${s.details!.length - missing} of ${s.details!.length} signals found`),
        h(dom, 'ul', {}, ...s.details!.map((d) => h(dom, 'li', { class: / not found — /.test(d) ? 'error' : 'status' }, d))),
      ),
    );
  }
  if (!connected) return out;
  const open = m.incidents.filter((i) => i.open);
  out.push(h(dom, 'h2', {}, open.length ? `Incidents (${open.length} open)` : 'Incidents'));
  if (!m.incidents.length) out.push(h(dom, 'p', { class: 'status' }, 'No incidents.'));
  for (const i of m.incidents) out.push(renderIncident(dom, i, post));
  const healthy = m.services.filter((s) => s.health === 'healthy').length;
  out.push(h(dom, 'h2', {}, m.services.length ? `Services (${healthy} of ${m.services.length} healthy)` : 'Services'));
  if (!m.services.length) out.push(h(dom, 'p', { class: 'status' }, 'Waiting for the first samples…'));
  else out.push(h(dom, 'ul', { class: 'services' }, ...m.services.map((s) => renderService(dom, s))));
  return out;
}
