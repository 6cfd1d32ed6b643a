/** What Vigil may do on its own. */
export type AutomationMode = 'off' | 'suggest' | 'auto';

export interface SafetySettings {
  readonly dryRun: boolean;
  readonly approvalRequiredForRisk: 'low' | 'medium' | 'high' | 'never';
  readonly allowedNamespaces: ReadonlyArray<string>;
  readonly deniedNamespaces: ReadonlyArray<string>;
  /** `DAY HH:MM-HH:MM` in UTC; DAY is Mon..Sun or *. */
  readonly maintenanceWindows: ReadonlyArray<string>;
  readonly maxActionsPerTargetPerHour: number;
  readonly maxActionsPerHour: number;
  readonly cooldownSeconds: number;
  readonly maxBlastRadiusPercent: number;
  readonly circuitBreakerFailures: number;
  readonly suppressDuringRollout: boolean;
  readonly leaseName: string;
}

export const DEFAULT_SAFETY: SafetySettings = {
  dryRun: false,
  approvalRequiredForRisk: 'high',
  allowedNamespaces: [],
  deniedNamespaces: ['kube-system'],
  maintenanceWindows: [],
  maxActionsPerTargetPerHour: 3,
  maxActionsPerHour: 10,
  cooldownSeconds: 120,
  maxBlastRadiusPercent: 34,
  circuitBreakerFailures: 3,
  suppressDuringRollout: true,
  leaseName: 'vigil-copilot',
};

/** Whether a Lease is Vigil's: `leaseName` itself or the Lease of one of its shards (see shardLeaseName). */
export function isVigilLeaseName(name: string, leaseName: string): boolean {
  if (name === leaseName) return true;
  // a shard's name is the shortened leaseName, "-shard-" and 8 hex digits: the same prefix for every shard
  const prefix = shardLeaseName(leaseName, ['-']).slice(0, -8);
  return name.startsWith(prefix) && /^[0-9a-f]{8}$/.test(name.slice(prefix.length));
}

/** Longest Kubernetes object name (a DNS subdomain label here). */
const MAX_NAME = 63;

/**
 * The Lease of a shard: an agent watching `kubernetes.namespaces` leads only among the agents of that same set, so
 * each shard has one acting replica and shards never contend. No namespaces (the whole cluster): `leaseName` itself.
 * The suffix is a hash of the sorted set (order and repeats do not matter), e.g. `vigil-copilot-shard-1f3a9c07`.
 */
export function shardLeaseName(leaseName: string, namespaces: ReadonlyArray<string>): string {
  if (namespaces.length === 0) return leaseName;
  const key = [...new Set(namespaces)].sort().join(',');
  // FNV-1a, 32 bits: stable across versions and processes, which the name must be
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  const suffix = `-shard-${h.toString(16).padStart(8, '0')}`;
  return `${leaseName.slice(0, MAX_NAME - suffix.length).replace(/[-.]+$/, '')}${suffix}`;
}
