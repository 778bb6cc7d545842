// Every example in examples/ loads in a real Node-RED with no missing node type, and runs against a real local
// broker with simulated hardware: each test checks what the example promises on the broker side.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import mqtt from 'mqtt';
import { decodeSparkplug, encodeSparkplug, toNumber } from '../../src/lib/formats/sparkplug-codec';
import { waitFor } from '../helpers/broker';
import { testCerts } from '../helpers/certs';
import { startMosquitto, type MosquittoOptions, type RunningMosquitto } from '../helpers/mosquitto';
import { watch, type Watcher } from '../helpers/mqtt-watch';
import { repoRoot, startNodeRed } from '../helpers/node-red-process';

type FlowNode = { id: string; type: string; name?: string; [k: string]: unknown };

const dir = path.join(repoRoot, 'examples');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

function load(file: string): FlowNode[] {
  return JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as FlowNode[];
}

/** Points every broker config of the example at the test broker. */
function retarget(flows: FlowNode[], port: number): FlowNode[] {
  return flows.map((n) => (n.type === 'secure-mqtt-broker' ? { ...n, host: n.transport === 'mqtts' ? 'localhost' : '127.0.0.1', port: String(port) } : n));
}

function byName(flows: FlowNode[], name: string): FlowNode {
  const n = flows.find((x) => x.name === name);
  assert.ok(n, `example has a node named "${name}"`);
  return n;
}

describe('examples run as shipped, against a local broker, with simulated hardware', () => {
  const stops: Array<() => Promise<void>> = [];
  after(async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  });

  async function run(file: string, brokerOpts: MosquittoOptions, edit: (f: FlowNode[], m: RunningMosquitto) => FlowNode[] = (f) => f) {
    const mosq = await startMosquitto(brokerOpts);
    stops.push(() => mosq.stop());
    const watcher = await watch(mosq.port, ['#', '$SYS/never'], { clientId: `watch-${file}` });
    stops.push(() => watcher.close());
    const flows = edit(retarget(load(file), mosq.tlsPort ?? mosq.port), mosq);
    const red = await startNodeRed({ flows });
    stops.push(() => red.stop());
    assert.doesNotMatch(red.log(), /Waiting for missing types/, 'no missing node types');
    return { mosq, watcher, red, flows };
  }

  test('there are examples, and each is listed in the README', () => {
    assert.ok(files.length >= 6);
    const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    for (const f of files) assert.ok(readme.includes(f.replace(/\.json$/, '')), `README mentions ${f}`);
  });

  test('every non-config node type of the pack is used in some example', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
    const used = new Set(files.flatMap((f) => load(f).map((n) => n.type)));
    for (const type of Object.keys(pkg['node-red'].nodes)) assert.ok(used.has(type), `${type} appears in an example`);
  });

  test('01: simulated BME280 → SenML → validated → published; the denied topic never reaches the broker', async () => {
    const { watcher, red, flows } = await run('01-simulated-bme280-senml-publish.json', {}, (f) => f.map((n) => (n.type === 'debug' ? { ...n, console: true } : n)));
    await waitFor(() => watcher.received.find((r) => r.topic === 'sensors/demo-pi/senml'), 15000, 'SenML on the broker');
    // The example's own subscriber (secure-mqtt-in → debug "received") shows the data coming back from the broker.
    await waitFor(() => /\[debug:received\][\s\S]*bn: 'demo-pi:'/.test(red.log()), 15000, `the subscriber shows the SenML; log:\n${red.log().slice(-1500)}`);
    const pack = JSON.parse(watcher.received.find((r) => r.topic === 'sensors/demo-pi/senml')?.payload.toString() ?? '[]') as Array<Record<string, unknown>>;
    assert.ok(Array.isArray(pack) && pack.length >= 3, 'a SenML pack of several records');
    assert.ok(pack.some((r) => typeof r.v === 'number'));
    const inject = byName(flows, 'try a forbidden topic');
    assert.equal((await red.api('POST', `/inject/${inject.id}`)).status, 200);
    await waitFor(() => /ACL denied|not allowed to publish to "forbidden\/topic"/.test(red.log()), 10000, 'the denial is reported');
    assert.ok(!watcher.received.some((r) => r.topic === 'forbidden/topic'));
  });

  test('02: mutual TLS with the certificate CN as identity and the broker\'s own acl_file', async () => {
    const certs = testCerts();
    // Anonymous lines first (the test's watcher reads everything), then the device's own block.
    const acl = `topic read #\nuser ${certs.clientCN}\ntopic readwrite sensors/#\n`;
    const { watcher } = await run('02-mutual-tls-acl-file.json', { acl, tls: { certs, requireCertificate: true, useIdentityAsUsername: true } }, (flows, m) =>
      flows.map((n) =>
        n.type === 'tls-config'
          ? { ...n, ca: certs.caCert, cert: certs.clientCert, key: certs.clientKey }
          : n.type === 'secure-mqtt-broker'
            ? { ...n, aclPath: path.join(m.dir, 'acl') }
            : n,
      ),
    );
    await waitFor(() => watcher.received.find((r) => r.topic === 'sensors/gw-01/senml'), 20000, 'SenML over mutual TLS');
  });

  test('03: the button state is published and the remote switch is accepted', async () => {
    const { watcher, red, flows } = await run('03-gpio-button-relay.json', {});
    const atDeploy = await waitFor(() => watcher.received.find((r) => r.topic === 'home/button'), 10000, 'button state at deploy');
    assert.equal(atDeploy.payload.toString(), '0', 'the simulated button is not pressed at deploy (pull-up, active low)');
    const on = byName(flows, 'remote: on');
    assert.equal((await red.api('POST', `/inject/${on.id}`)).status, 200);
    await waitFor(() => watcher.received.find((r) => r.topic === 'home/relay/set' && r.payload.toString() === 'on'), 10000, 'remote command');
    assert.doesNotMatch(red.log(), /\[error\]/);
  });

  test('04: allowed, denied and invalid publishes take the paths the example shows', async () => {
    // Debug output goes to the log too, so the test can see what reached each debug node.
    const { watcher, red, flows } = await run('04-denied-publish-handling.json', {}, (f) => f.map((n) => (n.type === 'debug' ? { ...n, console: true } : n)));
    for (const name of ['allowed', 'denied by a deny rule', 'no rule matches', 'invalid topic']) {
      const inj = byName(flows, name);
      assert.equal((await red.api('POST', `/inject/${inj.id}`)).status, 200);
    }
    await waitFor(() => watcher.received.find((r) => r.topic === 'plant/line1/temperature'), 10000, 'allowed message');
    await waitFor(() => red.count(/\[debug:caught\]/) >= 3, 10000, 'three errors for the Catch node');
    await waitFor(() => red.count(/\[debug:msg\.error\]/) >= 3, 10000, 'three messages on the second output');
    const log = red.log();
    assert.match(log, /ACL_DENIED/);
    assert.match(log, /INVALID_TOPIC/);
    assert.deepEqual(watcher.received.filter((r) => r.topic.startsWith('plant/')).map((r) => r.topic), ['plant/line1/temperature']);
  });

  test('05: deadband and batching deliver ThingsBoard telemetry arrays', async () => {
    const { watcher } = await run('05-deadband-batching-thingsboard.json', {});
    const msg = await waitFor(() => watcher.received.find((r) => r.topic === 'v1/devices/me/telemetry'), 25000, 'a batch');
    const batch = JSON.parse(msg.payload.toString()) as Array<{ ts: number; values: Record<string, number> }>;
    assert.ok(Array.isArray(batch) && batch.length >= 1);
    assert.equal(typeof batch[0].ts, 'number');
    assert.equal(typeof batch[0].values, 'object');
  });

  test('06: Home Assistant discovery configs are retained and re-sent when HA announces online', async () => {
    const { watcher, mosq } = await run('06-home-assistant-discovery.json', {});
    const isConfig = (t: string): boolean => t.startsWith('homeassistant/') && t.endsWith('/config');
    await waitFor(() => watcher.received.filter((r) => isConfig(r.topic)).length >= 2, 20000, 'discovery configs');
    // Each appears under its own device: the light sensor under the format node's Device, the thermometer under
    // its 1-Wire id (which the sensor node puts in msg.device).
    const devices = (): string[] =>
      watcher.received.filter((r) => isConfig(r.topic)).map((r) => {
        const config: unknown = JSON.parse(r.payload.toString());
        return String((config as { device?: { identifiers?: string[] } }).device?.identifiers?.[0]);
      });
    await waitFor(() => new Set(devices()).size >= 2, 20000, 'configs for both devices');
    assert.deepEqual([...new Set(devices())].sort(), ['28-00000a1b2c3d', 'greenhouse'].sort());
    const late: Watcher = await watch(mosq.port, 'homeassistant/+/+/+/config', { clientId: 'late-ha' });
    stops.push(() => late.close());
    await waitFor(() => late.received.some((r) => r.packet.retain), 5000, 'configs kept as retained messages');
    const before = watcher.received.filter((r) => isConfig(r.topic)).length;
    const ha = await mqtt.connectAsync({ host: '127.0.0.1', port: mosq.port });
    await ha.publishAsync('homeassistant/status', 'online', { qos: 1 });
    await ha.endAsync();
    await waitFor(() => watcher.received.filter((r) => isConfig(r.topic)).length > before, 10000, 'configs sent again');
  });

  test('07: a Sparkplug B edge node: NBIRTH, DBIRTH, DDATA in sequence, the NDEATH as its Will, births again on a Rebirth command', async () => {
    const { watcher, mosq } = await run('07-sparkplug-edge-node.json', {});
    const ofEdge = (): Array<{ topic: string; seq: number | undefined }> =>
      watcher.received.filter((r) => r.topic.startsWith('spBv1.0/plant1/')).map((r) => ({ topic: r.topic, seq: toNumber(decodeSparkplug(r.payload).seq) }));
    await waitFor(() => ofEdge().some((m) => m.topic === 'spBv1.0/plant1/DDATA/pi-edge/bme280'), 20000, 'DDATA');
    assert.deepEqual(ofEdge().slice(0, 3), [
      { topic: 'spBv1.0/plant1/NBIRTH/pi-edge', seq: 0 },
      { topic: 'spBv1.0/plant1/DBIRTH/pi-edge/bme280', seq: 1 },
      { topic: 'spBv1.0/plant1/DDATA/pi-edge/bme280', seq: 2 },
    ]);
    const births = ofEdge().filter((m) => m.topic.includes('/NBIRTH/')).length;
    const host = await mqtt.connectAsync({ host: '127.0.0.1', port: mosq.port });
    const rebirth = encodeSparkplug({ timestamp: Date.now(), metrics: [{ name: 'Node Control/Rebirth', type: 'Boolean', value: true }] });
    await host.publishAsync('spBv1.0/plant1/NCMD/pi-edge', rebirth, { qos: 0 });
    await waitFor(() => ofEdge().filter((m) => m.topic.includes('/NBIRTH/')).length > births, 10000, 'births again');
    // Taking over the edge node's client id drops its connection without a DISCONNECT: the broker publishes the Will.
    const thief = await mqtt.connectAsync({ host: '127.0.0.1', port: mosq.port, clientId: 'pi-edge' });
    await waitFor(() => watcher.received.find((r) => r.topic === 'spBv1.0/plant1/NDEATH/pi-edge'), 10000, 'the NDEATH Will');
    await thief.endAsync();
    await host.endAsync();
  });
});
