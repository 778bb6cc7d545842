import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import mqtt from 'mqtt';
import { helper, logLines, nodeModule, type FlowNode } from '../helpers/node-red';
import { attachUser, waitFor } from '../helpers/broker';
import type { BrokerNode } from '../../src/nodes/shared/broker-node';
import { runtimeWithBroker } from '../helpers/runtime-with-broker';

const brokerModule = nodeModule('secure-mqtt-broker');

function brokerFlow(fields: Record<string, unknown>): FlowNode[] {
  return [{ id: 'b1', type: 'secure-mqtt-broker', host: '127.0.0.1', reconnectMin: '0.1', reconnectMax: '1', ...fields }];
}

describe('secure-mqtt-broker: plain connections', () => {
  const rig = runtimeWithBroker({ passwords: { alice: 's3cret-pw' }, websockets: true });

  for (const version of ['4', '5']) {
    test(`connects with MQTT ${version === '4' ? '3.1.1' : '5'} and the configured client id`, async () => {
      await helper.load(brokerModule, brokerFlow({ port: rig.mosq.port, protocolVersion: version, clientId: `plain-v${version}` }), {
        b1: { user: 'alice', password: 's3cret-pw' },
      });
      const node = helper.getNode('b1') as unknown as BrokerNode;
      const seen = attachUser(node);
      await waitFor(() => seen.find((s) => s.text === 'connected'), 5000, 'connected');
      const proto = version === '4' ? 'p2' : 'p5'; // Mosquitto logs 3.1.1 as p2
      await waitFor(() => rig.mosq.log().includes(`as plain-v${version} (${proto}`), 2000, 'broker log');
      assert.equal(seen.at(-1)?.fill, 'green');
    });
  }

  for (const version of ['4', '5']) {
    test(`wrong password (v${version}): status and exactly one log line say bad user name or password`, async () => {
      await helper.load(brokerModule, brokerFlow({ port: rig.mosq.port, protocolVersion: version, clientId: `badpw-${version}` }), {
        b1: { user: 'alice', password: 'wrong-pw-xyz' },
      });
      const node = helper.getNode('b1') as unknown as BrokerNode;
      const seen = attachUser(node);
      const before = rig.mosq.count(/not authorised/);
      await waitFor(() => rig.mosq.count(/not authorised/) >= before + 4, 8000, 'several attempts');
      const status = seen.find((s) => s.text?.includes('bad user name or password'));
      assert.ok(status, JSON.stringify(seen));
      assert.equal(status.fill, 'red');
      assert.equal(logLines('bad user name or password').length, 1, 'logged once per distinct cause, not per retry');
      assert.equal(logLines('wrong-pw-xyz').length, 0, 'password never logged');
      assert.ok(!seen.some((s) => s.text === 'connected'));
      assert.ok(!JSON.stringify(seen).includes('wrong-pw-xyz'));
    });
  }

  test('connects over WebSockets (ws://) with MQTT 5 and a session expiry', async () => {
    await helper.load(
      brokerModule,
      brokerFlow({ port: rig.mosq.wsPort, transport: 'ws', protocolVersion: '5', clientId: 'ws-client', sessionExpiry: '300', cleanSession: false }),
      { b1: { user: 'alice', password: 's3cret-pw' } },
    );
    const seen = attachUser(helper.getNode('b1') as unknown as BrokerNode);
    await waitFor(() => seen.find((s) => s.text === 'connected'), 5000, 'connected over ws');
    await waitFor(() => rig.mosq.log().includes("as ws-client (p5, c0, k60, u'alice')"), 2000, 'broker saw a v5 persistent session over ws');
  });

  test('MQTT 5 with clean session off but no session expiry: a warning at deploy (the broker would keep nothing); 3.1.1 or an expiry: none', async () => {
    const warning = 'no session expiry is set';
    for (const [fields, warns] of [
      [{ protocolVersion: '5', cleanSession: false }, 1],
      [{ protocolVersion: '5', cleanSession: false, sessionExpiry: '3600' }, 0],
      [{ protocolVersion: '4', cleanSession: false }, 0],
      [{ protocolVersion: '5', cleanSession: true }, 0],
    ] as const) {
      await helper.load(brokerModule, brokerFlow({ port: rig.mosq.port, ...fields }));
      assert.equal(logLines(warning).length, warns, JSON.stringify(fields));
      await helper.unload();
    }
  });

  test('the generated client id is stable across redeploys', async () => {
    await helper.load(brokerModule, brokerFlow({ port: rig.mosq.port }), { b1: { user: 'alice', password: 's3cret-pw' } });
    const first = (helper.getNode('b1') as unknown as BrokerNode).identity.clientId;
    await helper.unload();
    await helper.load(brokerModule, brokerFlow({ port: rig.mosq.port }), { b1: { user: 'alice', password: 's3cret-pw' } });
    const second = (helper.getNode('b1') as unknown as BrokerNode).identity.clientId;
    assert.match(first, /^nrst_[0-9a-f]{18}$/);
    assert.equal(first, second);
  });

  test('birth on connect, will on a lost connection, close message on a clean close', async () => {
    const watcher = await mqtt.connectAsync({ host: '127.0.0.1', port: rig.mosq.port, username: 'alice', password: 's3cret-pw' });
    const got: Array<[string, string]> = [];
    watcher.on('message', (t, p) => got.push([t, p.toString()]));
    await watcher.subscribeAsync('dev/#', { qos: 1 });
    await helper.load(
      brokerModule,
      brokerFlow({
        port: rig.mosq.port,
        protocolVersion: '5',
        clientId: 'lifecycle-1',
        birthTopic: 'dev/status',
        birthPayload: 'online',
        birthQos: '1',
        willTopic: 'dev/status',
        willPayload: 'lost',
        willQos: '1',
        closeTopic: 'dev/status',
        closePayload: 'offline',
        closeQos: '1',
      }),
      { b1: { user: 'alice', password: 's3cret-pw' } },
    );
    const node = helper.getNode('b1') as unknown as BrokerNode;
    attachUser(node);
    await waitFor(() => got.find(([, p]) => p === 'online'), 5000, 'birth');
    // Another client taking over the client id makes the broker drop ours without a DISCONNECT from us.
    const thief = await mqtt.connectAsync({ host: '127.0.0.1', port: rig.mosq.port, username: 'alice', password: 's3cret-pw', clientId: 'lifecycle-1', protocolVersion: 5 });
    await waitFor(() => got.find(([, p]) => p === 'lost'), 5000, 'will');
    await thief.endAsync();
    await waitFor(() => got.filter(([, p]) => p === 'online').length >= 2, 5000, 'birth after reconnect');
    await helper.unload();
    await waitFor(() => got.find(([, p]) => p === 'offline'), 5000, 'close message');
    await watcher.endAsync();
  });
});
