// Several real Node-RED runtimes against real brokers: shared subscriptions, and the disk spool across a restart.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import mqtt from 'mqtt';
import { waitFor } from '../helpers/broker';
import { startMosquitto, type RunningMosquitto } from '../helpers/mosquitto';
import { watch } from '../helpers/mqtt-watch';
import { makeUserDir, startNodeRed, type NodeRedProcess } from '../helpers/node-red-process';
import { checkStream, distinctCount, numbersOf } from '../helpers/stream-check';
import { sleep } from '../helpers/node-red';

function relayFlow(name: string, inPort: number, outPort: number, inTopic: string, outTopic: string, spool = false): object[] {
  return [
    { id: 'tab', type: 'tab', label: name },
    { id: 'src', type: 'secure-mqtt-broker', host: '127.0.0.1', port: String(inPort), clientId: `${name}-in`, reconnectMin: '0.2', reconnectMax: '1' },
    { id: 'dst', type: 'secure-mqtt-broker', host: '127.0.0.1', port: String(outPort), clientId: `${name}-out`, reconnectMin: '0.2', reconnectMax: '1' },
    { id: 'in', type: 'secure-mqtt-in', z: 'tab', broker: 'src', topic: inTopic, qos: '1', datatype: 'string', wires: [['out']] },
    { id: 'out', type: 'secure-mqtt-out', z: 'tab', broker: 'dst', topic: outTopic, qos: '1', spool, wires: [[], []] },
  ];
}

describe('scale-out and restarts with real runtimes', () => {
  const cleanup: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  test('two runtimes on one $share group together receive every message once', async () => {
    const mosq = await startMosquitto();
    cleanup.push(() => mosq.stop());
    const runtimes: NodeRedProcess[] = [];
    for (const name of ['alpha', 'beta']) {
      const r = await startNodeRed({ flows: relayFlow(name, mosq.port, mosq.port, '$share/workers/jobs/#', `seen/${name}`) });
      cleanup.push(() => r.stop());
      runtimes.push(r);
    }
    const w = await watch(mosq.port, 'seen/#');
    cleanup.push(() => w.close());
    await waitFor(() => mosq.count(/\$share\/workers\/jobs\/#/) >= 2, 15000, 'both subscribed');
    const pub = await mqtt.connectAsync({ host: '127.0.0.1', port: mosq.port });
    const total = 1000;
    for (let i = 0; i < total; i++) pub.publish(`jobs/${i % 7}`, String(i), { qos: 1 });
    await waitFor(() => w.received.length >= total, 30000, 'all relayed');
    await new Promise((r) => setTimeout(r, 300)); // a late duplicate would show up here
    await pub.endAsync();
    const values = numbersOf(w);
    assert.equal(values.length, total, 'no message twice');
    assert.deepEqual([...new Set(values)].sort((a, b) => a - b), Array.from({ length: total }, (_, i) => i));
    const perRuntime = ['alpha', 'beta'].map((n) => w.received.filter((r) => r.topic === `seen/${n}`).length);
    assert.ok(perRuntime.every((n) => n > 0), `the stream was split: ${perRuntime.join(' + ')}`);
  });

  test('disk spool: 10,000 QoS 1 messages, the target broker stopped mid-stream, Node-RED killed and restarted during the outage: all arrive, in order', async () => {
    const TOTAL = 10_000;
    const BEFORE = 3_000;
    let source: RunningMosquitto | undefined;
    let target: RunningMosquitto | undefined;
    source = await startMosquitto();
    target = await startMosquitto({ persistence: true });
    cleanup.push(async () => {
      await source?.stop();
      await target?.stop();
    });
    const userDir = makeUserDir();
    const flows = relayFlow('spooler', source.port, target.port, 'in/#', 'out/n', true);
    let red = await startNodeRed({ userDir, flows });
    const w = await watch(target.port, 'out/#', { clientId: 'spool-watch', clean: false });
    await waitFor(() => /in\/#/.test(source?.log() ?? ''), 10000, 'relay subscribed');
    const pub = await mqtt.connectAsync({ host: '127.0.0.1', port: source.port });
    const relayed = (): number => source?.count(/Received PUBACK from spooler-in/) ?? 0;
    for (let i = 0; i < BEFORE; i++) await pub.publishAsync('in/a', String(i), { qos: 1 });
    await waitFor(() => w.received.length >= BEFORE, 30000, 'first part delivered');

    await target.stop();
    for (let i = BEFORE; i < TOTAL; i++) await pub.publishAsync('in/a', String(i), { qos: 1 });
    // The relay has every message once its client acknowledged them; the flow hands each to the spool at once.
    await waitFor(() => relayed() >= TOTAL, 60000, 'relay received all');
    await sleep(1000);
    await red.stop('SIGKILL'); // a crash: no close handler runs, the spool file is all there is
    red = await startNodeRed({ userDir, flows });
    cleanup.push(() => red.stop());
    await waitFor(() => /spooled message\(s\) restored/.test(red.log()), 10000, 'spool restored');
    await target.start();
    await waitFor(() => distinctCount(w) >= TOTAL, 60000, 'all delivered');
    const { duplicates } = checkStream(numbersOf(w), TOTAL, { ordered: true });
    console.log(`[figures] spool across a runtime crash: ${TOTAL} sent (${TOTAL - BEFORE} during the outage), ${TOTAL} distinct delivered in order, ${duplicates} duplicates`);
    await pub.endAsync();
    await w.close();
  });

  test('a kept session across a restart: a filter no node wants any more is unsubscribed, one still wanted keeps its queued messages', async () => {
    const mosq = await startMosquitto();
    cleanup.push(() => mosq.stop());
    const flow = (filters: string[]): object[] => [
      { id: 'tab', type: 'tab', label: 'kept' },
      { id: 'b', type: 'secure-mqtt-broker', host: '127.0.0.1', port: String(mosq.port), clientId: 'kept-restart', protocolVersion: '5', cleanSession: false, sessionExpiry: '600', reconnectMin: '0.2', reconnectMax: '1' },
      ...filters.map((topic, i) => ({ id: `in${i}`, type: 'secure-mqtt-in', z: 'tab', broker: 'b', topic, qos: '1', datatype: 'string', wires: [[`dbg${i}`]] })),
      ...filters.map((_topic, i) => ({ id: `dbg${i}`, type: 'debug', z: 'tab', active: true, tosidebar: false, console: true, complete: 'payload' })),
    ];
    const first = await startNodeRed({ flows: flow(['kept/stays/#', 'kept/goes/#']) });
    await waitFor(() => mosq.count(/Received SUBSCRIBE from kept-restart/) >= 1 && /kept\/goes\/#/.test(mosq.log()), 15000, 'subscribed');
    await sleep(300);
    await first.stop();
    const pub = await mqtt.connectAsync({ host: '127.0.0.1', port: mosq.port });
    cleanup.push(() => pub.endAsync());
    await pub.publishAsync('kept/stays/a', 'queued while stopped', { qos: 1 });
    const second = await startNodeRed({ userDir: first.userDir, flows: flow(['kept/stays/#']) });
    cleanup.push(() => second.stop());
    await waitFor(() => /Received UNSUBSCRIBE from kept-restart/.test(mosq.log()), 15000, 'the filter the old process had, unsubscribed after the restart');
    await waitFor(() => /queued while stopped/.test(second.log()), 10000, 'the message the session kept for the filter still wanted');
  });
});
