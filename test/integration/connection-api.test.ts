// The typed client API the nodes use, on its own against a real Mosquitto.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import mqtt from 'mqtt';
import { MqttConnection, PublishError } from '../../src/lib/mqtt/connection';
import { waitFor } from '../helpers/broker';
import { startMosquitto, type RunningMosquitto } from '../helpers/mosquitto';
import { watch } from '../helpers/mqtt-watch';

describe('MqttConnection: publish outcomes', () => {
  let mosq: RunningMosquitto;
  let conn: MqttConnection;
  before(async () => {
    mosq = await startMosquitto();
    conn = new MqttConnection({ host: '127.0.0.1', port: mosq.port, transport: 'mqtt', protocolVersion: 5, clientId: 'api-1', keepalive: 30, clean: true });
    conn.start();
    await waitFor(() => conn.state === 'connected', 5000, 'connected');
  });
  after(async () => {
    await conn.close();
    await mosq.stop();
  });

  test('v5 QoS 1: the PUBACK reason code comes back, 0x10 when nobody subscribes', async () => {
    assert.deepEqual(await conn.publish({ topic: 'nobody/here', payload: 'x', qos: 1 }), { reasonCode: 0x10 });
    const w = await watch(mosq.port, 'somebody/#');
    try {
      assert.deepEqual(await conn.publish({ topic: 'somebody/here', payload: 'x', qos: 1 }), { reasonCode: 0 });
    } finally {
      await w.close();
    }
  });

  test('QoS 0 and QoS 2 settle with 0', async () => {
    assert.deepEqual(await conn.publish({ topic: 'nobody/q0', payload: 'x', qos: 0 }), { reasonCode: 0 });
    assert.deepEqual(await conn.publish({ topic: 'nobody/q2', payload: 'x', qos: 2 }), { reasonCode: 0 });
  });
});

describe('MqttConnection: a publish MQTT.js throws on', () => {
  test('settles as PUBLISH_FAILED instead of throwing: the publisher calls send() from timers', async () => {
    const mosq = await startMosquitto();
    const conn = new MqttConnection(
      { host: '127.0.0.1', port: mosq.port, transport: 'mqtt', protocolVersion: 4, clientId: 'api-throw', keepalive: 30, clean: true },
      {
        connect: (options) => {
          const client = mqtt.connect(options);
          client.publish = () => {
            throw new Error('injected fault');
          };
          return client;
        },
      },
    );
    try {
      conn.start();
      await waitFor(() => conn.state === 'connected', 5000, 'connected');
      const settled = new Promise<PublishError | undefined>((resolve) => conn.send({ topic: 'a/b', payload: 'x', qos: 1 }, (err) => resolve(err)));
      const err = await settled;
      assert.ok(err instanceof PublishError);
      assert.equal(err.code, 'PUBLISH_FAILED');
      assert.match(err.message, /injected fault/);
      await assert.rejects(conn.publish({ topic: 'a/b', payload: 'x', qos: 0 }), { code: 'PUBLISH_FAILED' });
    } finally {
      await conn.close();
      await mosq.stop();
    }
  });
});
