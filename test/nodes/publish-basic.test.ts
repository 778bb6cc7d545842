import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { helper, logLines, nodeModule, statuses } from '../helpers/node-red';
import { collect, connected, publishFlow } from '../helpers/publish';
import { waitFor } from '../helpers/broker';
import { watch } from '../helpers/mqtt-watch';
import { runtimeWithBroker } from '../helpers/runtime-with-broker';

const modules = [nodeModule('secure-mqtt-broker'), nodeModule('secure-mqtt-out')];

describe('secure-mqtt-out: publishing', () => {
  const rig = runtimeWithBroker({ acl: 'user writer\ntopic readwrite public/#\ntopic read locked/#\n\nuser watcher\ntopic read #\n' });

  for (const version of ['4', '5']) {
    test(`payload types are encoded as documented; done and output 1 follow the broker (v${version})`, async () => {
      const w = await watch(rig.mosq.port, 'public/#', { username: 'watcher' });
      await helper.load(modules, publishFlow(rig.mosq.port, { topic: '', qos: '1' }, { protocolVersion: version }), { b1: { user: 'writer' } });
      const c = collect();
      const p1 = await connected();
      const payloads: unknown[] = [{ t: 21.5 }, Buffer.from([0, 1, 255]), 42, true, 'plain'];
      payloads.forEach((payload, i) => p1.receive({ topic: `public/${i}`, payload }));
      await waitFor(() => w.received.length === 5 && c.completed.length === 5, 5000, 'delivery');
      const byTopic = new Map(w.received.map((r) => [r.topic, r.payload]));
      assert.equal(byTopic.get('public/0')?.toString(), '{"t":21.5}');
      assert.deepEqual([...(byTopic.get('public/1') ?? [])], [0, 1, 255]);
      assert.equal(byTopic.get('public/2')?.toString(), '42');
      assert.equal(byTopic.get('public/3')?.toString(), 'true');
      assert.equal(byTopic.get('public/4')?.toString(), 'plain');
      assert.equal(c.ok.length, 5);
      assert.equal(c.notSent.length, 0);
      await w.close();
    });
  }

  for (const qos of ['0', '1']) {
    test(`a message Node-RED cannot clone for the Complete node is reported, and publishing goes on (QoS ${qos})`, async () => {
      const w = await watch(rig.mosq.port, 'public/deep', { username: 'watcher' });
      await helper.load(modules, publishFlow(rig.mosq.port, { topic: 'public/deep', qos }), { b1: { user: 'writer' } });
      const c = collect();
      const p1 = await connected();
      // Deeper than the stack: Node-RED's clone for the Complete node overflows it inside done(), which runs when
      // the broker answers (QoS 1: on MQTT.js's stack, reading the PUBACK).
      let deep: Record<string, unknown> = {};
      for (let i = 0; i < 200000; i++) deep = { deep };
      p1.receive({ payload: 'first', nested: deep });
      await waitFor(() => logLines('the flow could not take the message back').length === 1, 5000, 'the error is reported');
      p1.receive({ payload: 'second' });
      await waitFor(() => w.received.length === 2 && c.completed.length === 1, 5000, 'the next message goes through');
      assert.deepEqual(w.received.map((r) => r.payload.toString()), ['first', 'second']);
      await w.close();
    });
  }

  test('MQTT 5 properties from the node and the message reach the subscriber', async () => {
    const w = await watch(rig.mosq.port, 'public/props', { username: 'watcher', protocolVersion: 5 });
    await helper.load(modules, publishFlow(rig.mosq.port, { topic: 'public/props', qos: '1', contentType: 'application/json', messageExpiry: '60' }, { protocolVersion: '5' }), {
      b1: { user: 'writer' },
    });
    collect();
    const p1 = await connected();
    p1.receive({ payload: { a: 1 }, userProperties: { site: 'north', unit: 'Cel' }, responseTopic: 'public/reply', correlationData: 'abc' });
    await waitFor(() => w.received.length === 1, 5000, 'delivery');
    const props = w.received[0].packet.properties ?? {};
    assert.equal(props.contentType, 'application/json');
    assert.ok((props.messageExpiryInterval ?? 0) > 0 && (props.messageExpiryInterval ?? 0) <= 60);
    assert.deepEqual({ ...props.userProperties }, { site: 'north', unit: 'Cel' });
    assert.equal(props.responseTopic, 'public/reply');
    assert.equal(props.correlationData?.toString(), 'abc');
    await w.close();
  });

  test('invalid topics and messages leave on output 2, reach Catch, and nothing is sent', async () => {
    const w = await watch(rig.mosq.port, '#', { username: 'watcher' });
    await helper.load(modules, publishFlow(rig.mosq.port, { qos: '' }), { b1: { user: 'writer' } });
    const c = collect();
    const p1 = await connected();
    const seen = statuses('p1');
    const bad = [
      { topic: 'public/+/x', payload: 1 },
      { topic: '', payload: 1 },
      { topic: 'public/a\u0000b', payload: 1 },
      { payload: 1 },
      { topic: 'public/q', payload: 1, qos: 3 },
      { topic: 'public/bigint', payload: { n: 10n } },
    ];
    for (const m of bad) p1.receive(m);
    p1.receive({ topic: 'public/sentinel', payload: 'last' });
    await waitFor(() => w.received.some((r) => r.topic === 'public/sentinel') && c.notSent.length === bad.length, 5000, 'sentinel');
    assert.deepEqual(w.received.map((r) => r.topic), ['public/sentinel'], 'nothing but the sentinel was sent');
    const codes = c.notSent.map((m) => (m.error as { code: string }).code);
    assert.deepEqual(codes, ['INVALID_TOPIC', 'INVALID_TOPIC', 'INVALID_TOPIC', 'INVALID_TOPIC', 'INVALID_MESSAGE', 'INVALID_MESSAGE']);
    await waitFor(() => c.caught.length === bad.length, 2000, 'catch');
    assert.match(String((c.caught[0].error as { message: string }).message), /invalid topic: topic "public\/\+\/x" contains a wildcard/);
    // The status counts the latest reason on its own, and the total when other reasons came before it.
    await waitFor(() => /invalid message ×2 \(6 refused in all\)/.test(seen.at(-1) ?? ''), 2000, `status counts by reason: ${seen.at(-1)}`);
    await w.close();
  });

  for (const qos of ['1', '2']) {
    test(`v5 QoS ${qos}: a publish the broker refuses (0x87 on the ${qos === '1' ? 'PUBACK' : 'PUBREC'}) leaves on output 2 as BROKER_DENIED even without local rules`, async () => {
      await helper.load(modules, publishFlow(rig.mosq.port, { topic: 'locked/door', qos }, { protocolVersion: '5' }), { b1: { user: 'writer' } });
      const c = collect();
      const p1 = await connected();
      p1.receive({ payload: 'open' });
      await waitFor(() => c.notSent.length === 1, 5000, 'refusal');
      assert.deepEqual(c.notSent[0].error, { code: 'BROKER_DENIED', message: 'broker refused the message: not authorized', reasonCode: 0x87 });
      await waitFor(() => c.caught.length === 1, 2000, 'catch');
      assert.equal(c.ok.length, 0);
    });
  }
});
