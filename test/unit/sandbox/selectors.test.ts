import assert from 'node:assert/strict';
import { formatLabelSelector, matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector, requirementsFromLabelSelector } from '../../../src/sandbox/selectors';
import { StatusError, type KubeObject } from '../../../src/sandbox/store';

const labels = { app: 'web', tier: 'front', 'example.com/team': 'pay' };
const match = (sel: string, l: Record<string, string> | undefined = labels) => matchesLabels(parseLabelSelector(sel), l);

function badRequest(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof StatusError);
    assert.equal(err.code, 400);
    return err.message;
  }
  assert.fail('expected a 400');
}

describe('sandbox label selectors', () => {
  it('matches equality, inequality and existence', () => {
    assert.equal(match(''), true);
    assert.equal(match('app=web'), true);
    assert.equal(match('app==web'), true);
    assert.equal(match('app=api'), false);
    assert.equal(match('app!=api'), true);
    assert.equal(match('missing!=x'), true);
    assert.equal(match('app'), true);
    assert.equal(match('!app'), false);
    assert.equal(match('!canary'), true);
    assert.equal(match('example.com/team=pay'), true);
  });

  it('matches set-based requirements and combines with AND', () => {
    assert.equal(match('tier in (front,back)'), true);
    assert.equal(match('tier in (back)'), false);
    assert.equal(match('tier notin (back, db)'), true);
    assert.equal(match('missing notin (x)'), true);
    assert.equal(match('missing in (x)'), false);
    assert.equal(match('app=web,tier in (front),!canary'), true);
    assert.equal(match('app=web,tier=back'), false);
    assert.equal(matchesLabels(parseLabelSelector('app=web'), undefined), false);
  });

  it('refuses malformed selectors with 400', () => {
    assert.match(badRequest(() => parseLabelSelector('app in (a,b')), /unbalanced/);
    assert.match(badRequest(() => parseLabelSelector('app=web,,tier=x')), /unable to parse requirement/);
    assert.match(badRequest(() => parseLabelSelector('-bad=x')), /invalid label key/);
    assert.match(badRequest(() => parseLabelSelector('app=has space')), /unable to parse/);
    assert.match(badRequest(() => parseLabelSelector('app=-x')), /invalid label value/);
    badRequest(() => parseLabelSelector('a)b'));
  });

  it('turns LabelSelector objects into requirements and text', () => {
    const reqs = requirementsFromLabelSelector({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['front'] }, { key: 'canary', operator: 'DoesNotExist' }] });
    assert.ok(reqs);
    assert.equal(matchesLabels(reqs, labels), true);
    assert.equal(matchesLabels(reqs, { ...labels, canary: 'y' }), false);
    assert.equal(requirementsFromLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Bogus' }] }), undefined);
    assert.equal(formatLabelSelector({ matchLabels: { app: 'web', tier: 'front' } }), 'app=web,tier=front');
  });
});

describe('sandbox field selectors', () => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1', namespace: 'shop' }, spec: { nodeName: 'node-a' }, status: { phase: 'Running' } } as KubeObject;
  const event = { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e1', namespace: 'shop' }, involvedObject: { kind: 'Pod', name: 'p1' }, reason: 'BackOff', source: { component: 'kubelet' } } as unknown as KubeObject;

  it('matches the supported fields', () => {
    assert.equal(matchesFields(parseFieldSelector('metadata.name=p1', 'pods'), pod), true);
    assert.equal(matchesFields(parseFieldSelector('metadata.namespace==shop,spec.nodeName=node-a', 'pods'), pod), true);
    assert.equal(matchesFields(parseFieldSelector('status.phase!=Running', 'pods'), pod), false);
    assert.equal(matchesFields(parseFieldSelector('spec.nodeName=node-b', 'pods'), pod), false);
    assert.equal(matchesFields(parseFieldSelector('involvedObject.name=p1,reason=BackOff,source=kubelet', 'events'), event), true);
    assert.equal(matchesFields(parseFieldSelector('spec.unschedulable=false', 'nodes'), { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' } }), true);
  });

  it('refuses fields a resource cannot be selected by, and malformed terms', () => {
    assert.match(badRequest(() => parseFieldSelector('spec.nodeName=x', 'deployments')), /field label not supported: spec.nodeName/);
    assert.match(badRequest(() => parseFieldSelector('metadata.name', 'pods')), /invalid field selector/);
    assert.match(badRequest(() => parseFieldSelector('status.phase>1', 'pods')), /invalid field selector|not supported/);
  });
});
