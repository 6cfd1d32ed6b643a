import { existsSync, readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import http from 'node:http';
import axios from 'axios';
import type * as k8s from '@kubernetes/client-node';

export type K8sModule = typeof import('@kubernetes/client-node');

/** A loaded kubeconfig, the client-node module and a small GET helper for what the typed clients do badly (text, proxy). */
export interface KubeConnection {
  readonly lib: K8sModule;
  readonly kubeConfig: k8s.KubeConfig;
  /** API server URL of the current context. */
  readonly server: string;
  readonly context: string;
  /** GET a path on the API server; text body. Errors name the path and the cause. */
  get(path: string, options?: { readonly timeoutMs?: number; readonly maxBytes?: number; readonly params?: Record<string, string | number> }): Promise<string>;
  getJson<T>(path: string, options?: { readonly timeoutMs?: number }): Promise<T>;
  /**
   * Any method with an optional body, answering with whatever status came back (a service behind the proxy
   * answering 503 is an answer, not an error). Throws KubeRequestError only when no answer came.
   */
  request(method: string, path: string, options?: { readonly body?: string; readonly contentType?: string; readonly timeoutMs?: number; readonly maxBytes?: number }): Promise<{ readonly status: number; readonly body: string }>;
}

export class KubeRequestError extends Error {
  constructor(
    message: string,
    readonly statusCode?: number,
  ) {
    super(message);
    this.name = 'KubeRequestError';
  }
}

/**
 * In a pod (KUBERNETES_SERVICE_HOST set, no KUBECONFIG) the agent uses its service account: the token, CA and
 * namespace in /var/run/secrets/kubernetes.io/serviceaccount, or in VIGIL_SERVICEACCOUNT_ROOT (where the
 * k8s tier's node agent puts a pod's, as the kubelet would mount them).
 */
export function inClusterServiceAccount(env: NodeJS.ProcessEnv): { readonly root: string; readonly host: string; readonly port: string } | undefined {
  if (!env.KUBERNETES_SERVICE_HOST || env.KUBECONFIG) return undefined;
  return { root: env.VIGIL_SERVICEACCOUNT_ROOT || '/var/run/secrets/kubernetes.io/serviceaccount', host: env.KUBERNETES_SERVICE_HOST, port: env.KUBERNETES_SERVICE_PORT || '443' };
}

/** client-node's loadFromCluster, with the service account folder as a parameter; the token file is re-read as it rotates. */
function loadInCluster(kc: k8s.KubeConfig, sa: NonNullable<ReturnType<typeof inClusterServiceAccount>>): void {
  const host = sa.host.includes(':') ? `[${sa.host}]` : sa.host;
  const ca = path.join(sa.root, 'ca.crt');
  const token = path.join(sa.root, 'token');
  for (const f of [ca, token]) if (!existsSync(f)) throw new Error(`${f} does not exist`);
  const nsFile = path.join(sa.root, 'namespace');
  kc.loadFromOptions({
    clusters: [{ name: 'in-cluster', server: `https://${host}:${sa.port}`, caFile: ca, skipTLSVerify: false }],
    users: [{ name: 'service-account', authProvider: { name: 'tokenFile', config: { tokenFile: token } } }],
    contexts: [{ name: 'in-cluster', cluster: 'in-cluster', user: 'service-account', namespace: existsSync(nsFile) ? readFileSync(nsFile, 'utf8').trim() : undefined }],
    currentContext: 'in-cluster',
  });
}

/** Loads client-node lazily (ESM-only, large) and the kubeconfig; errors name the file or context and the fix. */
export async function connectKube(options: { readonly kubeconfig?: string; readonly context?: string } = {}): Promise<KubeConnection> {
  const lib = await import('@kubernetes/client-node');
  const kc = new lib.KubeConfig();
  const inCluster = !options.kubeconfig && inClusterServiceAccount(process.env);
  try {
    if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
    else if (inCluster) loadInCluster(kc, inCluster);
    else kc.loadFromDefault();
  } catch (err) {
    if (inCluster) throw new Error(`Cannot use the pod's service account (KUBERNETES_SERVICE_HOST is set) from ${inCluster.root}: ${(err as Error).message}; mount its token (automountServiceAccountToken) or set vigil.kubernetes.kubeconfig`);
    throw new Error(`Cannot load kubeconfig ${options.kubeconfig ?? '(KUBECONFIG or ~/.kube/config)'}: ${(err as Error).message}; check the path or set vigil.kubernetes.kubeconfig`);
  }
  if (options.context) {
    if (!kc.getContextObject(options.context)) {
      throw new Error(`Kubeconfig has no context "${options.context}"; known: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'}`);
    }
    kc.setCurrentContext(options.context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error(`Kubeconfig ${options.kubeconfig ?? ''} has no current cluster; pick a context with --context`);
  const server = cluster.server.replace(/\/+$/, '');
  const reqOpts: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(reqOpts);
  const isHttps = server.startsWith('https:');
  const agent = isHttps
    ? new https.Agent({ ca: reqOpts.ca, cert: reqOpts.cert, key: reqOpts.key, rejectUnauthorized: reqOpts.rejectUnauthorized, keepAlive: true })
    : new http.Agent({ keepAlive: true });
  const baseHeaders = (reqOpts.headers ?? {}) as Record<string, string>;

  const send = async (method: string, path: string, o: { timeoutMs?: number; maxBytes?: number; params?: Record<string, string | number>; body?: string; contentType?: string }) => {
    // Token-refreshing auth providers put fresh headers on each call.
    const fresh: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(fresh);
    return axios.request<string>({
      method,
      url: server + path,
      params: o.params,
      data: o.body,
      headers: { ...baseHeaders, ...((fresh.headers ?? {}) as Record<string, string>), ...(o.body !== undefined ? { 'Content-Type': o.contentType ?? 'application/json' } : {}) },
      httpAgent: isHttps ? undefined : agent,
      httpsAgent: isHttps ? agent : undefined,
      timeout: o.timeoutMs ?? 10_000,
      maxContentLength: o.maxBytes ?? 16 * 1024 * 1024,
      responseType: 'text',
      transformResponse: [(d: unknown) => d],
      validateStatus: () => true,
      proxy: false,
      maxRedirects: 0,
    });
  };
  const noAnswer = (method: string, path: string, err: unknown, timeoutMs: number): KubeRequestError => {
    const e = err as { code?: string; message?: string };
    const cause =
      e.code === 'ECONNREFUSED' ? 'connection refused (is the API server up?)' : e.code === 'ECONNABORTED' ? `no answer within ${timeoutMs} ms` : /maxContentLength/.test(e.message ?? '') ? 'response over the size cap' : (e.code ?? e.message ?? String(err));
    return new KubeRequestError(`${method} ${path} on ${server}: ${cause}`);
  };

  const get = async (path: string, o: { timeoutMs?: number; maxBytes?: number; params?: Record<string, string | number> } = {}): Promise<string> => {
    try {
      const res = await send('GET', path, o);
      if (res.status >= 300) {
        let detail = String(res.data ?? '').slice(0, 200);
        try {
          detail = (JSON.parse(String(res.data)) as { message?: string }).message ?? detail;
        } catch {
          // not a Status object
        }
        throw new KubeRequestError(`GET ${path} on ${server}: HTTP ${res.status}${res.status === 403 ? ' Forbidden (RBAC: grant get on this resource)' : ''}: ${detail}`, res.status);
      }
      return String(res.data);
    } catch (err) {
      if (err instanceof KubeRequestError) throw err;
      throw noAnswer('GET', path, err, o.timeoutMs ?? 10_000);
    }
  };
  return {
    lib,
    kubeConfig: kc,
    server,
    context: kc.getCurrentContext(),
    get,
    async request(method: string, path: string, o: { body?: string; contentType?: string; timeoutMs?: number; maxBytes?: number } = {}) {
      try {
        const res = await send(method, path, o);
        return { status: res.status, body: String(res.data ?? '') };
      } catch (err) {
        throw noAnswer(method, path, err, o.timeoutMs ?? 10_000);
      }
    },
    async getJson<T>(path: string, o: { timeoutMs?: number } = {}): Promise<T> {
      const text = await get(path, o);
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new KubeRequestError(`GET ${path} on ${server}: the answer is not JSON; is this a Kubernetes API server?`);
      }
    },
  };
}
