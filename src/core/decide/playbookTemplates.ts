import type { ActionSpec, SetKind } from '../model/action';
import type { PlaybookStep } from '../model/playbook';

/** What a step's parameter templates can refer to, filled from the incident and the inventory. */
export interface TemplateContext {
  readonly target: { readonly namespace?: string; readonly name: string };
  /** The target is a StatefulSet or DaemonSet (the workload actions name its kind); absent: a Deployment. */
  readonly workloadKind?: SetKind;
  readonly replicas?: number;
  /**
   * Replicas that bring each pod's request rate back under its level before the rise, with a quarter to spare, and at
   * least double (see replicasForLoad); known when the diagnosis measured the rise (a traffic surge).
   */
  readonly loadReplicas?: number;
  readonly revision?: number;
  readonly previousRevision?: number;
  readonly worstPod?: string;
  readonly node?: string;
  readonly flag?: { readonly namespace: string; readonly configMap: string; readonly key: string; readonly previousValue: string };
}

export class TemplateError extends Error {}

/** Headroom of a scale-out sized from the load: each pod gets at most 1 / LOAD_HEADROOM of its load before the rise. */
const LOAD_HEADROOM = 1.25;

/**
 * Replicas for a load `ratio` times what `replicas` pods carried before it rose: each pod back under its own earlier
 * request rate with a quarter to spare, and never less than double. A surge of 4x on 2 pods is 10 pods, not 4: doubling
 * left each pod twice its usual load, which at the day's peak was the edge of its capacity (bench:heal's surge, seed 3,
 * verified at 4 replicas and saturated again 2 s later).
 */
export function replicasForLoad(replicas: number, ratio: number): number {
  return Math.max(2 * replicas, Math.ceil(replicas * ratio * LOAD_HEADROOM - 1e-9));
}

const OPTIONAL_PARAMS: ReadonlySet<string> = new Set(['toRevision', 'maxReplicas']);

/** Resolves `{{path}}` and `{{path op number}}` (op: + - * /) against the context. */
export function resolveTemplate(template: string | number, ctx: TemplateContext, field: string): string | number {
  if (typeof template === 'number') return template;
  const whole = /^\{\{\s*([^}]+?)\s*\}\}$/.exec(template);
  const evalExpr = (expr: string): string | number => {
    const m = /^([A-Za-z][\w.]*)\s*(?:([+\-*/])\s*(\d+(?:\.\d+)?))?$/.exec(expr);
    if (!m) throw new TemplateError(`${field}: cannot read template "{{${expr}}}"`);
    const value = lookup(ctx, m[1]);
    if (value === undefined) throw new TemplateError(`${field}: "{{${expr}}}" has no value for this incident (${m[1]} is unknown)`);
    if (!m[2]) return value;
    if (typeof value !== 'number') throw new TemplateError(`${field}: "{{${expr}}}" does arithmetic on a non-number`);
    const n = Number(m[3]);
    const r = m[2] === '+' ? value + n : m[2] === '-' ? value - n : m[2] === '*' ? value * n : value / n;
    return Math.round(r);
  };
  if (whole) return evalExpr(whole[1]);
  return template.replace(/\{\{\s*([^}]+?)\s*\}\}/g, (_, expr: string) => String(evalExpr(expr)));
}

function lookup(ctx: TemplateContext, path: string): string | number | undefined {
  let cur: unknown = ctx;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return typeof cur === 'string' || typeof cur === 'number' ? cur : undefined;
}

function str(params: Record<string, string | number>, key: string): string {
  const v = params[key];
  if (v === undefined || v === '') throw new TemplateError(`params.${key} is required`);
  return String(v);
}

function num(params: Record<string, string | number>, key: string): number {
  const v = Number(params[key]);
  if (!Number.isFinite(v)) throw new TemplateError(`params.${key} must be a number, got "${params[key]}"`);
  return v;
}

/** Turns a playbook step into a concrete action for this incident. Throws TemplateError naming the field. */
export function resolveStep(step: PlaybookStep, ctx: TemplateContext): ActionSpec {
  const p: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(step.params)) {
    try {
      p[k] = resolveTemplate(v, ctx, `steps.${step.id}.params.${k}`);
    } catch (err) {
      // an unknown optional value falls back to the action's default (rollback: the previous revision)
      if (err instanceof TemplateError && OPTIONAL_PARAMS.has(k)) continue;
      throw err;
    }
  }
  switch (step.action) {
    case 'delete-pod':
      return { kind: 'delete-pod', namespace: str(p, 'namespace'), pod: str(p, 'pod') };
    case 'rollout-restart':
      return { kind: 'rollout-restart', namespace: str(p, 'namespace'), deployment: str(p, 'deployment'), ...kindOf(ctx, p) };
    case 'rollback':
      return { kind: 'rollback', namespace: str(p, 'namespace'), deployment: str(p, 'deployment'), toRevision: p.toRevision === undefined ? undefined : num(p, 'toRevision'), ...kindOf(ctx, p) };
    case 'scale': {
      const max = p.maxReplicas === undefined ? Infinity : num(p, 'maxReplicas');
      return { kind: 'scale', namespace: str(p, 'namespace'), deployment: str(p, 'deployment'), replicas: Math.max(0, Math.min(max, num(p, 'replicas'))), ...kindOf(ctx, p) };
    }
    case 'cordon':
    case 'uncordon':
    case 'drain':
      return { kind: step.action, node: str(p, 'node') };
    case 'patch-configmap':
      return { kind: 'patch-configmap', namespace: str(p, 'namespace'), configMap: str(p, 'configMap'), key: str(p, 'key'), value: String(p.value ?? '') };
  }
}

/** The target's kind, when the step acts on the target itself (its namespace and name). */
function kindOf(ctx: TemplateContext, p: Record<string, string | number>): { workloadKind?: SetKind } {
  return ctx.workloadKind && p.namespace === ctx.target.namespace && p.deployment === ctx.target.name ? { workloadKind: ctx.workloadKind } : {};
}
