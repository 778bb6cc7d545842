import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HardwareBackend } from '../../src/lib/hardware/backend';
import { HardwareError } from '../../src/lib/hardware/hardware-error';
import { openI2cBusDevice } from '../../src/lib/hardware/i2c-bus-device';
import { SimI2cBus } from '../../src/lib/hardware/sim-i2c';
import { readingMessage, readingSummary } from '../../src/lib/sensors/reading-message';
import { parseSensorConfig, type SensorFields } from '../../src/lib/sensors/sensor-config';
import { createSensorReader } from '../../src/lib/sensors/sensor-reader';
import { SENSOR_TYPES, SENSOR_TYPE_NAMES } from '../../src/lib/sensors/sensor-types';
import { Sht3xSim } from '../../src/lib/sensors/sht-sim';
import { createSimulatedBackend } from '../../src/lib/sensors/simulated-backend';
import { flush, ManualClock } from '../helpers/manual-clock';

function config(fields: SensorFields) {
  const { config: c, problems } = parseSensorConfig(fields);
  assert.ok(c, problems.join('; '));
  return c;
}

/** Reads while advancing the manual clock, so the drivers' waits pass without real time. */
async function readWith<T>(clock: ManualClock, p: Promise<T>): Promise<T> {
  let done = false;
  const r = p.finally(() => {
    done = true;
  });
  r.catch(() => undefined); // handled by the caller, after the loop
  for (let i = 0; i < 2000 && !done; i++) await clock.advance(5);
  return r;
}

test('every sensor type gives a reading of the documented quantities and units in simulated mode', async () => {
  const clock = new ManualClock();
  const backend = createSimulatedBackend({ timers: clock });
  for (const type of SENSOR_TYPE_NAMES) {
    const c = config({ sensorType: type });
    const reader = createSensorReader(c, backend);
    const reading = await readWith(clock, reader.read());
    const info = SENSOR_TYPES[type];
    assert.deepEqual(Object.keys(reading.values).sort(), Object.keys(info.quantities).sort(), type);
    for (const [q, { unit }] of Object.entries(info.quantities)) assert.equal(reading.units[q], unit, `${type}.${q}`);
    await reader.close();
  }
  assert.ok(backend.buses.length >= 5 && backend.buses.every((b) => b.closed), 'every bus closed');
});

test('simulated values are realistic and drift slowly', async () => {
  const clock = new ManualClock();
  const backend = createSimulatedBackend({ timers: clock });
  const reader = createSensorReader(config({ sensorType: 'bme280' }), backend);
  const first = await readWith(clock, reader.read());
  await clock.advance(60_000);
  const second = await readWith(clock, reader.read());
  const { temperature, humidity, pressure } = first.values;
  assert.ok(temperature > 15 && temperature < 28, String(temperature));
  assert.ok(humidity > 25 && humidity < 65, String(humidity));
  assert.ok(pressure > 990 && pressure < 1035, String(pressure));
  assert.ok(Math.abs(second.values.temperature - temperature) < 0.5, 'a minute later, within half a degree');
  assert.notEqual(second.values.temperature, temperature, 'but not frozen');
  await reader.close();
});

test('after a failure the next reading opens the bus again and succeeds', async () => {
  const clock = new ManualClock();
  const backend = createSimulatedBackend({ timers: clock, faults: { nack: true } });
  const reader = createSensorReader(config({ sensorType: 'sht3x', address: '0x44' }), backend);
  await assert.rejects(readWith(clock, reader.read()), (e: unknown) => e instanceof HardwareError && /^no device at 0x44 on bus 1/.test(e.message));
  assert.equal(backend.buses[0].closed, true, 'the failed bus is released');
  backend.faults.nack = false;
  const r = await readWith(clock, reader.read());
  assert.equal(typeof r.values.temperature, 'number');
  assert.equal(backend.buses.length, 2);
  await reader.close();
  assert.equal(backend.buses[1].closed, true);
});

test('two readers of one I2C device take turns; a reader of another device does not wait for them', async () => {
  const clock = new ManualClock();
  const sim = createSimulatedBackend({ timers: clock });
  // As on real hardware: the nodes reach the same chips through the same bus.
  const model = new Sht3xSim(sim.env);
  const neighbour = new Sht3xSim(sim.env);
  const backend: HardwareBackend = { ...sim, openI2c: async (busNumber) => new SimI2cBus(busNumber).attach(0x44, model).attach(0x45, neighbour) };
  const a = createSensorReader(config({ sensorType: 'sht3x', address: '0x44' }), backend);
  const b = createSensorReader(config({ sensorType: 'sht3x', address: '0x44' }), backend);
  const other = createSensorReader(config({ sensorType: 'sht3x', address: '0x45' }), backend);
  const order: string[] = [];
  const tagged = (name: string, r: typeof a) => r.read().then((reading) => (order.push(name), reading));
  const [ra, rb, ro] = await readWith(clock, Promise.all([tagged('a', a), tagged('b', b), tagged('other', other)]));
  for (const r of [ra, rb, ro]) assert.equal(typeof r.values.temperature, 'number');
  assert.equal(model.measurements, 2, 'each reader of 0x44 got its own measurement');
  assert.equal(neighbour.measurements, 1);
  // b waits for a (same device); the neighbour ran alongside a, so it is done before b.
  assert.ok(order.indexOf('other') < order.indexOf('b'), order.join(' '));
  assert.ok(order.indexOf('a') < order.indexOf('b'), order.join(' '));
  await Promise.all([a.close(), b.close(), other.close()]);
});

test('DS18B20 without an id uses the first one found; GPIO level reads the pin', async () => {
  const clock = new ManualClock();
  const backend = createSimulatedBackend({ timers: clock, oneWireIds: ['28-0000000000bb', '28-0000000000aa'] });
  const ds = createSensorReader(config({ sensorType: 'ds18b20' }), backend);
  assert.equal((await ds.read()).device, '28-0000000000aa');
  const gpioReader = createSensorReader(config({ sensorType: 'gpio', pin: '22' }), backend);
  backend.gpio.drive(22, 1);
  assert.equal((await gpioReader.read()).values.level, 1);
  await gpioReader.close();
  assert.equal(backend.gpio.isExported(22), false, 'pin unexported on close');
});

test('DS18B20 without an id keeps the probe it found first: unplugged, it fails rather than switch to another probe unseen', async () => {
  const clock = new ManualClock();
  const backend = createSimulatedBackend({ timers: clock, oneWireIds: ['28-0000000000bb', '28-0000000000aa'] });
  const ds = createSensorReader(config({ sensorType: 'ds18b20' }), backend);
  assert.equal((await ds.read()).device, '28-0000000000aa');
  const probe = backend.oneWire.get('28-0000000000aa');
  backend.oneWire.delete('28-0000000000aa'); // unplugged: the kernel drops it from the devices list
  if (probe) probe.present = false;
  await assert.rejects(ds.read(), (e: unknown) => e instanceof HardwareError);
  await assert.rejects(ds.read(), (e: unknown) => e instanceof HardwareError, 'opened again, it does not take 28-0000000000bb');
  assert.ok(probe);
  probe.present = true;
  backend.oneWire.set('28-0000000000aa', probe);
  assert.equal((await ds.read()).device, '28-0000000000aa', 'back, and still the same probe');
});

test('the message: rounded values, units, topic, where it came from, timestamp', () => {
  const c = config({ sensorType: 'bme280', address: '0x77', bus: '3' });
  const msg = readingMessage({ model: 'BME280', values: { temperature: 21.456789, pressure: 1006.5325390625, humidity: 45.0009765625 }, units: { temperature: '°C', pressure: 'hPa', humidity: '%RH' } }, c, 1234);
  assert.deepEqual(msg, {
    payload: { temperature: 21.46, pressure: 1006.53, humidity: 45 },
    units: { temperature: '°C', pressure: 'hPa', humidity: '%RH' },
    topic: 'bme280/0x77',
    sensor: 'BME280',
    timestamp: 1234,
    bus: 3,
    address: '0x77',
  });
  assert.equal(readingSummary({ model: 'x', values: { temperature: 21.456 }, units: { temperature: '°C' } }), '21.5 °C');
});

test('close() while the bus is still opening: the bus is closed when it arrives; a read after close opens nothing', async () => {
  const clock = new ManualClock();
  const sim = createSimulatedBackend({ timers: clock });
  let arrive!: () => void;
  const gate = new Promise<void>((r) => (arrive = r));
  const slowOpen: HardwareBackend = { ...sim, openI2c: async (bus, hint) => gate.then(() => sim.openI2c(bus, hint)) };
  const reader = createSensorReader(config({ sensorType: 'sht4x', address: '0x44' }), slowOpen);
  const reading = reader.read();
  reading.catch(() => undefined);
  await reader.close();
  arrive();
  await flush();
  assert.equal(sim.buses.length, 1);
  assert.equal(sim.openHandles(), 0, 'the bus that arrived after close was closed');
  await assert.rejects(reading, (e: unknown) => e instanceof HardwareError && e.code === 'ECLOSED');
  await assert.rejects(reader.read(), (e: unknown) => e instanceof HardwareError && e.code === 'ECLOSED');
  assert.equal(sim.buses.length, 1, 'nothing opened after close');
});

test('a reader closed while waiting its turn at the device never touches the bus; one closed while measuring closes the bus when the measurement is over', async () => {
  const clock = new ManualClock();
  const backend = createSimulatedBackend({ timers: clock });
  const cfg = config({ sensorType: 'bh1750', address: '0x23', mtreg: '254', interval: '0' });
  const first = createSensorReader(cfg, backend);
  const second = createSensorReader(cfg, backend);
  const a = first.read();
  const b = second.read();
  b.catch(() => undefined);
  await clock.advance(300); // first is measuring (MTreg 254: about 663 ms), second waits its turn
  await second.close();
  let firstClosed = false;
  void first.close().then(() => (firstClosed = true));
  await flush();
  assert.equal(firstClosed, false, 'the close waits for the measurement in progress');
  assert.equal(backend.buses.filter((bus) => !bus.closed).length, 1, "the measuring reader's bus is still open");
  const ra = await readWith(clock, a);
  assert.ok(ra.values.illuminance !== undefined, 'the measurement finished on an open bus');
  await flush();
  assert.equal(firstClosed, true);
  const err = await b.catch((e: unknown) => e);
  assert.ok(err instanceof HardwareError);
  assert.equal(err.code, 'ECLOSED', 'refused before the bus, not EBADF from it');
  assert.equal(backend.openHandles(), 0);
});

test('the i2c-bus device refuses transfers after close(): i2c-bus would send them to a reused descriptor', async () => {
  const calls: string[] = [];
  const fake = {
    openPromisified: async () => ({
      i2cWrite: async (_a: number, length: number, buffer: Buffer) => (calls.push('write'), { bytesWritten: length, buffer }),
      i2cRead: async (_a: number, length: number, buffer: Buffer) => (calls.push('read'), { bytesRead: length, buffer }),
      readI2cBlock: async (_a: number, _c: number, length: number, buffer: Buffer) => (calls.push('block'), { bytesRead: length, buffer }),
      writeByte: async () => void calls.push('byte'),
      close: async () => void calls.push('close'),
    }),
  };
  const bus = await openI2cBusDevice(1, () => fake);
  await bus.write(0x23, [0x10]);
  await bus.close();
  for (const attempt of [() => bus.write(0x23, [1]), () => bus.read(0x23, 2), () => bus.readRegisters(0x23, 0, 2), () => bus.writeRegister(0x23, 0, 1)]) {
    await assert.rejects(attempt(), (e: unknown) => e instanceof HardwareError);
  }
  assert.deepEqual(calls, ['write', 'close']);
});
