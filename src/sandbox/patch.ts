/**
 * The three patch types of the Kubernetes API: JSON merge patch (RFC 7386), JSON patch (RFC 6902)
 * and strategic merge patch (lists of named things merged by their key). Bad patches become
 * Status errors with the codes a real API server uses (400 undecodable, 422 not applicable).
 */
import { StatusError } from './store';

export type PatchType = 'json' | 'merge' | 'strategic';

export const PATCH_CONTENT_TYPES: Readonly<Record<string, PatchType>> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
};

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => (v === undefined ? v : structuredClone(v));

/** RFC 7386: objects merge recursively, null deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v) as Json;
  }
  return out;
}

/**
 * Merge keys of lists that a strategic merge patch merges element by element, by field name.
 * These are the patchMergeKey tags of the Kubernetes types the sandbox serves.
 */
const MERGE_KEYS: Readonly<Record<string, string>> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  ports: 'containerPort',
  imagePullSecrets: 'name',
  conditions: 'type',
  hostAliases: 'ip',
  ownerReferences: 'uid',
  topologySpreadConstraints: 'topologyKey',
  resourceClaims: 'name',
  addresses: 'type',
};
/** Lists of scalars that strategic merge unions instead of replacing. */
const MERGE_SET_LISTS = new Set(['finalizers']);

function patchDirective(v: unknown): string | undefined {
  return isObject(v) && typeof v.$patch === 'string' ? v.$patch : undefined;
}

function strategicList(field: string, target: Json[] | undefined, patch: Json[]): Json[] {
  const key = MERGE_KEYS[field];
  if (patch.some((p) => patchDirective(p) === 'replace')) return patch.filter((p) => patchDirective(p) !== 'replace').map(stripDirectives);
  if (MERGE_SET_LISTS.has(field)) {
    const out = [...(target ?? [])];
    for (const p of patch) if (!out.some((o) => JSON.stringify(o) === JSON.stringify(p))) out.push(p);
    return out;
  }
  if (!key) return patch.map(stripDirectives);
  const out = (target ?? []).map((x) => clone(x));
  for (const p of patch) {
    if (!isObject(p) || !(key in p)) throw new StatusError('Invalid', `map: ${JSON.stringify(p)} does not contain declared merge key: ${key}`);
    const idx = out.findIndex((o) => isObject(o) && o[key] === p[key]);
    if (patchDirective(p) === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = strategicMergePatch(out[idx], p) as Json;
    else out.push(stripDirectives(p));
  }
  return out;
}

function stripDirectives(v: Json): Json {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(v)) if (!k.startsWith('$')) out[k] = stripDirectives(x);
  return out;
}

/**
 * Strategic merge patch: like a merge patch, but lists with a merge key merge by that key,
 * `$patch: delete|replace` directives apply, and `$setElementOrder`/`$retainKeys` are accepted.
 */
export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const directive = patchDirective(patch);
  if (directive === 'replace') return stripDirectives(patch);
  if (directive === 'delete') return undefined;
  if (directive !== undefined) throw new StatusError('BadRequest', `unknown patch type: ${directive}`);
  const out: JsonObject = isObject(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$setElementOrder/') || k === '$retainKeys' || k.startsWith('$deleteFromPrimitiveList/')) {
      if (k.startsWith('$deleteFromPrimitiveList/') && Array.isArray(v)) {
        const field = k.slice('$deleteFromPrimitiveList/'.length);
        const cur = out[field];
        if (Array.isArray(cur)) out[field] = cur.filter((x) => !v.some((d) => JSON.stringify(d) === JSON.stringify(x)));
      }
      continue;
    }
    if (k === '$patch') continue;
    if (v === null) {
      delete out[k];
    } else if (Array.isArray(v)) {
      out[k] = strategicList(k, Array.isArray(out[k]) ? (out[k] as Json[]) : undefined, v);
    } else if (isObject(v)) {
      const merged = strategicMergePatch(out[k], v);
      if (merged === undefined) delete out[k];
      else out[k] = merged as Json;
    } else {
      out[k] = v;
    }
  }
  return out;
}

interface JsonPatchOp {
  op: string;
  path: string;
  from?: string;
  value?: Json;
}

function parsePointer(pointer: string, opIndex: number): string[] {
  if (typeof pointer !== 'string') throw new StatusError('BadRequest', `json patch operation ${opIndex}: "path" must be a string`);
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new StatusError('Invalid', `json patch operation ${opIndex}: path "${pointer}" must start with "/"`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function applyFailed(message: string): StatusError {
  return new StatusError('Invalid', message);
}

/** Resolves the container that holds the last token of a pointer. */
function parentOf(doc: Json, tokens: string[], pointer: string): { parent: JsonObject | Json[]; key: string } {
  let cur: Json = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) {
      const i = Number(t);
      if (!/^\d+$/.test(t) || i >= cur.length) throw applyFailed(`doc is missing path: "${pointer}": missing value`);
      cur = cur[i];
    } else if (isObject(cur)) {
      if (!(t in cur)) throw applyFailed(`doc is missing path: "${pointer}": missing value`);
      cur = cur[t];
    } else {
      throw applyFailed(`doc is missing path: "${pointer}": missing value`);
    }
  }
  if (!Array.isArray(cur) && !isObject(cur)) throw applyFailed(`doc is missing path: "${pointer}": missing value`);
  return { parent: cur, key: tokens[tokens.length - 1] };
}

function getAt(doc: Json, pointer: string, opIndex: number): Json {
  const tokens = parsePointer(pointer, opIndex);
  if (tokens.length === 0) return doc;
  const { parent, key } = parentOf(doc, tokens, pointer);
  if (Array.isArray(parent)) {
    const i = Number(key);
    if (!/^\d+$/.test(key) || i >= parent.length) throw applyFailed(`doc is missing path: "${pointer}": missing value`);
    return parent[i];
  }
  if (!(key in parent)) throw applyFailed(`doc is missing path: "${pointer}": missing value`);
  return parent[key];
}

function removeAt(doc: Json, pointer: string, opIndex: number): Json {
  const tokens = parsePointer(pointer, opIndex);
  if (tokens.length === 0) throw applyFailed(`json patch operation ${opIndex}: cannot remove the whole document`);
  const { parent, key } = parentOf(doc, tokens, pointer);
  if (Array.isArray(parent)) {
    const i = Number(key);
    if (!/^\d+$/.test(key) || i >= parent.length) throw applyFailed(`unable to remove nonexistent key: ${key}: missing value`);
    return parent.splice(i, 1)[0];
  }
  if (!(key in parent)) throw applyFailed(`unable to remove nonexistent key: ${key}: missing value`);
  const v = parent[key];
  delete parent[key];
  return v;
}

function addAt(doc: Json, pointer: string, value: Json, opIndex: number, replace: boolean): Json {
  const tokens = parsePointer(pointer, opIndex);
  if (tokens.length === 0) return value;
  const { parent, key } = parentOf(doc, tokens, pointer);
  if (Array.isArray(parent)) {
    if (key === '-' && !replace) {
      parent.push(value);
      return doc;
    }
    const i = Number(key);
    if (!/^\d+$/.test(key) || i > parent.length || (replace && i >= parent.length)) throw applyFailed(`json patch operation ${opIndex}: index ${key} out of bounds for "${pointer}"`);
    if (replace) parent[i] = value;
    else parent.splice(i, 0, value);
    return doc;
  }
  if (replace && !(key in parent)) throw applyFailed(`jsonpatch replace operation does not apply: doc is missing key: ${pointer}: missing value`);
  parent[key] = value;
  return doc;
}

/** RFC 6902: add, remove, replace, move, copy, test — all or nothing. */
export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new StatusError('BadRequest', 'json patch must be a JSON array of operations, e.g. [{"op":"replace","path":"/spec/replicas","value":3}]');
  let doc = clone(target) as Json;
  ops.forEach((raw, i) => {
    if (!isObject(raw) || typeof raw.op !== 'string') throw new StatusError('BadRequest', `json patch operation ${i} is not an object with an "op"`);
    const op = raw as unknown as JsonPatchOp;
    switch (op.op) {
      case 'add':
      case 'replace':
        if (!('value' in op)) throw new StatusError('BadRequest', `json patch operation ${i} (${op.op}) has no "value"`);
        doc = addAt(doc, op.path, clone(op.value as Json), i, op.op === 'replace');
        break;
      case 'remove':
        removeAt(doc, op.path, i);
        break;
      case 'move': {
        if (typeof op.from !== 'string') throw new StatusError('BadRequest', `json patch operation ${i} (move) has no "from"`);
        if (op.path.startsWith(`${op.from}/`)) throw applyFailed(`json patch operation ${i}: cannot move "${op.from}" into its own child "${op.path}"`);
        const v = removeAt(doc, op.from, i);
        doc = addAt(doc, op.path, v, i, false);
        break;
      }
      case 'copy':
        if (typeof op.from !== 'string') throw new StatusError('BadRequest', `json patch operation ${i} (copy) has no "from"`);
        doc = addAt(doc, op.path, clone(getAt(doc, op.from, i)), i, false);
        break;
      case 'test': {
        const actual = getAt(doc, op.path, i);
        if (!deepEqual(actual, op.value as Json)) throw applyFailed(`testing value ${op.path} failed: test failed`);
        break;
      }
      default:
        throw new StatusError('BadRequest', `json patch operation ${i}: unexpected op "${op.op}"; use add, remove, replace, move, copy or test`);
    }
  });
  return doc;
}

function deepEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

/** Applies a decoded patch body of the given type. */
export function applyPatch(type: PatchType, target: unknown, patch: unknown): unknown {
  if (type === 'json') return jsonPatch(target, patch);
  if (!isObject(patch)) throw new StatusError('BadRequest', `a ${type === 'merge' ? 'merge' : 'strategic merge'} patch must be a JSON object`);
  return type === 'merge' ? mergePatch(target, patch) : strategicMergePatch(target, patch);
}
