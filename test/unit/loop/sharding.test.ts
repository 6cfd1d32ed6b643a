import assert from 'node:assert/strict';
import type { DiagnosisKind } from '../../../src/core/model/diagnosis';
import { shardLeaseName } from '../../../src/core/model/automation';
import type { LeaseState, WorkloadInventory } from '../../../src/core/ports';
import { FakeCluster } from '../../fakes/fakeCluster';
import { coreRig, inventoryOf } from './coreRig';

/** One agent's view of a cluster whose Leases (by name) are shared with the other agents; its own writes are its own. */
class SharedLeases extends FakeCluster {
  readonly asked: string[] = [];
  constructor(private readonly holders: Map<string, string>) {
    super();
  }
  override async acquireLease(name: string, _ns: string, identity: string): Promise<LeaseState> {
    this.asked.push(name);
    const holder = this.holders.get(name) ?? identity;
    this.holders.set(name, holder);
    return { holder, held: holder === identity };
  }
}

/** checkout in `shop` and payments-api in `payments`, three ready pods each. */
function twoNamespaces(): WorkloadInventory {
  const shop = inventoryOf([{ name: 'checkout' }]);
  const payments = inventoryOf([{ name: 'payments-api' }]).services.map((s) => ({ ...s, target: { ...s.target, namespace: 'payments' } }));
  return { services: [...shop.services, ...payments], nodes: shop.nodes };
}

/** An agent in auto mode watching `namespaces`, given a crash loop on shop/checkout and on payments/payments-api. */
async function agent(identity: string, namespaces: string[], holders: Map<string, string>) {
  const cluster = new SharedLeases(holders);
  const r = await coreRig({ automation: { mode: 'auto' }, kubernetes: { namespaces } }, { cluster, inventory: twoNamespaces(), identity });
  return { r, cluster };
}

async function crashLoops(agents: ReadonlyArray<Awaited<ReturnType<typeof agent>>>): Promise<void> {
  const kind: DiagnosisKind = 'crash-loop';
  for (const [n, { r }] of agents.entries()) {
    for (const [namespace, name] of [['shop', 'checkout'], ['payments', 'payments-api']]) {
      const target = { kind: 'service' as const, namespace, name };
      await r.core.remediator.onDiagnosis({ incidentKey: `k${n}:${name}`, diagnosis: { kind, target, confidence: 0.9, t: r.clock.now(), summary: `crash loop on ${namespace}/${name}`, evidence: [], details: { previousRevision: 4 } } });
    }
  }
  // two minutes of the loop, a second at a time, for each agent's steps and verifications
  for (let s = 0; s < 120; s++) for (const { r } of agents) await r.clock.advance(1000);
  for (const { r } of agents) await r.core.remediator.idle();
}

/** The first gate that held each incident of an agent, by namespace. */
function refusals(r: Awaited<ReturnType<typeof agent>>['r']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const i of r.core.remediator.list()) {
    const e = i.timeline.find((x) => x.kind === 'refused');
    if (e?.kind === 'refused' && e.gates.refusedBy) out[i.target.namespace ?? ''] = `${e.gates.refusedBy.gate}: ${e.gates.refusedBy.reason}`;
  }
  return out;
}

describe('sharding by namespace: one Lease per shard', () => {
  it('names a shard Lease from its namespace set (order and repeats aside), keeps the plain name for the whole cluster, and fits 63 characters', () => {
    assert.equal(shardLeaseName('vigil-copilot', []), 'vigil-copilot');
    const a = shardLeaseName('vigil-copilot', ['shop', 'payments']);
    assert.match(a, /^vigil-copilot-shard-[0-9a-f]{8}$/);
    assert.equal(shardLeaseName('vigil-copilot', ['payments', 'shop', 'shop']), a);
    assert.notEqual(shardLeaseName('vigil-copilot', ['shop']), a);
    assert.notEqual(shardLeaseName('vigil-copilot', ['shop']), shardLeaseName('vigil-copilot', ['payments']));
    const long = shardLeaseName('v'.repeat(63), ['shop']);
    assert.ok(long.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(long), long);
  });

  it('two agents on different shards each lead their own Lease and act only on their namespaces', async () => {
    const holders = new Map<string, string>();
    const shop = await agent('agent-shop', ['shop'], holders);
    const payments = await agent('agent-payments', ['payments'], holders);
    try {
      await crashLoops([shop, payments]);
      const shopLease = shardLeaseName('vigil-copilot', ['shop']);
      const paymentsLease = shardLeaseName('vigil-copilot', ['payments']);
      assert.deepEqual([...new Set(shop.cluster.asked)], [shopLease]);
      assert.deepEqual([...new Set(payments.cluster.asked)], [paymentsLease]);
      assert.deepEqual(Object.fromEntries(holders), { [shopLease]: 'agent-shop', [paymentsLease]: 'agent-payments' });
      assert.equal(shop.r.core.lease?.state?.held, true);
      assert.equal(payments.r.core.lease?.state?.held, true);
      // each restarted its own namespace's service and nothing else
      assert.ok(shop.cluster.applied.length > 0, 'the shop shard acted on shop/checkout');
      assert.ok(payments.cluster.applied.length > 0, 'the payments shard acted on payments/payments-api');
      for (const w of shop.cluster.applied) assert.match(w, /shop\/checkout/);
      for (const w of payments.cluster.applied) assert.match(w, /payments\/payments-api/);
      assert.match(refusals(shop.r).payments, /^namespace-policy: namespace "payments" is outside this agent's shard, vigil\.kubernetes\.namespaces \(shop\)/);
      assert.match(refusals(payments.r).shop, /^namespace-policy: namespace "shop" is outside this agent's shard, vigil\.kubernetes\.namespaces \(payments\)/);
    } finally {
      await shop.r.dispose();
      await payments.r.dispose();
    }
  });

  it('two agents on the same shard share its Lease: one leads and acts, the other only observes', async () => {
    const holders = new Map<string, string>();
    const first = await agent('agent-a', ['shop', 'payments'], holders);
    const second = await agent('agent-b', ['payments', 'shop'], holders);
    try {
      await crashLoops([first, second]);
      const lease = shardLeaseName('vigil-copilot', ['shop', 'payments']);
      assert.deepEqual([...new Set([...first.cluster.asked, ...second.cluster.asked])], [lease]);
      assert.equal(holders.get(lease), 'agent-a');
      assert.equal(first.r.core.lease?.state?.held, true);
      assert.equal(second.r.core.lease?.state?.held, false);
      assert.deepEqual([...first.cluster.applied].sort().map((w) => /(shop\/checkout|payments\/payments-api)/.exec(w)?.[1]), ['payments/payments-api', 'shop/checkout']);
      assert.deepEqual(second.cluster.applied, []);
      assert.deepEqual(Object.values(refusals(second.r)).map((r) => r.split(':')[0]), ['lease', 'lease']);
      assert.match(refusals(second.r).shop, new RegExp(`holds the Lease "${lease}"`));
    } finally {
      await first.r.dispose();
      await second.r.dispose();
    }
  });
});
