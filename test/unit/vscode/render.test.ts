import assert from 'node:assert/strict';
import { renderCopilot, renderIncident, sparkline, sparkPoints } from '../../../src/webview/render';
import type { CopilotModel, WebviewToHost } from '../../../src/webview/protocol';
import { incidentView } from '../../../src/vscode/viewModel';
import { EVIL, awaitingIncident } from './fixtures';
import { fakeDom, root, type FakeElement } from './fakeDom';

/** The decision buttons (every card also has Open, tested on its own). */
const buttons = (r: FakeElement) => r.find((e) => e.tag === 'button' && e.textContent !== 'Open');

describe('webview rendering', () => {
  it('renders pod names and log lines with HTML as text, never as elements', () => {
    const r = root([renderIncident(fakeDom, incidentView(awaitingIncident()), () => undefined)]);
    assert.deepEqual(r.find((e) => e.tag === 'img' || e.tag === 'script'), []);
    assert.ok(r.textContent.includes(`checkout-7f${EVIL}: NullPointerException ${EVIL}`));
    const html = r.outerHTML;
    assert.ok(html.includes('&lt;img src=x onerror="alert(1)"&gt;&lt;script&gt;alert(2)&lt;/script&gt;'), html);
    assert.doesNotMatch(html, /<img|<script/);
  });

  it('shows the diagnosis, confidence, dry-run diff and every gate of the proposed step', () => {
    const r = root([renderIncident(fakeDom, incidentView(awaitingIncident()), () => undefined)]);
    const text = r.textContent;
    assert.match(text, /bad release — shop\/checkout/);
    assert.match(text, /confidence 87%/);
    assert.match(text, /rollout undo deployment shop\/checkout/);
    assert.match(text, /Dry run: would roll back shop\/checkout from revision 2 to 1/);
    const diff = r.find((e) => e.attrs.get('aria-label') === 'Dry-run diff')[0];
    assert.deepEqual(diff.find((e) => e.tag === 'li').map((e) => e.textContent), ['spec.template.spec.containers[0].image− shop/checkout:1.1-bad+ shop/checkout:1.0']);
    const gates = r.find((e) => e.attrs.get('class') === 'pass' || e.attrs.get('class') === 'fail').map((e) => `${e.attrs.get('class')} ${e.textContent}`);
    assert.deepEqual(gates, ['pass ✓ namespace-policy: shop is allowed', 'fail ✗ approval: suggest mode: waiting for a human']);
    assert.ok(r.find((e) => e.tag === 'summary').some((e) => e.textContent === 'Safety gates: 1 of 2 passed; waiting on approval'));
  });

  it('Approve, Reject and Snooze are real, labelled buttons that post typed messages (Approve names the step shown)', () => {
    const posted: WebviewToHost[] = [];
    const r = root([renderIncident(fakeDom, incidentView(awaitingIncident()), (m) => posted.push(m))]);
    const bs = buttons(r);
    assert.deepEqual(bs.map((b) => b.textContent), ['Approve', 'Reject', 'Snooze 15 min']);
    for (const b of bs) {
      assert.equal(b.attrs.get('type'), 'button');
      assert.ok((b.attrs.get('aria-label') ?? '').length > 5);
      b.click();
    }
    assert.deepEqual(posted, [
      { type: 'approve', incidentId: 'inc-1', stepId: 'rollback' },
      { type: 'reject', incidentId: 'inc-1' },
      { type: 'snooze', incidentId: 'inc-1', minutes: 15 },
    ]);
  });

  it('offers no decision once the step is approved, and shows verification reaching "recovered"', () => {
    const base = awaitingIncident();
    const recovered = awaitingIncident({
      state: 'recovered',
      outcome: { kind: 'recovered', t: base.openedAt + 90_000, recoveredBy: 'rollback' },
      timeline: [
        ...base.timeline,
        { t: base.openedAt + 30_000, kind: 'approved', stepId: 'rollback', by: 'user:alice (vscode)' },
        { t: base.openedAt + 90_000, kind: 'verified', stepId: 'rollback', verdict: { status: 'recovered', t: base.openedAt + 90_000, checks: [], summary: 'error_ratio back in band' } },
      ],
    });
    const r = root([renderIncident(fakeDom, incidentView(recovered), () => undefined)]);
    assert.deepEqual(buttons(r), []);
    assert.match(r.textContent, /recovered: error_ratio back in band/);
    assert.match(r.textContent, /outcome: recovered/);
  });

  it('each incident card opens its incident room', () => {
    const posted: WebviewToHost[] = [];
    const r = root([renderIncident(fakeDom, incidentView(awaitingIncident()), (m) => posted.push(m))]);
    const open = r.find((e) => e.tag === 'button' && e.textContent === 'Open');
    assert.equal(open.length, 1);
    assert.equal(open[0].attrs.get('aria-label'), 'Open the incident room of bad release — shop/checkout');
    open[0].click();
    assert.deepEqual(posted, [{ type: 'openIncident', incidentId: 'inc-1' }]);
  });

  it('disconnected: the status line says how to connect, with buttons for both ways', () => {
    const model: CopilotModel = { connection: { state: 'disconnected', message: 'Not connected. Run "Vigil: Start Sandbox Cluster" or "Vigil: Connect to Cluster".' }, mode: 'suggest', paused: false, services: [], incidents: [], sources: [] };
    const posted: WebviewToHost[] = [];
    const r = root(renderCopilot(fakeDom, model, (m) => posted.push(m)));
    assert.equal(r.children[0] instanceof Object && (r.children[0] as FakeElement).tag, 'p');
    assert.match(r.textContent, /Not connected/);
    for (const b of buttons(r)) b.click();
    assert.deepEqual(posted, [
      { type: 'command', command: 'vigil.startSandbox' },
      { type: 'command', command: 'vigil.connectCluster' },
    ]);
  });

  it('a service name with HTML in the health list stays text', () => {
    const model: CopilotModel = {
      connection: { state: 'connected', message: 'Connected' },
      mode: 'suggest',
      paused: false,
      incidents: [],
      sources: [],
      services: [{ key: 'k', name: `shop/${EVIL}`, health: 'healthy', reason: 'ok', series: [{ signal: 'error_ratio', label: 'errors', values: [0.01, 0.02], lower: [0, 0], upper: [0.05, 0.05], latest: '2.0%', outside: false }] }],
    };
    const r = root(renderCopilot(fakeDom, model, () => undefined));
    assert.deepEqual(r.find((e) => e.tag === 'img' || e.tag === 'script'), []);
    assert.match(r.textContent, /Services \(1 of 1 healthy\)/);
    assert.ok(r.find((e) => e.tag === 'svg' && e.ns === 'http://www.w3.org/2000/svg').length === 1);
  });

  it('the Prometheus source lists per signal the metric it found, and what to put in the signals file for one it did not', () => {
    const details = [
      'request_rate (service): http_server_requests_seconds_count (Spring Boot (Micrometer))',
      `restarts (service): not found — Prometheus has none of kube_pod_container_status_restarts_total; add an entry to the signals file (prometheus.signalsFile), e.g.\n- signal: restarts ${EVIL}`,
    ];
    const model: CopilotModel = {
      connection: { state: 'connected', message: 'Connected' },
      mode: 'suggest',
      paused: false,
      incidents: [],
      services: [],
      sources: [{ source: 'prometheus', state: 'degraded', message: 'signal restarts (service): no metric found', details }],
    };
    const r = root(renderCopilot(fakeDom, model, () => undefined));
    const block = r.find((e) => e.tag === 'details' && e.attrs.get('class') === 'source-details')[0];
    assert.ok(block, 'a details block for the source');
    assert.match(block.find((e) => e.tag === 'summary')[0].textContent, /^prometheus: 1 of 2 signals found$/);
    const items = block.find((e) => e.tag === 'li');
    assert.deepEqual(items.map((li) => li.attrs.get('class')), ['status', 'error']);
    assert.match(items[1].textContent, /- signal: restarts/);
    assert.doesNotMatch(r.outerHTML, /<img|<script/);
  });

  it('a sparkline of one point still shows it, and a flat series sits inside the box', () => {
    const svg = root([]);
    svg.append(sparkline(fakeDom, { signal: 'memory', label: 'memory', values: [5, 5], lower: [null, null], upper: [null, null], latest: '5', outside: false }, 100, 20));
    const dot = svg.find((e) => e.tag === 'circle')[0];
    assert.equal(dot.attrs.get('cy'), '10.0');
    const line = svg.find((e) => e.tag === 'polyline')[0];
    assert.equal(line.attrs.get('points'), '0.0,10.0 100.0,10.0');
  });

  it('sparkPoints scales values into the box and skips gaps', () => {
    assert.equal(sparkPoints([0, null, 10], 0, 10, 100, 20), '0.0,20.0 100.0,0.0');
    assert.equal(sparkPoints([5], 0, 10, 100, 20), '100.0,10.0');
  });

});
