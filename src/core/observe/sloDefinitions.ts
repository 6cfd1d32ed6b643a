/**
 * SLOs as code: Sloth `prometheus/v1` files, Sloth's `PrometheusServiceLevel` CRD and OpenSLO v1 `SLO` documents
 * with a `ratioMetric` from a Prometheus source, rolling window, Occurrences budgeting. Anything else is reported
 * as unsupported, naming file, line and field, and the other definitions still load. Pure: the caller reads files.
 */
import { parseDuration } from '../detect/rules';
import { promDuration } from './alignment';
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type Node as YamlNode } from 'yaml';

/** A multi-window, multi-burn-rate alert: burning when both windows burn the budget at least `factor` times too fast. */
export interface BurnWindowPair {
  readonly longMs: number;
  readonly shortMs: number;
  readonly factor: number;
}

/** The Google SRE workbook's pairs: 14.4× over 1 h and 5 m, 6× over 6 h and 30 m, 1× over 3 d and 6 h. */
export const DEFAULT_BURN_WINDOWS: ReadonlyArray<BurnWindowPair> = [
  { longMs: 3_600_000, shortMs: 300_000, factor: 14.4 },
  { longMs: 6 * 3_600_000, shortMs: 1_800_000, factor: 6 },
  { longMs: 3 * 86_400_000, shortMs: 6 * 3_600_000, factor: 1 },
];

/** Per-SLO windows: a label (Sloth) or annotation (CRD, OpenSLO) with `FACTOR:LONG/SHORT` pairs, e.g. `14.4:1h/5m,6:6h/30m`. */
export const BURN_WINDOWS_KEY = 'vigil.dev/burn-windows';
/** The workload an SLO is about, `namespace/name`, when its service name or namespace do not say it. */
export const SLO_TARGET_KEY = 'vigil.dev/target';

const DEFAULT_PERIOD_MS = 30 * 86_400_000;

export interface SloDefinition {
  /** `service/slo`, unique per file set. */
  readonly id: string;
  readonly name: string;
  readonly service: string;
  /** The workload's namespace when the file says it (CRD metadata, a `namespace` label, `vigil.dev/target`). */
  readonly namespace?: string;
  /** The workload's name: `vigil.dev/target`, else the service. */
  readonly workload: string;
  /** Fraction of good events, e.g. 0.999. */
  readonly objective: number;
  /** PromQL of bad and of all events per second, with `{{.window}}` where the rate window goes. */
  readonly errorQuery: string;
  readonly totalQuery: string;
  /** The rolling window the error budget is counted over. */
  readonly periodMs: number;
  readonly windows: ReadonlyArray<BurnWindowPair>;
  /** `file:line` of the SLO. */
  readonly origin: string;
}

export interface SloLoadResult {
  readonly slos: SloDefinition[];
  /** `file:line: field …; fix` for each definition (or part) not loaded. */
  readonly problems: string[];
}

/** `14.4:1h/5m,6:6h/30m` → pairs; a string naming the problem when it does not parse. */
export function parseBurnWindows(text: string): BurnWindowPair[] | string {
  const out: BurnWindowPair[] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(\d+(?:\.\d+)?):([0-9a-z.]+)\/([0-9a-z.]+)$/.exec(part);
    const longMs = m ? parseDuration(m[2]) : undefined;
    const shortMs = m ? parseDuration(m[3]) : undefined;
    if (!m || !longMs || !shortMs || shortMs >= longMs || !(Number(m[1]) > 0)) return `"${part}" is not FACTOR:LONG/SHORT with SHORT < LONG, e.g. 14.4:1h/5m`;
    out.push({ longMs, shortMs, factor: Number(m[1]) });
  }
  return out.length ? out : 'no window pairs; write e.g. 14.4:1h/5m,6:6h/30m';
}

/** A document's values with the line of every path, so a problem names where to look. */
class Located {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    readonly file: string,
  ) {}

  node(path: ReadonlyArray<string | number>): YamlNode | undefined {
    const n = this.doc.getIn(path, true) as YamlNode | undefined;
    return n ?? undefined;
  }

  /** `file:line` of a path, or of its nearest ancestor present in the file. */
  at(path: ReadonlyArray<string | number>): string {
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? this.doc.contents : this.node(path.slice(0, n));
      if (node && (node as YamlNode).range) {
        // a map entry's own key line, where a reader looks
        const parent = n > 0 ? (n === 1 ? this.doc.contents : this.node(path.slice(0, n - 1))) : undefined;
        if (parent && isMap(parent)) {
          const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === path[n - 1]);
          if (pair && isScalar(pair.key) && pair.key.range) return `${this.file}:${this.lines.linePos(pair.key.range[0]).line}`;
        }
        return `${this.file}:${this.lines.linePos((node as YamlNode).range![0]).line}`;
      }
    }
    return `${this.file}:1`;
  }

  value(path: ReadonlyArray<string | number>): unknown {
    const n = this.node(path);
    if (n === undefined) return undefined;
    return isScalar(n) ? n.value : (n as { toJSON(): unknown }).toJSON();
  }

  length(path: ReadonlyArray<string | number>): number {
    const n = this.node(path);
    return n && isSeq(n) ? n.items.length : 0;
  }
}

class Unsupported extends Error {
  constructor(
    readonly at: string,
    readonly field: string,
    readonly fix: string,
  ) {
    super(`${at}: ${field}: ${fix}`);
  }
}

const str = (d: Located, path: ReadonlyArray<string | number>, field: string, fix: string): string => {
  const v = d.value(path);
  if (typeof v === 'string' && v.trim()) return v.trim();
  if (typeof v === 'number') return String(v);
  throw new Unsupported(d.at(path), field, v === undefined ? `missing; ${fix}` : `must be a text; ${fix}`);
};

const labelsOf = (d: Located, path: ReadonlyArray<string | number>): Record<string, string> => {
  const v = d.value(path);
  if (!v || typeof v !== 'object' || Array.isArray(v)) return {};
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, x]) => typeof x === 'string' || typeof x === 'number').map(([k, x]) => [k, String(x)]));
};

function windowsOf(d: Located, meta: Record<string, string>, path: ReadonlyArray<string | number>, field: string): BurnWindowPair[] {
  const text = meta[BURN_WINDOWS_KEY];
  if (text === undefined) return [...DEFAULT_BURN_WINDOWS];
  const parsed = parseBurnWindows(text);
  if (typeof parsed === 'string') throw new Unsupported(d.at(path), field, parsed);
  return parsed;
}

function objectiveOf(d: Located, path: ReadonlyArray<string | number>, field: string, percent: boolean): number {
  const v = d.value(path);
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  const fraction = percent ? Number((n / 100).toPrecision(12)) : n;
  if (!(fraction > 0 && fraction < 1)) throw new Unsupported(d.at(path), field, percent ? `must be a percentage between 0 and 100 exclusive, e.g. 99.9; got ${JSON.stringify(v)}` : `must be a fraction between 0 and 1 exclusive, e.g. 0.999; got ${JSON.stringify(v)}`);
  return fraction;
}

function targetOf(d: Located, meta: Record<string, string>, path: ReadonlyArray<string | number>, service: string, namespace: string | undefined): { namespace?: string; workload: string } {
  const t = meta[SLO_TARGET_KEY];
  if (t === undefined) return { ...(namespace ? { namespace } : {}), workload: service };
  const m = /^([a-z0-9][-a-z0-9]*)\/([a-z0-9][-a-z0-9.]*)$/.exec(t);
  if (!m) throw new Unsupported(d.at(path), SLO_TARGET_KEY, `"${t}" is not namespace/workload, e.g. shop/checkout`);
  return { namespace: m[1], workload: m[2] };
}

const WINDOW = '{{.window}}';

function checkQuery(d: Located, path: ReadonlyArray<string | number>, field: string): string {
  const q = str(d, path, field, `a PromQL query with ${WINDOW} as its rate window`);
  if (!q.includes(WINDOW)) throw new Unsupported(d.at(path), field, `has no ${WINDOW}; write its range as [${WINDOW}], e.g. sum(rate(http_requests_total{code=~"5.."}[${WINDOW}]))`);
  return q;
}

/** Sloth `prometheus/v1` (snake_case) or the CRD's spec (camelCase): both list `slos` under a service. */
function slothSlos(d: Located, base: ReadonlyArray<string>, crd: boolean, namespace: string | undefined, docMeta: Record<string, string>): SloDefinition[] {
  const service = str(d, [...base, 'service'], 'service', 'the name of the service the SLOs are about');
  const serviceLabels = labelsOf(d, [...base, 'labels']);
  const out: SloDefinition[] = [];
  const n = d.length([...base, 'slos']);
  if (n === 0) throw new Unsupported(d.at([...base, 'slos']), 'slos', 'a list of at least one SLO');
  const problems: Unsupported[] = [];
  for (let i = 0; i < n; i++) {
    const p = [...base, 'slos', i];
    try {
      const name = str(d, [...p, 'name'], `slos[${i}].name`, 'a name, e.g. requests-availability');
      const objective = objectiveOf(d, [...p, 'objective'], `slos[${i}].objective`, true);
      if (d.node([...p, 'sli', 'raw']) !== undefined) throw new Unsupported(d.at([...p, 'sli', 'raw']), `slos[${i}].sli.raw`, 'raw error-ratio SLIs are not supported; write sli.events with an error and a total query');
      if (d.node([...p, 'sli', 'plugin']) !== undefined) throw new Unsupported(d.at([...p, 'sli', 'plugin']), `slos[${i}].sli.plugin`, 'SLI plugins are not supported; write sli.events with an error and a total query');
      const errKey = crd ? 'errorQuery' : 'error_query';
      const totalKey = crd ? 'totalQuery' : 'total_query';
      const errorQuery = checkQuery(d, [...p, 'sli', 'events', errKey], `slos[${i}].sli.events.${errKey}`);
      const totalQuery = checkQuery(d, [...p, 'sli', 'events', totalKey], `slos[${i}].sli.events.${totalKey}`);
      const meta = { ...docMeta, ...serviceLabels, ...labelsOf(d, [...p, 'labels']) };
      const windows = windowsOf(d, meta, [...p, 'labels'], `slos[${i}].labels.${BURN_WINDOWS_KEY}`);
      const target = targetOf(d, meta, [...p, 'labels'], service, namespace ?? meta.namespace);
      const period = meta['vigil.dev/period'] ? parseDuration(meta['vigil.dev/period']) : DEFAULT_PERIOD_MS;
      if (!period) throw new Unsupported(d.at([...p, 'labels']), `slos[${i}].labels.vigil.dev/period`, `"${meta['vigil.dev/period']}" is not a duration, e.g. 30d`);
      out.push({ id: `${service}/${name}`, name, service, ...target, objective, errorQuery, totalQuery, periodMs: period, windows, origin: d.at(p) });
    } catch (err) {
      if (!(err instanceof Unsupported)) throw err;
      problems.push(err);
    }
  }
  if (problems.length) throw new AggregateProblems(problems, out);
  return out;
}

/** Some SLOs of one document loaded, others did not. */
class AggregateProblems extends Error {
  constructor(
    readonly problems: Unsupported[],
    readonly loaded: SloDefinition[],
  ) {
    super(problems.map((p) => p.message).join('; '));
  }
}

const isSelector = (q: string) => /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^{}]*\})?$/.test(q.trim());

/** An OpenSLO metric source's query as events per second over {{.window}}. */
function openSloQuery(d: Located, path: ReadonlyArray<string | number>, field: string, counter: boolean): string {
  const type = str(d, [...path, 'metricSource', 'type'], `${field}.metricSource.type`, 'Prometheus');
  if (type.toLowerCase() !== 'prometheus') throw new Unsupported(d.at([...path, 'metricSource', 'type']), `${field}.metricSource.type`, `"${type}" is not supported; Vigil reads SLOs from Prometheus only`);
  const q = str(d, [...path, 'metricSource', 'spec', 'query'], `${field}.metricSource.spec.query`, 'a PromQL query');
  if (q.includes(WINDOW)) return q;
  if (counter && isSelector(q)) return `sum(rate(${q}[${WINDOW}]))`;
  throw new Unsupported(d.at([...path, 'metricSource', 'spec', 'query']), `${field}.metricSource.spec.query`, counter ? `is not a plain series selector; use a selector such as http_requests_total{job="checkout"} or write the rate with [${WINDOW}]` : `without counter: true, write the rate with [${WINDOW}], e.g. sum(rate(http_requests_total[${WINDOW}]))`);
}

function openSlo(d: Located, docMeta: Record<string, string>): SloDefinition[] {
  const name = str(d, ['metadata', 'name'], 'metadata.name', 'a name, e.g. checkout-availability');
  const service = str(d, ['spec', 'service'], 'spec.service', 'the name of the service the SLO is about');
  if (d.node(['spec', 'indicatorRef']) !== undefined) throw new Unsupported(d.at(['spec', 'indicatorRef']), 'spec.indicatorRef', 'SLI references are not supported; inline the indicator under spec.indicator');
  const budgeting = str(d, ['spec', 'budgetingMethod'], 'spec.budgetingMethod', 'Occurrences');
  if (budgeting !== 'Occurrences') throw new Unsupported(d.at(['spec', 'budgetingMethod']), 'spec.budgetingMethod', `"${budgeting}" is not supported; only Occurrences budgeting is`);
  if (d.length(['spec', 'timeWindow']) !== 1) throw new Unsupported(d.at(['spec', 'timeWindow']), 'spec.timeWindow', 'exactly one time window, e.g. [{duration: 28d, isRolling: true}]');
  if (d.value(['spec', 'timeWindow', 0, 'isRolling']) !== true) throw new Unsupported(d.at(['spec', 'timeWindow', 0, 'isRolling']), 'spec.timeWindow[0].isRolling', 'only rolling windows are supported; set isRolling: true');
  const durationText = str(d, ['spec', 'timeWindow', 0, 'duration'], 'spec.timeWindow[0].duration', 'a duration, e.g. 28d');
  const periodMs = parseDuration(durationText);
  if (!periodMs) throw new Unsupported(d.at(['spec', 'timeWindow', 0, 'duration']), 'spec.timeWindow[0].duration', `"${durationText}" is not a duration, e.g. 28d`);
  const ratio = ['spec', 'indicator', 'spec', 'ratioMetric'];
  if (d.node(ratio) === undefined) {
    const threshold = d.node(['spec', 'indicator', 'spec', 'thresholdMetric']) !== undefined;
    throw new Unsupported(d.at(threshold ? ['spec', 'indicator', 'spec', 'thresholdMetric'] : ['spec', 'indicator']), threshold ? 'spec.indicator.spec.thresholdMetric' : 'spec.indicator.spec.ratioMetric', threshold ? 'threshold metrics are not supported; write a ratioMetric (good or bad, and total)' : 'missing; write a ratioMetric with good or bad, and total, from a Prometheus source');
  }
  const counter = d.value([...ratio, 'counter']) === true;
  const total = openSloQuery(d, [...ratio, 'total'], 'spec.indicator.spec.ratioMetric.total', counter);
  let errorQuery: string;
  if (d.node([...ratio, 'bad']) !== undefined) errorQuery = openSloQuery(d, [...ratio, 'bad'], 'spec.indicator.spec.ratioMetric.bad', counter);
  else if (d.node([...ratio, 'good']) !== undefined) errorQuery = `(${total}) - (${openSloQuery(d, [...ratio, 'good'], 'spec.indicator.spec.ratioMetric.good', counter)})`;
  else throw new Unsupported(d.at(ratio), 'spec.indicator.spec.ratioMetric', 'needs good or bad next to total');
  if (d.length(['spec', 'objectives']) !== 1) throw new Unsupported(d.at(['spec', 'objectives']), 'spec.objectives', 'exactly one objective with a target, e.g. [{target: 0.999}]');
  const objective = d.node(['spec', 'objectives', 0, 'target']) !== undefined ? objectiveOf(d, ['spec', 'objectives', 0, 'target'], 'spec.objectives[0].target', false) : objectiveOf(d, ['spec', 'objectives', 0, 'targetPercent'], 'spec.objectives[0].targetPercent', true);
  const meta = { ...docMeta, ...labelsOf(d, ['metadata', 'labels']), ...labelsOf(d, ['metadata', 'annotations']) };
  const windows = windowsOf(d, meta, ['metadata', 'annotations'], `metadata.annotations.${BURN_WINDOWS_KEY}`);
  const namespace = typeof d.value(['metadata', 'namespace']) === 'string' ? (d.value(['metadata', 'namespace']) as string) : meta.namespace;
  const target = targetOf(d, meta, ['metadata', 'annotations'], service, namespace);
  return [{ id: `${service}/${name}`, name, service, ...target, objective, errorQuery, totalQuery: total, periodMs, windows, origin: d.at(['metadata', 'name']) }];
}

/** Every SLO in one file's text (one or more YAML documents); what cannot be read is a problem naming file:line and field. */
export function parseSloFile(file: string, text: string): SloLoadResult {
  const lines = new LineCounter();
  const slos: SloDefinition[] = [];
  const problems: string[] = [];
  for (const doc of parseAllDocuments(text, { lineCounter: lines, prettyErrors: false })) {
    if (doc.errors.length) {
      problems.push(...doc.errors.map((e) => `${file}:${lines.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}; fix the YAML`));
      continue;
    }
    if (doc.contents === null) continue;
    const d = new Located(doc as Document, lines, file);
    try {
      if (!isMap(doc.contents)) throw new Unsupported(d.at([]), 'document', 'must be a map: a Sloth prometheus/v1 file, a PrometheusServiceLevel or an OpenSLO v1 SLO');
      const version = d.value(['version']);
      const apiVersion = d.value(['apiVersion']);
      const kind = d.value(['kind']);
      if (version === 'prometheus/v1') slos.push(...slothSlos(d, [], false, undefined, {}));
      else if (typeof apiVersion === 'string' && apiVersion.startsWith('sloth.slok.dev/') && kind === 'PrometheusServiceLevel') {
        const ns = d.value(['metadata', 'namespace']);
        slos.push(...slothSlos(d, ['spec'], true, typeof ns === 'string' ? ns : undefined, { ...labelsOf(d, ['metadata', 'labels']), ...labelsOf(d, ['metadata', 'annotations']) }));
      } else if (apiVersion === 'openslo/v1' && kind === 'SLO') slos.push(...openSlo(d, {}));
      else if (version !== undefined) throw new Unsupported(d.at(['version']), 'version', `"${String(version)}" is not supported; Sloth files use version: prometheus/v1`);
      else if (apiVersion === 'openslo/v1') throw new Unsupported(d.at(['kind']), 'kind', `"${String(kind)}" is not supported; Vigil reads OpenSLO kind: SLO (with an inline ratioMetric indicator)`);
      else throw new Unsupported(d.at(apiVersion !== undefined ? ['apiVersion'] : []), apiVersion !== undefined ? 'apiVersion' : 'version', `${apiVersion !== undefined ? `"${String(apiVersion)}"` : 'neither version nor apiVersion'} is not supported; use Sloth version: prometheus/v1, apiVersion: sloth.slok.dev/v1 kind: PrometheusServiceLevel, or apiVersion: openslo/v1 kind: SLO`);
    } catch (err) {
      if (err instanceof AggregateProblems) {
        slos.push(...err.loaded);
        problems.push(...err.problems.map((p) => p.message));
      } else if (err instanceof Unsupported) problems.push(err.message);
      else throw err;
    }
  }
  return { slos, problems };
}

/** The SLOs of several files; a definition whose id repeats one already loaded is a problem naming both places. */
export function mergeSloFiles(results: ReadonlyArray<SloLoadResult>): SloLoadResult {
  const byId = new Map<string, SloDefinition>();
  const problems: string[] = [];
  for (const r of results) {
    problems.push(...r.problems);
    for (const s of r.slos) {
      const prev = byId.get(s.id);
      if (prev) problems.push(`${s.origin}: slo: "${s.id}" is already defined at ${prev.origin}; rename one`);
      else byId.set(s.id, s);
    }
  }
  return { slos: [...byId.values()], problems };
}

/** The query with its rate window filled in, as Sloth renders `{{.window}}`. */
export function withWindow(query: string, windowMs: number): string {
  return query.split(WINDOW).join(promDuration(windowMs));
}
