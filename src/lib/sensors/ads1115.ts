// ADS1115 driver: one single-shot conversion per reading (mux, PGA, data rate), waiting for the OS bit.
// Registers are big-endian, so plain I2C transfers are used rather than SMBus word calls.
import { hex } from '../hardware/describe-fault';
import { HardwareError } from '../hardware/hardware-error';
import type { Sleep } from '../hardware/timers';
import type { I2cBus } from '../hardware/types';
import type { Reading } from './reading';

export const ADS1115_ADDRESSES = [0x48, 0x49, 0x4a, 0x4b] as const;
export const ADS_CHANNELS = ['a0-a1', 'a0-a3', 'a1-a3', 'a2-a3', 'a0', 'a1', 'a2', 'a3'] as const;
export type AdsChannel = (typeof ADS_CHANNELS)[number];
/** Full-scale range in volts, indexed by the PGA field. */
export const ADS_GAINS = [6.144, 4.096, 2.048, 1.024, 0.512, 0.256] as const;
export const ADS_RATES = [8, 16, 32, 64, 128, 250, 475, 860] as const;
const POLL_MS = 1;
const POLLS = 50;

export interface AdsSettings {
  channel: AdsChannel;
  /** Full-scale range in volts, one of ADS_GAINS. */
  gain: number;
  /** Samples per second, one of ADS_RATES. */
  rate: number;
}

export function adsConfig(s: AdsSettings): number {
  const mux = ADS_CHANNELS.indexOf(s.channel);
  const pga = ADS_GAINS.indexOf(s.gain as (typeof ADS_GAINS)[number]);
  const dr = ADS_RATES.indexOf(s.rate as (typeof ADS_RATES)[number]);
  if (mux < 0 || pga < 0 || dr < 0) throw new RangeError(`invalid ADS1115 settings ${JSON.stringify(s)}`);
  // OS=1 start, MODE=1 single shot, COMP_QUE=11 comparator off.
  return (1 << 15) | (mux << 12) | (pga << 9) | (1 << 8) | (dr << 5) | 0b11;
}

export class Ads1115 {
  private readonly config: number;

  constructor(
    private readonly bus: I2cBus,
    private readonly address: number,
    private readonly sleep: Sleep,
    private readonly settings: AdsSettings,
  ) {
    this.config = adsConfig(settings);
  }

  async read(): Promise<Reading> {
    await this.bus.write(this.address, [0x01, this.config >> 8, this.config & 0xff]);
    await this.sleep(Math.ceil(1000 / this.settings.rate) + 1);
    for (let polls = 0; ; polls++) {
      await this.bus.write(this.address, [0x01]);
      const [hi] = await this.bus.read(this.address, 2);
      if (hi & 0x80) break;
      if (polls >= POLLS) {
        throw new HardwareError('timeout', 'ETIMEDOUT', `ADS1115 at ${hex(this.address)} on bus ${this.bus.busNumber}: conversion did not finish (OS bit stays 0)`, {
          what: `ADS1115 at ${hex(this.address)} on bus ${this.bus.busNumber}`,
        });
      }
      await this.sleep(POLL_MS);
    }
    await this.bus.write(this.address, [0x00]);
    const [hi, lo] = await this.bus.read(this.address, 2);
    const raw = (((hi << 8) | lo) << 16) >> 16;
    // The ADC clips at its full-scale codes (datasheet §9.3.3): the input is at or beyond ±FSR, its value unknown.
    if (raw === 0x7fff || raw === -0x8000) {
      const what = `ADS1115 at ${hex(this.address)} on bus ${this.bus.busNumber}`;
      const detail = `${this.settings.channel} at or beyond ${raw > 0 ? '+' : '-'}${this.settings.gain} V, the full scale of this gain: choose a larger one`;
      throw new HardwareError('badReading', 'ERANGE', `${what}: ${detail}`, { what, detail });
    }
    return {
      model: 'ADS1115',
      values: { voltage: (raw * this.settings.gain) / 32768 },
      units: { voltage: 'V' },
    };
  }
}
