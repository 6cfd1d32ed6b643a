/**
 * `npm run bench:heal [-- --seeds 3 --faults core|all]`: the real loop against the sandbox over real HTTP,
 * in auto mode at a 5 s scrape interval; per fault and seed: diagnosis, time to detect, time to recover,
 * actions, outcome; then medians per fault. Faults on different services run at the same time in one
 * sandbox; node failure runs alone.
 */
import { DIAGNOSIS_TITLES } from '../../src/core/model/diagnosis';
import { runFaultDrill, secondsText, textTable, type DrillFault, type DrillRow } from '../../src/cli/faultDrill';

const GROUPS: Record<'core' | 'more' | 'node', DrillFault[]> = {
  core: [
    { fault: 'crash-loop', target: 'shop/checkout', expected: 'crash-loop' },
    { fault: 'bad-release', target: 'shop/frontend', expected: 'bad-release' },
    { fault: 'memory-leak', target: 'shop/cart', expected: 'memory-leak' },
  ],
  more: [
    { fault: 'bad-feature-flag', target: 'shop/checkout', expected: 'bad-feature-flag' },
    { fault: 'traffic-surge', target: 'shop/cart', expected: 'traffic-surge' },
    { fault: 'dependency-outage', target: 'payments/payments-api', expected: 'dependency-outage' },
  ],
  node: [{ fault: 'node-failure', target: 'node-2', expected: 'node-failure' }],
};

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

function median(xs: number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main(): Promise<void> {
  const seeds = Number(arg('seeds', '3'));
  const which = arg('faults', 'all');
  const groups = which === 'core' ? [GROUPS.core] : [GROUPS.core, GROUPS.more, GROUPS.node];
  const rows: Array<DrillRow & { seed: number }> = [];
  const started = Date.now();
  for (let seed = 1; seed <= seeds; seed++) {
    for (const faults of groups) {
      process.stderr.write(`seed ${seed}: ${faults.map((f) => f.fault).join(', ')} ...\n`);
      const r = await runFaultDrill({ seed, faults, intervalMs: 5000, warmupMs: 40_000, timeoutMs: 180_000, sequential: false, quiet: true });
      rows.push(...r.rows.map((x) => ({ ...x, seed })));
    }
  }
  console.log(`\nbench:heal — auto mode, 5 s scrape interval, ${seeds} seed(s), ${Math.round((Date.now() - started) / 1000)} s in all\n`);
  console.log(
    textTable(
      ['fault', 'seed', 'diagnosis', 'right?', 'detect', 'recover', 'outcome', 'actions'],
      rows.map((r) => [r.fault.fault, String(r.seed), r.diagnosis ? DIAGNOSIS_TITLES[r.diagnosis] : '—', r.diagnosis === r.fault.expected ? 'yes' : 'no', secondsText(r.detectedAt !== undefined ? r.detectedAt - r.injectedAt : undefined), secondsText(r.recoveredAt !== undefined ? r.recoveredAt - r.injectedAt : undefined), r.outcome, r.actions.join('; ')]),
    ),
  );
  console.log('\nPer fault (medians over seeds; target: median time to recover < 60 s for crash-loop, bad-release, memory-leak)\n');
  const faults = [...new Set(rows.map((r) => r.fault.fault))];
  console.log(
    textTable(
      ['fault', 'right diagnosis', 'recovered', 'median detect', 'median recover'],
      faults.map((f) => {
        const rs = rows.filter((r) => r.fault.fault === f);
        const detect = median(rs.filter((r) => r.detectedAt !== undefined).map((r) => r.detectedAt! - r.injectedAt));
        const recover = median(rs.filter((r) => r.recoveredAt !== undefined).map((r) => r.recoveredAt! - r.injectedAt));
        return [f, `${rs.filter((r) => r.diagnosis === r.fault.expected).length}/${rs.length}`, `${rs.filter((r) => r.outcome === 'recovered').length}/${rs.length}`, secondsText(detect), secondsText(recover)];
      }),
    ),
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
