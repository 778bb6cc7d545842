// Scale-out through the broker: a Mosquitto bridge forwards an edge broker to a central one. A real Node-RED runtime
// relays a QoS 1 stream with the pack's nodes into the edge; a subscriber on the central broker receives it all,
// also when the central broker is stopped mid-stream and started again (the bridge queues on the edge).
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import mqtt from 'mqtt';
import { waitFor } from '../helpers/broker';
import { startMosquitto, type RunningMosquitto } from '../helpers/mosquitto';
import { watch } from '../helpers/mqtt-watch';
import { startNodeRed, type NodeRedProcess } from '../helpers/node-red-process';
import { distinctCount, firstSeen, numbersOf } from '../helpers/stream-check';

/** The edge side of a Mosquitto bridge: telemetry/# goes out to the central broker at QoS 1 with a persistent session. */
export function bridgeLines(centralPort: number, name = 'central'): string[] {
  return [
    `connection ${name}`,
    `address 127.0.0.1:${centralPort}`,
    'topic telemetry/# out 1',
    'cleansession false',
    'clientid edge-bridge',
    'bridge_protocol_version mqttv311',
    'try_private false',
    'notifications false',
    'restart_timeout 1',
    'keepalive_interval 5',
    'start_type automatic',
  ];
}

describe('scale-out: a Mosquitto bridge from an edge broker to a central broker', () => {
  const cleanup: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  test('everything published through the edge arrives at the central broker, across a central outage, in order', async () => {
    const central = await startMosquitto({ persistence: true });
    cleanup.push(() => central.stop());
    const edge: RunningMosquitto = await startMosquitto({ extra: bridgeLines(central.port) });
    cleanup.push(() => edge.stop());
    await waitFor(() => central.log().includes('as edge-bridge'), 15000, 'bridge connected to central');
    const sub = await watch(central.port, 'telemetry/#', { clientId: 'central-sub', clean: false });
    cleanup.push(() => sub.close());

    const flows = [
      { id: 'tab', type: 'tab', label: 'edge relay' },
      { id: 'edge', type: 'secure-mqtt-broker', host: '127.0.0.1', port: String(edge.port), clientId: 'edge-relay', reconnectMin: '0.2', reconnectMax: '1' },
      { id: 'in', type: 'secure-mqtt-in', z: 'tab', broker: 'edge', topic: 'source/#', qos: '1', datatype: 'string', wires: [['out']] },
      { id: 'out', type: 'secure-mqtt-out', z: 'tab', broker: 'edge', topic: 'telemetry/site-1/n', qos: '1', wires: [[], []] },
    ];
    const red: NodeRedProcess = await startNodeRed({ flows });
    cleanup.push(() => red.stop());
    await waitFor(() => /Sending SUBACK to edge-relay/.test(edge.log()), 15000, 'relay subscribed on the edge');

    const pub = await mqtt.connectAsync({ host: '127.0.0.1', port: edge.port, clientId: 'sensor-feed' });
    cleanup.push(() => pub.endAsync());
    const total = 3000;
    const third = total / 3;
    const distinct = (): number => distinctCount(sub);
    for (let i = 0; i < third; i++) await pub.publishAsync('source/a', String(i), { qos: 1 });
    await waitFor(() => distinct() >= third, 30000, 'first third at central');

    const mark = edge.log().length;
    await central.stop();
    await waitFor(() => /Client local\.edge-bridge (closed its connection|disconnected)|Socket error on client local\.edge-bridge/.test(edge.log().slice(mark)), 10000, 'edge noticed the bridge is down');
    for (let i = third; i < 2 * third; i++) await pub.publishAsync('source/a', String(i), { qos: 1 });
    // The relay sent all of them into the edge (PUBACKed), while the central broker was down: the bridge holds them.
    await waitFor(() => edge.count(/Received PUBLISH from edge-relay/) >= 2 * third, 30000, 'relay published the middle third to the edge');
    assert.equal(distinct(), third, 'nothing reached central while it was down');
    await central.start();
    for (let i = 2 * third; i < total; i++) await pub.publishAsync('source/a', String(i), { qos: 1 });
    await waitFor(() => distinct() >= total, 60000, `all ${total} at central (have ${distinct()})`);

    for (const r of sub.received) assert.equal(r.topic, 'telemetry/site-1/n');
    const firsts = firstSeen(numbersOf(sub));
    assert.deepEqual(firsts, Array.from({ length: total }, (_, i) => i), 'every message, in order');
    console.log(`[figures] bridge: ${total} published at the edge, ${distinct()} distinct at central, ${sub.received.length - distinct()} duplicates, 1 central outage (${third} messages queued by the bridge)`);
  });
});
