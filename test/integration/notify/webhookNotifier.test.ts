import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EscalationContext, Incident } from '../../../src/core/model/incident';
import { WebhookNotifier } from '../../../src/infra/notify/webhookNotifier';
import { MemoryLogger } from '../../fakes/nullLogger';

/** A real local HTTP server standing in for Slack and PagerDuty (loopback only). */
describe('WebhookNotifier', () => {
  let server: http.Server;
  let base: string;
  const received: Array<{ url: string; body: Record<string, unknown> }> = [];
  let failNext = 0;

  before(async () => {
    server = http.createServer((req, res) => {
      let data = '';
      req.on('data', (d) => (data += d));
      req.on('end', () => {
        if (failNext > 0) {
          failNext--;
          res.writeHead(500).end('boom');
          return;
        }
        received.push({ url: req.url ?? '', body: JSON.parse(data) as Record<string, unknown> });
        res.writeHead(202, { 'Content-Type': 'application/json' }).end('{"status":"success"}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());
  beforeEach(() => (received.length = 0));

  const context: EscalationContext = {
    incidentId: 'inc-1',
    target: { kind: 'service', namespace: 'shop', name: 'checkout' },
    diagnosis: { kind: 'bad-release', target: { kind: 'service', namespace: 'shop', name: 'checkout' }, confidence: 0.87, t: 0, summary: 'checkout 5xx rose to 12% 2 min after revision 5', evidence: [] },
    reason: 'every step of playbook "bad-release" was tried',
    triggeringSignals: [],
    actionsTried: [{ stepId: 'roll-back', action: { kind: 'rollback', namespace: 'shop', deployment: 'checkout', toRevision: 4 }, error: 'HTTP 403: forbidden' }],
    recentFacts: [{ kind: 'k8s-event', t: 0, target: { kind: 'service', namespace: 'shop', name: 'checkout' }, reason: 'ScalingReplicaSet', message: 'Scaled up replica set checkout-abc to 3' }],
    recentLogs: [],
    recentProbes: [{ name: 'checkout journey', target: { kind: 'service', namespace: 'shop', name: 'checkout' }, t: 0, success: false, latencyMs: 40, failedStep: 'check out', reason: 'step "check out": POST shop/checkout:8080/checkout answered 502, expected 200' }],
  };

  it('sends an escalation to Slack and a PagerDuty Events v2 trigger with a dedup key', async () => {
    const n = new WebhookNotifier({ slackWebhookUrl: `${base}/slack/T000/B000/XXX`, pagerDutyRoutingKey: 'R0UT1NG', pagerDutyUrl: `${base}/v2/enqueue` }, new MemoryLogger());
    await n.escalate(context);
    const slack = received.find((r) => r.url.startsWith('/slack'));
    const pd = received.find((r) => r.url === '/v2/enqueue');
    assert.match(String(slack?.body.text), /bad release on shop\/checkout needs a human/);
    assert.match(String(slack?.body.text), /rollout undo deployment shop\/checkout --to-revision=4 → failed: HTTP 403/);
    assert.equal(pd?.body.routing_key, 'R0UT1NG');
    assert.equal(pd?.body.event_action, 'trigger');
    assert.equal(pd?.body.dedup_key, 'inc-1');
    assert.equal((pd?.body.payload as { severity: string }).severity, 'critical');
    assert.match(String(slack?.body.text), /Probes: checkout journey failed: step "check out": POST shop\/checkout:8080\/checkout answered 502/);
    assert.match(String((pd?.body.payload as { custom_details: { recent_probes: string[] } }).custom_details.recent_probes[0]), /checkout journey failed/);
  });

  it('resolves the PagerDuty incident when Vigil recovers', async () => {
    const n = new WebhookNotifier({ pagerDutyRoutingKey: 'R0UT1NG', pagerDutyUrl: `${base}/v2/enqueue` }, new MemoryLogger());
    await n.resolved({ id: 'inc-1', target: context.target, outcome: { kind: 'recovered', t: 1, recoveredBy: 'roll-back' } } as Incident);
    assert.deepEqual(received.map((r) => [r.body.event_action, r.body.dedup_key]), [['resolve', 'inc-1']]);
  });

  it('a failing webhook is logged without its secret URL and does not throw', async () => {
    const logger = new MemoryLogger();
    failNext = 1;
    const n = new WebhookNotifier({ slackWebhookUrl: `${base}/slack/SECRET-TOKEN` }, logger);
    await n.escalate(context);
    const line = logger.lines.find((l) => l.level === 'warn');
    assert.match(line?.message ?? '', /Slack webhook failed: HTTP 500/);
    assert.doesNotMatch(line?.message ?? '', /SECRET-TOKEN/);
  });
});
