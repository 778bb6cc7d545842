import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { helper, logLines, nodeModule } from '../helpers/node-red';
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

  test('deadband written without a band (a hand-written flow) uses the editor default of 0.5, not "every change"', async () => {
    await helper.load(reduceModule, flowWith({ type: 'telemetry-reduce', mode: 'deadband', deadbandMode: 'absolute' }));
    const io = collect();
    for (const t of [20, 20.2, 20.4, 21]) helper.getNode('n1').receive(reading(t));
    await io.until(2);
    await settle();
    assert.deepEqual(io.out.map((m) => (m.payload as { t: number }).t), [20, 21]);
  });

  test('deadband with the band cleared in the editor passes every change; a band written as a number works', async () => {
    await helper.load(reduceModule, flowWith({ type: 'telemetry-reduce', mode: 'deadband', deadbandMode: 'absolute', band: '' }));
    const io = collect();
    for (const t of [20, 20.2, 20.4]) helper.getNode('n1').receive(reading(t));
    await io.until(3);
    await helper.unload();
    await helper.load(reduceModule, flowWith({ type: 'telemetry-reduce', mode: 'deadband', deadbandMode: 'absolute', band: 0.3 }));
    const io2 = collect();
    for (const t of [20, 20.2, 20.4]) helper.getNode('n1').receive(reading(t));
    await io2.until(2);
    await settle();
    assert.deepEqual(io2.out.map((m) => (m.payload as { t: number }).t), [20, 20.4]);
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

  test('window and heartbeat outputs carry msg.metadata as values passed through do (same Influx tags)', async () => {
    await helper.load(reduceModule, flowWith({ type: 'telemetry-reduce', mode: 'window', windowKind: 'count', windowSize: '2', functions: 'mean' }));
    const io = collect();
    for (const t of [20, 22]) helper.getNode('n1').receive(reading(t, { device: 'd1', metadata: { location: 'hall' } }));
    for (const t of [1, 3]) helper.getNode('n1').receive(reading(t, { device: 'd2' }));
    await io.until(2);
    assert.deepEqual(io.out[0].payload, { t: 21 });
    assert.deepEqual(io.out[0].metadata, { location: 'hall' });
    assert.equal('metadata' in io.out[1], false, 'no metadata, no property');
    await helper.unload();

    await helper.load(reduceModule, flowWith({ type: 'telemetry-reduce', mode: 'deadband', band: '1', heartbeat: '0.01' }));
    const io2 = collect();
    helper.getNode('n1').receive(reading(20, { metadata: { location: 'hall', floor: 2 } }));
    await io2.until(2); // the first value, then its heartbeat
    assert.deepEqual(io2.out[0].metadata, { location: 'hall', floor: 2 });
    assert.equal(io2.out[1].heartbeat, true);
    assert.deepEqual(io2.out[1].metadata, { location: 'hall', floor: 2 });
    assert.equal(io2.out[1].topic, 'sensors/s');
  });

  test('batch: an object changed after it was sent (even given a BigInt) does not change the batch, by count or by age', async () => {
    await helper.load(reduceModule, flowWith({ type: 'telemetry-reduce', mode: 'batch', batchCount: '2', batchJoin: 'array' }));
    const io = collect();
    // Node-RED does not copy a message for a single wire: the sender still holds this object.
    const state: Record<string, unknown> = { t: 21.5 };
    helper.getNode('n1').receive({ payload: state, topic: 'x' });
    state.t = 22;
    state.raw = 1n;
    helper.getNode('n1').receive({ payload: { b: 2 }, topic: 'x' });
    await io.until(1);
    assert.equal(io.out[0].payload, '[{"t":21.5},{"b":2}]');
    assert.equal(io.bad.length, 0);
    await helper.unload();

    await helper.load(reduceModule, flowWith({ type: 'telemetry-reduce', mode: 'batch', batchCount: '10', batchAge: '0.001', batchJoin: 'array' }));
    const io2 = collect();
    const later: Record<string, unknown> = { t: 1 };
    helper.getNode('n1').receive({ payload: later, topic: 'x' });
    later.raw = 2n; // serialised in the age timer, this threw there and ended the process
    await io2.until(1);
    assert.equal(io2.out[0].payload, '[{"t":1}]');
    assert.deepEqual(io2.out[0].batch, { count: 1, reason: 'age' });
  });

  test('deadband limit: the least recently seen measurement is forgotten (not the first inserted), with one warning', async () => {
    await helper.load(reduceModule, flowWith({ type: 'telemetry-reduce', mode: 'deadband', band: '1', maxTracked: '2' }));
    const io = collect();
    for (const s of ['a', 'b', 'a', 'c', 'a', 'b', 'd']) helper.getNode('n1').receive(reading(20, { sensor: s }));
    await io.until(5);
    await settle();
    // a and b are first values; a unchanged; c makes room by forgetting b (a was seen since); a unchanged;
    // b passes again as a first value; d.
    assert.deepEqual(
      io.out.map((m) => m.sensor),
      ['a', 'b', 'c', 'b', 'd'],
    );
    assert.equal(logLines('More than 2 measurements').length, 1, 'warned once, not per forgotten measurement');
  });

  test('window limit: the least recently fed window is sent early (partial) with its own topic; one warning', async () => {
    await helper.load(reduceModule, flowWith({ type: 'telemetry-reduce', mode: 'window', windowKind: 'count', windowSize: '10', functions: 'count', maxTracked: '2' }));
    const io = collect();
    const feed = (s: string): void => helper.getNode('n1').receive(reading(1, { sensor: s, topic: `sensors/${s}` }));
    for (const s of ['a', 'b', 'a', 'c']) feed(s);
    await io.until(1);
    assert.equal(io.out[0].sensor, 'b');
    assert.equal(io.out[0].topic, 'sensors/b');
    assert.deepEqual(io.out[0].payload, { t: 1 });
    assert.equal((io.out[0].window as { partial: boolean }).partial, true);
    feed('d');
    await io.until(2);
    assert.equal(io.out[1].sensor, 'a');
    assert.equal(io.out[1].topic, 'sensors/a');
    assert.deepEqual(io.out[1].payload, { t: 2 });
    assert.equal(logLines('More than 2 devices/sensors').length, 1);
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
