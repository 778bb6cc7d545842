// MQTT 5 Message Expiry aged by the time a message waited on our side, and kept across a restart by the spool.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { agedRequest } from '../../src/lib/publish/expiry';
import { DiskSpool } from '../../src/lib/queue/spool';
import type { PublishCallback, PublishRequest } from '../../src/lib/mqtt/connection';
import { Publisher, type PublishTransport } from '../../src/lib/publish/publisher';
import type { OutboxLimits } from '../../src/lib/queue/outbox';

const req = (messageExpiryInterval?: number): PublishRequest => ({
  topic: 't',
  payload: 'x',
  qos: 1,
  ...(messageExpiryInterval === undefined ? {} : { properties: { messageExpiryInterval, contentType: 'text/plain' } }),
});

test('whole seconds waited come off the interval; the other properties stay', () => {
  assert.deepEqual(agedRequest(req(60), 1000, 1000 + 2999)?.properties, { messageExpiryInterval: 58, contentType: 'text/plain' });
});

test('under a second of waiting, or no interval, or 0 (never expires to Mosquitto): the request as it is', () => {
  const r = req(5);
  assert.equal(agedRequest(r, 1000, 1999), r);
  const plain = req();
  assert.equal(agedRequest(plain, 0, 1e9), plain);
  const zero = req(0);
  assert.equal(agedRequest(zero, 0, 1e9), zero);
});

test('once the interval has passed there is nothing to send', () => {
  assert.equal(agedRequest(req(2), 0, 2000), undefined);
  assert.equal(agedRequest(req(2), 0, 1999)?.properties?.messageExpiryInterval, 1);
});

test('a clock that went back counts as no time waited', () => {
  const r = req(5);
  assert.equal(agedRequest(r, 10_000, 5_000), r);
});

test('the spool keeps when an expiring message was accepted, and only for such messages', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'expiry-spool-'));
  try {
    const spool = new DiskSpool(dir);
    spool.load();
    assert.ok(spool.append({ seq: 1, request: req(30), bytes: 2, at: 1234 }));
    assert.ok(spool.append({ seq: 2, request: req(), bytes: 2, at: 5678 }));
    spool.close();
    const again = new DiskSpool(dir);
    const loaded = again.load();
    again.close();
    assert.deepEqual(loaded.map((m) => [m.seq, m.at]), [[1, 1234], [2, undefined]]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('compaction rewrites the time an expiring message was accepted', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'expiry-compact-'));
  try {
    const spool = new DiskSpool(dir, { compactMinBytes: 1 });
    spool.load();
    for (let seq = 1; seq <= 20; seq++) assert.ok(spool.append({ seq, request: req(30), bytes: 2, at: 1000 + seq }));
    const before = fs.statSync(path.join(dir, 'messages.jsonl')).size;
    for (let seq = 1; seq < 20; seq++) spool.settle(seq);
    spool.close();
    const after = fs.statSync(path.join(dir, 'messages.jsonl')).size;
    assert.ok(after < before, `compacted: ${before} -> ${after} bytes`);
    const again = new DiskSpool(dir);
    assert.deepEqual(again.load().map((m) => [m.seq, m.at]), [[20, 1020]]);
    again.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** A transport that is up or down, and acknowledges what it is given at once. */
class Link implements PublishTransport {
  connected = false;
  readonly sent: PublishRequest[] = [];
  send(r: PublishRequest, settle: PublishCallback): void {
    this.sent.push(r);
    settle(undefined, { reasonCode: 0 });
  }
}

function publisherOn(link: Link, limits: OutboxLimits, spool?: DiskSpool): { publisher: Publisher<string>; notSent: Array<[string | undefined, string]> } {
  const notSent: Array<[string | undefined, string]> = [];
  const publisher = new Publisher<string>(link, limits, { sent: () => undefined, notSent: (ctx, e) => notSent.push([ctx, e.code]), changed: () => undefined }, spool);
  return { publisher, notSent };
}

test('the time waited is read from a monotonic clock: NTP stepping the wall clock forward expires nothing', (t) => {
  let wall = 1_000_000;
  let mono = 5_000;
  t.mock.method(Date, 'now', () => wall);
  t.mock.method(performance, 'now', () => mono);
  const link = new Link();
  const { publisher, notSent } = publisherOn(link, { maxCount: 10, maxBytes: 1e9, policy: 'drop-oldest' });
  publisher.submit(req(3600), 10, 'queued');
  wall += 2 * 3600 * 1000; // a Pi without a clock: fake-hwclock time, then NTP
  mono += 2000;
  link.connected = true;
  publisher.pump();
  assert.deepEqual(notSent, []);
  assert.equal(link.sent[0].properties?.messageExpiryInterval, 3598);
});

test('a queue full of lapsed messages makes room for fresh ones, under drop-newest and reject too', (t) => {
  for (const policy of ['drop-newest', 'reject'] as const) {
    let mono = 0;
    t.mock.method(performance, 'now', () => mono);
    const link = new Link();
    const { publisher, notSent } = publisherOn(link, { maxCount: 3, maxBytes: 1e9, policy });
    for (const name of ['old1', 'old2', 'old3']) publisher.submit(req(1), 10, name);
    mono += 5000;
    for (const name of ['new1', 'new2', 'new3']) publisher.submit(req(60), 10, name);
    assert.deepEqual(notSent, [['old1', 'EXPIRED'], ['old2', 'EXPIRED'], ['old3', 'EXPIRED']], policy);
    link.connected = true;
    publisher.pump();
    assert.equal(link.sent.length, 3, policy);
    t.mock.restoreAll();
  }
});

test('an evicted message whose lifetime has passed is EXPIRED, not QUEUE_FULL', (t) => {
  let mono = 0;
  t.mock.method(performance, 'now', () => mono);
  const link = new Link();
  const { publisher, notSent } = publisherOn(link, { maxCount: 1, maxBytes: 1e9, policy: 'drop-oldest' });
  publisher.submit(req(1), 10, 'old');
  mono += 1500;
  publisher.submit(req(), 10, 'plain');
  publisher.submit(req(), 10, 'newer');
  assert.deepEqual(notSent, [['old', 'EXPIRED'], ['plain', 'QUEUE_FULL']]);
});

test('a spooled message restored after a restart counts its age on the wall clock', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'expiry-restart-'));
  try {
    const spool = new DiskSpool(dir);
    spool.load();
    spool.append({ seq: 1, request: req(600), bytes: 2, at: Date.now() - 3600 * 1000 });
    spool.append({ seq: 2, request: req(7200), bytes: 2, at: Date.now() - 3600 * 1000 });
    spool.close();
    const link = new Link();
    const { publisher, notSent } = publisherOn(link, { maxCount: 10, maxBytes: 1e9, policy: 'drop-oldest' }, new DiskSpool(dir));
    link.connected = true;
    publisher.pump();
    assert.deepEqual(notSent, [[undefined, 'EXPIRED']]);
    const left = link.sent[0].properties?.messageExpiryInterval ?? 0;
    assert.ok(left > 3590 && left <= 3600, String(left));
    publisher.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
