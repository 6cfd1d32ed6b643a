/** What to do about a failed connection, from the error text. Pure, so it is unit tested. */
export function connectionFix(message: string): string {
  if (/\b401\b|Unauthorized|expired|token.*invalid/i.test(message)) return 'The credentials were refused (expired or invalid): refresh them (e.g. log in to your cloud CLI again) and run "Vigil: Connect to Cluster".';
  if (/\b403\b|Forbidden/i.test(message)) return 'The credentials lack RBAC permission: grant get/list/watch on pods, deployments, events and nodes (and patch for remediations) to this user, then reconnect.';
  if (/ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|timed out|socket hang up|unreachable/i.test(message)) return 'The API server is unreachable: check that the cluster is running and the kubeconfig server URL is right, or start the sandbox with "Vigil: Start Sandbox Cluster".';
  if (/kubeconfig|context/i.test(message)) return 'Check the kubeconfig path (setting vigil.kubernetes.kubeconfig) and pick a context with "Vigil: Connect to Cluster".';
  return 'See the "Vigil" output channel for details, then run "Vigil: Connect to Cluster" again.';
}

/** Context names in a kubeconfig document (YAML already parsed), with the current one first. */
export function kubeconfigContexts(doc: unknown): { contexts: string[]; current?: string } {
  const d = (doc ?? {}) as { contexts?: Array<{ name?: unknown }>; 'current-context'?: unknown };
  const contexts = (Array.isArray(d.contexts) ? d.contexts : []).map((c) => c?.name).filter((n): n is string => typeof n === 'string');
  const current = typeof d['current-context'] === 'string' ? d['current-context'] : undefined;
  return { contexts: current && contexts.includes(current) ? [current, ...contexts.filter((c) => c !== current)] : contexts, current };
}
