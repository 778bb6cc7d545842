import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { helper, nodeModule } from '../helpers/node-red';
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
});
