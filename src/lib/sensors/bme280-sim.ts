// Register-level BME280/BMP280 model: chip id, calibration, ctrl/status registers, forced mode with a
// "measuring" bit that clears after a few status reads, data registers published when the measurement ends.
import { nack, type I2cDeviceModel } from '../hardware/sim-i2c';
import { compensateHumidity, compensatePressure, compensateTemperature, encodeCalibration, type Bme280Calibration } from './bme280-compensation';
import { invertMonotonic } from './invert';
import type { Environment } from './sim-environment';
import type { SimFaults } from './sim-faults';

/** The BMP280 datasheet's example calibration, with typical BME280 humidity coefficients added. */
export const EXAMPLE_CALIBRATION: Bme280Calibration = {
  T1: 27504, T2: 26435, T3: -1000,
  P1: 36477, P2: -10685, P3: 3024, P4: 2855, P5: 140, P6: -7, P7: 15500, P8: -14600, P9: 6000,
  H: { H1: 75, H2: 362, H3: 0, H4: 313, H5: 50, H6: 30 },
};

export interface Bme280SimOptions {
  variant?: 'BME280' | 'BMP280';
  calibration?: Bme280Calibration;
  /** Fixed raw ADC values instead of values derived from the environment. */
  raw?: { adcT: number; adcP: number; adcH?: number };
  /** Status reads that still show "measuring" after a forced-mode start. */
  busyReads?: number;
}

export class Bme280Sim implements I2cDeviceModel {
  readonly regs = new Uint8Array(256);
  private pointer = 0;
  private busyLeft = 0;
  private pending?: Uint8Array;
  measurements = 0;
  private readonly variant: 'BME280' | 'BMP280';
  private readonly calibration: Bme280Calibration;

  constructor(
    private readonly env: Environment,
    private readonly faults: SimFaults = {},
    private readonly opts: Bme280SimOptions = {},
  ) {
    this.variant = opts.variant ?? 'BME280';
    const c = opts.calibration ?? EXAMPLE_CALIBRATION;
    this.calibration = this.variant === 'BMP280' ? { ...c, H: undefined } : c;
    const { tp, hum } = encodeCalibration(this.calibration);
    this.regs.set(tp, 0x88);
    if (this.variant === 'BME280') this.regs.set(hum, 0xe1);
    this.regs.set([0x80, 0x00, 0x00, 0x80, 0x00, 0x00, 0x80, 0x00], 0xf7); // skipped values until a measurement
  }

  write(bytes: Uint8Array): void {
    if (this.faults.nack) throw nack();
    if (bytes.length === 0) return;
    this.pointer = bytes[0];
    for (let i = 1; i < bytes.length; i++) this.store(this.pointer++ & 0xff, bytes[i]);
  }

  read(length: number): Uint8Array {
    if (this.faults.nack) throw nack();
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.load(this.pointer++ & 0xff);
    return out;
  }

  private load(reg: number): number {
    if (reg === 0xd0) return this.faults.chipId ?? (this.variant === 'BME280' ? 0x60 : 0x58);
    if (reg === 0xf3) {
      if (this.faults.stuckBusy) return 0x08;
      if (this.busyLeft > 0) {
        this.busyLeft--;
        return 0x08;
      }
      if (this.pending) this.finish();
      return 0x00;
    }
    return this.regs[reg];
  }

  private store(reg: number, value: number): void {
    if (reg === 0xe0) {
      if (value === 0xb6) this.regs.fill(0, 0xf2, 0xf6);
      return;
    }
    if (reg === 0xf5) {
      // Datasheet §5.4.6: writes to config in normal mode may be ignored (this model always ignores them).
      if ((this.regs[0xf4] & 0x03) !== 0x03) this.regs[reg] = value;
      return;
    }
    if (reg === 0xf2) {
      this.regs[reg] = value;
      return;
    }
    if (reg === 0xf4) {
      const mode = value & 0x03;
      this.regs[reg] = value;
      if (mode === 0b01 || mode === 0b10) this.start(value);
    }
    // Other registers are read-only.
  }

  private start(ctrlMeas: number): void {
    const osrsT = (ctrlMeas >> 5) & 7;
    const osrsP = (ctrlMeas >> 2) & 7;
    const osrsH = this.regs[0xf2] & 7;
    const { adcT, adcP, adcH } = this.rawValues();
    const d = new Uint8Array(8);
    const tp = (v: number, at: number): void => {
      d[at] = (v >> 12) & 0xff;
      d[at + 1] = (v >> 4) & 0xff;
      d[at + 2] = (v & 0x0f) << 4;
    };
    tp(osrsP ? adcP : 0x80000, 0);
    tp(osrsT ? adcT : 0x80000, 3);
    const h = osrsH && this.variant === 'BME280' ? adcH : 0x8000;
    d[6] = h >> 8;
    d[7] = h & 0xff;
    this.pending = d;
    this.busyLeft = this.opts.busyReads ?? 2;
  }

  private finish(): void {
    if (this.pending) this.regs.set(this.pending, 0xf7);
    this.pending = undefined;
    this.measurements++;
    this.regs[0xf4] &= ~0x03; // forced mode returns to sleep
  }

  private rawValues(): { adcT: number; adcP: number; adcH: number } {
    if (this.opts.raw) return { adcH: 0x8000, ...this.opts.raw };
    const c = this.calibration;
    const adcT = invertMonotonic((r) => compensateTemperature(r, c).centiDeg, 0, 0xfffff, Math.round(this.env.temperature() * 100));
    const { tFine } = compensateTemperature(adcT, c);
    const adcP = invertMonotonic((r) => compensatePressure(r, tFine, c), 1, 0xfffff, this.env.pressure() * 256);
    const adcH = c.H ? invertMonotonic((r) => compensateHumidity(r, tFine, c), 0, 0xffff, this.env.humidity() * 1024) : 0x8000;
    return { adcT, adcP, adcH };
  }
}
