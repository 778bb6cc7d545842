// BH1750 driver: power on, set MTreg, one-time measurement (the chip powers down after it), read 2 bytes.
import { hex } from '../hardware/describe-fault';
import { HardwareError } from '../hardware/hardware-error';
import type { Sleep } from '../hardware/timers';
import type { I2cBus } from '../hardware/types';
import type { Reading } from './reading';

export const BH1750_ADDRESSES = [0x23, 0x5c] as const;
export type Bh1750Mode = 'high' | 'high2' | 'low';
const ONE_TIME: Record<Bh1750Mode, number> = { high: 0x20, high2: 0x21, low: 0x23 };
// Datasheet maximum at the default MTreg 69; scales with MTreg.
const MAX_MS: Record<Bh1750Mode, number> = { high: 180, high2: 180, low: 24 };
export const MTREG_MIN = 31;
export const MTREG_MAX = 254;
export const MTREG_DEFAULT = 69;

export function bh1750Lux(raw: number, mode: Bh1750Mode, mtreg: number): number {
  const lux = (raw / 1.2) * (MTREG_DEFAULT / mtreg);
  return mode === 'high2' ? lux / 2 : lux;
}

export class Bh1750 {
  constructor(
    private readonly bus: I2cBus,
    private readonly address: number,
    private readonly sleep: Sleep,
    private readonly mode: Bh1750Mode = 'high',
    private readonly mtreg: number = MTREG_DEFAULT,
  ) {
    if (!Number.isInteger(mtreg) || mtreg < MTREG_MIN || mtreg > MTREG_MAX) throw new RangeError(`MTreg must be ${MTREG_MIN}..${MTREG_MAX}`);
  }

  async read(): Promise<Reading> {
    await this.bus.write(this.address, [0x01]);
    await this.bus.write(this.address, [0x40 | (this.mtreg >> 5)]);
    await this.bus.write(this.address, [0x60 | (this.mtreg & 0x1f)]);
    await this.bus.write(this.address, [ONE_TIME[this.mode]]);
    await this.sleep(Math.ceil((MAX_MS[this.mode] * this.mtreg) / MTREG_DEFAULT));
    const [hi, lo] = await this.bus.read(this.address, 2);
    if (((hi << 8) | lo) === 0xffff) {
      // The counter is full: the light is at or beyond the top of this mode and MTreg, its value unknown.
      const what = `BH1750 at ${hex(this.address)} on bus ${this.bus.busNumber}`;
      const top = Math.round(bh1750Lux(0xffff, this.mode, this.mtreg));
      const detail = `over range (${top} lx or more): use a lower MTreg or the "high" or "low" mode`;
      throw new HardwareError('badReading', 'ERANGE', `${what}: ${detail}`, { what, detail });
    }
    return {
      model: 'BH1750',
      values: { illuminance: bh1750Lux((hi << 8) | lo, this.mode, this.mtreg) },
      units: { illuminance: 'lx' },
    };
  }
}
