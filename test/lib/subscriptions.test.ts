// The subscription table on its own: merged options, which request's retained messages reach which node, stale
// identifiers, and filter overlap (checked against filterMatches over every topic of a small alphabet).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { IPublishPacket } from 'mqtt';
import { mergeOptions, SubscriptionTable, type RequestKind, type SubscribeRequest, type SubscriptionEntry, type SubscriptionNotice } from '../../src/lib/mqtt/subscriptions';
import { filterMatches, filtersOverlap } from '../../src/lib/mqtt/topic-rules';

function packet(topic: string, retain: boolean, id?: number): IPublishPacket {
  return { cmd: 'publish', topic, payload: Buffer.alloc(0), qos: 0, dup: false, retain, ...(id === undefined ? {} : { properties: { subscriptionIdentifier: id } }) };
}

const noop = (): void => undefined;

/** A table on a connection that is up: a new session unless `sessionPresent`, identifiers with MQTT 5. */
function upTable(version: 4 | 5, sessionPresent = false): SubscriptionTable {
  const table = new SubscriptionTable(version);
  table.connected(sessionPresent, version === 5);
  return table;
}

/** Plans the SUBSCRIBE for the entry's filter and has the broker grant it. */
function grant(table: SubscriptionTable, entry: SubscriptionEntry, kind: RequestKind = 'connect'): SubscribeRequest {
  const req = table.plan(entry.group, kind);
  assert.ok(req, `a SUBSCRIBE for ${entry.filter}`);
  table.granted(req, entry.options.qos);
  return req;
}
const byFilter = (p: { filter: string }, q: { filter: string }): number => (p.filter < q.filter ? -1 : 1);

describe('mergeOptions', () => {
  test('toward delivering more: highest QoS, no local only when all ask, retain as published when one does', () => {
    assert.deepEqual(mergeOptions([{ qos: 0, nl: true }, { qos: 2, nl: true }]), { qos: 2, nl: true });
    assert.deepEqual(mergeOptions([{ qos: 1, nl: true }, { qos: 0 }]), { qos: 1 });
    assert.deepEqual(mergeOptions([{ qos: 0 }, { qos: 0, rap: true }]), { qos: 0, rap: true });
  });
});

describe('SubscriptionTable, MQTT 3.1.1', () => {
  test('each node gets each retained topic once per request of its own, whenever the copies come', () => {
    const table = upTable(4);
    const a = table.add('t/#', { qos: 1 }, noop);
    const first = table.plan(a.group, 'connect');
    assert.ok(first);
    // Mosquitto sends 20 QoS 1 messages at a time: part of a's retained set may come after b's SUBACK.
    assert.deepEqual(table.match('t/1', packet('t/1', true)), [a]);
    table.granted(first, 1);
    const b = table.add('t/#', { qos: 1 }, noop);
    const join = table.plan(b.group, 'join');
    assert.ok(join, 'a 3.1.1 newcomer needs a SUBSCRIBE for its retained messages');
    table.granted(join, 1);
    assert.deepEqual(table.match('t/2', packet('t/2', true)), [a, b], "the rest of a's set: b has not had t/2 either");
    assert.deepEqual(table.match('t/1', packet('t/1', true)), [b], "b's copy of t/1: a has it");
    assert.deepEqual(table.match('t/2', packet('t/2', true)), [], "b's copy of t/2: both have it");
    assert.deepEqual(table.match('t/x', packet('t/x', false)), [a, b], 'live messages to both');
  });

  test('overlapping filters of two nodes: a retained topic both match reaches each once', () => {
    const table = upTable(4);
    const all = table.add('s/#', { qos: 0 }, noop);
    const one = table.add('s/+', { qos: 0 }, noop);
    const r1 = table.plan(all.group, 'connect');
    const r2 = table.plan(one.group, 'connect');
    assert.ok(r1 && r2);
    assert.deepEqual(table.match('s/x', packet('s/x', true)), [all, one].sort(byFilter));
    assert.deepEqual(table.match('s/x', packet('s/x', true)), []);
  });

  test('a lone node takes its whole retained set even after a stall longer than the quiet window; after a later join, not any more', (t) => {
    let now = 1000;
    t.mock.method(performance, 'now', () => now);
    const table = upTable(4);
    const a = table.add('t/#', { qos: 1 }, noop);
    grant(table, a);
    now += 6000; // the set is held up (a slow link, a busy event loop, other filters' sets first)
    assert.deepEqual(table.match('t/1', packet('t/1', true)), [a]);
    assert.deepEqual(table.match('t/2', packet('t/2', true)), [a]);
    now += 6000;
    const b = table.add('t/#', { qos: 1 }, noop);
    grant(table, b, 'join');
    assert.deepEqual(table.match('t/1', packet('t/1', true)), [b], "b's copy: a's set is over and b's request is the latest");
  });

  test('a node\'s set of topics stops at 10,000 (then a later join may replay to it, but memory stays bounded)', () => {
    const table = upTable(4);
    const a = table.add('t/#', { qos: 1 }, noop);
    grant(table, a);
    for (let i = 0; i < 10001; i++) table.match(`t/${i}`, packet(`t/${i}`, false));
    assert.equal(a.retainedSeen, undefined);
  });

  test('a node leaving sends nothing: the subscription stays as wide as it was until the next connection', () => {
    const table = upTable(4);
    const a = table.add('t/#', { qos: 0 }, noop);
    const b = table.add('t/#', { qos: 2 }, noop);
    const req = table.plan(a.group, 'connect');
    assert.equal(req?.options.qos, 2);
    assert.equal(table.remove(b), false);
    table.connected(false, false);
    assert.equal(table.plan(a.group, 'connect')?.options.qos, 0);
  });

  test('a node joining before the connect SUBSCRIBE of its filter went out is part of it: one SUBSCRIBE', () => {
    const table = new SubscriptionTable(4);
    const a = table.add('t/#', { qos: 0 }, noop);
    table.connected(false, false);
    const b = table.add('t/#', { qos: 0 }, noop);
    assert.ok(table.plan(b.group, 'join'), 'the join makes the SUBSCRIBE');
    assert.equal(table.plan(a.group, 'connect'), undefined, 'the connect loop has nothing left to send');
  });
});

describe('SubscriptionTable, MQTT 5 with identifiers', () => {
  test('a joining node that wants retained messages gets a new identifier; the old one still reaches the first node', () => {
    const table = upTable(5);
    const a = table.add('t/#', { qos: 1 }, noop);
    const first = table.plan(a.group, 'connect');
    assert.ok(first?.id !== undefined);
    assert.equal(first.options.rh, 0);
    table.granted(first, 1);
    const b = table.add('t/#', { qos: 1 }, noop);
    const join = table.plan(b.group, 'join');
    assert.ok(join?.id !== undefined && join.id !== first.id);
    table.granted(join, 1);
    assert.deepEqual(table.match('t/x', packet('t/x', true, first.id)), [a]);
    assert.deepEqual(table.match('t/x', packet('t/x', true, join.id)), [b]);
    assert.deepEqual(table.match('t/x', packet('t/x', false, join.id)), [a, b]);
    assert.deepEqual(table.match('t/x', packet('t/x', false, first.id)), [a, b]);
  });

  test('a node that never wants retained messages joins without a SUBSCRIBE when the options stay the same', () => {
    const table = upTable(5);
    const a = table.add('t/#', { qos: 1 }, noop);
    const first = grant(table, a);
    const b = table.add('t/#', { qos: 1, rh: 2 }, noop);
    assert.equal(table.plan(b.group, 'join'), undefined);
    assert.deepEqual(table.match('t/x', packet('t/x', true, first.id)), [a]);
  });

  test('at a reconnect into the kept session, "only new subscriptions" nodes get no retained messages, "always" ones do', () => {
    const table = upTable(5);
    const once = table.add('t/#', { qos: 1, rh: 1 }, noop);
    const always = table.add('t/#', { qos: 1 }, noop);
    const first = grant(table, once);
    assert.deepEqual(table.match('t/x', packet('t/x', true, first.id)), [once, always], 'a new session: both');
    table.connected(true, true);
    const req = grant(table, once);
    assert.equal(req.options.rh, 0);
    assert.deepEqual(table.match('t/x', packet('t/x', true, req.id)), [always]);
  });

  test('a reconnect into a kept session that brings retained messages takes a new identifier (the rest of the old set is not taken twice)', () => {
    const table = upTable(5);
    const a = table.add('t/#', { qos: 1 }, noop);
    const first = grant(table, a);
    table.connected(true, true);
    const again = grant(table, a);
    assert.notEqual(again.id, first.id);
    assert.deepEqual(table.match('t/x', packet('t/x', true, first.id)), [], 'the old set, still queued');
    assert.deepEqual(table.match('t/x', packet('t/x', true, again.id)), [a]);
  });

  test('"only new subscriptions" into a kept session that holds the filter: a node never in a SUBSCRIBE of the session is new', () => {
    const table = upTable(5);
    const old = table.add('t/#', { qos: 1, rh: 1 }, noop);
    grant(table, old);
    table.disconnected();
    const fresh = table.add('t/#', { qos: 1, rh: 1 }, noop); // deployed while the connection was down
    table.connected(true, true);
    const req = grant(table, old);
    assert.equal(req.options.rh, 0);
    assert.deepEqual(table.match('t/x', packet('t/x', true, req.id)), [fresh]);
  });

  test('a kept session this process never subscribed the filter in: "only new" goes to the broker as 1, or counts as new', () => {
    const onlyNew = upTable(5, true);
    const a = onlyNew.add('n/#', { qos: 1, rh: 1 }, noop);
    const req = grant(onlyNew, a);
    assert.equal(req.options.rh, 1, 'the broker knows whether its session has the filter');
    assert.deepEqual(onlyNew.match('n/x', packet('n/x', true, req.id)), [a], 'what it sends is for this node');
    const mixed = upTable(5, true);
    const b = mixed.add('m/#', { qos: 1, rh: 1 }, noop);
    const c = mixed.add('m/#', { qos: 1 }, noop);
    const both = grant(mixed, b);
    assert.equal(both.options.rh, 0);
    assert.deepEqual(mixed.match('m/x', packet('m/x', true, both.id)), [b, c]);
  });

  test('widening no local or retain as published replaces the subscription (Mosquitto ignores them in a second SUBSCRIBE); a leave sends nothing', () => {
    const table = upTable(5);
    const notices: SubscriptionNotice[] = [];
    const a = table.add('t/#', { qos: 1, nl: true }, noop, (n) => notices.push(n));
    const first = table.plan(a.group, 'connect');
    assert.ok(first);
    assert.equal(first.replace, false);
    table.granted(first, 1);
    const b = table.add('t/#', { qos: 1, rh: 2 }, noop);
    const join = table.plan(b.group, 'join');
    assert.ok(join);
    assert.equal(join.replace, true);
    assert.equal(join.options.rh, 2, 'nobody wants the retained set again');
    assert.equal(join.options.nl, undefined);
    assert.deepEqual(notices, [{ code: 'NO_LOCAL_LOST', other: 't/#' }]);
    table.granted(join, 1);
    table.remove(b);
    const c = table.add('t/#', { qos: 1, nl: true }, noop);
    const again = table.plan(c.group, 'join');
    assert.equal(again?.replace, false, 'narrowing never replaces');
    assert.equal(notices.length, 1, 'said once');
  });

  test('a kept session holds what was sent before: no local dropped while offline is sent as a replacement', () => {
    const table = upTable(5);
    const a = table.add('p/#', { qos: 1, nl: true }, noop);
    grant(table, a);
    table.disconnected();
    table.add('p/#', { qos: 1 }, noop);
    table.connected(true, true);
    const req = table.plan(a.group, 'connect');
    assert.equal(req?.options.nl, undefined);
    assert.equal(req?.replace, true);
    table.connected(false, true);
    assert.equal(table.plan(a.group, 'connect')?.replace, false, 'a new session holds nothing');
  });

  test('a removed filter\'s late messages reach nobody, not a filter subscribed again at once', () => {
    const table = upTable(5);
    const a = table.add('t/#', { qos: 1 }, noop);
    const first = table.plan(a.group, 'connect');
    assert.ok(first?.id !== undefined);
    table.granted(first, 1);
    table.remove(a);
    const again = table.add('t/#', { qos: 1 }, noop);
    const second = table.plan(again.group, 'join');
    assert.ok(second?.id !== undefined && second.id !== first.id);
    assert.deepEqual(table.match('t/x', packet('t/x', true, first.id)), []);
    assert.deepEqual(table.match('t/x', packet('t/x', true, second.id)), [again]);
  });

  test('an identifier of an earlier session that names no matching filter falls back to the topic', () => {
    const table = upTable(5, true);
    const a = table.add('pub/#', { qos: 1 }, noop);
    const req = grant(table, a);
    assert.deepEqual(table.match('pub/x', packet('pub/x', false, 999)), [a]);
    assert.deepEqual(table.match('priv/x', packet('priv/x', false, req.id)), []);
  });

  test('after the identifiers wrap, a number still naming a filter is skipped', () => {
    const table = upTable(5);
    (table as unknown as { nextId: number }).nextId = 1;
    const low = table.add('a/b', { qos: 1 }, noop);
    const first = table.plan(low.group, 'connect');
    assert.equal(first?.id, 1);
    (table as unknown as { nextId: number }).nextId = 268435455;
    const high = table.add('x', { qos: 1 }, noop);
    assert.equal(table.plan(high.group, 'connect')?.id, 268435455);
    const wrapped = table.add('#', { qos: 1 }, noop);
    assert.equal(table.plan(wrapped.group, 'connect')?.id, 2, '1 still names a/b');
  });

  test('identifiers kept per filter are bounded, and a removed filter frees its identifiers', () => {
    const table = upTable(5);
    const a = table.add('t/#', { qos: 1 }, noop);
    let req = table.plan(a.group, 'connect');
    assert.ok(req);
    table.granted(req, 1);
    const entries = [a];
    for (let i = 0; i < 20; i++) {
      const e = table.add('t/#', { qos: 1 }, noop);
      entries.push(e);
      req = table.plan(e.group, 'join');
      assert.ok(req);
      table.granted(req, 1);
    }
    assert.ok(a.group.ids.length <= 8);
    for (const e of entries) table.remove(e);
    assert.deepEqual(table.match('t/x', packet('t/x', false, req.id)), []);
  });
});

describe('filtersOverlap', () => {
  const levels = ['a', 'b', '$x', '+', '#'];
  const topicLevels = ['a', 'b', '$x', 'c'];
  const filters: string[] = [];
  const grow = (prefix: string[], depth: number): void => {
    if (prefix.length > 0) filters.push(prefix.join('/'));
    if (depth === 0 || prefix.at(-1) === '#') return;
    for (const l of levels) grow([...prefix, l], depth - 1);
  };
  grow([], 3);
  const topics: string[] = [];
  const growTopic = (prefix: string[], depth: number): void => {
    if (prefix.length > 0) topics.push(prefix.join('/'));
    if (depth === 0) return;
    for (const l of topicLevels) growTopic([...prefix, l], depth - 1);
  };
  growTopic([], 4);

  test('agrees with "some topic matches both" for every pair of filters up to three levels', () => {
    let checked = 0;
    for (const f of filters) {
      for (const g of filters) {
        const witness = topics.some((t) => filterMatches(f, t) && filterMatches(g, t));
        assert.equal(filtersOverlap(f, g), witness, `${f} vs ${g}`);
        checked++;
      }
    }
    assert.ok(checked > 10000);
  });
});
