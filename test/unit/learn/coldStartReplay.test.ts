/**
 * bench:heal on a quiet machine (dependency outage on payments/payments-api, seed 1; 7 December): the agent had watched
 * for 40 s from a cold start. payments-api's first frame read 1.34 req/s (its counters' first samples counted from the
 * processes' start, before they served), the next ones 4–5 req/s. When the outage began, the diagnosis measured
 * "requests rose 3.6x above baseline (1.34 req/s → 4.81 req/s)" from that first reading as the level before a step,
 * named a traffic surge, scaled payments-api out twice and escalated; the outage went unhealed (0/3 seeds).
 * test/fixtures/heal/dependency-outage-cold-start.json.gz is that incident as the agent recorded it, replayed here
 * through the live composition: the level before a step must be a steady one (two agreeing readings), so it is the
 * dependency outage, restarted as its playbook says. Fails on 9665b20.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { replayIncident } from '../../../src/core/learn/replay';
import type { Incident } from '../../../src/core/model/incident';

const fixture = path.join(__dirname, '../../fixtures/heal/dependency-outage-cold-start.json.gz');

describe('replay: a dependency outage 40 s after a cold start', function () {
  this.timeout(60_000);

  it('is no traffic surge measured from the agent\'s first reading: the outage is diagnosed and its dependency restarted', async () => {
    const incident = JSON.parse(gunzipSync(readFileSync(fixture)).toString('utf8')) as Incident;
    const r = await replayIncident(incident);
    assert.equal(r.recorded.diagnosis, 'traffic-surge', 'as recorded');
    assert.match(incident.diagnosis!.summary, /3\.6x above baseline \(1\.34 req\/s/);
    assert.equal(r.replayed.diagnosis, 'dependency-outage', r.comparison.join('; '));
    assert.equal(r.replayed.firstDetection, r.recorded.firstDetection, 'detected at the same scrape');
    assert.equal(r.replayed.firstAction, 'rollout restart deployment payments/payments-api');
  });
});
