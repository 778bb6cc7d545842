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

describe('MqttConnection: a persistent MQTT 5 session keeps the identifiers of an earlier connection', () => {
  test('a message for a filter of the earlier run reaches no node of this run, and messages queued while offline reach theirs', async () => {
    const mosq = await startMosquitto();
    const settings = { host: '127.0.0.1', port: mosq.port, transport: 'mqtt', protocolVersion: 5, clientId: 'persist-ids', keepalive: 30, clean: false, sessionExpiry: 3600 } as const;
    const pub = await mqtt.connectAsync({ host: '127.0.0.1', port: mosq.port, protocolVersion: 5 });
    try {
      // Run 1: two nodes; the broker keeps both subscriptions (and their identifiers 1 and 2) in the session.
      const first = new MqttConnection(settings);
      first.start();
      await waitFor(() => first.connected, 5000, 'first run connected');
      await Promise.all([first.subscribe('plant/private/#', { qos: 1 }, () => undefined).ready, first.subscribe('plant/public/#', { qos: 1 }, () => undefined).ready]);
      await first.close();
      await pub.publishAsync('plant/public/offline', 'queued', { qos: 1 });

      // Run 2: only the public node, whose filter now gets identifier 1 (the private filter's in the session).
      const second = new MqttConnection(settings);
      const got: string[] = [];
      second.subscribe('plant/public/#', { qos: 1 }, (topic) => got.push(topic));
      second.start();
      await waitFor(() => got.includes('plant/public/offline'), 5000, 'the message queued while offline delivered');
      await pub.publishAsync('plant/private/payroll', 'secret', { qos: 1 });
      await pub.publishAsync('plant/public/temp', '21', { qos: 1 });
      await waitFor(() => got.includes('plant/public/temp'), 5000, 'the public message delivered');
      await second.close();
      assert.deepEqual(got.sort(), ['plant/public/offline', 'plant/public/temp']);
    } finally {
      await pub.endAsync();
      await mosq.stop();
    }
  });
});
