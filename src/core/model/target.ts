/** What Vigil watches and acts on. A service is a namespace/deployment pair. */
export type TargetKind = 'service' | 'pod' | 'node';

export interface TargetRef {
  readonly kind: TargetKind;
  /** Absent for nodes. */
  readonly namespace?: string;
  readonly name: string;
}

/** Stable text key of a target: `service:shop/checkout`, `pod:shop/checkout-7d9f-abcde`, `node:node-2`. */
export function targetKey(t: TargetRef): string {
  return t.namespace ? `${t.kind}:${t.namespace}/${t.name}` : `${t.kind}:${t.name}`;
}

/** Inverse of targetKey; throws on a malformed key so bad input is named, not guessed. */
export function parseTargetKey(key: string): TargetRef {
  const m = /^(service|pod|node):(?:([^/]+)\/)?([^/]+)$/.exec(key);
  if (!m) throw new Error(`Not a target key: "${key}" (expected e.g. service:shop/checkout or node:node-1)`);
  const kind = m[1] as TargetKind;
  return m[2] ? { kind, namespace: m[2], name: m[3] } : { kind, name: m[3] };
}

/** Human form, as kubectl users write it: `shop/checkout`, `node/node-2`. */
export function targetLabel(t: TargetRef): string {
  if (t.kind === 'node') return `node/${t.name}`;
  if (t.kind === 'pod') return `${t.namespace}/pod/${t.name}`;
  return `${t.namespace}/${t.name}`;
}
