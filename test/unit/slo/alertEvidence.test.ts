import assert from 'node:assert/strict';
import { Correlator } from '../../../src/core/diagnose/correlation';
import { alertsOf, RemediationSilences } from '../../../src/core/loop/remediationSilences';
import { ExternalEvidence } from '../../../src/core/loop/externalEvidence';
import { VirtualClock } from '../../../src/core/loop/virtualClock';
import type { FiringAlert, SilenceMatcher } from '../../../src/core/model/alert';
import type { Incident, IncidentState } from '../../../src/core/model/incident';
import type { Playbook } from '../../../src/core/model/playbook';
import { alertTarget } from '../../../src/core/observe/alertTargets';
import type { AlertsPort, SilencesPort, SourceStatus, WorkloadInventory } from '../../../src/core/ports';
import { PrometheusAlerts } from '../../../src/infra/prometheus/alertmanager';
import { MemoryLogger } from '../../fakes/nullLogger';

const alert = (name: string, labels: Record<string, string>, extra: Partial<FiringAlert> = {}): FiringAlert => ({ name, labels: { alertname: name, ...labels }, startsAt: 0, fingerprint: `fp-${name}`, source: 'alertmanager', ...extra });

const INVENTORY: WorkloadInventory = {
  nodes: [],
  services: [
    { target: { kind: 'service', namespace: 'shop', name: 'checkout' }, revision: 1, image: 'x', replicas: 2, availableReplicas: 2, rolloutInProgress: false, labels: {}, pods: [{ name: 'checkout-7d9f8c6b5-abcde', ready: true, restarts: 0, phase: 'Running' }] },
    { target: { kind: 'service', namespace: 'shop', name: 'db' }, revision: 1, image: 'x', replicas: 1, availableReplicas: 1, rolloutInProgress: false, labels: {}, pods: [{ name: 'db-0', ready: true, restarts: 0, phase: 'Running' }] },
  ],
};

describe('alerts: attached to workloads, as evidence, silenced during remediation', () => {
  it('maps alerts by deployment/statefulset/daemonset, pod (owner first, then the inventory) and service labels', () => {
    assert.deepEqual(alertTarget(alert('A', { namespace: 'shop', deployment: 'checkout' }), INVENTORY), { kind: 'service', namespace: 'shop', name: 'checkout' });
    assert.deepEqual(alertTarget(alert('A', { namespace: 'shop', statefulset: 'db' }), INVENTORY), { kind: 'service', namespace: 'shop', name: 'db' });
    assert.deepEqual(alertTarget(alert('A', { namespace: 'shop', pod: 'checkout-7d9f8c6b5-abcde' }), INVENTORY), { kind: 'service', namespace: 'shop', name: 'checkout' });
    // the owner references win over the inventory's current pod list (a pod that moved ReplicaSets, a StatefulSet pod)
    assert.deepEqual(alertTarget(alert('A', { namespace: 'shop', pod: 'db-0' }), INVENTORY, (ns, pod) => (pod === 'db-0' ? { kind: 'service', namespace: ns, name: 'db-set' } : undefined)), { kind: 'service', namespace: 'shop', name: 'db-set' });
    assert.deepEqual(alertTarget(alert('A', { namespace: 'shop', service: 'db' }), INVENTORY), { kind: 'service', namespace: 'shop', name: 'db' });
    assert.equal(alertTarget(alert('A', { namespace: 'shop', service: 'nope' }), INVENTORY), undefined);
    assert.equal(alertTarget(alert('A', { deployment: 'checkout' }), INVENTORY), undefined, 'no namespace, no workload');
  });

  it('polls alerts into evidence per workload; a failing source is a down status and no stale evidence', async () => {
    const clock = new VirtualClock(1_000_000);
    let answer: () => Promise<FiringAlert[]> = async () => [alert('CheckoutErrors', { namespace: 'shop', deployment: 'checkout' }), alert('Other', { job: 'x' })];
    const port: AlertsPort = { description: 'Alertmanager at http://am:9093', firing: () => answer() };
    const ext = new ExternalEvidence({ clock, logger: new MemoryLogger(), intervalMs: 5000, inventory: () => INVENTORY, alerts: port });
    const statuses: SourceStatus[] = [];
    let changes = 0;
    ext.onStatus((s) => statuses.push(s));
    ext.onChange(() => changes++);
    ext.start();
    await clock.advance(0);
    await ext.settled();
    assert.deepEqual([...ext.evidence().keys()], ['service:shop/checkout']);
    assert.equal(statuses.at(-1)?.message, '2 firing alert(s) from Alertmanager at http://am:9093, 1 attached to a workload');
    assert.equal(changes, 1);
    answer = async () => {
      throw new Error('Alertmanager at http://am:9093 is unreachable (connection refused); check alertmanager.url and that Alertmanager is running');
    };
    await clock.advance(5000);
    await ext.settled();
    assert.equal(statuses.at(-1)?.state, 'down');
    assert.match(statuses.at(-1)!.message, /unreachable \(connection refused\); check alertmanager\.url/);
    assert.equal(ext.evidence().size, 0);
    assert.equal(changes, 2);
    ext.dispose();
  });

  it('the correlator adds the alerts to the incidents of their workload, and re-reports when they change', () => {
    const c = new Correlator();
    c.setInventory(INVENTORY);
    const key = 'service:shop/checkout';
    const t0 = 1_000_000;
    const before = c.observeExternalEvidence(t0, new Map([[key, [{ kind: 'alert', alert: alert('CheckoutErrors', { namespace: 'shop', deployment: 'checkout' }) }]]]));
    assert.deepEqual(before, [], 'an alert alone opens no incident');
    let updates: ReturnType<Correlator['observeAnomaly']> = [];
    for (let i = 0; i < 8; i++) {
      updates = c.observeAnomaly({ t: t0 + i * 5000, target: { kind: 'service', namespace: 'shop', name: 'checkout' }, score: 0.95, isAnomaly: true, severity: 'critical', detector: 'rules', reason: 'rule:error_ratio', contributions: [{ signal: 'error_ratio', share: 1, observed: 0.3 }] } as never);
      if (updates.length) break;
    }
    const opened = updates.length ? updates : c.openIncidents();
    assert.ok(opened.length, 'the anomalies open an incident');
    assert.ok(opened[0].diagnosis.evidence.some((e) => e.kind === 'alert' && e.alert.name === 'CheckoutErrors'), 'the alert is evidence');
    const changed = c.observeExternalEvidence(t0 + 60_000, new Map([[key, [{ kind: 'alert', alert: alert('CheckoutErrors', { namespace: 'shop', deployment: 'checkout' }) }, { kind: 'alert', alert: alert('Latency', { namespace: 'shop', deployment: 'checkout' }) }]]]));
    assert.equal(changed.length, 1);
    assert.deepEqual(changed[0].diagnosis.evidence.filter((e) => e.kind === 'alert').map((e) => (e.kind === 'alert' ? e.alert.name : '')), ['CheckoutErrors', 'Latency']);
    assert.deepEqual(c.observeExternalEvidence(t0 + 65_000, new Map([[key, [...changed[0].diagnosis.evidence.filter((e) => e.kind === 'alert')]]])), [], 'the same alerts are no news');
  });

  describe('silences', () => {
    const playbooks: Playbook[] = [{ name: 'crash-loop', trigger: { diagnosis: 'crash-loop' }, steps: [{ id: 'delete', action: 'delete-pod', params: {}, verify: { conditions: [], timeoutSeconds: 45 }, onFailure: 'next' }] }];
    const crash = alert('KubePodCrashLooping', { namespace: 'shop', pod: 'checkout-1', severity: 'warning' });
    const incident = (state: IncidentState, alerts: FiringAlert[] = [crash]): Incident =>
      ({ id: 'inc-1', target: { kind: 'service', namespace: 'shop', name: 'checkout' }, openedAt: 0, updatedAt: 0, state, playbook: 'crash-loop', stepIndex: 0, timeline: [], recording: { frames: [], facts: [], logs: [] }, diagnosis: { kind: 'crash-loop', target: { kind: 'service', namespace: 'shop', name: 'checkout' }, confidence: 0.9, t: 0, summary: 'crash loop of shop/checkout', evidence: alerts.map((a) => ({ kind: 'alert' as const, alert: a })) } }) as Incident;

    class FakeSilences implements SilencesPort {
      readonly calls: Array<{ op: string; id?: string; endsAt?: number; matchers?: ReadonlyArray<SilenceMatcher>; comment?: string }> = [];
      private n = 0;
      readonly mine = new Set<string>();
      async upsert(s: { id?: string; matchers: ReadonlyArray<SilenceMatcher>; startsAt: number; endsAt: number; comment: string }): Promise<string> {
        const id = s.id ?? `s${++this.n}`;
        this.mine.add(id);
        this.calls.push({ op: s.id ? 'update' : 'create', id, endsAt: s.endsAt, matchers: s.matchers, comment: s.comment });
        return id;
      }
      async expire(id: string): Promise<boolean> {
        this.calls.push({ op: 'expire', id });
        return this.mine.delete(id);
      }
    }

    it('creates one exact silence per alert while acting, extends it while the step runs, expires it when verified', async () => {
      const clock = new VirtualClock(10_000_000);
      const port = new FakeSilences();
      const s = new RemediationSilences({ clock, logger: new MemoryLogger(), silences: port, playbooks: () => playbooks, renewEveryMs: 60_000 });
      await s.onIncident(incident('diagnosed'));
      await s.onIncident(incident('awaiting-approval'));
      assert.equal(port.calls.length, 0, 'nothing before a step runs');
      await s.onIncident(incident('acting'));
      assert.equal(port.calls.length, 1);
      const created = port.calls[0];
      assert.equal(created.op, 'create');
      assert.deepEqual(created.matchers, [
        { name: 'alertname', value: 'KubePodCrashLooping' },
        { name: 'namespace', value: 'shop' },
        { name: 'pod', value: 'checkout-1' },
        { name: 'severity', value: 'warning' },
      ]);
      assert.match(created.comment!, /^Vigil is remediating incident inc-1 \(crash loop of shop\/checkout\)/);
      assert.equal(created.endsAt, 10_000_000 + 45_000 + 5 * 60_000, 'now + verify timeout + 5 min');
      await s.onIncident(incident('verifying'));
      assert.equal(port.calls.length, 1, 'the same alert is not silenced twice');
      await clock.advance(60_000);
      await s.settled();
      assert.deepEqual(port.calls.slice(1).map((c) => [c.op, c.id, c.endsAt]), [['update', 's1', 10_060_000 + 45_000 + 5 * 60_000]]);
      await s.onIncident(incident('recovered'));
      assert.deepEqual(port.calls.at(-1), { op: 'expire', id: 's1' });
      assert.deepEqual(s.silencesOf('inc-1'), []);
      await clock.advance(120_000);
      assert.equal(port.calls.filter((c) => c.op === 'update').length, 1, 'no renewal after the incident ended');
      s.dispose();
    });

    it('expires on escalation; an incident without alerts silences nothing; a failing Alertmanager is logged, not thrown', async () => {
      const clock = new VirtualClock(0);
      const port = new FakeSilences();
      const logger = new MemoryLogger();
      const s = new RemediationSilences({ clock, logger, silences: port, playbooks: () => playbooks });
      await s.onIncident(incident('acting', []));
      assert.equal(port.calls.length, 0);
      await s.onIncident(incident('acting'));
      await s.onIncident(incident('escalated'));
      assert.deepEqual(port.calls.map((c) => c.op), ['create', 'expire']);
      const broken = new RemediationSilences({ clock, logger, silences: { upsert: async () => Promise.reject(new Error('Alertmanager at http://am is unreachable (connection refused)')), expire: async () => false }, playbooks: () => playbooks });
      await broken.onIncident(incident('acting'));
      assert.ok(logger.lines.some((l) => l.level === 'warn' && /could not create a silence for alert KubePodCrashLooping of inc-1: Alertmanager at http:\/\/am is unreachable/.test(l.message)));
      assert.deepEqual(alertsOf(incident('acting', [crash, crash])).length, 1);
      s.dispose();
      broken.dispose();
    });
  });
});

describe('alerts from Prometheus when no Alertmanager is configured', () => {
  it('reads firing alerts from /api/v1/alerts (pending ones are not evidence), with summary and runbook', async () => {
    // a recorded /api/v1/alerts answer of Prometheus 2.x (data.alerts)
    const recorded = [
      { labels: { alertname: 'KubePodCrashLooping', namespace: 'shop', pod: 'checkout-1', severity: 'warning' }, annotations: { description: 'Pod shop/checkout-1 is crash looping', runbook_url: 'https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping' }, state: 'firing', activeAt: '2026-12-06T10:00:00Z', value: '1e+00' },
      { labels: { alertname: 'HighLatency', namespace: 'shop', deployment: 'cart' }, annotations: { summary: 'slow' }, state: 'pending', activeAt: '2026-12-06T10:01:00Z', value: '2e+00' },
    ];
    const port = new PrometheusAlerts({ url: 'http://prom:9090', alerts: async () => recorded } as never);
    const firing = await port.firing();
    assert.equal(firing.length, 1);
    assert.equal(firing[0].name, 'KubePodCrashLooping');
    assert.equal(firing[0].summary, 'Pod shop/checkout-1 is crash looping');
    assert.equal(firing[0].runbookUrl, 'https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping');
    assert.equal(firing[0].startsAt, Date.parse('2026-12-06T10:00:00Z'));
    assert.equal(firing[0].source, 'prometheus');
    assert.equal((port as AlertsPort).silences, undefined, 'Prometheus cannot silence');
    const again = await port.firing();
    assert.equal(again[0].fingerprint, firing[0].fingerprint, 'the same labels give the same fingerprint');
    const broken = new PrometheusAlerts({ url: 'http://prom:9090', alerts: async () => Promise.reject(new Error('connection refused; is Prometheus running and listening on that port?')) } as never);
    await assert.rejects(broken.firing(), /^Error: could not read alerts from the alerting rules of Prometheus at http:\/\/prom:9090: connection refused/);
  });
});
