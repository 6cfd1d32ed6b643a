import assert from 'node:assert/strict';
import { BUILTIN_PLAYBOOKS_SOURCE, BUILTIN_PLAYBOOKS_YAML } from '../../../src/core/decide/builtinPlaybooks';
import { formatPlaybookError, parsePlaybooks } from '../../../src/core/decide/playbookLoader';
import { matchPlaybook, mergePlaybooks } from '../../../src/core/decide/playbookMatcher';
import { replicasForLoad, resolveStep, TemplateError } from '../../../src/core/decide/playbookTemplates';
import { targetContext } from '../../../src/core/loop/targetContext';
import type { Incident } from '../../../src/core/model/incident';
import type { WorkloadInventory } from '../../../src/core/ports';
import type { DiagnosisKind } from '../../../src/core/model/diagnosis';

describe('playbooks', () => {
  const builtin = parsePlaybooks(BUILTIN_PLAYBOOKS_YAML, BUILTIN_PLAYBOOKS_SOURCE);

  it('ships a valid playbook for every diagnosis but "unknown"', () => {
    assert.deepEqual(builtin.errors, []);
    const kinds: DiagnosisKind[] = ['memory-leak', 'bad-release', 'crash-loop', 'node-failure', 'traffic-surge', 'bad-feature-flag', 'dependency-outage', 'latency-spike'];
    for (const kind of kinds) {
      const p = matchPlaybook(builtin.playbooks, { kind, target: { kind: 'service', namespace: 'shop', name: 'checkout' } });
      assert.ok(p, `no playbook for ${kind}`);
      assert.equal(p.trigger.diagnosis, kind);
    }
    const crash = builtin.playbooks.find((p) => p.name === 'crash-loop');
    // at most two steps before a human: a crash loop after a release is a bad release (its own playbook rolls back)
    assert.deepEqual(crash?.steps.map((s) => s.action), ['delete-pod', 'rollout-restart']);
    assert.deepEqual(crash?.steps.map((s) => s.onFailure), ['next', 'escalate']);
    for (const p of builtin.playbooks) assert.ok(p.steps.length <= 2, `${p.name} runs ${p.steps.length} steps before escalating`);
  });

  it('reports a malformed playbook with file, line and field, and still loads the others', () => {
    const text = [
      'name: good-one',
      'trigger: { diagnosis: crash-loop }',
      'steps:',
      '  - id: restart',
      '    action: rollout-restart',
      '---',
      'name: broken',
      'trigger: { diagnosis: crash-loop }',
      'steps:',
      '  - id: restart',
      '    action: rollout-restart',
      '    verify:',
      '      conditions: []',
      '      timeoutSecs: 30',
      '  - id: nuke',
      '    action: delete-namespace',
      '---',
      'name: third-ok',
      'trigger: { diagnosis: memory-leak }',
      'steps: [{ id: restart, action: rollout-restart }]',
    ].join('\n');
    const r = parsePlaybooks(text, '.vigil/playbooks/team.yaml');
    assert.deepEqual(r.playbooks.map((p) => p.name), ['good-one', 'third-ok']);
    const byField = new Map(r.errors.map((e) => [e.field, e]));
    const typo = byField.get('steps[0].verify.timeoutSecs');
    assert.ok(typo, JSON.stringify(r.errors));
    assert.equal(typo.line, 14);
    assert.match(typo.message, /not a known field/);
    const badAction = byField.get('steps[1].action');
    assert.ok(badAction);
    assert.equal(badAction.line, 16);
    assert.match(badAction.message, /must be one of: .*rollout-restart/);
    assert.match(formatPlaybookError(badAction), /^\.vigil\/playbooks\/team\.yaml:16:\d+: steps\[1\]\.action: must be one of/);
  });

  it('reports YAML syntax errors and missing fields with their line', () => {
    const syntax = parsePlaybooks('name: x\ntrigger: { diagnosis: crash-loop\nsteps: []\n', 'a.yaml');
    assert.equal(syntax.playbooks.length, 0);
    assert.match(syntax.errors[0].message, /YAML syntax/);
    const missing = parsePlaybooks('name: x\ntrigger: { diagnosis: crash-loop }\n', 'b.yaml');
    assert.equal(missing.errors[0].field, 'steps');
    assert.match(missing.errors[0].message, /is required/);
    const dup = parsePlaybooks('name: x\ntrigger: { diagnosis: crash-loop }\nsteps:\n  - { id: a, action: scale }\n  - { id: a, action: rollback }\n', 'c.yaml');
    assert.equal(dup.errors[0].field, 'steps[1].id');
    assert.equal(dup.errors[0].line, 5);
  });

  it('lets a user playbook scoped to a namespace shadow the built-in', () => {
    const user = parsePlaybooks('name: payments-crash\ntrigger: { diagnosis: crash-loop, namespaces: [payments] }\nsteps: [{ id: page, action: rollout-restart }]\n', 'u.yaml');
    const all = mergePlaybooks(builtin.playbooks, user.playbooks);
    assert.equal(matchPlaybook(all, { kind: 'crash-loop', target: { kind: 'service', namespace: 'payments', name: 'api' } })?.name, 'payments-crash');
    assert.equal(matchPlaybook(all, { kind: 'crash-loop', target: { kind: 'service', namespace: 'shop', name: 'cart' } })?.name, 'crash-loop');
  });

  it('resolves step templates against the incident, and names what is missing', () => {
    const surge = builtin.playbooks.find((p) => p.name === 'traffic-surge')!;
    assert.deepEqual(resolveStep(surge.steps[1], { target: { namespace: 'shop', name: 'frontend' }, replicas: 3 }), { kind: 'scale', namespace: 'shop', deployment: 'frontend', replicas: 6 });
    assert.equal((resolveStep(surge.steps[1], { target: { namespace: 'shop', name: 'frontend' }, replicas: 8 }) as { replicas: number }).replicas, 10, 'capped at maxReplicas');
    assert.throws(() => resolveStep(surge.steps[0], { target: { namespace: 'shop', name: 'frontend' }, replicas: 3 }), (e: Error) => e instanceof TemplateError && /loadReplicas is unknown/.test(e.message));
    const release = builtin.playbooks.find((p) => p.name === 'bad-release')!;
    assert.deepEqual(resolveStep(release.steps[0], { target: { namespace: 'shop', name: 'checkout' }, previousRevision: 4 }), { kind: 'rollback', namespace: 'shop', deployment: 'checkout', toRevision: 4 });
    // an unknown previous revision leaves the choice to the action (the revision before the current one)
    assert.deepEqual(resolveStep(release.steps[0], { target: { namespace: 'shop', name: 'checkout' } }), { kind: 'rollback', namespace: 'shop', deployment: 'checkout', toRevision: undefined });
    const crash = builtin.playbooks.find((p) => p.name === 'crash-loop')!;
    assert.throws(() => resolveStep(crash.steps[0], { target: { namespace: 'shop', name: 'checkout' } }), (e: Error) => e instanceof TemplateError && /worstPod is unknown/.test(e.message));
  });

  it("a surge's first scale-out is sized from the measured rise: every pod back under its load before it, with a quarter to spare", () => {
    // bench:heal's surge, seed 3: cart's requests rose 3.89x (14.3 → 55.6 req/s) on 2 replicas. Doubling to 4 left each
    // pod 13.9 req/s, 1.94x its 7.15 before, at the edge of its capacity at the day's peak: verified, then saturated 2 s later
    const surge = builtin.playbooks.find((p) => p.name === 'traffic-surge')!;
    const cart = { kind: 'service' as const, namespace: 'shop', name: 'cart' };
    const inventory: WorkloadInventory = { services: [{ target: cart, revision: 1, image: 'shop/cart:1.8.0', replicas: 2, availableReplicas: 2, rolloutInProgress: false, pods: [], labels: {} }], nodes: [] };
    const incident = (loadRatio: number | undefined): Incident => ({ id: 'inc-1', target: cart, openedAt: 0, updatedAt: 0, state: 'diagnosed', stepIndex: 0, timeline: [], recording: { frames: [], facts: [], logs: [] }, diagnosis: { kind: 'traffic-surge', target: cart, confidence: 0.89, t: 0, summary: '', evidence: [], ...(loadRatio === undefined ? {} : { details: { loadRatio } }) } });
    const replicas = (ratio: number) => (resolveStep(surge.steps[0], targetContext(incident(ratio), inventory)) as { replicas: number }).replicas;
    assert.equal(replicas(3.89), 10);
    const perPodBefore = 14.3 / 2;
    assert.ok(55.6 / replicas(3.89) <= perPodBefore / 1.25, 'each pod under its load before the rise, with a quarter to spare');
    assert.equal(replicas(2.36), 6, '2 x 2.36 x 1.25 = 5.9');
    assert.equal(replicas(1.2), 4, 'never less than double');
    assert.equal(replicas(6), 10, 'capped at maxReplicas');
    assert.equal(replicasForLoad(2, 2), 5, 'exactly twice the load: 2 x 2 x 1.25 = 5');
    // without a measured rise (another diagnosis) the step cannot be prepared, and says why
    assert.throws(() => resolveStep(surge.steps[0], targetContext(incident(undefined), inventory)), (e: Error) => e instanceof TemplateError && /loadReplicas is unknown/.test(e.message));
  });
});
