import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import mqtt from 'mqtt';
import { helper, nodeModule, sleep, type FlowNode } from '../helpers/node-red';
import { waitFor } from '../helpers/broker';
import { brokerUp } from '../helpers/publish';
import { watch } from '../helpers/mqtt-watch';
import { runtimeWithBroker } from '../helpers/runtime-with-broker';
import { startProxy } from '../helpers/tcp-proxy';
import { decodeSparkplug, toNumber } from '../../src/lib/formats/sparkplug-codec';

function bdSeqOf(payload: Buffer): number {
  return toNumber((decodeSparkplug(payload).metrics ?? []).find((x) => x.name === 'bdSeq')?.value) ?? NaN;
}

/** Message type ("NBIRTH", ...) and seq of each message received. */
function typeAndSeq(r: { topic: string; payload: Buffer }): [string, number | undefined] {
  return [r.topic.split('/')[2], toNumber(decodeSparkplug(r.payload).seq)];
}

const modules = [nodeModule('secure-mqtt-broker'), nodeModule('secure-mqtt-out'), nodeModule('telemetry-format')];

/** Sparkplug format node → publish node → connection (client id = edge node id), group "plant". */
function edgeFlow(port: number, edge: string, protocolVersion: '4' | '5', broker: Record<string, unknown> = {}): FlowNode[] {
  return [
    { id: 'b1', type: 'secure-mqtt-broker', host: '127.0.0.1', port, clientId: edge, protocolVersion, reconnectMin: '0.1', reconnectMax: '0.5', ...broker },
    { id: 'f1', type: 'telemetry-format', format: 'sparkplug', spGroup: 'plant', spEdgeNode: edge, spDevice: '', wires: [['p1'], []] },
    { id: 'p1', type: 'secure-mqtt-out', broker: 'b1', topic: '', wires: [[], []] },
  ];
}

describe('Sparkplug B: the Will carries the NDEATH whose bdSeq matches the NBIRTH', () => {
  const rig = runtimeWithBroker();

  test('format → publish: NBIRTH sent on a connection whose Will is the matching NDEATH', async () => {
    const w = await watch(rig.mosq.port, 'spBv1.0/#');
    await helper.load(modules, edgeFlow(rig.mosq.port, 'edge-1', '4'));
    await waitFor(() => brokerUp(), 5000, 'connected');
    helper.getNode('f1').receive({ payload: { temperature: 21.5 }, timestamp: Date.now(), sensor: 'bme280' });
    const birth = await waitFor(() => w.received.find((r) => r.topic === 'spBv1.0/plant/NBIRTH/edge-1'), 10000, 'NBIRTH');
    const seq = bdSeqOf(birth.payload);
    assert.ok(Number.isInteger(seq));
    // A rebirth (a new metric) keeps the same NDEATH, so the shared connection is not remade to change its Will.
    const connects = (): number => rig.mosq.count(/New client connected from \S+ as edge-1 /);
    const before = connects(); // the first NBIRTH set the Will: one reconnect, before the birth was sent
    helper.getNode('f1').receive({ payload: { temperature: 21.6, humidity: 40 }, timestamp: Date.now(), sensor: 'bme280' });
    await waitFor(() => w.received.filter((r) => r.topic === 'spBv1.0/plant/NBIRTH/edge-1').length >= 2, 10000, 'rebirth for the new metric');
    await sleep(300);
    assert.equal(connects(), before, 'a rebirth does not reconnect');
    // Take over the client id: the broker drops our connection without a DISCONNECT and publishes the Will.
    const thief = await mqtt.connectAsync({ host: '127.0.0.1', port: rig.mosq.port, clientId: 'edge-1' });
    const death = await waitFor(() => w.received.find((r) => r.topic === 'spBv1.0/plant/NDEATH/edge-1'), 10000, 'NDEATH');
    assert.equal(bdSeqOf(death.payload), seq);
    await thief.endAsync();
    await w.close();
  });

  test('a lost connection is a new session: the edge node is born again with the next bdSeq, and the Will follows it', async () => {
    const proxy = await startProxy(rig.mosq.port);
    const w = await watch(rig.mosq.port, 'spBv1.0/#');
    try {
      await helper.load(modules, edgeFlow(proxy.port, 'edge-2', '5'));
      await waitFor(() => brokerUp(), 5000, 'connected');
      helper.getNode('f1').receive({ payload: { temperature: 21.5 }, timestamp: Date.now(), sensor: 'bme280' });
      const births = (): typeof w.received => w.received.filter((r) => r.topic === 'spBv1.0/plant/NBIRTH/edge-2');
      const deaths = (): typeof w.received => w.received.filter((r) => r.topic === 'spBv1.0/plant/NDEATH/edge-2');
      await waitFor(() => births().length === 1, 10000, 'NBIRTH');
      const first = bdSeqOf(births()[0].payload);

      proxy.cutAll(); // no DISCONNECT: the broker publishes the Will
      await waitFor(() => deaths().length === 1, 10000, 'NDEATH of the first session');
      assert.equal(bdSeqOf(deaths()[0].payload), first);
      await waitFor(() => births().length === 2, 10000, 'NBIRTH of the new session, without a new reading');
      const second = bdSeqOf(births()[1].payload);
      assert.equal(second, (first + 1) % 256);
      const metrics = (decodeSparkplug(births()[1].payload).metrics ?? []).map((m) => m.name);
      assert.ok(metrics?.includes('temperature'), `the birth carries the known metrics: ${metrics?.join(', ')}`);

      await waitFor(() => brokerUp(), 5000, 'connected again');
      await sleep(300); // the Will swap's reconnect is done
      proxy.cutAll();
      await waitFor(() => deaths().length === 2, 10000, 'NDEATH of the second session');
      assert.equal(bdSeqOf(deaths()[1].payload), second, 'the Will carries the bdSeq of the birth that went before it');
      await waitFor(() => births().length === 3, 10000, 'and a birth for the third session');
    } finally {
      await helper.unload();
      await w.close();
      await proxy.close();
    }
  });

  test('store and forward: readings taken during an outage reach the host after the new births, as historical data in sequence', async () => {
    const proxy = await startProxy(rig.mosq.port);
    const w = await watch(rig.mosq.port, 'spBv1.0/plant/+/edge-5/#');
    try {
      const flow = edgeFlow(proxy.port, 'edge-5', '5');
      flow[1].spDevice = 'd1';
      await helper.load(modules, flow);
      await waitFor(() => brokerUp(), 5000, 'connected');
      const f1 = helper.getNode('f1');
      const reading = (temperature: number): void => f1.receive({ payload: { temperature }, timestamp: Date.now(), sensor: 'bme280' });
      const decoded = (from: number): Array<[string, number | undefined, boolean, unknown[]]> =>
        w.received.slice(from).filter((r) => !r.topic.includes('/NDEATH/')).map((r) => {
          const data = (decodeSparkplug(r.payload).metrics ?? []).filter((m) => m.name === 'temperature');
          return [...typeAndSeq(r), data.some((m) => m.isHistorical === true), data.map((m) => m.value)];
        });
      reading(20);
      await waitFor(() => w.received.some((r) => r.topic.includes('/DBIRTH/')), 10000, 'births');
      await waitFor(() => brokerUp(), 5000, 'connected after the Will swap');
      reading(21);
      await waitFor(() => decoded(0).length === 3, 10000, 'DDATA');
      assert.deepEqual(decoded(0).map(([type, seq]) => [type, seq]), [['NBIRTH', 0], ['DBIRTH', 1], ['DDATA', 2]]);

      proxy.refuseNext(1_000_000);
      proxy.cutAll(); // the broker publishes the NDEATH; reconnects are refused for now
      await waitFor(() => w.received.some((r) => r.topic.includes('/NDEATH/')), 10000, 'NDEATH');
      await waitFor(() => !brokerUp(), 5000, 'down');
      for (const v of [22, 23, 24]) reading(v);
      await sleep(300);
      const from = w.received.length;
      proxy.refuseNext(0);
      await waitFor(() => decoded(from).length >= 5, 10000, 'births and the readings of the outage');
      reading(25);
      await waitFor(() => decoded(from).length >= 6, 10000, 'a live reading');
      await sleep(300);
      assert.deepEqual(decoded(from), [
        ['NBIRTH', 0, false, []],
        ['DBIRTH', 1, false, [24]],
        ['DDATA', 2, true, [22]],
        ['DDATA', 3, true, [23]],
        ['DDATA', 4, true, [24]],
        ['DDATA', 5, false, [25]],
      ]);
    } finally {
      await helper.unload();
      await w.close();
      await proxy.close();
    }
  });

  test('the publish node redeployed alone keeps the session: data goes on at once, numbered on from the birth it did not send', async () => {
    const w = await watch(rig.mosq.port, 'spBv1.0/plant/+/edge-6/#');
    const flow = (name: string): FlowNode[] => edgeFlow(rig.mosq.port, 'edge-6', '5').map((n) => (n.id === 'p1' ? { ...n, name } : n));
    try {
      await helper.load(modules, flow('a'));
      await waitFor(() => brokerUp(), 5000, 'connected');
      const reading = (temperature: number): void => helper.getNode('f1').receive({ payload: { temperature }, timestamp: Date.now(), sensor: 'bme280' });
      reading(20);
      await waitFor(() => w.received.some((r) => r.topic.includes('/NBIRTH/')), 10000, 'NBIRTH');
      await waitFor(() => brokerUp(), 5000, 'connected after the Will swap');
      await sleep(300);
      await helper.setFlows(flow('b'), 'nodes'); // only the publish node changes
      for (const v of [21, 22]) reading(v);
      const seqs = (): Array<[string, number | undefined]> => w.received.map(typeAndSeq);
      await waitFor(() => seqs().length >= 3, 5000, 'the data after the redeploy');
      assert.deepEqual(seqs(), [['NBIRTH', 0], ['NDATA', 1], ['NDATA', 2]]);
    } finally {
      await helper.unload();
      await w.close();
    }
  });

  test('a Will swap whose reconnect is refused once is no lost session: no new birth, no new bdSeq, no loop', async () => {
    const proxy = await startProxy(rig.mosq.port);
    const w = await watch(rig.mosq.port, 'spBv1.0/#');
    try {
      await helper.load(modules, edgeFlow(proxy.port, 'edge-3', '4'));
      await waitFor(() => brokerUp(), 5000, 'connected');
      proxy.refuseNext(1); // the swap's first CONNECT
      helper.getNode('f1').receive({ payload: { temperature: 21.5 }, timestamp: Date.now(), sensor: 'bme280' });
      const births = (): typeof w.received => w.received.filter((r) => r.topic === 'spBv1.0/plant/NBIRTH/edge-3');
      await waitFor(() => births().length === 1, 10000, 'NBIRTH');
      await sleep(1500);
      assert.equal(births().length, 1, 'one birth');
      assert.equal(w.received.filter((r) => r.topic === 'spBv1.0/plant/NDEATH/edge-3').length, 0, 'the swap ended the old connection cleanly');
    } finally {
      await helper.unload();
      await w.close();
      await proxy.close();
    }
  });

  test('a connection config redeployed alone (a new connection, no Will yet): the next data asks for births, and the Will follows', async () => {
    const proxy = await startProxy(rig.mosq.port);
    const w = await watch(rig.mosq.port, 'spBv1.0/#');
    const flow = (keepalive: string): FlowNode[] => edgeFlow(proxy.port, 'edge-4', '5', { keepalive });
    try {
      await helper.load(modules, flow('60'));
      await waitFor(() => brokerUp(), 5000, 'connected');
      const births = (): typeof w.received => w.received.filter((r) => r.topic === 'spBv1.0/plant/NBIRTH/edge-4');
      const deaths = (): typeof w.received => w.received.filter((r) => r.topic === 'spBv1.0/plant/NDEATH/edge-4');
      helper.getNode('f1').receive({ payload: { temperature: 21.5 }, timestamp: Date.now(), sensor: 'bme280' });
      await waitFor(() => births().length === 1, 10000, 'NBIRTH');
      const first = bdSeqOf(births()[0].payload);
      await helper.setFlows(flow('30'), 'nodes'); // the connection and the publish node restart, the format node not
      await waitFor(() => brokerUp(), 5000, 'the new connection is up');
      helper.getNode('f1').receive({ payload: { temperature: 21.6 }, timestamp: Date.now(), sensor: 'bme280' });
      await waitFor(() => births().length === 2, 10000, 'a birth on the new connection');
      assert.equal(bdSeqOf(births()[1].payload), (first + 1) % 256);
      await waitFor(() => brokerUp(), 5000, 'connected again after the Will swap');
      await sleep(300);
      proxy.cutAll();
      await waitFor(() => deaths().length >= 1, 10000, 'NDEATH');
      assert.equal(bdSeqOf(deaths().at(-1)?.payload as Buffer), (first + 1) % 256, 'the new connection carries the NDEATH of the new birth');
    } finally {
      await helper.unload();
      await w.close();
      await proxy.close();
    }
  });
});
