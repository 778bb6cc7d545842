import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { decodeSparkplug, toNumber } from '../../src/lib/formats/sparkplug-codec';
import { helper, nodeModule } from '../helpers/node-red';
import { collect, flowWith, settle } from './telemetry-collect';

const formatModule = nodeModule('telemetry-format');
const T0 = 1700000000000;
const BME280 = {
  payload: { temperature: 25.08, pressure: 100653.25, humidity: 41.2 },
  units: { temperature: 'Cel', pressure: 'Pa', humidity: '%RH' },
  timestamp: T0,
  sensor: 'bme280',
  device: 'greenhouse-1',
  topic: 'sensor/raw',
};

interface SetFlows {
  setFlows(flow: object[], type: 'full'): Promise<void>;
}

describe('telemetry-format node', () => {
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(() => helper.unload());

  test('a sensor reading becomes SenML with topic and content type; the input message’s own fields survive', async () => {
    await helper.load(formatModule, flowWith({ type: 'telemetry-format', format: 'senml' }));
    const io = collect();
    helper.getNode('n1').receive({ ...BME280, correlation: 'abc', retain: true, qos: 2 });
    await io.until(1);
    const m = io.out[0];
    assert.equal(m.topic, 'senml/greenhouse-1');
    assert.equal(m.contentType, 'application/senml+json');
    assert.equal(m.correlation, 'abc');
    assert.equal(m.retain, undefined, 'a retained input does not make the output retained');
    assert.equal(m.qos, undefined);
    assert.deepEqual((JSON.parse(m.payload as string) as unknown[])[0], { bn: 'greenhouse-1:', bt: T0 / 1000, n: 'temperature', u: 'Cel', v: 25.08 });
    await settle();
    assert.equal(io.bad.length, 0);
  });

  test('invalid input leaves on output 2 with a code, never as a payload', async () => {
    await helper.load(formatModule, flowWith({ type: 'telemetry-format', format: 'json' }));
    const io = collect();
    const n1 = helper.getNode('n1');
    n1.receive({ ...BME280, payload: { temperature: NaN } });
    n1.receive({ ...BME280, payload: JSON.parse('{"__proto__": {"x": 1}, "t": 1}') as object });
    n1.receive({ ...BME280, payload: { t: '25' } });
    n1.receive({ ...BME280, payload: 'hello' });
    n1.receive({ ...BME280, device: 'a/b' });
    await io.until(0, 5);
    assert.deepEqual(io.bad.map((m) => (m.error as { code: string }).code), ['BAD_VALUE', 'FORBIDDEN_KEY', 'BAD_VALUE', 'NOT_A_READING', 'INVALID_TOPIC']);
    assert.equal((io.bad[0].error as { path: string }).path, 'payload.temperature');
    await settle();
    assert.equal(io.out.length, 0);
    assert.equal(({} as Record<string, unknown>).x, undefined);
  });

  test('Home Assistant: configs then state in order, and all configs again on "online"', async () => {
    await helper.load(formatModule, flowWith({ type: 'telemetry-format', format: 'homeassistant' }));
    const io = collect();
    const n1 = helper.getNode('n1');
    n1.receive(BME280);
    await io.until(4);
    assert.deepEqual(io.out.map((m) => [m.topic, m.retain]), [
      ['homeassistant/sensor/greenhouse-1/bme280_temperature/config', true],
      ['homeassistant/sensor/greenhouse-1/bme280_pressure/config', true],
      ['homeassistant/sensor/greenhouse-1/bme280_humidity/config', true],
      ['telemetry/greenhouse-1/bme280/state', false],
    ]);
    n1.receive({ topic: 'homeassistant/status', payload: 'offline', retain: true });
    n1.receive({ topic: 'homeassistant/status', payload: Buffer.from('online'), retain: true });
    await io.until(7);
    assert.ok(io.out.slice(4).every((m) => typeof m.topic === 'string' && m.topic.endsWith('/config') && m.retain === true));
    await settle();
    assert.equal(io.out.length, 7);
    assert.equal(io.bad.length, 0);
  });

  test('Sparkplug: NBIRTH carries the NDEATH for the Will; a redeploy increments bdSeq', async () => {
    const flow = flowWith({ type: 'telemetry-format', format: 'sparkplug', spGroup: 'plant', spEdgeNode: 'edge-1' });
    await helper.load(formatModule, flow);
    let io = collect();
    helper.getNode('n1').receive(BME280);
    helper.getNode('n1').receive(BME280);
    await io.until(2);
    assert.equal(io.out[0].topic, 'spBv1.0/plant/NBIRTH/edge-1');
    assert.equal(io.out[1].topic, 'spBv1.0/plant/NDATA/edge-1');
    const info = io.out[0].sparkplug as { bdSeq: number; death: { topic: string; payload: Buffer; qos: number } };
    assert.equal(info.death.topic, 'spBv1.0/plant/NDEATH/edge-1');
    assert.equal(info.death.qos, 1);
    const deathSeq = toNumber(decodeSparkplug(info.death.payload).metrics?.[0].value);
    const birthSeq = toNumber(decodeSparkplug(io.out[0].payload as Buffer).metrics?.[0].value);
    assert.equal(deathSeq, birthSeq);
    assert.equal(io.out[1].sparkplug, undefined);

    await (helper as unknown as SetFlows).setFlows(flow, 'full');
    io = collect();
    helper.getNode('n1').receive(BME280);
    await io.until(1);
    assert.equal(io.out[0].topic, 'spBv1.0/plant/NBIRTH/edge-1', 'a new session starts with a birth');
    assert.equal((io.out[0].sparkplug as { bdSeq: number }).bdSeq, (info.bdSeq + 1) % 256);
  });

  test('the device name can come from an environment variable (typed input "env")', async () => {
    process.env.NRST_TEST_DEVICE = 'pi-42';
    try {
      await helper.load(formatModule, flowWith({ type: 'telemetry-format', format: 'json', device: 'NRST_TEST_DEVICE', deviceType: 'env' }));
      const io = collect();
      const { device: _ignored, ...withoutDevice } = BME280;
      helper.getNode('n1').receive(withoutDevice);
      await io.until(1, 0);
      assert.equal(io.out[0].topic, 'telemetry/pi-42/bme280');
      assert.equal((JSON.parse(io.out[0].payload as string) as { device: string }).device, 'pi-42');
    } finally {
      delete process.env.NRST_TEST_DEVICE;
    }
  });

  test('a configuration error sends every message to output 2 with BAD_OPTION', async () => {
    await helper.load(formatModule, flowWith({ type: 'telemetry-format', format: 'sparkplug' }));
    const io = collect();
    helper.getNode('n1').receive(BME280);
    await io.until(0, 1);
    assert.equal((io.bad[0].error as { code: string }).code, 'BAD_OPTION');
  });
});
