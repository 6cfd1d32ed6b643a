/**
 * A real Alertmanager (Debian package `prometheus-alertmanager`) on a free loopback port, with clustering off
 * (`--cluster.listen-address=`), its own config and data directory; stopped and cleaned up by stop().
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../../src/infra/prometheus/prometheusLauncher';

export const ALERTMANAGER_BINARY = 'prometheus-alertmanager';

/** A reason Alertmanager cannot run here, or undefined when it can (the integration tier installs it, see scripts/tiers.mjs). */
export function alertmanagerUnavailable(): string | undefined {
  const r = spawnSync(ALERTMANAGER_BINARY, ['--version'], { stdio: 'ignore', timeout: 20_000 });
  return r.status === 0 ? undefined : `${ALERTMANAGER_BINARY} not found: install it with "apt-get install -y prometheus-alertmanager" (do not start the system service)`;
}

/** Skips the suite when Alertmanager is missing, unless VIGIL_REQUIRE_ALL_TIERS=1 (CI), where that is a failure. */
export function requireAlertmanager(ctx: Mocha.Context): void {
  const missing = alertmanagerUnavailable();
  if (!missing) return;
  if (process.env.VIGIL_REQUIRE_ALL_TIERS === '1') throw new Error(`${missing} (VIGIL_REQUIRE_ALL_TIERS=1)`);
  console.log(`      skipped: ${missing}`);
  ctx.skip();
}

export interface AlertmanagerProcess {
  readonly url: string;
  log(): string;
  /** POSTs alerts to /api/v2/alerts, as Prometheus does. */
  postAlerts(alerts: ReadonlyArray<{ labels: Record<string, string>; annotations?: Record<string, string>; endsAt?: string }>): Promise<void>;
  silences(): Promise<Array<{ id: string; createdBy: string; comment: string; endsAt: string; status: { state: string }; matchers: Array<{ name: string; value: string; isRegex: boolean; isEqual?: boolean }> }>>;
  stop(): Promise<void>;
}

export async function startAlertmanager(): Promise<AlertmanagerProcess> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-alertmanager-'));
  const config = path.join(dir, 'alertmanager.yml');
  writeFileSync(config, 'route:\n  receiver: none\n  group_wait: 1s\nreceivers:\n  - name: none\n');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(ALERTMANAGER_BINARY, [`--config.file=${config}`, `--storage.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address='], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let logText = '';
  child.stdout?.on('data', (d) => (logText += d.toString()));
  child.stderr?.on('data', (d) => (logText += d.toString()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        child.kill('SIGTERM');
      });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`alertmanager exited with ${child.exitCode} before it was ready:\n${logText.slice(-2000)}`);
    }
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`alertmanager not ready at ${url}/-/ready within 30 s:\n${logText.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    log: () => logText,
    async postAlerts(alerts) {
      const r = await fetch(`${url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) });
      if (!r.ok) throw new Error(`POST /api/v2/alerts: HTTP ${r.status} ${await r.text()}`);
    },
    async silences() {
      const r = await fetch(`${url}/api/v2/silences`);
      if (!r.ok) throw new Error(`GET /api/v2/silences: HTTP ${r.status}`);
      return (await r.json()) as Awaited<ReturnType<AlertmanagerProcess['silences']>>;
    },
    stop,
  };
}
