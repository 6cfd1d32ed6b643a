import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ActionExecutor } from '../../../src/core/act/actionExecutor';
import { VirtualClock } from '../../../src/core/loop/virtualClock';
import { FileStore } from '../../../src/infra/store/fileStore';
import { FakeCluster } from '../../fakes/fakeCluster';
import { MemoryLogger } from '../../fakes/nullLogger';

async function drive<T>(clock: VirtualClock, work: Promise<T>): Promise<T> {
  let done = false;
  const p = work.finally(() => (done = true));
  while (!done) await clock.advance(250);
  return p;
}

describe('ActionExecutor', () => {
  let dir: string;
  let store: FileStore;
  let clock: VirtualClock;
  let cluster: FakeCluster;
  let executor: ActionExecutor;
  const scale = { kind: 'scale' as const, namespace: 'shop', deployment: 'frontend', replicas: 6 };

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-act-'));
    store = new FileStore(dir);
    clock = new VirtualClock(1_700_000_000_000);
    cluster = new FakeCluster();
    cluster.replicas.set('shop/frontend', 3);
    executor = new ActionExecutor(cluster, store, clock, new MemoryLogger());
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs a dry run first, then the write, and audits both', async () => {
    const out = await drive(clock, executor.execute({ action: scale, incidentId: 'inc-1', stepId: 'scale-out', actor: 'vigil-agent@test', dryRunOnly: false }));
    assert.equal(out.ok, true);
    assert.equal(cluster.replicas.get('shop/frontend'), 6);
    const audit = await store.readAudit();
    assert.deepEqual(audit.map((e) => e.kind), ['dry-run', 'action']);
    assert.equal((await store.verifyAudit()).ok, true);
  });

  it('dry-run-only mode changes nothing', async () => {
    const out = await drive(clock, executor.execute({ action: scale, incidentId: 'inc-1', stepId: 'scale-out', actor: 'a', dryRunOnly: true }));
    assert.equal(out.ok, true);
    assert.equal(cluster.replicas.get('shop/frontend'), 3);
    assert.deepEqual((await store.readAudit()).map((e) => e.kind), ['dry-run']);
  });

  it('retries 409, 429 and 500 idempotently: one effective change, one action entry', async () => {
    cluster.failures = [{ status: 409 }, { status: 429 }, { status: 500 }];
    const restart = { kind: 'rollout-restart' as const, namespace: 'shop', deployment: 'checkout' };
    const out = await drive(clock, executor.execute({ action: restart, incidentId: 'inc-2', stepId: 'restart', actor: 'a', dryRunOnly: false }));
    assert.equal(out.ok, true);
    assert.equal(out.ok && out.attempts, 4);
    assert.deepEqual(cluster.applied, ['rollout restart deployment shop/checkout']);
    const actions = (await store.readAudit()).filter((e) => e.kind === 'action');
    assert.equal(actions.length, 1);
  });

  it('a write whose response was lost is not applied twice on retry', async () => {
    cluster.failures = [{ status: 0, afterApply: true }];
    const restart = { kind: 'rollout-restart' as const, namespace: 'shop', deployment: 'checkout' };
    const out = await drive(clock, executor.execute({ action: restart, incidentId: 'inc-3', stepId: 'restart', actor: 'a', dryRunOnly: false }));
    assert.equal(out.ok, true);
    assert.equal(cluster.applied.length, 1, 'applied once');
    const [entry] = (await store.readAudit()).filter((e) => e.kind === 'action');
    assert.match(entry.summary, /no change needed/);
    // and running the same step again (agent restarted) is a no-op too
    await drive(clock, executor.execute({ action: restart, incidentId: 'inc-3', stepId: 'restart', actor: 'a', dryRunOnly: false }));
    assert.equal(cluster.applied.length, 1);
  });

  it('gives up on a non-retryable error with the server\'s words, and audits the failure', async () => {
    cluster.failures = [{ status: 403 }];
    const out = await drive(clock, executor.execute({ action: scale, incidentId: 'inc-4', stepId: 'scale-out', actor: 'a', dryRunOnly: false }));
    assert.equal(out.ok, false);
    assert.equal(!out.ok && out.attempts, 1);
    const last = (await store.readAudit()).at(-1);
    assert.match(last?.summary ?? '', /^FAILED: scale deployment shop\/frontend/);
  });
});
