/**
 * A real Prometheus that can be stopped and started again on the same port with the same TSDB,
 * for outage tests (the shared helper's stop() also deletes its data).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../../src/infra/prometheus/prometheusLauncher';

export class RestartablePrometheus {
  private child: ChildProcess | undefined;
  private logText = '';
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-prom-restart-'));
  url = '';
  private port = 0;

  constructor(private readonly target: { host: string; path: string }, private readonly scrapeIntervalSeconds = 1) {}

  log(): string {
    return this.logText;
  }

  async start(): Promise<void> {
    if (!this.port) {
      this.port = await freePort();
      this.url = `http://127.0.0.1:${this.port}`;
      const s = `${this.scrapeIntervalSeconds}s`;
      writeFileSync(
        path.join(this.dir, 'prometheus.yml'),
        `global:\n  scrape_interval: ${s}\n  evaluation_interval: ${s}\nscrape_configs:\n  - job_name: sandbox\n    scrape_interval: ${s}\n    scrape_timeout: ${s}\n    metrics_path: ${JSON.stringify(this.target.path)}\n    static_configs:\n      - targets: [${JSON.stringify(this.target.host)}]\n`,
      );
    }
    const child = spawn('prometheus', [`--config.file=${path.join(this.dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(this.dir, 'data')}`, `--web.listen-address=127.0.0.1:${this.port}`, '--storage.tsdb.retention.time=1h', `--web.console.templates=${this.dir}`, `--web.console.libraries=${this.dir}`], { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d) => (this.logText += d.toString()));
    child.stderr?.on('data', (d) => (this.logText += d.toString()));
    this.child = child;
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`prometheus exited ${child.exitCode}: ${this.logText.slice(-1500)}`);
      try {
        if ((await fetch(`${this.url}/-/ready`)).ok) return;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error(`prometheus not ready at ${this.url}: ${this.logText.slice(-1500)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
