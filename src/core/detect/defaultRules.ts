import { parseRulesYaml, type Rule } from './rules';

/**
 * Rules every service gets, as a floor under the statistical detectors: a few plain SLO-style
 * thresholds an SRE would alert on anyway. Users override them with `.vigil/rules.yaml`.
 */
export const DEFAULT_RULES_YAML = `
rules:
  - name: HighErrorRatio
    expr: error_ratio > 0.05 for 15s
    clear: 0.02
    severity: critical
  - name: HighLatencyP99
    expr: latency_p99 > 1.5 for 30s
    clear: 1.0
    severity: warning
  - name: NoAvailableReplicas
    expr: available_replicas < 1 for 15s
    clear: 1
    severity: critical
`;

export const DEFAULT_RULES: ReadonlyArray<Rule> = parseRulesYaml(DEFAULT_RULES_YAML, 'built-in rules');
