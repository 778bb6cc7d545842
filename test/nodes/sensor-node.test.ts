import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { HardwareError } from '../../src/lib/hardware/hardware-error';
import type { OneWireDevice } from '../../src/lib/hardware/types';
import { registerBackend, unregisterBackend } from '../../src/lib/sensors/backends';
import type { SimFaults } from '../../src/lib/sensors/sim-faults';
import { createSimulatedBackend } from '../../src/lib/sensors/simulated-backend';
import { errorText, gateGpio, logged, record, settle, until } from '../helpers/hardware-nodes';
import { ManualClock } from '../helpers/manual-clock';
import { helper, nodeModule, type FlowNode } from '../helpers/node-red';

const sensorModule = nodeModule('telemetry-sensor');

function flow(fields: Record<string, unknown>): FlowNode[] {
  return [
    { id: 's1', type: 'telemetry-sensor', wires: [['out']], ...fields },
    { id: 'out', type: 'helper' },
  ];
}

async function load(fields: Record<string, unknown>) {
  await helper.load(sensorModule, flow(fields));
  const node = helper.getNode('s1');
  return { node, rec: record(node, helper.getNode('out')) };
}

/** Registers a simulated backend on a manual clock with switchable faults under a fresh name. */
let counter = 0;
function faultyBackend(faults: SimFaults = {}) {
  const clock = new ManualClock();
  const sim = createSimulatedBackend({ timers: clock, faults });
  const name = `test-sensor-${++counter}`;
  registerBackend(name, sim);
  return { name, clock, sim };
}

/** Every done() of `node` (Node-RED's _complete), with the message's id and error; still recorded after close. */
function completions(node: unknown): Array<{ msgid?: string; err?: Error }> {
  const seen: Array<{ msgid?: string; err?: Error }> = [];
  const target = node as { _complete: (msg: { _msgid?: string }, err?: Error) => void };
  const complete = target._complete.bind(node);
  target._complete = (msg, err) => {
    seen.push({ msgid: msg._msgid, err });
    complete(msg, err);
  };
  return seen;
}

describe('telemetry-sensor', () => {
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await helper.unload();
    for (let i = 1; i <= counter; i++) unregisterBackend(`test-sensor-${i}`);
  });

  test('simulated BME280, read on input: one message with values, units, topic and timestamp; input kept', async () => {
    const { node, rec } = await load({ sensorType: 'bme280', backend: 'simulated', address: '0x77', interval: '0' });
    node.receive({ payload: 'go', keep: 'me' });
    await until(() => rec.sent.length === 1, 'a reading');
    const msg = rec.sent[0];
    const payload = msg.payload as Record<string, number>;
    assert.deepEqual(Object.keys(payload).sort(), ['humidity', 'pressure', 'temperature']);
    assert.deepEqual(msg.units, { temperature: '°C', pressure: 'hPa', humidity: '%RH' });
    assert.equal(msg.topic, 'bme280/0x77');
    assert.equal(msg.sensor, 'BME280');
    assert.equal(msg.address, '0x77');
    assert.equal(msg.keep, 'me');
    assert.equal(typeof msg.timestamp, 'number');
    assert.ok(Math.abs((msg.timestamp as number) - Date.now()) < 60_000, `a wall-clock time in ms, not ${String(msg.timestamp)}`);
    await until(() => rec.status.find((s) => s.fill === 'green' && /°C$/.test(s.text ?? '')), 'green status');
  });

  test('polling on the interval: at deploy, then every interval; close leaves no timer and closes the bus', async () => {
    const { name, clock, sim } = faultyBackend();
    const { rec } = await load({ sensorType: 'sht4x', address: '0x44', backend: name, interval: '10', readOnInput: false });
    await clock.advance(99);
    await settle();
    assert.equal(rec.sent.length, 0, 'no message while the flow may still be starting');
    await clock.advance(20); // the poll starts at 100 ms; the SHT4x then needs 10 ms
    await until(() => rec.sent.length === 1, 'first poll');
    await clock.advance(10_000);
    await until(() => rec.sent.length === 2, 'second poll');
    assert.deepEqual(Object.keys(rec.sent[1].payload as object).sort(), ['humidity', 'temperature']);
    assert.equal(rec.sent[1].timestamp, (rec.sent[0].timestamp as number) + 10_000);
    await helper.unload();
    assert.equal(clock.size, 0, 'no timer left');
    assert.ok(sim.buses.length > 0 && sim.buses.every((b) => b.closed), 'bus closed');
  });

  test('NACK on input: catchable error "no device at 0x76 on bus 1" with the message, red status, no value', async () => {
    const { name } = faultyBackend({ nack: true });
    const { node, rec } = await load({ sensorType: 'bme280', address: '0x76', backend: name, interval: '0' });
    // The manual clock never advances here; the failing read does not wait on it.
    node.receive({ payload: 1, _msgid: 'm-1' });
    const e = await until(() => rec.errors[0], 'error');
    assert.match(errorText(e), /^no device at 0x76 on bus 1/);
    assert.equal((e.msg as { _msgid?: string })._msgid, 'm-1', 'reported with the message, so Catch nodes see it');
    await until(() => rec.status.find((s) => s.fill === 'red' && s.text === 'no device 0x76'), 'red status');
    assert.equal(rec.sent.length, 0);
  });

  test('a failing poll: red status, one error (not one per poll), then the next poll recovers', async () => {
    const faults: SimFaults = { nack: true };
    const { name, clock } = faultyBackend(faults);
    const { rec } = await load({ sensorType: 'bh1750', address: '0x23', backend: name, interval: '5' });
    await clock.advance(100); // the first poll waits until the flow has started
    await until(() => rec.errors.length === 1, 'first error');
    await clock.advance(5000);
    await clock.advance(5000);
    await settle();
    assert.equal(rec.errors.length, 1, 'the same fault is reported once');
    assert.equal(rec.status.at(-1)?.fill, 'red');
    assert.equal(rec.sent.length, 0);
    faults.nack = false;
    // Small steps, so that no reading is left half done on the manual clock when the test ends.
    for (let i = 0; i < 200 && rec.sent.length === 0; i++) {
      await clock.advance(100);
      await settle();
    }
    await until(() => rec.sent.length === 1, 'reading after recovery');
    assert.equal(typeof (rec.sent[0].payload as Record<string, number>).illuminance, 'number');
    await until(() => rec.status.at(-1)?.fill === 'green', 'green again');
  });

  const faultCases: Array<[string, Record<string, unknown>, SimFaults, RegExp, string]> = [
    ['corrupted CRC (SHT3x)', { sensorType: 'sht3x', address: '0x45' }, { corruptCrc: true }, /SHT3x at 0x45 on bus 1: CRC error/, 'CRC error'],
    ['wrong chip id (BME280)', { sensorType: 'bme280' }, { chipId: 0x99 }, /wrong chip id 0x99/, 'wrong chip id'],
    ['stuck busy bit (ADS1115)', { sensorType: 'ads1115', address: '0x49' }, { stuckBusy: true }, /conversion did not finish/, 'timeout'],
    ['85 degC power-on value (DS18B20)', { sensorType: 'ds18b20' }, { powerOn: true }, /85 °C power-on value/, '85 °C power-on'],
    ['crc=NO (DS18B20)', { sensorType: 'ds18b20' }, { crcNo: true }, /crc=NO/, 'CRC error'],
  ];
  for (const [what, fields, faults, text, status] of faultCases) {
    test(`${what}: the right error and status, and no value`, async () => {
      const { name, clock } = faultyBackend(faults);
      const { node, rec } = await load({ ...fields, backend: name, interval: '0' });
      node.receive({ payload: 1 });
      // Drivers wait on the manual clock between command and result.
      for (let i = 0; i < 200 && rec.errors.length === 0; i++) await clock.advance(10);
      const e = await until(() => rec.errors[0], 'error');
      assert.match(errorText(e), text);
      assert.ok(e.err instanceof HardwareError);
      await until(() => rec.status.find((s) => s.fill === 'red' && s.text === status), `status "${status}"`);
      assert.equal(rec.sent.length, 0);
    });
  }

  test('a reading slower than the interval never overlaps the next (polls and messages share one queue)', async () => {
    const clock = new ManualClock();
    const sim = createSimulatedBackend({ timers: clock });
    const state = { running: 0, max: 0, started: 0 };
    const gates: Array<() => void> = [];
    const slow: OneWireDevice = {
      id: '28-00000a1b2c3d',
      readSlave: () => {
        state.running++;
        state.started++;
        state.max = Math.max(state.max, state.running);
        return new Promise((resolve) =>
          gates.push(() => {
            state.running--;
            resolve('4b 01 4b 46 7f ff 05 10 e1 : crc=e1 YES\n4b 01 4b 46 7f ff 05 10 e1 t=20687\n');
          }),
        );
      },
    };
    registerBackend(`test-sensor-${++counter}`, { ...sim, openOneWire: () => slow });
    const { node, rec } = await load({ sensorType: 'ds18b20', backend: `test-sensor-${counter}`, interval: '1' });
    await clock.advance(100);
    await until(() => state.started === 1, 'first read');
    await clock.advance(5000);
    node.receive({ payload: 'a' });
    node.receive({ payload: 'b' });
    await settle();
    assert.equal(state.started, 1, 'nothing else starts while a read is in progress');
    while (rec.sent.length < 3) {
      await until(() => gates.length > 0, 'a pending read');
      gates.shift()?.();
      await settle();
      await clock.advance(0);
    }
    assert.equal(state.max, 1);
    assert.deepEqual(rec.sent.slice(0, 3).map((m) => (m.payload as Record<string, number>).temperature), [20.687, 20.687, 20.687]);
    gates.forEach((g) => g());
  });

  test('close with slow readings queued: nothing is opened after close, each message ends with an error, no bus left open', async () => {
    const { name, clock, sim } = faultyBackend();
    const { node, rec } = await load({ sensorType: 'bme280', address: '0x76', backend: name, interval: '0' });
    const ended = completions(node);
    for (const id of ['q-1', 'q-2', 'q-3']) node.receive({ payload: 1, _msgid: id });
    // The first reading opens the bus and then waits on the manual clock for its measurement; the others queue.
    await until(() => sim.buses.length === 1, 'the first reading opened the bus');
    await settle();
    const closing = Date.now();
    await helper.unload(); // close waits 1 s for the reading in progress, then leaves the bus to the reader
    assert.ok(Date.now() - closing < 5000, `the close held the redeploy up ${Date.now() - closing} ms`);
    // The reading in progress resumes on the closed bus; the queued ones start after close began.
    for (let i = 0; i < 100; i++) await clock.advance(10);
    await settle();
    assert.equal(sim.buses.length, 1, 'no bus opened after close');
    assert.equal(sim.openHandles(), 0, 'no bus left open');
    await until(() => ended.length === 3, 'each message ended');
    assert.deepEqual(ended.map((e) => e.msgid), ['q-1', 'q-2', 'q-3']);
    assert.ok(ended.every((e) => e.err instanceof Error), 'each with an error');
    for (const e of ended.slice(1)) assert.match(e.err?.message ?? '', /^closed before the reading could be taken/);
    assert.equal(rec.sent.length, 0);
  });

  test('a GPIO line whose opening finishes after close is released, and the message ends with an error', async () => {
    const sim = createSimulatedBackend();
    const gated = gateGpio(sim);
    const name = `test-sensor-${++counter}`;
    registerBackend(name, gated.backend);
    const { node, rec } = await load({ sensorType: 'gpio', pin: '5', backend: name, interval: '0' });
    const ended = completions(node);
    node.receive({ payload: 1, _msgid: 'g-1' });
    await settle();
    await helper.unload(); // the reading is still opening the line; close gives up waiting after 1 s
    gated.release();
    await settle();
    assert.equal(sim.gpio.openLines(), 0, 'the line opened late was released');
    assert.equal(sim.gpio.isExported(5), false);
    await until(() => ended.length === 1, 'the message ended');
    assert.equal(ended[0].msgid, 'g-1');
    assert.match(ended[0].err?.message ?? '', /^closed before the reading could be taken/);
    assert.equal(rec.sent.length, 0);
  });

  test('a reading that finishes while the node closes sends nothing; the message ends with an error saying so', async () => {
    const { name, clock, sim } = faultyBackend();
    const { node, rec } = await load({ sensorType: 'bme280', address: '0x76', backend: name, interval: '0' });
    const ended = completions(node);
    let sends = 0;
    node.on('call:send', () => sends++);
    node.receive({ payload: 1, _msgid: 'c-1' });
    // The reading opens the bus, starts a measurement and waits for it on the manual clock.
    await until(() => sim.buses.length === 1, 'the reading started');
    await settle();
    const closing = helper.unload(); // close gives a reading in progress up to 1 s to finish
    await settle();
    for (let i = 0; i < 20; i++) await clock.advance(10); // ... and it does, while the node is closing
    await closing;
    await until(() => ended.length === 1, 'the message ended');
    await settle();
    assert.equal(sends, 0, 'nothing sent after close began');
    assert.equal(rec.sent.length, 0);
    assert.equal(ended[0].msgid, 'c-1');
    assert.match(ended[0].err?.message ?? '', /^closed while the reading was under way \(redeploy or shutdown\): the reading was not sent$/);
  });

  test('a GPIO level on a pin a GPIO out node drives: refused in plain words, and the output keeps working', async () => {
    const sim = createSimulatedBackend();
    const name = `test-sensor-${++counter}`;
    registerBackend(name, sim);
    await helper.load(
      [sensorModule, nodeModule('telemetry-gpio-out')],
      [
        { id: 'o1', type: 'telemetry-gpio-out', pin: '6', initial: '1', backend: name },
        ...flow({ sensorType: 'gpio', pin: '6', backend: name, interval: '0' }),
      ],
    );
    const out = helper.getNode('o1');
    const outRec = record(out);
    await until(() => outRec.status.at(-1)?.text === 'on', 'the output is on');
    const node = helper.getNode('s1');
    const rec = record(node, helper.getNode('out'));
    node.receive({ payload: 1 });
    const e = await until(() => rec.errors[0], 'the refusal');
    assert.equal(errorText(e), 'GPIO 6 is in use as an output by another node (a GPIO out node): it cannot be read as an input here');
    await until(() => rec.status.find((s) => s.fill === 'red' && s.text === 'pin in use'), 'red status');
    assert.equal(sim.gpio.direction(6), 'out', 'the pin is still an output');
    assert.equal(sim.gpio.level(6), 1);
    out.receive({ payload: 0 });
    await until(() => outRec.status.at(-1)?.text === 'off', 'the output still switches');
    assert.equal(sim.gpio.level(6), 0);
    assert.equal(outRec.errors.length, 0);
    assert.equal(rec.sent.length, 0);
  });

  test('a message the flow cannot clone for a Complete node: done() runs once and the failure is reported', async () => {
    await helper.load(sensorModule, [
      ...flow({ sensorType: 'bme280', backend: 'simulated', address: '0x77', interval: '0' }),
      { id: 'done1', type: 'complete', scope: ['s1'], uncaught: false, wires: [['completed']] },
      { id: 'completed', type: 'helper' },
    ]);
    const node = helper.getNode('s1');
    const rec = record(node, helper.getNode('out'));
    const calls = completions(node);
    // 400 KB of brackets parse fine, but Node-RED's recursive clone for the Complete node overflows the stack.
    const nested: unknown = JSON.parse(`${'['.repeat(200000)}${']'.repeat(200000)}`);
    node.receive({ payload: 'go', nested });
    await until(() => rec.errors.length === 1, 'the failure is reported');
    await settle();
    assert.equal(calls.length, 1, 'done() called exactly once');
    assert.equal(calls[0].err, undefined, 'the reading succeeded, so done() had no error');
    assert.equal(rec.sent.length, 1, 'the reading itself was sent');
    assert.match(errorText(rec.errors[0]), /^a message could not be passed back to the flow: Maximum call stack size exceeded/);
    assert.ok(errorText(rec.errors[0]).length < 300, 'a short message');
    node.receive({ payload: 'again' });
    await until(() => rec.sent.length === 2, 'the next message is read');
  });

  test('a message the flow cannot clone for a second wire: send throws, the message ends once with that error', async () => {
    await helper.load(sensorModule, [
      { id: 's1', type: 'telemetry-sensor', sensorType: 'bme280', backend: 'simulated', address: '0x77', interval: '0', wires: [['out', 'out2']] },
      { id: 'out', type: 'helper' },
      { id: 'out2', type: 'helper' },
    ]);
    const node = helper.getNode('s1');
    const rec = record(node, helper.getNode('out'));
    const calls = completions(node);
    const nested: unknown = JSON.parse(`${'['.repeat(200000)}${']'.repeat(200000)}`);
    node.receive({ payload: 'go', nested, _msgid: 'deep' });
    await until(() => calls.length === 1, 'the message ended');
    await settle();
    assert.equal(calls.length, 1, 'done() called exactly once');
    assert.match(calls[0].err?.message ?? '', /^a message could not be passed back to the flow: Maximum call stack size exceeded/);
    node.receive({ payload: 'again' });
    await until(() => rec.sent.some((m) => m.nested === undefined), 'the next message is read');
  });

  test('invalid configuration: logged error, and each message fails with done(err)', async () => {
    const { node, rec } = await load({ sensorType: 'sht3x', address: '0x77', backend: 'simulated' });
    assert.ok(logged('address 0x77 is not valid for SHT3x').length >= 1);
    node.receive({ payload: 1 });
    const e = await until(() => rec.errors[0], 'error');
    assert.match(errorText(e), /invalid configuration: address 0x77 is not valid/);
    assert.equal(rec.sent.length, 0);
  });

  test('real hardware on a machine without I2C: a clear error, no crash, no value', async () => {
    const { node, rec } = await load({ sensorType: 'bme280', backend: 'hardware', bus: '7', interval: '0' });
    node.receive({ payload: 1 });
    const e = await until(() => rec.errors[0], 'error');
    // Without a built i2c-bus: "i2c-bus is not installed ..."; with it but no /dev/i2c-7: "I2C bus 7 not found";
    // on a board that has a bus 7: nothing at 0x76, or no permission.
    assert.match(errorText(e), /^(i2c-bus (is not installed|could not be loaded)|I2C bus 7 not found|no device at 0x76 on bus 7|no permission for \/dev\/i2c-7)/);
    assert.equal(rec.sent.length, 0);
  });
});
