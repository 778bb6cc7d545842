// Faults around the publisher: a disk spool that cannot write, a message the broker answers by closing the
// connection, messages still in flight when the node closes. Fake transports and file systems, to drive each one
// exactly; the node tests (test/nodes/publish-faults.test.ts) show the same against Mosquitto.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
// MQTT.js's own encoder (installed with it): what goes on the wire.
import { generate, type IPublishPacket } from 'mqtt-packet';
import { PublishError, type PublishCallback, type PublishRequest } from '../../src/lib/mqtt/connection';
import { publishPacketSize } from '../../src/lib/publish/packet-size';
import { Publisher, type PublisherEvents, type PublishTransport } from '../../src/lib/publish/publisher';
import type { NotSent } from '../../src/lib/publish/types';
import { DiskSpool, type SpoolFs } from '../../src/lib/queue/spool';

const tmpDir = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'nrst-spool-fault-'));
const req = (n: number, qos: 0 | 1 | 2 = 1, payload = `p${n}`): PublishRequest => ({ topic: `t/${n}`, payload, qos, retain: false });
const limits = { maxCount: 1000, maxBytes: 1e9, policy: 'drop-oldest' as const };
const flush = async (): Promise<void> => {
  for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
};

function enospc(): Error {
  return Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
}

/** The real file system, except that writes (and truncations) to the named files fail while `failing` is set. */
function diskThatFills(files: string[]): { fs: SpoolFs; failing: boolean } {
  const fdPath = (fd: number): string => fs.readlinkSync(`/proc/self/fd/${fd}`);
  const state = {
    failing: false,
    fs: {
      mkdirSync: (d: string, o: { recursive: true; mode: number }) => fs.mkdirSync(d, o),
      existsSync: (f: string) => fs.existsSync(f),
      openSync: (f: string, flags: 'r' | 'w' | 'a', mode?: number) => fs.openSync(f, flags, mode),
      readSync: (fd: number, b: Buffer, off: number, len: number, pos: null) => fs.readSync(fd, b, off, len, pos),
      renameSync: (a: string, b: string) => fs.renameSync(a, b),
      unlinkSync: (f: string) => fs.unlinkSync(f),
      writeSync: (fd: number, data: string) => {
        if (state.failing && files.includes(path.basename(fdPath(fd)))) throw enospc();
        return fs.writeSync(fd, data);
      },
      ftruncateSync: (fd: number, len: number) => {
        if (state.failing && files.includes(path.basename(fdPath(fd)))) throw enospc();
        fs.ftruncateSync(fd, len);
      },
      fsyncSync: (fd: number) => fs.fsyncSync(fd),
      closeSync: (fd: number) => fs.closeSync(fd),
    } satisfies SpoolFs,
  };
  return state;
}

class FakeTransport implements PublishTransport {
  connected = true;
  maximumPacketSize: number | undefined;
  protocolVersion: 4 | 5 = 5;
  pending: Array<{ req: PublishRequest; settle: PublishCallback }> = [];
  send(r: PublishRequest, settle: PublishCallback): void {
    this.pending.push({ req: r, settle });
  }
  ackAll(): void {
    for (const p of this.pending.splice(0)) p.settle(undefined, { reasonCode: 0 });
  }
  loseConnection(): void {
    this.connected = false;
    for (const p of this.pending.splice(0)) p.settle(new PublishError('CONNECTION_LOST', 'connection lost before the broker acknowledged'));
  }
}

interface Recorded<T> {
  sent: T[];
  notSent: Array<{ ctx: T | undefined; error: NotSent }>;
  kept: T[];
  events: PublisherEvents<T>;
}
function recorder<T>(): Recorded<T> {
  const r: Recorded<T> = {
    sent: [],
    notSent: [],
    kept: [],
    events: {
      sent: (ctx) => r.sent.push(ctx as T),
      notSent: (ctx, error) => r.notSent.push({ ctx, error }),
      kept: (ctx) => r.kept.push(ctx as T),
      changed: () => undefined,
    },
  };
  return r;
}

test('spool: a full disk at append keeps the message in memory, reports once, and never throws', () => {
  const dir = tmpDir();
  const disk = diskThatFills(['messages.jsonl', 'settled.log']);
  const failures: Error[] = [];
  const spool = new DiskSpool(dir, { fs: disk.fs, onFailure: (e) => failures.push(e) });
  spool.load();
  assert.equal(spool.append({ seq: 1, request: req(1), bytes: 4 }), true);
  disk.failing = true;
  assert.equal(spool.append({ seq: 2, request: req(2), bytes: 4 }), false, 'not on disk: the caller keeps it');
  assert.equal(spool.append({ seq: 3, request: req(3), bytes: 4 }), false);
  spool.settle(1);
  assert.equal(failures.length, 1, 'reported once');
  assert.match(failures[0].message, /ENOSPC/);
  assert.equal(spool.failed, failures[0]);
  spool.close();
  // Only what reached the disk comes back, and its settle could not be written: sent again rather than lost.
  const again = new DiskSpool(dir);
  assert.deepEqual(again.load().map((m) => m.seq), [1]);
  again.close();
});

test('spool: a short write counts as a failure, and a cut-off settled line is not trusted at load', () => {
  const dir = tmpDir();
  const failures: Error[] = [];
  let cut = false;
  const shortFs: SpoolFs = {
    ...diskThatFills([]).fs,
    // The disk fills mid-line: "12\n" becomes "1".
    writeSync: (fd: number, data: string) => fs.writeSync(fd, cut ? data.slice(0, 1) : data),
  };
  const spool = new DiskSpool(dir, { fs: shortFs, onFailure: (e) => failures.push(e) });
  spool.load();
  for (const seq of [1, 12, 13]) spool.append({ seq, request: req(seq), bytes: 4 });
  cut = true;
  spool.settle(12);
  assert.equal(failures.length, 1);
  assert.match(failures[0].message, /short write/);
  spool.close();
  assert.equal(fs.readFileSync(path.join(dir, 'settled.log'), 'utf8'), '1', 'the torn line is on disk');
  const again = new DiskSpool(dir);
  assert.deepEqual(again.load().map((m) => m.seq), [1, 12, 13], 'a torn "1" does not settle message 1');
  again.close();
});

test('publisher: the settle write failing inside the acknowledgement callback does not throw; later messages stay in memory', async () => {
  const dir = tmpDir();
  const disk = diskThatFills(['messages.jsonl', 'settled.log']);
  const failures: Error[] = [];
  const t = new FakeTransport();
  const r = recorder<number>();
  const pub = new Publisher<number>(t, limits, r.events, new DiskSpool(dir, { fs: disk.fs, onFailure: (e) => failures.push(e) }), () => 2);
  for (let n = 1; n <= 3; n++) pub.submit(req(n), 4, n);
  disk.failing = true;
  t.ackAll(); // MQTT.js calls back from its PUBACK handler: a throw here is an uncaught exception
  t.connected = false; // 3 stays queued
  await flush();
  assert.deepEqual(r.sent, [1, 2]);
  assert.equal(failures.length, 1);
  for (let n = 4; n <= 6; n++) pub.submit(req(n), 4, n);
  const { kept, discarded } = pub.close();
  // 3 reached the disk before the failure and is kept for the next start; 4 to 6 are only in memory.
  assert.deepEqual(kept, [3]);
  assert.deepEqual(discarded, [4, 5, 6]);
  assert.deepEqual(r.notSent, []);
});

test('publisher: messages in flight when it closes all end: kept (spooled) or CLOSED (memory only)', async () => {
  for (const spooled of [false, true]) {
    const t = new FakeTransport();
    const r = recorder<number>();
    const pub = new Publisher<number>(t, limits, r.events, spooled ? new DiskSpool(tmpDir()) : undefined, () => 10);
    for (let n = 1; n <= 3; n++) pub.submit(req(n), 4, n);
    assert.equal(t.pending.length, 3);
    assert.deepEqual(pub.close(), { kept: [], discarded: [] }, 'nothing was queued');
    t.loseConnection();
    await flush();
    if (spooled) {
      assert.deepEqual(r.kept, [1, 2, 3], 'on disk: kept for the next start');
      assert.deepEqual(r.notSent, []);
    } else {
      assert.deepEqual(r.notSent.map((n) => [n.ctx, n.error.code]), [[1, 'CLOSED'], [2, 'CLOSED'], [3, 'CLOSED']]);
      assert.deepEqual(r.kept, []);
    }
  }
});

test('publisher: a spooled message acknowledged after close() is settled on disk, so the node replacing it on redeploy does not send it again', async () => {
  // A redeploy: the old node closes while its message is in flight on the connection both nodes share.
  const dir = tmpDir();
  const t = new FakeTransport();
  const r = recorder<string>();
  const old = new Publisher<string>(t, limits, r.events, new DiskSpool(dir), () => 10);
  old.submit(req(1, 2, 'once'), 8, 'msg-1');
  assert.equal(t.pending.length, 1, 'in flight');
  assert.deepEqual(old.close(), { kept: [], discarded: [] });
  t.ackAll(); // the PUBCOMP comes after the close
  assert.deepEqual(r.sent, ['msg-1']);
  assert.deepEqual(r.kept, []);
  // The new node loads the spool only now (Node-RED waits for the old one's close).
  const successor = new Publisher<string>(t, limits, recorder<string>().events, new DiskSpool(dir), () => 10);
  assert.equal(successor.queued, 0, 'the acknowledged message is not restored');
  successor.pump();
  assert.equal(t.pending.length, 0, 'and not sent a second time');
  successor.close();
});

/** A publisher with a disk spool in a fresh directory, `count` messages submitted (each its own number as context). */
function spooledPublisher(count: number): { dir: string; t: FakeTransport; r: Recorded<number>; pub: Publisher<number> } {
  const dir = tmpDir();
  const t = new FakeTransport();
  const r = recorder<number>();
  const pub = new Publisher<number>(t, limits, r.events, new DiskSpool(dir), () => 10);
  for (let n = 1; n <= count; n++) pub.submit(req(n), 4, n);
  return { dir, t, r, pub };
}

test('publisher: settled() waits for the publishes in flight at close(), then closes the spool', async () => {
  const { dir, t, r, pub } = spooledPublisher(2);
  pub.close();
  let left: number | undefined;
  const closing = pub.settled(60_000).then((n) => (left = n));
  t.pending.shift()?.settle(undefined, { reasonCode: 0 });
  await flush();
  assert.equal(left, undefined, 'one is still in flight');
  t.ackAll();
  await closing;
  assert.equal(left, 0);
  assert.deepEqual(r.sent, [1, 2]);
  const next = new DiskSpool(dir);
  assert.deepEqual(next.load(), [], 'both settled on disk');
  next.close();
});

test('publisher: settled() stops waiting after its time; what is still in flight stays in the spool and ends later as kept', async () => {
  const { dir, t, r, pub } = spooledPublisher(3);
  t.pending.shift()?.settle(undefined, { reasonCode: 0 }); // 1 acknowledged before the close
  pub.close();
  assert.equal(await pub.settled(20), 2, 'two never acknowledged');
  assert.equal(await pub.settled(60_000), 2, 'the spool is closed: asking again does not wait');
  const next = new DiskSpool(dir);
  assert.deepEqual(next.load().map((m) => m.request.payload.toString()), ['p2', 'p3'], 'kept on disk for the next start');
  next.close();
  t.loseConnection();
  await flush();
  assert.deepEqual(r.kept, [2, 3], 'their flow messages end without an error');
  assert.deepEqual(r.sent, [1]);
  assert.deepEqual(r.notSent, []);
});

test('publisher: settled() after close() with nothing in flight resolves at once, with or without a spool', async () => {
  for (const spool of [undefined, new DiskSpool(tmpDir())]) {
    const pub = new Publisher<number>(new FakeTransport(), limits, recorder<number>().events, spool, () => 10);
    pub.close();
    assert.equal(await pub.settled(60_000), 0);
  }
});

test('publisher: MQTT 5 refuses a message larger than the broker Maximum Packet Size as TOO_LARGE, and sends the rest', async () => {
  const t = new FakeTransport();
  const r = recorder<number>();
  const pub = new Publisher<number>(t, limits, r.events, undefined, () => 10);
  t.maximumPacketSize = 1000;
  pub.submit(req(1), 4, 1);
  pub.submit(req(2, 1, 'x'.repeat(5000)), 5004, 2);
  pub.submit(req(3), 4, 3);
  assert.deepEqual(t.pending.map((p) => p.req.topic), ['t/1', 't/3'], 'the big one never reaches the connection');
  assert.equal(r.notSent.length, 1);
  assert.equal(r.notSent[0].ctx, 2);
  assert.equal(r.notSent[0].error.code, 'TOO_LARGE');
  assert.match(r.notSent[0].error.message, /packet of 5011 bytes; the broker accepts at most 1000/);
  t.ackAll();
  await flush();
  assert.deepEqual(r.sent, [1, 3]);
});

/**
 * A broker that closes the connection when it reads a message over its size limit (Mosquitto's max_packet_size on
 * MQTT 3.1.1), losing the acknowledgements of what it read just before (written later in its loop), as the worst case.
 */
async function runAgainstSizeLimitedBroker(pub: Publisher<number>, t: FakeTransport, limit: number, maxRounds: number): Promise<number> {
  let losses = 0;
  for (let round = 0; round < maxRounds; round++) {
    await flush();
    if (t.pending.length === 0) {
      if (pub.queued === 0) return losses;
      t.connected = true; // reconnect
      pub.pump();
      continue;
    }
    if (t.pending.some((p) => publishPacketSize(p.req, 4) > limit)) {
      losses++;
      t.loseConnection();
    } else t.ackAll();
  }
  throw new Error(`still going after ${maxRounds} rounds (${losses} lost connections, ${pub.queued} queued)`);
}

test('publisher: MQTT 3.1.1, a message the broker answers by closing the connection is refused after 3 losses; the rest go, in order', async () => {
  const t = new FakeTransport();
  t.protocolVersion = 4;
  const r = recorder<number>();
  const pub = new Publisher<number>(t, limits, r.events, undefined, () => 50, { giveUpAfterLosses: 3 });
  for (let n = 0; n < 40; n++) pub.submit(req(n, 1, n === 17 ? 'x'.repeat(5000) : `p${n}`), 4, n);
  const losses = await runAgainstSizeLimitedBroker(pub, t, 1000, 500);
  assert.deepEqual(r.sent, Array.from({ length: 40 }, (_, n) => n).filter((n) => n !== 17), 'every other message, in order');
  assert.equal(r.notSent.length, 1);
  assert.equal(r.notSent[0].ctx, 17);
  assert.equal(r.notSent[0].error.code, 'PUBLISH_FAILED');
  assert.match(r.notSent[0].error.message, /connection was lost 3 times in a row while this message was the only one being sent/);
  assert.ok(losses <= 10, `found in a few reconnects: ${losses}`);
});

test('publisher: the loss guard does not blame messages that were in flight together at a lost connection', async () => {
  const t = new FakeTransport();
  const r = recorder<number>();
  const pub = new Publisher<number>(t, limits, r.events, undefined, () => 5, { giveUpAfterLosses: 1 });
  for (let n = 0; n < 5; n++) pub.submit(req(n), 4, n);
  t.loseConnection(); // five in flight: none of them is singled out
  await flush();
  assert.deepEqual(r.notSent, []);
  t.connected = true;
  pub.pump();
  assert.equal(t.pending.length, 1, 'after a loss, one at a time');
  t.ackAll();
  await flush();
  assert.equal(t.pending.length, 2, 'then one more per acknowledgement');
  for (let i = 0; i < 5 && t.pending.length > 0; i++) {
    t.ackAll();
    await flush();
  }
  assert.deepEqual(r.sent, [0, 1, 2, 3, 4]);
});

test('publisher: a low-rate message alone in flight on a flaky link is never given up: only losses right after sending count', async (t) => {
  // A sensor sending now and then always has its message alone in flight; a link that dies is noticed by the
  // keepalive, long after the send. Such losses must not add up to a refusal, however many there are.
  let now = 1_000_000;
  t.mock.method(Date, 'now', () => now);
  const tr = new FakeTransport();
  const r = recorder<number>();
  const pub = new Publisher<number>(tr, limits, r.events, undefined, () => 50, { giveUpAfterLosses: 2 });
  pub.submit(req(0), 4, 0);
  for (let loss = 0; loss < 5; loss++) {
    now += 90_000; // the keepalive notices the dead link
    tr.loseConnection();
    await flush();
    tr.connected = true;
    pub.pump();
    assert.equal(tr.pending.length, 1, `sent again after loss ${loss + 1}`);
  }
  assert.equal(r.notSent.length, 0, 'never given up');
  // A refusal: the connection drops as the message goes out. Two in a row, and it is given up.
  for (let loss = 0; loss < 2; loss++) {
    now += 20;
    tr.loseConnection();
    await flush();
    tr.connected = true;
    pub.pump();
  }
  assert.equal(r.notSent.length, 1);
  assert.equal(r.notSent[0].error.code, 'PUBLISH_FAILED');
});

test('publishPacketSize: the size MQTT.js encodes, for v3.1.1 and v5, across the length-field boundaries', () => {
  const cases: PublishRequest[] = [];
  for (const len of [0, 1, 100, 120, 127, 128, 200, 16370, 16384, 20000, 2097152])
    for (const qos of [0, 1, 2] as const) cases.push({ topic: 'a/€/b', payload: 'é'.repeat(len >> 1) + 'x'.repeat(len & 1), qos, retain: false });
  cases.push({
    topic: 't',
    payload: Buffer.alloc(300),
    qos: 1,
    properties: {
      contentType: 'application/json',
      messageExpiryInterval: 60,
      responseTopic: 'reply/ü',
      correlationData: Buffer.from('abc'),
      userProperties: { k: 'v', 'ключ': ['a', 'bé'] },
      payloadFormatIndicator: true,
    },
  });
  for (const r of cases) {
    for (const version of [4, 5] as const) {
      const packet: IPublishPacket = { cmd: 'publish', topic: r.topic, payload: r.payload, qos: r.qos, retain: false, dup: false };
      if (r.qos > 0) packet.messageId = 1;
      if (version === 5 && r.properties) packet.properties = r.properties;
      assert.equal(publishPacketSize(r, version), generate(packet, { protocolVersion: version }).length, `v${version} qos ${r.qos} payload ${r.payload.length}`);
    }
  }
});
