/**
 * The kubelet's own HTTPS port (10250) of one simulated node: what the API server calls for `kubectl logs`
 * (/containerLogs/{namespace}/{pod}/{container} with follow, tailLines and previous) and what Prometheus
 * scrapes for container usage (/metrics/cadvisor). Self-signed, as a kubelet without a serving certificate
 * from the cluster CA is; the API server does not verify it unless told a CA (the tier does not).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { renderCadvisor, type CadvisorMachine } from '../sim/cadvisor';
import type { PodRuntime } from '../sim/containerLifecycle';
import type { PodLogOptions } from '../sim/workloadModel';

export const KUBELET_PORT = 10250;

export interface KubeletServerHost {
  now(): number;
  /** A pod on this node by namespace and name, with its container names. */
  pod(namespace: string, name: string): { readonly rt: PodRuntime; readonly containers: ReadonlyArray<string> } | undefined;
  /** The pods running on this node. */
  runtimes(): Iterable<PodRuntime>;
  logs(rt: PodRuntime, options: PodLogOptions, onLine: (line: string) => void): { lines: string[]; stop(): void };
  readonly machine: CadvisorMachine;
  /** The node failed (its kubelet is down): nothing on its port answers. */
  down?(): boolean;
}

export interface TlsPair {
  readonly key: string;
  readonly cert: string;
}

/** A self-signed serving certificate for the node addresses, made with openssl (EC P-256, one year). */
export function selfSignedCertificate(ips: ReadonlyArray<string>, commonName = 'vigil-node-agent'): TlsPair {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-kubelet-tls-'));
  try {
    const r = spawnSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '365',
      '-keyout', path.join(dir, 'tls.key'), '-out', path.join(dir, 'tls.crt'), '-subj', `/CN=${commonName}`,
      '-addext', `subjectAltName=${ips.map((ip) => `IP:${ip}`).join(',')}`,
    ], { encoding: 'utf8' });
    if (r.error || r.status !== 0) {
      throw new Error(`node agent: making the kubelet's self-signed certificate with openssl failed (${r.error?.message ?? r.stderr.trim()}); install openssl (Debian: apt-get install openssl)`);
    }
    return { key: readFileSync(path.join(dir, 'tls.key'), 'utf8'), cert: readFileSync(path.join(dir, 'tls.crt'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const text = (res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8') => res.writeHead(status, { 'Content-Type': type }).end(body);

function handle(host: KubeletServerHost, req: IncomingMessage, res: ServerResponse): void {
  // a failed node's kubelet is gone: Prometheus's scrape and the API server's log requests fail as they would
  if (host.down?.()) return void req.socket.destroy();
  const url = new URL(req.url ?? '/', 'https://kubelet');
  if (req.method !== 'GET') return void text(res, 405, `${req.method} is not supported on ${url.pathname}\n`);
  if (url.pathname === '/healthz') return void text(res, 200, 'ok');
  if (url.pathname === '/metrics/cadvisor') {
    return void text(res, 200, renderCadvisor(host.runtimes(), host.machine, host.now()), 'text/plain; version=0.0.4; charset=utf-8');
  }
  const logs = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)\/?$/.exec(url.pathname);
  if (!logs) return void text(res, 404, `404 page not found: the node agent serves /containerLogs/{namespace}/{pod}/{container}, /metrics/cadvisor and /healthz\n`);
  const [namespace, name, container] = logs.slice(1).map(decodeURIComponent);
  const found = host.pod(namespace, name);
  if (!found) return void text(res, 404, `pod "${namespace}/${name}" not found on this node\n`);
  if (!found.containers.includes(container)) return void text(res, 404, `container "${container}" not found in pod "${namespace}/${name}"\n`);
  const flag = (k: string) => url.searchParams.get(k) === 'true' || url.searchParams.get(k) === '1';
  const tail = url.searchParams.get('tailLines');
  const tailLines = tail === null ? undefined : Number(tail);
  if (tailLines !== undefined && (!Number.isInteger(tailLines) || tailLines < 0)) return void text(res, 400, `invalid tailLines "${tail}": must be a whole number\n`);
  const previous = flag('previous');
  if (previous && found.rt.restartCount === 0) {
    return void text(res, 400, `previous terminated container "${container}" in pod "${name}" not found\n`);
  }
  const follow = flag('follow');
  let started = false;
  const pending: string[] = [];
  const stream = host.logs(found.rt, { tailLines, follow, previous }, (line) => {
    if (!started) pending.push(line);
    else if (!res.writableEnded) res.write(`${line}\n`);
  });
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache, private' });
  if (stream.lines.length) res.write(stream.lines.map((l) => `${l}\n`).join(''));
  started = true;
  for (const l of pending) res.write(`${l}\n`);
  if (!follow || previous) {
    stream.stop();
    res.end();
    return;
  }
  // a follower stays until the client (the API server relaying kubectl logs -f) goes away
  req.socket.once('close', () => stream.stop());
}

export interface KubeletServer {
  close(): Promise<void>;
}

export async function startKubeletServer(address: string, tls: TlsPair, host: KubeletServerHost, port = KUBELET_PORT): Promise<KubeletServer> {
  const server = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    try {
      handle(host, req, res);
    } catch (err) {
      if (!res.headersSent) text(res, 500, `node agent: ${(err as Error).message}\n`);
      else res.end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`node agent: cannot listen on ${address}:${port} (${err.code ?? err.message}); the node address must be local to the network namespace (ip addr add ${address}/32 dev lo, or ip route add local 10.244.0.0/16 dev lo)`)),
    );
    server.listen(port, address, () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
