/**
 * What a V8 heap snapshot holds, summarised by node type and by constructor (self sizes), with each big group's
 * most common retainers and the largest single objects: used on the extension host's snapshot of an e2e run
 * (Debug Stats with VIGIL_HEAP_SNAPSHOT_DIR, issue 18).
 *
 *   npx tsx scripts/bench/heapSnapshotSummary.ts FILE.heapsnapshot [--top 25]
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

const file = process.argv[2];
if (!file) {
  console.error('usage: npx tsx scripts/bench/heapSnapshotSummary.ts FILE.heapsnapshot [--top N]');
  process.exit(2);
}
const topIndex = process.argv.indexOf('--top');
const TOP = topIndex > 0 ? Number(process.argv[topIndex + 1]) : 25;

const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
const { meta } = snap.snapshot;
const NF = meta.node_fields.length;
const EF = meta.edge_fields.length;
const nType = meta.node_fields.indexOf('type');
const nName = meta.node_fields.indexOf('name');
const nSize = meta.node_fields.indexOf('self_size');
const nEdges = meta.node_fields.indexOf('edge_count');
const eType = meta.edge_fields.indexOf('type');
const eName = meta.edge_fields.indexOf('name_or_index');
const eTo = meta.edge_fields.indexOf('to_node');
const nodeTypes = meta.node_types[0];
const edgeTypes = meta.edge_types[0];
const { nodes, edges, strings } = snap;
const count = nodes.length / NF;

const typeOf = (i: number): string => nodeTypes[nodes[i * NF + nType]];
const nameOf = (i: number): string => strings[nodes[i * NF + nName]];
const sizeOf = (i: number): number => nodes[i * NF + nSize];
/** Objects group by constructor; strings, code and arrays by their type (their names are contents or internals). */
const groupOf = (i: number): string => {
  const t = typeOf(i);
  if (t === 'object' || t === 'closure' || t === 'native') return `${t} ${nameOf(i)}`;
  if (t === 'hidden' || t === 'code' || t === 'array') return `${t} ${nameOf(i).slice(0, 40)}`;
  return t;
};

// first retainer of each node (the edge of its lowest-numbered parent that is not weak)
const retainer = new Int32Array(count).fill(-1);
const retainerEdge = new Array<string>(count);
for (let i = 0, e = 0; i < count; i += 1) {
  const n = nodes[i * NF + nEdges];
  for (let k = 0; k < n; k += 1, e += EF) {
    const to = edges[e + eTo] / NF;
    const et = edgeTypes[edges[e + eType]];
    if (et === 'weak' || retainer[to] !== -1) continue;
    retainer[to] = i;
    // an element's index would split one array's holdings into thousands of retainers
    retainerEdge[to] = et === 'element' || et === 'hidden' ? '[]' : String(strings[edges[e + eName]]);
  }
}
const retainedBy = (i: number): string => (retainer[i] >= 0 ? `${groupOf(retainer[i])}.${retainerEdge[i]}` : '(root)');

const mb = (b: number): string => `${(b / 1048576).toFixed(2)} MB`;
const byType = new Map<string, number>();
const byGroup = new Map<string, { size: number; n: number; retainers: Map<string, number> }>();
let total = 0;
for (let i = 0; i < count; i += 1) {
  const s = sizeOf(i);
  total += s;
  byType.set(typeOf(i), (byType.get(typeOf(i)) ?? 0) + s);
  const g = groupOf(i);
  const entry = byGroup.get(g) ?? { size: 0, n: 0, retainers: new Map<string, number>() };
  entry.size += s;
  entry.n += 1;
  const r = retainedBy(i);
  entry.retainers.set(r, (entry.retainers.get(r) ?? 0) + s);
  byGroup.set(g, entry);
}

console.log(`${file}: ${count} nodes, ${mb(total)} self size in all`);
console.log('\nby node type:');
for (const [t, s] of [...byType].sort((a, b) => b[1] - a[1])) console.log(`  ${t.padEnd(22)} ${mb(s).padStart(10)}`);
console.log(`\ntop ${TOP} groups (constructor or type), with the retainers holding most of each:`);
for (const [g, e] of [...byGroup].sort((a, b) => b[1].size - a[1].size).slice(0, TOP)) {
  const rs = [...e.retainers].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([r, s]) => `${r} ${mb(s)}`).join('; ');
  console.log(`  ${mb(e.size).padStart(10)} ${String(e.n).padStart(7)}×  ${g.slice(0, 60)}\n                       held by: ${rs}`);
}
console.log(`\nlargest ${TOP} single nodes:`);
const order = Array.from({ length: count }, (_, i) => i).sort((a, b) => sizeOf(b) - sizeOf(a)).slice(0, TOP);
for (const i of order) {
  const name = typeOf(i) === 'string' || typeOf(i) === 'concatenated string' ? JSON.stringify(nameOf(i).slice(0, 60)) : nameOf(i).slice(0, 60);
  console.log(`  ${mb(sizeOf(i)).padStart(10)}  ${typeOf(i)} ${name}  held by ${retainedBy(i)}`);
}
