import assert from 'node:assert/strict';
import type { GateName } from '../../../src/core/model/gate';
import type { DiagnosisKind } from '../../../src/core/model/diagnosis';
import { DEFAULT_SAFETY, type SafetySettings } from '../../../src/core/model/automation';
import type { Incident } from '../../../src/core/model/incident';
import type { WorkloadInventory } from '../../../src/core/ports';
import { DEFAULT_SETTINGS } from '../../../src/core/settings';
import { FakeCluster } from '../../fakes/fakeCluster';
import { LeasedCluster, coreRig, inventoryOf } from './coreRig';

/**
 * Every safety setting changes a decision of the composed core (createHealingCore), in auto mode: each row runs a
 * scenario once with the defaults and once with its field set to a non-default value, and says what each run must
 * show. A field the core stopped reading makes both runs alike, and one of the two checks fails.
 */

interface Run {
  /** Effective writes (not dry runs) the cluster saw, as `describeAction` words. */
  readonly writes: ReadonlyArray<string>;
  /** Every call to ClusterPort.execute with its dryRun flag. */
  readonly calls: ReadonlyArray<{ readonly what: string; readonly dryRun: boolean }>;
  /** Per incident (opening order): the gate that held each step back ('approval' for a proposal), in timeline order. */
  readonly heldBy: ReadonlyArray<ReadonlyArray<{ readonly gate: GateName; readonly reason: string }>>;
  readonly incidents: ReadonlyArray<Incident>;
  readonly leaseNames: ReadonlyArray<string>;
  readonly auditKinds: ReadonlyArray<string>;
}

interface Scenario {
  readonly name: string;
  /** Diagnoses fed to the core, at minutes after the start. */
  readonly diagnoses: ReadonlyArray<{ readonly atMin: number; readonly kind: DiagnosisKind; readonly service: string }>;
  readonly inventory?: WorkloadInventory;
  readonly cluster?: () => LeasedCluster;
  /** How long the virtual clock runs in all. */
  readonly runMin: number;
}

const one = (kind: DiagnosisKind, runMin = 4): Scenario => ({ name: `${kind} on shop/checkout`, diagnoses: [{ atMin: 0, kind, service: 'checkout' }], runMin });
const MEMORY_LEAK = one('memory-leak');
const CRASH_LOOP = one('crash-loop');
/** Two incidents on the same deployment, five minutes apart (past the default cooldown of 120 s). */
const TWICE_SAME_TARGET: Scenario = {
  name: 'memory leak, then 5 min later a crash loop, on shop/checkout',
  diagnoses: [
    { atMin: 0, kind: 'memory-leak', service: 'checkout' },
    { atMin: 5, kind: 'crash-loop', service: 'checkout' },
  ],
  runMin: 8,
};
const TWO_TARGETS: Scenario = {
  name: 'memory leak on shop/checkout, then 5 min later a crash loop on shop/cart',
  diagnoses: [
    { atMin: 0, kind: 'memory-leak', service: 'checkout' },
    { atMin: 5, kind: 'crash-loop', service: 'cart' },
  ],
  runMin: 8,
};
/** The first write of a crash loop's first step fails (403, not retried), so the next step meets a breaker count of 1. */
const FIRST_WRITE_FAILS: Scenario = {
  ...CRASH_LOOP,
  name: 'crash loop on shop/checkout whose first write is forbidden',
  cluster: () => {
    const c = new LeasedCluster();
    c.failures = [{ status: 403 }];
    return c;
  },
};
const DURING_ROLLOUT: Scenario = { ...MEMORY_LEAK, name: 'memory leak on shop/checkout while its rollout progresses', inventory: inventoryOf([{ name: 'checkout', rolloutInProgress: true }, { name: 'cart' }]) };
const LEASE_OF_ANOTHER: Scenario = {
  ...MEMORY_LEAK,
  name: 'memory leak on shop/checkout; the Lease "vigil-copilot" is held by agent-b',
  cluster: () => {
    const c = new LeasedCluster();
    c.holders.set('vigil-copilot', 'agent-b');
    return c;
  },
};

async function run(scenario: Scenario, safety: Partial<SafetySettings>): Promise<Run> {
  const cluster = scenario.cluster?.() ?? new LeasedCluster();
  const calls: Array<{ what: string; dryRun: boolean }> = [];
  const execute = cluster.execute.bind(cluster);
  cluster.execute = async (action, options) => {
    calls.push({ what: action.kind, dryRun: options.dryRun });
    return execute(action, options);
  };
  const r = await coreRig({ automation: { mode: 'auto' }, safety: { ...DEFAULT_SAFETY, ...safety } }, { cluster: cluster as FakeCluster, inventory: scenario.inventory });
  try {
    const pending = [...scenario.diagnoses];
    let n = 0;
    for (let min = 0; min <= scenario.runMin; min += 1 / 60) {
      while (pending.length && pending[0].atMin <= min + 1e-9) {
        const d = pending.shift()!;
        const target = { kind: 'service' as const, namespace: 'shop', name: d.service };
        await r.core.remediator.onDiagnosis({
          incidentKey: `k${++n}:${d.service}`,
          diagnosis: { kind: d.kind, target, confidence: 0.9, t: r.clock.now(), summary: `${d.kind} on shop/${d.service}`, evidence: [], details: { previousRevision: 4 } },
        });
      }
      await r.clock.advance(1000);
    }
    await r.core.remediator.idle();
    const incidents = [...r.core.remediator.list()].sort((a, b) => a.openedAt - b.openedAt);
    return {
      writes: [...cluster.applied],
      calls,
      heldBy: incidents.map((i) =>
        i.timeline.flatMap((e) => {
          if (e.kind === 'refused' && e.gates.refusedBy) return [{ gate: e.gates.refusedBy.gate, reason: e.gates.refusedBy.reason }];
          if (e.kind === 'proposed') return [{ gate: 'approval' as const, reason: e.gates.results.find((g) => g.gate === 'approval')?.reason ?? '' }];
          return [];
        }),
      ),
      incidents,
      leaseNames: cluster instanceof LeasedCluster ? [...cluster.leaseNames] : [],
      auditKinds: (await r.store.readAudit()).map((e) => e.kind),
    };
  } finally {
    await r.dispose();
  }
}

const show = (x: Run) => `writes ${JSON.stringify(x.writes)}; held by ${JSON.stringify(x.heldBy.map((h) => h.map((g) => g.gate)))}`;

function wroteEach(x: Run, expected: string[]): void {
  assert.deepEqual(x.writes, expected, show(x));
}
function heldBy(x: Run, incident: number, gate: GateName, reason: RegExp): void {
  const held = x.heldBy[incident] ?? [];
  assert.ok(held.length > 0, `incident ${incident + 1} was held by no gate: ${show(x)}`);
  assert.equal(held[0].gate, gate, show(x));
  assert.match(held[0].reason, reason);
}

const RESTART = 'rollout restart deployment shop/checkout';
const DELETE_CHECKOUT_POD = 'delete pod shop/checkout-7d9f-0';
const DELETE_CART_POD = 'delete pod shop/cart-7d9f-0';

interface Row<K extends keyof SafetySettings> {
  readonly value: SafetySettings[K];
  readonly scenario: Scenario;
  /** What the run with the default settings shows. */
  readonly withDefault: (x: Run) => void;
  /** What the run with `value` shows instead. */
  readonly withValue: (x: Run) => void;
}

const TABLE: { readonly [K in keyof SafetySettings]: Row<K> } = {
  dryRun: {
    value: true,
    scenario: MEMORY_LEAK,
    withDefault: (x) => {
      wroteEach(x, [RESTART]);
      assert.ok(x.calls.some((c) => !c.dryRun));
    },
    withValue: (x) => {
      wroteEach(x, []);
      assert.ok(x.calls.length > 0 && x.calls.every((c) => c.dryRun), JSON.stringify(x.calls));
      const acted = x.incidents[0].timeline.find((e) => e.kind === 'acted');
      assert.ok(acted && acted.kind === 'acted' && acted.result.dryRun, 'the step is recorded as a dry run');
      assert.ok(!x.auditKinds.includes('action'), `no action in the audit log: ${x.auditKinds.join(', ')}`);
    },
  },
  approvalRequiredForRisk: {
    value: 'low',
    scenario: MEMORY_LEAK,
    withDefault: (x) => wroteEach(x, [RESTART]),
    withValue: (x) => {
      wroteEach(x, []);
      heldBy(x, 0, 'approval', /low-risk action needs approval \(vigil\.safety\.approvalRequiredForRisk is "low"\)/);
      assert.equal(x.incidents[0].state, 'awaiting-approval');
    },
  },
  allowedNamespaces: {
    value: ['payments'],
    scenario: MEMORY_LEAK,
    withDefault: (x) => wroteEach(x, [RESTART]),
    withValue: (x) => {
      wroteEach(x, []);
      heldBy(x, 0, 'namespace-policy', /namespace "shop" is not in vigil\.safety\.allowedNamespaces \(payments\)/);
    },
  },
  deniedNamespaces: {
    value: ['kube-system', 'shop'],
    scenario: MEMORY_LEAK,
    withDefault: (x) => wroteEach(x, [RESTART]),
    withValue: (x) => {
      wroteEach(x, []);
      heldBy(x, 0, 'namespace-policy', /namespace "shop" is in vigil\.safety\.deniedNamespaces/);
      assert.equal(x.incidents[0].state, 'escalated', 'a denied namespace is no transient hold: a human is told');
    },
  },
  maintenanceWindows: {
    value: ['Mon 11:30-12:30'], // the scenarios start on Monday 12:00 UTC
    scenario: MEMORY_LEAK,
    withDefault: (x) => wroteEach(x, [RESTART]),
    withValue: (x) => {
      wroteEach(x, []);
      heldBy(x, 0, 'maintenance-window', /inside maintenance window "Mon 11:30-12:30"/);
      assert.equal(x.incidents[0].state, 'escalated', 'during a maintenance window a human is told at once, nothing is written');
    },
  },
  maxActionsPerTargetPerHour: {
    value: 1,
    scenario: TWICE_SAME_TARGET,
    withDefault: (x) => wroteEach(x, [RESTART, DELETE_CHECKOUT_POD]),
    withValue: (x) => {
      wroteEach(x, [RESTART]);
      heldBy(x, 1, 'rate-limit-target', /1 actions on shop\/checkout in the last hour \(limit vigil\.safety\.maxActionsPerTargetPerHour = 1\)/);
    },
  },
  maxActionsPerHour: {
    value: 1,
    scenario: TWO_TARGETS,
    withDefault: (x) => wroteEach(x, [RESTART, DELETE_CART_POD]),
    withValue: (x) => {
      wroteEach(x, [RESTART]);
      heldBy(x, 1, 'rate-limit-global', /1 actions across the cluster in the last hour \(limit vigil\.safety\.maxActionsPerHour = 1\)/);
    },
  },
  cooldownSeconds: {
    value: 3600,
    scenario: TWICE_SAME_TARGET,
    withDefault: (x) => wroteEach(x, [RESTART, DELETE_CHECKOUT_POD]),
    withValue: (x) => {
      wroteEach(x, [RESTART]);
      heldBy(x, 1, 'cooldown', /cooldown is 3600 s/);
    },
  },
  maxBlastRadiusPercent: {
    value: 25,
    scenario: CRASH_LOOP,
    withDefault: (x) => wroteEach(x, [DELETE_CHECKOUT_POD]),
    withValue: (x) => {
      wroteEach(x, []);
      heldBy(x, 0, 'blast-radius', /1 of 3 pods unavailable \(33% > 25%, vigil\.safety\.maxBlastRadiusPercent\)/);
    },
  },
  circuitBreakerFailures: {
    value: 1,
    scenario: FIRST_WRITE_FAILS,
    withDefault: (x) => {
      // the failed pod delete counts one failure; below the default breaker the crash loop's next step runs
      assert.ok(x.writes.includes(RESTART), show(x));
    },
    withValue: (x) => {
      wroteEach(x, []);
      heldBy(x, 0, 'circuit-breaker', /automation stopped after 1 failed remediations in a row \(vigil\.safety\.circuitBreakerFailures = 1\)/);
    },
  },
  suppressDuringRollout: {
    value: false,
    scenario: DURING_ROLLOUT,
    withDefault: (x) => {
      wroteEach(x, []);
      heldBy(x, 0, 'rollout-in-progress', /a rollout of deployment shop\/checkout is still progressing/);
    },
    withValue: (x) => wroteEach(x, [RESTART]),
  },
  leaseName: {
    value: 'vigil-shop-team',
    scenario: LEASE_OF_ANOTHER,
    withDefault: (x) => {
      assert.deepEqual([...new Set(x.leaseNames)], ['vigil-copilot']);
      wroteEach(x, []);
      heldBy(x, 0, 'lease', /another Vigil instance \(agent-b\) holds the Lease "vigil-copilot"/);
    },
    withValue: (x) => {
      assert.deepEqual([...new Set(x.leaseNames)], ['vigil-shop-team']);
      wroteEach(x, [RESTART]);
    },
  },
};

describe('safety settings: each of them changes a decision of createHealingCore', () => {
  it('the table has a row for every safety setting, and each row sets a value other than the default', () => {
    assert.deepEqual(Object.keys(TABLE).sort(), Object.keys(DEFAULT_SETTINGS.safety).sort());
    for (const [field, row] of Object.entries(TABLE)) {
      assert.notDeepEqual(row.value, (DEFAULT_SETTINGS.safety as unknown as Record<string, unknown>)[field], `${field}: the row's value is the default`);
    }
  });

  const baselines = new Map<Scenario, Promise<Run>>();
  for (const [field, row] of Object.entries(TABLE) as Array<[keyof SafetySettings, Row<keyof SafetySettings>]>) {
    it(`${field} = ${JSON.stringify(row.value)} (${row.scenario.name})`, async () => {
      if (!baselines.has(row.scenario)) baselines.set(row.scenario, run(row.scenario, {}));
      const base = await baselines.get(row.scenario)!;
      row.withDefault(base);
      const changed = await run(row.scenario, { [field]: row.value });
      row.withValue(changed);
    });
  }
});
