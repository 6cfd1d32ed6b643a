import assert from 'node:assert/strict';
import { evaluateGates, inMaintenanceWindow, type GateInput } from '../../../src/core/decide/safetyGates';
import { describeAction } from '../../../src/core/model/action';
import { DEFAULT_SAFETY } from '../../../src/core/model/automation';
import type { GateName } from '../../../src/core/model/gate';

const NOW = Date.UTC(2026, 10, 23, 3, 0, 0); // a Monday, 03:00 UTC

function input(over: Partial<GateInput> = {}): GateInput {
  return {
    now: NOW,
    mode: 'auto',
    paused: false,
    settings: { ...DEFAULT_SAFETY, approvalRequiredForRisk: 'high' },
    action: { kind: 'rollout-restart', namespace: 'shop', deployment: 'checkout' },
    risk: 'low',
    incidentId: 'inc-1',
    approved: false,
    history: [],
    consecutiveFailures: 0,
    rolloutInProgress: false,
    lease: { holder: 'me', held: true },
    identity: 'me',
    ...over,
  };
}

function refusedBy(over: Partial<GateInput>): GateName | undefined {
  const d = evaluateGates(input(over));
  assert.equal(d.allowed, false, 'expected a refusal');
  assert.ok(d.refusedBy?.reason.length, 'a refusal says why');
  return d.refusedBy?.gate;
}

describe('safety gates', () => {
  it('let a low-risk action through in auto mode, reporting every gate', () => {
    const d = evaluateGates(input());
    assert.equal(d.allowed, true);
    assert.equal(d.results.length, 12);
    assert.ok(d.results.every((r) => r.allowed && r.reason));
  });

  it('name a StatefulSet or DaemonSet by its kind (rollout gate, prompts), and hold its pods to the blast radius as a Deployment\'s', () => {
    const sts = { kind: 'rollout-restart' as const, namespace: 'shop', deployment: 'orders-db', workloadKind: 'StatefulSet' as const };
    const held = evaluateGates(input({ action: sts, rolloutInProgress: true }));
    assert.equal(held.refusedBy?.gate, 'rollout-in-progress');
    assert.equal(held.refusedBy?.reason, 'a rollout of statefulset shop/orders-db is still progressing; waiting for it to finish before acting');
    assert.equal(describeAction(sts), 'rollout restart statefulset shop/orders-db');
    assert.equal(describeAction({ kind: 'rollback', namespace: 'shop', deployment: 'log-agent', toRevision: 1, workloadKind: 'DaemonSet' }), 'rollout undo daemonset shop/log-agent --to-revision=1');
    assert.equal(describeAction({ kind: 'rollback', namespace: 'shop', deployment: 'checkout' }), 'rollout undo deployment shop/checkout');
    const rollback = evaluateGates(input({ action: { kind: 'rollback', namespace: 'shop', deployment: 'log-agent', workloadKind: 'DaemonSet' }, rolloutInProgress: true, risk: 'medium' }));
    assert.equal(rollback.results.find((r) => r.gate === 'rollout-in-progress')?.reason, 'a rollout is in progress, but a rollback is allowed to interrupt it');
    // deleting a pod of a 2-replica StatefulSet with one already down is over the blast radius, as for a Deployment
    const radius = evaluateGates(input({ action: { kind: 'delete-pod', namespace: 'shop', pod: 'orders-db-0' }, workload: { kind: 'service', namespace: 'shop', name: 'orders-db' }, deploymentPods: { total: 2, unavailable: 1, unavailablePods: ['orders-db-1'] } }));
    assert.equal(radius.refusedBy?.gate, 'blast-radius');
    assert.match(radius.refusedBy!.reason, /would leave 2 of 2 pods unavailable/);
  });

  it('automation-mode: off refuses; paused refuses unless approved', () => {
    assert.equal(refusedBy({ mode: 'off' }), 'automation-mode');
    assert.equal(refusedBy({ paused: true }), 'automation-mode');
    assert.equal(evaluateGates(input({ paused: true, approved: true })).allowed, true);
  });

  it('approval: suggest mode and risky actions wait for a human', () => {
    const d = evaluateGates(input({ mode: 'suggest' }));
    assert.equal(d.allowed, false);
    assert.equal(d.needsApproval, true);
    assert.equal(d.refusedBy?.gate, 'approval');
    assert.match(d.refusedBy!.reason, /suggest mode/);
    assert.equal(refusedBy({ action: { kind: 'drain', node: 'node-1' }, risk: 'high', nodes: { total: 3, unschedulable: 1 } }), 'approval');
    assert.equal(evaluateGates(input({ mode: 'suggest', approved: true })).allowed, true);
  });

  it('namespace-policy: denied and not-allowed namespaces', () => {
    assert.equal(refusedBy({ action: { kind: 'rollout-restart', namespace: 'kube-system', deployment: 'coredns' } }), 'namespace-policy');
    assert.equal(refusedBy({ settings: { ...DEFAULT_SAFETY, approvalRequiredForRisk: 'high', allowedNamespaces: ['payments'] } }), 'namespace-policy');
  });

  it('maintenance-window: holds off inside a window, also one that wraps midnight', () => {
    assert.equal(refusedBy({ settings: { ...DEFAULT_SAFETY, approvalRequiredForRisk: 'high', maintenanceWindows: ['Mon 02:00-04:00'] } }), 'maintenance-window');
    assert.equal(inMaintenanceWindow('Sun 23:00-03:30', NOW), true);
    assert.equal(inMaintenanceWindow('Sun 23:00-02:30', NOW), false);
    assert.equal(inMaintenanceWindow('* 02:59-03:01', NOW), true);
    const bad = evaluateGates(input({ settings: { ...DEFAULT_SAFETY, maintenanceWindows: ['weekends'] } }));
    assert.equal(bad.refusedBy?.gate, 'maintenance-window');
    assert.match(bad.refusedBy!.reason, /not of the form/);
  });

  it('rollout-in-progress: waits, except for a rollback', () => {
    assert.equal(refusedBy({ rolloutInProgress: true }), 'rollout-in-progress');
    assert.equal(evaluateGates(input({ rolloutInProgress: true, action: { kind: 'rollback', namespace: 'shop', deployment: 'checkout' }, risk: 'medium' })).allowed, true);
  });

  it('rate limits per target and globally', () => {
    const key = 'service:shop/checkout';
    const same = [1, 2, 3].map((i) => ({ t: NOW - i * 60_000 * 10, targetKey: key, incidentId: 'inc-1' }));
    assert.equal(refusedBy({ history: same }), 'rate-limit-target');
    const many = Array.from({ length: 10 }, (_, i) => ({ t: NOW - i * 60_000, targetKey: `service:shop/s${i}`, incidentId: `x${i}` }));
    assert.equal(refusedBy({ history: many }), 'rate-limit-global');
    const old = [1, 2, 3].map((i) => ({ t: NOW - 2 * 3_600_000 - i, targetKey: key, incidentId: 'old' }));
    assert.equal(evaluateGates(input({ history: old })).allowed, true, 'actions older than an hour do not count');
  });

  it('rate limit and cooldown count per workload: deleting a fresh pod of the same deployment counts with the last delete', () => {
    const checkout = { kind: 'service' as const, namespace: 'shop', name: 'checkout' };
    // each delete hits a new pod name (the last one was replaced); the deployment is the same
    const deletes = [1, 2, 3].map((i) => ({ t: NOW - i * 60_000 * 10, targetKey: `pod:shop/checkout-${i}`, workloadKey: 'service:shop/checkout', incidentId: `inc-${i + 1}` }));
    const action = { kind: 'delete-pod' as const, namespace: 'shop', pod: 'checkout-4' };
    const d = evaluateGates(input({ action, workload: checkout, history: deletes, deploymentPods: { total: 3, unavailable: 0 } }));
    assert.equal(d.refusedBy?.gate, 'rate-limit-target');
    assert.match(d.refusedBy!.reason, /3 actions on shop\/checkout in the last hour/);
    const recent = [{ t: NOW - 30_000, targetKey: 'pod:shop/checkout-1', workloadKey: 'service:shop/checkout', incidentId: 'inc-0' }];
    assert.equal(refusedBy({ action, workload: checkout, history: recent, deploymentPods: { total: 3, unavailable: 0 } }), 'cooldown');
  });

  it('cooldown: applies between incidents, not between steps of one incident', () => {
    const recent = [{ t: NOW - 30_000, targetKey: 'service:shop/checkout', incidentId: 'inc-0' }];
    assert.equal(refusedBy({ history: recent }), 'cooldown');
    assert.equal(evaluateGates(input({ history: [{ ...recent[0], incidentId: 'inc-1' }] })).allowed, true);
  });

  it('blast-radius: pods of a deployment and nodes of the cluster', () => {
    assert.equal(refusedBy({ action: { kind: 'delete-pod', namespace: 'shop', pod: 'checkout-abc' }, deploymentPods: { total: 3, unavailable: 1 } }), 'blast-radius');
    assert.equal(evaluateGates(input({ action: { kind: 'delete-pod', namespace: 'shop', pod: 'checkout-abc' }, deploymentPods: { total: 3, unavailable: 0 } })).allowed, true);
    // every pod crash-looping: deleting one that is not ready takes nothing more out of service; a ready one still counts
    const crashing = { total: 3, unavailable: 3, unavailablePods: ['checkout-abc', 'checkout-def', 'checkout-ghi'] };
    assert.equal(evaluateGates(input({ action: { kind: 'delete-pod', namespace: 'shop', pod: 'checkout-abc' }, deploymentPods: crashing })).allowed, true);
    assert.equal(refusedBy({ action: { kind: 'delete-pod', namespace: 'shop', pod: 'checkout-xyz' }, deploymentPods: { total: 3, unavailable: 1, unavailablePods: ['checkout-abc'] } }), 'blast-radius');
    assert.equal(refusedBy({ action: { kind: 'cordon', node: 'node-2' }, risk: 'medium', nodes: { total: 3, unschedulable: 1 } }), 'blast-radius');
    assert.equal(refusedBy({ action: { kind: 'scale', namespace: 'shop', deployment: 'checkout', replicas: 1 }, currentReplicas: 4 }), 'blast-radius');
  });

  it('circuit-breaker: opens after K failed remediations in a row', () => {
    assert.equal(refusedBy({ consecutiveFailures: 3 }), 'circuit-breaker');
    assert.equal(evaluateGates(input({ consecutiveFailures: 2 })).allowed, true);
  });

  it('lease: only the holder acts', () => {
    const gate = refusedBy({ lease: { holder: 'vigil-agent@other-host', held: false } });
    assert.equal(gate, 'lease');
    assert.match(evaluateGates(input({ lease: { holder: 'vigil-agent@other-host', held: false } })).refusedBy!.reason, /other-host/);
    assert.equal(refusedBy({ lease: undefined }), 'lease');
  });
});
