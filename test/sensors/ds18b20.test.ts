import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ds18b20, parseW1Slave } from '../../src/lib/sensors/ds18b20';
import { Ds18b20Sim } from '../../src/lib/sensors/ds18b20-sim';
import { FixedEnvironment } from '../../src/lib/sensors/sim-environment';
import type { SimFaults } from '../../src/lib/sensors/sim-faults';
import { expectFault } from './expect-fault';

const ID = '28-00000a1b2c3d';
const EXAMPLE = '4b 01 4b 46 7f ff 05 10 e1 : crc=e1 YES\n4b 01 4b 46 7f ff 05 10 e1 t=20687\n';

test('the w1-therm example reads 20.687 degC', () => {
  assert.equal(parseW1Slave(ID, EXAMPLE), 20.687);
});

test('negative temperatures: 0xFF5E is -10.125 degC', async () => {
  const sim = new Ds18b20Sim(ID, new FixedEnvironment({ temperature: -10.125, humidity: 0, pressure: 0, illuminance: 0, voltages: [] }));
  const text = await sim.readSlave();
  assert.match(text, /^5e ff /);
  assert.equal((await new Ds18b20(sim).read()).values.temperature, -10.125);
});

function rig(faults: SimFaults) {
  const sim = new Ds18b20Sim(ID, new FixedEnvironment(), faults);
  return { sim, driver: new Ds18b20(sim) };
}

test('driver against the simulator: temperature in degC with the device id', async () => {
  const r = await rig({}).driver.read();
  assert.deepEqual(r, { model: 'DS18B20', values: { temperature: 21 }, units: { temperature: '°C' }, device: ID });
});

test('crc=NO is a CRC error and no value', async () => {
  const err = await expectFault(rig({ crcNo: true }).driver.read());
  assert.equal(err.key, 'crc');
  assert.match(err.message, /crc=NO/);
});

test('"YES" with a scratchpad whose CRC does not match is still refused', () => {
  const forged = EXAMPLE.replace(/^4b 01/, '4c 01');
  assert.throws(() => parseW1Slave(ID, forged), /CRC error in the scratchpad/);
});

test('the 85 degC power-on value is refused even with a good CRC', async () => {
  const { sim, driver } = rig({ powerOn: true });
  assert.match(await sim.readSlave(), /50 05 .* crc=.. YES\n.* t=85000/);
  const err = await expectFault(driver.read());
  assert.equal(err.key, 'powerOn');
  assert.match(err.message, /85 °C power-on value/);
});

test('an all-zero scratchpad (crc=00 YES, t=0) is refused', () => {
  const zero = '00 00 00 00 00 00 00 00 00 : crc=00 YES\n00 00 00 00 00 00 00 00 00 t=0\n';
  assert.throws(() => parseW1Slave(ID, zero), /all-zero scratchpad/);
});

test('a missing device is a plain "not found" with the 1-Wire hint', async () => {
  const { sim, driver } = rig({});
  sim.present = false;
  const err = await expectFault(driver.read());
  assert.equal(err.key, 'noOneWire');
  assert.match(err.message, /28-00000a1b2c3d not found: enable 1-Wire/);
});
