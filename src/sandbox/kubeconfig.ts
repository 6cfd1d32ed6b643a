import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';

/** Name of the cluster, user and context in every sandbox kubeconfig. */
export const SANDBOX_CONTEXT = 'vigil-sandbox';
/** The sandbox accepts any token; this one only keeps clients that insist on credentials happy. */
export const SANDBOX_TOKEN = 'vigil-sandbox-token';
/** Who every caller of the sandbox is (it authenticates nobody): what a SelfSubjectReview answers. */
export const SANDBOX_USER = 'vigil-sandbox-admin';

export function sandboxKubeconfig(server: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    // client-node refuses a plain-http server unless TLS verification is declared skipped.
    clusters: [{ name: SANDBOX_CONTEXT, cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: SANDBOX_CONTEXT, user: { token: SANDBOX_TOKEN } }],
    contexts: [{ name: SANDBOX_CONTEXT, context: { cluster: SANDBOX_CONTEXT, user: SANDBOX_CONTEXT, namespace: 'default' } }],
    'current-context': SANDBOX_CONTEXT,
    preferences: {},
  });
}

/** Writes the kubeconfig (creating its folder) and returns its absolute path. */
export function writeSandboxKubeconfig(file: string, server: string): string {
  const abs = path.resolve(file);
  mkdirSync(path.dirname(abs), { recursive: true });
  writeFileSync(abs, sandboxKubeconfig(server), { mode: 0o600 });
  return abs;
}
