// SHT4x driver: one-byte measure command, wait, 6-byte reply with both words CRC-8 checked.
import { hex } from '../hardware/describe-fault';
import type { Sleep } from '../hardware/timers';
import type { I2cBus } from '../hardware/types';
import type { Reading } from './reading';
import { checkedWords } from './sensirion-words';
import type { Repeatability } from './sht3x';

export const SHT4X_ADDRESSES = [0x44, 0x45, 0x46] as const;
const COMMAND: Record<Repeatability, number> = { high: 0xfd, medium: 0xf6, low: 0xe0 };
const WAIT_MS: Record<Repeatability, number> = { high: 10, medium: 5, low: 2 };

export class Sht4x {
  constructor(
    private readonly bus: I2cBus,
    private readonly address: number,
    private readonly sleep: Sleep,
    private readonly precision: Repeatability = 'high',
  ) {}

  async read(): Promise<Reading> {
    await this.bus.write(this.address, [COMMAND[this.precision]]);
    await this.sleep(WAIT_MS[this.precision]);
    const bytes = await this.bus.read(this.address, 6);
    const [t, rh] = checkedWords(bytes, `SHT4x at ${hex(this.address)} on bus ${this.bus.busNumber}`);
    return {
      model: 'SHT4x',
      values: { temperature: -45 + (175 * t) / 65535, humidity: Math.min(100, Math.max(0, -6 + (125 * rh) / 65535)) },
      units: { temperature: '°C', humidity: '%RH' },
    };
  }
}
