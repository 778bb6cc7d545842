// The connection as the nodes share it: one client per config node, status to every user, MQTT 5 properties on
// the lifecycle messages, and a bounded, clean close on redeploy.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import mqtt from 'mqtt';
import { waitFor } from '../helpers/broker';
import { helper, nodeModule, sleep, statuses, type FlowNode, type TestNode } from '../helpers/node-red';
import { runtimeWithBroker } from '../helpers/runtime-with-broker';
import { startProxy, type TcpProxy } from '../helpers/tcp-proxy';

const modules = [nodeModule('secure-mqtt-broker'), nodeModule('secure-mqtt-out'), nodeModule('secure-mqtt-in')];

describe('secure-mqtt-broker: shared connection and lifecycle', () => {
  const rig = runtimeWithBroker();
  let proxy: TcpProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });

  test('every node on one config node shares one broker connection, and each shows its state', async () => {
    const flow: FlowNode[] = [
      { id: 'b1', type: 'secure-mqtt-broker', host: '127.0.0.1', port: rig.mosq.port, clientId: 'shared-1', reconnectMin: '0.1', reconnectMax: '0.5' },
      { id: 'p1', type: 'secure-mqtt-out', broker: 'b1', topic: 'shared/a', wires: [[], []] },
      { id: 'p2', type: 'secure-mqtt-out', broker: 'b1', topic: 'shared/b', wires: [[], []] },
      { id: 'i1', type: 'secure-mqtt-in', broker: 'b1', topic: 'shared/#', wires: [['sink']] },
      { id: 'sink', type: 'helper' },
    ];
    await helper.load(modules, flow);
    const seen = { p1: statuses('p1'), p2: statuses('p2'), i1: statuses('i1') };
    const got: unknown[] = [];
    helper.getNode('sink').on('input', (m: { payload: unknown }) => got.push(m.payload));
    await waitFor(() => /Sending SUBACK to shared-1/.test(rig.mosq.log()), 5000, 'subscribed');
    (helper.getNode('p1') as TestNode).receive({ payload: 'from p1' });
    (helper.getNode('p2') as TestNode).receive({ payload: 'from p2' });
    await waitFor(() => got.length === 2, 5000, 'both messages back through the in node');
    assert.equal(rig.mosq.count(/New client connected from \S+ as shared-1 /), 1, 'one connection');
    await waitFor(() => seen.p1.at(-1) === 'sent 1' && seen.p2.at(-1) === 'sent 1', 2000, `out statuses ${JSON.stringify(seen)}`);
    assert.ok(seen.i1.includes('connected'), JSON.stringify(seen.i1));
  });

  test('MQTT 5 properties on the birth, will and close messages reach subscribers', async () => {
    const watcher = await mqtt.connectAsync({ host: '127.0.0.1', port: rig.mosq.port, protocolVersion: 5 });
    const got: Array<{ payload: string; props: unknown }> = [];
    // JSON round trip: the parser's objects have no prototype, which deepEqual would count as a difference.
    watcher.on('message', (_t, payload, packet) => got.push({ payload: payload.toString(), props: JSON.parse(JSON.stringify(packet.properties ?? null)) as unknown }));
    await watcher.subscribeAsync('life/#');
    const props = (kind: string): string => JSON.stringify({ contentType: 'text/plain', userProperties: { kind } });
    await helper.load(modules, [
      {
        id: 'b1', type: 'secure-mqtt-broker', host: '127.0.0.1', port: rig.mosq.port, clientId: 'life-1', protocolVersion: '5',
        birthTopic: 'life/status', birthPayload: 'online', birthQos: '1', birthProps: props('birth'),
        willTopic: 'life/status', willPayload: 'lost', willQos: '1', willProps: props('will'),
        closeTopic: 'life/status', closePayload: 'offline', closeQos: '1', closeProps: props('close'),
      },
      { id: 'p1', type: 'secure-mqtt-out', broker: 'b1', topic: 'life/x', wires: [[], []] },
    ]);
    const birth = await waitFor(() => got.find((m) => m.payload === 'online'), 5000, 'birth');
    assert.deepEqual(birth.props, { contentType: 'text/plain', userProperties: { kind: 'birth' } });
    const thief = await mqtt.connectAsync({ host: '127.0.0.1', port: rig.mosq.port, clientId: 'life-1', protocolVersion: 5 });
    const will = await waitFor(() => got.find((m) => m.payload === 'lost'), 5000, 'will');
    assert.deepEqual(will.props, { contentType: 'text/plain', userProperties: { kind: 'will' } });
    await thief.endAsync();
    await waitFor(() => got.filter((m) => m.payload === 'online').length >= 2, 5000, 'back after the takeover');
    await helper.unload();
    const close = await waitFor(() => got.find((m) => m.payload === 'offline'), 5000, 'close message');
    assert.deepEqual(close.props, { contentType: 'text/plain', userProperties: { kind: 'close' } });
    await watcher.endAsync();
  });

  test('close on redeploy with unacknowledged QoS 1 messages: bounded, the socket closed, no leftover client', async () => {
    proxy = await startProxy(rig.mosq.port);
    await helper.load(modules, [
      { id: 'b1', type: 'secure-mqtt-broker', host: '127.0.0.1', port: proxy.port, clientId: 'closing-1', closeTopic: 'closing/status', closePayload: 'offline', closeQos: '1' },
      { id: 'p1', type: 'secure-mqtt-out', broker: 'b1', topic: 'closing/x', qos: '1', wires: [[], []] },
    ]);
    await waitFor(() => /as closing-1 /.test(rig.mosq.log()), 5000, 'connected');
    await sleep(100);
    proxy.pause(); // PUBACKs and the close message's PUBACK never come
    for (let i = 0; i < 5; i++) (helper.getNode('p1') as TestNode).receive({ payload: String(i) });
    await sleep(100);
    const t0 = Date.now();
    await helper.unload();
    const ms = Date.now() - t0;
    // 2 s for the close message, then 2 s for MQTT.js to flush what is in flight, then the socket is forced shut.
    assert.ok(ms >= 1500 && ms < 5000, `close waited for the in-flight messages, within its bound: ${ms} ms`);
    proxy.resume();
    await waitFor(() => proxy?.connections() === 0, 3000, 'the client closed its socket');
  });
});
