import assert from 'node:assert/strict';
import { IncidentBook, memberRefs } from '../../../src/core/diagnose/incidentGrouping';

const T = Date.UTC(2026, 10, 23, 19, 0, 0);

describe('IncidentBook', () => {
  it('keys an incident by its first cause and open time', () => {
    const b = new IncidentBook();
    const i = b.open('service:shop/cart', T);
    assert.equal(i.key, 'service:shop/cart@2026-11-23T19:00:00.000Z');
    assert.equal(b.open('service:shop/cart', T).key, 'service:shop/cart@2026-11-23T19:00:00.000Z#2');
  });

  it('moves a member between incidents and says when the old one is left empty', () => {
    const b = new IncidentBook();
    const a = b.open('service:shop/a', T);
    const c = b.open('service:payments/c', T + 5_000);
    assert.equal(b.place('service:shop/a', a, T), undefined);
    assert.equal(b.place('service:shop/a', c, T + 5_000), a);
    assert.equal(b.ofMember('service:shop/a'), c);
    assert.equal(a.members.size, 0);
  });

  it('merging keeps the older key, and lists a reported key that disappears as absorbed', () => {
    const b = new IncidentBook();
    const older = b.open('service:shop/a', T);
    b.place('service:shop/a', older, T);
    older.reported = 'sig-a';
    const newer = b.open('service:payments/c', T + 20_000);
    b.place('service:payments/c', newer, T + 20_000);
    newer.reported = 'sig-c';
    const survivor = b.merge(older, newer);
    assert.equal(survivor, newer);
    assert.equal(survivor.key, 'service:shop/a@2026-11-23T19:00:00.000Z');
    assert.equal(survivor.root, 'service:payments/c');
    assert.deepEqual(survivor.absorbed, ['service:payments/c@2026-11-23T19:00:20.000Z']);
    assert.deepEqual(memberRefs(survivor).map((m) => m.name), ['c', 'a']);
    assert.equal(b.all().length, 1);
    assert.equal(b.byKey('service:shop/a@2026-11-23T19:00:00.000Z'), survivor);
    assert.equal(b.rootedAt('service:shop/a'), undefined);
  });

  it('an unreported incident merged away leaves nothing to absorb', () => {
    const b = new IncidentBook();
    const x = b.open('service:shop/x', T + 10_000);
    const y = b.open('node:node-2', T);
    y.reported = 'sig';
    const s = b.merge(x, y);
    assert.equal(s.key, 'node:node-2@2026-11-23T19:00:00.000Z');
    assert.deepEqual(s.absorbed, []);
  });

  it('rerooting onto a cause that has an incident merges the two', () => {
    const b = new IncidentBook();
    const a = b.open('service:shop/a', T);
    b.place('service:shop/a', a, T);
    const n = b.open('node:node-2', T + 1_000);
    const s = b.reroot(a, 'node:node-2');
    assert.equal(s, n);
    assert.equal(s.key, a.key);
    assert.equal(b.rootedAt('node:node-2'), s);
    assert.equal(b.all().length, 1);
  });

  it('finds idle incidents, oldest first, and closing frees their members', () => {
    const b = new IncidentBook();
    const a = b.open('service:shop/a', T);
    b.place('service:shop/a', a, T);
    const c = b.open('service:shop/c', T + 1_000);
    b.place('service:shop/c', c, T + 120_000);
    assert.deepEqual(b.idleSince(T + 60_000), [a]);
    b.close(a);
    assert.equal(b.ofMember('service:shop/a'), undefined);
    assert.equal(b.rootedAt('service:shop/a'), undefined);
  });
});
