// The publish node never has more unacknowledged QoS 1 messages than the broker's MQTT 5 Receive Maximum allows;
// the rest wait in its queue and follow as acknowledgements come back.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '../helpers/broker';
import { watch } from '../helpers/mqtt-watch';
import { helper, nodeModule, statuses } from '../helpers/node-red';
import { runtimeWithBroker } from '../helpers/runtime-with-broker';
import { collect, connected, publishFlow } from '../helpers/publish';
import { startProxy, type TcpProxy } from '../helpers/tcp-proxy';

const modules = [nodeModule('secure-mqtt-broker'), nodeModule('secure-mqtt-out')];

describe('secure-mqtt-out: the in-flight window', () => {
  // Mosquitto announces max_inflight_messages as its Receive Maximum in the v5 CONNACK.
  const rig = runtimeWithBroker({ extra: ['max_inflight_messages 10'] });
  let proxy: TcpProxy;
  before(async () => {
    proxy = await startProxy(rig.mosq.port);
  });
  after(() => proxy.close());

  test('MQTT 5: a Receive Maximum of 10 holds 10 in flight and queues the rest; all arrive once the link moves', async () => {
    const w = await watch(rig.mosq.port, 'window/#');
    await helper.load(modules, publishFlow(proxy.port, { topic: 'window/n', qos: '1' }, { protocolVersion: '5', clientId: 'window-1' }));
    const c = collect();
    const p1 = await connected();
    const seen = statuses('p1');
    proxy.pause(); // no PUBACK comes back: the window fills
    for (let i = 0; i < 50; i++) p1.receive({ payload: String(i) });
    await waitFor(() => seen.some((s) => / · queued 40$/.test(s)), 5000, `10 in flight, 40 queued: ${seen.at(-1)}`);
    assert.equal(c.ok.length, 0);
    proxy.resume();
    await waitFor(() => c.ok.length === 50, 10000, 'every message acknowledged');
    await waitFor(() => w.received.length === 50, 5000, 'every message at the subscriber');
    assert.deepEqual(w.received.map((r) => r.payload.toString()), Array.from({ length: 50 }, (_, i) => String(i)), 'in order');
    await w.close();
  });
});
