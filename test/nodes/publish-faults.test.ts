// The publish node against real faults: a broker that closes the connection on an oversized packet
// (Mosquitto's max_packet_size), a disk spool whose writes fail, the node closing with messages unfinished,
// and msg.retain given as a string.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { waitFor } from '../helpers/broker';
import { watch } from '../helpers/mqtt-watch';
import { DiskSpool } from '../../src/lib/queue/spool';
import { helper, logLines, nodeModule, sleep, statuses } from '../helpers/node-red';
import { freePort } from '../helpers/ports';
import { collect, connected, publishFlow } from '../helpers/publish';
import { runtimeWithBroker } from '../helpers/runtime-with-broker';
import { startProxy, type TcpProxy } from '../helpers/tcp-proxy';

const modules = [nodeModule('secure-mqtt-broker'), nodeModule('secure-mqtt-out')];
const errorOf = (m: Record<string, unknown>): { code?: string; message?: string } => (m.error ?? {}) as { code?: string; message?: string };

/** Node-RED's own close of one node (what a redeploy calls); the rest of the flow keeps running. */
async function closeNode(id: string): Promise<void> {
  await (helper.getNode(id) as unknown as { close(removed: boolean): Promise<void> }).close(false);
}

describe('secure-mqtt-out: a broker with max_packet_size 1000', () => {
  const rig = runtimeWithBroker({ extra: ['max_packet_size 1000'] });

  for (const version of ['5', '4']) {
    test(`MQTT ${version === '5' ? '5' : '3.1.1'}: a 5 kB message is refused on output 2 and the messages behind it arrive, in order`, async () => {
      const w = await watch(rig.mosq.port, `big${version}/#`);
      const clientId = `big-pub-${version}`;
      await helper.load(modules, publishFlow(rig.mosq.port, { topic: `big${version}/n`, qos: '1' }, { protocolVersion: version, clientId }));
      const c = collect();
      const p1 = await connected();
      for (const payload of ['0', 'x'.repeat(5000), '1', '2']) p1.receive({ payload });
      await waitFor(() => w.received.length === 3 && c.notSent.length === 1 && c.completed.length === 3, 20000, `small ones delivered, big one refused (${w.received.length} delivered, ${c.notSent.length} refused)`);
      assert.deepEqual(w.received.map((r) => r.payload.toString()), ['0', '1', '2']);
      assert.deepEqual(c.ok.map((m) => m.payload), ['0', '1', '2']);
      assert.equal((c.notSent[0].payload as string).length, 5000);
      const err = errorOf(c.notSent[0]);
      await waitFor(() => c.caught.length === 1, 5000, 'the refusal is an error a Catch node sees');
      if (version === '5') {
        assert.equal(err.code, 'TOO_LARGE');
        assert.match(err.message ?? '', /packet of 50\d\d bytes; the broker accepts at most 1000/);
        // Refused before sending: the broker never had a reason to drop the connection.
        assert.equal(rig.mosq.count(new RegExp(`New client connected .* as ${clientId}`)), 1);
      } else {
        assert.equal(err.code, 'PUBLISH_FAILED');
        assert.match(err.message ?? '', /connection was lost 3 times in a row while this message was the only one being sent.*max_packet_size/);
        assert.ok(rig.mosq.count(new RegExp(`New client connected .* as ${clientId}`)) >= 4, 'the broker closed the connection on it three times');
      }
      // Nothing more is retried: the next message goes straight through.
      p1.receive({ payload: '3' });
      await waitFor(() => w.received.length === 4, 5000, 'a later message');
      assert.equal(w.received[3].payload.toString(), '3');
      assert.equal(c.notSent.length, 1);
      await w.close();
    });
  }
});

describe('secure-mqtt-out: faults on the way', () => {
  const rig = runtimeWithBroker();
  let proxy: TcpProxy;
  let userDir: string;
  before(async () => {
    proxy = await startProxy(rig.mosq.port);
  });
  // A user directory of its own for each test: the spool (under it) must not carry messages from one to the next.
  beforeEach(() => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nrst-userdir-'));
    helper.settings({ userDir });
  });
  after(async () => {
    helper.settings({});
    await proxy.close();
  });

  test('spooled messages that expired while Node-RED was down: one warning with the count, not one per message', async () => {
    const dir = path.join(userDir, 'secure-telemetry-spool', 'p1');
    const spool = new DiskSpool(dir);
    spool.load();
    const hourAgo = Date.now() - 3600 * 1000;
    for (let seq = 1; seq <= 500; seq++) spool.append({ seq, request: { topic: 'restored/x', payload: `m${seq}`, qos: 1, properties: { messageExpiryInterval: 600 } }, bytes: 10, at: hourAgo });
    spool.close();
    await helper.load(modules, publishFlow(rig.mosq.port, { topic: 'restored/x', qos: '1', spool: true }, { clientId: 'restored-pub', protocolVersion: '5' }));
    await connected();
    await waitFor(() => logLines('spooled messages not sent').length === 1, 5000, 'the aggregated warning');
    await new Promise((r) => setTimeout(r, 300));
    assert.match(logLines('spooled messages not sent')[0], /^500 spooled messages not sent \(EXPIRED\), the first to "restored\/x"/);
    assert.equal(logLines('spooled message to').length, 0, 'no warning per message');
  });

  test('disk spool: ENOSPC writing the settled log inside the PUBACK callback does not crash; every message still goes', async () => {
    const w = await watch(rig.mosq.port, 'spoolfail/#');
    await helper.load(modules, publishFlow(rig.mosq.port, { topic: 'spoolfail/n', qos: '1', spool: true }, { clientId: 'spoolfail-pub' }));
    const c = collect();
    const p1 = await connected();
    const seen = statuses('p1');
    const dir = path.join(userDir, 'secure-telemetry-spool', 'p1');
    const fileOf = (fd: number): string => {
      try {
        return fs.readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return '';
      }
    };
    const enospc = (): Error => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    // The disk fills once the messages are written: the first write that fails is a settle, in the PUBACK callback.
    const realWrite = fs.writeSync;
    const realTruncate = fs.ftruncateSync;
    let full = false;
    const patched = fs as unknown as { writeSync: (fd: number, ...rest: unknown[]) => number; ftruncateSync: (fd: number, len?: number) => void };
    patched.writeSync = (fd: number, ...rest: unknown[]): number => {
      if (full && fileOf(fd) === path.join(dir, 'settled.log')) throw enospc();
      return (realWrite as (fd: number, ...r: unknown[]) => number)(fd, ...rest);
    };
    patched.ftruncateSync = (fd: number, len?: number): void => {
      if (full && path.dirname(fileOf(fd)) === dir) throw enospc();
      realTruncate(fd, len);
    };
    try {
      full = true;
      for (let i = 0; i < 5; i++) p1.receive({ payload: `a${i}` });
      await waitFor(() => c.completed.length === 5, 10000, 'the first five acknowledged');
      await waitFor(() => logLines('disk spool failed').length === 1, 5000, 'the failure reported');
      for (let i = 0; i < 5; i++) p1.receive({ payload: `b${i}` });
      await waitFor(() => w.received.length === 10 && c.completed.length === 10, 10000, 'later messages too');
    } finally {
      patched.writeSync = realWrite as unknown as typeof patched.writeSync;
      patched.ftruncateSync = realTruncate as unknown as typeof patched.ftruncateSync;
    }
    assert.deepEqual(w.received.map((r) => r.payload.toString()), ['a0', 'a1', 'a2', 'a3', 'a4', 'b0', 'b1', 'b2', 'b3', 'b4']);
    assert.equal(c.notSent.length, 0);
    assert.equal(c.caught.length, 0);
    assert.equal(logLines('disk spool failed').length, 1, 'warned once');
    assert.match(logLines('disk spool failed')[0], /ENOSPC/);
    await waitFor(() => seen.some((s) => s.includes('disk spool failed')), 5000, 'the status says so');
    // After the failure nothing more is written: the later messages lived in memory only.
    const onDisk = fs
      .readFileSync(path.join(dir, 'messages.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const record: unknown = JSON.parse(line);
        return Buffer.from((record as { p: string }).p, 'base64').toString();
      });
    assert.ok(onDisk.length > 0 && onDisk.every((p) => p.startsWith('a')), `only a* messages on disk: ${onDisk.join(',')}`);
    await w.close();
  });

  test('disk spool: a disk full at start (the spool cannot be rewritten) leaves the node working from memory, and it says so', async () => {
    const w = await watch(rig.mosq.port, 'fullstart/#');
    const enospc = (): Error => Object.assign(new Error('ENOSPC: no space left on device, open'), { code: 'ENOSPC' });
    const patched = fs as unknown as { openSync: (...args: unknown[]) => number; writeFileSync: (...args: unknown[]) => void };
    const realOpen = patched.openSync;
    const realWriteFile = patched.writeFileSync;
    const isTmp = (file: unknown): boolean => typeof file === 'string' && file.endsWith(path.join('p1', 'messages.jsonl.tmp'));
    patched.openSync = (...args: unknown[]): number => {
      if (isTmp(args[0])) throw enospc();
      return realOpen(...args);
    };
    patched.writeFileSync = (...args: unknown[]): void => {
      if (isTmp(args[0])) throw enospc();
      realWriteFile(...args);
    };
    try {
      await helper.load(modules, publishFlow(rig.mosq.port, { topic: 'fullstart/n', qos: '1', spool: true }, { clientId: 'fullstart-pub' }));
    } finally {
      patched.openSync = realOpen;
      patched.writeFileSync = realWriteFile;
    }
    const c = collect();
    const p1 = await connected();
    const seen = statuses('p1');
    for (let i = 0; i < 3; i++) p1.receive({ payload: `m${i}` });
    await waitFor(() => w.received.length === 3 && c.completed.length === 3, 10000, `sent from memory (${w.received.length})`);
    assert.deepEqual(w.received.map((r) => r.payload.toString()), ['m0', 'm1', 'm2']);
    assert.equal(c.caught.length, 0, 'nothing refused');
    assert.equal(logLines('disk spool failed').length, 1);
    assert.match(logLines('disk spool failed')[0], /ENOSPC/);
    await waitFor(() => seen.some((s) => s.includes('disk spool failed')), 5000, `the status says so: ${seen.join(' / ')}`);
    await w.close();
  });

  test('spooled messages still queued when the node closes are done() (kept for the next start)', async () => {
    const nowhere = await freePort(); // nothing listens: the messages wait in the queue
    await helper.load(modules, publishFlow(nowhere, { topic: 'kept/n', qos: '1', spool: true }, { clientId: 'kept-pub' }));
    const c = collect();
    const p1 = helper.getNode('p1');
    const seen = statuses('p1');
    for (let i = 0; i < 3; i++) p1.receive({ payload: `k${i}` });
    await waitFor(() => seen.some((s) => /queued 3/.test(s)), 5000, `three queued: ${seen.join(' / ')}`);
    await closeNode('p1');
    await waitFor(() => c.completed.length === 3, 5000, `every message ends at the Complete node (${c.completed.length})`);
    assert.deepEqual(c.completed.map((m) => m.payload), ['k0', 'k1', 'k2']);
    assert.equal(c.caught.length, 0, 'kept, not failed');
    assert.equal(logLines('3 queued message(s) kept in the disk spool').length, 1);
  });

  for (const spool of [false, true]) {
    test(`messages in flight when the node closes end once the connection is lost: ${spool ? 'spooled: done()' : 'memory only: CLOSED'}`, async () => {
      await helper.load(modules, publishFlow(proxy.port, { topic: 'inflight/n', qos: '1', spool }, { clientId: `inflight-${spool}` }));
      const c = collect();
      const p1 = await connected();
      const seen = statuses('p1');
      proxy.pause(); // no PUBACK comes back
      try {
        for (let i = 0; i < 3; i++) p1.receive({ payload: `f${i}` });
        await waitFor(() => seen.length > 0, 5000, 'the messages handed to the connection');
        await sleep(100);
        await closeNode('p1');
        proxy.cutAll();
      } finally {
        proxy.resume();
      }
      if (spool) {
        await waitFor(() => c.completed.length === 3, 5000, `every message ends at the Complete node (${c.completed.length})`);
        assert.equal(c.caught.length, 0);
        // The close waited for their acknowledgements, in vain: they stay in the spool for the next start.
        assert.equal(logLines('3 message(s) in flight still unacknowledged at close').length, 1);
      } else {
        await waitFor(() => c.caught.length === 3 && c.notSent.length === 3, 5000, `every message ends at the Catch node (${c.caught.length})`);
        assert.deepEqual(c.notSent.map((m) => errorOf(m).code), ['CLOSED', 'CLOSED', 'CLOSED']);
        assert.match(errorOf(c.notSent[0]).message ?? '', /node closed before the broker acknowledged/);
        assert.equal(c.completed.length, 0);
      }
      assert.equal(c.ok.length, 0);
    });
  }

  test('disk spool: a QoS 2 message in flight when the node is redeployed arrives once (the closing node waits for its acknowledgement)', async () => {
    const w = await watch(rig.mosq.port, 'redeploy/#');
    const flow = publishFlow(proxy.port, { topic: 'redeploy/n', qos: '2', spool: true }, { clientId: 'redeploy-pub' });
    await helper.load(modules, flow);
    const c = collect();
    const p1 = await connected();
    const seen = statuses('p1');
    let closing = false;
    // Another close callback on the old node: Node-RED runs them together, so this tells the close has begun.
    (p1 as unknown as { on(event: 'close', cb: (removed: boolean, done: () => void) => void): void }).on('close', (_removed, done) => {
      closing = true;
      done();
    });
    proxy.pause(); // the acknowledgement can only come once the old node is closing
    let deployed: Promise<void> | undefined;
    try {
      p1.receive({ payload: 'once' });
      await waitFor(() => seen.length > 0, 5000, 'the message handed to the connection');
      // Only this node changes: the connection (and its session) stays, shared by the old node and the new one.
      const changed = flow.map((n) => (n.id === 'p1' ? { ...n, name: 'redeployed' } : n));
      deployed = (helper as unknown as { setFlows(flow: object[], type: 'nodes'): Promise<void> }).setFlows(changed, 'nodes');
      await waitFor(() => closing, 5000, 'the old node closing');
    } finally {
      proxy.resume();
    }
    await deployed;
    const p2 = helper.getNode('p1');
    assert.notEqual(p2, p1, 'a new node');
    p2.receive({ payload: 'after' });
    // The new node would send a restored message before anything newer: once 'after' is there, a repeat would be too.
    await waitFor(() => w.received.some((r) => r.payload.toString() === 'after'), 10000, 'the next message');
    assert.deepEqual(w.received.map((r) => r.payload.toString()), ['once', 'after']);
    assert.deepEqual(c.ok.map((m) => m.payload), ['once', 'after']);
    assert.equal(logLines('spooled message(s) restored').length, 0, 'nothing restored by the new node');
    await w.close();
  });

  test('msg.retain "true" and "false" as strings, as Node-RED\'s mqtt out; anything else is refused', async () => {
    await helper.load(modules, publishFlow(rig.mosq.port, { topic: '', qos: '1' }, { clientId: 'retain-pub' }));
    const c = collect();
    const p1 = await connected();
    p1.receive({ topic: 'keep/a', payload: 'A', retain: 'true' });
    p1.receive({ topic: 'keep/b', payload: 'B', retain: 'false' });
    p1.receive({ topic: 'keep/c', payload: 'C', retain: 'yes' });
    p1.receive({ topic: 'keep/d', payload: 'D', retain: true });
    await waitFor(() => c.completed.length === 3 && c.caught.length === 1, 5000, 'three sent, one refused');
    assert.equal(c.notSent.length, 1);
    assert.equal(c.notSent[0].topic, 'keep/c');
    assert.equal(errorOf(c.notSent[0]).code, 'INVALID_MESSAGE');
    assert.match(errorOf(c.notSent[0]).message ?? '', /msg\.retain must be true or false/);
    // A subscriber arriving later gets what the broker retained.
    const w = await watch(rig.mosq.port, 'keep/#');
    await sleep(500);
    assert.deepEqual(w.received.map((r) => [r.topic, r.payload.toString(), r.packet.retain]).sort(), [
      ['keep/a', 'A', true],
      ['keep/d', 'D', true],
    ]);
    await w.close();
  });
});
