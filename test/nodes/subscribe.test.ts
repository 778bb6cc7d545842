import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import mqtt from 'mqtt';
import { helper, logLines, nodeModule, waitForStatus, type FlowNode } from '../helpers/node-red';
import { waitFor } from '../helpers/broker';
import { brokerUp } from '../helpers/publish';
import { startMosquitto, type RunningMosquitto } from '../helpers/mosquitto';
import { startProxy } from '../helpers/tcp-proxy';

const modules = [nodeModule('secure-mqtt-broker'), nodeModule('secure-mqtt-in')];

function subFlow(port: number, sub: Record<string, unknown>, version = '4'): FlowNode[] {
  return [
    { id: 'b1', type: 'secure-mqtt-broker', host: '127.0.0.1', port, protocolVersion: version, reconnectMin: '0.1', reconnectMax: '0.5' },
    { id: 's1', type: 'secure-mqtt-in', broker: 'b1', qos: '1', wires: [['sink']], ...sub },
    { id: 'sink', type: 'helper' },
    { id: 'c1', type: 'catch', scope: ['s1'], uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper' },
  ];
}

function sink(id = 'sink'): Array<Record<string, unknown>> {
  const got: Array<Record<string, unknown>> = [];
  helper.getNode(id).on('input', (m: Record<string, unknown>) => got.push(m));
  return got;
}

describe('secure-mqtt-in', () => {
  let mosq: RunningMosquitto;
  let pub: mqtt.MqttClient;
  before(async () => {
    await helper.startServer();
    mosq = await startMosquitto();
    pub = await mqtt.connectAsync({ host: '127.0.0.1', port: mosq.port, protocolVersion: 5 });
  });
  after(async () => {
    await pub.endAsync();
    await mosq.stop();
    await helper.stopServer();
  });
  afterEach(() => helper.unload());

  async function subscribed(): Promise<void> {
    await waitFor(() => brokerUp(), 5000, 'connected');
    await waitFor(() => /Received SUBSCRIBE/.test(mosq.log()), 5000, 'subscription');
  }

  test('auto output: JSON objects parsed, text as strings, binary as Buffers; v5 properties on the message', async () => {
    await helper.load(modules, subFlow(mosq.port, { topic: 'auto/#', datatype: 'auto' }, '5'));
    const got = sink();
    await waitFor(() => brokerUp(), 5000, 'connected');
    await waitFor(() => mosq.count(/auto\/#/) > 0, 5000, 'subscribed');
    await pub.publishAsync('auto/json', '{"t":1}', { qos: 1, properties: { contentType: 'application/json', userProperties: { a: 'b' } } });
    await pub.publishAsync('auto/text', 'hello', { qos: 1 });
    await pub.publishAsync('auto/bin', Buffer.from([0xff, 0xfe, 0x00]), { qos: 1 });
    await waitFor(() => got.length === 3, 5000, 'three messages');
    const by = new Map(got.map((m) => [m.topic, m]));
    assert.deepEqual(by.get('auto/json')?.payload, { t: 1 });
    assert.equal(by.get('auto/json')?.contentType, 'application/json');
    assert.deepEqual({ ...(by.get('auto/json')?.userProperties as object) }, { a: 'b' });
    assert.equal(by.get('auto/text')?.payload, 'hello');
    assert.ok(Buffer.isBuffer(by.get('auto/bin')?.payload));
    assert.equal(by.get('auto/json')?.qos, 1);
  });

  test('json output: a payload that is not JSON is an error a Catch node sees, with the raw bytes', async () => {
    await helper.load(modules, subFlow(mosq.port, { topic: 'strict/json', datatype: 'json' }));
    const got = sink();
    const caught = sink('caught');
    await subscribed();
    await pub.publishAsync('strict/json', 'not json', { qos: 1 });
    await pub.publishAsync('strict/json', '[1,2]', { qos: 1 });
    await waitFor(() => got.length === 1 && caught.length === 1, 5000, 'one good, one caught');
    assert.deepEqual(got[0].payload, [1, 2]);
    assert.match(String((caught[0].error as { message: string }).message), /not valid JSON/);
  });

  test('a payload nested deeper than Node-RED can clone for a second wire is reported, and the next one arrives', async () => {
    const flow = subFlow(mosq.port, { topic: 'deep/#', datatype: 'auto' });
    flow[1].wires = [['sink', 'sink2']];
    flow.push({ id: 'sink2', type: 'helper' });
    await helper.load(modules, flow);
    const got = sink();
    const got2 = sink('sink2');
    await subscribed();
    // 400 KB of brackets: JSON.parse copes, Node-RED's recursive clone for the second wire does not.
    await pub.publishAsync('deep/a', `${'['.repeat(200000)}${']'.repeat(200000)}`, { qos: 1 });
    await waitFor(() => logLines('a message on deep/a could not be passed to the flow').length === 1, 5000, 'the error is reported');
    await pub.publishAsync('deep/b', '{"ok":true}', { qos: 1 });
    await waitFor(() => got2.length >= 1, 5000, 'the next message reaches both wires');
    assert.deepEqual(got2.at(-1)?.payload, { ok: true });
    assert.ok(got.some((m) => m.topic === 'deep/b'));
  });

  test('an invalid filter is reported at deploy, not sent to the broker', async () => {
    await helper.load(modules, subFlow(mosq.port, { topic: 'a/#/b' }));
    await waitForStatus(helper.getNode('s1'), (s) => s.text === 'invalid topic filter', 5000);
    assert.equal(logLines('"#" must be a whole level').length, 1);
  });

  test('msg.action subscribes, lists and unsubscribes at run time', async () => {
    await helper.load(modules, subFlow(mosq.port, { topic: '' }));
    const got = sink();
    await waitFor(() => brokerUp(), 5000, 'connected');
    const s1 = helper.getNode('s1');
    s1.receive({ action: 'subscribe', topic: ['dyn/a', 'dyn/b'], qos: 1 });
    s1.receive({ action: 'getSubscriptions' });
    await waitFor(() => got.find((m) => m.action === 'getSubscriptions'), 5000, 'list');
    const list = got.find((m) => m.action === 'getSubscriptions')?.payload as Array<{ topic: string; granted: number }>;
    assert.deepEqual(list.map((x) => x.topic), ['dyn/a', 'dyn/b']);
    await pub.publishAsync('dyn/a', '1', { qos: 1 });
    await waitFor(() => got.some((m) => m.topic === 'dyn/a'), 5000, 'dyn/a delivered');
    s1.receive({ action: 'unsubscribe', topic: 'dyn/a' });
    await waitFor(() => /Received UNSUBSCRIBE/.test(mosq.log()), 5000, 'unsubscribed');
    await pub.publishAsync('dyn/a', '2', { qos: 1 });
    await pub.publishAsync('dyn/b', 'sentinel', { qos: 1 });
    await waitFor(() => got.some((m) => m.topic === 'dyn/b'), 5000, 'sentinel');
    assert.equal(got.filter((m) => m.topic === 'dyn/a').length, 1, 'nothing after unsubscribe');
  });

  test('an action message the flow cannot take back (Complete node clone overflows) is reported; later actions still run', async () => {
    await helper.load(modules, [
      ...subFlow(mosq.port, { topic: '' }),
      { id: 'done1', type: 'complete', scope: ['s1'], uncaught: false, wires: [['completed']] },
      { id: 'completed', type: 'helper' },
    ]);
    const got = sink();
    await waitFor(() => brokerUp(), 5000, 'connected');
    const s1 = helper.getNode('s1');
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 200000; i++) deep = { deep };
    s1.receive({ action: 'unsubscribe', topic: 'nothing/here', nested: deep });
    await waitFor(() => logLines('could not be passed to the flow').length === 1, 5000, 'the error is reported');
    s1.receive({ action: 'subscribe', topic: 'after/x' });
    s1.receive({ action: 'getSubscriptions' });
    await waitFor(() => got.find((m) => m.action === 'getSubscriptions'), 5000, 'the list after the failed done()');
    const list = got.find((m) => m.action === 'getSubscriptions')?.payload as Array<{ topic: string }>;
    assert.deepEqual(list.map((x) => x.topic), ['after/x']);
  });

  test('subscriptions are made again after a reconnect', async () => {
    await helper.load(modules, subFlow(mosq.port, { topic: 'again/x' }));
    const got = sink();
    await subscribed();
    await mosq.restart();
    await waitFor(() => brokerUp(), 10000, 'reconnected');
    const again = await mqtt.connectAsync({ host: '127.0.0.1', port: mosq.port });
    await waitFor(() => /Received SUBSCRIBE/.test(mosq.log().split('mosquitto version').at(-1) ?? ''), 5000, 'subscribed again');
    await again.publishAsync('again/x', 'after', { qos: 1 });
    await waitFor(() => got.length === 1, 5000, 'delivered after reconnect');
    await again.endAsync();
    pub.reconnect();
    await waitFor(() => pub.connected, 5000, 'test publisher back');
  });
  test('a connection lost before the SUBACK is no refusal: the run-time subscription is made on reconnect, the status says connected', async () => {
    const proxy = await startProxy(mosq.port);
    try {
      await helper.load(modules, subFlow(proxy.port, { topic: 'lost/x' }, '5'));
      const got = sink();
      await subscribed();
      const s1 = helper.getNode('s1');
      const statuses: Array<{ text?: string }> = [];
      s1.on('call:status', (call: { args: Array<{ text?: string }> }) => statuses.push(call.args[0]));
      proxy.pause();
      s1.receive({ action: 'subscribe', topic: 'lost/rt' });
      await new Promise((r) => setTimeout(r, 200));
      proxy.cutAll();
      proxy.resume();
      await waitFor(() => brokerUp() && statuses.at(-1)?.text === 'connected', 10000, 'reconnected, status "connected"').catch((e: unknown) => {
        throw new Error(`${String(e)}: ${JSON.stringify(statuses)}`);
      });
      // Published until it arrives: "connected" may come just before the SUBACK of the subscription made again.
      for (let i = 0; i < 25 && !got.some((m) => m.topic === 'lost/rt'); i++) {
        await pub.publishAsync('lost/rt', 'after', { qos: 1 });
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(got.some((m) => m.topic === 'lost/rt'), 'the run-time subscription delivers after the reconnect');
      assert.deepEqual(statuses.filter((st) => /refused/.test(st.text ?? '')), []);
      assert.deepEqual(logLines('refused'), []);
    } finally {
      await helper.unload();
      await proxy.close();
    }
  });
  test('a broker that stops answering does not hold up the close: the node closes without waiting for its UNSUBACK', async () => {
    const proxy = await startProxy(mosq.port);
    try {
      await helper.load(modules, subFlow(proxy.port, { topic: 'stall/x' }, '5'));
      await waitFor(() => brokerUp(), 5000, 'connected');
      await new Promise((r) => setTimeout(r, 300)); // the SUBACK is in
      proxy.pause();
      // Only this node closes (a partial deploy): the connection stays, so nothing fails its UNSUBSCRIBE for it.
      const s1 = helper.getNode('s1') as unknown as { close(removed: boolean): Promise<void> };
      let closed = false;
      void s1.close(true).then(() => (closed = true));
      await waitFor(() => closed, 10000, 'the node closed although the broker never answered its UNSUBSCRIBE');
    } finally {
      await proxy.close();
    }
  });
  test('MQTT 3.1.1: a shared subscription overlapping another node\'s filter on the same connection is warned about, in the log', async () => {
    const flow = subFlow(mosq.port, { topic: '$share/g/overlap/+' });
    flow.push({ id: 's2', type: 'secure-mqtt-in', broker: 'b1', qos: '1', topic: 'overlap/#', wires: [['sink']] });
    await helper.load(modules, flow);
    await subscribed();
    await waitFor(() => logLines('overlaps "overlap/#"').length === 1, 5000, 'the shared node warns');
    const line = logLines('overlaps "overlap/#"')[0];
    assert.match(line, /MQTT 5 or another connection/);
  });
  for (const version of ['4', '5']) {
    test(`MQTT ${version === '5' ? '5' : '3.1.1'}: two nodes deployed on one filter each get the retained messages once`, async () => {
      await pub.publishAsync(`twice${version}/1`, 'r1', { qos: 1, retain: true });
      await pub.publishAsync(`twice${version}/2`, 'r2', { qos: 1, retain: true });
      const flow = subFlow(mosq.port, { topic: `twice${version}/#` }, version);
      flow.push({ id: 's2', type: 'secure-mqtt-in', broker: 'b1', qos: '1', topic: `twice${version}/#`, wires: [['sink2']] }, { id: 'sink2', type: 'helper' });
      await helper.load(modules, flow);
      const one = sink();
      const two = sink('sink2');
      await subscribed();
      await waitFor(() => one.length >= 2 && two.length >= 2, 5000, 'retained messages');
      await pub.publishAsync(`twice${version}/live`, 'x', { qos: 1 });
      await waitFor(() => one.length >= 3 && two.length >= 3, 5000, 'the live message');
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(one.map((m) => m.topic).sort(), [`twice${version}/1`, `twice${version}/2`, `twice${version}/live`]);
      assert.deepEqual(two.map((m) => m.topic).sort(), [`twice${version}/1`, `twice${version}/2`, `twice${version}/live`]);
      await helper.unload();
      await pub.publishAsync(`twice${version}/1`, '', { qos: 1, retain: true });
      await pub.publishAsync(`twice${version}/2`, '', { qos: 1, retain: true });
    });
  }
  for (const version of ['4', '5']) {
    test(`MQTT ${version === '5' ? '5' : '3.1.1'}, kept session: messages published while Node-RED is stopped arrive when it starts again`, async () => {
      const flow = (): FlowNode[] =>
        subFlow(mosq.port, { topic: `kept-${version}/#` }, version).map((n) => (n.id === 'b1' ? { ...n, clientId: `kept-sub-${version}`, cleanSession: false, sessionExpiry: '300' } : n));
      await helper.load(modules, flow());
      await waitForStatus(helper.getNode('s1'), (s) => s.fill === 'green', 5000);
      await helper.unload(); // Node-RED stopping: the nodes close, nothing is removed
      assert.doesNotMatch(mosq.log(), new RegExp(`Received UNSUBSCRIBE from kept-sub-${version}`), 'a stop unsubscribes nothing');
      await pub.publishAsync(`kept-${version}/a`, 'while stopped', { qos: 1 });
      await helper.load(modules, flow());
      const got = sink();
      await waitFor(() => got.find((m) => m.payload === 'while stopped'), 5000, 'the message kept in the session');
      await helper.unload();
    });
  }

  test('a node written without a QoS (a hand-written flow) subscribes at the editor default, QoS 1', async () => {
    const flow = subFlow(mosq.port, { topic: 'noqos/x' });
    delete (flow[1] as { qos?: string }).qos;
    await helper.load(modules, flow);
    await subscribed();
    await waitFor(() => /noqos\/x \(QoS 1\)/.test(mosq.log()), 5000, 'SUBSCRIBE at QoS 1');
  });
});
