import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSensorConfig } from '../../src/lib/sensors/sensor-config';
import { createSensorReader } from '../../src/lib/sensors/sensor-reader';
import { createSimulatedBackend } from '../../src/lib/sensors/simulated-backend';
import { ManualClock } from '../helpers/manual-clock';

test('defaults: BME280 at 0x76 on bus 1, no polling, read on input, a topic naming it', () => {
  const { config, problems } = parseSensorConfig({});
  assert.deepEqual(problems, []);
  assert.equal(config?.type, 'bme280');
  assert.equal(config?.address, 0x76);
  assert.equal(config?.bus, 1);
  assert.equal(config?.intervalMs, 0);
  assert.equal(config?.readOnInput, true);
  assert.equal(config?.topic, 'bme280/0x76');
});

test('addresses are checked against the sensor type, in hex or decimal', () => {
  assert.equal(parseSensorConfig({ sensorType: 'sht4x', address: '0x46' }).config?.address, 0x46);
  assert.equal(parseSensorConfig({ sensorType: 'bh1750', address: '92' }).config?.address, 0x5c);
  const { problems } = parseSensorConfig({ sensorType: 'sht3x', address: '0x46' });
  assert.match(problems[0], /address 0x46 is not valid for SHT3x \(valid: 0x44, 0x45\)/);
});

test('ADS1115 gain, rate and channel, BH1750 MTreg and interval are validated', () => {
  const ok = parseSensorConfig({ sensorType: 'ads1115', address: '0x4b', channel: 'a2-a3', gain: '0.256', rate: '860', interval: '2.5' });
  assert.equal(ok.config?.channel, 'a2-a3');
  assert.equal(ok.config?.intervalMs, 2500);
  assert.equal(parseSensorConfig({ sensorType: 'ads1115', gain: '5' }).problems.length, 1);
  assert.equal(parseSensorConfig({ sensorType: 'ads1115', rate: '100' }).problems.length, 1);
  assert.equal(parseSensorConfig({ sensorType: 'bh1750', mtreg: '300' }).problems.length, 1);
  assert.equal(parseSensorConfig({ interval: '-1' }).problems.length, 1);
  assert.equal(parseSensorConfig({ interval: 'soon' }).problems.length, 1);
});

test('DS18B20 ids and GPIO pins; unknown types are refused', () => {
  assert.equal(parseSensorConfig({ sensorType: 'ds18b20', deviceId: '28-00000a1b2c3d' }).config?.topic, 'ds18b20/28-00000a1b2c3d');
  assert.equal(parseSensorConfig({ sensorType: 'ds18b20', deviceId: '10-1234' }).problems.length, 1);
  assert.equal(parseSensorConfig({ sensorType: 'gpio', pin: '17' }).config?.topic, 'gpio/gpio17');
  assert.match(parseSensorConfig({ sensorType: 'dht22' }).problems[0], /unknown sensor type/);
});

test('a DS18B20 id typed in upper case is used in lower case, as the w1 driver names the device', async () => {
  const { config, problems } = parseSensorConfig({ sensorType: 'ds18b20', deviceId: ' 28-00000A1B2C3D ' });
  assert.deepEqual(problems, []);
  assert.equal(config?.deviceId, '28-00000a1b2c3d');
  assert.equal(config?.topic, 'ds18b20/28-00000a1b2c3d');
  assert.ok(config);
  // The simulated 1-Wire bus, like sysfs, knows the device only by its lower-case name.
  const reader = createSensorReader(config, createSimulatedBackend({ timers: new ManualClock(), oneWireIds: ['28-00000a1b2c3d'] }));
  const reading = await reader.read();
  assert.equal(reading.device, '28-00000a1b2c3d');
  assert.equal(typeof reading.values.temperature, 'number');
  await reader.close();
});

test('neither polling nor reading on input is refused: the node would never read', () => {
  assert.deepEqual(parseSensorConfig({ interval: '0', readOnInput: false }).problems, ['the node would never read: give an interval or read on each input message']);
  assert.deepEqual(parseSensorConfig({ interval: '5', readOnInput: false }).problems, []);
  assert.deepEqual(parseSensorConfig({ interval: '0', readOnInput: true }).problems, []);
});
