import assert from 'node:assert/strict';
import type { Incident } from '../../../src/core/model/incident';
import type { TargetRef } from '../../../src/core/model/target';
import type { WorkloadInventory } from '../../../src/core/ports';
import { layoutColumns, MAP_NODE_HEIGHT, MAP_NODE_WIDTH, serviceMapView } from '../../../src/vscode/serviceMapModel';
import type { ServiceView, WebviewToHost } from '../../../src/webview/protocol';
import { renderServiceMap } from '../../../src/webview/serviceMap';
import { HOSTILE } from '../learn/storyFixtures';
import { fakeDom, root, type FakeElement } from './fakeDom';

const svc = (ns: string, name: string): TargetRef => ({ kind: 'service', namespace: ns, name });

/** The sandbox's shop: frontend calls cart and checkout, checkout calls payments-api (another namespace). */
function inventory(extra: Array<{ target: TargetRef; dependsOn?: string }> = []): WorkloadInventory {
  const entries = [
    { target: svc('shop', 'frontend'), dependsOn: 'cart, checkout' },
    { target: svc('shop', 'cart') },
    { target: svc('shop', 'checkout'), dependsOn: 'payments/payments-api' },
    { target: svc('payments', 'payments-api') },
    ...extra,
  ];
  return {
    services: entries.map((e) => ({
      target: e.target,
      revision: 1,
      image: `${e.target.name}:1`,
      replicas: 2,
      availableReplicas: 2,
      rolloutInProgress: false,
      pods: [],
      labels: {},
      annotations: (e.dependsOn ? { 'vigil.dev/depends-on': e.dependsOn } : {}) as Record<string, string>,
    })),
    nodes: [],
  };
}

function service(key: string, health: ServiceView['health'], errors = '0.2%'): ServiceView {
  return { key, name: key.replace('service:', ''), health, reason: health === 'healthy' ? 'within its expected band' : 'error_ratio 9% > 5%', series: [{ signal: 'error_ratio', label: 'errors', values: [], lower: [], upper: [], latest: errors, outside: health !== 'healthy' }] };
}

function incident(id: string, target: TargetRef, cause: TargetRef, state: Incident['state'] = 'awaiting-approval', affected: TargetRef[] = []): Incident {
  return { id, target, state, openedAt: 0, updatedAt: 0, diagnosis: { kind: 'dependency-outage', target: cause, confidence: 0.8, t: 0, summary: 's', evidence: [], details: { affected } }, timeline: [], recording: { frames: [], facts: [], logs: [] } } as unknown as Incident;
}

describe('service map', () => {
  it('lays services out in columns from callers to callees, the same way every time', () => {
    const keys = ['a', 'b', 'c', 'd', 'e'];
    const place = layoutColumns(keys, [
      ['a', 'b'],
      ['a', 'c'],
      ['b', 'd'],
      ['c', 'd'],
    ]);
    assert.deepEqual(
      keys.map((k) => [k, place.get(k)?.column]),
      [
        ['a', 0],
        ['b', 1],
        ['c', 1],
        ['d', 2],
        ['e', 0],
      ],
    );
    // a callee sits one column right of its deepest caller
    assert.equal(layoutColumns(['a', 'b', 'c'], [['a', 'b'], ['b', 'c'], ['a', 'c']]).get('c')?.column, 2);
    // rows in a column are distinct
    const col0 = keys.filter((k) => place.get(k)?.column === 0).map((k) => place.get(k)?.row);
    assert.equal(new Set(col0).size, col0.length);
    assert.deepEqual(layoutColumns([...keys].reverse(), [['c', 'd'], ['a', 'c'], ['b', 'd'], ['a', 'b']]), place, 'order of input does not matter');
  });

  it('cuts a call cycle instead of looping, and ignores edges to unknown services and self-calls', () => {
    const place = layoutColumns(['a', 'b', 'c'], [
      ['a', 'b'],
      ['b', 'c'],
      ['c', 'a'],
      ['a', 'a'],
      ['a', 'zz'],
    ]);
    assert.deepEqual([...place.values()].map((p) => p.column).sort(), [0, 1, 2]);
    assert.equal(place.size, 3);
  });

  it('maps the declared graph with each service’s health, the incident’s target and the blamed cause', () => {
    const inc = incident('inc-1', svc('shop', 'checkout'), svc('payments', 'payments-api'), 'awaiting-approval', [svc('shop', 'frontend')]);
    const map = serviceMapView({
      inventory: inventory(),
      services: [service('service:shop/frontend', 'incident'), service('service:shop/cart', 'healthy'), service('service:shop/checkout', 'incident', '9.1%'), service('service:payments/payments-api', 'degraded')],
      incidents: [inc],
      focus: inc,
    });
    const node = (k: string) => map.nodes.find((n) => n.key === k);
    assert.deepEqual(map.nodes.map((n) => n.key), ['service:payments/payments-api', 'service:shop/cart', 'service:shop/checkout', 'service:shop/frontend']);
    assert.deepEqual(
      map.edges.map((e) => `${e.from} -> ${e.to} ${e.source}${e.incident ? ' incident' : ''}`).sort(),
      ['service:shop/checkout -> service:payments/payments-api declared incident', 'service:shop/frontend -> service:shop/cart declared', 'service:shop/frontend -> service:shop/checkout declared incident'],
    );
    assert.equal(node('service:payments/payments-api')?.focus, 'cause');
    assert.equal(node('service:payments/payments-api')?.health, 'incident', 'the blamed cause has the open incident on it');
    assert.deepEqual(node('service:payments/payments-api')?.incidents, [{ id: 'inc-1', title: 'dependency outage — shop/checkout', cause: true }]);
    assert.equal(node('service:shop/checkout')?.focus, 'target');
    assert.equal(node('service:shop/frontend')?.focus, 'affected');
    assert.equal(node('service:shop/cart')?.focus, undefined);
    assert.equal(node('service:shop/cart')?.health, 'healthy');
    assert.deepEqual(node('service:shop/checkout')?.signals, [{ label: 'errors', latest: '9.1%', outside: true }]);
    // callers left of callees, every box inside the map
    assert.ok((node('service:shop/frontend')?.x ?? 0) < (node('service:shop/checkout')?.x ?? 0));
    assert.ok((node('service:shop/checkout')?.x ?? 0) < (node('service:payments/payments-api')?.x ?? 0));
    for (const n of map.nodes) assert.ok(n.x >= 0 && n.y >= 0 && n.x + MAP_NODE_WIDTH <= map.width && n.y + MAP_NODE_HEIGHT <= map.height, `${n.key} inside the map`);
  });

  it('a closed incident is not highlighted; a declared callee missing from the inventory is shown as unknown; a node cause is noted', () => {
    const closed = incident('inc-old', svc('shop', 'cart'), svc('shop', 'cart'), 'recovered');
    const nodeCause = incident('inc-node', svc('shop', 'cart'), { kind: 'node', name: 'node-2' });
    const map = serviceMapView({ inventory: inventory([{ target: svc('shop', 'search'), dependsOn: 'shop/index' }]), services: [service('service:shop/cart', 'healthy')], incidents: [closed, nodeCause], focus: closed });
    const cart = map.nodes.find((n) => n.key === 'service:shop/cart');
    assert.deepEqual(cart?.incidents.map((i) => i.id), ['inc-node']);
    assert.equal(cart?.focus, 'cause', 'the room of a closed incident still marks its own cause');
    const index = map.nodes.find((n) => n.key === 'service:shop/index');
    assert.equal(index?.health, 'unknown');
    assert.match(index?.reason ?? '', /declared as a dependency; not in the cluster inventory/);
    assert.deepEqual(map.notes, ['inc-node: the blamed cause is node/node-2, not a service; it is not on the map.']);
  });

  it('renders SVG through DOM calls: focusable buttons, the cause marked, hostile names as text, Enter shows the signals', () => {
    const inc = incident('inc-1', svc('shop', 'checkout'), svc('payments', 'payments-api'));
    const hostile = svc('shop', 'x');
    const map = serviceMapView({ inventory: inventory([{ target: hostile }]), services: [service('service:shop/checkout', 'incident', '9.1%')], incidents: [inc], focus: inc });
    // a label from the cluster that looks like markup (names are validated by Kubernetes; reasons are free text)
    const withHostile = { ...map, nodes: map.nodes.map((n) => (n.key === 'service:shop/x' ? { ...n, label: HOSTILE, reason: HOSTILE } : n)) };
    let selected: string | undefined;
    const posted: WebviewToHost[] = [];
    const r = root([renderServiceMap(fakeDom, withHostile, undefined, (k) => (selected = k), (m) => posted.push(m))]);
    const svgs = r.find((e) => e.tag === 'svg');
    assert.equal(svgs.length, 1);
    assert.equal(svgs[0].ns, 'http://www.w3.org/2000/svg');
    const nodes = r.find((e) => e.tag === 'g' && (e.attrs.get('class') ?? '').includes('map-node'));
    assert.equal(nodes.length, 5);
    for (const n of nodes) {
      assert.equal(n.attrs.get('tabindex'), '0');
      assert.equal(n.attrs.get('role'), 'button');
      assert.equal(n.ns, 'http://www.w3.org/2000/svg');
    }
    const cause = nodes.find((n) => n.attrs.get('data-key') === 'service:payments/payments-api') as FakeElement;
    assert.match(cause.attrs.get('class') ?? '', /\bcause\b/);
    assert.match(cause.textContent, /⚠ open incident · blamed cause/);
    const target = nodes.find((n) => n.attrs.get('data-key') === 'service:shop/checkout') as FakeElement;
    assert.equal(target.attrs.get('data-focus'), 'target');
    assert.equal(target.attrs.get('data-health'), 'incident');
    // hostile text is a text node: escaped in the markup, never an element
    assert.ok(!r.find((e) => e.tag === 'img').length);
    assert.ok(r.outerHTML.includes('&lt;img src=x onerror=alert(1)&gt;'));
    // keyboard: Enter and Space select, other keys do nothing
    assert.equal(target.fire('keydown', { key: 'a' }), false);
    assert.equal(selected, undefined);
    assert.equal(target.fire('keydown', { key: 'Enter' }), true);
    assert.equal(selected, 'service:shop/checkout');
    selected = undefined;
    target.click();
    assert.equal(selected, 'service:shop/checkout');
    // selected: its signals and its incident with an Open button
    const again = root([renderServiceMap(fakeDom, map, 'service:shop/checkout', (k) => (selected = k), (m) => posted.push(m))]);
    const details = again.find((e) => e.attrs.get('class') === 'map-details')[0];
    assert.match(details.textContent, /shop\/checkout: open incident · this incident/);
    assert.match(details.textContent, /errors: 9\.1% \(outside its expected band\)/);
    const open = again.find((e) => e.tag === 'button' && e.attrs.get('aria-label') === 'Open the incident room of inc-1')[0];
    open.click();
    assert.deepEqual(posted, [{ type: 'openIncident', incidentId: 'inc-1' }]);
    // selecting it again clears the selection
    (again.find((e) => e.attrs.get('data-key') === 'service:shop/checkout')[0]).click();
    assert.equal(selected, undefined);
  });
  it('draws calls seen only in mesh or trace metrics as inferred (dashed) edges, naming where each edge came from', () => {
    const map = serviceMapView({
      inventory: inventory(),
      observedCalls: [
        { caller: svc('shop', 'cart'), callee: svc('payments', 'payments-api'), source: 'tracing', perSecond: 2 },
        { caller: svc('shop', 'checkout'), callee: svc('payments', 'payments-api'), source: 'istio', perSecond: 12 },
      ],
      services: [],
      incidents: [],
    });
    const line = (e: (typeof map.edges)[number]) => `${e.from} -> ${e.to} ${e.source} [${e.via.join(',')}]`;
    assert.deepEqual(map.edges.map(line).sort(), [
      'service:shop/cart -> service:payments/payments-api inferred [tracing]',
      'service:shop/checkout -> service:payments/payments-api declared [annotation,istio]',
      'service:shop/frontend -> service:shop/cart declared [annotation]',
      'service:shop/frontend -> service:shop/checkout declared [annotation]',
    ]);
    const r = root([renderServiceMap(fakeDom, map, undefined, () => undefined, () => undefined)]);
    const inferred = r.find((e) => e.tag === 'path' && e.attrs.get('data-from') === 'service:shop/cart')[0];
    assert.match(inferred.attrs.get('class') ?? '', /\bmap-edge inferred\b/);
    assert.equal(inferred.textContent, 'service:shop/cart calls service:payments/payments-api (tracing)');
  });
});
