/**
 * The HTTP port of one simulated pod, on the pod's own IP (port 8080): `/metrics` for Prometheus and the
 * shop's API for the API server's pod and service proxies. It listens only while the container runs, so a
 * crashed or not yet started container refuses connections as a real one does.
 */
import http from 'node:http';
import type { HttpAnswer, HttpRequest } from '../sim/shopApi';

export const POD_PORT = 8080;
/** Longest simulated answer time honoured; a saturated pod's seconds of latency still end. */
const MAX_DELAY_MS = 10_000;
const MAX_BODY_BYTES = 1024 * 1024;

export interface PodServerHost {
  metrics(): string;
  serve(request: HttpRequest): HttpAnswer;
}

export class PodServer {
  private server: http.Server | undefined;
  private failed = false;

  constructor(
    readonly address: string,
    private readonly host: PodServerHost,
    private readonly log: (line: string) => void,
    private readonly port = POD_PORT,
  ) {}

  get listening(): boolean {
    return this.server?.listening === true;
  }

  /** Listens while `up`, closes (refusing connections) while not. */
  set(up: boolean): void {
    if (up && !this.server) this.open();
    else if (!up && this.server) void this.close();
  }

  private open(): void {
    const server = http.createServer((req, res) => this.handle(req, res));
    this.server = server;
    server.on('error', (err: NodeJS.ErrnoException) => {
      if (this.server === server) this.server = undefined;
      // said once per pod: the tier forgot the AnyIP route, every later try would say the same
      if (!this.failed) this.log(`node agent: pod ${this.address}:${this.port} cannot listen (${err.code ?? err.message}); make the pod range local in the network namespace: ip route add local 10.244.0.0/16 dev lo`);
      this.failed = true;
    });
    server.listen(this.port, this.address);
  }

  close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method === 'GET' && path === '/metrics') {
        res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }).end(this.host.metrics());
        return;
      }
      const answer = this.host.serve({ method: req.method ?? 'GET', path, body: Buffer.concat(chunks).toString('utf8') });
      const send = () => {
        if (!res.writableEnded) res.writeHead(answer.status, { 'Content-Type': answer.contentType }).end(answer.body);
      };
      setTimeout(send, Math.min(MAX_DELAY_MS, Math.max(0, answer.delayMs)));
    });
  }
}
