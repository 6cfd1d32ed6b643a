import assert from 'node:assert/strict';
import { decodeProtobuf, isProtobuf } from '../../../src/sandbox/apiProtobuf';
import { StatusError } from '../../../src/sandbox/store';

// A tiny protobuf writer, enough to build what kubectl's typed clients send.
const varint = (n: number): number[] => {
  const out: number[] = [];
  let v = n;
  do {
    let b = v & 0x7f;
    v = Math.floor(v / 128);
    if (v > 0) b |= 0x80;
    out.push(b);
  } while (v > 0);
  return out;
};
const bytes = (no: number, payload: Buffer): Buffer => Buffer.concat([Buffer.from([...varint((no << 3) | 2), ...varint(payload.length)]), payload]);
const s = (no: number, v: string) => bytes(no, Buffer.from(v, 'utf8'));
const n = (no: number, v: number) => Buffer.from([...varint(no << 3), ...varint(v)]);
const msg = (...parts: Buffer[]) => Buffer.concat(parts);
const entry = (no: number, k: string, v: string) => bytes(no, msg(s(1, k), s(2, v)));

function envelope(apiVersion: string, kind: string, raw: Buffer): Buffer {
  return Buffer.concat([Buffer.from('k8s\u0000', 'latin1'), bytes(1, msg(s(1, apiVersion), s(2, kind))), bytes(2, raw), s(4, 'application/vnd.kubernetes.protobuf')]);
}

describe('sandbox protobuf request bodies', () => {
  it('recognises protobuf by content type or by the k8s\\0 prefix', () => {
    assert.equal(isProtobuf('application/vnd.kubernetes.protobuf', Buffer.from('x')), true);
    assert.equal(isProtobuf(undefined, Buffer.from('k8s\u0000abc', 'latin1')), true);
    assert.equal(isProtobuf('application/json', Buffer.from('{}')), false);
  });

  it('decodes an Eviction with its delete options', () => {
    const meta = msg(s(1, 'web-1'), s(2, ''), s(3, 'shop'));
    const pre = msg(s(1, 'uid-1'));
    const del = msg(n(1, 30), bytes(2, pre), s(4, 'Background'), s(5, 'All'));
    const body = envelope('policy/v1', 'Eviction', msg(bytes(1, meta), bytes(2, del)));
    assert.deepEqual(decodeProtobuf(body), {
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name: 'web-1', namespace: 'shop' },
      deleteOptions: { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 30, preconditions: { uid: 'uid-1' }, propagationPolicy: 'Background', dryRun: ['All'] },
    });
  });

  it('decodes a Deployment as kubectl create deployment sends it', () => {
    const labels = entry(11, 'app', 'hello');
    const container = msg(s(1, 'nginx'), s(2, 'nginx:1'), bytes(6, msg(n(3, 80))), bytes(7, msg(s(1, 'A'), s(2, 'b'))), bytes(8, msg(bytes(1, msg(s(1, 'cpu'), bytes(2, msg(s(1, '500m'))))))));
    const template = msg(bytes(1, msg(labels)), bytes(2, msg(bytes(2, container))));
    const spec = msg(n(1, 2), bytes(2, msg(entry(1, 'app', 'hello'))), bytes(3, template), bytes(4, msg()));
    const d = decodeProtobuf(envelope('apps/v1', 'Deployment', msg(bytes(1, msg(s(1, 'hello'), labels)), bytes(2, spec)))) as { kind: string; metadata: unknown; spec: { replicas: number; selector: unknown; strategy?: unknown; template: { spec: { containers: unknown[] } } } };
    assert.equal(d.kind, 'Deployment');
    assert.deepEqual(d.metadata, { name: 'hello', labels: { app: 'hello' } });
    assert.equal(d.spec.replicas, 2);
    assert.deepEqual(d.spec.selector, { matchLabels: { app: 'hello' } });
    assert.equal(d.spec.strategy, undefined, 'an empty strategy is left for the server defaults');
    assert.deepEqual(d.spec.template.spec.containers, [{ name: 'nginx', image: 'nginx:1', ports: [{ containerPort: 80 }], env: [{ name: 'A', value: 'b' }], resources: { limits: { cpu: '500m' } } }]);
  });

  it('refuses kinds it cannot read with 415 and truncated input with 400', () => {
    const unsupported = () => decodeProtobuf(envelope('apps/v1', 'ReplicaSet', msg()));
    assert.throws(unsupported, (err: unknown) => err instanceof StatusError && err.code === 415 && /send it as application\/json/.test(err.message));
    const truncated = Buffer.concat([Buffer.from('k8s\u0000', 'latin1'), Buffer.from([0x0a, 0x50, 0x01])]);
    assert.throws(() => decodeProtobuf(truncated), (err: unknown) => err instanceof StatusError && err.code === 400);
    assert.throws(() => decodeProtobuf(Buffer.from('nope')), (err: unknown) => err instanceof StatusError && err.code === 400);
  });
});
