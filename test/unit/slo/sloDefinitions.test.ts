import assert from 'node:assert/strict';
import { DEFAULT_BURN_WINDOWS, mergeSloFiles, parseBurnWindows, parseSloFile, withWindow } from '../../../src/core/observe/sloDefinitions';

const SLOTH = `version: "prometheus/v1"
service: "checkout"
labels:
  namespace: shop
slos:
  - name: "requests-availability"
    objective: 99.5
    sli:
      events:
        error_query: sum(rate(http_requests_total{job="checkout",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{job="checkout"}[{{.window}}]))
    alerting:
      name: CheckoutAvailability
`;

const CRD = `apiVersion: sloth.slok.dev/v1
kind: PrometheusServiceLevel
metadata:
  name: payments
  namespace: shop
  annotations:
    vigil.dev/burn-windows: "14.4:2m/30s,6:6m/1m"
spec:
  service: payments
  slos:
    - name: availability
      objective: 99.9
      sli:
        events:
          errorQuery: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
          totalQuery: sum(rate(http_requests_total[{{.window}}]))
`;

const OPENSLO = `apiVersion: openslo/v1
kind: SLO
metadata:
  name: frontend-availability
  annotations:
    vigil.dev/target: shop/frontend
spec:
  service: web
  budgetingMethod: Occurrences
  timeWindow:
    - duration: 28d
      isRolling: true
  objectives:
    - displayName: good requests
      target: 0.99
  indicator:
    metadata:
      name: frontend-errors
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            type: Prometheus
            spec:
              query: http_requests_total{namespace="shop",code!~"5.."}
        total:
          metricSource:
            type: Prometheus
            spec:
              query: http_requests_total{namespace="shop"}
`;

describe('SLOs as code: loading definitions', () => {
  it('loads a Sloth prometheus/v1 file with the workbook windows', () => {
    const r = parseSloFile('slo/checkout.yaml', SLOTH);
    assert.deepEqual(r.problems, []);
    assert.equal(r.slos.length, 1);
    const s = r.slos[0];
    assert.equal(s.id, 'checkout/requests-availability');
    assert.equal(s.namespace, 'shop');
    assert.equal(s.workload, 'checkout');
    assert.equal(s.objective, 0.995);
    assert.equal(s.periodMs, 30 * 86_400_000);
    assert.deepEqual(s.windows, DEFAULT_BURN_WINDOWS);
    assert.equal(s.origin, 'slo/checkout.yaml:6');
    assert.equal(withWindow(s.errorQuery, 300_000), 'sum(rate(http_requests_total{job="checkout",code=~"5.."}[300s]))');
  });

  it("loads Sloth's PrometheusServiceLevel CRD with per-SLO windows from an annotation", () => {
    const r = parseSloFile('crd.yaml', CRD);
    assert.deepEqual(r.problems, []);
    const s = r.slos[0];
    assert.equal(s.id, 'payments/availability');
    assert.equal(s.namespace, 'shop');
    assert.equal(s.objective, 0.999);
    assert.deepEqual(s.windows, [
      { longMs: 120_000, shortMs: 30_000, factor: 14.4 },
      { longMs: 360_000, shortMs: 60_000, factor: 6 },
    ]);
  });

  it('loads an OpenSLO v1 SLO with a counter ratioMetric (good and total) and a rolling window', () => {
    const r = parseSloFile('openslo.yaml', OPENSLO);
    assert.deepEqual(r.problems, []);
    const s = r.slos[0];
    assert.equal(s.id, 'web/frontend-availability');
    assert.equal(s.namespace, 'shop');
    assert.equal(s.workload, 'frontend');
    assert.equal(s.objective, 0.99);
    assert.equal(s.periodMs, 28 * 86_400_000);
    assert.equal(s.totalQuery, 'sum(rate(http_requests_total{namespace="shop"}[{{.window}}]))');
    assert.equal(s.errorQuery, '(sum(rate(http_requests_total{namespace="shop"}[{{.window}}]))) - (sum(rate(http_requests_total{namespace="shop",code!~"5.."}[{{.window}}])))');
  });

  it('reports a malformed definition with file, line and field while the others load', () => {
    const badBudget = OPENSLO.replace('budgetingMethod: Occurrences', 'budgetingMethod: Timeslices');
    const badSloth = SLOTH.replace('objective: 99.5', 'objective: 150').replace('slos:\n', 'slos:\n  - name: latency\n    objective: 99\n    sli:\n      events:\n        error_query: sum(rate(slow[{{.window}}]))\n        total_query: sum(rate(all[{{.window}}]))\n');
    const merged = mergeSloFiles([parseSloFile('a.yaml', CRD), parseSloFile('b.yaml', badBudget), parseSloFile('c.yaml', badSloth), parseSloFile('d.yaml', 'kind: Thing\napiVersion: example.com/v1\n'), parseSloFile('e.yaml', 'version: "prometheus/v1"\nservice: x\nslos: [\n')]);
    assert.deepEqual(
      merged.slos.map((s) => s.id),
      ['payments/availability', 'checkout/latency'],
    );
    assert.equal(merged.problems.length, 4, merged.problems.join('\n'));
    assert.match(merged.problems[0], /^b\.yaml:9: spec\.budgetingMethod: "Timeslices" is not supported; only Occurrences/);
    assert.match(merged.problems[1], /^c\.yaml:13: slos\[1\]\.objective: must be a percentage between 0 and 100/);
    assert.match(merged.problems[2], /^d\.yaml:2: apiVersion: "example\.com\/v1" is not supported/);
    assert.match(merged.problems[3], /^e\.yaml:\d+: .*fix the YAML/);
  });

  it('names a query without {{.window}} and an unsupported OpenSLO source', () => {
    const noWindow = parseSloFile('w.yaml', SLOTH.replace('[{{.window}}]))\n        total', '[5m]))\n        total'));
    assert.equal(noWindow.slos.length, 0);
    assert.match(noWindow.problems[0], /^w\.yaml:10: slos\[0\]\.sli\.events\.error_query: has no \{\{\.window\}\}/);
    const datadog = parseSloFile('dd.yaml', OPENSLO.replace('type: Prometheus\n            spec:\n              query: http_requests_total{namespace="shop",code', 'type: Datadog\n            spec:\n              query: http_requests_total{namespace="shop",code'));
    assert.match(datadog.problems[0], /^dd\.yaml:24: spec\.indicator\.spec\.ratioMetric\.good\.metricSource\.type: "Datadog" is not supported/);
  });

  it('parses burn windows and refuses a short window not shorter than the long one', () => {
    assert.deepEqual(parseBurnWindows('14.4:1h/5m'), [{ longMs: 3_600_000, shortMs: 300_000, factor: 14.4 }]);
    assert.match(parseBurnWindows('2:5m/1h') as string, /SHORT < LONG/);
  });
});
