import assert from 'node:assert/strict';
import Module from 'node:module';
import type { Incident } from '../../../src/core/model/incident';
import type { NotificationActions, VscodeNotifier as Notifier } from '../../../src/vscode/notifier';
import { awaitingIncident } from './fixtures';

/** The VS Code window API the notifier uses: each message is recorded and answered with the next `choices` entry. */
function loadNotifier(choices: Array<string | undefined>) {
  const shown: string[] = [];
  const answer = (kind: string) => async (message: string, ...items: string[]) => {
    shown.push(`${kind}: ${message}${items.length ? ` [${items.join('|')}]` : ''}`);
    return choices.shift();
  };
  const api = { window: { showWarningMessage: answer('warning'), showErrorMessage: answer('error'), showInformationMessage: answer('info') } };
  const mod = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
  const original = mod._load;
  mod._load = function (request: string, ...rest: unknown[]) {
    return request === 'vscode' ? api : original.call(this, request, ...rest);
  };
  try {
    const file = require.resolve('../../../src/vscode/notifier');
    delete require.cache[file];
    const { VscodeNotifier } = require(file) as { VscodeNotifier: typeof Notifier };
    return { VscodeNotifier, shown };
  } finally {
    mod._load = original;
  }
}

const settle = () => new Promise((r) => setTimeout(r, 10));

describe('VscodeNotifier (notifications only when a human is needed)', () => {
  const incident: Incident = awaitingIncident();
  let calls: string[];
  let decided: string | undefined;
  const actions = (): NotificationActions => ({
    approve: async (id) => void calls.push(`approve ${id}`),
    reject: async (id) => void calls.push(`reject ${id}`),
    show: () => void calls.push('show'),
    decided: () => decided,
  });

  beforeEach(() => {
    calls = [];
    decided = undefined;
  });

  it('an approval carries Approve / Reject / Show, and Approve runs the step', async () => {
    const { VscodeNotifier, shown } = loadNotifier(['Approve']);
    await new VscodeNotifier(actions).approvalNeeded(incident, 'roll-back', 'roll back shop/checkout');
    await settle();
    assert.deepEqual(shown, ['warning: Vigil: shop/checkout needs your approval: roll back shop/checkout [Approve|Reject|Show]']);
    assert.deepEqual(calls, [`approve ${incident.id}`]);
  });

  it('clicked after the decision was made in the view: says so and runs nothing', async () => {
    const { VscodeNotifier, shown } = loadNotifier(['Approve']);
    decided = 'rejected by user:sre (vscode)';
    await new VscodeNotifier(actions).approvalNeeded(incident, 'roll-back', 'roll back shop/checkout');
    await settle();
    assert.deepEqual(calls, []);
    assert.equal(shown[1], 'info: Vigil: shop/checkout was already decided (rejected by user:sre (vscode)); nothing to do.');
  });

  it('an escalation is an error with Show; a recovery shows nothing', async () => {
    const { VscodeNotifier, shown } = loadNotifier(['Show']);
    const n = new VscodeNotifier(actions);
    await n.escalate({ incidentId: incident.id, target: incident.target, reason: 'every playbook step failed' } as never);
    await n.resolved();
    await settle();
    assert.deepEqual(shown, ['error: Vigil escalates shop/checkout to you: every playbook step failed [Show]']);
    assert.deepEqual(calls, ['show']);
  });
});
