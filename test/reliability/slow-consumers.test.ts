// A stalled broker link and a slow subscriber: the publish node's queue limits hold, every drop is counted, routed to
// output 2 and shown in the status, memory stays bounded (measured with process.memoryUsage after a full GC), and the
// broker's own per-client limit protects a fast publisher from a slow subscriber.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { waitFor } from '../helpers/broker';
import { startMosquitto, type RunningMosquitto } from '../helpers/mosquitto';
import { watch, type Watcher } from '../helpers/mqtt-watch';
import { helper, nodeModule, sleep } from '../helpers/node-red';
import { connected, publishFlow } from '../helpers/publish';
import { startProxy, type TcpProxy } from '../helpers/tcp-proxy';
import { MAX_IN_FLIGHT_ACKED } from '../../src/lib/publish/publisher';

const modules = [nodeModule('secure-mqtt-broker'), nodeModule('secure-mqtt-out')];

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Bytes the process holds after a full collection: JS heap plus Buffers (payloads live outside the heap). */
async function memory(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

/** The test helper records every call of send/status/error for its spies; forget them so only the node's memory counts. */
function forgetSpyHistory(): void {
  (helper as unknown as { _sandbox: { resetHistory(): void } })._sandbox.resetHistory();
}

const MB = 1024 * 1024;

interface Counts {
  ok: number;
  dropped: number;
  other: number;
  droppedFlags: Uint8Array;
  statuses: string[];
}

/** Counts outcomes without keeping the messages (the measurement must not hold them either). */
function count(total: number): Counts {
  const c: Counts = { ok: 0, dropped: 0, other: 0, droppedFlags: new Uint8Array(total), statuses: [] };
  helper.getNode('okSink').on('input', () => c.ok++);
  helper.getNode('errSink').on('input', (m: { payload: string; error?: { code?: string } }) => {
    if (m.error?.code === 'QUEUE_FULL') {
      c.dropped++;
      c.droppedFlags[Number(m.payload.slice(0, m.payload.indexOf(':')))] = 1;
    } else c.other++;
  });
  helper.getNode('p1').on('call:status', (call: { args: Array<{ text?: string }> }) => c.statuses.push(call.args[0].text ?? ''));
  return c;
}

describe('reliability: stalled links, slow subscribers, bounded memory', () => {
  let mosq: RunningMosquitto;
  let proxy: TcpProxy | undefined;
  let w: Watcher | undefined;
  before(async () => {
    await helper.startServer();
    mosq = await startMosquitto({ extra: ['max_queued_messages 1000', 'max_inflight_messages 20'] });
  });
  after(async () => {
    await mosq.stop();
    await helper.stopServer();
  });
  afterEach(async () => {
    await w?.close();
    w = undefined;
    await proxy?.close();
    proxy = undefined;
    await helper.unload();
  });

  test('broker link stalled: 40,000 × 1 KB pushed into a 1 MB / 2,000-message queue; limits hold, drops counted, memory bounded', async () => {
    const total = 40_000;
    const payloadBytes = 1024;
    proxy = await startProxy(mosq.port);
    w = await watch(mosq.port, 'stall/#', { clientId: 'stall-watch' });
    await helper.load(modules, publishFlow(proxy.port, { topic: 'stall/n', qos: '1', queueMax: '2000', queueMegabytes: '1', overflow: 'drop-oldest' }, { clientId: 'stall-pub' }));
    const c = count(total);
    const p1 = await connected();
    p1.receive({ payload: 'warm-up:' });
    await waitFor(() => c.ok === 1, 5000, 'warm-up sent');
    c.ok = 0;
    proxy.pause(); // the broker stops reading: PUBACKs stop, the in-flight window fills, then the queue
    const before = await memory();
    let peakQueued = 0;
    for (let i = 0; i < total; i++) {
      p1.receive({ payload: `${i}:`.padEnd(payloadBytes, 'x') });
      if (i % 1000 === 999) {
        await new Promise((r) => setImmediate(r));
        forgetSpyHistory();
      }
    }
    await sleep(400); // statuses are throttled to one per 250 ms
    const inStalled = await waitFor(() => c.statuses.at(-1)?.match(/queued (\d+)/) ?? undefined, 5000, 'queued count in the status');
    const during = await memory();
    for (const s of c.statuses) peakQueued = Math.max(peakQueued, Number(/queued (\d+)/.exec(s)?.[1] ?? 0));
    const queuedWhileStalled = Number(inStalled[1]);
    assert.ok(peakQueued <= 2000, `count limit held: ${peakQueued}`);
    assert.ok(queuedWhileStalled * payloadBytes <= 1 * MB, `byte limit held: ${queuedWhileStalled} queued`);
    assert.ok(c.dropped >= total - 2000 - MAX_IN_FLIGHT_ACKED, `drops counted on output 2: ${c.dropped}`);
    assert.equal(c.other, 0);
    const growth = during - before;
    assert.ok(growth < 24 * MB, `memory bounded: grew ${(growth / MB).toFixed(1)} MB while ${(total * payloadBytes) / MB} MB were pushed`);
    assert.match(c.statuses.at(-1) ?? '', new RegExp(`queue full ×${c.dropped}`), 'the status reports the drops');

    proxy.resume();
    await waitFor(() => c.ok + c.dropped === total, 30000, `every message settled (${c.ok} sent + ${c.dropped} dropped)`);
    await waitFor(() => w?.received.length === c.ok + 1, 20000, 'the watcher got every sent message');
    const received = (w as Watcher).received.slice(1).map((r) => Number(r.payload.toString().split(':')[0]));
    assert.ok(received.every((n) => c.droppedFlags[n] === 0), 'nothing reported as dropped was sent');
    assert.equal(new Set(received).size, c.ok, 'each sent message once');
    forgetSpyHistory();
    const afterDrain = await memory();
    console.log(`[figures] stalled link: ${total} × ${payloadBytes} B pushed; limits 2000 msgs / 1 MB, drop-oldest; sent ${c.ok}, dropped ${c.dropped} (all on output 2 and in the status), peak queued ${peakQueued}; memory (heapUsed+external after GC) before ${(before / MB).toFixed(1)} MB, stalled ${(during / MB).toFixed(1)} MB (+${(growth / MB).toFixed(1)}), drained ${(afterDrain / MB).toFixed(1)} MB`);
  });

  test('a slow subscriber does not slow the publisher: the broker drops for it at its limit, a fast subscriber gets everything', async () => {
    const total = 5000;
    proxy = await startProxy(mosq.port);
    // The slow subscriber: QoS 1 through a link that stops reading, persistent session, so the broker queues for it.
    const slow = await watch(proxy.port, 'fan/#', { clientId: 'slow-sub', clean: false, keepalive: 600 });
    w = await watch(mosq.port, 'fan/#', { clientId: 'fast-sub' });
    proxy.pause();
    await helper.load(modules, publishFlow(mosq.port, { topic: 'fan/n', qos: '1', queueMax: '1000', overflow: 'drop-oldest' }, { clientId: 'fan-pub' }));
    const c = count(total);
    const p1 = await connected();
    const before = await memory();
    for (let i = 0; i < total; i++) {
      p1.receive({ payload: `${i}:${'y'.repeat(200)}` });
      // A steady stream the broker keeps up with (bursts beyond the queue are the other test's subject).
      if (i % 100 === 99) await waitFor(() => c.ok + c.dropped >= i - 600, 20000, 'broker keeps up with the publisher');
    }
    await waitFor(() => c.ok === total, 30000, 'every message acknowledged by the broker').catch((e: Error) => { throw new Error(`${e.message}: ok ${c.ok} dropped ${c.dropped} other ${c.other} status ${c.statuses.at(-1)}`); });
    await waitFor(() => w?.received.length === total, 30000, 'the fast subscriber got everything');
    forgetSpyHistory();
    const afterAll = await memory();
    assert.equal(c.dropped, 0, 'the publisher dropped nothing: the slow subscriber is the broker’s problem');
    await waitFor(() => /Outgoing messages are being dropped for client slow-sub/.test(mosq.log()), 10000, 'the broker reports dropping for the slow subscriber');
    proxy.resume();
    const slowDistinct = (): number => new Set(slow.received.map((r) => r.payload.toString().split(':')[0])).size;
    // What the broker kept for it: 20 in flight (max_inflight_messages) + 1000 queued (max_queued_messages).
    await waitFor(() => slowDistinct() >= 1020, 20000, 'the slow subscriber catches up with what the broker kept');
    await sleep(300); // anything beyond the limit would arrive now
    const slowGot = slowDistinct();
    assert.equal(slowGot, 1020, `the slow subscriber got exactly what the broker's limits kept (${slowGot} of ${total})`);
    await slow.close();
    console.log(`[figures] slow subscriber: ${total} published (all PUBACKed, 0 dropped by the node); fast subscriber ${w.received.length}, slow subscriber ${slowGot} (broker max_queued_messages 1000); memory ${(before / MB).toFixed(1)} → ${(afterAll / MB).toFixed(1)} MB`);
  });
});
