/**
 * Runs a real Prometheus (Debian package `prometheus`) for the demo and the integration tests: free loopback port,
 * its own config and temp TSDB, ready when /-/ready answers, stopped and cleaned up by stop().
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface ScrapeTarget {
  /** host:port, e.g. 127.0.0.1:9100 */
  target: string;
  jobName?: string;
  metricsPath?: string;
}

export interface PrometheusOptions {
  targets: ReadonlyArray<ScrapeTarget>;
  /** A whole prometheus.yml to run instead of one made from `targets` (e.g. kubernetes_sd_configs for a real cluster). */
  config?: string;
  /** Seconds between scrapes (default 1). */
  scrapeIntervalSeconds?: number;
  /** How long to wait for /-/ready (default 30 s). */
  readyTimeoutMs?: number;
  /** Prometheus binary (default `prometheus` on PATH). */
  binary?: string;
}

export interface PrometheusProcess {
  /** Base URL, e.g. http://127.0.0.1:PORT */
  readonly url: string;
  readonly dir: string;
  /** Everything Prometheus logged so far. */
  log(): string;
  /** GET /api/v1/query; returns data.result. */
  query(promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  stop(): Promise<void>;
}

/** A reason the tests cannot run Prometheus here, or undefined when they can. */
export function prometheusUnavailable(binary = 'prometheus'): string | undefined {
  const r = spawnSync(binary, ['--version'], { stdio: 'ignore', timeout: 20_000 });
  return r.status === 0 ? undefined : `${binary} not found: install it with "apt-get install -y prometheus" (do not start the system service)`;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function configYaml(options: PrometheusOptions): string {
  const interval = `${options.scrapeIntervalSeconds ?? 1}s`;
  const jobs = options.targets.map((t, i) =>
    [
      `  - job_name: ${JSON.stringify(t.jobName ?? `target-${i}`)}`,
      `    scrape_interval: ${interval}`,
      `    scrape_timeout: ${interval}`,
      `    metrics_path: ${JSON.stringify(t.metricsPath ?? '/metrics')}`,
      '    static_configs:',
      `      - targets: [${JSON.stringify(t.target)}]`,
    ].join('\n'),
  );
  return [`global:`, `  scrape_interval: ${interval}`, `  evaluation_interval: ${interval}`, `scrape_configs:`, ...jobs, ''].join('\n');
}

export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusProcess> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-prometheus-'));
  const configFile = path.join(dir, 'prometheus.yml');
  writeFileSync(configFile, options.config ?? configYaml(options));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    options.binary ?? 'prometheus',
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1h',
      '--web.enable-lifecycle',
      // the Debian build ships no console assets; keep it from looking for them
      `--web.console.templates=${dir}`,
      `--web.console.libraries=${dir}`,
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let logText = '';
  child.stdout?.on('data', (d) => (logText += d.toString()));
  child.stderr?.on('data', (d) => (logText += d.toString()));
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  const stop = async () => {
    if (exited === undefined && child.exitCode === null) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          resolve();
        }, 5000);
        child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        child.kill('SIGTERM');
      });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (exited !== undefined) {
      await stop();
      throw new Error(`prometheus exited with ${exited} before it was ready:\n${logText.slice(-2000)}`);
    }
    try {
      const r = await fetch(`${url}/-/ready`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus not ready at ${url}/-/ready within ${options.readyTimeoutMs ?? 30_000} ms:\n${logText.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    dir,
    log: () => logText,
    async query(promql: string) {
      const r = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await r.json()) as { status: string; error?: string; data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
      if (body.status !== 'success') throw new Error(`query ${promql} failed: ${body.error ?? r.status}`);
      return body.data?.result ?? [];
    },
    stop,
  };
}
