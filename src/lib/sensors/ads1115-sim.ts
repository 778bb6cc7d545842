// Register-level ADS1115 model: pointer register, big-endian config and conversion registers, single-shot
// conversions whose OS bit reads 0 until the conversion is done, results clipped to the full-scale range.
import { nack, type I2cDeviceModel } from '../hardware/sim-i2c';
import { ADS_GAINS } from './ads1115';
import type { Environment } from './sim-environment';
import type { SimFaults } from './sim-faults';

export class Ads1115Sim implements I2cDeviceModel {
  readonly regs = [0x0000, 0x8583, 0x8000, 0x7fff];
  private pointer = 0;
  private busyLeft = 0;
  conversions = 0;

  constructor(
    private readonly env: Environment,
    private readonly faults: SimFaults = {},
    /** Config reads that still show "converting" after a start. */
    private readonly busyReads = 1,
  ) {}

  write(bytes: Uint8Array): void {
    if (this.faults.nack || bytes.length === 0) throw nack();
    this.pointer = bytes[0] & 0x03;
    if (bytes.length === 3) this.store(this.pointer, (bytes[1] << 8) | bytes[2]);
    else if (bytes.length !== 1) throw nack();
  }

  read(length: number): Uint8Array {
    if (this.faults.nack) throw nack();
    let value = this.regs[this.pointer];
    if (this.pointer === 1) {
      if (this.faults.stuckBusy) value &= 0x7fff;
      else if (this.busyLeft > 0) {
        this.busyLeft--;
        value &= 0x7fff;
        if (this.busyLeft === 0) this.finish();
      }
    }
    return Uint8Array.from([value >> 8, value & 0xff].slice(0, length));
  }

  private store(reg: number, value: number): void {
    if (reg === 0) return; // the conversion register is read-only
    if (reg !== 1) {
      this.regs[reg] = value;
      return;
    }
    const start = (value & 0x8000) !== 0;
    this.regs[1] = value & 0x7fff;
    if (start && value & 0x0100) this.busyLeft = Math.max(1, this.busyReads);
    else this.regs[1] |= 0x8000;
  }

  private finish(): void {
    const config = this.regs[1];
    const mux = (config >> 12) & 7;
    const fsr = ADS_GAINS[Math.min(5, (config >> 9) & 7)];
    const v = (i: number): number => this.env.voltage(i);
    const pairs: Array<[number, number]> = [[0, 1], [0, 3], [1, 3], [2, 3]];
    const volts = mux >= 4 ? v(mux - 4) : v(pairs[mux][0]) - v(pairs[mux][1]);
    const code = Math.max(-32768, Math.min(32767, Math.round((volts * 32768) / fsr)));
    this.regs[0] = code & 0xffff;
    this.regs[1] |= 0x8000;
    this.conversions++;
  }
}
