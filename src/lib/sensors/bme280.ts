// BME280 / BMP280 driver: chip id detection, calibration read once, one forced-mode measurement per reading.
import { hex } from '../hardware/describe-fault';
import { HardwareError } from '../hardware/hardware-error';
import type { Sleep } from '../hardware/timers';
import type { I2cBus } from '../hardware/types';
import { compensateHumidity, compensatePressure, compensateTemperature, parseCalibration, type Bme280Calibration } from './bme280-compensation';
import type { Reading } from './reading';

export const BME280_ADDRESSES = [0x76, 0x77] as const;
const CHIP_IDS: Record<number, 'BME280' | 'BMP280'> = { 0x60: 'BME280', 0x58: 'BMP280', 0x56: 'BMP280', 0x57: 'BMP280' };
const REG = { id: 0xd0, ctrlHum: 0xf2, status: 0xf3, ctrlMeas: 0xf4, config: 0xf5, data: 0xf7, calib1: 0x88, calib2: 0xe1 } as const;
const OSRS_X1 = 1;
const MEASURING = 0x08;
// Datasheet maximum for x1 oversampling of all three channels is about 9.3 ms.
const FIRST_WAIT_MS = 10;
const POLL_MS = 2;
const POLLS = 25;

export class Bme280 {
  private chip?: { model: 'BME280' | 'BMP280'; calibration: Bme280Calibration };

  constructor(
    private readonly bus: I2cBus,
    private readonly address: number,
    private readonly sleep: Sleep,
  ) {}

  private where(): string {
    return `at ${hex(this.address)} on bus ${this.bus.busNumber}`;
  }

  private async detect(): Promise<{ model: 'BME280' | 'BMP280'; calibration: Bme280Calibration }> {
    const [id] = await this.bus.readRegisters(this.address, REG.id, 1);
    const model = CHIP_IDS[id];
    if (!model) {
      throw new HardwareError('chipId', 'ECHIPID', `wrong chip id ${hex(id)} ${this.where()} (expected 0x60 BME280 or 0x58 BMP280)`, {
        id: hex(id),
        address: hex(this.address),
        bus: this.bus.busNumber,
      });
    }
    // The chip keeps its registers until power is cut: another program (or a board's boot script) may have left it in
    // normal mode with the IIR filter on, which would smooth and delay every reading here. Sleep first: the datasheet
    // says config writes in normal mode may be ignored. Then filter off, as the compensation here assumes.
    await this.bus.writeRegister(this.address, REG.ctrlMeas, 0x00);
    await this.bus.writeRegister(this.address, REG.config, 0x00);
    const tp = await this.bus.readRegisters(this.address, REG.calib1, 26);
    const hum = model === 'BME280' ? await this.bus.readRegisters(this.address, REG.calib2, 7) : undefined;
    return { model, calibration: parseCalibration(tp, hum) };
  }

  async read(): Promise<Reading> {
    try {
      return await this.measure();
    } catch (err) {
      // After any failure detect again: the sensor may have been replaced or reset.
      this.chip = undefined;
      throw err;
    }
  }

  private async measure(): Promise<Reading> {
    this.chip ??= await this.detect();
    const { model, calibration } = this.chip;
    const humid = model === 'BME280';
    // ctrl_hum only takes effect after the following write to ctrl_meas.
    if (humid) await this.bus.writeRegister(this.address, REG.ctrlHum, OSRS_X1);
    await this.bus.writeRegister(this.address, REG.ctrlMeas, (OSRS_X1 << 5) | (OSRS_X1 << 2) | 0b01);
    await this.sleep(FIRST_WAIT_MS);
    let polls = 0;
    while ((await this.bus.readRegisters(this.address, REG.status, 1))[0] & MEASURING) {
      if (++polls >= POLLS) {
        throw new HardwareError('timeout', 'ETIMEDOUT', `${model} ${this.where()}: measurement did not finish (status stays busy)`, {
          what: `${model} ${this.where()}`,
        });
      }
      await this.sleep(POLL_MS);
    }
    const d = await this.bus.readRegisters(this.address, REG.data, humid ? 8 : 6);
    const adcP = (d[0] << 12) | (d[1] << 4) | (d[2] >> 4);
    const adcT = (d[3] << 12) | (d[4] << 4) | (d[5] >> 4);
    // 0x80000 / 0x8000 are what a skipped channel reads, but also genuine codes (adc_T 0x80000 is 26.46 °C with the
    // datasheet calibration), and this driver enables every channel on every measurement: no check for them.
    const adcH = humid ? (d[6] << 8) | d[7] : 0;
    const reading = convert(model, calibration, adcT, adcP, adcH);
    // The datasheet's compensation returns 0 rather than divide by zero (a corrupt calibration, e.g. dig_P1 = 0).
    if (reading.values.pressure === 0) {
      throw new HardwareError('badReading', 'ENODATA', `${model} ${this.where()}: pressure calibration is invalid (the compensation would divide by zero)`, {
        what: `${model} ${this.where()}`,
        detail: 'invalid pressure calibration',
      });
    }
    // Outside the datasheet's operating range the numbers come from a corrupt calibration or a garbled transfer, not
    // from the air, and are a fault (Bosch's reference driver clamps them, which would pass a fault off as a value).
    // Just past a limit is quantisation (1100.0009 hPa, -40.01 °C): clamped to the limit. Humidity needs no check,
    // the compensation already clamps it to 0…100 %RH.
    const { temperature: t, pressure: p } = reading.values;
    const tIn = intoRange(t, RANGE.minC, RANGE.maxC, RANGE_TOLERANCE.celsius);
    const pIn = intoRange(p, RANGE.minHpa, RANGE.maxHpa, RANGE_TOLERANCE.hpa);
    if (tIn === undefined || pIn === undefined) {
      const got = `${t} °C, ${p} hPa`;
      throw new HardwareError('badReading', 'ERANGE', `${model} ${this.where()}: ${got} is outside the sensor's range (corrupt calibration?)`, {
        what: `${model} ${this.where()}`,
        detail: `${got} outside ${RANGE.minC}…${RANGE.maxC} °C / ${RANGE.minHpa}…${RANGE.maxHpa} hPa`,
      });
    }
    reading.values.temperature = tIn;
    reading.values.pressure = pIn;
    return reading;
  }
}

/** The datasheet's operating range. */
export const RANGE = { minC: -40, maxC: 85, minHpa: 300, maxHpa: 1100 } as const;
/** How far past a limit a reading still counts as at the limit: the steps of the compensated values and more. */
export const RANGE_TOLERANCE = { celsius: 0.5, hpa: 1 } as const;

/** `v` clamped to min…max when within `tolerance` of it, otherwise undefined (NaN too). */
function intoRange(v: number, min: number, max: number, tolerance: number): number | undefined {
  if (!(v >= min - tolerance && v <= max + tolerance)) return undefined;
  return Math.min(max, Math.max(min, v));
}

/** Raw ADC values to a reading: temperature degC, pressure hPa, humidity %RH. */
export function convert(model: 'BME280' | 'BMP280', c: Bme280Calibration, adcT: number, adcP: number, adcH: number): Reading {
  const { tFine, centiDeg } = compensateTemperature(adcT, c);
  const values: Record<string, number> = {
    temperature: centiDeg / 100,
    pressure: compensatePressure(adcP, tFine, c) / 256 / 100,
  };
  const units: Record<string, string> = { temperature: '°C', pressure: 'hPa' };
  if (model === 'BME280') {
    values.humidity = compensateHumidity(adcH, tFine, c) / 1024;
    units.humidity = '%RH';
  }
  return { model, values, units };
}
