/**
 * Just enough of the Kubernetes protobuf encoding to read the request bodies kubectl's typed clients
 * send (`kubectl create namespace|configmap|deployment`, `kubectl run`, `kubectl drain`'s evictions, delete options). Each body is the
 * `k8s\0` magic and a runtime.Unknown envelope around the object's message.
 */
import { StatusError } from './store';

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

type Field = { no: number; wire: number; value: bigint | Buffer };

function readVarint(buf: Buffer, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (pos >= buf.length || shift > 63n) throw new StatusError('BadRequest', 'malformed protobuf body: truncated varint');
    const b = buf[pos++];
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7n;
  }
}

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [tag, p1] = readVarint(buf, pos);
    pos = p1;
    const no = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (wire === 0) {
      const [v, p2] = readVarint(buf, pos);
      out.push({ no, wire, value: v });
      pos = p2;
    } else if (wire === 2) {
      const [len, p2] = readVarint(buf, pos);
      const end = p2 + Number(len);
      if (end > buf.length) throw new StatusError('BadRequest', 'malformed protobuf body: field runs past the end');
      out.push({ no, wire, value: buf.subarray(p2, end) });
      pos = end;
    } else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4;
      if (pos + n > buf.length) throw new StatusError('BadRequest', 'malformed protobuf body: truncated fixed field');
      out.push({ no, wire, value: buf.subarray(pos, pos + n) });
      pos += n;
    } else {
      throw new StatusError('BadRequest', `malformed protobuf body: unsupported wire type ${wire}`);
    }
  }
  return out;
}

const bytesOf = (f: Field | undefined): Buffer | undefined => (f && Buffer.isBuffer(f.value) ? f.value : undefined);
const str = (fs: Field[], no: number): string | undefined => bytesOf(fs.find((f) => f.no === no))?.toString('utf8') || undefined;
const strs = (fs: Field[], no: number): string[] => fs.filter((f) => f.no === no && Buffer.isBuffer(f.value)).map((f) => (f.value as Buffer).toString('utf8'));
const int = (fs: Field[], no: number): number | undefined => {
  const f = fs.find((x) => x.no === no && x.wire === 0);
  return f ? Number(BigInt.asIntN(64, f.value as bigint)) : undefined;
};
const bool = (fs: Field[], no: number): boolean | undefined => {
  const v = int(fs, no);
  return v === undefined ? undefined : v !== 0;
};
const sub = (fs: Field[], no: number): Field[] | undefined => {
  const b = bytesOf(fs.find((f) => f.no === no));
  return b ? fields(b) : undefined;
};
function map(fs: Field[], no: number): Record<string, string> | undefined {
  const entries = fs.filter((f) => f.no === no && Buffer.isBuffer(f.value));
  if (entries.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const e of entries) {
    const kv = fields(e.value as Buffer);
    out[str(kv, 1) ?? ''] = str(kv, 2) ?? '';
  }
  return out;
}

function compact(o: Record<string, unknown>): Record<string, unknown> {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

function objectMeta(fs: Field[] | undefined): Record<string, unknown> {
  if (!fs) return {};
  const finalizers = strs(fs, 14);
  return compact({
    name: str(fs, 1),
    generateName: str(fs, 2),
    namespace: str(fs, 3),
    uid: str(fs, 5),
    resourceVersion: str(fs, 6),
    labels: map(fs, 11),
    annotations: map(fs, 12),
    finalizers: finalizers.length ? finalizers : undefined,
  });
}

function deleteOptions(fs: Field[] | undefined): Record<string, unknown> | undefined {
  if (!fs) return undefined;
  const pre = sub(fs, 2);
  const dryRun = strs(fs, 5);
  return compact({
    kind: 'DeleteOptions',
    apiVersion: 'v1',
    gracePeriodSeconds: int(fs, 1),
    preconditions: pre ? compact({ uid: str(pre, 1), resourceVersion: str(pre, 2) }) : undefined,
    orphanDependents: bool(fs, 3),
    propagationPolicy: str(fs, 4),
    dryRun: dryRun.length ? dryRun : undefined,
  });
}

function intOrString(fs: Field[] | undefined): number | string | undefined {
  if (!fs) return undefined;
  return int(fs, 1) === 1 ? str(fs, 3) : (int(fs, 2) ?? 0);
}

function labelSelector(fs: Field[] | undefined): Record<string, unknown> | undefined {
  if (!fs) return undefined;
  const expressions = fs
    .filter((f) => f.no === 2 && Buffer.isBuffer(f.value))
    .map((f) => {
      const e = fields(f.value as Buffer);
      return compact({ key: str(e, 1), operator: str(e, 2), values: strs(e, 3) });
    });
  return compact({ matchLabels: map(fs, 1), matchExpressions: expressions.length ? expressions : undefined });
}

function quantities(fs: Field[], no: number): Record<string, string> | undefined {
  const entries = fs.filter((f) => f.no === no && Buffer.isBuffer(f.value));
  if (entries.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const e of entries) {
    const kv = fields(e.value as Buffer);
    out[str(kv, 1) ?? ''] = str(sub(kv, 2) ?? [], 1) ?? '0';
  }
  return out;
}

const repeated = <T>(fs: Field[], no: number, decode: (f: Field[]) => T): T[] | undefined => {
  const out = fs.filter((f) => f.no === no && Buffer.isBuffer(f.value)).map((f) => decode(fields(f.value as Buffer)));
  return out.length ? out : undefined;
};

function container(fs: Field[]): Record<string, unknown> {
  const command = strs(fs, 3);
  const args = strs(fs, 4);
  const resources = sub(fs, 8);
  return compact({
    name: str(fs, 1),
    image: str(fs, 2),
    command: command.length ? command : undefined,
    args: args.length ? args : undefined,
    workingDir: str(fs, 5),
    ports: repeated(fs, 6, (p) => compact({ name: str(p, 1), hostPort: int(p, 2) || undefined, containerPort: int(p, 3), protocol: str(p, 4) })),
    env: repeated(fs, 7, (e) => compact({ name: str(e, 1), value: str(e, 2) })),
    resources: resources ? compact({ limits: quantities(resources, 1), requests: quantities(resources, 2) }) : undefined,
    imagePullPolicy: str(fs, 14),
    stdin: bool(fs, 16) || undefined,
    tty: bool(fs, 18) || undefined,
  });
}

function podSpec(fs: Field[] | undefined): Record<string, unknown> | undefined {
  if (!fs) return undefined;
  return compact({
    containers: repeated(fs, 2, container) ?? [],
    restartPolicy: str(fs, 3),
    terminationGracePeriodSeconds: int(fs, 4),
    dnsPolicy: str(fs, 6),
    nodeSelector: map(fs, 7),
    serviceAccountName: str(fs, 8),
    nodeName: str(fs, 10),
    initContainers: repeated(fs, 20, container),
  });
}

function deploymentSpec(fs: Field[] | undefined): Record<string, unknown> | undefined {
  if (!fs) return undefined;
  const template = sub(fs, 3);
  const strategy = sub(fs, 4);
  const rolling = strategy ? sub(strategy, 2) : undefined;
  return compact({
    replicas: int(fs, 1),
    selector: labelSelector(sub(fs, 2)),
    template: template ? compact({ metadata: objectMeta(sub(template, 1)), spec: podSpec(sub(template, 2)) }) : undefined,
    strategy: strategy && str(strategy, 1) ? compact({ type: str(strategy, 1), rollingUpdate: rolling ? compact({ maxUnavailable: intOrString(sub(rolling, 1)), maxSurge: intOrString(sub(rolling, 2)) }) : undefined }) : undefined,
    minReadySeconds: int(fs, 5) || undefined,
    revisionHistoryLimit: int(fs, 6),
    paused: bool(fs, 7) || undefined,
    progressDeadlineSeconds: int(fs, 9),
  });
}

/** Message decoders by kind; anything else is refused with 415 and a hint to send JSON. */
const DECODERS: Readonly<Record<string, (fs: Field[]) => Record<string, unknown>>> = {
  Namespace: (fs) => {
    const spec = sub(fs, 2);
    const finalizers = spec ? strs(spec, 1) : [];
    return compact({ metadata: objectMeta(sub(fs, 1)), spec: finalizers.length ? { finalizers } : undefined });
  },
  ConfigMap: (fs) => compact({ metadata: objectMeta(sub(fs, 1)), data: map(fs, 2) ?? {}, immutable: bool(fs, 4) }),
  Eviction: (fs) => compact({ metadata: objectMeta(sub(fs, 1)), deleteOptions: deleteOptions(sub(fs, 2)) }),
  DeleteOptions: (fs) => deleteOptions(fs) ?? {},
  Deployment: (fs) => compact({ metadata: objectMeta(sub(fs, 1)), spec: deploymentSpec(sub(fs, 2)) }),
  Pod: (fs) => compact({ metadata: objectMeta(sub(fs, 1)), spec: podSpec(sub(fs, 2)) }),
};

export function isProtobuf(contentType: string | undefined, body: Buffer): boolean {
  return (contentType ?? '').split(';')[0].trim().toLowerCase() === PROTOBUF_CONTENT_TYPE || (body.length >= 4 && body.subarray(0, 4).equals(MAGIC));
}

/** Decodes a `k8s\0`-framed protobuf body into the JSON form of the object. */
export function decodeProtobuf(body: Buffer): Record<string, unknown> {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw new StatusError('BadRequest', 'malformed protobuf body: missing the k8s\\0 prefix');
  const unknown = fields(body.subarray(4));
  const typeMeta = sub(unknown, 1) ?? [];
  const apiVersion = str(typeMeta, 1) ?? '';
  const kind = str(typeMeta, 2) ?? '';
  const decode = DECODERS[kind];
  if (!decode) {
    throw new StatusError('UnsupportedMediaType', `the sandbox reads protobuf bodies only for ${Object.keys(DECODERS).join(', ')}, not ${kind || 'this object'}; send it as application/json (e.g. kubectl create -f FILE.yaml)`);
  }
  const raw = bytesOf(unknown.find((f) => f.no === 2)) ?? Buffer.alloc(0);
  return { apiVersion, kind, ...decode(fields(raw)) };
}
