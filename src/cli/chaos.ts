/**
 * `vigil chaos <fault>`: asks a running Vigil sandbox to inject a fault. The sandbox is found through the
 * kubeconfig's API server: ConfigMap kube-public/vigil-sandbox names its fault API — the embedded sandbox's
 * own API server, or the node agent that plays the nodes of a real control plane.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { intOption, parseCliArgs } from './args';
import { connectKube } from '../infra/kubernetes/kubeClient';
import { FAULT_API_CONFIGMAP } from '../sandbox/discovery';
import { DEFAULT_KUBECONFIG_PATH } from '../sandbox/sandbox';

export const FAULTS = ['crash-loop', 'memory-leak', 'bad-release', 'latency-spike', 'node-failure', 'traffic-surge', 'bad-feature-flag', 'dependency-outage', 'cpu-hog'] as const;

class ChaosError extends Error {}

/** The server URL of the kubeconfig's current context. */
export function serverFromKubeconfig(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ChaosError(`cannot read kubeconfig ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}. Start the sandbox with \`vigil sandbox\` (it writes ${DEFAULT_KUBECONFIG_PATH}) or pass --kubeconfig PATH.`);
  }
  let cfg: { 'current-context'?: string; contexts?: Array<{ name: string; context?: { cluster?: string } }>; clusters?: Array<{ name: string; cluster?: { server?: string } }> };
  try {
    cfg = parse(text) ?? {};
  } catch (err) {
    throw new ChaosError(`kubeconfig ${file} is not valid YAML: ${(err as Error).message}`);
  }
  const ctx = cfg.contexts?.find((c) => c.name === cfg['current-context']);
  const server = cfg.clusters?.find((c) => c.name === ctx?.context?.cluster)?.cluster?.server;
  if (!server) throw new ChaosError(`kubeconfig ${file} has no server for its current context "${cfg['current-context'] ?? ''}"`);
  return server.replace(/\/+$/, '');
}

/** The fault API's base URL (…/sandbox/v1) the cluster publishes, read with the kubeconfig's credentials. */
export async function faultApiUrl(kubeconfig: string): Promise<string> {
  const server = serverFromKubeconfig(kubeconfig);
  const { namespace, name, key } = FAULT_API_CONFIGMAP;
  let answer: { status: number; body: string };
  try {
    const conn = await connectKube({ kubeconfig });
    answer = await conn.request('GET', `/api/v1/namespaces/${namespace}/configmaps/${name}`, { timeoutMs: 10_000 });
  } catch (err) {
    throw new ChaosError(`cannot reach ${server} (${(err as Error).message}). Is \`vigil sandbox\` (or the control plane) running with this kubeconfig?`);
  }
  if (answer.status === 401 || answer.status === 403) {
    throw new ChaosError(`${server} refused to show configmap ${namespace}/${name} (HTTP ${answer.status}): the kubeconfig's user needs get on configmaps in ${namespace}; use the admin kubeconfig`);
  }
  const notSandbox = `${server} is not a Vigil sandbox: it publishes no fault API (configmap ${namespace}/${name}, key ${key}); start \`vigil sandbox\`, or \`vigil node-agent\` on a real control plane`;
  if (answer.status !== 200) throw new ChaosError(`${notSandbox} (HTTP ${answer.status})`);
  let url: unknown;
  try {
    url = (JSON.parse(answer.body) as { data?: Record<string, unknown> }).data?.[key];
  } catch {
    url = undefined;
  }
  if (typeof url !== 'string' || !/^https?:\/\//.test(url)) throw new ChaosError(notSandbox);
  return url.replace(/\/+$/, '');
}

/** One call to the sandbox fault API at `base`; a clear error when it does not answer. */
export async function faultApiRequest(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new ChaosError(`cannot reach the sandbox fault API ${base} (${cause}). Is \`vigil sandbox\` (or \`vigil node-agent\`) still running?`);
  }
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    parsed = { message: text.slice(0, 300) };
  }
  return { status: res.status, body: parsed };
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCliArgs(
    'chaos',
    argv,
    { kubeconfig: { type: 'string' }, target: { type: 'string' }, duration: { type: 'string' } },
    true,
  );
  try {
    const fault = positionals[0];
    if (!fault || positionals.length > 1) throw new ChaosError(`name exactly one fault, one of: ${FAULTS.join(', ')}`);
    if (!(FAULTS as ReadonlyArray<string>).includes(fault)) throw new ChaosError(`unknown fault "${fault}"; use one of: ${FAULTS.join(', ')}`);
    const target = values.target as string | undefined;
    if (!target) throw new ChaosError(`--target is required: <namespace>/<deployment>${fault === 'node-failure' ? ' or the node name' : ''}, e.g. --target shop/checkout`);
    const durationSeconds = values.duration === undefined ? undefined : intOption('chaos', 'duration', values.duration, 0);
    if (durationSeconds !== undefined && durationSeconds <= 0) throw new ChaosError(`--duration must be a positive number of seconds, got ${durationSeconds}`);
    const kubeconfig = (values.kubeconfig as string | undefined) ?? process.env.KUBECONFIG ?? DEFAULT_KUBECONFIG_PATH;
    const faults = await faultApiUrl(kubeconfig);
    const r = await faultApiRequest(faults, 'POST', '/faults', { fault, target, ...(durationSeconds !== undefined ? { durationSeconds } : {}) });
    if (r.status < 200 || r.status >= 300) {
      throw new ChaosError(`the sandbox refused ${fault} on ${target} (HTTP ${r.status}): ${String(r.body.message ?? JSON.stringify(r.body))}`);
    }
    const b = r.body;
    console.log(`injected ${String(b.fault ?? fault)} on ${String(b.target ?? target)}: id ${String(b.id)}, started ${String(b.startedAt)}${b.endsAt ? `, ends ${String(b.endsAt)}` : ', until removed'}`);
    console.log(JSON.stringify(b));
    return 0;
  } catch (err) {
    if (err instanceof ChaosError) {
      console.error(`vigil chaos: ${err.message}`);
      return 1;
    }
    throw err;
  }
}
