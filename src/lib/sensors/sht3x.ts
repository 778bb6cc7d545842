// SHT3x driver: single-shot measurement without clock stretching, both words CRC-8 checked.
import { hex } from '../hardware/describe-fault';
import type { Sleep } from '../hardware/timers';
import type { I2cBus } from '../hardware/types';
import type { Reading } from './reading';
import { checkedWords } from './sensirion-words';

export const SHT3X_ADDRESSES = [0x44, 0x45] as const;
export type Repeatability = 'high' | 'medium' | 'low';
const COMMAND: Record<Repeatability, [number, number]> = { high: [0x24, 0x00], medium: [0x24, 0x0b], low: [0x24, 0x16] };
// Datasheet maximum measurement durations.
const WAIT_MS: Record<Repeatability, number> = { high: 16, medium: 7, low: 5 };

export class Sht3x {
  constructor(
    private readonly bus: I2cBus,
    private readonly address: number,
    private readonly sleep: Sleep,
    private readonly repeatability: Repeatability = 'high',
  ) {}

  async read(): Promise<Reading> {
    await this.bus.write(this.address, COMMAND[this.repeatability]);
    await this.sleep(WAIT_MS[this.repeatability]);
    const bytes = await this.bus.read(this.address, 6);
    const [t, rh] = checkedWords(bytes, `SHT3x at ${hex(this.address)} on bus ${this.bus.busNumber}`);
    return {
      model: 'SHT3x',
      values: { temperature: -45 + (175 * t) / 65535, humidity: (100 * rh) / 65535 },
      units: { temperature: '°C', humidity: '%RH' },
    };
  }
}
