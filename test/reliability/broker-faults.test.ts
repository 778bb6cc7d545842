// Faults survived, nothing lost: a QoS 1 stream through secure-mqtt-out while the real Mosquitto is killed (SIGKILL)
// and restarted several times, and while it is frozen (SIGSTOP) long enough for keepalive to notice.
// Every message arrives, the connection comes back with growing delays, and the status never says "connected"
// while the broker is gone.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { BrokerNode } from '../../src/nodes/shared/broker-node';
import type { NodeStatus } from '../../src/nodes/shared/node-red';
import { waitFor } from '../helpers/broker';
import { startMosquitto, type RunningMosquitto } from '../helpers/mosquitto';
import { watch, type Watcher } from '../helpers/mqtt-watch';
import { helper, nodeModule, sleep, type TestNode } from '../helpers/node-red';
import { brokerUp, collect, connected, publishFlow } from '../helpers/publish';
import { checkStream, distinctCount, firstSeen, numbersOf } from '../helpers/stream-check';

const modules = [nodeModule('secure-mqtt-broker'), nodeModule('secure-mqtt-out')];

type Event = { kind: 'status'; s: NodeStatus } | { kind: 'mark'; what: string };

/** Statuses of the broker config node, interleaved with the test's own marks, in the order they happened. */
function timeline(): Event[] {
  const events: Event[] = [];
  (helper.getNode('b1') as unknown as BrokerNode).register({ status: (s) => events.push({ kind: 'status', s }) });
  return events;
}

/** Statuses seen between a mark `from` and the next mark `to`. */
function between(events: Event[], from: string, to: string): NodeStatus[] {
  const out: NodeStatus[] = [];
  let inside = false;
  for (const e of events) {
    if (e.kind === 'mark') {
      if (e.what === from) inside = true;
      else if (e.what === to) inside = false;
    } else if (inside) out.push(e.s);
  }
  return out;
}

describe('reliability: broker faults during a QoS 1 stream', () => {
  let mosq: RunningMosquitto;
  let w: Watcher | undefined;
  before(async () => {
    await helper.startServer();
    mosq = await startMosquitto({ persistence: true });
  });
  after(async () => {
    await mosq.stop();
    await helper.stopServer();
  });
  afterEach(async () => {
    await w?.close();
    w = undefined;
    await helper.unload();
  });

  test('SIGKILL and restart five times mid-stream: everything the node held arrives, status truthful, backoff between attempts', async () => {
    const KILLS = 5;
    const total = 6000;
    w = await watch(mosq.port, 'kill/#', { clientId: 'kill-watcher', clean: false });
    await waitFor(() => /kill-watcher 1 kill\/#|Sending SUBACK to kill-watcher/.test(mosq.log()), 5000, 'watcher subscribed');
    await sleep(1200); // the subscription is in the autosaved database before the first kill (autosave_interval 1)
    await helper.load(modules, publishFlow(mosq.port, { topic: 'kill/n', qos: '1' }, { clientId: 'kill-pub', reconnectMin: '0.2', reconnectMax: '2' }));
    const c = collect();
    const events = timeline();
    const p1: TestNode = await connected();
    const conn = (helper.getNode('b1') as unknown as BrokerNode).connection;
    assert.ok(conn);
    // Which broker lifetime acknowledged each message (lifetime k ends with kill k+1; the last one never ends). It
    // changes when the next broker accepts the connection, not at the kill: PUBACKs the killed broker sent just before
    // dying are still read after the signal.
    let kills = 0;
    let lifetime = 0;
    conn.on('state', (s) => {
      if (s.state === 'connected') lifetime = kills;
    });
    const ackedIn = new Map<number, number>();
    helper.getNode('okSink').on('input', (m: { payload: string }) => ackedIn.set(Number(m.payload), lifetime));
    const retries: number[] = [];
    conn.on('retry', (r) => retries.push(r.delayMs));

    let next = 0;
    let feeding = true;
    // The stream: a steady trickle that goes on through every outage.
    const feeder = (async () => {
      while (feeding && next < total) {
        for (let i = 0; i < 20 && next < total; i++) p1.receive({ payload: String(next++) });
        await sleep(5);
      }
    })();

    for (let k = 1; k <= KILLS; k++) {
      const before = distinctCount(w);
      await waitFor(() => distinctCount(w as Watcher) >= before + 300 || next >= total, 30000, `progress before kill ${k}`);
      events.push({ kind: 'mark', what: `kill${k}` });
      mosq.signal('SIGKILL');
      kills = k;
      await waitFor(() => !mosq.running, 5000, 'mosquitto gone');
      await waitFor(() => !brokerUp(), 10000, `outage ${k} noticed`);
      const retriesBefore = retries.length;
      await waitFor(() => retries.length >= retriesBefore + 2, 10000, `two retries during outage ${k}`);
      events.push({ kind: 'mark', what: `start${k}` });
      await mosq.start();
      await waitFor(() => brokerUp(), 15000, `reconnected after kill ${k}`);
    }
    await feeder;
    feeding = false;
    await waitFor(() => c.ok.length + c.notSent.length === total, 60000, 'every message settled');
    assert.equal(c.notSent.length, 0, 'nothing refused');
    assert.equal(c.ok.length, total, 'every message PUBACKed and done() once');
    // The node's guarantee: everything it held (queued or unacknowledged) is sent again after each restart. A SIGKILL
    // can still destroy what Mosquitto had acknowledged but not yet delivered or saved (it autosaves once a second):
    // that is the broker's durability window, so such a loss is allowed only for a message acknowledged by a broker
    // process that was then killed, never for one acknowledged by the broker that stayed up.
    const lastSegment = KILLS;
    const missing = (): number[] => {
      const got = new Set(numbersOf(w as Watcher));
      return Array.from({ length: total }, (_, i) => i).filter((i) => !got.has(i) && (ackedIn.get(i) ?? lastSegment) >= lastSegment);
    };
    await waitFor(() => missing().length === 0, 60000, 'every message delivered, except what a killed broker had acknowledged').catch((err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : String(err)}; missing: ${missing().slice(0, 50).join(', ')}`);
    });
    await sleep(500); // late redeliveries
    const got = new Set(numbersOf(w));
    const lost = Array.from({ length: total }, (_, i) => i).filter((i) => !got.has(i));
    for (const n of lost) assert.ok((ackedIn.get(n) ?? lastSegment) < lastSegment, `message ${n} lost although acknowledged by the surviving broker`);
    const firsts = firstSeen(numbersOf(w));
    for (let i = 1; i < firsts.length; i++) assert.ok(firsts[i] > firsts[i - 1], `in order: ${firsts[i - 1]} then ${firsts[i]}`);
    const duplicates = w.received.length - got.size;

    for (let k = 1; k <= KILLS; k++) {
      const during = between(events, `kill${k}`, `start${k}`);
      assert.ok(during.length > 0 && during.some((s) => s.fill === 'red' || s.fill === 'yellow'), `outage ${k} shown`);
      assert.ok(!during.some((s) => s.text?.startsWith('connected')), `never "connected" during outage ${k}: ${JSON.stringify(during)}`);
    }
    const reconnects = events.filter((e) => e.kind === 'status' && e.s.text === 'connected').length;
    assert.ok(reconnects >= KILLS + 1, `connected again after every kill (${reconnects})`);
    // Backoff: within each outage the delays grow from the minimum (0.2 s ± jitter) towards the maximum.
    assert.ok(retries.some((d) => d > 250), `delays grew beyond the first: ${retries.join(', ')}`);
    console.log(`[figures] kill loop: ${total} sent, ${got.size} distinct received, ${duplicates} duplicates, ${lost.length} lost inside a killed broker after its PUBACK (${lost.join(', ') || 'none'}), ${KILLS} SIGKILLs, ${retries.length} reconnect attempts`);
  });

  test('SIGSTOP long enough for keepalive to notice, then SIGCONT: status leaves "connected", then every message arrives', async () => {
    const total = 2000;
    w = await watch(mosq.port, 'freeze/#', { clientId: 'freeze-watcher', clean: false, keepalive: 600 });
    await helper.load(modules, publishFlow(mosq.port, { topic: 'freeze/n', qos: '1' }, { clientId: 'freeze-pub', keepalive: '1', reconnectMin: '0.2', reconnectMax: '1' }));
    const c = collect();
    const events = timeline();
    const p1 = await connected();
    for (let i = 0; i < 500; i++) p1.receive({ payload: String(i) });
    await waitFor(() => c.ok.length >= 500, 20000, 'first part acknowledged');

    events.push({ kind: 'mark', what: 'stop' });
    mosq.signal('SIGSTOP');
    for (let i = 500; i < total; i++) p1.receive({ payload: String(i) });
    // Keepalive 1 s: MQTT.js gives up on the missing PINGRESP and the node says so.
    await waitFor(() => !brokerUp(), 20000, 'keepalive noticed the frozen broker');
    const noticed = await waitFor(() => between(events, 'stop', 'never').find((s) => !s.text?.startsWith('connected')), 5000, 'a not-connected status');
    assert.ok(noticed.fill === 'red' || noticed.fill === 'yellow', JSON.stringify(noticed));
    // It keeps trying (TCP still connects to the frozen process's backlog; no CONNACK comes) and never claims success.
    await waitFor(() => between(events, 'stop', 'cont').filter((s) => s.text === 'connecting' || s.text?.startsWith('retrying')).length >= 2, 20000, 'attempts while frozen');
    events.push({ kind: 'mark', what: 'cont' });
    mosq.signal('SIGCONT');
    const frozen = between(events, 'stop', 'cont');
    assert.ok(!frozen.some((s) => s.text?.startsWith('connected')), `never "connected" while frozen: ${JSON.stringify(frozen)}`);
    await waitFor(() => brokerUp(), 20000, 'reconnected after SIGCONT');
    await waitFor(() => c.ok.length === total, 30000, 'every message acknowledged');
    await waitFor(() => distinctCount(w as Watcher) >= total, 30000, 'every message delivered');
    // Not checked for order: the thawed broker may still read publishes the client wrote to the connection it gave up.
    checkStream(numbersOf(w), total, { ordered: false });
    assert.equal(c.notSent.length, 0);
    console.log(`[figures] freeze: ${total} sent, ${distinctCount(w)} distinct received, ${w.received.length - distinctCount(w)} duplicates, 1 SIGSTOP`);
  });
});
