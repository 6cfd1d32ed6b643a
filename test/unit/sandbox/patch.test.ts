import assert from 'node:assert/strict';
import { applyPatch, jsonPatch, mergePatch, strategicMergePatch } from '../../../src/sandbox/patch';
import { StatusError } from '../../../src/sandbox/store';

const deployment = () => ({
  metadata: { name: 'web', labels: { app: 'web', tier: 'front' }, finalizers: ['a'] },
  spec: {
    replicas: 2,
    template: {
      spec: {
        containers: [
          { name: 'web', image: 'web:1', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }], ports: [{ containerPort: 80 }] },
          { name: 'sidecar', image: 'proxy:1' },
        ],
        tolerations: [{ key: 'x' }],
      },
    },
  },
});

function statusOf(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof StatusError, `expected a StatusError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the patch to be refused');
}

describe('sandbox patch: JSON merge patch (RFC 7386)', () => {
  it('merges objects, deletes with null and replaces lists whole', () => {
    const out = mergePatch(deployment(), { metadata: { labels: { tier: null, canary: 'true' } }, spec: { template: { spec: { containers: [{ name: 'web', image: 'web:2' }] } } } }) as ReturnType<typeof deployment>;
    assert.deepEqual(out.metadata.labels, { app: 'web', canary: 'true' });
    assert.deepEqual(out.spec.template.spec.containers, [{ name: 'web', image: 'web:2' }]);
    assert.equal(out.spec.replicas, 2);
  });

  it('follows the RFC 7386 appendix examples', () => {
    assert.deepEqual(mergePatch({ a: 'b' }, { a: 'c' }), { a: 'c' });
    assert.deepEqual(mergePatch({ a: 'b' }, { b: 'c' }), { a: 'b', b: 'c' });
    assert.deepEqual(mergePatch({ a: 'b' }, { a: null }), {});
    assert.deepEqual(mergePatch({ a: [{ b: 'c' }] }, { a: [1] }), { a: [1] });
    assert.deepEqual(mergePatch(['a', 'b'], ['c', 'd']), ['c', 'd']);
    assert.deepEqual(mergePatch({ a: 'foo' }, 'bar'), 'bar');
    assert.deepEqual(mergePatch({ e: null }, { a: 1 }), { e: null, a: 1 });
    assert.deepEqual(mergePatch({}, { a: { bb: { ccc: null } } }), { a: { bb: {} } });
  });

  it('does not change its input', () => {
    const d = deployment();
    mergePatch(d, { spec: { replicas: 5 } });
    assert.equal(d.spec.replicas, 2);
  });
});

describe('sandbox patch: strategic merge patch', () => {
  it('merges containers by name and env by name, keeping the others', () => {
    const out = strategicMergePatch(deployment(), { spec: { template: { spec: { containers: [{ name: 'web', image: 'web:2', env: [{ name: 'B', value: '3' }, { name: 'C', value: '4' }] }] } } } }) as ReturnType<typeof deployment>;
    const [web, sidecar] = out.spec.template.spec.containers;
    assert.equal(web.image, 'web:2');
    assert.deepEqual(web.env, [{ name: 'A', value: '1' }, { name: 'B', value: '3' }, { name: 'C', value: '4' }]);
    assert.deepEqual(web.ports, [{ containerPort: 80 }]);
    assert.deepEqual(sidecar, { name: 'sidecar', image: 'proxy:1' });
  });

  it('appends unknown keys, deletes with $patch: delete and replaces lists without a merge key', () => {
    const out = strategicMergePatch(deployment(), {
      spec: { template: { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }, { name: 'debug', image: 'busybox' }], tolerations: [{ key: 'y' }] } } },
    }) as ReturnType<typeof deployment>;
    assert.deepEqual(out.spec.template.spec.containers.map((c) => c.name), ['web', 'debug']);
    assert.deepEqual(out.spec.template.spec.tolerations, [{ key: 'y' }]);
  });

  it('unions finalizers, honours $patch: replace on a map and $deleteFromPrimitiveList', () => {
    const a = strategicMergePatch(deployment(), { metadata: { finalizers: ['a', 'b'] } }) as ReturnType<typeof deployment>;
    assert.deepEqual(a.metadata.finalizers, ['a', 'b']);
    const b = strategicMergePatch(deployment(), { metadata: { labels: { $patch: 'replace', only: 'this' } } }) as ReturnType<typeof deployment>;
    assert.deepEqual(b.metadata.labels, { only: 'this' });
    const c = strategicMergePatch(deployment(), { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } }) as ReturnType<typeof deployment>;
    assert.deepEqual(c.metadata.finalizers, []);
  });

  it('ignores $setElementOrder and $retainKeys directives kubectl sends', () => {
    const out = strategicMergePatch(deployment(), { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'web' }, { name: 'sidecar' }], containers: [{ name: 'web', image: 'web:3' }] } } } }) as ReturnType<typeof deployment>;
    assert.equal(out.spec.template.spec.containers[0].image, 'web:3');
    assert.ok(!('$setElementOrder/containers' in out.spec.template.spec));
  });

  it('refuses a list element without its merge key (422) and an unknown directive (400)', () => {
    assert.equal(statusOf(() => strategicMergePatch(deployment(), { spec: { template: { spec: { containers: [{ image: 'x' }] } } } })).code, 422);
    assert.equal(statusOf(() => strategicMergePatch({}, { a: { $patch: 'explode' } })).code, 400);
  });
});

describe('sandbox patch: JSON patch (RFC 6902)', () => {
  it('applies add, remove, replace, move, copy and test in order', () => {
    const out = jsonPatch(deployment(), [
      { op: 'test', path: '/spec/replicas', value: 2 },
      { op: 'replace', path: '/spec/replicas', value: 4 },
      { op: 'add', path: '/metadata/annotations', value: { note: 'x' } },
      { op: 'add', path: '/spec/template/spec/containers/-', value: { name: 'c3', image: 'c:3' } },
      { op: 'add', path: '/spec/template/spec/containers/0/env/1', value: { name: 'A2', value: '9' } },
      { op: 'remove', path: '/metadata/labels/tier' },
      { op: 'copy', from: '/metadata/labels/app', path: '/metadata/labels/copy' },
      { op: 'move', from: '/metadata/annotations/note', path: '/metadata/labels/moved' },
      { op: 'add', path: '/metadata/labels/a~1b', value: 'slash' },
    ]) as ReturnType<typeof deployment> & { metadata: { annotations: Record<string, string> } };
    assert.equal(out.spec.replicas, 4);
    assert.deepEqual(out.metadata.labels, { app: 'web', copy: 'web', moved: 'x', 'a/b': 'slash' });
    assert.deepEqual(out.metadata.annotations, {});
    assert.deepEqual(out.spec.template.spec.containers.map((c) => c.name), ['web', 'sidecar', 'c3']);
    assert.deepEqual(out.spec.template.spec.containers[0].env?.map((e) => e.name), ['A', 'A2', 'B']);
  });

  it('is all or nothing: a failed test leaves the input alone and is 422', () => {
    const d = deployment();
    const err = statusOf(() => jsonPatch(d, [{ op: 'replace', path: '/spec/replicas', value: 9 }, { op: 'test', path: '/spec/replicas', value: 2 }]));
    assert.equal(err.code, 422);
    assert.match(err.message, /test failed/);
    assert.equal(d.spec.replicas, 2);
  });

  it('refuses bad operations with the right codes', () => {
    assert.equal(statusOf(() => jsonPatch({}, { op: 'add' })).code, 400);
    assert.equal(statusOf(() => jsonPatch({}, [{ op: 'frobnicate', path: '/a' }])).code, 400);
    assert.equal(statusOf(() => jsonPatch({}, [{ op: 'add', path: '/a' }])).code, 400);
    assert.equal(statusOf(() => jsonPatch({ a: 1 }, [{ op: 'remove', path: '/b' }])).code, 422);
    assert.equal(statusOf(() => jsonPatch({ a: 1 }, [{ op: 'replace', path: '/b', value: 1 }])).code, 422);
    assert.equal(statusOf(() => jsonPatch({ a: [1] }, [{ op: 'add', path: '/a/5', value: 1 }])).code, 422);
    assert.equal(statusOf(() => jsonPatch({ a: { b: 1 } }, [{ op: 'move', from: '/a', path: '/a/b/c' }])).code, 422);
    assert.equal(statusOf(() => jsonPatch({}, [{ op: 'add', path: 'a', value: 1 }])).code, 422);
  });

  it('applyPatch refuses a merge patch that is not an object', () => {
    assert.equal(statusOf(() => applyPatch('merge', {}, [1])).code, 400);
    assert.equal(statusOf(() => applyPatch('strategic', {}, 'x')).code, 400);
    assert.deepEqual(applyPatch('json', { a: 1 }, [{ op: 'replace', path: '/a', value: 2 }]), { a: 2 });
  });
});
