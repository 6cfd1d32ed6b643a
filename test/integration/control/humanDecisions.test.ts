import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_RULES } from '../../../src/core/detect/defaultRules';
import { ThresholdLearner } from '../../../src/core/learn/learningStore';
import { VirtualClock } from '../../../src/core/loop/virtualClock';
import type { HumanDecision } from '../../../src/core/model/decision';
import type { GateDecision } from '../../../src/core/model/gate';
import type { HumanLabel, Incident } from '../../../src/core/model/incident';
import type { LoggerPort } from '../../../src/core/ports';
import { DEFAULT_SETTINGS, withSettings } from '../../../src/core/settings';
import { VigilRuntime } from '../../../src/infra/runtime';
import { FileStore } from '../../../src/infra/store/fileStore';
import { startInProcessSandbox, type InProcessSandbox } from '../sandbox/sandboxProcess';

const REPO_ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');
const silent: LoggerPort = { log: () => undefined, child: () => silent };
const T0 = Date.now() - 3_600_000;
const PARALLEL = 10;

interface Call {
  readonly args: string[];
  readonly decisionId: string;
  readonly kind: HumanDecision['kind'];
  /** What the decision is about: an incident id or a threshold change id. */
  readonly about: string;
  readonly label?: HumanLabel;
}

interface Result extends Call {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs every call as its own `node dist/cli.js` process, at most `parallel` at once. */
async function runAll(calls: ReadonlyArray<Call>, parallel: number): Promise<Result[]> {
  const results: Result[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < calls.length) {
        const call = calls[next++];
        results.push({ ...call, ...(await cli(call.args)) });
      }
    }),
  );
  return results;
}

/** A deterministic shuffle, so a failure can be rerun in the same order. */
function shuffled<T>(items: ReadonlyArray<T>, seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function closedIncident(id: string, name: string, k: number): Incident {
  const target = { kind: 'service' as const, namespace: 'legacy', name };
  return { id, correlationKey: `svc:${id}`, target, openedAt: T0 + k, updatedAt: T0 + k, state: 'recovered', stepIndex: 0, timeline: [], recording: { frames: [], facts: [], logs: [] }, outcome: { kind: 'recovered', t: T0 + k + 60_000, recoveredBy: 'rollout-restart' } };
}

/** A crash loop on a sandbox deployment, proposed in suggest mode and waiting for a human. */
function awaitingApproval(id: string, namespace: string, name: string): Incident {
  const target = { kind: 'service' as const, namespace, name };
  const diagnosis = { kind: 'crash-loop' as const, target, confidence: 0.9, t: T0, summary: `crash loop on ${namespace}/${name}`, evidence: [] };
  return {
    id,
    correlationKey: `svc:${namespace}/${name}|crash-loop`,
    target,
    openedAt: T0,
    updatedAt: T0,
    state: 'awaiting-approval',
    stepIndex: 0,
    playbook: 'crash-loop',
    diagnosis,
    timeline: [
      { t: T0, kind: 'diagnosed', diagnosis },
      { t: T0, kind: 'proposed', stepId: 'delete-crashing-pod', action: { kind: 'delete-pod', namespace, pod: `${name}-0` }, gates: { allowed: false, needsApproval: true, results: [] } as unknown as GateDecision },
    ],
    recording: { frames: [], facts: [], logs: [] },
  };
}

/** Five false alarms of a high error ratio on a service: enough for the learner to propose a higher threshold there. */
function falseAlarms(name: string): Incident[] {
  const target = { kind: 'service' as const, namespace: 'legacy', name };
  return [0.06, 0.062, 0.065, 0.068, 0.07].map((observed, k) => {
    const anomaly = { target, t: T0, detector: 'fusion' as const, score: 1, isAnomaly: true, severity: 'critical' as const, reason: `rule: error_ratio ${observed} > 0.05 for 15s`, contributions: [{ signal: 'error_ratio' as const, share: 1, observed }] };
    return { id: `fa-${name}-${k}`, target, openedAt: T0, updatedAt: T0, state: 'closed', stepIndex: 0, timeline: [{ t: T0, kind: 'detected', anomaly }], recording: { frames: [], facts: [], logs: [] }, outcome: { kind: 'false-alarm', t: T0, label: 'false-alarm' } } as Incident;
  });
}

/**
 * The agent is the only writer of its state directory: 50 `vigil feedback|thresholds|approve` processes at once
 * against a running agent, each decision applied exactly once, retries answered with the first verdict, and the
 * audit chain intact.
 */
describe('human decisions while the agent runs (50 CLI processes)', function () {
  this.timeout(5 * 60_000);
  let sandbox: InProcessSandbox;
  let stateDir: string;
  let runtime: VigilRuntime | undefined;

  before(async function () {
    if (spawnSync(process.execPath, [CLI, '--version']).status !== 0) throw new Error(`${CLI} is missing: build it first (node node_modules/webpack/bin/webpack.js --mode production)`);
    sandbox = await startInProcessSandbox({ seed: 3 });
    stateDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-decisions-'));
  });
  after(async () => {
    await runtime?.dispose();
    await sandbox?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('applies each decision once, answers retries with the first verdict, and keeps the audit chain', async () => {
    // what there is to decide, written before the agent starts (it is the only writer once it runs)
    const store = new FileStore(stateDir);
    const labelled = Array.from({ length: 10 }, (_, k) => closedIncident(`inc-old-${k}`, `svc-${k}`, k));
    for (const i of labelled) await store.saveIncident(i);
    const waiting = [awaitingApproval('inc-wait-0', 'shop', 'cart'), awaitingApproval('inc-wait-1', 'shop', 'checkout'), awaitingApproval('inc-wait-2', 'shop', 'frontend'), awaitingApproval('inc-wait-3', 'payments', 'payments-api')];
    for (const i of waiting) await store.saveIncident(i);
    const learner = new ThresholdLearner(store, new VirtualClock(T0));
    await learner.load();
    const proposals = await learner.learn(['api-0', 'api-1', 'api-2', 'api-3', 'api-4'].flatMap(falseAlarms), DEFAULT_RULES, 'suggest');
    assert.equal(proposals.length, 5, 'five threshold proposals to decide');
    assert.ok(proposals.every((p) => p.status === 'proposed'));

    const settings = withSettings(DEFAULT_SETTINGS, { kubernetes: { kubeconfig: sandbox.kubeconfig }, automation: { mode: 'suggest' }, agent: { stateDir }, prometheus: { scrapeIntervalSeconds: 5 }, model: { enabled: false } });
    const agent = await VigilRuntime.create({ settings, logger: silent, identity: 'agent-decisions' });
    runtime = agent;
    await agent.start();

    // a second agent on the same state directory is refused and names the first
    const second = await VigilRuntime.create({ settings, logger: silent, identity: 'agent-second' });
    await assert.rejects(second.start(), new RegExp(`a Vigil agent \\(pid ${process.pid} on .*\\) already uses the state directory ${stateDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));

    const common = (id: string, by: string) => ['--state-dir', stateDir, '--by', by, '--decision-id', id];
    const calls: Call[] = [];
    // 25 labels: 20 decisions on 10 incidents (two each), 5 of them sent twice
    const LABELS: HumanLabel[] = ['false-alarm', 'real', 'right-diagnosis-wrong-fix'];
    for (let k = 0; k < 20; k++) {
      const incidentId = labelled[k % 10].id;
      const label = LABELS[k % 3];
      const call: Call = { args: ['feedback', incidentId, '--label', label, ...common(`label-${k}`, `u${k}`)], decisionId: `label-${k}`, kind: 'label', about: incidentId, label };
      calls.push(call);
      if (k < 5) calls.push(call);
    }
    // 15 threshold decisions: on each proposal an accept (sent twice) and a reject racing it; exactly one wins
    for (const [k, p] of proposals.entries()) {
      const accept: Call = { args: ['thresholds', 'accept', p.id, ...common(`accept-${k}`, `t${k}`)], decisionId: `accept-${k}`, kind: 'threshold', about: p.id };
      calls.push(accept, accept, { args: ['thresholds', 'reject', p.id, ...common(`reject-${k}`, `r${k}`)], decisionId: `reject-${k}`, kind: 'threshold', about: p.id });
    }
    // 10 approvals: each waiting incident approved (sent twice), and two approvals of incidents long recovered
    for (const [k, i] of waiting.entries()) {
      const approve: Call = { args: ['approve', i.id, ...common(`approve-${k}`, `a${k}`)], decisionId: `approve-${k}`, kind: 'approve', about: i.id };
      calls.push(approve, approve);
    }
    for (const k of [0, 1]) calls.push({ args: ['approve', labelled[k].id, ...common(`approve-old-${k}`, `o${k}`)], decisionId: `approve-old-${k}`, kind: 'approve', about: labelled[k].id });
    assert.equal(calls.length, 50);

    const started = Date.now();
    const results = await runAll(shuffled(calls, 12), PARALLEL);
    const elapsed = Date.now() - started;
    console.log(`      50 CLI decisions (${new Set(calls.map((c) => c.decisionId)).size} distinct ids), ${PARALLEL} at a time: ${(elapsed / 1000).toFixed(1)} s`);

    // every call got an answer from the agent itself, never the files
    for (const r of results) {
      assert.ok(r.code === 0 || r.code === 1, `${r.args.join(' ')} → ${r.code}: ${r.stderr}`);
      if (r.code === 0) assert.match(r.stdout, /\(applied by the running agent; decision /, r.args.join(' '));
    }
    const byId = new Map<string, Result[]>();
    for (const r of results) byId.set(r.decisionId, [...(byId.get(r.decisionId) ?? []), r]);
    // a retry answers with the first verdict
    for (const [id, rs] of byId) {
      if (rs.length < 2) continue;
      assert.equal(rs[0].code, rs[1].code, id);
      assert.equal(rs[0].stdout + rs[0].stderr, rs[1].stdout + rs[1].stderr, `${id}: the retry is answered with the first verdict`);
    }

    const audit = await store.readAudit();
    const decisions = audit.filter((e) => e.kind === 'decision');
    // exactly one audited verdict per decision id
    assert.deepEqual(decisions.map((e) => (e.detail as { decision: HumanDecision }).decision.id).sort(), [...byId.keys()].sort());

    // labels: all 20 applied, each once, live in the agent and in the files
    for (const inc of labelled) {
      const mine = calls.filter((c) => c.kind === 'label' && c.about === inc.id);
      const ids = new Set(mine.map((c) => c.decisionId));
      for (const id of ids) assert.equal(byId.get(id)![0].code, 0, `${id}: ${byId.get(id)![0].stderr}`);
      const live = agent.core.remediator.get(inc.id)!;
      const notes = live.timeline.filter((e) => e.kind === 'note' && e.text.startsWith('labelled '));
      assert.equal(notes.length, ids.size, `${inc.id}: one label per decision`);
      assert.ok(mine.some((c) => c.label === live.outcome?.label));
      assert.deepEqual((await store.loadIncident(inc.id))?.outcome, live.outcome, 'the file says what the agent says');
    }
    // thresholds: per proposal exactly one of accept/reject applied, and the learner's state says which
    for (const [k, p] of proposals.entries()) {
      const accepted = byId.get(`accept-${k}`)![0].code === 0;
      const rejected = byId.get(`reject-${k}`)![0].code === 0;
      assert.ok(accepted !== rejected, `${p.id}: exactly one of accept and reject applies`);
      const userChanges = audit.filter((e) => e.kind === 'threshold-change' && e.actor.startsWith('user:') && (e.detail as { id: string }).id === p.id);
      assert.equal(userChanges.length, 1, `${p.id}: one threshold change by a human`);
      assert.equal(agent.core.learner.state.changes.find((c) => c.id === p.id)?.status, accepted ? 'applied' : 'rejected');
      const loser = byId.get(accepted ? `reject-${k}` : `accept-${k}`)![0];
      assert.match(loser.stderr, new RegExp(`refused — threshold change ${p.id} is ${accepted ? 'applied' : 'rejected'}; only a proposed change can become`));
    }
    // approvals: each waiting incident approved once; the recovered ones refused with why
    for (const i of waiting) assert.equal(audit.filter((e) => e.kind === 'approval' && e.incidentId === i.id).length, 1, `${i.id}: approved once`);
    for (const k of [0, 1]) {
      const r = byId.get(`approve-old-${k}`)![0];
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`vigil approve: refused — incident ${labelled[k].id} was recovered at \\S+, nothing to approve`));
    }

    const verify = await cli(['audit', 'verify', '--state-dir', stateDir]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);

    // the agent stops: its lock goes with it, and a label is then written to the files under the lock
    runtime = undefined;
    await agent.dispose();
    const offline = await cli(['feedback', labelled[0].id, '--label', 'real', '--state-dir', stateDir, '--decision-id', 'label-offline']);
    assert.equal(offline.code, 0, offline.stderr);
    assert.match(offline.stdout, /no agent runs on .*: written to its files under the agent's lock/);
    const retried = await cli(['feedback', labelled[1].id, '--label', 'real', '--state-dir', stateDir, '--decision-id', 'label-0']);
    assert.equal(retried.stdout.split('\n')[0], byId.get('label-0')![0].stdout.split('\n')[0], 'the ledger outlives the agent: an old id gets its first verdict');
    const after = await cli(['audit', 'verify', '--state-dir', stateDir]);
    assert.equal(after.code, 0, after.stdout + after.stderr);
  });
});
