import assert from 'node:assert/strict';
import { connectionFix, kubeconfigContexts } from '../../../src/vscode/connectionHelp';
import { buildCopilotModel, incidentView, pastForViews, SeriesHistory, type SnapshotTarget } from '../../../src/vscode/viewModel';
import { awaitingIncident } from './fixtures';

const svc = (name: string, errorRatio: number, isAnomaly = false): SnapshotTarget => ({
  target: { kind: 'service', namespace: 'shop', name },
  values: { error_ratio: errorRatio, request_rate: 10 },
  bands: { error_ratio: { lower: 0, expected: 0.01, upper: 0.03 } },
  score: isAnomaly ? 0.9 : 0.1,
  isAnomaly,
  reason: isAnomaly ? 'error_ratio above band' : 'normal',
});

describe('sidebar view models', () => {
  it('incidentView: the step waiting for a human, with its gates and dry-run diff', () => {
    const v = incidentView(awaitingIncident());
    assert.equal(v.diagnosis, 'bad release');
    assert.equal(v.confidence, 87);
    assert.equal(v.open, true);
    assert.equal(v.proposal?.awaitingApproval, true);
    assert.equal(v.proposal?.action, 'rollout undo deployment shop/checkout');
    assert.deepEqual(v.proposal?.diff, [{ path: 'spec.template.spec.containers[0].image', before: 'shop/checkout:1.1-bad', after: 'shop/checkout:1.0' }]);
    assert.deepEqual(v.proposal?.gates.map((g) => `${g.gate}:${g.allowed}`), ['namespace-policy:true', 'approval:false']);
    assert.deepEqual(v.evidence.map((e) => e.kind), ['signal', 'change', 'log']);
    assert.deepEqual(v.timeline.map((e) => e.at), ['+0s', '+20s']);
  });

  it('SeriesHistory keeps a bounded history per key signal and flags values outside the band', () => {
    const h = new SeriesHistory(3);
    for (const r of [0.01, 0.02, 0.01, 0.2]) h.record([svc('cart', 0.01), svc('checkout', r, r > 0.1)]);
    const [cart, checkout] = h.services(new Set());
    assert.equal(cart.health, 'healthy');
    const errors = checkout.series.find((s) => s.signal === 'error_ratio');
    assert.deepEqual(errors?.values, [0.02, 0.01, 0.2]);
    assert.deepEqual(errors?.upper, [0.03, 0.03, 0.03]);
    assert.equal(errors?.outside, true);
    assert.equal(errors?.latest, '20%');
    assert.equal(checkout.health, 'degraded');
    assert.ok(!checkout.series.some((s) => s.signal === 'memory'), 'signals without data get no sparkline');
  });

  it('buildCopilotModel: open incidents first; a service with an open incident shows "incident"', () => {
    const h = new SeriesHistory();
    h.record([svc('cart', 0.01), svc('checkout', 0.01)]);
    const old = awaitingIncident({ id: 'inc-0', state: 'recovered', openedAt: 1, outcome: { kind: 'recovered', t: 2 } });
    const m = buildCopilotModel({ connection: { state: 'connected', message: 'ok' }, mode: 'suggest', paused: false, incidents: [old, awaitingIncident()], history: h, sources: [] });
    assert.deepEqual(m.incidents.map((i) => i.id), ['inc-1', 'inc-0']);
    assert.deepEqual(m.services.map((s) => `${s.name}:${s.health}`), ['shop/cart:healthy', 'shop/checkout:incident']);
  });

  it('buildCopilotModel: an open incident burning an SLO ranks above newer ones; its alert and SLO lines are evidence', () => {
    const h = new SeriesHistory();
    const base = awaitingIncident();
    const burning = awaitingIncident({
      id: 'inc-burning',
      openedAt: base.openedAt - 60_000,
      diagnosis: {
        ...base.diagnosis!,
        evidence: [
          ...base.diagnosis!.evidence,
          { kind: 'slo-burn', t: base.openedAt, slo: 'checkout/availability', burn: 20, factor: 14.4, budgetRemaining: 0.4, text: 'SLO checkout/availability (99 % over 1 h) burning: 20× over 2 min and 25× over 30 s (alert at 14.4× over 2 min/30 s); 40 % of the error budget left' },
          { kind: 'alert', alert: { name: 'CheckoutErrors', labels: { alertname: 'CheckoutErrors' }, startsAt: base.openedAt, summary: 'checkout 5xx', runbookUrl: 'https://runbooks.example.com/checkout', fingerprint: 'f1', source: 'alertmanager' } },
        ],
      },
    });
    const m = buildCopilotModel({ connection: { state: 'connected', message: 'ok' }, mode: 'suggest', paused: false, incidents: [base, burning], history: h, sources: [] });
    assert.deepEqual(m.incidents.map((i) => i.id), ['inc-burning', 'inc-1']);
    const ev = m.incidents[0].evidence;
    assert.deepEqual(ev.map((e) => e.kind), ['signal', 'slo', 'alert', 'change', 'log']);
    assert.match(ev[2].text, /^Alert CheckoutErrors firing: checkout 5xx — runbook https:\/\/runbooks\.example\.com\/checkout$/);
  });

  it('connectionFix names the fix for unreachable, forbidden and expired credentials', () => {
    assert.match(connectionFix('GET /version on https://k: connect ECONNREFUSED 127.0.0.1:6443'), /unreachable/);
    assert.match(connectionFix('GET /version: HTTP 403 Forbidden (RBAC: grant get on this resource)'), /RBAC/);
    assert.match(connectionFix('GET /version: HTTP 401 Unauthorized'), /expired or invalid/);
    assert.match(connectionFix('Kubeconfig has no context "x"'), /vigil.kubernetes.kubeconfig/);
  });

  it('kubeconfigContexts lists contexts with the current one first', () => {
    assert.deepEqual(kubeconfigContexts({ contexts: [{ name: 'a' }, { name: 'b' }, {}], 'current-context': 'b' }), { contexts: ['b', 'a'], current: 'b' });
    assert.deepEqual(kubeconfigContexts(undefined), { contexts: [], current: undefined });
  });

  it('pastForViews keeps the newest past incidents, without their recordings', () => {
    const frame = { t: 1, target: { kind: 'service' as const, namespace: 'shop', name: 'checkout' }, values: { error_ratio: 0.2 } };
    const base = awaitingIncident({ recording: { frames: [frame], facts: [], logs: [] } });
    const all = [0, 3, 1, 2].map((k) => ({ ...base, id: `inc-${k}`, openedAt: base.openedAt + k * 60_000 }));
    const kept = pastForViews(all, 3);
    assert.deepEqual(kept.map((i) => i.id), ['inc-3', 'inc-2', 'inc-1']);
    for (const i of kept) assert.deepEqual(i.recording, { frames: [], facts: [], logs: [] });
    assert.deepEqual(kept[0].timeline, base.timeline, 'the timeline and outcome stay for the views');
    assert.ok(all[0].recording.frames === base.recording.frames, 'the stored incidents are not changed');
  });
});
