import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../../../src/cli/report';
import type { SloPoint } from '../../../src/core/detect/sloBurn';
import { reliabilityReport } from '../../../src/core/learn/reliabilityReport';
import { reportHtml, reportMarkdown } from '../../../src/core/learn/reportRendering';
import type { Incident } from '../../../src/core/model/incident';
import { DEFAULT_BURN_WINDOWS, type SloDefinition } from '../../../src/core/observe/sloDefinitions';
import { FileStore } from '../../../src/infra/store/fileStore';
import { badRelease } from './storyFixtures';

const MIN = 60_000;
const DAY = 86_400_000;

function slo(id: string, objective: number): SloDefinition {
  const [service, name] = id.split('/');
  return { id, name, service, namespace: 'shop', workload: service, objective, errorQuery: 'e', totalQuery: 't', periodMs: 30 * DAY, windows: DEFAULT_BURN_WINDOWS, origin: `slos.yaml:${objective}` };
}

/** A day of minute steps at 10 req/s: 0.01 bad req/s, and 1 bad req/s during the hour that starts `badHourAt` steps in. */
function day(until: number, badHourAt: number, steps = 1440): SloPoint[] {
  return Array.from({ length: steps }, (_, k) => ({ t: until - DAY + (k + 1) * MIN, total: 10, bad: k >= badHourAt && k < badHourAt + 60 ? 1 : 0.01 }));
}

async function cli(args: string[]): Promise<string> {
  const write = process.stdout.write.bind(process.stdout);
  let out = '';
  process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write;
  try {
    assert.equal(await run(args, {}), 0);
    return out;
  } finally {
    process.stdout.write = write;
  }
}

describe('reliability report: SLOs', () => {
  const until = Date.UTC(2026, 11, 6, 12);
  const since = until - DAY;
  const burned = badRelease('inc-burn', since + 6 * 3_600_000);
  const withBurn: Incident = {
    ...burned.incident,
    diagnosis: {
      ...burned.incident.diagnosis!,
      evidence: [
        ...burned.incident.diagnosis!.evidence,
        { kind: 'slo-burn', t: burned.times.detection, slo: 'checkout/availability', burn: 15.2, factor: 14.4, text: 'SLO checkout/availability burning' },
        { kind: 'slo-burn', t: burned.times.detection + 60_000, slo: 'checkout/availability', burn: 19.6, factor: 14.4, text: 'SLO checkout/availability burning' },
      ],
    },
  };
  const other = badRelease('inc-quiet', since + 9 * 3_600_000).incident;

  it('gives each SLO its objective, the budget left over the period, the burn rate and the incidents that burned it', () => {
    const r = reliabilityReport({
      incidents: [withBurn, other],
      since,
      until,
      slos: [
        { slo: slo('checkout/availability', 0.995), points: day(until, 360), stepMs: MIN },
        { slo: slo('cart/availability', 0.99), points: day(until, 360), stepMs: MIN },
        // half the day's steps missing: below the 90 % the burn windows ask for
        { slo: slo('payments/availability', 0.999), points: day(until, 0).filter((_, k) => k % 2 === 0), stepMs: MIN },
        { slo: slo('frontend/availability', 0.999), points: [], stepMs: MIN, unread: 'unknown: Prometheus at http://p:9090 is unreachable' },
      ],
    });
    // by hand: bad = 1380 × 0.01 + 60 × 1 = 73.8 of 14,400 events → 0.5125 %; against a 0.5 % budget 1.025×
    const [checkout, cart, payments, frontend] = r.slos;
    assert.ok(Math.abs(checkout.burnRate! - 73.8 / 14_400 / 0.005) < 1e-9, `burn ${checkout.burnRate}`);
    assert.ok(Math.abs(checkout.budgetLeft! - (1 - 1.025)) < 1e-9);
    assert.ok(Math.abs(cart.burnRate! - 0.5125) < 1e-9);
    assert.ok(Math.abs(cart.budgetLeft! - 0.4875) < 1e-9);
    assert.equal(payments.burnRate, undefined);
    assert.equal(payments.coverage, 0.5);
    assert.equal(frontend.unread, 'unknown: Prometheus at http://p:9090 is unreachable');
    // only the incident whose evidence burned that SLO, with the fastest burn it saw
    assert.deepEqual(checkout.incidents, [{ id: 'inc-burn', target: 'shop/frontend', openedAt: withBurn.openedAt, burn: 19.6, factor: 14.4 }]);
    assert.deepEqual(cart.incidents, []);

    const md = reportMarkdown(r);
    assert.match(md, /## SLOs\n\n\| SLO \| objective \| error budget left over this period \| burn rate over this period \| incidents that burned it \|/);
    assert.match(md, /\| checkout\/availability \| 99\.5% over 30 d \| overspent by 2\.5% \| 1\.0× \| inc-burn \(shop\/frontend, up to 20× at the 14\.4× alert\) \|/);
    assert.match(md, /\| cart\/availability \| 99% over 30 d \| 49% left \| 0\.51× \| none \|/);
    assert.match(md, /\| payments\/availability \| 99\.9% over 30 d \| not enough data \(50% of the period's steps\) \| — \| none \|/);
    assert.match(md, /\| frontend\/availability \| 99\.9% over 30 d \| unknown: Prometheus at http:\/\/p:9090 is unreachable \| — \| none \|/);
    assert.doesNotMatch(md, /\d[eE][+-]?\d/);
    const html = reportHtml(r, { nonce: 'n' });
    assert.match(html, /<h2>SLOs<\/h2>\n<table aria-label="SLOs">.*<td>checkout\/availability<\/td><td>99\.5% over 30 d<\/td><td>overspent by 2\.5%<\/td>/);
  });

  it('has no SLO section when no SLO is defined', () => {
    const r = reliabilityReport({ incidents: [withBurn], since, until });
    assert.deepEqual(r.slos, []);
    assert.doesNotMatch(reportMarkdown(r), /## SLOs/);
  });

  describe('vigil report --slos', () => {
    let dir: string;
    before(async () => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-report-slos-'));
      await new FileStore(path.join(dir, 'state')).saveIncident({ ...withBurn, openedAt: Date.now() - 3_600_000 });
      writeFileSync(
        path.join(dir, 'checkout.yaml'),
        'version: "prometheus/v1"\nservice: "checkout"\nlabels:\n  namespace: shop\nslos:\n  - name: "availability"\n    objective: 99.5\n    sli:\n      events:\n        error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))\n        total_query: sum(rate(http_requests_total[{{.window}}]))\n',
      );
      writeFileSync(path.join(dir, 'broken.yaml'), 'version: "prometheus/v1"\nservice: "cart"\nslos:\n  - name: "latency"\n    objective: 250\n');
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('lists the SLOs of the files, says the budget needs Prometheus, names the file that did not load', async () => {
      const md = await cli(['--state-dir', path.join(dir, 'state'), '--since', '1d', '--slos', path.join(dir, 'checkout.yaml'), '--slos', path.join(dir, 'broken.yaml')]);
      assert.match(md, /\| checkout\/availability \| 99\.5% over 30 d \| unknown: the SLIs are read from Prometheus; pass --prometheus URL \(or set prometheus\.url\) \| — \| inc-burn \(shop\/frontend, up to 20× at the 14\.4× alert\) \|/);
      assert.match(md, new RegExp(`- not loaded: ${path.join(dir, 'broken.yaml').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+: `));
    });
  });
});
