// Types of controlPlane.mjs for the TypeScript test tier (test/k8s).
import type { SpawnSyncReturns } from 'node:child_process';

export const NETNS: string;
export const API_ADDRESS: string;
export const API_PORT: number;
export const POD_RANGE: string;

export function missingPrerequisite(): string | undefined;
export function componentsDir(): { dir: string; reason?: undefined } | { reason: string; dir?: undefined };

export interface ControlPlane {
  readonly dir: string;
  readonly netns: string;
  readonly kubeconfig: string;
  readonly server: string;
  readonly kubeStateMetricsUrl: string;
  readonly startSeconds: number;
  readonly apiserverReadySeconds: number;
  kubectl(args: string[]): SpawnSyncReturns<string>;
  rss(): Record<string, number | undefined>;
  stop(): Promise<void>;
}

export function startControlPlane(options: {
  binaries: string;
  dir?: string;
  netns?: string;
  extraApiserverArgs?: string[];
  log?: (line: string) => void;
  signal?: { aborted: boolean };
}): Promise<ControlPlane>;
