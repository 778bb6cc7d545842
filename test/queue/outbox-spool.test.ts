import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Outbox } from '../../src/lib/queue/outbox';
import { DiskSpool } from '../../src/lib/queue/spool';
import { inFlightLimit, MAX_IN_FLIGHT_ACKED, MAX_IN_FLIGHT_QOS0, Publisher, type PublishTransport } from '../../src/lib/publish/publisher';
import { PublishError, type PublishCallback, type PublishOutcome, type PublishRequest } from '../../src/lib/mqtt/connection';
import type { NotSent } from '../../src/lib/publish/types';

const item = (seq: number, bytes = 10): { seq: number; bytes: number } => ({ seq, bytes });

test('outbox: count limit with each policy', () => {
  for (const policy of ['drop-oldest', 'drop-newest', 'reject'] as const) {
    const box = new Outbox({ maxCount: 3, maxBytes: 1e9, policy });
    const results = [1, 2, 3, 4, 5].map((n) => box.push(item(n)));
    const left = box.drain().map((i) => i.seq);
    if (policy === 'drop-oldest') {
      assert.deepEqual(left, [3, 4, 5]);
      assert.deepEqual(results.flatMap((r) => r.evicted.map((e) => e.seq)), [1, 2]);
    } else {
      assert.deepEqual(left, [1, 2, 3]);
      assert.deepEqual(results.map((r) => r.accepted), [true, true, true, false, false]);
    }
  }
});

test('outbox: byte limit, and an item larger than the limit is refused outright', () => {
  const box = new Outbox({ maxCount: 100, maxBytes: 25, policy: 'drop-oldest' });
  box.push(item(1, 10));
  box.push(item(2, 10));
  const r = box.push(item(3, 10));
  assert.deepEqual(r.evicted.map((e) => e.seq), [1]);
  assert.equal(box.bytes, 20);
  assert.equal(box.push(item(4, 26)).accepted, false);
});

test('outbox: items given back go first, in seq order, whatever order they return in', () => {
  const box = new Outbox({ maxCount: 100, maxBytes: 1e9, policy: 'drop-oldest' });
  box.push(item(7));
  box.push(item(8));
  box.giveBack(item(5));
  box.giveBack(item(3));
  box.giveBack(item(4));
  assert.deepEqual(box.drain().map((i) => i.seq), [3, 4, 5, 7, 8]);
});

test('outbox: stays O(1) and correct over many cycles', () => {
  const box = new Outbox({ maxCount: 1e6, maxBytes: 1e12, policy: 'drop-oldest' });
  let out = 0;
  for (let i = 0; i < 100000; i++) {
    box.push(item(i, 1));
    if (i % 3 === 0) assert.equal(box.shift()?.seq, out++);
  }
  assert.equal(box.size, 100000 - out);
  assert.equal(box.drain()[0].seq, out);
});

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'nrst-spool-'));
}

const req = (n: number, qos: 0 | 1 | 2 = 1): PublishRequest => ({ topic: `t/${n}`, payload: `p${n}`, qos, retain: false });

test('spool: what is not settled survives a reopen, in order, with properties', () => {
  const dir = tmpDir();
  const a = new DiskSpool(dir);
  assert.deepEqual(a.load(), []);
  for (let n = 1; n <= 5; n++) a.append({ seq: n, request: n === 2 ? { ...req(n), properties: { correlationData: Buffer.from('cd'), contentType: 'x' } } : req(n), bytes: 4 });
  a.settle(1);
  a.settle(3);
  a.close();
  const b = new DiskSpool(dir);
  const back = b.load();
  assert.deepEqual(back.map((m) => m.seq), [2, 4, 5]);
  assert.equal(back[0].request.properties?.correlationData?.toString(), 'cd');
  assert.equal(back[0].request.properties?.contentType, 'x');
  assert.equal(back[0].request.payload.toString(), 'p2');
  b.close();
});

test('spool: a torn last line is skipped, and files shrink once everything is settled', () => {
  const dir = tmpDir();
  const a = new DiskSpool(dir);
  a.load();
  a.append({ seq: 1, request: req(1), bytes: 4 });
  a.close();
  fs.appendFileSync(path.join(dir, 'messages.jsonl'), '{"s":2,"t":"t/2","p":"cDI');
  const b = new DiskSpool(dir);
  assert.deepEqual(b.load().map((m) => m.seq), [1]);
  b.settle(1);
  assert.equal(fs.statSync(path.join(dir, 'messages.jsonl')).size, 0);
  b.close();
});

class FakeTransport implements PublishTransport {
  connected = true;
  pending: Array<{ req: PublishRequest; resolve: (o: PublishOutcome) => void; reject: (e: PublishError) => void }> = [];
  send(r: PublishRequest, settle: PublishCallback): void {
    this.pending.push({ req: r, resolve: (o) => settle(undefined, o), reject: (e) => settle(e) });
  }
  ackAll(): void {
    for (const p of this.pending.splice(0)) p.resolve({ reasonCode: 0 });
  }
  loseConnection(): void {
    this.connected = false;
    for (const p of this.pending.splice(0)) p.reject(new PublishError('CONNECTION_LOST', 'lost'));
  }
}

// Two turns of the event loop: settlements run, then the refill the publisher schedules for the next turn.
const flush = async (): Promise<void> => {
  for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
};

test('publisher: a window of in-flight publishes; a lost connection gives them back and they go first, in order', async () => {
  const t = new FakeTransport();
  const sent: number[] = [];
  const notSent: NotSent[] = [];
  const pub = new Publisher<number>(t, { maxCount: 100, maxBytes: 1e9, policy: 'drop-oldest' }, {
    sent: (n) => sent.push(n ?? -1),
    notSent: (_n, e) => notSent.push(e),
    changed: () => undefined,
  }, undefined, () => 3);
  for (let n = 0; n < 6; n++) pub.submit(req(n), 4, n);
  assert.equal(t.pending.length, 3, 'window of 3');
  assert.equal(pub.queued, 3);
  t.loseConnection();
  await flush();
  pub.submit(req(6), 4, 6);
  assert.equal(pub.queued, 7);
  t.connected = true;
  pub.pump();
  assert.deepEqual(t.pending.map((p) => p.req.topic), ['t/0', 't/1', 't/2']);
  for (let i = 0; i < 3; i++) {
    t.ackAll();
    await flush();
  }
  assert.deepEqual(sent, [0, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual(notSent, []);
});

test('publisher: the window depends on the QoS of the next message, and order is kept across QoS', async () => {
  const t = new FakeTransport();
  const sent: number[] = [];
  const pub = new Publisher<number>(t, { maxCount: 100, maxBytes: 1e9, policy: 'drop-oldest' }, {
    sent: (n) => sent.push(n ?? -1),
    notSent: () => undefined,
    changed: () => undefined,
  }, undefined, (qos) => (qos === 0 ? 2 : 4));
  // 0..2 QoS 1, then 3 QoS 0 (over its window of 2), then 4 QoS 1 (would fit, but must wait behind 3).
  for (let n = 0; n < 5; n++) pub.submit(req(n, n === 3 ? 0 : 1), 4, n);
  assert.deepEqual(t.pending.map((p) => p.req.topic), ['t/0', 't/1', 't/2']);
  assert.equal(pub.queued, 2);
  t.ackAll();
  await flush();
  assert.deepEqual(t.pending.map((p) => p.req.topic), ['t/3', 't/4']);
  t.ackAll();
  await flush();
  assert.deepEqual(sent, [0, 1, 2, 3, 4]);
});

test('inFlightLimit: QoS 0 bounded for MQTT.js drain listeners; QoS 1/2 by the broker Receive Maximum, capped', () => {
  assert.equal(inFlightLimit(0, 10), MAX_IN_FLIGHT_QOS0, 'Receive Maximum does not count QoS 0');
  assert.equal(inFlightLimit(1, undefined), MAX_IN_FLIGHT_ACKED);
  assert.equal(inFlightLimit(2, 20), 20);
  assert.equal(inFlightLimit(1, 65535), MAX_IN_FLIGHT_ACKED);
  assert.ok(MAX_IN_FLIGHT_QOS0 < 1000, 'below the socket listener warning');
});

test('publisher: a broker denial settles the message as not sent, with the reason code', async () => {
  const t = new FakeTransport();
  const notSent: NotSent[] = [];
  const pub = new Publisher<number>(t, { maxCount: 10, maxBytes: 1e9, policy: 'reject' }, {
    sent: () => undefined,
    notSent: (_n, e) => notSent.push(e),
    changed: () => undefined,
  });
  pub.submit(req(1), 4, 1);
  t.pending.splice(0)[0].reject(new PublishError('BROKER_DENIED', 'broker refused the message: not authorized', 0x87));
  await flush();
  assert.deepEqual(notSent, [{ code: 'BROKER_DENIED', message: 'broker refused the message: not authorized', reasonCode: 0x87 }]);
  assert.equal(pub.stats.denied, 1);
});

test('publisher: each delivery reaches the status through changed(), even when nothing was queued', async () => {
  const t = new FakeTransport();
  let changed = 0;
  const pub = new Publisher<number>(t, { maxCount: 10, maxBytes: 1e9, policy: 'reject' }, {
    sent: () => undefined,
    notSent: () => undefined,
    changed: () => changed++,
  });
  pub.submit(req(1), 4, 1);
  await flush();
  const before = changed;
  t.ackAll();
  await flush();
  assert.equal(pub.stats.sent, 1);
  assert.ok(changed > before, 'the sent count changed, so the status must be told');
});

test('publisher: a transport that settles before send() returns (MQTT.js writing QoS 0 at once) keeps order and counts', async () => {
  const seen: string[] = [];
  const t: PublishTransport = {
    connected: true,
    send(r, settle) {
      seen.push(r.topic);
      settle(undefined, { reasonCode: 0 });
    },
  };
  const sent: number[] = [];
  const pub = new Publisher<number>(t, { maxCount: 100, maxBytes: 1e9, policy: 'reject' }, {
    sent: (n) => sent.push(n ?? -1),
    notSent: () => assert.fail('nothing is refused'),
    changed: () => undefined,
  }, undefined, () => 2);
  for (let n = 0; n < 10; n++) pub.submit(req(n, 0), 4, n);
  await flush();
  assert.deepEqual(sent, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(seen, sent.map((n) => `t/${n}`));
  assert.equal(pub.stats.sent, 10);
  assert.equal(pub.stats.inFlight, 0);
  assert.equal(pub.queued, 0);
});
