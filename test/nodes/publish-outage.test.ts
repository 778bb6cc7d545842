import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { helper, logLines, nodeModule } from '../helpers/node-red';
import { waitFor } from '../helpers/broker';
import { watch } from '../helpers/mqtt-watch';
import { brokerUp, collect, connected, publishFlow } from '../helpers/publish';
import { checkStream, distinctCount, numbersOf } from '../helpers/stream-check';
import { MAX_IN_FLIGHT_ACKED } from '../../src/lib/publish/publisher';
import { runtimeWithBroker } from '../helpers/runtime-with-broker';

const modules = [nodeModule('secure-mqtt-broker'), nodeModule('secure-mqtt-out')];

describe('secure-mqtt-out: outages', () => {
  const rig = runtimeWithBroker({ persistence: true });

  test('10,000 QoS 1 messages with the broker stopped mid-stream and started again: all arrive, in order', async () => {
    // A persistent subscriber session, so what the broker accepted before the stop is still delivered after it.
    const w = await watch(rig.mosq.port, 'stream/#', { clientId: 'stream-watcher', clean: false });
    await helper.load(modules, publishFlow(rig.mosq.port, { topic: 'stream/n', qos: '1' }, { clientId: 'stream-pub' }));
    const c = collect();
    const p1 = await connected();
    const total = 10000;
    let next = 0;
    const feed = async (upTo: number): Promise<void> => {
      for (; next < upTo; next++) {
        p1.receive({ payload: String(next) });
        if (next % 200 === 0) await new Promise((r) => setImmediate(r));
      }
    };
    await feed(4000);
    await waitFor(() => w.received.length >= 1000, 20000, 'stream flowing');
    await rig.mosq.stop();
    await waitFor(() => !brokerUp(), 5000, 'node notices the outage');
    await feed(total); // the rest arrives while the broker is down
    await rig.mosq.start();
    await waitFor(() => distinctCount(w) >= total, 60000, 'all delivered');
    await waitFor(() => c.completed.length === total, 20000, 'every done() called');
    const { duplicates } = checkStream(numbersOf(w), total, { ordered: true });
    assert.ok(duplicates <= MAX_IN_FLIGHT_ACKED, `duplicates only from the in-flight window at the outage: ${duplicates}`);
    assert.equal(c.notSent.length, 0);
    assert.equal(c.ok.length, total);
    await w.close();
  });

  test('queue limits hold while disconnected; drops are counted, routed to output 2 and reported', async () => {
    await helper.load(modules, publishFlow(rig.mosq.port, { topic: 'limits/x', qos: '1', queueMax: '10', overflow: 'drop-oldest' }, { clientId: 'limits-1' }));
    const c = collect();
    const p1 = await connected();
    await rig.mosq.stop();
    await waitFor(() => !brokerUp(), 5000, 'outage noticed');
    for (let i = 0; i < 25; i++) p1.receive({ payload: String(i) });
    await waitFor(() => c.notSent.length === 15, 5000, 'drops');
    assert.deepEqual(c.notSent.map((m) => m.payload), Array.from({ length: 15 }, (_, i) => String(i)), 'the oldest were dropped');
    assert.ok(c.notSent.every((m) => (m.error as { code: string }).code === 'QUEUE_FULL'));
    assert.equal(c.caught.length, 0, 'drop-oldest is a policy, not an error');
    const w = await (async () => {
      await rig.mosq.start();
      return watch(rig.mosq.port, 'limits/#', { clientId: 'limits-watch' });
    })();
    await waitFor(() => c.ok.length === 10, 10000, 'the ten queued messages sent after reconnect');
    assert.deepEqual(c.ok.map((m) => m.payload), Array.from({ length: 10 }, (_, i) => String(15 + i)));
    await w.close();
  });

  test('MQTT 5 message expiry counts the time in the queue: a lapsed message is EXPIRED on output 2, the rest go with what is left', async () => {
    // A kept session (the broker saves it across its restart): the node may publish before a new watcher subscribes.
    const w = await watch(rig.mosq.port, 'expiry/#', { clientId: 'expiry-watch', protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 600 } });
    await helper.load(modules, publishFlow(rig.mosq.port, { topic: 'expiry/x', qos: '1' }, { clientId: 'expiry-1', protocolVersion: '5' }));
    const c = collect();
    const p1 = await connected();
    await rig.mosq.stop();
    await waitFor(() => !brokerUp(), 5000, 'outage noticed');
    p1.receive({ payload: 'short', messageExpiry: 1 });
    p1.receive({ payload: 'long', messageExpiry: 60 });
    p1.receive({ payload: 'forever' });
    await new Promise((r) => setTimeout(r, 2100));
    await rig.mosq.start();
    await waitFor(() => c.ok.length === 2 && c.notSent.length === 1, 10000, 'two sent, one expired');
    await waitFor(() => w.received.length === 2, 5000, 'two delivered');
    assert.deepEqual(w.received.map((m) => m.payload.toString()), ['long', 'forever']);
    const left = w.received[0].packet.properties?.messageExpiryInterval ?? 0;
    assert.ok(left >= 55 && left <= 58, `the interval left after about two seconds queued: ${left}`);
    assert.equal(w.received[1].packet.properties?.messageExpiryInterval, undefined);
    assert.equal(c.notSent[0].payload, 'short');
    assert.equal((c.notSent[0].error as { code: string }).code, 'EXPIRED');
    assert.equal(c.caught.length, 0, 'a lifetime the message set is no error');
    await waitFor(() => c.completed.length === 3, 5000, 'every message completed');
    await w.close();
  });

  test('reject policy: a message that does not fit is an error a Catch node sees', async () => {
    await helper.load(modules, publishFlow(rig.mosq.port, { topic: 'limits/y', qos: '0', queueMax: '3', overflow: 'reject' }, { clientId: 'limits-2' }));
    const c = collect();
    const p1 = await connected();
    await rig.mosq.stop();
    await waitFor(() => !brokerUp(), 5000, 'outage noticed');
    for (let i = 0; i < 5; i++) p1.receive({ payload: String(i) });
    await waitFor(() => c.caught.length === 2, 5000, 'two rejections');
    assert.deepEqual(c.notSent.map((m) => m.payload), ['3', '4']);
    await rig.mosq.start();
    await waitFor(() => c.ok.length === 3, 10000, 'queued ones sent');
  });

  test('a redeploy during an outage: every discarded message ends, the first 10 with an error, and one warning counts them', async () => {
    const flow = publishFlow(rig.mosq.port, { topic: 'discard/x', qos: '0' }, { clientId: 'discard-1' });
    await helper.load(modules, flow);
    const c = collect();
    const p1 = await connected();
    await rig.mosq.stop();
    await waitFor(() => !brokerUp(), 5000, 'outage noticed');
    for (let i = 0; i < 30; i++) p1.receive({ payload: String(i) });
    const changed = flow.map((n) => (n.id === 'p1' ? { ...n, name: 'changed' } : n));
    await helper.setFlows(changed, 'nodes'); // only the publish node closes; Catch and Complete stay
    await waitFor(() => c.caught.length + c.completed.length === 30, 5000, 'every message ended');
    assert.equal(c.caught.length, 10);
    assert.equal(c.completed.length, 20);
    assert.equal(logLines('30 queued message(s) discarded on close').length, 1);
    await rig.mosq.start();
  });
});
