import assert from 'node:assert/strict';
import { replayIncident } from '../../../src/core/learn/replay';
import { roomView } from '../../../src/vscode/roomModel';
import type { RoomView, WebviewToHost } from '../../../src/webview/protocol';
import { linkified, renderRoom, type RoomUiState } from '../../../src/webview/room';
import { badRelease, HOSTILE, JS_URL } from '../learn/storyFixtures';
import { fakeDom, root, type FakeElement } from './fakeDom';

const T0 = Date.UTC(2026, 11, 1, 10, 0, 0);
const UI: RoomUiState = { showAll: false, tables: false };

function awaiting() {
  const { incident, times } = badRelease('inc-r', T0, { approved: true });
  // as it was while waiting for the human: nothing after the proposal
  const open = { ...incident, state: 'awaiting-approval' as const, outcome: undefined, updatedAt: times.detection + 1100, timeline: incident.timeline.filter((e) => e.t <= times.detection + 1100) };
  return { incident: open, times };
}

function render(view: RoomView, ui: RoomUiState = UI, posted: WebviewToHost[] = []) {
  let next: RoomUiState | undefined;
  const out = renderRoom(fakeDom, view, ui, (m) => posted.push(m), (u) => (next = u));
  return { r: root(out.nodes), charts: out.charts, next: () => next };
}

describe('incident room', () => {
  it('charts the signals the evidence names over the incident, with the replayed core’s bands and the markers', async () => {
    const { incident, times } = badRelease('inc-r', T0, { approved: true });
    const replay = await replayIncident(incident);
    assert.ok((replay.series ?? []).length > 20, 'the replayed core gives a band at every interval');
    const view = roomView({ incident, cluster: 'the sandbox cluster', mode: 'live', replay });
    assert.equal(view.charts[0].signal, 'error_ratio');
    const errors = view.charts[0];
    assert.equal(errors.label, '5xx');
    assert.ok(errors.t[0] <= times.release - 60_000 + 5000 && errors.t[errors.t.length - 1] >= times.recovered, 'from a minute before the release to after recovery');
    assert.ok(errors.values.some((v) => v !== null && v > 0.08));
    assert.ok(errors.upper.filter((v) => v !== null).length >= errors.t.length - 1, 'a band at (almost) every point');
    assert.deepEqual(view.markers.map((m) => m.kind), ['change', 'coincident-change', 'onset', 'detection', 'action', 'recovery']);
    assert.equal(view.cluster, 'the sandbox cluster');
    assert.equal(view.confidence, 84);
    assert.deepEqual(view.alternatives, [{ diagnosis: 'bad feature flag', confidence: 31 }]);
  });

  it('shows the header, the evidence once per finding, the focused timeline, and Approve posts the step shown', () => {
    const { incident } = awaiting();
    const view = roomView({ incident, cluster: 'the sandbox cluster', mode: 'live' });
    const posted: WebviewToHost[] = [];
    const { r, charts } = render(view, UI, posted);
    const text = r.textContent;
    assert.match(text, /bad release — shop\/frontend/);
    assert.match(text, /clusterthe sandbox cluster/);
    assert.match(text, /confidence84%/);
    assert.equal(charts.length, view.charts.length);
    const evidence = r.find((e) => e.attrs.get('aria-label') === 'Evidence')[0];
    assert.equal(evidence.find((e) => e.tag === 'li').filter((li) => /rule HighErrorRatio/.test(li.textContent)).length, 1);
    const timeline = r.find((e) => e.attrs.get('aria-label') === 'Focused timeline')[0];
    assert.ok(timeline.find((e) => e.tag === 'li').length <= 12);
    const approve = r.find((e) => e.tag === 'button' && e.textContent === 'Approve')[0];
    approve.click();
    assert.deepEqual(posted, [{ type: 'approve', incidentId: 'inc-r', stepId: 'roll-back' }]);
  });

  it('shows a hostile Alertmanager summary and a javascript: runbook_url as text; an http(s) runbook becomes a link', () => {
    const { incident } = awaiting();
    const alert = (name: string, summary: string, runbookUrl: string) => ({ kind: 'alert' as const, alert: { name, labels: { alertname: name }, startsAt: incident.openedAt, summary, runbookUrl, fingerprint: name, source: 'alertmanager' as const } });
    const withAlerts = { ...incident, diagnosis: { ...incident.diagnosis!, evidence: [...incident.diagnosis!.evidence, alert('FrontendErrors', HOSTILE, JS_URL), alert('FrontendLatency', 'p99 over 1 s', 'https://runbooks.example.com/latency')] } };
    const { r } = render(roomView({ incident: withAlerts, cluster: 'c', mode: 'live' }));
    const evidence = r.find((e) => e.attrs.get('aria-label') === 'Evidence')[0];
    assert.ok(evidence, 'the evidence section');
    assert.ok(evidence.textContent.includes(`Alert FrontendErrors firing: ${HOSTILE} — runbook ${JS_URL}`), evidence.textContent);
    assert.deepEqual(evidence.find((e) => e.tag === 'img' || e.tag === 'script'), []);
    assert.ok(evidence.outerHTML.includes('&lt;img src=x onerror=alert(1)&gt;'));
    assert.deepEqual(evidence.find((e) => e.tag === 'a').map((a) => a.attrs.get('href')), ['https://runbooks.example.com/latency']);
  });

  it('shows hostile strings in event messages, logs, annotations and flag values as text; only http(s) URLs become links', () => {
    const { incident } = awaiting();
    const view = roomView({ incident, cluster: 'c', mode: 'live' });
    for (const ui of [UI, { showAll: true, tables: true }]) {
      const { r } = render(view, ui);
      assert.deepEqual(r.find((e) => e.tag === 'img' || e.tag === 'script'), []);
      const html = r.outerHTML;
      assert.doesNotMatch(html, /<img|<script/);
      assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;'), 'the markup is shown as text');
      const links = r.find((e) => e.tag === 'a');
      assert.ok(links.every((a) => /^https?:\/\//.test(a.attrs.get('href') ?? '')), links.map((a) => a.attrs.get('href')).join());
      if (ui.showAll) assert.deepEqual(links.map((a) => a.attrs.get('href')), ['https://runbooks.example.com/frontend']);
      assert.ok(r.textContent.includes(JS_URL), 'a javascript: URL stays text');
      assert.ok(r.textContent.includes(`checkout.v2 set to ${HOSTILE}`) || !ui.showAll);
    }
    // the flag value in the dry-run diff and the annotation in the summary
    const { r } = render(view);
    assert.ok(r.textContent.includes(`+ ${HOSTILE}`));
    assert.ok(r.textContent.includes(`Annotation: ${HOSTILE}`));
  });

  it('linkified: http(s) only, trailing punctuation left out', () => {
    const out = linkified(fakeDom, `see https://a.example/x?y=1, ${JS_URL} and data:text/html,<b>x</b> or HTTP://B.example.`);
    const links = out.filter((x): x is FakeElement => typeof x !== 'string');
    assert.deepEqual(links.map((a) => a.attrs.get('href')), ['https://a.example/x?y=1', 'http://b.example/']);
    assert.equal(out.filter((x) => typeof x === 'string').join(''), `see , ${JS_URL} and data:text/html,<b>x</b> or .`);
  });

  it('a table toggle gives every chart as text; "show all" unfolds the timeline', () => {
    const { incident } = badRelease('inc-r', T0);
    const view = roomView({ incident, cluster: 'c', mode: 'live' });
    const first = render(view);
    first.r.find((e) => e.tag === 'button' && e.textContent === 'Show as tables')[0].click();
    assert.deepEqual(first.next(), { showAll: false, tables: true });
    const tables = render(view, { showAll: false, tables: true });
    assert.equal(tables.charts.length, 0);
    const rows = tables.r.find((e) => e.tag === 'table')[0].find((e) => e.tag === 'tr');
    assert.equal(rows.length, view.charts[0].t.length + 1);
    assert.doesNotMatch(tables.r.textContent, /\d[eE][+-]?\d/);
    first.r.find((e) => e.tag === 'button' && /^Show all events/.test(e.textContent))[0].click();
    assert.deepEqual(first.next(), { showAll: true, tables: false });
    const all = render(view, { showAll: true, tables: false });
    assert.equal(all.r.find((e) => e.attrs.get('aria-label') === 'All events')[0].find((e) => e.tag === 'li').length, view.timeline.all.length);
  });

  it('replay is the same view with a scrubber and the what-if toggle', async () => {
    const { incident, times } = badRelease('inc-r', T0);
    const replay = await replayIncident(incident);
    const view = roomView({ incident, cluster: 'c', mode: 'recorded', replay });
    const posted: WebviewToHost[] = [];
    const scrubbed = render(view, { ...UI, scrubT: times.detection }, posted);
    const scrubber = scrubbed.r.find((e) => e.tag === 'input' && e.attrs.get('type') === 'range')[0];
    assert.equal(scrubber.attrs.get('aria-label'), 'Replay time');
    const lines = scrubbed.r.find((e) => e.attrs.get('aria-label') === 'Focused timeline')[0].find((e) => e.tag === 'li');
    assert.ok(lines.every((li) => li.attrs.get('data-kind') !== 'acted'), 'nothing after the scrubber time');
    scrubbed.r.find((e) => e.tag === 'button' && /What if/.test(e.textContent))[0].click();
    assert.deepEqual(posted, [{ type: 'replayMode', incidentId: 'inc-r', mode: 'current' }]);
    const whatIf = roomView({ incident, cluster: 'c', mode: 'current', replay });
    assert.ok(whatIf.markers.some((m) => m.kind === 'whatif-detection'));
    assert.equal(whatIf.proposal, undefined, 'a replay offers no decision');
  });
});
