// Sparkplug B on the wire: messages queued across an outage wait for the new births and go after them as historical
// data, numbered on from them. Payloads come from the format's own edge node; the transport is a fake that counts
// connections, to drive each order exactly. test/nodes/sparkplug-will.test.ts shows the same against Mosquitto.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { PublishError, type PublishCallback, type PublishRequest } from '../../src/lib/mqtt/connection';
import { SparkplugEdgeNode } from '../../src/lib/formats/sparkplug';
import { decodeSparkplug, encodeSparkplug, toNumber } from '../../src/lib/formats/sparkplug-codec';
import type { OutMessage } from '../../src/lib/formats/types';
import { Publisher, type PublishTransport } from '../../src/lib/publish/publisher';
import { Outbox, type OutboxLimits } from '../../src/lib/queue/outbox';
import { SparkplugWire } from '../../src/lib/publish/sparkplug-wire';
import { BirthHolds } from '../../src/lib/publish/birth-holds';
import type { NotSent } from '../../src/lib/publish/types';
import { DiskSpool } from '../../src/lib/queue/spool';
import { reading } from '../formats/fixtures';

const flush = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
};

/** The NDEATH the format node's edge node "pi" of group "plant" sets as the Will. */
const WILL = 'spBv1.0/plant/NDEATH/pi';

class Transport implements PublishTransport {
  connected = true;
  maximumPacketSize: number | undefined;
  readonly sparkplug = new SparkplugWire();
  constructor(public willTopic = WILL) {
    this.sparkplug.newConnection(willTopic);
  }
  get will(): { topic: string } | undefined {
    return this.willTopic ? { topic: this.willTopic } : undefined;
  }
  written: PublishRequest[] = [];
  private pending: PublishCallback[] = [];
  send(r: PublishRequest, settle: PublishCallback): void {
    this.written.push(r);
    this.pending.push(settle);
  }
  ackAll(): void {
    this.ack(this.pending.length);
  }
  ack(n: number): void {
    for (const settle of this.pending.splice(0, n)) settle(undefined, { reasonCode: 0 });
  }
  lose(): void {
    this.connected = false;
    for (const settle of this.pending.splice(0)) settle(new PublishError('CONNECTION_LOST', 'connection lost'));
  }
  reconnect(): void {
    this.connected = true;
    this.sparkplug.newConnection(this.willTopic);
  }
}

function edgeNode(device?: string): SparkplugEdgeNode {
  const e = SparkplugEdgeNode.create({ format: 'sparkplug', spGroup: 'plant', spEdgeNode: 'pi', ...(device ? { spDevice: device } : {}) });
  assert.ok(e.ok);
  return e.value;
}

const asRequest = (m: OutMessage): PublishRequest => ({ topic: m.topic, payload: m.payload as Buffer, qos: 1, retain: false });

function formatted(e: SparkplugEdgeNode, values: Record<string, number>, timestamp = Date.now()): PublishRequest[] {
  const out = e.format(reading({ payload: values, timestamp }));
  assert.ok(out.ok);
  return out.value.map(asRequest);
}

function births(e: SparkplugEdgeNode, bdSeq: number): PublishRequest[] {
  const out = e.newSession(bdSeq);
  assert.ok(out.ok);
  return out.value.map(asRequest);
}

interface Wire {
  topic: string;
  seq: number | undefined;
  historical: boolean;
  values: unknown[];
}
function onWire(r: PublishRequest): Wire {
  const p = decodeSparkplug(r.payload as Buffer);
  const metrics = (p.metrics ?? []).filter((m) => m.name !== 'bdSeq' && m.name !== 'Node Control/Rebirth');
  return { topic: r.topic, seq: toNumber(p.seq), historical: metrics.length > 0 && metrics.every((m) => m.isHistorical === true), values: metrics.map((m) => m.value) };
}

interface Options {
  birthWaitMs?: number;
  spool?: DiskSpool;
  limits?: OutboxLimits;
}
function publisher(t: Transport, o: Options = {}): { p: Publisher<string>; refused: Array<{ ctx: string | undefined; error: NotSent }>; waits: string[]; changes: number[] } {
  const refused: Array<{ ctx: string | undefined; error: NotSent }> = [];
  const waits: string[] = [];
  const changes: number[] = [];
  const events = { sent: () => undefined, notSent: (ctx: string | undefined, error: NotSent) => refused.push({ ctx, error }), changed: () => changes.push(p.stats.queued), waiting: (k: string) => waits.push(k) };
  const p: Publisher<string> = new Publisher<string>(t, o.limits ?? { maxCount: 100, maxBytes: 1e6, policy: 'drop-oldest' }, events, o.spool, () => 100, o.birthWaitMs === undefined ? {} : { birthWaitMs: o.birthWaitMs });
  return { p, refused, waits, changes };
}

/** Births sent and acknowledged, so the connection knows the edge node, then the connection lost and made again. */
async function bornThenReconnected(t: Transport, p: Publisher<string>, e: SparkplugEdgeNode, values: Record<string, number> = { x: 0 }): Promise<void> {
  for (const r of formatted(e, values)) p.submit(r, 100, 'first births');
  await flush();
  t.ackAll();
  t.lose();
  t.reconnect();
  t.written = [];
}

test('an outage: DDATA queued in the old session go after the new NBIRTH and DBIRTH, as historical data numbered on from them', async () => {
  const t = new Transport();
  const { p, waits } = publisher(t);
  const e = edgeNode('sensor');
  for (const r of formatted(e, { temperature: 20 })) p.submit(r, 100, 'birth');
  for (const r of formatted(e, { temperature: 21 })) p.submit(r, 100, 'live');
  t.ackAll();
  await flush();
  assert.deepEqual(t.written.map((r) => onWire(r).seq), [0, 1, 2], 'NBIRTH, DBIRTH, DDATA');
  t.lose();
  for (const v of [22, 23]) for (const r of formatted(e, { temperature: v })) p.submit(r, 100, `queued ${v}`);
  t.written = [];
  t.reconnect();
  p.pump();
  await flush();
  assert.equal(t.written.length, 0, 'nothing of this edge node before its NBIRTH on the new connection');
  assert.deepEqual(waits, ['plant/pi']);
  // The broker node asks the format node for births; they come after the queued data, as the flow delivers them.
  for (const r of births(e, 1)) p.submit(r, 100, 'rebirth');
  for (const r of formatted(e, { temperature: 24 })) p.submit(r, 100, 'live after');
  await flush();
  const wire = t.written.map(onWire);
  assert.deepEqual(
    wire.map((w) => [w.topic, w.seq, w.historical, w.values]),
    [
      ['spBv1.0/plant/NBIRTH/pi', 0, false, []],
      ['spBv1.0/plant/DBIRTH/pi/sensor', 1, false, [23]],
      ['spBv1.0/plant/DDATA/pi/sensor', 2, true, [22]],
      ['spBv1.0/plant/DDATA/pi/sensor', 3, true, [23]],
      ['spBv1.0/plant/DDATA/pi/sensor', 4, false, [24]],
    ],
  );
  p.close();
});

test('an edge node without devices: a given-back NBIRTH is a birth again; an NDATA lost in flight waits and goes as historical after the next birth', async () => {
  const t = new Transport();
  const { p } = publisher(t);
  const e = edgeNode();
  for (const v of [1, 2]) for (const r of formatted(e, { level: v })) p.submit(r, 100, String(v));
  await flush();
  assert.deepEqual(t.written.map((r) => onWire(r).seq), [0, 1]);
  t.lose(); // both come back unacknowledged
  t.written = [];
  t.reconnect();
  p.pump();
  await flush();
  // An NBIRTH at the head is the birth of the connection as it stands (the Will that matches it is the node's concern).
  assert.deepEqual(t.written.map((r) => [r.topic, onWire(r).seq, onWire(r).historical]), [
    ['spBv1.0/plant/NBIRTH/pi', 0, false],
    ['spBv1.0/plant/NDATA/pi', 1, false],
  ]);
  t.ackAll();
  for (const r of formatted(e, { level: 3 })) p.submit(r, 100, '3');
  await flush();
  t.lose();
  t.written = [];
  t.reconnect();
  p.pump();
  await flush();
  assert.equal(t.written.length, 0, 'the NDATA of the ended session waits for a birth on this connection');
  for (const r of births(e, 2)) p.submit(r, 100, 'rebirth');
  await flush();
  assert.deepEqual(t.written.map((r) => [r.topic, onWire(r).seq, onWire(r).historical, onWire(r).values]), [
    ['spBv1.0/plant/NBIRTH/pi', 0, false, [3]],
    ['spBv1.0/plant/NDATA/pi', 1, true, [3]],
  ]);
  p.close();
});

test('a DBIRTH of the ended session that waited becomes historical DDATA after the new DBIRTH; other topics never wait', async () => {
  const t = new Transport();
  const { p } = publisher(t);
  const e = edgeNode('d1');
  for (const r of formatted(e, { a: 1 })) p.submit(r, 100, 'births');
  await flush();
  assert.deepEqual(t.written.map((r) => r.topic), ['spBv1.0/plant/NBIRTH/pi', 'spBv1.0/plant/DBIRTH/pi/d1']);
  t.ack(1); // the NBIRTH reached the broker, the DBIRTH did not
  t.lose();
  t.written = [];
  p.submit({ topic: 'plain/topic', payload: 'x', qos: 1 }, 10, 'plain');
  t.reconnect();
  p.pump();
  await flush();
  assert.deepEqual(t.written.map((r) => r.topic), ['plain/topic'], 'the DBIRTH waits; a plain message goes by');
  for (const r of births(e, 1)) p.submit(r, 100, 'rebirth');
  await flush();
  assert.deepEqual(t.written.slice(1).map((r) => [r.topic, onWire(r).seq, onWire(r).historical, onWire(r).values]), [
    ['spBv1.0/plant/NBIRTH/pi', 0, false, []],
    ['spBv1.0/plant/DBIRTH/pi/d1', 1, false, [1]],
    ['spBv1.0/plant/DDATA/pi/d1', 2, true, [1]],
  ]);
  p.close();
});

test('messages that never see a birth are refused after the wait, with a reason; held ones count as queued (in the status too) and survive a close in the spool', async () => {
  const t = new Transport();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nrst-sparkplug-'));
  const { p, refused, changes } = publisher(t, { birthWaitMs: 50, spool: new DiskSpool(dir) });
  const e = edgeNode();
  await bornThenReconnected(t, p, e);
  for (const r of formatted(e, { x: 1 })) p.submit(r, 100, 'orphan'); // no birth comes: no format node answers here
  await flush();
  assert.equal(t.written.length, 0);
  assert.equal(p.queued, 1, 'a held message is queued, for the status and the limits');
  assert.equal(changes.at(-1), 1, 'and the status hears of it');
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(refused.length, 1);
  assert.equal(refused[0].ctx, 'orphan');
  assert.equal(refused[0].error.code, 'SPARKPLUG_UNBORN');
  assert.match(refused[0].error.message, /NBIRTH/);
  assert.equal(p.queued, 0);
  // Held at close: kept in the spool; after a restart it waits for the first birth and goes as historical data.
  for (const r of formatted(e, { x: 2 })) p.submit(r, 100, 'held at close');
  await flush();
  assert.deepEqual(p.close().kept, ['held at close']);
  await p.settled(100);
  const t2 = new Transport();
  const again = publisher(t2, { spool: new DiskSpool(dir) });
  again.p.pump();
  await flush();
  assert.equal(t2.written.length, 0);
  assert.equal(again.p.queued, 1);
  for (const r of births(e, 3)) again.p.submit(r, 100, 'birth after restart');
  await flush();
  assert.deepEqual(t2.written.map((r) => [r.topic, onWire(r).seq, onWire(r).historical, onWire(r).values]), [
    ['spBv1.0/plant/NBIRTH/pi', 0, false, [2]],
    ['spBv1.0/plant/NDATA/pi', 1, true, [2]],
  ]);
  again.p.close();
});

test('a publisher that never saw the birth (the publish node redeployed alone) numbers on from it; a birth sent by one publisher frees what another holds', async () => {
  const t = new Transport();
  const first = publisher(t);
  const e = edgeNode();
  for (const r of formatted(e, { x: 1 })) first.p.submit(r, 100, 'birth');
  await flush();
  t.ackAll();
  first.p.close();
  const second = publisher(t);
  for (const r of formatted(e, { x: 2 })) second.p.submit(r, 100, 'after redeploy');
  await flush();
  assert.deepEqual(t.written.map((r) => [r.topic, onWire(r).seq]), [['spBv1.0/plant/NBIRTH/pi', 0], ['spBv1.0/plant/NDATA/pi', 1]]);
  assert.deepEqual(second.waits, []);
  t.ackAll();
  t.lose();
  t.reconnect();
  t.written = [];
  const third = publisher(t); // another publish node on the same connection sends the births
  for (const r of formatted(e, { x: 3 })) second.p.submit(r, 100, 'queued');
  await flush();
  assert.equal(t.written.length, 0);
  for (const r of births(e, 1)) third.p.submit(r, 100, 'births elsewhere');
  await flush();
  assert.deepEqual(t.written.map((r) => [r.topic, onWire(r).seq, onWire(r).historical]), [
    ['spBv1.0/plant/NBIRTH/pi', 0, false],
    ['spBv1.0/plant/NDATA/pi', 1, true],
  ]);
  second.p.close();
  third.p.close();
});

test('held messages are bounded by the queue limits yet never keep the births out: drop-oldest drops the oldest held, reject refuses the newest', async () => {
  for (const policy of ['drop-oldest', 'reject'] as const) {
    const t = new Transport();
    const { p, refused } = publisher(t, { limits: { maxCount: 3, maxBytes: 1e6, policy } });
    const e = edgeNode('d');
    await bornThenReconnected(t, p, e);
    for (let v = 1; v <= 5; v++) for (const r of formatted(e, { x: v })) p.submit(r, 100, `q${v}`);
    await flush();
    assert.equal(p.queued, 3, `${policy}: at most the queue's count is held`);
    assert.deepEqual(refused.map((x) => [x.ctx, x.error.code]), policy === 'drop-oldest' ? [['q1', 'QUEUE_FULL'], ['q2', 'QUEUE_FULL']] : [['q4', 'QUEUE_FULL'], ['q5', 'QUEUE_FULL']]);
    for (const r of births(e, 1)) p.submit(r, 100, 'rebirth');
    await flush();
    assert.deepEqual(t.written.map((r) => [r.topic.split('/')[2], onWire(r).historical, onWire(r).values]), [
      ['NBIRTH', false, []],
      ['DBIRTH', false, [5]],
      ...(policy === 'drop-oldest' ? [3, 4, 5] : [1, 2, 3]).map((v) => ['DDATA', true, [v]]),
    ]);
    p.close();
  }
});

test('a birth the broker would refuse (TOO_LARGE) takes no number and frees nothing; an NDEATH sent through the node ends the session', async () => {
  const t = new Transport();
  const { p, refused } = publisher(t);
  const e = edgeNode();
  await bornThenReconnected(t, p, e);
  for (const r of formatted(e, { x: 1 })) p.submit(r, 100, 'queued');
  await flush();
  t.maximumPacketSize = 20;
  for (const r of births(e, 1)) p.submit(r, 100, 'big birth');
  await flush();
  assert.deepEqual(refused.map((x) => [x.ctx, x.error.code]), [['big birth', 'TOO_LARGE']]);
  assert.equal(t.written.length, 0, 'the data still waits');
  t.maximumPacketSize = undefined;
  for (const r of births(e, 2)) p.submit(r, 100, 'birth');
  await flush();
  assert.deepEqual(t.written.map((r) => [r.topic, onWire(r).seq, onWire(r).historical]), [
    ['spBv1.0/plant/NBIRTH/pi', 0, false],
    ['spBv1.0/plant/NDATA/pi', 1, true],
  ]);
  p.submit(asRequest(e.death(Date.now())), 50, 'death');
  for (const r of formatted(e, { x: 2 })) p.submit(r, 100, 'after death');
  await flush();
  assert.deepEqual(t.written.slice(2).map((r) => r.topic), ['spBv1.0/plant/NDEATH/pi'], 'data after an NDEATH waits for the next birth');
  p.close();
});

test('what is not an edge node\'s Sparkplug message goes as it is: other payloads on Sparkplug topics, other topics, and edge nodes this connection never saw born', async () => {
  const t = new Transport();
  const { p, waits } = publisher(t);
  const e = edgeNode();
  await bornThenReconnected(t, p, e);
  p.submit({ topic: 'spBv1.0/plant/NDATA/pi', payload: '{"x":1}', qos: 1 }, 10, 'json');
  p.submit({ topic: 'spBv1.0/plant/NDATA/pi', payload: Buffer.alloc(0), qos: 1 }, 10, 'empty');
  const relayed = SparkplugEdgeNode.create({ format: 'sparkplug', spGroup: 'plant', spEdgeNode: 'other' });
  assert.ok(relayed.ok);
  relayed.value.format(reading({ payload: { y: 1 }, timestamp: Date.now() })); // born elsewhere
  for (const r of formatted(relayed.value, { y: 2 })) p.submit(r, 100, 'relayed');
  await flush();
  assert.deepEqual(t.written.map((r) => r.topic), ['spBv1.0/plant/NDATA/pi', 'spBv1.0/plant/NDATA/pi', 'spBv1.0/plant/NDATA/other']);
  assert.equal(t.written[0].payload, '{"x":1}');
  assert.equal(onWire(t.written[2]).seq, 1, 'a relayed message keeps its own number');
  assert.deepEqual(waits, []);
  p.close();
});

test('a held message whose Message Expiry passes is given up as EXPIRED, not kept waiting', async () => {
  const t = new Transport();
  const { p, refused } = publisher(t, { limits: { maxCount: 2, maxBytes: 1e6, policy: 'reject' } });
  const e = edgeNode();
  await bornThenReconnected(t, p, e);
  for (const r of formatted(e, { x: 1 })) p.submit({ ...r, properties: { messageExpiryInterval: 1 } }, 100, 'short-lived');
  for (const r of formatted(e, { x: 2 })) p.submit(r, 100, 'second');
  await flush();
  await new Promise((r) => setTimeout(r, 1100));
  for (const r of formatted(e, { x: 3 })) p.submit(r, 100, 'third');
  await flush();
  assert.deepEqual(refused.map((x) => [x.ctx, x.error.code]), [['short-lived', 'EXPIRED']], 'the lapsed one makes room');
  assert.equal(p.queued, 2);
  p.close();
});

test('only the edge node whose NDEATH is the Will waits: without that Will, data goes as it is after a reconnect', async () => {
  const t = new Transport(''); // a connection without a Will (births made by a function node, say)
  const { p, waits } = publisher(t);
  const e = edgeNode();
  await bornThenReconnected(t, p, e);
  for (const r of formatted(e, { x: 1 })) p.submit(r, 100, 'no will');
  await flush();
  assert.deepEqual(t.written.map((r) => [r.topic, onWire(r).seq, onWire(r).historical]), [['spBv1.0/plant/NDATA/pi', 1, false]], 'as the format node numbered it');
  assert.deepEqual(waits, []);
  p.close();
});

test('what waits is not refused while the connection is down (births can only come on one), and its wait starts again on the next', async () => {
  const t = new Transport();
  const { p, refused } = publisher(t, { birthWaitMs: 80 });
  const e = edgeNode();
  await bornThenReconnected(t, p, e);
  for (const r of formatted(e, { x: 1 })) p.submit(r, 100, 'waiting');
  await flush();
  t.lose();
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(refused, [], 'nothing refused while disconnected');
  t.reconnect();
  await new Promise((r) => setTimeout(r, 40));
  assert.deepEqual(refused, [], 'the wait began again with the connection');
  for (const r of births(e, 1)) p.submit(r, 100, 'births');
  await flush();
  assert.deepEqual(t.written.map((r) => [r.topic, onWire(r).historical]), [['spBv1.0/plant/NBIRTH/pi', false], ['spBv1.0/plant/NDATA/pi', true]]);
  p.close();
});

test('births are queued whatever the limits: under reject, a queue full of other messages does not keep the edge node unborn', async () => {
  const t = new Transport();
  const { p, refused } = publisher(t, { limits: { maxCount: 2, maxBytes: 1e6, policy: 'reject' } });
  const e = edgeNode('d');
  await bornThenReconnected(t, p, e);
  t.lose();
  p.submit({ topic: 'plain/1', payload: 'a', qos: 1 }, 10, 'plain 1');
  p.submit({ topic: 'plain/2', payload: 'b', qos: 1 }, 10, 'plain 2');
  for (const r of births(e, 1)) p.submit(r, 100, 'births');
  p.submit({ topic: 'plain/3', payload: 'c', qos: 1 }, 10, 'plain 3');
  assert.deepEqual(refused.map((x) => x.ctx), ['plain 3'], 'only the plain message past the limit');
  t.reconnect();
  p.pump();
  await flush();
  assert.deepEqual(t.written.map((r) => r.topic), ['plain/1', 'plain/2', 'spBv1.0/plant/NBIRTH/pi', 'spBv1.0/plant/DBIRTH/pi/d']);
  p.close();
});

test('a birth of the edge node is never dropped for room or lifetime: drop-oldest evicts around it, and an expired one still goes (without its expiry)', async () => {
  const t = new Transport();
  t.connected = false;
  const { p, refused } = publisher(t, { limits: { maxCount: 3, maxBytes: 1e6, policy: 'drop-oldest' } });
  const e = edgeNode('d');
  for (const r of formatted(e, { x: 1 })) p.submit({ ...r, properties: { messageExpiryInterval: 1 } }, 100, `birth ${r.topic.split('/')[2]}`);
  for (let v = 2; v <= 5; v++) for (const r of formatted(e, { x: v })) p.submit(r, 100, `reading ${v}`);
  assert.deepEqual(refused.map((x) => [x.ctx, x.error.code]), [['reading 2', 'QUEUE_FULL'], ['reading 3', 'QUEUE_FULL'], ['reading 4', 'QUEUE_FULL']]);
  await new Promise((r) => setTimeout(r, 1100));
  t.reconnect();
  p.pump();
  await flush();
  assert.deepEqual(t.written.map((r) => [r.topic.split('/')[2], onWire(r).seq, r.properties?.messageExpiryInterval]), [
    ['NBIRTH', 0, undefined],
    ['DBIRTH', 1, undefined],
    ['DDATA', 2, undefined],
  ]);
  p.close();
});

test("another edge node's births (a relay) get no such pass: the limits apply to them", () => {
  const t = new Transport();
  t.connected = false;
  const { p, refused } = publisher(t, { limits: { maxCount: 2, maxBytes: 1e6, policy: 'reject' } });
  const relayed = SparkplugEdgeNode.create({ format: 'sparkplug', spGroup: 'plant', spEdgeNode: 'other' });
  assert.ok(relayed.ok);
  for (let v = 1; v <= 3; v++) {
    const out = relayed.value.newSession(v);
    assert.ok(out.ok);
    for (const m of out.value) p.submit(asRequest(m), 100, `relayed birth ${v}`);
  }
  assert.deepEqual(refused.map((x) => x.ctx), ['relayed birth 3'], 'the third finds the queue full');
  p.close();
});

test('many publish nodes on one connection: no listener warning, and none left after they close', () => {
  const t = new Transport();
  const warnings: Error[] = [];
  const onWarning = (w: Error): number => warnings.push(w);
  process.on('warning', onWarning);
  const pubs = Array.from({ length: 20 }, () => publisher(t).p);
  for (const p of pubs) p.close();
  process.off('warning', onWarning);
  assert.deepEqual(warnings.map((w) => w.message), []);
  assert.equal(t.sparkplug.listenerCount('birth') + t.sparkplug.listenerCount('connection'), 0);
});

test('a birth that had to wait is data of an ended session: it is no longer pinned, and drop-oldest takes it first, in order', async () => {
  const t = new Transport();
  const refused: string[] = [];
  const p = new Publisher<string>(t, { maxCount: 3, maxBytes: 1e9, policy: 'drop-oldest' }, { sent: () => undefined, notSent: (c, e) => refused.push(`${c} ${e.code}`), changed: () => undefined }, undefined, () => 1);
  const req = (type: string, v: number, device = true): PublishRequest => ({ topic: `spBv1.0/plant/${type}/pi${device ? '/d' : ''}`, payload: encodeSparkplug({ timestamp: v, seq: 0, metrics: [{ name: 'v', type: 'Double', value: v }] }), qos: 1, retain: false });
  // The NBIRTH goes, the DBIRTH (reading 5) waits behind it (window 1), and the link drops.
  p.submit(req('NBIRTH', 0, false), 10, 'nb1');
  p.submit(req('DBIRTH', 5), 10, 'db-5');
  t.ack(1);
  t.lose();
  p.submit(req('DDATA', 6), 10, 'd6');
  p.submit(req('DDATA', 7), 10, 'd7');
  t.reconnect();
  p.pump();
  await flush();
  p.submit(req('NBIRTH', 0, false), 10, 'nb2');
  await flush();
  t.ack(1);
  await flush();
  p.submit(req('DBIRTH', 0), 10, 'db2');
  await flush();
  p.submit(req('DDATA', 8), 10, 'd8'); // full: the oldest goes, the old DBIRTH's data
  for (let i = 0; i < 10; i++) {
    t.ack(1);
    await flush();
  }
  assert.deepEqual(refused, ['db-5 QUEUE_FULL']);
  const values = t.written.filter((r) => r.topic.includes('/DDATA/')).map((r) => onWire(r).values[0]);
  assert.deepEqual(values, [6, 7, 8]);
  p.close();
});

test("only the latest session's births are pinned, and only Sparkplug payloads of the Will's edge node: the rest can be dropped for room", () => {
  const t = new Transport();
  t.connected = false;
  const { p, refused } = publisher(t, { limits: { maxCount: 5, maxBytes: 1e6, policy: 'drop-oldest' } });
  for (let i = 0; i < 3; i++) p.submit({ topic: 'spBv1.0/plant/NBIRTH/pi', payload: '{"not":"sparkplug"}', qos: 1 }, 20, `json ${i}`);
  const e = edgeNode();
  for (let v = 0; v < 12; v++) {
    const out = e.newSession(v);
    assert.ok(out.ok);
    for (const m of out.value) p.submit(asRequest(m), 100, `birth ${v}`);
  }
  assert.equal(refused.length, 0, 'births come in past the limits');
  p.submit({ topic: 'plain', payload: 'x', qos: 1 }, 10, 'plain');
  // Room for it: everything but the latest birth can go, oldest first.
  assert.deepEqual(refused.map((x) => x.ctx), ['json 0', 'json 1', 'json 2', ...Array.from({ length: 8 }, (_v, i) => `birth ${i}`)]);
  assert.equal(p.queued, 5);
  p.close();
});

test('an edge node with many devices: every DBIRTH of the session is pinned, so none is refused by a full queue', () => {
  const t = new Transport();
  t.connected = false;
  const { p, refused } = publisher(t, { limits: { maxCount: 5, maxBytes: 1e6, policy: 'reject' } });
  for (let i = 0; i < 5; i++) p.submit({ topic: `plain/${i}`, payload: 'x', qos: 1 }, 10, `plain ${i}`);
  const birth = (type: string, device?: string): PublishRequest => ({
    topic: `spBv1.0/plant/${type}/pi${device ? `/${device}` : ''}`,
    payload: encodeSparkplug({ timestamp: 1, seq: 0, metrics: [{ name: 'v', type: 'Double', value: 1 }] }),
    qos: 0,
  });
  p.submit(birth('NBIRTH'), 50, 'NBIRTH');
  for (let d = 0; d < 12; d++) p.submit(birth('DBIRTH', `d${d}`), 50, `DBIRTH d${d}`);
  assert.equal(refused.length, 0);
  assert.equal(p.queued, 18);
  p.close();
});

test('a birth sent at once is the latest too: lost in flight with an older one, the older one is dropped for room, not it', async () => {
  const t = new Transport();
  t.connected = false;
  const { p, refused } = publisher(t, { limits: { maxCount: 4, maxBytes: 1e9, policy: 'drop-oldest' } });
  const e = edgeNode();
  const birthOf = (bdSeq: number): PublishRequest => {
    const out = e.newSession(bdSeq);
    assert.ok(out.ok);
    return asRequest(out.value[0]);
  };
  p.submit(birthOf(1), 10, 'NBIRTH bdSeq 1'); // queued while offline
  t.reconnect();
  p.pump();
  p.submit(birthOf(2), 10, 'NBIRTH bdSeq 2'); // the rebirth finds the queue empty: sent at once
  t.lose();
  for (let v = 0; v < 4; v++) p.submit({ topic: `plain/${v}`, payload: 'x', qos: 1 }, 10, `plain ${v}`);
  t.written = [];
  t.reconnect();
  p.pump();
  await flush();
  assert.equal(refused[0]?.ctx, 'NBIRTH bdSeq 1');
  const births = t.written.filter((r) => r.topic.includes('/NBIRTH/'));
  const bdSeqs = births.map((r) => toNumber((decodeSparkplug(r.payload as Buffer).metrics ?? []).find((m) => m.name === 'bdSeq')?.value));
  assert.deepEqual(bdSeqs, [2]);
  p.close();
});

test('BirthHolds: each list stays in seq order whatever order items come back in; freed items go first and count until sent', () => {
  const h = new BirthHolds<{ seq: number; bytes: number; heldAt?: number }>();
  for (const seq of [5, 6, 2, 7, 1]) h.add('k', { seq, bytes: 10 }, 0);
  h.add('other', { seq: 3, bytes: 10 }, 0);
  assert.equal(h.size, 6);
  assert.equal(h.bytes, 60);
  assert.equal(h.free('k'), 5);
  const out: number[] = [];
  for (let i = h.nextFreed(); i; i = h.nextFreed()) out.push(i.seq);
  assert.deepEqual(out, [1, 2, 5, 6, 7]);
  assert.equal(h.size, 1);
  assert.equal(h.takeOldest()?.seq, 3);
  assert.equal(h.size, 0);
  // takeOldest reads every list in order, the first one too.
  for (const seq of [6, 7, 1]) h.add('a', { seq, bytes: 1 }, 0);
  h.add('b', { seq: 4, bytes: 1 }, 0);
  assert.deepEqual([h.takeOldest()?.seq, h.takeOldest()?.seq, h.takeOldest()?.seq], [1, 4, 6]);
});

test('Outbox: when pinned items leave no room, the new item is refused before anything is evicted', () => {
  const o = new Outbox<{ seq: number; bytes: number; pinned?: boolean }>({ maxCount: 10, maxBytes: 100, policy: 'drop-oldest' });
  o.push({ seq: 1, bytes: 30 });
  o.push({ seq: 2, bytes: 30 });
  o.push({ seq: 3, bytes: 60, pinned: true }, true);
  assert.deepEqual(o.push({ seq: 4, bytes: 45 }), { accepted: false, evicted: [] });
  assert.deepEqual(o.push({ seq: 5, bytes: 30 }).evicted.map((x) => x.seq), [1, 2], 'room made around the pinned one');
  assert.equal(o.pinned, 1);
  assert.deepEqual(o.drain().map((x) => x.seq), [3, 5]);
  assert.equal(o.pinned, 0);
});

test('SparkplugWire: seq wraps at 256; a message already right is not re-encoded; nothing counts until commit()', () => {
  const w = new SparkplugWire();
  w.newConnection('spBv1.0/g/NDEATH/e');
  const birth = encodeSparkplug({ timestamp: 1, seq: 0, metrics: [{ name: 'bdSeq', type: 'UInt64', value: 0 }] });
  const b = w.decide({ topic: 'spBv1.0/g/NBIRTH/e', payload: birth, qos: 0 }, false);
  assert.ok(b?.kind === 'send');
  assert.equal(b.request.payload, birth, 'seq 0 already: the same buffer');
  assert.deepEqual(w.decide({ topic: 'spBv1.0/g/NDATA/e', payload: encodeSparkplug({ timestamp: 1, seq: 1 }), qos: 0 }, true), { kind: 'hold', key: 'g/e' }, 'not born until committed');
  b.commit();
  const seqs: Array<number | undefined> = [];
  for (let i = 0; i < 300; i++) {
    const d = w.decide({ topic: 'spBv1.0/g/NDATA/e', payload: encodeSparkplug({ timestamp: 1, seq: 7, metrics: [{ name: 'x', type: 'Double', value: i }] }), qos: 0 }, false);
    assert.ok(d?.kind === 'send');
    d.commit();
    seqs.push(toNumber(decodeSparkplug(d.request.payload as Buffer).seq));
  }
  assert.deepEqual(seqs.slice(253, 259), [254, 255, 0, 1, 2, 3]);
  for (const topic of ['spBv1.0/g/NCMD/e', 'spBv1.0/STATE/host', 'spBv1.0/g/NDATA/e/extra', 'spBv1.0/g/DDATA/e', 'spBv1.0/g/NDATA/other', 'other/NDATA']) {
    assert.equal(w.decide({ topic, payload: birth, qos: 0 }, false), undefined, topic);
  }
  w.newConnection('spBv1.0/g/NDEATH/e');
  assert.deepEqual(w.decide({ topic: 'spBv1.0/g/NDATA/e', payload: birth, qos: 0 }, false), { kind: 'hold', key: 'g/e' }, 'a new connection: unborn again');
  // A group named like a message type: the topic of an old DBIRTH turned into data is built, not searched.
  const odd = new SparkplugWire();
  odd.newConnection('spBv1.0/DBIRTH/NDEATH/e');
  const nb = odd.decide({ topic: 'spBv1.0/DBIRTH/NBIRTH/e', payload: birth, qos: 0 }, false);
  assert.ok(nb?.kind === 'send');
  nb.commit();
  const db = odd.decide({ topic: 'spBv1.0/DBIRTH/DBIRTH/e/d', payload: birth, qos: 0 }, false);
  assert.ok(db?.kind === 'send');
  db.commit();
  const old = odd.decide({ topic: 'spBv1.0/DBIRTH/DBIRTH/e/d', payload: birth, qos: 0 }, true);
  assert.ok(old?.kind === 'send');
  assert.equal(old.request.topic, 'spBv1.0/DBIRTH/DDATA/e/d');
});
