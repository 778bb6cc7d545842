import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HardwareError } from '../../src/lib/hardware/hardware-error';
import { SimI2cBus } from '../../src/lib/hardware/sim-i2c';
import { Bme280 } from '../../src/lib/sensors/bme280';
import {
  compensateHumidity,
  compensatePressure,
  compensateTemperature,
  encodeCalibration,
  parseCalibration,
  type Bme280Calibration,
} from '../../src/lib/sensors/bme280-compensation';
import { Bme280Sim, EXAMPLE_CALIBRATION } from '../../src/lib/sensors/bme280-sim';
import { FixedEnvironment } from '../../src/lib/sensors/sim-environment';
import type { SimFaults } from '../../src/lib/sensors/sim-faults';
import { noWait } from '../helpers/manual-clock';

// BMP280 datasheet §3.12, "Calculating pressure and temperature".
const DATASHEET: Bme280Calibration = {
  T1: 27504, T2: 26435, T3: -1000,
  P1: 36477, P2: -10685, P3: 3024, P4: 2855, P5: 140, P6: -7, P7: 15500, P8: -14600, P9: 6000,
};

function rig(faults: SimFaults = {}, env = new FixedEnvironment(), opts: ConstructorParameters<typeof Bme280Sim>[2] = {}) {
  const sim = new Bme280Sim(env, faults, opts);
  const bus = new SimI2cBus(1).attach(0x76, sim);
  return { sim, bus, driver: new Bme280(bus, 0x76, noWait) };
}

async function rejects(p: Promise<unknown>): Promise<HardwareError> {
  try {
    const v = await p;
    assert.fail(`expected a failure, got ${JSON.stringify(v)}`);
  } catch (err) {
    assert.ok(err instanceof HardwareError, String(err));
    return err;
  }
}

describe('BME280/BMP280 compensation (datasheet integer formulas)', () => {
  test('the BMP280 datasheet example: t_fine 128422, 25.08 degC, 25767233/256 Pa', () => {
    const { tFine, centiDeg } = compensateTemperature(519888, DATASHEET);
    assert.equal(tFine, 128422);
    assert.equal(centiDeg, 2508);
    assert.equal(compensatePressure(415148, tFine, DATASHEET), 25767233);
  });

  test('calibration registers round-trip, including negative and split H4/H5', () => {
    const c: Bme280Calibration = { ...DATASHEET, H: { H1: 75, H2: 362, H3: 0, H4: -313, H5: -50, H6: -30 } };
    const { tp, hum } = encodeCalibration(c);
    assert.deepEqual(parseCalibration(tp, hum), c);
  });
});

describe('BME280 driver against the register-level simulator', () => {
  test('BMP280 with the datasheet raw values reads 25.08 degC and 100653.25 Pa, no humidity', async () => {
    const { driver } = rig({}, new FixedEnvironment(), { variant: 'BMP280', calibration: DATASHEET, raw: { adcT: 519888, adcP: 415148 } });
    const r = await driver.read();
    assert.equal(r.model, 'BMP280');
    assert.equal(r.values.temperature, 25.08);
    assert.equal(Math.round(r.values.pressure * 100 * 100) / 100, 100653.25);
    assert.equal(r.units.pressure, 'hPa');
    assert.equal('humidity' in r.values, false);
  });

  test('a result outside the datasheet range (-40..85 degC, 300..1100 hPa) is a fault, not a value', async () => {
    // With the datasheet coefficients an adc_T of 0xFFFF0 computes to about 155 degC: only a corrupt calibration or
    // a garbled transfer gives that.
    const { driver } = rig({}, new FixedEnvironment(), { variant: 'BMP280', calibration: DATASHEET, raw: { adcT: 0xffff0, adcP: 415148 } });
    const err = await rejects(driver.read());
    assert.equal(err.code, 'ERANGE');
    assert.match(err.message, /^BMP280 at 0x76 on bus 1: [\d.]+ °C, [\d.]+ hPa is outside the sensor's range \(corrupt calibration\?\)$/);
    // The edges of the range still read.
    const cold = new FixedEnvironment({ temperature: -39.9, humidity: 50, pressure: 30100, illuminance: 0, voltages: [] });
    const r = await rig({}, cold).driver.read();
    assert.ok(r.values.temperature < -39.8 && r.values.pressure < 301.01, JSON.stringify(r.values));
  });

  test('readings at the range limits are not faults: quantisation just past a limit (1100.009 hPa, -40.01 degC) reads as the limit', async () => {
    for (const temperature of [-40, 85]) {
      for (const pressure of [30000, 110000]) {
        const env = new FixedEnvironment({ temperature, humidity: 50, pressure, illuminance: 0, voltages: [] });
        const r = await rig({}, env).driver.read();
        const t = r.values.temperature;
        const p = r.values.pressure;
        assert.ok(t >= -40 && t <= 85 && Math.abs(t - temperature) <= 0.011, `${temperature} degC read as ${t}`);
        assert.ok(p >= 300 && p <= 1100 && Math.abs(p - pressure / 100) <= 0.011, `${pressure} Pa read as ${p} hPa`);
      }
    }
    // Raw codes whose compensated values fall just outside: adc_P 361083 is 1100.00890625 hPa, 829552 is 299.998 hPa,
    // adc_T 313664 is -40.01 degC (datasheet calibration).
    const cases: Array<[{ adcT: number; adcP: number }, 'temperature' | 'pressure', number]> = [
      [{ adcT: 519888, adcP: 361083 }, 'pressure', 1100],
      [{ adcT: 519888, adcP: 829552 }, 'pressure', 300],
      [{ adcT: 313664, adcP: 415148 }, 'temperature', -40],
    ];
    for (const [raw, quantity, limit] of cases) {
      const { driver } = rig({}, new FixedEnvironment(), { variant: 'BMP280', calibration: DATASHEET, raw });
      const r = await driver.read();
      assert.equal(r.values[quantity], limit, `${JSON.stringify(raw)}: clamped to the limit`);
    }
  });

  test('truly outside the range (1101.99875 hPa): a fault whose message has the exact value, not one rounded into the range', async () => {
    const { driver } = rig({}, new FixedEnvironment(), { variant: 'BMP280', calibration: DATASHEET, raw: { adcT: 519888, adcP: 359934 } });
    const err = await rejects(driver.read());
    assert.equal(err.code, 'ERANGE');
    assert.match(err.message, /: 25\.08 °C, 1101\.99875 hPa is outside the sensor's range/);
  });

  test('raw 0x80000 (temperature, pressure) and 0x8000 (humidity) are measurement codes, not skipped channels', async () => {
    // With the datasheet calibration adc_T 0x80000 is 26.46 degC; at 25.08 degC adc_P 0x80000 is 818.75 hPa and
    // adc_H 0x8000 is 70.36 %RH. The driver enables every channel, so these are values like any other.
    const hot = await rig({}, new FixedEnvironment(), { calibration: EXAMPLE_CALIBRATION, raw: { adcT: 0x80000, adcP: 415148, adcH: 30000 } }).driver.read();
    assert.equal(hot.values.temperature, 26.46);
    const r = await rig({}, new FixedEnvironment(), { calibration: EXAMPLE_CALIBRATION, raw: { adcT: 519888, adcP: 0x80000, adcH: 0x8000 } }).driver.read();
    assert.equal(r.values.temperature, 25.08);
    assert.equal(Math.round(r.values.pressure * 100) / 100, 818.75);
    assert.equal(Math.round(r.values.humidity * 100) / 100, 70.36);
  });

  test('BME280 is detected by its chip id and reads temperature, pressure and humidity of the environment', async () => {
    const env = new FixedEnvironment({ temperature: 23.4, humidity: 51.2, pressure: 98765.4, illuminance: 0, voltages: [] });
    const { driver, sim } = rig({}, env);
    const r = await driver.read();
    assert.equal(r.model, 'BME280');
    assert.ok(Math.abs(r.values.temperature - 23.4) <= 0.011, String(r.values.temperature));
    assert.ok(Math.abs(r.values.pressure - 987.654) < 0.01, String(r.values.pressure));
    assert.ok(Math.abs(r.values.humidity - 51.2) < 0.05, String(r.values.humidity));
    assert.deepEqual(r.units, { temperature: '°C', pressure: 'hPa', humidity: '%RH' });
    assert.equal(sim.measurements, 1, 'one forced-mode measurement per reading');
    env.values.temperature = -10.5;
    const r2 = await driver.read();
    assert.ok(Math.abs(r2.values.temperature + 10.5) <= 0.011);
    assert.equal(sim.measurements, 2);
  });

  test('humidity: the integer formula agrees with the datasheet floating-point formula (BME280 §8.1)', () => {
    // A second, independent formula from the datasheet, so a slip in the integer code cannot hide behind the
    // simulator (which inverts the driver's own function).
    const float = (adcH: number, tFine: number, h: NonNullable<Bme280Calibration['H']>): number => {
      let v = tFine - 76800;
      v = (adcH - (h.H4 * 64 + (h.H5 / 16384) * v)) * ((h.H2 / 65536) * (1 + (h.H6 / 67108864) * v * (1 + (h.H3 / 67108864) * v)));
      v = v * (1 - (h.H1 * v) / 524288);
      return Math.min(100, Math.max(0, v));
    };
    let compared = 0;
    for (const h of [EXAMPLE_CALIBRATION.H as NonNullable<Bme280Calibration['H']>, { H1: 75, H2: 370, H3: 12, H4: 300, H5: 40, H6: 30 }]) {
      for (const adcT of [400000, 480000, 519888, 560000]) {
        const { tFine } = compensateTemperature(adcT, DATASHEET);
        for (let adcH = 20000; adcH <= 45000; adcH += 1250) {
          const expected = float(adcH, tFine, h);
          if (expected <= 0.5 || expected >= 99.5) continue; // the two clamp a little differently at the ends
          const got = compensateHumidity(adcH, tFine, { ...DATASHEET, H: h }) / 1024;
          assert.ok(Math.abs(got - expected) < 0.01, `adcH ${adcH} adcT ${adcT}: integer ${got}, float ${expected}`);
          compared++;
        }
      }
    }
    assert.ok(compared > 60, `compared ${compared} points`);
  });

  test('the calibration is read once, not on every reading', async () => {
    const { driver, bus } = rig();
    await driver.read();
    const after1 = bus.transfers;
    await driver.read();
    const after2 = bus.transfers - after1;
    assert.ok(after2 < after1, `second reading used ${after2} transfers, first ${after1}`);
  });

  test('a chip left in normal mode with the IIR filter on (by another program) is put to sleep and its filter turned off', async () => {
    const { sim, driver } = rig({}, new FixedEnvironment(), { variant: 'BMP280', calibration: DATASHEET, raw: { adcT: 519888, adcP: 415148 } });
    sim.regs[0xf4] = 0x27; // normal mode, x1 oversampling
    sim.regs[0xf5] = 0xb0; // 1000 ms standby, filter coefficient 16
    const r = await driver.read();
    assert.equal(sim.regs[0xf5], 0x00, 'filter and standby cleared');
    assert.equal(r.values.temperature, 25.08);
  });

  test('a wrong chip id is an error naming the id, and no value', async () => {
    const { driver } = rig({ chipId: 0x61 });
    const err = await rejects(driver.read());
    assert.equal(err.key, 'chipId');
    assert.match(err.message, /wrong chip id 0x61 at 0x76 on bus 1/);
  });

  test('NACK: "no device at 0x76 on bus 1"; the next reading after the sensor is back succeeds', async () => {
    const faults: SimFaults = { nack: true };
    const { driver } = rig(faults);
    const err = await rejects(driver.read());
    assert.equal(err.key, 'noDevice');
    assert.equal(err.code, 'EREMOTEIO');
    assert.match(err.message, /^no device at 0x76 on bus 1/);
    faults.nack = false;
    const r = await driver.read();
    assert.equal(typeof r.values.temperature, 'number');
  });

  test('a measuring bit that never clears times out with no value', async () => {
    const { driver } = rig({ stuckBusy: true });
    const err = await rejects(driver.read());
    assert.equal(err.key, 'timeout');
    assert.match(err.message, /measurement did not finish/);
  });

  test('a calibration with dig_P1 = 0 gives an error, not 0 hPa (the datasheet code returns 0 there)', async () => {
    const { driver } = rig({}, new FixedEnvironment(), { variant: 'BMP280', calibration: { ...DATASHEET, P1: 0 } });
    const err = await rejects(driver.read());
    assert.equal(err.key, 'badReading');
    assert.match(err.message, /pressure calibration is invalid \(the compensation would divide by zero\)/);
  });

  test('the driver waits for the measuring bit before reading the data', async () => {
    // With many busy status reads the data registers still hold the skipped value until the end.
    const { driver, sim } = rig({}, new FixedEnvironment(), { busyReads: 10 });
    const r = await driver.read();
    assert.equal(sim.measurements, 1);
    assert.ok(Math.abs(r.values.temperature - 21) <= 0.011);
  });
});

test('EXAMPLE_CALIBRATION keeps the datasheet temperature and pressure coefficients', () => {
  const { H, ...tp } = EXAMPLE_CALIBRATION;
  assert.deepEqual(tp, DATASHEET);
  assert.ok(H);
});
