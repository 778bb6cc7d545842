import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SimI2cBus } from '../../src/lib/hardware/sim-i2c';
import { Sht3xSim, Sht4xSim } from '../../src/lib/sensors/sht-sim';
import { Sht3x } from '../../src/lib/sensors/sht3x';
import { Sht4x } from '../../src/lib/sensors/sht4x';
import { FixedEnvironment } from '../../src/lib/sensors/sim-environment';
import type { SimFaults } from '../../src/lib/sensors/sim-faults';
import { noWait } from '../helpers/manual-clock';
import { expectFault } from './expect-fault';

describe('SHT3x', () => {
  function rig(faults: SimFaults = {}, env = new FixedEnvironment()) {
    const sim = new Sht3xSim(env, faults);
    return { sim, driver: new Sht3x(new SimI2cBus(1).attach(0x44, sim), 0x44, noWait) };
  }

  test('datasheet conversion: raw 0x6666 / 0x8000 → 24.9996 degC / 50.0008 %RH', async () => {
    const { sim, driver } = rig();
    sim.raw = { t: 0x6666, rh: 0x8000 };
    const r = await driver.read();
    assert.equal(r.values.temperature, -45 + (175 * 0x6666) / 65535);
    assert.equal(r.values.humidity, (100 * 0x8000) / 65535);
    assert.ok(Math.abs(r.values.temperature - 25) < 0.001);
  });

  test('limits: raw 0 is -45 degC and 0 %RH, raw 0xFFFF is 130 degC and 100 %RH', async () => {
    const { sim, driver } = rig();
    sim.raw = { t: 0, rh: 0 };
    assert.deepEqual((await driver.read()).values, { temperature: -45, humidity: 0 });
    sim.raw = { t: 0xffff, rh: 0xffff };
    assert.deepEqual((await driver.read()).values, { temperature: 130, humidity: 100 });
  });

  test('reads the environment within the sensor resolution', async () => {
    const { driver } = rig({}, new FixedEnvironment({ temperature: 18.25, humidity: 63.5, pressure: 0, illuminance: 0, voltages: [] }));
    const r = await driver.read();
    assert.ok(Math.abs(r.values.temperature - 18.25) < 0.01);
    assert.ok(Math.abs(r.values.humidity - 63.5) < 0.01);
  });

  test('a corrupted CRC is a CRC error and no value', async () => {
    const err = await expectFault(rig({ corruptCrc: true }).driver.read());
    assert.equal(err.key, 'crc');
    assert.match(err.message, /SHT3x at 0x44 on bus 1: CRC error/);
  });

  test('NACK is "no device at 0x44 on bus 1"', async () => {
    const err = await expectFault(rig({ nack: true }).driver.read());
    assert.match(err.message, /^no device at 0x44 on bus 1/);
  });
});

describe('SHT4x', () => {
  function rig(faults: SimFaults = {}, env = new FixedEnvironment()) {
    const sim = new Sht4xSim(env, faults);
    return { sim, driver: new Sht4x(new SimI2cBus(3).attach(0x46, sim), 0x46, noWait) };
  }

  test('conversion: RH = -6 + 125 S/65535, clamped to 0..100', async () => {
    const { sim, driver } = rig();
    sim.raw = { t: 0x6666, rh: 0x8000 };
    const r = await driver.read();
    assert.equal(r.values.humidity, -6 + (125 * 0x8000) / 65535);
    sim.raw = { t: 0x6666, rh: 0 };
    assert.equal((await driver.read()).values.humidity, 0);
    sim.raw = { t: 0x6666, rh: 0xffff };
    assert.equal((await driver.read()).values.humidity, 100);
  });

  test('reads the environment; a corrupted CRC fails on bus 3 at 0x46', async () => {
    const faults: SimFaults = {};
    const { driver } = rig(faults, new FixedEnvironment({ temperature: 30.5, humidity: 20, pressure: 0, illuminance: 0, voltages: [] }));
    const r = await driver.read();
    assert.ok(Math.abs(r.values.temperature - 30.5) < 0.01);
    assert.ok(Math.abs(r.values.humidity - 20) < 0.01);
    faults.corruptCrc = true;
    const err = await expectFault(driver.read());
    assert.match(err.message, /SHT4x at 0x46 on bus 3: CRC error/);
  });
});
