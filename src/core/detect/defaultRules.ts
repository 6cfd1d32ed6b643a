import { parseRulesYaml, type Rule } from './rules';

/**
 * Rules every service gets, as a floor under the statistical detectors: a few plain SLO-style
 * thresholds an SRE would alert on anyway. Users override them with `.vigil/rules.yaml`.
 *
 * The `*Now` rules have no hold time: they are early evidence, not pages. The correlator opens an
 * incident on them only with a supporting fact (a release, a flag change) or when the breach is still
 * there a scrape later, so one bad scrape alone never opens anything. They sit above what healthy
 * services reach at their daily peak (p95 rather than the jumpier p99 of a 30 s window; 8% 5xx rather
 * than 5%); the held rules mark a problem as lasting, as before.
 */
export const DEFAULT_RULES_YAML = `
rules:
  - name: HighErrorRatio
    expr: error_ratio > 0.05 for 15s
    clear: 0.02
    severity: critical
  - name: HighErrorRatioNow
    expr: error_ratio > 0.08
    clear: 0.04
    severity: warning
  - name: HighLatencyP99
    expr: latency_p99 > 1.5 for 30s
    clear: 1.0
    severity: warning
  - name: HighLatencyP95Now
    expr: latency_p95 > 1
    clear: 0.5
    severity: warning
  - name: NoAvailableReplicas
    expr: available_replicas < 1 for 15s
    clear: 1
    severity: critical
`;

export const DEFAULT_RULES: ReadonlyArray<Rule> = parseRulesYaml(DEFAULT_RULES_YAML, 'built-in rules');
