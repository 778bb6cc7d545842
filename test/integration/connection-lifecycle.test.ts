// Ending a connection, or replacing its Will, must leave no client behind and must not make the broker publish a
// Will the node no longer stands for. Against a real Mosquitto, with a relay that can hold a connection half-made.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_BACKOFF } from '../../src/lib/mqtt/backoff';
import { MqttConnection } from '../../src/lib/mqtt/connection';
import type { ConnectionSettings } from '../../src/lib/mqtt/settings';
import { waitFor } from '../helpers/broker';
import { startMosquitto, type RunningMosquitto } from '../helpers/mosquitto';
import { watch } from '../helpers/mqtt-watch';
import { sleep } from '../helpers/node-red';
import { startProxy } from '../helpers/tcp-proxy';

describe('MqttConnection lifecycle', () => {
  let mosq: RunningMosquitto;
  before(async () => {
    mosq = await startMosquitto();
  });
  after(async () => {
    await mosq.stop();
  });
  const settings = (clientId: string, port: number, extra: Partial<ConnectionSettings> = {}): ConnectionSettings => ({
    host: '127.0.0.1', port, transport: 'mqtt', protocolVersion: 4, clientId, keepalive: 30, clean: true,
    // Fast retries: a closed connection that wrongly tried again would show within the waits below.
    backoff: { ...DEFAULT_BACKOFF, initialMs: 50, maxMs: 200 },
    ...extra,
  });

  test('closed while still connecting: the CONNECT on its way is answered with DISCONNECT, no Will, no takeover later', async () => {
    const proxy = await startProxy(mosq.port);
    const will = { topic: 'lifecycle/half-made', payload: 'offline', qos: 1 as const, retain: false };
    const w = await watch(mosq.port, will.topic);
    const successor = new MqttConnection(settings('half-made', mosq.port, { will }));
    try {
      proxy.pause(); // the CONNECT waits in the relay, as on a slow link
      const conn = new MqttConnection(settings('half-made', proxy.port, { will }));
      conn.start();
      await waitFor(() => proxy.connections() === 1, 5000, 'the socket to the relay');
      assert.equal(conn.state, 'connecting');
      const closed = conn.close();
      await sleep(300);
      proxy.resume();
      await closed;
      await waitFor(() => proxy.connections() === 0, 5000, 'the relayed connection ended');
      // The broker's log line can come a moment after the relay has closed: waited for, not read at once.
      await waitFor(() => mosq.count(/Client half-made disconnected\./) === 1, 3000, 'a clean DISCONNECT').catch((err: unknown) => {
        throw new Error(`${String(err)}:\n${mosq.log().slice(-1500)}`);
      });
      // The redeployed node's connection, with the same client id, is not taken over afterwards.
      successor.start();
      await waitFor(() => successor.state === 'connected', 5000, 'the successor connected');
      await sleep(800);
      assert.equal(successor.state, 'connected');
      assert.equal(mosq.count(/New client connected .* as half-made /), 2);
      assert.deepEqual(w.received.map((m) => m.payload.toString()), [], 'no Will published');
    } finally {
      await successor.close();
      await proxy.close();
      await w.close();
    }
  });

  test('a Will replaced with QoS 1 messages in flight: the old connection ends cleanly, the broker never publishes the old Will', async () => {
    const w = await watch(mosq.port, 'lifecycle/will');
    const conn = new MqttConnection(settings('will-swap', mosq.port, { will: { topic: 'lifecycle/will', payload: 'old', qos: 1, retain: false } }));
    try {
      conn.start();
      await waitFor(() => conn.state === 'connected', 5000, 'connected');
      let ok = 0;
      let failed = 0;
      for (let i = 0; i < 2000; i++) conn.send({ topic: 'lifecycle/data', payload: 'x'.repeat(100), qos: 1 }, (err) => (err ? failed++ : ok++));
      assert.equal(conn.setWill({ topic: 'lifecycle/will', payload: 'new', qos: 1, retain: false }), true);
      await waitFor(() => ok + failed === 2000, 10000, 'every publish settled');
      await waitFor(() => conn.state === 'connected', 10000, 'connected again');
      await sleep(300);
      assert.equal(mosq.count(/New client connected .* as will-swap /), 2, 'one reconnect');
      assert.deepEqual(w.received.map((m) => m.payload.toString()), [], 'no Will was published');
      assert.equal(mosq.count(/taken over|Client will-swap .*disconnected, not authori|Socket error on client will-swap/), 0, mosq.log().slice(-2000));
    } finally {
      await conn.close();
      await w.close();
    }
    // The Will now held is the new one: a dropped connection publishes it.
    const w2 = await watch(mosq.port, 'lifecycle/will');
    const proxy = await startProxy(mosq.port);
    const conn2 = new MqttConnection(settings('will-after', proxy.port, { will: { topic: 'lifecycle/will', payload: 'old', qos: 1, retain: false } }));
    try {
      conn2.start();
      await waitFor(() => conn2.state === 'connected', 5000, 'connected');
      conn2.setWill({ topic: 'lifecycle/will', payload: 'new', qos: 1, retain: false });
      await waitFor(() => mosq.count(/New client connected .* as will-after /) === 2 && conn2.state === 'connected', 10000, 'reconnected with the new Will');
      proxy.cutAll();
      await waitFor(() => w2.received.length > 0, 5000, 'the Will after the cut');
      assert.deepEqual(w2.received.map((m) => m.payload.toString()), ['new']);
    } finally {
      await conn2.close();
      await proxy.close();
      await w2.close();
    }
  });
});
