import assert from 'node:assert/strict';
import { RuleEngine, RuleError, parseDuration, parseRules, parseRulesYaml } from '../../../src/core/detect/rules';
import type { SampleFrame } from '../../../src/core/model/signal';

const target = { kind: 'service' as const, namespace: 'shop', name: 'checkout' };
const frame = (t: number, error_ratio?: number): SampleFrame => ({ target, t, values: error_ratio === undefined ? {} : { error_ratio } });

describe('rules', () => {
  it('parses durations', () => {
    assert.equal(parseDuration('1m'), 60_000);
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('0'), 0);
    assert.equal(parseDuration('soon'), undefined);
    assert.equal(parseDuration('5 m'), undefined);
  });

  it('parses YAML rules with for, clear and severity', () => {
    const rules = parseRulesYaml(
      'rules:\n  - name: HighErrors\n    expr: error_ratio > 0.05 for 1m\n    clear: 0.03\n    severity: critical\n  - name: LowReplicas\n    expr: available_replicas < 1\n',
      'rules.yaml',
    );
    assert.deepEqual(rules[0], { name: 'HighErrors', signal: 'error_ratio', op: '>', value: 0.05, clear: 0.03, forMs: 60_000, severity: 'critical' });
    assert.equal(rules[1].severity, 'warning');
    assert.equal(rules[1].clear, 1);
  });

  it('names the rule and the field on bad input', () => {
    assert.throws(() => parseRules({ rules: [{ name: 'X', expr: 'errors > 1' }] }, 'r.yaml'), /rule "X"\.expr: unknown signal "errors"/);
    assert.throws(() => parseRules({ rules: [{ name: 'X', expr: 'cpu >> 1' }] }, 'r.yaml'), /rule "X"\.expr/);
    assert.throws(() => parseRules({ rules: [{ name: 'X', expr: 'cpu > 1', for: 'later' }] }, 'r.yaml'), /rule "X"\.for: "later"/);
    assert.throws(() => parseRules({ rules: [{ name: 'X', expr: 'cpu > 1', clear: 2 }] }, 'r.yaml'), /clear: 2 must be on the healthy side/);
    assert.throws(() => parseRules({ rules: [{ name: 'X', expr: 'cpu > 1', severity: 'dire' }] }, 'r.yaml'), /severity/);
    assert.throws(() => parseRules({ rules: [{ expr: 'cpu > 1' }] }, 'r.yaml'), /rules\[0\]\.name/);
    assert.throws(() => parseRulesYaml('rules: [', 'r.yaml'), RuleError);
  });

  it('fires only after the condition held for the duration, then clears with hysteresis', () => {
    const engine = new RuleEngine(parseRules([{ name: 'HighErrors', expr: 'error_ratio > 0.05 for 1m', clear: 0.03, severity: 'critical' }]));
    const fired = (t: number, v?: number) => engine.step(frame(t, v)).length > 0;
    assert.equal(fired(0, 0.01), false);
    assert.equal(fired(15_000, 0.1), false); // pending
    assert.equal(fired(45_000, 0.1), false);
    const a = engine.step(frame(75_000, 0.12));
    assert.equal(a.length, 1);
    assert.equal(a[0].detector, 'rule');
    assert.equal(a[0].severity, 'critical');
    assert.equal(a[0].rule, 'HighErrors');
    assert.equal(a[0].reason, 'error_ratio 0.12 > 0.05 for 1m');
    const held = engine.step(frame(90_000, 0.04)); // below threshold but above the clear level: still firing
    assert.equal(held.length, 1);
    assert.equal(held[0].reason, 'error_ratio 0.04, not yet back under its clear level 0.03 (fired at > 0.05 for 1m)');
    assert.equal(fired(105_000), true); // missing sample keeps the state
    assert.equal(fired(120_000, 0.02), false); // cleared
    assert.equal(fired(135_000, 0.1), false); // pending again from scratch
  });

  it('resets a pending rule when the condition breaks before the duration', () => {
    const engine = new RuleEngine(parseRules([{ name: 'R', expr: 'error_ratio > 0.05 for 1m' }]));
    engine.step(frame(0, 0.1));
    engine.step(frame(30_000, 0.01));
    assert.equal(engine.step(frame(70_000, 0.1)).length, 0);
    assert.equal(engine.step(frame(130_000, 0.1)).length, 1);
    // The state is plain JSON and carries over.
    const copy = new RuleEngine(parseRules([{ name: 'R', expr: 'error_ratio > 0.05 for 1m' }]), JSON.parse(JSON.stringify(engine.state)));
    assert.equal(copy.step(frame(145_000, 0.1)).length, 1);
  });
});
