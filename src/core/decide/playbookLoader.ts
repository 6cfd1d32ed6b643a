import Ajv, { type ErrorObject } from 'ajv';
import { LineCounter, parseAllDocuments, isNode, type Document } from 'yaml';
import type { Playbook, PlaybookStep } from '../model/playbook';
import { PLAYBOOK_SCHEMA } from './playbookSchema';

/** A problem in a playbook file, located so the user can fix it: file, line, column and field path. */
export interface PlaybookError {
  readonly source: string;
  readonly line: number;
  readonly column: number;
  /** Dotted path, e.g. `steps[1].verify.timeoutSeconds`. */
  readonly field: string;
  readonly message: string;
}

export function formatPlaybookError(e: PlaybookError): string {
  return `${e.source}:${e.line}:${e.column}: ${e.field ? `${e.field}: ` : ''}${e.message}`;
}

const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(PLAYBOOK_SCHEMA);

const DEFAULT_TIMEOUT_SECONDS = 120;

/**
 * Parses one YAML file holding one or more playbooks (separated by `---`). A bad document is
 * reported and skipped; the file's other documents still load.
 */
export function parsePlaybooks(text: string, source: string): { playbooks: Playbook[]; errors: PlaybookError[] } {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false });
  const playbooks: Playbook[] = [];
  const errors: PlaybookError[] = [];
  const list = Array.isArray(docs) ? docs : [docs];
  for (const doc of list as Document.Parsed[]) {
    const at = (offset: number) => lineCounter.linePos(offset);
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const pos = at(e.pos[0]);
        errors.push({ source, line: pos.line, column: pos.col, field: '', message: `YAML syntax: ${e.message.split('\n')[0]}` });
      }
      continue;
    }
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) continue; // empty document
    if (!validate(value)) {
      for (const e of dedupe(validate.errors ?? [])) {
        const path = instancePath(e);
        const node = doc.getIn(path, true);
        const range = isNode(node) && node.range ? node.range : doc.contents && isNode(doc.contents) && doc.contents.range ? doc.contents.range : [0, 0, 0];
        const pos = at(range[0]);
        errors.push({ source, line: pos.line, column: pos.col, field: fieldName(path, e), message: describe(e) });
      }
      continue;
    }
    const semantic = checkSemantics(value as RawPlaybook);
    if (semantic) {
      const node = doc.getIn(semantic.path, true);
      const pos = at(isNode(node) && node.range ? node.range[0] : 0);
      errors.push({ source, line: pos.line, column: pos.col, field: fieldName(semantic.path), message: semantic.message });
      continue;
    }
    playbooks.push(toPlaybook(value as RawPlaybook, source));
  }
  return { playbooks, errors };
}

interface RawPlaybook {
  name: string;
  description?: string;
  mode?: Playbook['mode'];
  trigger: Playbook['trigger'];
  steps: Array<Omit<PlaybookStep, 'verify' | 'onFailure' | 'params'> & { params?: PlaybookStep['params']; verify?: Partial<PlaybookStep['verify']>; onFailure?: PlaybookStep['onFailure'] }>;
}

function checkSemantics(p: RawPlaybook): { path: Array<string | number>; message: string } | undefined {
  const seen = new Set<string>();
  for (let i = 0; i < p.steps.length; i++) {
    if (seen.has(p.steps[i].id)) return { path: ['steps', i, 'id'], message: `duplicate step id "${p.steps[i].id}"; step ids must be unique within a playbook` };
    seen.add(p.steps[i].id);
  }
  return undefined;
}

function toPlaybook(p: RawPlaybook, source: string): Playbook {
  return {
    name: p.name,
    description: p.description,
    mode: p.mode,
    trigger: p.trigger,
    source,
    steps: p.steps.map((s, i) => ({
      id: s.id,
      action: s.action,
      params: s.params ?? {},
      risk: s.risk,
      verify: {
        conditions: s.verify?.conditions ?? [],
        timeoutSeconds: s.verify?.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
        stableForSeconds: s.verify?.stableForSeconds,
      },
      onFailure: s.onFailure ?? (i === p.steps.length - 1 ? 'escalate' : 'next'),
    })),
  };
}

function instancePath(e: ErrorObject): Array<string | number> {
  const parts = e.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const path: Array<string | number> = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  if (e.keyword === 'additionalProperties') path.push((e.params as { additionalProperty: string }).additionalProperty);
  return path;
}

function fieldName(path: Array<string | number>, e?: ErrorObject): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${p}` : p;
  if (e?.keyword === 'required') {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    s += s ? `.${missing}` : missing;
  }
  return s || '(document)';
}

function describe(e: ErrorObject): string {
  switch (e.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not a known field (check the spelling)';
    case 'enum':
      return `must be one of: ${((e.params as { allowedValues: unknown[] }).allowedValues ?? []).join(', ')}`;
    case 'type':
      return `must be a ${(e.params as { type: string }).type}`;
    case 'pattern':
      return 'must be lowercase letters, digits and dashes (like a Kubernetes name)';
    case 'minItems':
      return 'must not be empty';
    default:
      return e.message ?? 'is invalid';
  }
}

/** ajv reports if/then failures twice (the inner error and the "if" wrapper); keep the useful one. */
function dedupe(errors: ErrorObject[]): ErrorObject[] {
  return errors.filter((e) => e.keyword !== 'if');
}
