/**
 * The service map in the incident room: SVG built with createElementNS and text nodes only (no innerHTML, nothing
 * parsed), coloured by CSS classes that read --vscode-* variables. Each service is a focusable button: click, Enter
 * or Space shows its signals below the map.
 */
import type { MapNodeView, ServiceMapView } from './protocol';
import { h, SVG_NS, type Dom, type DomElement, type Post } from './render';

const HEALTH_WORDS: Readonly<Record<MapNodeView['health'], string>> = { healthy: 'healthy', degraded: 'degraded', incident: 'open incident', unknown: 'no signals' };
const FOCUS_WORDS: Readonly<Record<NonNullable<MapNodeView['focus']>, string>> = { target: 'this incident', cause: 'blamed cause', affected: 'affected' };
const LABEL_CHARS = 24;

function svg(dom: Dom, tag: string, attrs: Record<string, string | undefined>, ...children: Array<DomElement | string>): DomElement {
  const el = dom.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, v);
  for (const c of children) el.append(typeof c === 'string' ? dom.createTextNode(c) : c);
  return el;
}

/** What a screen reader says for a service, and what its second line shows. */
export function nodeWords(n: MapNodeView): { readonly aria: string; readonly status: string } {
  const status = [HEALTH_WORDS[n.health], n.focus && FOCUS_WORDS[n.focus], n.incidents.some((i) => i.cause) && n.focus !== 'cause' ? 'blamed cause' : undefined].filter(Boolean).join(' · ');
  return { aria: `${n.label}: ${status}; ${n.reason}`, status };
}

function shortLabel(label: string): string {
  return label.length > LABEL_CHARS ? `${label.slice(0, LABEL_CHARS - 1)}…` : label;
}

/** The map and, below it, the signals of the selected service; `select` re-renders with another selection. */
export function renderServiceMap(dom: Dom, map: ServiceMapView, selected: string | undefined, select: (key: string | undefined) => void, post: Post): DomElement {
  const W = map.nodeWidth;
  const H = map.nodeHeight;
  const at = new Map(map.nodes.map((n) => [n.key, n]));
  const root = svg(dom, 'svg', {
    class: 'service-map',
    viewBox: `0 0 ${map.width} ${map.height}`,
    width: String(map.width),
    height: String(map.height),
    role: 'group',
    'aria-label': `Service map: ${map.nodes.length} services, ${map.edges.length} calls`,
  });
  root.append(
    svg(dom, 'defs', {}, svg(dom, 'marker', { id: 'map-arrow', viewBox: '0 0 10 10', refX: '10', refY: '5', markerWidth: '7', markerHeight: '7', orient: 'auto' }, svg(dom, 'path', { d: 'M0,0 L10,5 L0,10 z', class: 'map-arrowhead' }))),
  );
  for (const e of map.edges) {
    const a = at.get(e.from);
    const b = at.get(e.to);
    if (!a || !b) continue;
    const x1 = a.x + W;
    const y1 = a.y + H / 2;
    const x2 = b.x;
    const y2 = b.y + H / 2;
    // forward calls bend between the columns; a call back to an earlier column (a cycle) arcs below both boxes
    const d = x2 > x1 ? `M${x1},${y1} C${(x1 + x2) / 2},${y1} ${(x1 + x2) / 2},${y2} ${x2},${y2}` : `M${a.x + W / 2},${a.y + H} C${a.x + W / 2},${Math.max(a.y, b.y) + 2 * H} ${b.x + W / 2},${Math.max(a.y, b.y) + 2 * H} ${b.x + W / 2},${b.y + H}`;
    root.append(svg(dom, 'path', { d, class: `map-edge ${e.source}${e.incident ? ' incident' : ''}`, 'marker-end': 'url(#map-arrow)', 'data-from': e.from, 'data-to': e.to }, svg(dom, 'title', {}, `${e.from} calls ${e.to} (${e.via.length ? e.via.join(', ') : e.source})`)));
  }
  for (const n of map.nodes) {
    const words = nodeWords(n);
    const cause = n.focus === 'cause' || n.incidents.some((i) => i.cause);
    const g = svg(
      dom,
      'g',
      {
        class: `map-node health-${n.health}${n.focus ? ` focus-${n.focus}` : ''}${cause ? ' cause' : ''}${n.key === selected ? ' selected' : ''}`,
        transform: `translate(${n.x},${n.y})`,
        tabindex: '0',
        role: 'button',
        'aria-pressed': String(n.key === selected),
        'aria-label': words.aria,
        'data-key': n.key,
        'data-health': n.health,
        'data-focus': n.focus,
      },
      svg(dom, 'title', {}, words.aria),
      svg(dom, 'rect', { width: String(W), height: String(H), rx: '4', ry: '4' }),
      svg(dom, 'text', { x: '8', y: '16', class: 'map-label' }, shortLabel(n.label)),
      svg(dom, 'text', { x: '8', y: '32', class: 'map-status' }, `${cause ? '⚠ ' : ''}${words.status}`),
    );
    const choose = () => select(n.key === selected ? undefined : n.key);
    g.addEventListener('click', choose);
    g.addEventListener('keydown', (ev) => {
      if (ev.key !== 'Enter' && ev.key !== ' ') return;
      ev.preventDefault();
      choose();
    });
    root.append(g);
  }
  const section = h(
    dom,
    'section',
    { class: 'map', 'aria-label': 'Service map' },
    h(dom, 'h3', {}, 'Service map'),
    h(dom, 'p', { class: 'meta' }, 'Arrows go from caller to callee: solid where declared with the vigil.dev/depends-on annotation, dashed where only mesh or trace metrics show the calls. Select a service for its signals.'),
    h(dom, 'div', { class: 'map-scroll' }, root),
  );
  const chosen = selected !== undefined ? at.get(selected) : undefined;
  if (chosen) {
    section.append(
      h(
        dom,
        'div',
        { class: 'map-details', role: 'region', 'aria-live': 'polite', 'aria-label': `Signals of ${chosen.label}` },
        h(dom, 'h4', {}, `${chosen.label}: ${nodeWords(chosen).status}`),
        h(dom, 'p', {}, chosen.reason),
        chosen.signals.length > 0
          ? h(dom, 'ul', { class: 'map-signals' }, ...chosen.signals.map((s) => h(dom, 'li', { class: s.outside ? 'outside' : undefined }, `${s.label}: ${s.latest}${s.outside ? ' (outside its expected band)' : ''}`)))
          : h(dom, 'p', { class: 'status' }, 'No samples of its signals yet.'),
        chosen.incidents.length > 0 &&
          h(
            dom,
            'ul',
            { class: 'map-incidents' },
            ...chosen.incidents.map((i) => {
              const b = h(dom, 'button', { type: 'button', class: 'secondary', 'aria-label': `Open the incident room of ${i.id}` }, 'Open');
              b.addEventListener('click', () => post({ type: 'openIncident', incidentId: i.id }));
              return h(dom, 'li', {}, `${i.title}${i.cause ? ' (blamed here)' : ''} `, b);
            }),
          ),
      ),
    );
  }
  if (map.notes.length) section.append(h(dom, 'ul', { class: 'meta' }, ...map.notes.map((n) => h(dom, 'li', {}, n))));
  return section;
}
