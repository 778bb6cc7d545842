// DS18B20 model behind a simulated w1 sysfs file: the 9-byte scratchpad with its Dallas CRC, formatted the way
// the w1-therm driver prints it, including the power-on and crc=NO failures.
import { HardwareError } from '../hardware/hardware-error';
import type { OneWireDevice } from '../hardware/types';
import { dallasCrc8 } from './crc8';
import type { Environment } from './sim-environment';
import type { SimFaults } from './sim-faults';

const hex2 = (b: number): string => b.toString(16).padStart(2, '0');

export function w1SlaveText(scratchpad: readonly number[], crcOk: boolean, milli: number): string {
  const line = scratchpad.map(hex2).join(' ');
  return `${line} : crc=${hex2(scratchpad[8])} ${crcOk ? 'YES' : 'NO'}\n${line} t=${milli}\n`;
}

export function scratchpadFor(raw: number): number[] {
  const sp = [raw & 0xff, (raw >> 8) & 0xff, 0x4b, 0x46, 0x7f, 0xff, 0x10 - (raw & 0x0f) || 0x10, 0x10];
  return [...sp, dallasCrc8(sp)];
}

export class Ds18b20Sim implements OneWireDevice {
  reads = 0;
  present = true;

  constructor(
    readonly id: string,
    private readonly env: Environment,
    private readonly faults: SimFaults = {},
  ) {}

  async readSlave(): Promise<string> {
    if (!this.present) {
      throw new HardwareError('noOneWire', 'ENOENT', `1-Wire device ${this.id} not found: enable 1-Wire (dtoverlay=w1-gpio) and check the wiring and pull-up`, { device: this.id });
    }
    this.reads++;
    const raw = this.faults.powerOn ? 0x0550 : Math.round(this.env.temperature() * 16) & 0xffff;
    const sp = scratchpadFor(raw);
    const milli = Math.trunc((((raw << 16) >> 16) * 1000) / 16);
    if (this.faults.crcNo) {
      sp[0] ^= 0x04; // a bit flipped on the wire: the CRC no longer matches
      return w1SlaveText(sp, false, milli);
    }
    return w1SlaveText(sp, true, milli);
  }
}
