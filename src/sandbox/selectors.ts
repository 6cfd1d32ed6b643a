/**
 * Label and field selectors as the API server parses them (`labelSelector=app=web,tier in (a,b),!canary`,
 * `fieldSelector=spec.nodeName=n1`). Parse errors are 400 BadRequest Status errors.
 */
import { StatusError, type KubeObject, type ResourceName } from './store';

export type LabelOperator = 'exists' | 'notexists' | 'equals' | 'notequals' | 'in' | 'notin';

export interface LabelRequirement {
  readonly key: string;
  readonly op: LabelOperator;
  readonly values: ReadonlyArray<string>;
}

const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

function badSelector(selector: string, why: string): StatusError {
  return new StatusError('BadRequest', `unable to parse requirement: ${why} (in selector "${selector}")`);
}

/** Splits on commas that are not inside parentheses. */
function splitTopLevel(s: string, selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (depth < 0 || depth > 1) throw badSelector(selector, 'unbalanced parentheses');
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (depth !== 0) throw badSelector(selector, 'unbalanced parentheses');
  parts.push(cur);
  return parts;
}

function checkKey(key: string, selector: string): string {
  if (!LABEL_KEY.test(key)) throw badSelector(selector, `invalid label key "${key}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`);
  return key;
}

function checkValue(value: string, selector: string): string {
  if (!LABEL_VALUE.test(value)) throw badSelector(selector, `invalid label value: "${value}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`);
  return value;
}

export function parseLabelSelector(selector: string | undefined): LabelRequirement[] {
  if (selector === undefined || selector.trim() === '') return [];
  const reqs: LabelRequirement[] = [];
  for (const raw of splitTopLevel(selector, selector)) {
    const part = raw.trim();
    if (part === '') throw badSelector(selector, 'found \'\', expected: identifier');
    let m: RegExpExecArray | null;
    if ((m = /^!\s*([^\s=!()]+)$/.exec(part))) {
      reqs.push({ key: checkKey(m[1], selector), op: 'notexists', values: [] });
    } else if ((m = /^([^\s=!()]+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(part))) {
      const values = m[3].split(',').map((v) => checkValue(v.trim(), selector));
      reqs.push({ key: checkKey(m[1], selector), op: m[2] === 'in' ? 'in' : 'notin', values });
    } else if ((m = /^([^\s=!()]+)\s*(==|=|!=)\s*([^\s=!(),]*)$/.exec(part))) {
      reqs.push({ key: checkKey(m[1], selector), op: m[2] === '!=' ? 'notequals' : 'equals', values: [checkValue(m[3], selector)] });
    } else if ((m = /^([^\s=!()]+)$/.exec(part))) {
      reqs.push({ key: checkKey(m[1], selector), op: 'exists', values: [] });
    } else {
      throw badSelector(selector, `"${part}" is not a valid requirement; use key, !key, key=value, key!=value, key in (a,b) or key notin (a,b)`);
    }
  }
  return reqs;
}

export function matchesLabels(reqs: ReadonlyArray<LabelRequirement>, labels: Readonly<Record<string, string>> | undefined): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case 'notexists':
        return !has;
      case 'equals':
      case 'in':
        return has && r.values.includes(l[r.key]);
      case 'notequals':
      case 'notin':
        return !has || !r.values.includes(l[r.key]);
    }
  });
}

/** A `matchLabels`/`matchExpressions` LabelSelector object (deployments, PDBs) as requirements. */
export function requirementsFromLabelSelector(sel: unknown): LabelRequirement[] | undefined {
  if (!sel || typeof sel !== 'object') return undefined;
  const s = sel as { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> };
  const reqs: LabelRequirement[] = [];
  for (const [key, value] of Object.entries(s.matchLabels ?? {})) reqs.push({ key, op: 'equals', values: [String(value)] });
  for (const e of s.matchExpressions ?? []) {
    const op = ({ In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: 'notexists' } as const)[e.operator];
    if (!op) return undefined;
    reqs.push({ key: e.key, op, values: e.values ?? [] });
  }
  return reqs;
}

/** `app=web,tier=db` form of a LabelSelector object, as Scale.status.selector carries it. */
export function formatLabelSelector(sel: unknown): string {
  const reqs = requirementsFromLabelSelector(sel) ?? [];
  return reqs
    .map((r) => {
      switch (r.op) {
        case 'equals':
          return `${r.key}=${r.values[0]}`;
        case 'notequals':
          return `${r.key}!=${r.values[0]}`;
        case 'exists':
          return r.key;
        case 'notexists':
          return `!${r.key}`;
        default:
          return `${r.key} ${r.op} (${r.values.join(',')})`;
      }
    })
    .join(',');
}

export interface FieldRequirement {
  readonly field: string;
  readonly equals: boolean;
  readonly value: string;
}

const COMMON_FIELDS = ['metadata.name', 'metadata.namespace'];
/** Fields each resource can be selected by, as on a real API server. */
const SELECTABLE_FIELDS: Partial<Record<ResourceName, ReadonlyArray<string>>> = {
  pods: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
  events: ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'],
  nodes: ['spec.unschedulable'],
  namespaces: ['status.phase'],
  replicasets: ['status.replicas'],
};

export function parseFieldSelector(selector: string | undefined, resource: ResourceName): FieldRequirement[] {
  if (selector === undefined || selector.trim() === '') return [];
  const allowed = [...COMMON_FIELDS, ...(SELECTABLE_FIELDS[resource] ?? [])];
  return selector.split(',').map((raw) => {
    const m = /^\s*([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(raw);
    if (!m) throw new StatusError('BadRequest', `invalid field selector "${selector}": "${raw}" is not field=value, field==value or field!=value`);
    if (!allowed.includes(m[1])) throw new StatusError('BadRequest', `field label not supported: ${m[1]}`);
    return { field: m[1], equals: m[2] !== '!=', value: m[3] };
  });
}

function fieldValue(obj: KubeObject, field: string): string {
  if (field === 'source') {
    const src = (obj as { source?: { component?: string } }).source;
    return src?.component ?? (obj as { reportingComponent?: string }).reportingComponent ?? '';
  }
  let cur: unknown = obj;
  for (const p of field.split('.')) {
    cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[p] : undefined;
  }
  if (cur === undefined || cur === null) return field === 'spec.unschedulable' || field === 'spec.hostNetwork' ? 'false' : '';
  return String(cur);
}

export function matchesFields(reqs: ReadonlyArray<FieldRequirement>, obj: KubeObject): boolean {
  return reqs.every((r) => (fieldValue(obj, r.field) === r.value) === r.equals);
}
