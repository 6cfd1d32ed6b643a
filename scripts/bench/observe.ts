/**
 * Observe benchmark: direct-scrape parse rate for a 500-pod exposition (one core), and the
 * end-to-end lag from a sandbox change to the emitted sample (direct scrape, and Prometheus
 * when the binary is installed). Figures are wall-clock on a shared machine; note the load.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { SampleFrame } from '../../src/core/model/signal';
import type { ClockPort, Disposable, MetricsPort } from '../../src/core/ports';
import { ScrapeSignalComputer } from '../../src/core/observe/scrapeSignals';
import { connectKube } from '../../src/infra/kubernetes/kubeClient';
import { KubernetesSource, podProxyEndpoints } from '../../src/infra/kubernetes/kubernetesSource';
import { PrometheusClient } from '../../src/infra/prometheus/prometheusClient';
import { PrometheusSource } from '../../src/infra/prometheus/prometheusSource';
import { ScrapeSource } from '../../src/infra/prometheus/scrapeSource';
import { parseTextFormat } from '../../src/infra/prometheus/textFormat';
import { startSandbox } from '../../src/sandbox/sandbox';

const clock: ClockPort = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const h = setTimeout(fn, ms);
    return { dispose: () => clearTimeout(h) };
  },
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

const LE = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'];

/** An exposition like the sandbox's per-pod one, for `pods` pods. */
function exposition(pods: number): string {
  const out: string[] = ['# HELP http_requests_total HTTP requests served.', '# TYPE http_requests_total counter'];
  const lab = (i: number) => `namespace="ns-${i % 10}",pod="svc-${i % 50}-7d9f8c-${i}",deployment="svc-${i % 50}",node="node-${i % 20}"`;
  for (let i = 0; i < pods; i++) for (const code of ['200', '404', '500', '503']) for (const m of ['GET', 'POST']) out.push(`http_requests_total{${lab(i)},code="${code}",method="${m}"} ${1000 + i * 7} 1700000000000`);
  out.push('# TYPE http_request_duration_seconds histogram');
  for (let i = 0; i < pods; i++) {
    LE.forEach((le, k) => out.push(`http_request_duration_seconds_bucket{${lab(i)},le="${le}"} ${(k + 1) * 100 + i}`));
    out.push(`http_request_duration_seconds_sum{${lab(i)}} ${i * 1.5}`, `http_request_duration_seconds_count{${lab(i)}} ${1200 + i}`);
  }
  out.push('# TYPE process_resident_memory_bytes gauge');
  for (let i = 0; i < pods; i++) out.push(`process_resident_memory_bytes{${lab(i)}} ${1e8 + i}`);
  out.push('# TYPE process_cpu_seconds_total counter');
  for (let i = 0; i < pods; i++) out.push(`process_cpu_seconds_total{${lab(i)}} ${i * 0.01}`);
  return `${out.join('\n')}\n`;
}

function parseRate(): void {
  const text = exposition(500);
  const n = parseTextFormat(text).samples.length;
  for (let i = 0; i < 5; i++) parseTextFormat(text); // warm-up
  let rounds = 0;
  const start = performance.now();
  while (performance.now() - start < 3000) {
    parseTextFormat(text);
    rounds++;
  }
  const secs = (performance.now() - start) / 1000;
  console.log(`parse: 500-pod exposition, ${n} samples, ${(text.length / 1024 / 1024).toFixed(2)} MiB`);
  console.log(`  parse rate:            ${Math.round((n * rounds) / secs).toLocaleString('en-US')} samples/s (${((secs / rounds) * 1000).toFixed(1)} ms per exposition)`);
  const computer = new ScrapeSignalComputer(60_000);
  const parsed = parseTextFormat(text).samples;
  let t = 0;
  let ingests = 0;
  const s2 = performance.now();
  while (performance.now() - s2 < 3000) {
    t += 15_000;
    computer.ingest(t, parsed);
    computer.compute(t);
    ingests++;
  }
  const secs2 = (performance.now() - s2) / 1000;
  console.log(`  ingest + compute:      ${Math.round((n * ingests) / secs2).toLocaleString('en-US')} samples/s (${((secs2 / ingests) * 1000).toFixed(1)} ms per round, ${computer.seriesCount} series)`);
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

async function startPrometheus(target: URL): Promise<{ url: string; stop(): Promise<void> } | undefined> {
  if (spawnSync('prometheus', ['--version'], { stdio: 'ignore' }).status !== 0) return undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-prom-'));
  writeFileSync(path.join(dir, 'p.yml'), `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: sandbox\n    metrics_path: ${target.pathname}\n    static_configs:\n      - targets: ["${target.host}"]\n`);
  const port = await freePort();
  const child: ChildProcess = spawn('prometheus', [`--config.file=${path.join(dir, 'p.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, `--web.console.templates=${dir}`, `--web.console.libraries=${dir}`], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 150; i++) {
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      // starting
    }
    await clock.sleep(200);
  }
  return {
    url,
    stop: async () => {
      await new Promise<void>((r) => {
        child.once('exit', () => r());
        child.kill('SIGTERM');
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Time from a scale-up request until `source` emits the new available_replicas. */
async function lag(name: string, source: MetricsPort, apiServer: string, replicas: number): Promise<void> {
  let seenAt = 0;
  const sub: Disposable = source.subscribe((frames: ReadonlyArray<SampleFrame>) => {
    const f = frames.find((x) => x.target.name === 'frontend');
    if (!seenAt && f?.values.available_replicas === replicas) seenAt = Date.now();
  });
  await clock.sleep(6_000); // warm up
  const t0 = Date.now();
  const r = await fetch(`${apiServer}/apis/apps/v1/namespaces/shop/deployments/frontend`, { method: 'PATCH', headers: { 'Content-Type': 'application/merge-patch+json' }, body: JSON.stringify({ spec: { replicas } }) });
  if (!r.ok) throw new Error(`scale failed: HTTP ${r.status}`);
  let readyAt = 0;
  while (!seenAt && Date.now() - t0 < 60_000) {
    if (!readyAt) {
      const d = (await (await fetch(`${apiServer}/apis/apps/v1/namespaces/shop/deployments/frontend`)).json()) as { status?: { availableReplicas?: number } };
      if (d.status?.availableReplicas === replicas) readyAt = Date.now();
    }
    await clock.sleep(20);
  }
  sub.dispose();
  if (!seenAt) console.log(`  ${name}: no sample within 60 s`);
  else console.log(`  ${name.padEnd(22)} ${seenAt - t0} ms from the scale request, ${readyAt ? `${seenAt - readyAt} ms after the sandbox showed it` : 'sandbox time not caught'}`);
}

async function e2e(): Promise<void> {
  const sandbox = await startSandbox({ port: 0, metricsPort: 0, seed: 7, daySeconds: 3600, tickMs: 100, podStartDelayMs: 300, kubeconfigPath: path.join(mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-')), 'kubeconfig') });
  console.log('end-to-end lag: sandbox scale-up of shop/frontend until available_replicas is emitted (1 s interval)');
  try {
    const conn = await connectKube({ kubeconfig: sandbox.kubeconfig });
    const kube = new KubernetesSource({ conn, clock });
    kube.start();
    while (!kube.ready) await clock.sleep(50);
    const scrape = new ScrapeSource({ clock, intervalMs: 1000, endpoints: () => podProxyEndpoints(kube, conn), inventory: () => kube.inventory() });
    await lag('direct scrape:', scrape, sandbox.apiServer, 5);
    scrape.dispose();
    const prom = await startPrometheus(new URL(sandbox.metrics));
    if (!prom) console.log('  prometheus: not installed, skipped');
    else {
      const ps = new PrometheusSource({ client: new PrometheusClient({ url: prom.url }), clock, intervalMs: 1000, lagMs: 200 });
      await lag('prometheus (1 s scrape):', ps, sandbox.apiServer, 7);
      ps.dispose();
      await prom.stop();
    }
    kube.dispose();
  } finally {
    await sandbox.stop();
  }
}

async function main(): Promise<void> {
  console.log(`vigil bench:observe — node ${process.version}, ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (shared machine: figures taken under load)`);
  parseRate();
  await e2e();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
