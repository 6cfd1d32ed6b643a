import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import { DEFAULT_SIGNAL_QUERIES, parseSignalQueries, renderQuery, SIGNAL_DEFINITIONS, targetFromLabels } from '../../../src/core/observe/signalCatalogue';
import { loadSignalQueriesFile } from '../../../src/infra/prometheus/signalConfig';

const ROOT = path.resolve(__dirname, '../../..');

describe('signal catalogue', () => {
  it('defines each signal name once with a unit and target kinds', () => {
    const names = SIGNAL_DEFINITIONS.map((d) => d.name);
    assert.equal(new Set(names).size, names.length);
    assert.equal(names.length, 12);
    for (const d of SIGNAL_DEFINITIONS) assert.ok(d.targetKinds.length > 0, d.name);
  });

  it('config/signals.default.yaml holds exactly the built-in default queries', () => {
    const doc = parse(readFileSync(path.join(ROOT, 'config/signals.default.yaml'), 'utf8')) as { signals: unknown[] };
    assert.deepEqual(doc.signals, DEFAULT_SIGNAL_QUERIES.map((q) => ({ signal: q.signal, kind: q.kind, query: q.query })));
  });

  it('renders window and namespace selector, and an empty selector cleanly', () => {
    const q = DEFAULT_SIGNAL_QUERIES.find((x) => x.signal === 'error_ratio')!.query;
    const all = renderQuery(q, '60s', []);
    assert.ok(all.includes('http_requests_total{code=~"5.."}[60s]'), all);
    assert.ok(all.includes('http_requests_total{}[60s]'), all);
    const shop = renderQuery(q, '2m', ['shop', 'pay']);
    assert.ok(shop.includes('http_requests_total{code=~"5..",namespace=~"shop|pay"}[2m]'), shop);
    assert.throws(() => renderQuery(q, '1m', ['Bad NS']), /Namespace "Bad NS" is not a valid/);
  });

  it('merges overrides over the defaults and names bad entries', () => {
    const merged = parseSignalQueries({ signals: [{ signal: 'memory', query: 'sum by (namespace, deployment) (container_memory_working_set_bytes)' }] }, 'my.yaml');
    assert.equal(merged.length, DEFAULT_SIGNAL_QUERIES.length);
    assert.equal(merged.find((q) => q.signal === 'memory' && q.kind === 'service')!.query, 'sum by (namespace, deployment) (container_memory_working_set_bytes)');
    assert.throws(() => parseSignalQueries({ signals: [{ signal: 'mem', query: 'x' }] }, 'my.yaml'), /my\.yaml: signals\[0\]\.signal: "mem" is not a signal/);
    assert.throws(() => parseSignalQueries({ signals: [{ signal: 'cpu', kind: 'cluster', query: 'x' }] }, 'my.yaml'), /signals\[0\]\.kind/);
    assert.throws(() => parseSignalQueries({ signals: [{ signal: 'cpu', query: 'rate(x[{{win}}])' }] }, 'my.yaml'), /unknown placeholder \{\{win\}\}/);
    assert.throws(() => parseSignalQueries({ signals: 'cpu' }, 'my.yaml'), /"signals" must be a list/);
  });

  it('loads a YAML file and names file and line of a syntax error', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-signals-'));
    try {
      const good = path.join(dir, 'good.yaml');
      writeFileSync(good, 'signals:\n  - signal: cpu\n    kind: node\n    query: sum by (node) (rate(node_cpu_seconds_total{mode!="idle"}[{{window}}]))\n');
      const qs = await loadSignalQueriesFile(good);
      assert.match(qs.find((q) => q.signal === 'cpu' && q.kind === 'node')!.query, /node_cpu_seconds_total/);
      const bad = path.join(dir, 'bad.yaml');
      writeFileSync(bad, 'signals:\n  - signal: cpu\n   query: [\n');
      await assert.rejects(loadSignalQueriesFile(bad), /bad\.yaml:\d+: not valid YAML/);
      await assert.rejects(loadSignalQueriesFile(path.join(dir, 'missing.yaml')), /Cannot read signals file .*missing\.yaml: ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('maps result labels to service, pod and node targets', () => {
    assert.deepEqual(targetFromLabels('service', { namespace: 'shop', deployment: 'cart' }), { kind: 'service', namespace: 'shop', name: 'cart' });
    assert.deepEqual(targetFromLabels('pod', { namespace: 'shop', pod: 'cart-1' }), { kind: 'pod', namespace: 'shop', name: 'cart-1' });
    assert.deepEqual(targetFromLabels('node', { node: 'n1' }), { kind: 'node', name: 'n1' });
    assert.equal(targetFromLabels('service', { namespace: 'shop' }), undefined);
  });
});
