import { actionTarget, describeAction, workloadNoun, type ActionSpec, type RiskLevel } from '../model/action';
import { shardLeaseName, type AutomationMode, type SafetySettings } from '../model/automation';
import type { GateDecision, GateName, GateResult } from '../model/gate';
import { targetKey, type TargetRef } from '../model/target';
import type { LeaseState } from '../ports';

/** An action that already ran, for rate limits and cooldowns. */
export interface ActionRecord {
  readonly t: number;
  readonly targetKey: string;
  readonly incidentId: string;
  /** The workload the action remedied (a pod delete remedies its deployment); absent in older state: `targetKey`. */
  readonly workloadKey?: string;
}

export interface GateInput {
  readonly now: number;
  readonly mode: AutomationMode;
  /** Automation paused by a human: only approved actions run. */
  readonly paused: boolean;
  readonly settings: SafetySettings;
  /** The namespaces of this instance's shard (`kubernetes.namespaces`); undefined or empty: every namespace. */
  readonly shardNamespaces?: ReadonlyArray<string>;
  readonly action: ActionSpec;
  /** The workload the action remedies, for the per-workload rate limit and cooldown; default: the action's own target. */
  readonly workload?: TargetRef;
  readonly risk: RiskLevel;
  readonly incidentId: string;
  /** A human approved this exact step. */
  readonly approved: boolean;
  readonly history: ReadonlyArray<ActionRecord>;
  /** Failed remediations in a row, across the cluster. */
  readonly consecutiveFailures: number;
  readonly rolloutInProgress: boolean;
  /** For pod-disrupting actions: the deployment's pods and how many are already unavailable. */
  /** `unavailablePods`: names of the pods not ready now (deleting one of them takes nothing more out of service). */
  readonly deploymentPods?: { readonly total: number; readonly unavailable: number; readonly unavailablePods?: ReadonlyArray<string> };
  /** For node actions: the cluster's nodes and how many are already cordoned or NotReady. */
  readonly nodes?: { readonly total: number; readonly unschedulable: number };
  /** For scale: the current replica count. */
  readonly currentReplicas?: number;
  readonly lease: LeaseState | undefined;
  readonly identity: string;
}

const RISK_ORDER: Readonly<Record<RiskLevel, number>> = { low: 0, medium: 1, high: 2 };
const HOUR_MS = 3_600_000;
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/**
 * Every gate, evaluated in order; all are reported so the UI can show what passed.
 * An action may run when every gate allows it; `needsApproval` when only a human's approval is missing.
 */
export function evaluateGates(input: GateInput): GateDecision {
  const results: GateResult[] = [
    modeGate(input),
    approvalGate(input),
    namespaceGate(input),
    maintenanceGate(input),
    rolloutGate(input),
    rateLimitTargetGate(input),
    rateLimitGlobalGate(input),
    cooldownGate(input),
    blastRadiusGate(input),
    circuitBreakerGate(input),
    leaseGate(input),
    dryRunGate(input),
  ];
  const refused = results.filter((r) => !r.allowed);
  const onlyApprovalMissing = refused.length > 0 && refused.every((r) => r.gate === 'approval');
  return { allowed: refused.length === 0, needsApproval: onlyApprovalMissing, results, refusedBy: refused.find((r) => r.gate !== 'approval') ?? refused[0] };
}

const ok = (gate: GateName, reason: string): GateResult => ({ gate, allowed: true, reason });
const no = (gate: GateName, reason: string): GateResult => ({ gate, allowed: false, reason });

function modeGate(i: GateInput): GateResult {
  if (i.mode === 'off') return no('automation-mode', 'automation mode is "off": Vigil only detects and diagnoses. Set vigil.automation.mode to suggest or auto.');
  if (i.paused && !i.approved) return no('automation-mode', 'automation is paused by a human; approve the step to run it, or resume automation');
  return ok('automation-mode', `automation mode is "${i.mode}"${i.paused ? ' (paused, but this step was approved)' : ''}`);
}

function approvalGate(i: GateInput): GateResult {
  if (i.approved) return ok('approval', 'approved by a human');
  if (i.mode === 'suggest') return no('approval', 'suggest mode: waiting for a human to approve this step');
  const limit = i.settings.approvalRequiredForRisk;
  if (limit !== 'never' && RISK_ORDER[i.risk] >= RISK_ORDER[limit]) {
    return no('approval', `${i.risk}-risk action needs approval (vigil.safety.approvalRequiredForRisk is "${limit}")`);
  }
  return ok('approval', `${i.risk}-risk action may run without approval in auto mode`);
}

function namespaceGate(i: GateInput): GateResult {
  const ns = actionTarget(i.action).namespace;
  if (!ns) return ok('namespace-policy', 'cluster-scoped action (node); namespace lists do not apply');
  if (i.settings.deniedNamespaces.includes(ns)) return no('namespace-policy', `namespace "${ns}" is in vigil.safety.deniedNamespaces`);
  // another shard's agent (its own Lease) acts there
  if (i.shardNamespaces?.length && !i.shardNamespaces.includes(ns)) return no('namespace-policy', `namespace "${ns}" is outside this agent's shard, vigil.kubernetes.namespaces (${i.shardNamespaces.join(', ')})`);
  if (i.settings.allowedNamespaces.length > 0 && !i.settings.allowedNamespaces.includes(ns)) {
    return no('namespace-policy', `namespace "${ns}" is not in vigil.safety.allowedNamespaces (${i.settings.allowedNamespaces.join(', ')})`);
  }
  return ok('namespace-policy', `namespace "${ns}" is allowed`);
}

/** Parses `DAY HH:MM-HH:MM` (UTC, DAY = Mon..Sun or *); windows may wrap past midnight. */
export function parseMaintenanceWindow(spec: string): { day: number | '*'; start: number; end: number } {
  const m = /^\s*(\*|Mon|Tue|Wed|Thu|Fri|Sat|Sun)\s+(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})\s*$/i.exec(spec);
  if (!m) throw new Error(`Maintenance window "${spec}" is not of the form "DAY HH:MM-HH:MM" (UTC), e.g. "Sun 02:00-04:00" or "* 23:00-23:30"`);
  const day = m[1] === '*' ? '*' : DAYS.findIndex((d) => d.toLowerCase() === m[1].toLowerCase());
  const start = Number(m[2]) * 60 + Number(m[3]);
  const end = Number(m[4]) * 60 + Number(m[5]);
  if (start >= 24 * 60 || end > 24 * 60) throw new Error(`Maintenance window "${spec}" has an hour past 24:00`);
  return { day, start, end };
}

export function inMaintenanceWindow(spec: string, now: number): boolean {
  const w = parseMaintenanceWindow(spec);
  const d = new Date(now);
  const minute = d.getUTCHours() * 60 + d.getUTCMinutes();
  const today = d.getUTCDay();
  const dayMatches = (day: number) => w.day === '*' || w.day === day;
  if (w.start <= w.end) return dayMatches(today) && minute >= w.start && minute < w.end;
  // wraps midnight: the part before midnight belongs to the window's day, the rest to the next day
  return (dayMatches(today) && minute >= w.start) || (dayMatches((today + 6) % 7) && minute < w.end);
}

function maintenanceGate(i: GateInput): GateResult {
  for (const spec of i.settings.maintenanceWindows) {
    let inside: boolean;
    try {
      inside = inMaintenanceWindow(spec, i.now);
    } catch (err) {
      return no('maintenance-window', `${(err as Error).message}; fix vigil.safety.maintenanceWindows (holding off until it is valid)`);
    }
    if (inside) return no('maintenance-window', `inside maintenance window "${spec}" (UTC): automation holds off`);
  }
  return ok('maintenance-window', i.settings.maintenanceWindows.length ? 'outside every maintenance window' : 'no maintenance windows set');
}

function rolloutGate(i: GateInput): GateResult {
  if (!i.settings.suppressDuringRollout || !i.rolloutInProgress) return ok('rollout-in-progress', 'no rollout in progress');
  // rolling back IS the remedy for a bad rollout; everything else waits for the rollout to settle
  if (i.action.kind === 'rollback') return ok('rollout-in-progress', 'a rollout is in progress, but a rollback is allowed to interrupt it');
  return no('rollout-in-progress', `a rollout of ${describeTarget(i.action)} is still progressing; waiting for it to finish before acting`);
}

function rateLimitTargetGate(i: GateInput): GateResult {
  const key = workloadKey(i);
  const n = i.history.filter((h) => (h.workloadKey ?? h.targetKey) === key && i.now - h.t < HOUR_MS).length;
  const max = i.settings.maxActionsPerTargetPerHour;
  if (n >= max) return no('rate-limit-target', `${n} actions on ${describeWorkload(i)} in the last hour (limit vigil.safety.maxActionsPerTargetPerHour = ${max})`);
  return ok('rate-limit-target', `${n} of ${max} actions on this target in the last hour`);
}

function rateLimitGlobalGate(i: GateInput): GateResult {
  const n = i.history.filter((h) => i.now - h.t < HOUR_MS).length;
  const max = i.settings.maxActionsPerHour;
  if (n >= max) return no('rate-limit-global', `${n} actions across the cluster in the last hour (limit vigil.safety.maxActionsPerHour = ${max})`);
  return ok('rate-limit-global', `${n} of ${max} actions across the cluster in the last hour`);
}

function cooldownGate(i: GateInput): GateResult {
  const key = workloadKey(i);
  // steps of the same incident follow each other after verification; the cooldown is between incidents
  const last = i.history.filter((h) => (h.workloadKey ?? h.targetKey) === key && h.incidentId !== i.incidentId).reduce((m, h) => Math.max(m, h.t), -Infinity);
  const waitMs = last + i.settings.cooldownSeconds * 1000 - i.now;
  if (waitMs > 0) return no('cooldown', `last action on ${describeWorkload(i)} was ${Math.round((i.now - last) / 1000)} s ago; cooldown is ${i.settings.cooldownSeconds} s (${Math.ceil(waitMs / 1000)} s left)`);
  return ok('cooldown', 'no recent action on this target from another incident');
}

function blastRadiusGate(i: GateInput): GateResult {
  const pct = i.settings.maxBlastRadiusPercent;
  const a = i.action;
  if (a.kind === 'delete-pod' && i.deploymentPods) {
    const { total, unavailable, unavailablePods } = i.deploymentPods;
    if (unavailablePods?.includes(a.pod)) return ok('blast-radius', `${a.pod} is not ready: deleting it takes nothing more out of service (${unavailable} of ${total} unavailable)`);
    const after = ((unavailable + 1) / Math.max(1, total)) * 100;
    if (total <= 1 || after > pct) return no('blast-radius', `deleting this pod would leave ${unavailable + 1} of ${total} pods unavailable (${after.toFixed(0)}% > ${pct}%, vigil.safety.maxBlastRadiusPercent)`);
    return ok('blast-radius', `${unavailable + 1} of ${total} pods unavailable at most (${after.toFixed(0)}% ≤ ${pct}%)`);
  }
  if ((a.kind === 'cordon' || a.kind === 'drain') && i.nodes) {
    const { total, unschedulable } = i.nodes;
    const after = ((unschedulable + (a.kind === 'drain' ? 0 : 1)) / Math.max(1, total)) * 100;
    const already = a.kind === 'drain' ? unschedulable : unschedulable + 1;
    if (after > pct && already > 1) return no('blast-radius', `${already} of ${total} nodes would be out of service (${after.toFixed(0)}% > ${pct}%, vigil.safety.maxBlastRadiusPercent)`);
    return ok('blast-radius', `${already} of ${total} nodes out of service at most`);
  }
  if (a.kind === 'scale' && i.currentReplicas !== undefined && a.replicas < i.currentReplicas) {
    const cut = ((i.currentReplicas - a.replicas) / Math.max(1, i.currentReplicas)) * 100;
    if (cut > pct) return no('blast-radius', `scaling ${i.currentReplicas} → ${a.replicas} removes ${cut.toFixed(0)}% of pods (> ${pct}%)`);
  }
  return ok('blast-radius', 'within the blast radius');
}

function circuitBreakerGate(i: GateInput): GateResult {
  const k = i.settings.circuitBreakerFailures;
  if (i.consecutiveFailures >= k && !i.approved) return no('circuit-breaker', `automation stopped after ${i.consecutiveFailures} failed remediations in a row (vigil.safety.circuitBreakerFailures = ${k}); a human must look, approve a step or resume automation`);
  return ok('circuit-breaker', `${i.consecutiveFailures} failed remediations in a row (breaker opens at ${k})`);
}

function leaseGate(i: GateInput): GateResult {
  if (!i.lease) return no('lease', `the Lease "${shardLeaseName(i.settings.leaseName, i.shardNamespaces ?? [])}" could not be read; not acting without knowing no other Vigil instance acts`);
  if (!i.lease.held) return no('lease', `another Vigil instance (${i.lease.holder ?? 'unknown'}) holds the Lease "${shardLeaseName(i.settings.leaseName, i.shardNamespaces ?? [])}"; only the holder acts`);
  return ok('lease', `this instance (${i.identity}) holds the Lease "${shardLeaseName(i.settings.leaseName, i.shardNamespaces ?? [])}"`);
}

function dryRunGate(i: GateInput): GateResult {
  return ok('dry-run', i.settings.dryRun ? 'vigil.safety.dryRun is on: the action runs as a server-side dry run only; nothing changes' : `a server-side dry run of "${describeAction(i.action)}" runs first`);
}

/** Rate limits and cooldowns count per workload: a pod's name changes with every delete, its deployment's does not. */
function workloadKey(i: GateInput): string {
  return targetKey(i.workload ?? actionTarget(i.action));
}

function describeWorkload(i: GateInput): string {
  const t = i.workload ?? actionTarget(i.action);
  return t.namespace ? `${t.namespace}/${t.name}` : `node ${t.name}`;
}

function describeTarget(a: ActionSpec): string {
  const t = actionTarget(a);
  if (a.kind === 'rollout-restart' || a.kind === 'rollback' || a.kind === 'scale') return `${workloadNoun(a)} ${t.namespace}/${t.name}`;
  return t.namespace ? `${t.namespace}/${t.name}` : `node ${t.name}`;
}
