/**
 * Figures for the sandbox API server: list latency, watch fan-out delay, kubectl round trips.
 * Run with `npm run bench:sandbox-api`. Numbers depend on the machine and on what else runs.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startSandbox } from '../../src/sandbox/sandbox';

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

function get(url: string, accept = 'application/json'): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent, headers: { Accept: accept } }, (res) => {
        let n = 0;
        res.on('data', (d: Buffer) => (n += d.length));
        res.on('end', () => resolve(n));
      })
      .on('error', reject);
  });
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-'));
  const sb = await startSandbox({ seed: 3, daySeconds: 120, kubeconfigPath: path.join(dir, 'kubeconfig') });
  try {
    await new Promise((r) => setTimeout(r, 3000));
    const pods = sb.store.list('pods').items.length;
    const lat: number[] = [];
    let bytes = 0;
    for (let i = 0; i < 500; i++) {
      const t = process.hrtime.bigint();
      bytes = await get(`${sb.apiServer}/api/v1/pods`);
      lat.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    console.log(`GET /api/v1/pods (${pods} pods, ${bytes} bytes) x500 sequential: p50 ${pct(lat, 50).toFixed(2)} ms, p99 ${pct(lat, 99).toFixed(2)} ms`);

    const started = Date.now();
    await Promise.all(Array.from({ length: 2000 }, () => get(`${sb.apiServer}/api/v1/namespaces/shop/pods?labelSelector=app%3Dcart`)));
    console.log(`2000 label-selected lists, 16 connections: ${((2000 * 1000) / (Date.now() - started)).toFixed(0)} req/s`);

    // Watch fan-out: N watchers, one change, time until every watcher has it.
    const watchers = 100;
    const arrivals: number[] = [];
    const reqs: http.ClientRequest[] = [];
    let changedAt = 0;
    const rv = sb.store.resourceVersion;
    await Promise.all(
      Array.from(
        { length: watchers },
        () =>
          new Promise<void>((ready) => {
            const req = http.get(`${sb.apiServer}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}`, (res) => {
              ready();
              res.on('data', (d: Buffer) => {
                if (d.toString().includes('bench-fanout')) arrivals.push(performance.now() - changedAt);
              });
            });
            reqs.push(req);
          }),
      ),
    );
    changedAt = performance.now();
    sb.store.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bench-fanout', namespace: 'default' }, data: {} });
    while (arrivals.length < watchers && performance.now() - changedAt < 5000) await new Promise((r) => setTimeout(r, 5));
    console.log(`watch fan-out to ${watchers} watchers: ${arrivals.length} delivered, last after ${Math.max(...arrivals).toFixed(1)} ms`);
    for (const r of reqs) r.destroy();

    // async: the server runs in this process, so a blocking child would starve it
    const kubectl = async (args: string[]) => {
      const t = Date.now();
      await promisify(execFile)('kubectl', args, { env: { ...process.env, KUBECONFIG: sb.kubeconfig } });
      return Date.now() - t;
    };
    await kubectl(['get', 'pods', '-A']); // warm kubectl's discovery cache
    const k: number[] = [];
    for (let i = 0; i < 10; i++) k.push(await kubectl(['get', 'pods', '-A']));
    console.log(`kubectl get pods -A (process start included) x10: p50 ${pct(k, 50)} ms`);
  } finally {
    agent.destroy();
    await sb.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
