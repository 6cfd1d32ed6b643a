/** The agent's /healthz, /readyz and /metrics, with the metrics fed by a fake core's incident updates. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Incident, TimelineEntry } from '../../../src/core/model/incident';
import type { Disposable, SourceStatus } from '../../../src/core/ports';
import { AgentEndpoints } from '../../../src/infra/control/agentEndpoints';
import { AgentMetrics, type AgentMetricsSources } from '../../../src/infra/control/agentMetrics';
import { connectKube, inClusterServiceAccount } from '../../../src/infra/kubernetes/kubeClient';

function fakeSources(initial: Incident[] = []) {
  const incidentListeners = new Set<(i: Incident) => void>();
  const statusListeners = { metrics: new Set<(s: SourceStatus) => void>(), kubernetes: new Set<(s: SourceStatus) => void>() };
  const incidents = new Map(initial.map((i) => [i.id, i]));
  let held = false;
  const sub = <T>(set: Set<T>, l: T): Disposable => (set.add(l), { dispose: () => set.delete(l) });
  const sources = {
    core: {
      remediator: { list: () => [...incidents.values()], onChange: (l: (i: Incident) => void) => sub(incidentListeners, l) },
      lease: { get state() { return { holder: held ? 'me' : 'other', held }; } },
      pipeline: {},
    },
    metricsStatus: (l: (s: SourceStatus) => void) => sub(statusListeners.metrics, l),
    kubernetesStatus: (l: (s: SourceStatus) => void) => sub(statusListeners.kubernetes, l),
    metricsSource: 'prometheus',
  } as unknown as AgentMetricsSources;
  return {
    sources,
    update(i: Incident) {
      incidents.set(i.id, i);
      for (const l of incidentListeners) l(i);
    },
    status(which: 'metrics' | 'kubernetes', state: SourceStatus['state']) {
      for (const l of statusListeners[which]) l({ source: which, state, message: '', since: 0 });
    },
    lead(v: boolean) {
      held = v;
    },
  };
}

const T0 = 1_800_000_000_000;
const target = { kind: 'service', namespace: 'shop', name: 'checkout' } as const;
const action = { kind: 'rollback', namespace: 'shop', deployment: 'checkout' } as const;
function incident(id: string, state: Incident['state'], timeline: TimelineEntry[], extra: Partial<Incident> = {}): Incident {
  return { id, target, openedAt: T0, updatedAt: T0, state, stepIndex: 0, timeline, recording: { frames: [], facts: [], logs: [] }, ...extra } as Incident;
}
const detected = { t: T0, kind: 'detected', anomaly: { target, t: T0 - 45_000, detector: 'rule', score: 1, isAnomaly: true, severity: 'critical', contributions: [], reason: 'error_ratio high' } } as TimelineEntry;

function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(labels ? `${name}{${labels}} ` : `${name} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('agent metrics and endpoints', () => {
  it('counts incidents by state, actions, verdicts, detect/recover times, source errors and leadership', () => {
    const old = incident('old', 'recovered', [detected, { t: T0, kind: 'acted', stepId: 's0', result: { action, dryRun: false, changed: true, summary: '' } }]);
    const f = fakeSources([old]);
    const m = new AgentMetrics(f.sources);
    let text = m.render();
    assert.equal(sample(text, 'vigil_incidents_open', 'state="awaiting-approval"'), 0);
    assert.equal(sample(text, 'vigil_actions_total', 'kind="rollback",result="changed"'), undefined, 'an incident loaded at start is not counted again');
    assert.equal(sample(text, 'vigil_leader'), 0);

    f.update(incident('a', 'awaiting-approval', [detected]));
    f.update(incident('b', 'acting', [detected]));
    text = m.render();
    assert.equal(sample(text, 'vigil_incidents_open', 'state="awaiting-approval"'), 1);
    assert.equal(sample(text, 'vigil_incidents_open', 'state="acting"'), 1);
    assert.equal(sample(text, 'vigil_time_to_detect_seconds_count'), 2);
    assert.equal(sample(text, 'vigil_time_to_detect_seconds_sum'), 90);
    assert.equal(sample(text, 'vigil_time_to_detect_seconds_bucket', 'le="30"'), 0);
    assert.equal(sample(text, 'vigil_time_to_detect_seconds_bucket', 'le="60"'), 2);

    const acted: TimelineEntry = { t: T0 + 60_000, kind: 'acted', stepId: 's0', result: { action, dryRun: false, changed: true, summary: '' } };
    const verified: TimelineEntry = { t: T0 + 200_000, kind: 'verified', stepId: 's0', verdict: { status: 'recovered', t: T0 + 200_000, checks: [], summary: '' } };
    const resolved: TimelineEntry = { t: T0 + 200_000, kind: 'resolved', outcome: { kind: 'recovered', t: T0 + 200_000 } };
    f.update(incident('b', 'verifying', [detected, acted]));
    f.update(incident('b', 'recovered', [detected, acted, verified, resolved], { outcome: { kind: 'recovered', t: T0 + 200_000 } }));
    f.update(incident('a', 'escalated', [detected, { t: T0 + 1, kind: 'action-failed', stepId: 's0', action, error: 'forbidden' }]));
    f.status('metrics', 'down');
    f.status('metrics', 'ok');
    f.status('kubernetes', 'degraded');
    f.lead(true);
    m.observeLoop(0.02);
    text = m.render();
    assert.equal(sample(text, 'vigil_actions_total', 'kind="rollback",result="changed"'), 1, 'the same acted entry seen in two updates counts once');
    assert.equal(sample(text, 'vigil_actions_total', 'kind="rollback",result="failed"'), 1);
    assert.equal(sample(text, 'vigil_verifications_total', 'status="recovered"'), 1);
    assert.equal(sample(text, 'vigil_time_to_recover_seconds_sum'), 200);
    assert.equal(sample(text, 'vigil_time_to_recover_seconds_bucket', 'le="120"'), 0);
    assert.equal(sample(text, 'vigil_time_to_recover_seconds_bucket', 'le="300"'), 1);
    assert.equal(sample(text, 'vigil_incidents_open', 'state="acting"'), 0);
    assert.equal(sample(text, 'vigil_incidents_open', 'state="awaiting-approval"'), 0, 'escalated is no longer open');
    assert.equal(sample(text, 'vigil_incidents_open', 'state="escalated"'), undefined);
    assert.equal(sample(text, 'vigil_source_errors_total', 'source="prometheus",state="down"'), 1);
    assert.equal(sample(text, 'vigil_source_errors_total', 'source="kubernetes",state="degraded"'), 1);
    assert.equal(sample(text, 'vigil_loop_duration_seconds_bucket', 'le="0.025"'), 1);
    assert.equal(sample(text, 'vigil_loop_duration_seconds_bucket', 'le="0.01"'), 0);
    assert.equal(sample(text, 'vigil_leader'), 1);
    assert.match(text, /^# TYPE vigil_time_to_recover_seconds histogram$/m);
    m.dispose();
  });

  it('the Grafana dashboard in deploy/ queries only metrics the agent exports, and every one of them', () => {
    const m = new AgentMetrics(fakeSources().sources);
    const exported = new Set([...m.render().matchAll(/^# TYPE (\w+) /gm)].map((x) => x[1]));
    const dashboard = JSON.parse(readFileSync('deploy/grafana/vigil-agent.json', 'utf8')) as { panels: Array<{ targets: Array<{ expr: string }> }> };
    const queried = new Set(dashboard.panels.flatMap((p) => p.targets.flatMap((t) => [...t.expr.matchAll(/\bvigil_\w+/g)].map((x) => x[0].replace(/_bucket$/, '')))));
    assert.deepEqual([...queried].filter((q) => !exported.has(q)), []);
    assert.deepEqual([...exported].filter((e) => !queried.has(e)), []);
    m.dispose();
  });

  it('serves /healthz, /readyz (503 with the reason until ready) and /metrics on a port', async () => {
    let why: string | undefined = 'starting';
    const ep = await AgentEndpoints.listen(0, '127.0.0.1', { notReady: () => why, metrics: () => 'vigil_leader 1\n' });
    try {
      const get = async (p: string) => {
        const r = await fetch(`http://127.0.0.1:${ep.port}${p}`);
        return { status: r.status, body: await r.text(), type: r.headers.get('content-type') };
      };
      assert.deepEqual(await get('/healthz'), { status: 200, body: 'ok\n', type: 'text/plain; charset=utf-8' });
      assert.equal((await get('/readyz')).status, 503);
      assert.equal((await get('/readyz')).body, 'not ready: starting\n');
      why = undefined;
      assert.equal((await get('/readyz')).status, 200);
      const metrics = await get('/metrics');
      assert.equal(metrics.body, 'vigil_leader 1\n');
      assert.match(metrics.type ?? '', /version=0\.0\.4/);
      assert.equal((await get('/nope')).status, 404);
      await assert.rejects(AgentEndpoints.listen(ep.port, '127.0.0.1', { notReady: () => undefined, metrics: () => '' }), /agent\.httpPort \d+ on 127\.0\.0\.1 is in use; pick another port/);
    } finally {
      await ep.close();
    }
  });

  it('in a pod (KUBERNETES_SERVICE_HOST) uses the service account folder; a kubeconfig or KUBECONFIG wins', async () => {
    assert.equal(inClusterServiceAccount({}), undefined);
    assert.equal(inClusterServiceAccount({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBECONFIG: '/k' }), undefined);
    assert.deepEqual(inClusterServiceAccount({ KUBERNETES_SERVICE_HOST: '10.96.0.1' }), { root: '/var/run/secrets/kubernetes.io/serviceaccount', host: '10.96.0.1', port: '443' });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-sa-'));
    const saved = { ...process.env };
    try {
      delete process.env.KUBECONFIG;
      Object.assign(process.env, { KUBERNETES_SERVICE_HOST: '10.244.0.1', KUBERNETES_SERVICE_PORT: '6443', VIGIL_SERVICEACCOUNT_ROOT: dir });
      await assert.rejects(connectKube(), /Cannot use the pod's service account \(KUBERNETES_SERVICE_HOST is set\) from .*vigil-sa-.*ca\.crt does not exist/);
      writeFileSync(path.join(dir, 'ca.crt'), '');
      writeFileSync(path.join(dir, 'token'), 'tok');
      writeFileSync(path.join(dir, 'namespace'), 'vigil\n');
      const conn = await connectKube();
      assert.equal(conn.server, 'https://10.244.0.1:6443');
      assert.equal(conn.kubeConfig.getContextObject(conn.context)?.namespace, 'vigil');
      assert.equal(conn.kubeConfig.getCurrentUser()?.authProvider?.config?.tokenFile, path.join(dir, 'token'));
    } finally {
      for (const k of ['KUBERNETES_SERVICE_HOST', 'KUBERNETES_SERVICE_PORT', 'VIGIL_SERVICEACCOUNT_ROOT', 'KUBECONFIG']) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });
});
