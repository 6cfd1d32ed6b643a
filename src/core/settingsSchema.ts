/**
 * The one schema of VigilSettings: every key a user can set, with its type, default, wording and limits.
 * From this table come the validation of every source (VS Code settings, the agent's file, environment and
 * flags), `contributes.configuration` in package.json (`npm run settings:generate`, checked by a unit test),
 * and `vigil agent --print-config`. Defaults are read from DEFAULT_SETTINGS, never written twice.
 */
import { parseMaintenanceWindow } from './decide/safetyGates';
import { DEFAULT_SETTINGS, type VigilSettings } from './settings';

/** A JSON-schema subset: what VS Code's settings editor understands, and what validateSettings checks. */
export interface ValueSchema {
  readonly type: 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'object';
  readonly description?: string;
  readonly markdownDescription?: string;
  readonly default?: unknown;
  readonly enum?: ReadonlyArray<string>;
  readonly enumDescriptions?: ReadonlyArray<string>;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minItems?: number;
  readonly format?: 'uri';
  readonly items?: ValueSchema;
  readonly properties?: Readonly<Record<string, ValueSchema>>;
  readonly required?: ReadonlyArray<string>;
  readonly additionalProperties?: ValueSchema | false;
  /**
   * What JSON schema cannot say (a regex compiles, a window parses, url XOR service). Returns what to write
   * instead ("use ..."), or undefined when the value is fine. Not contributed to package.json.
   */
  readonly check?: (value: never) => string | undefined;
}

export interface SettingDescriptor extends ValueSchema {
  /** Dotted path in VigilSettings, e.g. `safety.deniedNamespaces`; in VS Code it is `vigil.` + key. */
  readonly key: string;
  readonly default: unknown;
  /** Only the agent reads it (state dir, log level...): not contributed to VS Code. */
  readonly agentOnly?: boolean;
  /** `vigil agent --flag` that sets it (arrays: repeatable). */
  readonly flag?: string;
  /** `VIGIL_*` environment variable that sets it (arrays: comma-separated; booleans: on/off). */
  readonly env?: string;
}

const MODE_SCHEMA = {
  type: 'string',
  enum: ['off', 'suggest', 'auto'],
  enumDescriptions: [
    'Detect and diagnose only; never propose or run a remediation.',
    'Propose remediations and wait for a human to approve each one.',
    'Run remediations within the safety gates; escalate to a human when they fail.',
  ],
} as const satisfies ValueSchema;

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const WORKLOAD = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const SERVICE_PORT = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9]*[a-z0-9])?:(\d{1,5}|[a-z][-a-z0-9]*)$/;

function regexProblem(pattern: string, flags = ''): string | undefined {
  try {
    new RegExp(pattern, flags);
    return undefined;
  } catch (err) {
    return `a valid regular expression (${(err as Error).message})`;
  }
}

function httpUrlProblem(value: string, example: string): string | undefined {
  if (value === '') return undefined;
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return `an http:// or https:// URL, e.g. ${example}`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `an http:// or https:// URL, e.g. ${example}`;
  if (u.username || u.password) return 'a URL without credentials; put them in VIGIL_PROMETHEUS_USERNAME/VIGIL_PROMETHEUS_PASSWORD or VIGIL_PROMETHEUS_TOKEN (environment), or SecretStorage in VS Code';
  return undefined;
}

const NAMESPACE_LIST = { type: 'array', items: { type: 'string', check: (ns: string) => (NAME.test(ns) ? undefined : 'a namespace name, e.g. "shop"') } } as const;

const PROBE_STEP: ValueSchema = {
  type: 'object',
  properties: {
    name: { type: 'string', default: '', description: 'Shown in results, e.g. "add to cart".' },
    url: { type: 'string', default: '', description: 'A full http(s) URL. Set either url or service.', check: (v: string) => httpUrlProblem(v, 'http://checkout.shop.svc:8080/healthz') },
    service: { type: 'string', default: '', description: '`namespace/name:port` of a Service, reached through the API server\'s service proxy. Set either url or service.', check: (v: string) => (v === '' || SERVICE_PORT.test(v) ? undefined : 'namespace/name:port, e.g. "shop/frontend:8080"') },
    path: { type: 'string', default: '', description: 'Path on the service, e.g. /api/cart (with service).' },
    method: { type: 'string', enum: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'], default: 'GET' },
    body: { type: 'string', default: '', description: 'Request body (POST/PUT), sent as given.' },
    expectStatus: { type: 'array', items: { type: 'integer', minimum: 100, maximum: 599 }, default: [200], description: 'Status codes that count as success.' },
    expectBody: { type: 'string', default: '', description: 'A regular expression the body must match; empty means any body.', check: (v: string) => regexProblem(v) },
    latencyBudgetMs: { type: 'number', minimum: 1, default: 1000, description: 'Slower than this counts as a failure.' },
  },
  additionalProperties: false,
  check: (s: { url: string; service: string }) => ((s.url === '') === (s.service === '') ? 'exactly one of url (a full URL) or service (namespace/name:port) in each step' : undefined),
};

const PROBE: ValueSchema = {
  type: 'object',
  properties: {
    name: { type: 'string', description: 'Name of the probe, e.g. "checkout journey".' },
    target: { type: 'string', description: '`namespace/workload` whose health the probe reports, e.g. shop/frontend.', check: (v: string) => (WORKLOAD.test(v) ? undefined : 'namespace/workload, e.g. "shop/frontend"') },
    steps: { type: 'array', items: PROBE_STEP, minItems: 1, description: 'HTTP requests run in order; the probe fails at the first failing step.' },
    intervalSeconds: { type: 'number', minimum: 1, default: 15 },
    timeoutMs: { type: 'number', minimum: 1, default: 10_000 },
  },
  required: ['name', 'target', 'steps'],
  additionalProperties: false,
};

/** Every key of VigilSettings, in the order VS Code shows them. Defaults are filled in from DEFAULT_SETTINGS below. */
const TABLE: ReadonlyArray<Omit<SettingDescriptor, 'default'>> = [
  { key: 'kubernetes.context', type: 'string', flag: 'context', env: 'VIGIL_CONTEXT', markdownDescription: 'Kubeconfig context Vigil connects to. Empty means the kubeconfig\'s current context. Set it with **Vigil: Connect to Cluster**.' },
  { key: 'kubernetes.kubeconfig', type: 'string', flag: 'kubeconfig', env: 'VIGIL_KUBECONFIG', markdownDescription: 'Path of the kubeconfig file. Empty means `KUBECONFIG`, then `~/.kube/config` (in a pod: its service account).' },
  { key: 'kubernetes.namespaces', ...NAMESPACE_LIST, flag: 'namespace', env: 'VIGIL_NAMESPACES', markdownDescription: 'Namespaces Vigil watches. Empty means every namespace the credentials can list. A list makes this agent one **shard**: it acts only in these namespaces and leads among the agents of the same list through its own Lease, `<safety.leaseName>-shard-<hash of the sorted list>`; agents of other shards run beside it.' },
  {
    key: 'prometheus.url',
    type: 'string',
    format: 'uri',
    flag: 'prometheus',
    env: 'VIGIL_PROMETHEUS_URL',
    markdownDescription: 'Base URL of the Prometheus HTTP API, e.g. `http://prometheus.monitoring:9090`. Empty means Vigil scrapes annotated pods directly through the API server. Tokens are kept in SecretStorage via **Vigil: Set Prometheus URL**, never here.',
    check: (v: string) => httpUrlProblem(v, 'http://prometheus.monitoring:9090'),
  },
  { key: 'prometheus.scrapeIntervalSeconds', type: 'number', minimum: 1, maximum: 300, flag: 'interval-seconds', env: 'VIGIL_INTERVAL_SECONDS', description: 'How often Vigil pulls samples, in seconds. Match your Prometheus scrape interval.' },
  { key: 'prometheus.rateWindowSeconds', type: 'number', minimum: 0, maximum: 3600, env: 'VIGIL_RATE_WINDOW_SECONDS', markdownDescription: 'Window of rates and quantiles, in seconds, like the `[1m]` of `rate(...[1m])`. 0 means max(4 × interval, 60 s).' },
  { key: 'prometheus.signalsFile', type: 'string', env: 'VIGIL_SIGNALS_FILE', markdownDescription: 'YAML file of signal queries (see `config/signals.default.yaml`). Empty means the defaults.' },
  {
    key: 'prometheus.signalQueries',
    type: 'object',
    additionalProperties: { type: 'string' },
    markdownDescription: 'PromQL overrides per signal, keyed by `signal` or `signal/kind`, applied after the signals file, e.g. `{"error_ratio": "..."}`.',
  },
  {
    key: 'prometheus.inferServiceGraph',
    type: 'boolean',
    env: 'VIGIL_INFER_SERVICE_GRAPH',
    markdownDescription: 'Add to the dependency graph the calls Prometheus has seen: Istio `istio_requests_total` (source → destination workload), Linkerd outbound `response_total` (`deployment` → `dst_deployment`) and trace-derived `traces_service_graph_request_total` (`client` → `server`, from Tempo or the OpenTelemetry collector\'s servicegraph connector). Read at connect and every 10 minutes; an edge is kept 24 h after it was last seen. `vigil.dev/depends-on` annotations are always read.',
  },
  {
    key: 'alertmanager.url',
    type: 'string',
    format: 'uri',
    flag: 'alertmanager',
    env: 'VIGIL_ALERTMANAGER_URL',
    markdownDescription: 'Base URL of Alertmanager, e.g. `http://alertmanager.monitoring:9093`. Its firing alerts become evidence of the incidents on their workloads. Empty means the alerts of Prometheus (`/api/v1/alerts`) when `#vigil.prometheus.url#` is set, and no silences.',
    check: (v: string) => httpUrlProblem(v, 'http://alertmanager.monitoring:9093'),
  },
  { key: 'alertmanager.silenceDuringRemediation', type: 'boolean', env: 'VIGIL_ALERTMANAGER_SILENCE', markdownDescription: 'While Vigil remediates an incident, silence the alerts attached to it (author `vigil`, until the verify timeout plus 5 min, renewed while the step runs, expired when the incident is verified or escalated). Vigil touches only silences it created.' },
  {
    key: 'slos.paths',
    type: 'array',
    items: { type: 'string' },
    flag: 'slos',
    env: 'VIGIL_SLOS',
    markdownDescription: 'SLO definition files, or folders of `.yaml` files: Sloth `prometheus/v1` (or its `PrometheusServiceLevel` CRD) and OpenSLO v1 `SLO` with a `ratioMetric`. Their error-budget burn (multi-window, multi-burn-rate) is read from Prometheus (`#vigil.prometheus.url#`).',
  },
  { key: 'automation.mode', ...MODE_SCHEMA, flag: 'mode', env: 'VIGIL_MODE', description: 'What Vigil may do on its own.' },
  {
    key: 'automation.namespaceModes',
    type: 'object',
    additionalProperties: MODE_SCHEMA,
    markdownDescription: 'Per-namespace overrides of the automation mode, e.g. `{"staging": "auto", "prod": "suggest"}`.',
    check: (m: Record<string, string>) => (Object.keys(m).every((ns) => NAME.test(ns)) ? undefined : 'namespace names as keys, e.g. {"staging": "auto"}'),
  },
  { key: 'safety.dryRun', type: 'boolean', flag: 'dry-run', env: 'VIGIL_DRY_RUN', description: 'Run every remediation as a server-side dry run only (nothing is changed in the cluster).' },
  {
    key: 'safety.approvalRequiredForRisk',
    type: 'string',
    enum: ['low', 'medium', 'high', 'never'],
    enumDescriptions: ['Every step waits for approval, even in auto mode.', 'Medium- and high-risk steps wait for approval.', 'Only high-risk steps (draining a node) wait for approval.', 'Auto mode runs every step.'],
    description: "In auto mode, remediations at or above this risk level still wait for approval (high: draining a node). 'never' lets auto mode run every step.",
  },
  { key: 'safety.allowedNamespaces', ...NAMESPACE_LIST, flag: 'allow-namespace', env: 'VIGIL_ALLOWED_NAMESPACES', description: 'Namespaces where Vigil may act. Empty means all watched namespaces.' },
  { key: 'safety.deniedNamespaces', ...NAMESPACE_LIST, flag: 'deny-namespace', env: 'VIGIL_DENIED_NAMESPACES', description: 'Namespaces where Vigil never acts, whatever else is set. A flag or environment value replaces the list (keep kube-system in it).' },
  {
    key: 'safety.maintenanceWindows',
    type: 'array',
    items: {
      type: 'string',
      check: (w: string) => {
        try {
          parseMaintenanceWindow(w);
          return undefined;
        } catch {
          return '"DAY HH:MM-HH:MM" in UTC, DAY one of Mon..Sun or *, e.g. "Sun 02:00-04:00"';
        }
      },
    },
    markdownDescription: 'Windows when automation holds off, as `DAY HH:MM-HH:MM` in UTC, e.g. `Sun 02:00-04:00` or `* 23:00-23:30`.',
  },
  { key: 'safety.maxActionsPerTargetPerHour', type: 'integer', minimum: 0, description: 'Rate limit: remediations on one workload within an hour.' },
  { key: 'safety.maxActionsPerHour', type: 'integer', minimum: 0, description: 'Rate limit: remediations across the cluster within an hour.' },
  { key: 'safety.cooldownSeconds', type: 'number', minimum: 0, description: 'Quiet time after an action on a workload before the next one.' },
  { key: 'safety.maxBlastRadiusPercent', type: 'number', minimum: 1, maximum: 100, description: "Never disrupt more than this share of a deployment's pods, or of the cluster's nodes, at once." },
  { key: 'safety.circuitBreakerFailures', type: 'integer', minimum: 1, description: 'Failed remediations in a row after which automation stops and waits for a human.' },
  { key: 'safety.suppressDuringRollout', type: 'boolean', description: 'Hold off while a rollout of the target is still progressing.' },
  { key: 'safety.leaseName', type: 'string', check: (v: string) => (NAME.test(v) ? undefined : 'a Kubernetes object name, e.g. "vigil-copilot"'), description: 'Name of the coordination.k8s.io Lease that makes sure only one Vigil instance acts on a cluster (with kubernetes.namespaces set: on that shard, whose Lease is this name with -shard-<hash> appended).' },
  {
    key: 'logs.services',
    type: 'array',
    items: { type: 'string', check: (v: string) => (v === '*' || WORKLOAD.test(v) ? undefined : 'namespace/workload, e.g. "shop/checkout", or * for every watched workload') },
    markdownDescription: 'Workloads (`namespace/workload`) whose pod logs are tailed for error patterns; `*` means every watched workload. Empty means none.',
  },
  {
    key: 'logs.patterns',
    type: 'array',
    items: {
      type: 'object',
      properties: {
        name: { type: 'string', description: 'Name of the pattern, e.g. "oom".' },
        pattern: { type: 'string', description: 'A regular expression, matched case-insensitively.', check: (v: string) => regexProblem(v, 'i') },
      },
      required: ['name', 'pattern'],
      additionalProperties: false,
    },
    markdownDescription: 'Named error patterns counted in pod logs (regular expressions, case-insensitive), e.g. `[{"name": "oom", "pattern": "OOMKilled"}]`. Empty means the built-in ones.',
  },
  {
    key: 'probes',
    type: 'array',
    items: PROBE,
    markdownDescription: 'Synthetic probes: an HTTP check or a user journey of steps run in order on every interval. Each step has `url` or `service` (`namespace/name:port` through the API server), and expects a status, a body regex and a latency budget. They feed detection and the `probe-passing` check after a fix.',
  },
  { key: 'model.enabled', type: 'boolean', env: 'VIGIL_MODEL', description: 'Use the multi-signal TensorFlow.js model in the live loop.' },
  { key: 'model.retrainEveryHours', type: 'number', minimum: 0, description: "Retrain every service's model on its normal data this often, in hours; 0 means only on command." },
  {
    key: 'sandbox.applicationMetrics',
    type: 'string',
    enum: ['prometheus', 'opentelemetry', 'istio'],
    enumDescriptions: [
      'http_requests_total and http_request_duration_seconds, as Prometheus client libraries name them.',
      'http_server_request_duration_seconds with http_response_status_code, as OpenTelemetry SDKs export them.',
      'istio_requests_total and istio_request_duration_milliseconds by destination workload, as Istio sidecars report them.',
    ],
    markdownDescription: 'How the sandbox cluster names its application metrics, to see which signals Vigil finds under each (**Vigil: Start Sandbox Cluster**, `vigil sandbox --application-metrics`).',
  },
  {
    key: 'sandbox.deploymentLabel',
    type: 'boolean',
    markdownDescription: 'Whether the sandbox labels its series with `deployment`. Off: `namespace`+`pod`+`container` only, CPU and memory as cAdvisor reports them, as under kube-prometheus-stack (`vigil sandbox --no-deployment-label`).',
  },
  {
    key: 'sandbox.declareDependencies',
    type: 'boolean',
    markdownDescription: 'Whether the sandbox\'s shop declares who calls whom with `vigil.dev/depends-on` annotations. Off: the dependency graph comes only from telemetry, e.g. with `#vigil.sandbox.applicationMetrics#` `istio`, the source workload of each request (`vigil sandbox --no-depends-on`).',
  },
  { key: 'agent.stateDir', type: 'string', agentOnly: true, flag: 'state-dir', env: 'VIGIL_STATE_DIR', description: 'Incidents, the audit log and learned state; the agent is its only writer. Required by the agent.' },
  { key: 'agent.playbooksDir', type: 'string', agentOnly: true, flag: 'playbooks', env: 'VIGIL_PLAYBOOKS_DIR', description: 'Folder of playbook YAML files added to the built-in ones; empty means .vigil/playbooks if present.' },
  { key: 'agent.leaseNamespace', type: 'string', agentOnly: true, env: 'VIGIL_LEASE_NAMESPACE', check: (v: string) => (NAME.test(v) ? undefined : 'a namespace name, e.g. "vigil"'), description: 'Namespace of the Lease that makes sure only one instance acts.' },
  { key: 'agent.logLevel', type: 'string', enum: ['debug', 'info', 'warn', 'error'], agentOnly: true, flag: 'log-level', env: 'VIGIL_LOG_LEVEL', description: 'Lowest level of the JSON log lines the agent writes.' },
  { key: 'agent.httpPort', type: 'integer', minimum: 0, maximum: 65535, agentOnly: true, flag: 'http-port', env: 'VIGIL_HTTP_PORT', description: 'Port of the agent\'s /healthz, /readyz and /metrics; 0 means none are served.' },
  { key: 'agent.httpHost', type: 'string', agentOnly: true, flag: 'http-host', env: 'VIGIL_HTTP_HOST', description: 'Address the endpoints listen on; empty means every address.' },
];

/** The value at a dotted key of a nested object. */
export function valueAt(root: unknown, key: string): unknown {
  let v: unknown = root;
  for (const part of key.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
  return v;
}

export const SETTINGS_SCHEMA: ReadonlyArray<SettingDescriptor> = TABLE.map((d) => ({ ...d, default: valueAt(DEFAULT_SETTINGS, d.key) }));

const BY_KEY = new Map(SETTINGS_SCHEMA.map((d) => [d.key, d]));

export function settingDescriptor(key: string): SettingDescriptor | undefined {
  return BY_KEY.get(key);
}

/** One thing wrong with one value: `key` is the table's key, `path` the full path to the bad value. */
export interface SettingProblem {
  readonly key: string;
  readonly path: ReadonlyArray<string | number>;
  readonly value: unknown;
  readonly message: string;
}

export class SettingsError extends Error {
  constructor(
    readonly source: string,
    readonly problems: ReadonlyArray<string>,
  ) {
    // a problem that already names its file:line needs no second prefix
    const one = problems.length === 1 ? (problems[0].startsWith(`${source}:`) ? problems[0] : `${source}: ${problems[0]}`) : undefined;
    super(one ?? `${source}: ${problems.length} problems\n  ${problems.join('\n  ')}`);
    this.name = 'SettingsError';
  }
}

export function pathLabel(path: ReadonlyArray<string | number>): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** `150`, `"abc"`, `["a"]`: how a bad value is quoted in a message. */
export function showValue(v: unknown): string {
  if (v === undefined) return 'missing';
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function expectation(s: ValueSchema): string {
  if (s.enum) return `one of ${s.enum.map((e) => `"${e}"`).join(', ')}`;
  const whole = s.type === 'integer' ? 'a whole number' : 'a number';
  switch (s.type) {
    case 'number':
    case 'integer':
      if (s.minimum !== undefined && s.maximum !== undefined) return `${whole} from ${s.minimum} to ${s.maximum}`;
      if (s.minimum !== undefined) return `${whole} ≥ ${s.minimum}`;
      return whole;
    case 'boolean':
      return 'true or false';
    case 'string':
      return 'a string';
    case 'array':
      return s.items?.type === 'string' ? 'a list of strings, e.g. ["shop"]' : s.items?.type === 'integer' ? 'a list of whole numbers, e.g. [200]' : 'a list';
    case 'object':
      return s.properties ? `an object with ${Object.keys(s.properties).join(', ')}` : 'a map of names to values';
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Checks one value against its schema; returns the value with item defaults filled in, and collects problems. */
function checkValue(schema: ValueSchema, value: unknown, key: string, path: Array<string | number>, problems: SettingProblem[]): unknown {
  const label = pathLabel(path);
  const fail = (use: string): undefined => {
    problems.push({ key, path, value, message: `${label} is ${showValue(value)}; use ${use}` });
    return undefined;
  };
  let out: unknown = value;
  switch (schema.type) {
    case 'string':
      if (typeof value !== 'string') return fail(expectation(schema));
      if (schema.enum && !schema.enum.includes(value)) return fail(expectation(schema));
      break;
    case 'number':
    case 'integer':
      if (typeof value !== 'number' || !Number.isFinite(value) || (schema.type === 'integer' && !Number.isInteger(value))) return fail(expectation(schema));
      if ((schema.minimum !== undefined && value < schema.minimum) || (schema.maximum !== undefined && value > schema.maximum)) return fail(expectation(schema));
      break;
    case 'boolean':
      if (typeof value !== 'boolean') return fail(expectation(schema));
      break;
    case 'array': {
      if (!Array.isArray(value)) return fail(expectation(schema));
      if (schema.minItems !== undefined && value.length < schema.minItems) return fail(`a list of at least ${schema.minItems}`);
      const before = problems.length;
      out = schema.items ? value.map((item, i) => checkValue(schema.items as ValueSchema, item, key, [...path, i], problems)) : value;
      if (problems.length > before) return undefined;
      break;
    }
    case 'object': {
      if (!isPlainObject(value)) return fail(expectation(schema));
      const before = problems.length;
      const result: Record<string, unknown> = {};
      const props = schema.properties ?? {};
      for (const [name, v] of Object.entries(value)) {
        const prop = props[name] ?? (schema.additionalProperties === false ? undefined : schema.additionalProperties);
        if (!prop) {
          const known = Object.keys(props);
          problems.push({ key, path: [...path, name], value: v, message: `${pathLabel([...path, name])} is not a setting; use one of ${known.join(', ')}` });
          continue;
        }
        result[name] = checkValue(prop, v, key, [...path, name], problems);
      }
      for (const [name, prop] of Object.entries(props)) {
        if (name in result) continue;
        if (schema.required?.includes(name)) problems.push({ key, path: [...path, name], value: undefined, message: `${pathLabel([...path, name])} is missing; add it (${prop.description ?? expectation(prop)})` });
        else if (prop.default !== undefined) result[name] = prop.default;
      }
      if (problems.length > before) return undefined;
      out = result;
      break;
    }
  }
  if (schema.check) {
    const use = schema.check(out as never);
    if (use) return fail(use);
  }
  return out;
}

/** `vigil.safety.x` written where `safety.x` belongs: the nearest key, for "did you mean". */
export function nearestKey(key: string): string | undefined {
  const distance = (a: string, b: string): number => {
    const d = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      let prev = d[0];
      d[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const tmp = d[j];
        d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
        prev = tmp;
      }
    }
    return d[b.length];
  };
  let best: { key: string; d: number } | undefined;
  for (const k of BY_KEY.keys()) {
    const dd = Math.min(distance(key, k), distance(key.split('.').pop() ?? key, k.split('.').pop() ?? k) + 2);
    if (!best || dd < best.d) best = { key: k, d: dd };
  }
  return best && best.d <= Math.max(3, Math.floor(key.length / 4)) ? best.key : undefined;
}

/**
 * Validates one value of the table's `key` (already typed: numbers are numbers). Returns the value with
 * defaults of nested items filled in, or undefined with problems.
 */
export function validateSetting(key: string, value: unknown): { value: unknown; problems: SettingProblem[] } {
  const d = BY_KEY.get(key);
  if (!d) throw new Error(`not a setting: ${key}`);
  const problems: SettingProblem[] = [];
  const out = checkValue(d, value, key, key.split('.'), problems);
  return { value: problems.length ? undefined : out, problems };
}

/** Writes `value` at a dotted key, creating the objects on the way. */
export function setValueAt(root: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let o = root;
  for (const p of parts.slice(0, -1)) o = (o[p] ??= {}) as Record<string, unknown>;
  o[parts[parts.length - 1]] = value;
}

/**
 * Nested settings (the agent's file layout, `{ safety: { deniedNamespaces: [...] } }`) → VigilSettings.
 * Unknown keys and bad values are problems naming the key, the value and the fix; a bad key keeps its
 * default, so one typo never turns every setting off. `source` names where the values came from.
 */
export function validateSettings(raw: unknown, source: string): { settings: VigilSettings; problems: SettingProblem[] } {
  const problems: SettingProblem[] = [];
  const out: Record<string, unknown> = {};
  const root = raw === undefined || raw === null ? {} : raw;
  if (!isPlainObject(root)) {
    problems.push({ key: '', path: [], value: raw, message: `${source} is ${showValue(raw)}; use a map of settings, e.g. {automation: {mode: suggest}}` });
  } else {
    const walk = (o: Record<string, unknown>, prefix: string): void => {
      for (const [name, v] of Object.entries(o)) {
        const key = prefix ? `${prefix}.${name}` : name;
        if (BY_KEY.has(key)) continue;
        if (key === 'vigil') {
          problems.push({ key, path: [key], value: v, message: 'vigil is not a setting; write the keys without the vigil. prefix, e.g. {safety: {dryRun: true}}' });
          continue;
        }
        const isSection = SETTINGS_SCHEMA.some((d) => d.key.startsWith(`${key}.`));
        if (isSection && isPlainObject(v)) walk(v, key);
        else if (isSection) problems.push({ key, path: key.split('.'), value: v, message: `${key} is ${showValue(v)}; use a map of its settings (${SETTINGS_SCHEMA.filter((d) => d.key.startsWith(`${key}.`)).map((d) => d.key.slice(key.length + 1)).join(', ')})` });
        else {
          const near = nearestKey(key);
          problems.push({ key, path: key.split('.'), value: v, message: `${key} is not a setting${near ? `; did you mean ${near}?` : ''}` });
        }
      }
    };
    walk(root, '');
  }
  for (const d of SETTINGS_SCHEMA) {
    const given = isPlainObject(root) ? valueAt(root, d.key) : undefined;
    if (given === undefined) {
      setValueAt(out, d.key, d.default);
      continue;
    }
    const r = validateSetting(d.key, given);
    problems.push(...r.problems);
    setValueAt(out, d.key, r.problems.length ? d.default : r.value);
  }
  return { settings: out as unknown as VigilSettings, problems };
}

/** The table's keys whose values differ between two settings. */
export function changedKeys(a: VigilSettings, b: VigilSettings): string[] {
  return SETTINGS_SCHEMA.filter((d) => JSON.stringify(valueAt(a, d.key)) !== JSON.stringify(valueAt(b, d.key))).map((d) => d.key);
}

/** The throwing variant: every problem in one error, prefixed with `source`. */
export function parseSettings(raw: unknown, source: string): VigilSettings {
  const { settings, problems } = validateSettings(raw, source);
  if (problems.length) throw new SettingsError(source, problems.map((p) => p.message));
  return settings;
}

type JsonSchema = Record<string, unknown>;

function toJsonSchema(s: ValueSchema): JsonSchema {
  const out: JsonSchema = { type: s.type };
  if (s.enum) out.enum = [...s.enum];
  if (s.enumDescriptions) out.enumDescriptions = [...s.enumDescriptions];
  if (s.items) out.items = toJsonSchema(s.items);
  if (s.properties) out.properties = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, toJsonSchema(v)]));
  if (s.required) out.required = [...s.required];
  if (s.additionalProperties !== undefined) out.additionalProperties = s.additionalProperties === false ? false : toJsonSchema(s.additionalProperties);
  if (s.default !== undefined) out.default = s.default;
  if (s.format) out.format = s.format;
  if (s.minimum !== undefined) out.minimum = s.minimum;
  if (s.maximum !== undefined) out.maximum = s.maximum;
  if (s.minItems !== undefined) out.minItems = s.minItems;
  if (s.markdownDescription) out.markdownDescription = s.markdownDescription;
  else if (s.description) out.description = s.description;
  return out;
}

/** `contributes.configuration.properties` of package.json: every key the extension reads, `vigil.`-prefixed. */
export function vscodeConfigurationProperties(): Record<string, JsonSchema> {
  return Object.fromEntries(SETTINGS_SCHEMA.filter((d) => !d.agentOnly).map((d) => [`vigil.${d.key}`, toJsonSchema(d)]));
}
