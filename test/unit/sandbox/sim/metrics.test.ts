import assert from 'node:assert/strict';
import { ExpositionWriter, renderLabels } from '../../../../src/infra/prometheus/exposition';
import type { PodRuntime } from '../../../../src/sandbox/sim/containerLifecycle';
import { renderPodTarget } from '../../../../src/sandbox/sim/metrics';
import { seasonalFactor } from '../../../../src/sandbox/sim/workload';
import { parseExposition, scrape, SimHarness, T0, total, window } from './simHarness';

describe('sandbox workload metrics', () => {
  it('writes valid exposition: one HELP/TYPE per family, grouped samples, pod labels on every app series', () => {
    const h = new SimHarness();
    h.run(5000);
    const { samples, types, helps } = parseExposition(h.sim.allMetrics());
    for (const [name, type] of [
      ['http_requests_total', 'counter'],
      ['http_request_duration_seconds', 'histogram'],
      ['process_resident_memory_bytes', 'gauge'],
      ['process_cpu_seconds_total', 'counter'],
      ['kube_pod_container_status_restarts_total', 'counter'],
      ['kube_deployment_status_replicas_available', 'gauge'],
      ['kube_pod_status_ready', 'gauge'],
      ['kube_node_status_condition', 'gauge'],
    ]) {
      assert.equal(types.get(name), type, name);
      assert.ok(helps.get(name), `HELP for ${name}`);
    }
    const app = samples.filter((s) => s.name.startsWith('http_') || s.name.startsWith('process_'));
    assert.ok(app.length > 0);
    for (const s of app) for (const l of ['namespace', 'pod', 'deployment', 'node']) assert.ok(s.labels[l], `${s.name} has ${l}`);
    const pods = new Set(app.map((s) => s.labels.pod));
    assert.equal(pods.size, 10, 'one series set per pod');
    assert.equal(total(samples, 'kube_deployment_status_replicas_available', { deployment: 'checkout' }), 3);
  });

  it('keeps histogram buckets cumulative up to +Inf = _count, and counters monotonic between scrapes', () => {
    const h = new SimHarness();
    h.run(3000);
    const a = scrape(h);
    h.run(20_000);
    const b = scrape(h);
    for (const pod of new Set(b.filter((s) => s.name === 'http_request_duration_seconds_bucket').map((s) => s.labels.pod))) {
      const buckets = b.filter((s) => s.name === 'http_request_duration_seconds_bucket' && s.labels.pod === pod);
      assert.equal(buckets.at(-1)?.labels.le, '+Inf');
      const les = buckets.map((s) => (s.labels.le === '+Inf' ? Infinity : Number(s.labels.le)));
      assert.deepEqual(les, [...les].sort((x, y) => x - y));
      for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i].value >= buckets[i - 1].value, `cumulative for ${pod}`);
      assert.equal(buckets.at(-1)?.value, total(b, 'http_request_duration_seconds_count', { pod }));
      assert.ok(total(b, 'http_request_duration_seconds_sum', { pod }) > 0);
    }
    const key = (s: { name: string; labels: Record<string, string> }) => `${s.name}${JSON.stringify(s.labels)}`;
    const before = new Map(a.map((s) => [key(s), s.value]));
    let compared = 0;
    for (const s of b) {
      if (!s.name.endsWith('_total') && !s.name.endsWith('_bucket') && !s.name.endsWith('_count') && !s.name.endsWith('_sum')) continue;
      const prev = before.get(key(s));
      if (prev === undefined) continue;
      assert.ok(s.value >= prev, `${key(s)} went from ${prev} to ${s.value}`);
      compared++;
    }
    assert.ok(compared > 100);
    const w = window(a, b, 'frontend');
    // 45 rps base around midday, noise ±8%, over 20 s
    assert.ok(w.requests > 20 * 45 * 0.5 && w.requests < 20 * 45 * 2, `frontend served ${w.requests}`);
    assert.ok(w.errorShare < 0.02, `healthy error share ${w.errorShare}`);
  });

  it('is reproducible: same seed and clock give the same metrics; another seed differs', () => {
    const run = (seed: number) => {
      const h = new SimHarness({ seed });
      h.run(15_000);
      return h.sim.allMetrics();
    };
    const a = run(11);
    assert.equal(run(11), a);
    assert.notEqual(run(12), a);
  });

  it('has a daily and weekly shape, compressed by daySeconds', () => {
    const day = 600;
    const at = (d: number) => seasonalFactor(T0 + d * day * 1000, day);
    const samples = Array.from({ length: 48 }, (_, i) => at(i / 48));
    assert.ok(Math.max(...samples) / Math.min(...samples) > 2, 'peak is well above the trough');
    const weekday = Array.from({ length: 7 }, (_, d) => Array.from({ length: 24 }, (_, i) => seasonalFactor((d + i / 24) * day * 1000, day)).reduce((x, y) => x + y, 0));
    assert.ok(weekday[5] < weekday[0] * 0.9 && weekday[6] < weekday[0] * 0.9, 'weekends are quieter');
    const h1 = new SimHarness({ daySeconds: 60 });
    h1.run(2000);
    const a = scrape(h1);
    h1.run(15_000);
    const b = scrape(h1);
    h1.run(15_000);
    const c = scrape(h1);
    const r1 = window(a, b, 'frontend').requests;
    const r2 = window(b, c, 'frontend').requests;
    const mean = (from: number) => Array.from({ length: 15 }, (_, i) => seasonalFactor(from + (i + 1) * 1000, 60)).reduce((x, y) => x + y, 0) / 15;
    const expected = mean(T0 + 2000) / mean(T0 + 17_000);
    assert.ok(Math.abs(expected - 1) > 0.2, `the test windows sit on different parts of the day (${expected})`);
    assert.ok(Math.abs(r1 / r2 / expected - 1) < 0.15, `observed ratio ${r1 / r2} follows the seasonal ratio ${expected}`);
  });

  it('escapes label values and formats special numbers', () => {
    const w = new ExpositionWriter().family('x', 'gauge', 'line\nbreak');
    w.sample('x', renderLabels({ a: 'q"uote\\back\nline' }), Infinity);
    const text = w.toString();
    assert.equal(text, '# HELP x line\\nbreak\n# TYPE x gauge\nx{a="q\\"uote\\\\back\\nline"} +Inf\n');
    assert.equal(parseExposition(text).samples[0].labels.a, 'q"uote\\back\nline');
  });

  it('serves one pod through podMetrics and undefined for an unknown pod', () => {
    const h = new SimHarness();
    h.run(4000);
    const pod = h.pods('shop', 'checkout')[0].metadata.name;
    const text = h.sim.podMetrics('shop', pod) as string;
    const { samples } = parseExposition(text);
    assert.ok(samples.length > 0);
    assert.ok(samples.every((s) => s.labels.pod === pod));
    assert.ok(!samples.some((s) => s.name.startsWith('kube_')));
    assert.equal(h.sim.podMetrics('shop', 'nope'), undefined);
  });

  it('serves a pod as a kubernetes_sd scrape target (the node agent\'s pods): application series only, no identity labels', () => {
    const h = new SimHarness();
    h.run(4000);
    const pod = h.pods('shop', 'checkout')[0];
    const rt = (h.sim as unknown as { kubelet: { runtimes: Map<string, PodRuntime> } }).kubelet.runtimes.get(pod.metadata.uid as string)!;
    const labelled = parseExposition(h.sim.podMetrics('shop', pod.metadata.name) as string).samples;
    for (const application of ['prometheus', 'opentelemetry', 'istio'] as const) {
      const { samples } = parseExposition(renderPodTarget(rt, application));
      assert.ok(samples.length > 0, application);
      for (const s of samples) for (const l of ['namespace', 'pod', 'deployment', 'node', 'container']) assert.equal(s.labels[l], undefined, `${application}: ${s.name} has no ${l}`);
      assert.ok(!samples.some((s) => s.name.startsWith('container_') || s.name.startsWith('kube_')), `${application}: cAdvisor and kube-state-metrics series are not the pod's`);
    }
    // the same requests as the labelled form: only the labels differ
    const plain = parseExposition(renderPodTarget(rt, 'prometheus')).samples;
    assert.equal(total(plain, 'http_requests_total', {}), total(labelled, 'http_requests_total', {}));
    assert.ok(total(plain, 'http_requests_total', {}) > 0);
  });

  it('writes access logs with tail and follow', () => {
    const h = new SimHarness();
    h.run(5000);
    const pod = h.pods('shop', 'frontend')[0].metadata.name;
    const all = h.sim.podLogs('shop', pod, {}, () => undefined);
    assert.ok(all && all.lines.length >= 4);
    assert.match(all.lines[0], /INFO {2}starting frontend version 2\.3\.1/);
    assert.ok(all.lines.some((l) => /^\S+Z INFO {2}(GET|POST) \/\S* \d{3} \d+ms request_id=/.test(l)));
    const tail = h.sim.podLogs('shop', pod, { tailLines: 2 }, () => undefined);
    assert.deepEqual(tail?.lines, all.lines.slice(-2));
    const followed: string[] = [];
    const f = h.sim.podLogs('shop', pod, { follow: true, tailLines: 0 }, (l) => followed.push(l));
    assert.deepEqual(f?.lines, []);
    h.run(3000);
    assert.ok(followed.length >= 3);
    f?.stop();
    const n = followed.length;
    h.run(3000);
    assert.equal(followed.length, n, 'stop() ends the follow');
    assert.equal(h.sim.podLogs('shop', 'nope', {}, () => undefined), undefined);
    assert.throws(() => h.sim.podLogs('shop', pod, { container: 'sidecar' }, () => undefined), /container sidecar is not valid/);
  });
});

describe('sandbox metric shapes (sandbox.applicationMetrics, sandbox.deploymentLabel)', () => {
  const shaped = (application: 'prometheus' | 'opentelemetry' | 'istio', deploymentLabel: boolean) => {
    const h = new SimHarness({ metricShape: { application, deploymentLabel } });
    h.run(15_000);
    return parseExposition(h.sim.allMetrics());
  };
  const sum = (xs: ReadonlyArray<{ value: number }>) => xs.reduce((a, s) => a + s.value, 0);

  it('without the deployment label: no application, cAdvisor or kube_pod_* series carries it; CPU and memory per container as cAdvisor, with the pod cgroup and pause container', () => {
    const { samples, types } = shaped('prometheus', false);
    const pods = samples.filter((s) => /^(http_|container_|kube_pod_)/.test(s.name));
    assert.ok(pods.length > 0);
    assert.deepEqual(pods.filter((s) => 'deployment' in s.labels), []);
    assert.ok(!types.has('process_cpu_seconds_total') && types.get('container_cpu_usage_seconds_total') === 'counter');
    const cpu = samples.filter((s) => s.name === 'container_cpu_usage_seconds_total' && s.labels.pod);
    const one = cpu[0].labels.pod;
    const ofPod = cpu.filter((s) => s.labels.pod === one);
    assert.deepEqual(ofPod.map((s) => s.labels.container).sort(), ['', 'POD', ofPod.find((s) => s.labels.container && s.labels.container !== 'POD')!.labels.container].sort());
    // the pod cgroup holds what its container used: summing every series would count it twice
    const container = ofPod.find((s) => s.labels.container !== '' && s.labels.container !== 'POD')!.value;
    assert.equal(ofPod.find((s) => s.labels.container === '')!.value, container);
    assert.ok(samples.some((s) => s.name === 'container_memory_working_set_bytes' && s.labels.id === '/' && s.labels.node));
    assert.ok(samples.some((s) => s.name === 'kube_deployment_status_replicas_available' && s.labels.deployment), 'kube_deployment_* keeps its own deployment label');
  });

  it('Istio: requests per response code and durations in milliseconds by destination workload, the same requests as the plain shape', () => {
    const istio = shaped('istio', true).samples;
    const plain = shaped('prometheus', true).samples;
    assert.equal(sum(istio.filter((s) => s.name === 'istio_requests_total')), sum(plain.filter((s) => s.name === 'http_requests_total')));
    const s = istio.find((x) => x.name === 'istio_requests_total')!;
    assert.equal(s.labels.reporter, 'destination');
    assert.equal(s.labels.destination_workload, s.labels.deployment);
    assert.equal(s.labels.destination_workload_namespace, s.labels.namespace);
    const les = new Set(istio.filter((x) => x.name === 'istio_request_duration_milliseconds_bucket').map((x) => x.labels.le));
    const plainLes = [...new Set(plain.filter((x) => x.name === 'http_request_duration_seconds_bucket').map((x) => x.labels.le))];
    assert.deepEqual([...les], plainLes.map((le) => (le === '+Inf' ? le : String(Math.round(Number(le) * 1e6) / 1e3))));
  });

  it('Istio: the destination sidecar names each caller (source_workload), split over the callers; the ingress is "unknown"; the same with no depends-on declared', () => {
    for (const declareDependencies of [true, false]) {
      const h = new SimHarness({ metricShape: { application: 'istio', deploymentLabel: true }, declareDependencies });
      h.run(15_000);
      const requests = parseExposition(h.sim.allMetrics()).samples.filter((x) => x.name === 'istio_requests_total');
      const edges = [...new Set(requests.map((x) => `${x.labels.source_workload_namespace}/${x.labels.source_workload} -> ${x.labels.destination_workload_namespace}/${x.labels.destination_workload}`))].sort();
      assert.deepEqual(edges.filter((e) => !e.startsWith('unknown/')), ['shop/checkout -> payments/payments-api', 'shop/frontend -> shop/cart', 'shop/frontend -> shop/checkout'], `declareDependencies ${declareDependencies}`);
      // a service no workload of the shop calls is reached from outside the mesh
      assert.ok(edges.includes('unknown/unknown -> shop/frontend'));
      assert.ok(!edges.includes('unknown/unknown -> shop/cart'));
      const annotated = h.store.list('deployments').items.filter((d) => d.metadata.annotations?.['vigil.dev/depends-on']);
      assert.equal(annotated.length > 0, declareDependencies, 'depends-on annotations only when declared');
    }
  });

  it('OpenTelemetry: no request counter, the histogram count per http_response_status_code is it', () => {
    const otel = shaped('opentelemetry', true);
    const plain = shaped('prometheus', true).samples;
    assert.ok(!otel.types.has('http_requests_total'));
    assert.equal(otel.types.get('http_server_request_duration_seconds'), 'histogram');
    const count = otel.samples.filter((s) => s.name === 'http_server_request_duration_seconds_count');
    assert.equal(sum(count), sum(plain.filter((s) => s.name === 'http_requests_total')));
    const fiveXX = (xs: typeof count, label: string) => sum(xs.filter((s) => /^5/.test(s.labels[label] ?? '')));
    assert.equal(fiveXX(count, 'http_response_status_code'), fiveXX(plain.filter((s) => s.name === 'http_requests_total'), 'code'));
  });
});
