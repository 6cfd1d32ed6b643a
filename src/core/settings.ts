/**
 * VigilSettings: everything a user can set, for the extension and the agent alike. The VS Code
 * configuration (`vigil.*`) and the agent's settings file (the same keys without `vigil.`, nested)
 * both produce this one type; every field is read somewhere, and validated in one place.
 * Secrets (tokens, webhook URLs) are never settings: they come from the environment or SecretStorage.
 */
import type { AutomationMode, SafetySettings } from './model/automation';
import { DEFAULT_SAFETY } from './model/automation';

/** One step of a synthetic check: an HTTP request and what its answer must be. */
export interface ProbeStepSettings {
  readonly name: string;
  /** A full URL, or empty when `service` is set. */
  readonly url: string;
  /** `namespace/name:port`: reached through the API server's service proxy. Empty when `url` is set. */
  readonly service: string;
  /** Path on the service (with `service`), e.g. `/api/cart`. */
  readonly path: string;
  readonly method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';
  /** Request body (POST/PUT), sent as given. */
  readonly body: string;
  readonly expectStatus: ReadonlyArray<number>;
  /** A regular expression the answer's body must match; empty means any body. */
  readonly expectBody: string;
  /** Slower than this counts as a failure. */
  readonly latencyBudgetMs: number;
}

/** A synthetic probe: one HTTP check, or a user journey of several steps run in order. */
export interface ProbeSettings {
  readonly name: string;
  /** `namespace/workload` whose health this probe reports (probe_success, probe_latency). */
  readonly target: string;
  readonly steps: ReadonlyArray<ProbeStepSettings>;
  readonly intervalSeconds: number;
  readonly timeoutMs: number;
}

export type LogLevelSetting = 'debug' | 'info' | 'warn' | 'error';

export interface VigilSettings {
  readonly kubernetes: {
    /** Kubeconfig context; empty means the current context. */
    readonly context: string;
    /** Kubeconfig path; empty means KUBECONFIG, then ~/.kube/config (in a pod: the service account). */
    readonly kubeconfig: string;
    /** Namespaces watched; empty means every namespace the credentials can list. */
    readonly namespaces: ReadonlyArray<string>;
  };
  readonly prometheus: {
    /** Base URL of the Prometheus HTTP API; empty means scrape annotated pods through the API server. */
    readonly url: string;
    readonly scrapeIntervalSeconds: number;
    /** Window of rates and quantiles in seconds; 0 means max(4 × interval, 60 s). */
    readonly rateWindowSeconds: number;
    /** YAML file of signal queries (see config/signals.default.yaml); empty means the defaults. */
    readonly signalsFile: string;
    /** Per-signal PromQL overrides keyed by `signal` or `signal/kind`, applied after the file. */
    readonly signalQueries: Readonly<Record<string, string>>;
    /** Add the calls seen in Istio, Linkerd and trace-derived service-graph metrics to the dependency graph. */
    readonly inferServiceGraph: boolean;
  };
  readonly alertmanager: {
    /** Base URL of the Alertmanager API (v2); empty means alerts from Prometheus' `/api/v1/alerts` when `prometheus.url` is set. */
    readonly url: string;
    /** Silence the alerts attached to an incident while Vigil remediates it (needs `url`). */
    readonly silenceDuringRemediation: boolean;
  };
  readonly slos: {
    /** SLO definition files or folders of them (Sloth `prometheus/v1`, its CRD, OpenSLO v1 `SLO`); read from Prometheus. */
    readonly paths: ReadonlyArray<string>;
  };
  readonly automation: {
    readonly mode: AutomationMode;
    /** Per-namespace overrides of the mode, e.g. `{ staging: auto, prod: suggest }`. */
    readonly namespaceModes: Readonly<Record<string, AutomationMode>>;
  };
  readonly safety: SafetySettings;
  readonly logs: {
    /** `namespace/workload` whose pod logs are tailed for error patterns; `*` means every watched workload. */
    readonly services: ReadonlyArray<string>;
    /** Named error patterns (regular expressions, case-insensitive); empty means the defaults. */
    readonly patterns: ReadonlyArray<{ readonly name: string; readonly pattern: string }>;
  };
  readonly probes: ReadonlyArray<ProbeSettings>;
  readonly model: {
    /** The multi-signal TensorFlow.js model in the live loop. */
    readonly enabled: boolean;
    /** Retrain every service's model on its normal windows this often; 0 means only on command. */
    readonly retrainEveryHours: number;
  };
  /** The sandbox cluster's metric names, to try Vigil against the shapes real clusters export. */
  readonly sandbox: {
    /** The application's RED metrics: Prometheus client names, OpenTelemetry's, or Istio's sidecar metrics. */
    readonly applicationMetrics: 'prometheus' | 'opentelemetry' | 'istio';
    /** false: series carry namespace+pod only (kube-prometheus relabeling), CPU and memory from cAdvisor. */
    readonly deploymentLabel: boolean;
    /** false: the shop has no `vigil.dev/depends-on` annotations; who calls whom shows only in telemetry. */
    readonly declareDependencies: boolean;
  };
  readonly agent: {
    /** Incidents, the audit log and learned state; the agent is its only writer. */
    readonly stateDir: string;
    /** Folder of playbook YAML files added to the built-in ones; empty means `.vigil/playbooks` if present. */
    readonly playbooksDir: string;
    /** Namespace of the Lease that makes sure only one instance acts. */
    readonly leaseNamespace: string;
    readonly logLevel: LogLevelSetting;
    /** Port of /healthz, /readyz and /metrics; 0: none. */
    readonly httpPort: number;
    /** Address they listen on; empty: every address. */
    readonly httpHost: string;
  };
}

export const DEFAULT_SETTINGS: VigilSettings = {
  kubernetes: { context: '', kubeconfig: '', namespaces: [] },
  prometheus: { url: '', scrapeIntervalSeconds: 15, rateWindowSeconds: 0, signalsFile: '', signalQueries: {}, inferServiceGraph: true },
  alertmanager: { url: '', silenceDuringRemediation: true },
  slos: { paths: [] },
  automation: { mode: 'suggest', namespaceModes: {} },
  safety: DEFAULT_SAFETY,
  logs: { services: [], patterns: [] },
  probes: [],
  model: { enabled: true, retrainEveryHours: 6 },
  sandbox: { applicationMetrics: 'prometheus', deploymentLabel: true, declareDependencies: true },
  agent: { stateDir: '', playbooksDir: '', leaseNamespace: 'default', logLevel: 'info', httpPort: 0, httpHost: '' },
};

/** The rate window in ms the settings ask for: the explicit one, else the default for their interval. */
export function rateWindowMs(settings: VigilSettings): number {
  return settings.prometheus.rateWindowSeconds > 0 ? settings.prometheus.rateWindowSeconds * 1000 : defaultRateWindowMs(settings.prometheus.scrapeIntervalSeconds * 1000);
}

/** The window of rates and quantiles when none is set: max(4 × interval, 60 s), as a Prometheus `rate(...[1m])`. */
export function defaultRateWindowMs(intervalMs: number): number {
  return Math.max(4 * intervalMs, 60_000);
}

/** Any part of the settings, nested: what a file, a flag or a test sets. */
export type SettingsPatch = { readonly [K in keyof VigilSettings]?: VigilSettings[K] extends ReadonlyArray<unknown> ? VigilSettings[K] : Partial<VigilSettings[K]> };

/** `base` with the sections of `patch` laid over it (one level deep: a section's fields replace the base's). */
export function withSettings(base: VigilSettings, patch: SettingsPatch): VigilSettings {
  const out: Record<string, unknown> = { ...base };
  for (const [section, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const cur = (base as unknown as Record<string, unknown>)[section];
    out[section] = Array.isArray(value) || typeof value !== 'object' || value === null ? value : { ...(cur as object), ...(value as object) };
  }
  return out as unknown as VigilSettings;
}
