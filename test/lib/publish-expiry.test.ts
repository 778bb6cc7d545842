// MQTT 5 Message Expiry aged by the time a message waited on our side, and kept across a restart by the spool.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { agedRequest } from '../../src/lib/publish/expiry';
import { DiskSpool } from '../../src/lib/queue/spool';
import type { PublishRequest } from '../../src/lib/mqtt/connection';

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
