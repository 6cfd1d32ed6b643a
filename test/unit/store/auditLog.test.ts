import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AuditLog, GENESIS_HASH } from '../../../src/infra/store/auditLog';
import { FileStore } from '../../../src/infra/store/fileStore';

describe('hash-chained audit log', () => {
  let dir: string;
  let file: string;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-audit-'));
    file = path.join(dir, 'audit.jsonl');
    const log = new AuditLog(file);
    // concurrent appends must still chain in order
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        log.append({ t: 1_700_000_000_000 + i * 1000, actor: 'vigil-agent@test', kind: 'action', incidentId: `inc-${i % 3}`, object: `deployment/shop/checkout`, summary: `rollout restart #${i}`, detail: { i, nested: { b: 2, a: 1 } } }),
      ),
    );
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('chains every entry to the one before it and verifies', async () => {
    const log = new AuditLog(file);
    const entries = await log.read();
    assert.equal(entries.length, 12);
    assert.equal(entries[0].prevHash, GENESIS_HASH);
    for (let i = 1; i < entries.length; i++) {
      assert.equal(entries[i].seq, i + 1);
      assert.equal(entries[i].prevHash, entries[i - 1].hash);
    }
    assert.deepEqual(await log.verify(), { ok: true, entries: 12 });
  });

  it('a reopened log continues the chain', async () => {
    const log = new AuditLog(file);
    const e = await log.append({ t: 1, actor: 'user:alice (vscode)', kind: 'approval', summary: 'approved step rollback' });
    assert.equal(e.seq, 13);
    assert.equal((await log.verify()).ok, true);
  });

  it('detects a change of any single byte and names the line', async () => {
    const original = readFileSync(file);
    const lines = original.toString('utf8').split('\n');
    let offset = 0;
    const lineStarts = lines.map((l) => {
      const s = offset;
      offset += Buffer.byteLength(l) + 1;
      return s;
    });
    // every 7th byte, so the test covers all fields of all lines yet stays fast
    for (let pos = 0; pos < original.length - 1; pos += 7) {
      if (original[pos] === 0x0a) continue;
      const tampered = Buffer.from(original);
      tampered[pos] = tampered[pos] === 0x41 ? 0x42 : 0x41;
      writeFileSync(file, tampered);
      const r = await new AuditLog(file).verify();
      const expectedLine = lineStarts.filter((s) => s <= pos).length;
      assert.equal(r.ok, false, `byte ${pos} changed but the log verified`);
      assert.equal(r.firstBadLine, expectedLine, `byte ${pos}: ${r.problem}`);
    }
    writeFileSync(file, original);
    assert.equal((await new AuditLog(file).verify()).ok, true);
  });

  it('detects a removed, a reordered and a cut-off entry', async () => {
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    writeFileSync(file, [...lines.slice(0, 4), ...lines.slice(5)].join('\n') + '\n');
    assert.equal((await new AuditLog(file).verify()).firstBadLine, 5);

    writeFileSync(file, [lines[0], lines[2], lines[1], ...lines.slice(3)].join('\n') + '\n');
    assert.equal((await new AuditLog(file).verify()).firstBadLine, 2);

    writeFileSync(file, lines.slice(0, 10).join('\n') + '\n');
    const cut = await new AuditLog(file).verify();
    assert.equal(cut.ok, false);
    assert.match(cut.problem ?? '', /cut off the end/);
  });

  it('`vigil audit verify` exits 0 on an intact log and 1 naming the first bad line', () => {
    const cli = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'audit', ...args], { encoding: 'utf8' });
    const ok = cli(['verify', '--state-dir', dir]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /audit log OK: 12 entries/);

    const text = readFileSync(file, 'utf8');
    const at = text.indexOf('#7');
    writeFileSync(file, text.slice(0, at) + '#8' + text.slice(at + 2));
    const bad = cli(['verify', '--state-dir', dir]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /line 8: content does not match its hash/); // "#7" is in entry 8
  });
});

describe('FileStore', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'vigil-store-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips incidents and state, and names a corrupted state file', async () => {
    const store = new FileStore(dir);
    const incident = {
      id: 'inc-1',
      target: { kind: 'service' as const, namespace: 'shop', name: 'checkout' },
      openedAt: 10,
      updatedAt: 20,
      state: 'diagnosed' as const,
      stepIndex: 0,
      timeline: [],
      recording: { frames: [], facts: [], logs: [] },
    };
    await store.saveIncident(incident);
    assert.deepEqual(await store.loadIncident('inc-1'), incident);
    assert.equal((await store.listIncidents()).length, 1);
    await assert.rejects(store.loadIncident('../etc/passwd'), /Invalid incident id/);

    await store.writeState('thresholds', { a: 1 });
    assert.deepEqual(await store.readState('thresholds'), { a: 1 });
    writeFileSync(path.join(dir, 'state', 'thresholds.json'), '{"a": 1');
    await assert.rejects(store.readState('thresholds'), /thresholds\.json is corrupted/);
  });
});
