// Register-level BH1750 model: opcodes for power, reset, modes and the two-part MTreg write; the count
// follows lux * 1.2 * MTreg / 69 (doubled in the 0.5 lx mode), saturating at 65535.
import { nack, type I2cDeviceModel } from '../hardware/sim-i2c';
import type { Environment } from './sim-environment';
import type { SimFaults } from './sim-faults';

export class Bh1750Sim implements I2cDeviceModel {
  powered = false;
  mtreg = 69;
  private pendingMt = 69;
  private count = 0;
  /** A fixed count instead of one derived from the environment. */
  raw?: number;
  measurements = 0;

  constructor(
    private readonly env: Environment,
    private readonly faults: SimFaults = {},
  ) {}

  write(bytes: Uint8Array): void {
    if (this.faults.nack || bytes.length !== 1) throw nack();
    const op = bytes[0];
    if (op === 0x00) this.powered = false;
    else if (op === 0x01) this.powered = true;
    else if (op === 0x07) {
      if (this.powered) this.count = 0;
    } else if ((op & 0xf8) === 0x40) this.pendingMt = ((op & 0x07) << 5) | (this.pendingMt & 0x1f);
    else if ((op & 0xe0) === 0x60) {
      this.pendingMt = (this.pendingMt & 0xe0) | (op & 0x1f);
      this.mtreg = this.pendingMt;
    } else if ([0x10, 0x11, 0x13, 0x20, 0x21, 0x23].includes(op)) {
      if (!this.powered) return; // the chip ignores measurement commands while powered down
      const half = (op & 0x0f) === 0x01;
      this.count = this.raw ?? Math.min(65535, Math.round((this.env.illuminance() * 1.2 * this.mtreg * (half ? 2 : 1)) / 69));
      this.measurements++;
      if (op & 0x20) this.powered = false; // one-time modes power down afterwards
    } else {
      throw nack();
    }
  }

  read(length: number): Uint8Array {
    if (this.faults.nack) throw nack();
    return Uint8Array.from([this.count >> 8, this.count & 0xff].slice(0, length));
  }
}
