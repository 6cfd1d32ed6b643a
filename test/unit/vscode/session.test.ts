import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Incident } from '../../../src/core/model/incident';
import type { LoggerPort, NotifierPort } from '../../../src/core/ports';
import { withSettings } from '../../../src/core/settings';
import { CoreProcess, type CoreProcessOptions } from '../../../src/vscode/coreProcess';
import type { VigilSession as Session } from '../../../src/vscode/session';
import { installVscodeStub, type StubRecord } from '../../fakes/vscodeStub';
import { FAKE_CORE_WORKER, until } from './fakeCoreWorker';

/** The host's side: the session keeps a view model of the loop's process and says so when the process dies for good. */
describe('VigilSession over the loop in its own process', function () {
  this.timeout(30_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-session-'));
  const script = path.join(dir, 'fakeCoreWorker.js');
  writeFileSync(script, FAKE_CORE_WORKER);
  let record: StubRecord;
  let VigilSession: typeof Session;
  let session: Session | undefined;
  afterEach(async () => {
    // no loop process outlives a failed test
    await session?.shutdown();
  });
  before(() => {
    record = installVscodeStub();
    ({ VigilSession } = require('../../../src/vscode/session') as { VigilSession: typeof Session });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('shows what the loop sends, takes its refusals as errors, says when it restarts, and when it stays down', async () => {
    const logger: LoggerPort = { log: () => undefined, child: () => logger };
    const approvals: Array<{ incident: Incident; stepId: string }> = [];
    const notifier: NotifierPort = { approvalNeeded: async (incident, stepId) => void approvals.push({ incident, stepId }), escalate: async () => undefined, resolved: async () => undefined };
    const s = new VigilSession(logger, notifier, (o: CoreProcessOptions) => new CoreProcess({ ...o, worker: { path: script }, restarts: { max: 1, windowMs: 600_000 } }));
    session = s;
    const changedIncidents: string[] = [];
    s.onDidChangeIncident((i) => changedIncidents.push(i.id));
    await s.connect({ forConnection: (s) => withSettings(s, { agent: { stateDir: dir } }), label: 'the test cluster' });
    assert.ok(s.connected);
    assert.match(s.connection.message, /^Connected to the test cluster \(http:\/\/fake:\d+\), suggest mode\.$/);
    assert.equal(s.state?.mode, 'suggest');
    // the view model follows the loop's events
    await until(() => approvals.length === 1, 5_000, 'the approval request');
    assert.deepEqual(s.incidents().map((i) => [i.id, i.state]), [['inc-1', 'awaiting-approval']]);
    assert.deepEqual(changedIncidents, ['inc-1']);
    assert.equal(approvals[0].stepId, 'rollback');
    await assert.rejects(s.approve('inc-9', 'user:me'), /no incident "inc-9"/);

    // the process dies: the views say it is being started again, then connected again
    process.kill(s.core?.pid as number, 'SIGKILL');
    await until(() => s.connection.state === 'connecting', 5_000, 'the restarting status');
    assert.match(s.connection.message, /^Vigil's healing loop stopped \(the healing loop's process exited \(signal SIGKILL\)\); starting it again on the test cluster…$/);
    await until(() => s.connection.state === 'connected', 10_000, 'connected again');

    // past its budget it stays down: an error status with the fix, and a notification
    process.kill(s.core?.pid as number, 'SIGKILL');
    await until(() => s.connection.state === 'error', 10_000, 'the error status');
    assert.equal(s.connection.message, "Detection has stopped: the healing loop's process exited (signal SIGKILL), 2 times within 10 min.");
    assert.match(s.connection.fix ?? '', /"Vigil: Start Sandbox Cluster" or "Vigil: Connect to Cluster" to start it again/);
    assert.ok(record.messages.some((m) => /^Vigil: detection has stopped: the healing loop's process exited/.test(m)), record.messages.join('\n'));
    assert.equal(s.core, undefined);
    assert.throws(() => s.mustCore(), /Vigil is not connected/);
  });
});
