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
import { SparkplugWire } from '../../src/lib/publish/sparkplug-wire';
import type { NotSent } from '../../src/lib/publish/types';
import { DiskSpool } from '../../src/lib/queue/spool';
import { reading } from '../formats/fixtures';

const flush = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
};

class Transport implements PublishTransport {
  connected = true;
  connects = 1;
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
    this.connects++;
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

function publisher(t: Transport, birthWaitMs?: number, spool?: DiskSpool): { p: Publisher<string>; refused: Array<{ ctx: string | undefined; error: NotSent }>; waits: string[] } {
  const refused: Array<{ ctx: string | undefined; error: NotSent }> = [];
  const waits: string[] = [];
  const events = { sent: () => undefined, notSent: (ctx: string | undefined, error: NotSent) => refused.push({ ctx, error }), changed: () => undefined, waiting: (k: string) => waits.push(k) };
  const p = new Publisher<string>(t, { maxCount: 100, maxBytes: 1e6, policy: 'drop-oldest' }, events, spool, () => 100, birthWaitMs === undefined ? {} : { birthWaitMs });
  return { p, refused, waits };
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

test('messages that never see a birth are refused after the wait, with a reason; held ones count as queued and survive a close in the spool', async () => {
  const t = new Transport();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nrst-sparkplug-'));
  const spool = new DiskSpool(dir);
  const { p, refused } = publisher(t, 50, spool);
  const e = edgeNode();
  e.format(reading({ payload: { x: 0 }, timestamp: Date.now() })); // born in a session this publisher never saw
  for (const r of formatted(e, { x: 1 })) p.submit(r, 100, 'orphan');
  await flush();
  assert.equal(t.written.length, 0);
  assert.equal(p.queued, 1, 'a held message is queued, for the status and the limits');
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(refused.length, 1);
  assert.equal(refused[0].ctx, 'orphan');
  assert.equal(refused[0].error.code, 'SPARKPLUG_UNBORN');
  assert.match(refused[0].error.message, /NBIRTH/);
  assert.equal(p.queued, 0);
  // Held at close: kept in the spool, and back after a restart, waiting again.
  for (const r of formatted(e, { x: 2 })) p.submit(r, 100, 'held at close');
  await flush();
  assert.deepEqual(p.close().kept, ['held at close']);
  await p.settled(100);
  const t2 = new Transport();
  const again = publisher(t2, undefined, new DiskSpool(dir));
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

test('SparkplugWire: seq wraps at 256; a payload that is not Sparkplug is sent as it is, unnumbered; a message already right is not re-encoded', () => {
  const w = new SparkplugWire();
  const birth = encodeSparkplug({ timestamp: 1, seq: 0, metrics: [{ name: 'bdSeq', type: 'UInt64', value: 0 }] });
  const b = w.decide({ topic: 'spBv1.0/g/NBIRTH/e', payload: birth, qos: 0 }, false, 1);
  assert.ok(b?.kind === 'send');
  assert.equal(b.request.payload, birth, 'seq 0 already: the same buffer');
  assert.equal(b.releases, 'g/e');
  const junk = w.decide({ topic: 'spBv1.0/g/NDATA/e', payload: Buffer.from([0xff, 0xff, 0xff]), qos: 0 }, false, 1);
  assert.ok(junk?.kind === 'send');
  assert.deepEqual(junk.request.payload, Buffer.from([0xff, 0xff, 0xff]));
  const seqs: Array<number | undefined> = [];
  for (let i = 0; i < 300; i++) {
    const d = w.decide({ topic: 'spBv1.0/g/NDATA/e', payload: encodeSparkplug({ timestamp: 1, seq: 7, metrics: [{ name: 'x', type: 'Double', value: i }] }), qos: 0 }, false, 1);
    assert.ok(d?.kind === 'send');
    seqs.push(toNumber(decodeSparkplug(d.request.payload as Buffer).seq));
  }
  assert.deepEqual(seqs.slice(253, 259), [254, 255, 0, 1, 2, 3]);
  for (const topic of ['spBv1.0/g/NDEATH/e', 'spBv1.0/g/NCMD/e', 'spBv1.0/STATE/host', 'spBv1.0/g/NDATA/e/extra', 'spBv1.0/g/DDATA/e', 'other/NDATA']) {
    assert.equal(w.decide({ topic, payload: 'x', qos: 0 }, false, 1), undefined, topic);
  }
  assert.deepEqual(w.decide({ topic: 'spBv1.0/g/NDATA/e', payload: birth, qos: 0 }, false, 2), { kind: 'hold', key: 'g/e' }, 'a new connection: unborn again');
});
