/**
 * The agent's HTTP endpoints for the cluster that runs it: /healthz (liveness: the process answers), /readyz (its
 * loop runs and the Kubernetes API is watched; a standby is ready too, it keeps detecting) and /metrics.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EndpointHandlers {
  /** undefined when ready, else why not (one line). */
  readonly notReady: () => string | undefined;
  readonly metrics: () => string;
}

export class AgentEndpoints {
  private constructor(private readonly server: http.Server) {}

  static async listen(port: number, host: string, handlers: EndpointHandlers): Promise<AgentEndpoints> {
    const server = http.createServer((req, res) => {
      const url = (req.url ?? '/').split('?')[0];
      const send = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
        res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : body);
      };
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'only GET and HEAD\n');
      try {
        if (url === '/healthz' || url === '/livez') return send(200, 'ok\n');
        if (url === '/readyz') {
          const why = handlers.notReady();
          return why ? send(503, `not ready: ${why}\n`) : send(200, 'ok\n');
        }
        if (url === '/metrics') return send(200, handlers.metrics(), 'text/plain; version=0.0.4; charset=utf-8');
        return send(404, 'not found: /healthz, /readyz and /metrics are served\n');
      } catch (err) {
        return send(500, `${(err as Error).message}\n`);
      }
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) =>
        reject(new Error(err.code === 'EADDRINUSE' ? `agent.httpPort ${port}${host ? ` on ${host}` : ''} is in use; pick another port (--http-port, VIGIL_HTTP_PORT) or 0 for none` : `cannot serve /healthz, /readyz, /metrics on ${host || '*'}:${port}: ${err.message}`));
      server.once('error', onError);
      server.listen(port, host || undefined, () => {
        server.off('error', onError);
        resolve();
      });
    });
    return new AgentEndpoints(server);
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
