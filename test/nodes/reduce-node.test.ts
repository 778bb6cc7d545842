import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { helper, nodeModule } from '../helpers/node-red';
import { collect, flowWith, settle } from './telemetry-collect';

const reduceModule = nodeModule('telemetry-reduce');
const T0 = 1700000000000;

function reading(t: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { payload: { t }, units: { t: 'Cel' }, timestamp: T0, sensor: 's', topic: 'sensors/s', ...extra };
}

describe('telemetry-reduce node', () => {
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(() => helper.unload());

  test('deadband: only changes beyond the band pass, in the sensor node shape', async () => {
    await helper.load(reduceModule, flowWith({ type: 'telemetry-reduce', mode: 'deadband', deadbandMode: 'absolute', band: '0.5' }));
    const io = collect();
    for (const t of [20, 20.2, 20.4, 21, 21.1]) helper.getNode('n1').receive(reading(t, { correlation: t }));
    await io.until(2);
    await settle();
    assert.deepEqual(io.out.map((m) => (m.payload as { t: number }).t), [20, 21]);
    assert.deepEqual(io.out[1].units, { t: 'Cel' });
    assert.equal(io.out[1].topic, 'sensors/s');
    assert.equal(io.out[1].correlation, 21, 'the input message’s own fields survive');
    assert.equal(io.bad.length, 0);
  });

  test('count window: aggregates after N readings', async () => {
    await helper.load(reduceModule, flowWith({ type: 'telemetry-reduce', mode: 'window', windowKind: 'count', windowSize: '3', functions: 'min,max' }));
    const io = collect();
    for (const t of [3, 1, 2]) helper.getNode('n1').receive(reading(t));
    await io.until(1);
    assert.deepEqual(io.out[0].payload, { t_min: 1, t_max: 3 });
    assert.deepEqual(io.out[0].window, { start: (io.out[0].window as { start: number }).start, end: (io.out[0].window as { end: number }).end, readings: 3, partial: false });
    assert.equal(io.out[0].topic, 'sensors/s');
  });

  test('batch: gzip-compressed JSON array with the content type marked for MQTT 5', async () => {
    await helper.load(reduceModule, flowWith({ type: 'telemetry-reduce', mode: 'batch', batchCount: '2', batchJoin: 'array', gzip: true, topic: 'batches/x' }));
    const io = collect();
    helper.getNode('n1').receive({ payload: '{"a":1}', topic: 'one' });
    helper.getNode('n1').receive({ payload: { b: 2 }, topic: 'two' });
    await io.until(1);
    const m = io.out[0];
    assert.equal(m.topic, 'batches/x');
    assert.equal(m.contentType, 'application/gzip');
    assert.deepEqual(m.userProperties, { 'content-encoding': 'gzip', 'original-content-type': 'application/json' });
    assert.equal(gunzipSync(m.payload as Buffer).toString(), '[{"a":1},{"b":2}]');
    assert.deepEqual(m.batch, { count: 2, reason: 'count' });
  });

  test('pending batches are sent when the node closes (flush on redeploy)', async () => {
    await helper.load(reduceModule, flowWith({ type: 'telemetry-reduce', mode: 'batch', batchCount: '10', batchJoin: 'lines' }));
    const io = collect();
    helper.getNode('n1').receive({ payload: 'm a=1 1', topic: 'lines' });
    helper.getNode('n1').receive({ payload: 'm a=2 2', topic: 'lines' });
    await settle();
    assert.equal(io.out.length, 0);
    // Node-RED's own close (what a redeploy calls); the wired helper node is still running.
    const n1 = helper.getNode('n1') as unknown as { close(removed: boolean): Promise<void> };
    await n1.close(false);
    await io.until(1);
    assert.equal(io.out[0].payload, 'm a=1 1\nm a=2 2');
    assert.deepEqual(io.out[0].batch, { count: 2, reason: 'flush' });
  });

  test('invalid input goes to output 2 in every mode', async () => {
    await helper.load(reduceModule, flowWith({ type: 'telemetry-reduce', mode: 'window', windowKind: 'count', windowSize: '2' }));
    const io = collect();
    helper.getNode('n1').receive(reading(NaN));
    helper.getNode('n1').receive({ payload: JSON.parse('{"constructor": 1}') as object });
    await io.until(0, 2);
    assert.deepEqual(io.bad.map((m) => (m.error as { code: string }).code), ['BAD_VALUE', 'FORBIDDEN_KEY']);
    await helper.unload();
    await helper.load(reduceModule, flowWith({ type: 'telemetry-reduce', mode: 'batch', batchCount: '2' }));
    const io2 = collect();
    helper.getNode('n1').receive({ payload: { t: Infinity } });
    await io2.until(0, 1);
    assert.equal((io2.bad[0].error as { code: string }).code, 'BAD_VALUE');
  });
});
